"""Synthetic evidence served at run time: the Z.AI double answers a cell's requests as they are sent.

A cell with no live or public recording is not judged on a committed cassette recorded through some
older client: its client talks to the double now, so each client set is judged on what *it* sends.
The double answers in-process, through the same cassette layer replay uses (vcrpy's stubs in every
HTTP stack the clients use): the client's request bytes reach the double exactly as they would reach
a socket, the tap records each exchange like any other, and nothing opens a connection.

Transport faults need no clock either. What a hung or slow answer does to a client is decided here,
from the cell's idle limit, and played as a recorded fault is in replay (`transport.replay_fault`):
- `hang`: a stream stops after its first event, a whole answer never starts → the client's timeout;
- `slow=N`: the first byte waits N s → the client's timeout if N reaches its idle limit, else the
  answer as it would arrive (late, which the verdict does not depend on);
- a stream whose generation leaves a silence as long as the idle limit (a large tool call buffered
  without `tool_stream`, timed by wire/pacing.py from the stream's own content) → the client's timeout
  after the chunks before the silence;
so a busy machine can never turn a served cell into a HANG, nor a HANG into anything else.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from vcr.request import Request

from conformance import __version__
from conformance.catalogue import Catalogue
from conformance.double.server import Double
from conformance.double.wire import Reply
from conformance.protocol import generation_rate
from conformance.wire.pacing import pace_stream

SERVED_BY = f"the zai-conformance {__version__} double, at run time"
Answer = Callable[[Request], dict[str, Any]]


class ServedFaultUnsupported(RuntimeError):
    """A fault the in-process double cannot play without a socket (a connection reset)."""


class ServedDouble:
    """One double for a run; `answerer(idle_s)` gives a cell's answer function."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.double = Double(catalogue)

    def answerer(self, idle_s: float) -> Answer:
        def answer(request: Request) -> dict[str, Any]:
            parts = urlsplit(request.uri)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            headers = {str(k).lower(): str(v) for k, v in request.headers.items()}
            body = request.body or b""
            raw = body if isinstance(body, bytes) else body.encode("utf-8")
            reply = self.double.route(request.method, target, headers, raw)
            return as_response(reply, idle_s)

        return answer


def as_response(reply: Reply, idle_s: float) -> dict[str, Any]:
    """The double's reply as the cassette layer's response — or, for a transport fault, as the fault
    interaction a recording of it would hold."""
    status = {"code": reply.status, "message": _phrase(reply.status)}
    headers = {name: [value] for name, value in reply.headers.items()}
    transport = reply.transport
    if transport.reset:
        raise ServedFaultUnsupported(
            "a connection reset needs a real socket: run this cell live against `zai-conformance double`"
        )
    if transport.hang:
        if reply.events:  # the first event arrives, then nothing
            return _fault("mid-body", idle_s, status, headers, reply.events[0])
        return _fault("first byte", idle_s)
    if transport.slow and transport.slow >= idle_s:
        return _fault("first byte", idle_s)
    if reply.events is not None:
        silent = _silence_over(reply.events, idle_s)
        if silent is not None:  # generating a buffered call takes longer than the client waits for a byte
            index, seconds = silent
            rate = generation_rate().tokens_per_second
            served = (
                f"the double sent no byte for {seconds:.0f} s after chunk {index} (generation modelled at "
                f"{rate:g} tokens/s, wire/pacing.py); the client's idle limit of {idle_s:g} s ends the call"
            )
            return _fault("mid-body", idle_s, status, headers, b"".join(reply.events[:index]), served)
    body = b"".join(reply.events) if reply.events is not None else (reply.body or b"")
    return {"status": status, "headers": headers, "body": {"string": body}}


def _silence_over(events: list[bytes], idle_s: float) -> tuple[int, float] | None:
    """The first event a client with this idle limit would not wait for, and the silence before it
    (wire/pacing.py); or None. A stream too short to hold that much generation cannot have such a
    silence: it is not parsed."""
    rate = generation_rate()
    if sum(len(event) for event in events) < idle_s * rate.tokens_per_second * rate.chars_per_token:
        return None
    return pace_stream(b"".join(events).decode("utf-8", "replace")).first_silence_over(idle_s)


def _fault(
    phase: str,
    idle_s: float,
    received: dict[str, Any] | None = None,
    headers: dict[str, list[str]] | None = None,
    body: bytes = b"",
    served: str = "the double stopped answering; the client's idle limit ends the call",
) -> dict[str, Any]:
    fault: dict[str, Any] = {
        "kind": "timeout",
        "phase": phase,
        "after_seconds": idle_s,  # what the client waits before its idle limit ends the call
        "exception": "",  # the asking transport's own timeout is raised (transport.replay_error)
        "message": "",
        "served": served,
    }
    if received is not None:
        fault["received_status"] = received
    return {
        "status": {"code": None, "message": f"no complete HTTP answer: timeout ({phase})"},
        "headers": headers or {},
        "body": {"string": body},
        "transport_fault": fault,
    }


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return ""
