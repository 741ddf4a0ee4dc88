"""What makes two requests "the same question" — the rule that lets one real response serve many paths.

Two chat requests ask the same question when they share method, endpoint path, model, streaming,
the conversation (roles, text, tool calls and results) and the tools offered, each read into the
canonical form of conformance.wire.normal (which the request checks use too). Client-specific extras
— header sets, `strict` flags, `stream_options`, `max_tokens`, history `reasoning_content`, tool-call
`index`, whitespace around an assistant turn that only carried tool calls — do not change the
question; the request checks report them instead, so nothing is hidden by matching loosely.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from conformance.wire import normal


@dataclass(frozen=True)
class Question:
    method: str
    path: str
    model: str | None
    stream: bool
    messages: tuple[Any, ...]
    tools: tuple[Any, ...]
    raw: str | None = None  # a body that is not a JSON object, kept verbatim

    def differences(self, other: Question) -> list[str]:
        """Name each part in which two questions differ (empty when they are the same)."""
        found = []
        for part in ("method", "path", "model", "stream", "tools", "raw"):
            if getattr(self, part) != getattr(other, part):
                found.append(f"{part}: {_short(getattr(self, part))} ≠ {_short(getattr(other, part))}")
        if self.messages != other.messages:
            found.append(_message_difference(self.messages, other.messages))
        return found


def question_of(method: str, url: str, body: bytes | str | None) -> Question:
    """Canonical question of an HTTP request; a body that is not JSON is kept verbatim. Remembered:
    vcrpy asks whether a request matches each recorded one in turn, so the same bodies (an agent's
    40 KB turns) would be parsed and normalised again for every pair."""
    return _question(method, url, body)


@functools.lru_cache(maxsize=1024)
def _question(method: str, url: str, body: bytes | str | None) -> Question:
    data, raw = normal.body_object(body)
    path = normal.endpoint_path(url)
    return Question(
        method=normal.method(method),
        path=path,
        model=normal.model(data),
        stream=normal.stream(data),
        messages=normal.messages(
            data.get("messages"), system=data.get("system"), anthropic=normal.is_anthropic_messages(path)
        ),
        tools=normal.tools(data.get("tools")),
        raw=raw,
    )


def _message_difference(ours: tuple[Any, ...], theirs: tuple[Any, ...]) -> str:
    if len(ours) != len(theirs):
        return f"messages: {len(ours)} message(s) ≠ {len(theirs)}"
    for index, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
        if mine != other:
            return f"messages[{index}]: {_short(mine)} ≠ {_short(other)}"
    return "messages differ"


def _short(value: Any, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
