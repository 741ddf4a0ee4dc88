"""Faults: what the fault a request asks for does to its answer.

How a request asks (a `[double:<fault>]` marker or the `X-Double-Fault` header) is the trigger
protocol, in conformance/triggers.py. Faults are an error code (see refusals.py), a finish reason the
stream ends with (`sensitive`, `network_error`, `model_context_window_exceeded`), or a transport fault:
- `hang`: the stream stops after its first chunk and never closes (a non-stream answer never comes)
  while the client waits — the double lets go when the client leaves, or after its maximum hang;
- `slow=<seconds>`: the first byte of the answer is delayed (default 3 s);
- `reset`: the connection is reset in the middle of the stream.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Transport:
    hang: bool = False
    slow: float = 0.0
    reset: bool = False


def transport_of(fault: str | None) -> Transport:
    if fault == "hang":
        return Transport(hang=True)
    if fault == "reset":
        return Transport(reset=True)
    if fault and fault.startswith("slow"):
        _, _, seconds = fault.partition("=")
        return Transport(slow=float(seconds) if seconds else 3.0)
    return Transport()
