"""Drive one fuzz case through one client path against the in-process Z.AI double.

The path is built as the runner builds it (its catalogue entry, its adapter's options) and served by
the same double the runner serves cells without evidence with (conformance/recording/served.py): the
client's bytes reach the double as they would a socket, and the tap keeps every exchange. Nothing
opens a connection and nothing is written to disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from conformance.catalogue import Catalogue, ClientPathSpec, load_catalogue
from conformance.fuzz.case import MODEL, FuzzCase, anthropic_body, openai_body
from conformance.observation import Exchange, Turn
from conformance.paths.base import Target, build_path
from conformance.recording.recorder import Recorder
from conformance.recording.served import ServedDouble

KEY = "zai-conformance-fuzz-key"  # the double takes any key not shaped to provoke an error
IDLE_S = 30.0  # nothing here waits on a clock: the served double answers at once or plays a fault
# The endpoint each protocol's paths call (any of the protocol's endpoints would do: the general one
# answers as the coding one does to every generated case).
ENDPOINT = {"openai": "general", "anthropic": "anthropic"}


@dataclass
class FuzzRun:
    """What one path did with one case: the request it was meant to send first, the exchanges it had
    with the double, and the turns it exposed."""

    path: str
    protocol: str  # the endpoint's: what the wire speaks
    intended: dict[str, Any]  # the case in the endpoint's protocol, with the path's configured settings
    exchanges: list[Exchange]
    turns: list[Turn]


@dataclass
class _Served:
    catalogue: Catalogue
    double: ServedDouble
    recorder: Recorder


@cache
def _served() -> _Served:
    """One catalogue, double and recorder per process: building them costs more than a case."""
    catalogue = load_catalogue()
    return _Served(catalogue, ServedDouble(catalogue), Recorder())


def path_spec(path_id: str) -> ClientPathSpec:
    return _served().catalogue.path(path_id)


def run_case(path_id: str, case: FuzzCase) -> FuzzRun:
    """Run `case` through the path `path_id`; the client's own exceptions become the turn's error."""
    served = _served()
    spec = served.catalogue.path(path_id)
    protocol = spec.protocols[0]
    endpoint = served.catalogue.endpoint(ENDPOINT[protocol])
    target = Target(base_url=endpoint.base_url, api_key=KEY, idle_timeout=IDLE_S, connect_timeout=IDLE_S)
    provenance = {"kind": "double", "served": "translation fuzzing", "path": path_id, "scenario": "fuzz"}
    with served.recorder.serve(served.double.answerer(IDLE_S), provenance) as tap:
        path = build_path(spec, target, catalogue=served.catalogue)
        try:
            intended = path.intended(_render(case, protocol))
            turns = path.run(case.scenario(), _render(case, spec.api))
        finally:
            path.close()
    return FuzzRun(path_id, protocol, intended, list(tap.exchanges), turns)


def _render(case: FuzzCase, protocol: str) -> dict[str, Any]:
    return anthropic_body(case, MODEL) if protocol == "anthropic" else openai_body(case, MODEL)
