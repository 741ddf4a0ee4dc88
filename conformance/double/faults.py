"""Fault triggers: which fault a request asks for, from a prompt marker or a header.

`[double:<fault>]` anywhere in the last user message, or `X-Double-Fault: <fault>`. Faults are an
error code (see refusals.py), a finish reason the stream ends with (`sensitive`, `network_error`,
`model_context_window_exceeded`), or a transport fault:
- `hang`: the stream stops after its first chunk and never closes (a non-stream answer never comes)
  while the client waits — the double lets go when the client leaves, or after its maximum hang;
- `slow=<seconds>`: the first byte of the answer is delayed (default 3 s);
- `reset`: the connection is reset in the middle of the stream.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARKER = re.compile(r"\[double:([a-z0-9_=.]+)\]")
HEADER = "x-double-fault"


@dataclass(frozen=True)
class Transport:
    hang: bool = False
    slow: float = 0.0
    reset: bool = False


def fault_of(last_user_text: str, headers: dict[str, str]) -> str | None:
    value = headers.get(HEADER)
    if value:
        return value.strip().lower()
    match = MARKER.search(last_user_text)
    return match.group(1) if match else None


def transport_of(fault: str | None) -> Transport:
    if fault == "hang":
        return Transport(hang=True)
    if fault == "reset":
        return Transport(reset=True)
    if fault and fault.startswith("slow"):
        _, _, seconds = fault.partition("=")
        return Transport(slow=float(seconds) if seconds else 3.0)
    return Transport()
