"""Server-sent events read from a body, once, for everyone who reads Z.AI's streams.

The wire readers (openai.py, anthropic.py) and the fidelity measurement all split an SSE body the
same way, here: events end at a blank line (one of whitespace only counts: hand-edited captures
carry trailing spaces), `event:` names an event, its `data:` lines are joined with newlines, `:`
comments and other fields are dropped. Each event's payload is parsed as JSON once; a payload that
does not parse (elided with `...`, cut, `[DONE]`) has no data, and its raw text is kept for whoever
reports it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

DONE = "[DONE]"  # OpenAI's end-of-stream sentinel
# SSE ends a line at CRLF, LF or CR only; str.splitlines() would also cut at U+2028, U+0085 and other
# separators, which a JSON string may carry unescaped (found by the translation fuzzing)
_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class SseEvent:
    name: str | None  # the `event:` line, if any
    lines: tuple[str, ...]  # its `data:` lines, as sent (the one space after the colon dropped)
    data: Any = None  # the parsed payload; None when unknown (unparseable, e.g. elided with `...`) or `[DONE]`

    @property
    def raw(self) -> str:
        """The data lines joined, exactly as sent."""
        return "\n".join(self.lines)

    @property
    def done(self) -> bool:
        return self.raw.strip() == DONE

    @property
    def known(self) -> bool:
        return self.data is not None

    @property
    def kind(self) -> str | None:
        """The event's name, or its payload's `type` when there is no `event:` line."""
        if self.name:
            return self.name
        return self.data.get("type") if isinstance(self.data, dict) else None


def read_events(body: str) -> list[SseEvent]:
    """Split an SSE body into events (blank-line separated; `event:` and `data:` fields; comments dropped).
    An event with neither field (a comment alone) is no event."""
    events: list[SseEvent] = []
    name: str | None = None
    data: list[str] = []
    for line in [*_LINE_END.split(body), ""]:
        if not line.strip():
            if name is not None or data:
                events.append(_event(name, tuple(data)))
            name, data = None, []
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if key == "event":
            name = value.strip()
        elif key == "data":
            data.append(value)
    return events


def _event(name: str | None, lines: tuple[str, ...]) -> SseEvent:
    raw = "\n".join(lines)
    if raw.strip() == DONE:
        return SseEvent(name, lines)
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = None
    return SseEvent(name, lines, payload)
