"""vcrpy wiring: replay a cell's cassette or record it live, and tap every request the path sends.

The tap sits on the cassette (not on a client), so it sees the exact request each client library
put on the wire — whatever its transport (httpx, LiteLLM's aiohttp) — and what answered it: a
replayed recording, a live response being recorded, or nothing (a replay miss, with the reason).
vcrpy saves only scrubbed interactions (the record hooks below). The tap keeps the exchanges as
they were, in memory, so checks compare like with like; results are scrubbed when written.

A server that times out leaves vcrpy nothing to record; `transport` wraps vcrpy's stubs so the tap
records the timeout as a transport fault and replay raises it again (see that module).
"""

from __future__ import annotations

import contextvars
import copy
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import vcr
from vcr.request import Request

from conformance.observation import Exchange
from conformance.recording import transport
from conformance.recording.backoff import without_backoff
from conformance.recording.cassette import Persister
from conformance.recording.matching import question_of
from conformance.secrets import SCRUBBER, Scrubber

MATCHER = "zai_question"
# The cassette vcrpy is given for a served cell: never a file (the persister finds none, and a cassette
# nothing was appended to is never saved).
SERVED_CASSETTE = "<served by the double: no file>"

# host:port of local services a path talks *through* (the LiteLLM proxy): their requests are neither
# recorded nor replayed — what they send upstream is. Changed only through the two functions below.
_PASSTHROUGH: set[str] = set()


def register_passthrough(host: str) -> None:
    """From now on, requests to `host` (host:port, as in a URL) go to that local service itself."""
    _PASSTHROUGH.add(host)


def unregister_passthrough(host: str) -> None:
    """`host` is no longer a local service (it stopped): its requests are recorded and replayed again."""
    _PASSTHROUGH.discard(host)


# Set while the harness itself talks to a local service (the proxy's start-up probe): such a request is
# not the cell's — the first proxy cell of a process starts the proxy inside its tap, and its probe
# would otherwise count as the client reaching the proxy (turning "the client raised" into "the proxy
# failed" for that one cell, depending on which cell a process runs first).
_HARNESS_OWN: contextvars.ContextVar[bool] = contextvars.ContextVar("zai_harness_own", default=False)


@contextmanager
def harness_own_requests() -> Iterator[None]:
    """Requests sent inside are the harness's own, to a local service: never counted as a cell's."""
    token = _HARNESS_OWN.set(True)
    try:
        yield
    finally:
        _HARNESS_OWN.reset(token)


def passthrough_hosts() -> frozenset[str]:
    """The hosts registered now (a copy)."""
    return frozenset(_PASSTHROUGH)


def passes_through(uri: str) -> bool:
    return bool(_PASSTHROUGH) and urlsplit(uri).netloc in _PASSTHROUGH


class StrayRequest(RuntimeError):
    """A local service (the proxy) sent upstream on behalf of a cell that has ended — a retry of a
    request whose client stopped waiting. It must not be answered from, or recorded into, the cassette
    of whichever cell runs now: that would judge one cell on another's evidence."""


# The tap a request belongs to, when a local service sends it on a cell's behalf. The proxy's ASGI
# wrapper sets it for each incoming request to the tap active at that moment; the value follows the
# request's asyncio task into LiteLLM's upstream call, where the tap checks it.
REQUEST_OWNER: contextvars.ContextVar[object | None] = contextvars.ContextVar("zai_request_owner", default=None)
_active: list[WireTap] = []
_active_lock = threading.Lock()


def active_tap() -> WireTap | None:
    """The tap of the cell running now (None between cells)."""
    with _active_lock:
        return _active[-1] if _active else None


@contextmanager
def _activated(tap: WireTap) -> Iterator[None]:
    with _active_lock:
        _active.append(tap)
    try:
        yield
    finally:
        with _active_lock:
            _active.remove(tap)


def _same_question(r1: Request, r2: Request) -> None:
    differences = question_of(r1.method, r1.uri, r1.body).differences(question_of(r2.method, r2.uri, r2.body))
    if differences:
        raise AssertionError("; ".join(differences))


def _text(body: Any) -> str | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return str(body)


class WireTap:
    """Collects one Exchange per request a path sent through the cassette."""

    def __init__(self, cassette: Any, answer: Callable[[Request], dict[str, Any]] | None = None) -> None:
        """`answer`: serve every request from it (the double at run time) instead of the cassette's
        recorded interactions; exchanges are then `served`."""
        self.exchanges: list[Exchange] = []
        self.local_requests = 0  # requests to a local service the path talks through (the proxy): not recorded
        self.stray_requests = 0  # requests left over from an earlier cell, refused (see StrayRequest)
        self._cassette = cassette
        try:
            self.provenance: dict[str, Any] = dict(cassette.get_metadata("provenance", {}) or {})
        except Exception:  # a write-protected cassette without provenance: the reader refuses those
            self.provenance = {}
        can_play, play, append = cassette.can_play_response_for, cassette.play_response, cassette.append

        def can_play_response_for(request: Request) -> bool:
            if passes_through(request.uri):
                if not _HARNESS_OWN.get():
                    self.local_requests += 1
                return False  # not ours to answer: the request goes to the local service itself
            owner = REQUEST_OWNER.get()
            if owner is not None and owner is not self:
                self.stray_requests += 1
                raise StrayRequest(
                    f"{request.method} {request.uri}: sent for a cell that has ended; "
                    "not answered from this cell's evidence"
                )
            playable = answer is not None or bool(can_play(request))
            exchange = Exchange(
                method=request.method,
                url=request.uri,
                request_headers={k: [v] for k, v in request.headers.items()},
                request_body=_text(request.body),
                outcome="pending",
            )
            if not playable and cassette.write_protected:
                exchange.outcome = "miss"
                exchange.miss = self._explain_miss(request)
            self.exchanges.append(exchange)
            call = transport.current_call()
            if call is not None and call.exchange is None:  # the request a wrapped stub is sending
                call.vcr_request, call.exchange = request, exchange
            return playable

        def play_response(request: Request) -> Any:
            response = play(request) if answer is None else answer(request)
            call = transport.current_call()
            self._answered("replayed" if answer is None else "served", response, call)
            if transport.is_fault(response):  # raises the asking transport's timeout (or ends its body in it)
                return transport.replay_fault(response, call)
            return response

        def append_(request: Request, response: Any) -> None:
            call = transport.current_call()
            broken = call.read_error if call is not None and call.tracked else None
            if call is not None and broken is not None and transport.is_timeout(broken):
                # vcrpy's aiohttp stub swallowed a timeout in the body and would record a complete answer
                response = transport.fault_response(call, broken)
            before = len(cassette.data)
            append(request, response)
            if len(cassette.data) > before:  # the raw response; the cassette keeps a scrubbed copy
                self._answered("recorded", response, call)

        cassette.can_play_response_for = can_play_response_for
        cassette.play_response = play_response
        cassette.append = append_

    @property
    def recorded_interactions(self) -> int:
        """How many interactions the cassette holds (loaded or recorded so far)."""
        return len(self._cassette.data)

    @property
    def recording(self) -> bool:
        """Requests go to the server and are recorded (not served from the cassette)."""
        return not self._cassette.write_protected

    def record_fault(self, call: transport.Call, error: BaseException) -> None:
        """The server timed out on a request the cassette saw: record that, as the interaction for it.
        Appended through the cassette, so it is scrubbed like any answer and the exchange is updated."""
        if not self.recording or call.vcr_request is None or call.exchange is None:
            return
        if call.exchange.outcome != "pending":  # already answered (vcrpy recorded something for it)
            return
        self._cassette.append(call.vcr_request, transport.fault_response(call, error))

    def _answered(self, outcome: str, response: dict[str, Any], call: transport.Call | None = None) -> None:
        if call is not None and call.exchange is not None:
            exchange = call.exchange
        elif self.exchanges:
            exchange = self.exchanges[-1]
        else:
            return
        exchange.outcome = outcome
        exchange.status = response["status"]["code"]
        exchange.response_headers = {
            k: list(v) if isinstance(v, list | tuple) else [v] for k, v in (response.get("headers") or {}).items()
        }
        exchange.response_body = _text((response.get("body") or {}).get("string"))
        fault = response.get("transport_fault")
        if fault:
            exchange.status = None  # no HTTP answer, whatever status line arrived before the hang
            exchange.response_body = exchange.response_body or None
            exchange.transport_fault = copy.deepcopy(fault)

    def _explain_miss(self, request: Request) -> str:
        asked = question_of(request.method, request.uri, request.body)
        recorded = [question_of(r.method, r.uri, r.body) for r, _ in self._cassette.data]
        if not recorded:
            return "the cassette holds no interactions"
        ranked = sorted(((asked.differences(q), i) for i, q in enumerate(recorded)), key=lambda pair: len(pair[0]))
        differences, index = ranked[0]
        if not differences:
            return (
                f"the same question was already answered by interaction {index + 1}; "
                "the path asked it again (a retry or a duplicate request)"
            )
        return f"closest recorded request (interaction {index + 1}) differs in " + "; ".join(differences)


class Recorder:
    """Replays or records cassettes for cells. One instance per run."""

    def __init__(self, scrubber: Scrubber = SCRUBBER) -> None:
        self._scrubber = scrubber
        self._vcr = vcr.VCR(
            match_on=(MATCHER,),
            before_record_request=self._scrub_request,
            before_record_response=self._scrub_response,
            decode_compressed_response=True,
        )
        self._vcr.register_matcher(MATCHER, _same_question)
        self._vcr.register_persister(Persister)
        # vcrpy filters each request up to four times (can it play, play, record, match), each time a
        # fresh deep copy: the scrubbed parts of the last few requests, by their content.
        self._scrubbed: dict[tuple[Any, ...], tuple[str, Any, dict[str, Any]]] = {}
        self._scrubbed_lock = threading.Lock()

    def _scrub_request(self, request: Request) -> Request | None:
        if passes_through(request.uri):
            return None  # vcrpy neither records nor replays it
        raw_headers = dict(request.headers)
        key = (request.method, request.uri, request.body, repr(sorted(raw_headers.items())))
        with self._scrubbed_lock:
            known = self._scrubbed.get(key)
        if known is None:
            known = (
                self._scrubber.url(request.uri),
                self._scrubber.body(request.body),
                self._scrubber.headers(raw_headers),
            )
            with self._scrubbed_lock:
                if len(self._scrubbed) >= 16:
                    self._scrubbed.pop(next(iter(self._scrubbed)))
                self._scrubbed[key] = known
        uri, body, headers = known
        return Request(request.method, uri, body, dict(headers))

    def _scrub_response(self, response: dict[str, Any]) -> dict[str, Any]:
        response = copy.deepcopy(response)
        response["headers"] = self._scrubber.headers(response.get("headers") or {})
        body = response.get("body") or {}
        if "string" in body:
            body["string"] = self._scrubber.body(body["string"])
        if response.get("transport_fault"):  # its message is the client's error text
            response["transport_fault"] = self._scrubber.data(response["transport_fault"])
        return response

    @contextmanager
    def replay(self, cassette_path: Path) -> Iterator[WireTap]:
        """Serve the cell's requests from the cassette; anything unmatched is a miss, never the network."""
        with self._vcr.use_cassette(str(cassette_path), record_mode="none", allow_playback_repeats=False) as cassette:
            tap = WireTap(cassette)
            with transport.intercepting(tap), without_backoff(), _activated(tap):
                yield tap

    @contextmanager
    def serve(self, answer: Callable[[Request], dict[str, Any]], provenance: dict[str, Any]) -> Iterator[WireTap]:
        """Serve the cell's requests from `answer` (the double, in-process), tapped like a replay: no
        cassette file is read or written, and nothing opens a connection."""
        with self._vcr.use_cassette(SERVED_CASSETTE, record_mode="none", allow_playback_repeats=True) as cassette:
            tap = WireTap(cassette, answer=answer)
            tap.provenance = dict(provenance)
            with transport.intercepting(tap), without_backoff(), _activated(tap):
                yield tap

    @contextmanager
    def record(self, cassette_path: Path, provenance: dict[str, Any]) -> Iterator[WireTap]:
        """Send the cell's requests to the real server and record them (scrubbed) into a new cassette."""
        if cassette_path.exists():
            raise FileExistsError(f"{cassette_path}: record into a fresh path; the caller replaces the old one")
        with self._vcr.use_cassette(str(cassette_path), record_mode="all") as cassette:
            cassette.get_metadata("provenance", provenance)
            tap = WireTap(cassette)
            with transport.intercepting(tap), _activated(tap):
                yield tap

    @contextmanager
    def extend(self, cassette_path: Path, provenance: dict[str, Any]) -> Iterator[WireTap]:
        """new_episodes: answer each request the cassette holds from it, send the others to the real server
        and append them (scrubbed); the cassette is saved — with `provenance` — only if something was
        appended. `cassette_path` is a scratch copy: the caller decides whether it replaces the old one."""
        if not cassette_path.is_file():
            raise FileNotFoundError(f"{cassette_path}: extend a copy of an existing cassette")
        with self._vcr.use_cassette(
            str(cassette_path), record_mode="new_episodes", allow_playback_repeats=False
        ) as cassette:
            held = cassette.get_metadata("provenance", {})
            held.clear()  # the loaded provenance, replaced in place: it is saved with what is appended
            held.update(provenance)
            tap = WireTap(cassette)
            tap.provenance = dict(provenance)
            with transport.intercepting(tap), _activated(tap):
                yield tap
