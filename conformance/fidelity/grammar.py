"""The grammar of an OpenAI-style chat stream: what each chunk is, and the pattern they make.

Pure functions over parsed chunks (dicts), shared by the strict comparison (compare.py) and the wire
history (history.py), so that what the measure demands of the double and what the history says Z.AI
did are read the same way.

A chunk's **kind** says what it carries, text classified by its value: `role` (an opener with no
text: role alone or beside `content: ""`), `reasoning`, `reasoning (blank)` (whitespace only),
`content`, `content (blank)`, `tool_call` (a call opened: id or name — Z.AI sends each call whole in
one chunk), `tool_call args` (a later piece of a call's arguments), `finish` (a non-null
finish_reason and no tool call), `usage` (usage without choices), `other`.

The **grammar** of a stream is its kinds in order, with three abstractions, each because the double
answers with another generation than the recorded one:

- a blank chunk inside or at the end of a channel's run (reasoning or content) is absorbed into it:
  where the model put a newline token is content; a blank chunk that *opens* a channel is kept —
  that is the template's separator (`"\\n"` before the reasoning, `"\\n\\n"` before the answer);
- a text run (reasoning, content) is one element however many chunks it has: how many tokens the
  model wrote is content, and a one-chunk run is a one-token text;
- every other run is "one" or "many": one tool call or several, one finishing chunk or several.

What a chunk carries beyond its kind (the `content: ""` beside a blank reasoning delta, `object`,
usage keys) is its **signature** and the key profile compare.py builds per kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

ROLE = "role"
REASONING = "reasoning"
REASONING_BLANK = "reasoning (blank)"
CONTENT = "content"
CONTENT_BLANK = "content (blank)"
TOOL_CALL = "tool_call"
TOOL_ARGS = "tool_call args"
FINISH = "finish"
USAGE = "usage"
OTHER = "other"

TEXT_KINDS = frozenset({REASONING, CONTENT})
BLANK_KINDS = {REASONING_BLANK: REASONING, CONTENT_BLANK: CONTENT}  # blank kind → its channel


def text_class(value: Any) -> str:
    """`absent`, `null`, `""`, `blank` (whitespace only), `text`, or the JSON type of anything else."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return '""' if value == "" else "blank" if not value.strip() else "text"
    return type(value).__name__


def _choice(chunk: dict[str, Any]) -> dict[str, Any] | None:
    choices = chunk.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        return choices[0]
    return None


def _delta(chunk: dict[str, Any]) -> dict[str, Any]:
    choice = _choice(chunk) or {}
    delta = choice.get("delta")
    return delta if isinstance(delta, dict) else {}


def finish_reason(chunk: dict[str, Any]) -> Any:
    """The chunk's non-null finish_reason, or None."""
    return (_choice(chunk) or {}).get("finish_reason")


def tool_calls(chunk: dict[str, Any]) -> list[dict[str, Any]]:
    calls = _delta(chunk).get("tool_calls")
    return [c for c in calls if isinstance(c, dict)] if isinstance(calls, list) else []


def chunk_kind(chunk: dict[str, Any]) -> str:
    """What one chunk carries (see the module's docstring)."""
    if _choice(chunk) is None:
        return USAGE if "usage" in chunk else OTHER
    calls = tool_calls(chunk)
    if calls:
        first = calls[0]
        opened = first.get("id") or (first.get("function") or {}).get("name")
        return TOOL_CALL if opened else TOOL_ARGS
    if finish_reason(chunk) is not None:
        return FINISH
    delta = _delta(chunk)
    content, reasoning = text_class(delta.get("content")), text_class(delta.get("reasoning_content"))
    if content == "text":
        return CONTENT
    if reasoning == "text":
        return REASONING
    if reasoning == "blank":
        return REASONING_BLANK
    if content == "blank":
        return CONTENT_BLANK
    return ROLE if "role" in delta or not delta else OTHER


def signature(chunk: dict[str, Any]) -> str:
    """A chunk's fields and how their values look, e.g. `role + content:"" + reasoning_content:blank`:
    the shape of an opening chunk, which the double must reproduce (its text is content, its shape is not)."""
    delta = _delta(chunk)
    parts: list[str] = []
    for key in ("role", "content", "reasoning_content"):
        if key in delta:
            parts.append(key if key == "role" else f"{key}:{text_class(delta[key])}")
    if tool_calls(chunk):
        parts.append(chunk_kind(chunk).replace(" ", "_"))
    parts += sorted(k for k in delta if k not in ("role", "content", "reasoning_content", "tool_calls"))
    if finish_reason(chunk) is not None:
        parts.append("finish_reason")
    if "usage" in chunk:
        parts.append("usage")
    if _choice(chunk) is None:
        parts.insert(0, "no choices")
    return " + ".join(parts) or "(empty delta)"


# --- the grammar -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    """One element of a stream's grammar: a kind, and for non-text kinds whether it came once or more."""

    kind: str
    many: bool = False

    def __str__(self) -> str:
        if self.kind in TEXT_KINDS:
            return self.kind
        return f"{self.kind}×many" if self.many else self.kind


def grammar(chunks: Sequence[dict[str, Any]]) -> tuple[Element, ...]:
    """The pattern of kinds of a stream's chunks, abstracted as the module's docstring says."""
    elements: list[list[Any]] = []  # [kind, count]
    for chunk in chunks:
        kind = chunk_kind(chunk)
        channel = BLANK_KINDS.get(kind)
        if channel and elements and _channel(elements[-1][0]) == channel:
            continue  # a blank token inside (or closing) a run of its channel: content
        if elements and elements[-1][0] == kind:
            elements[-1][1] += 1
            continue
        elements.append([kind, 1])
    return tuple(Element(kind, count > 1 and kind not in TEXT_KINDS) for kind, count in elements)


def _channel(kind: str) -> str:
    return BLANK_KINDS.get(kind, kind)


def show_grammar(elements: Iterable[Element]) -> str:
    return " → ".join(str(e) for e in elements) or "(no chunks)"


def channels(chunks: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """The text and tool channels in the order they alternate (reasoning → content → tool_call …)."""
    order: list[str] = []
    for element in grammar(chunks):
        channel = _channel(element.kind)
        channel = TOOL_CALL if channel == TOOL_ARGS else channel
        if channel in (REASONING, CONTENT, TOOL_CALL) and (not order or order[-1] != channel):
            order.append(channel)
    return tuple(order)


def placement(chunks: Sequence[dict[str, Any]], carries: Any) -> str:
    """Which chunks carry something, by kind: e.g. `tool_call + last (finish)`, `last (finish)`, `none`.
    Several chunks of one kind carrying it are counted (`tool_call×2`)."""
    if not chunks:
        return "(no chunks)"
    counts: dict[str, int] = {}
    for chunk in chunks[:-1]:
        if carries(chunk):
            kind = chunk_kind(chunk)
            counts[kind] = counts.get(kind, 0) + 1
    parts = [f"{kind}×{n}" if n > 1 else kind for kind, n in counts.items()]
    if carries(chunks[-1]):
        parts.append(f"last ({chunk_kind(chunks[-1])})")
    return " + ".join(parts) or "none"


def finish_placement(chunks: Sequence[dict[str, Any]]) -> str:
    return placement(chunks, lambda c: finish_reason(c) is not None)


def usage_placement(chunks: Sequence[dict[str, Any]]) -> str:
    return placement(chunks, lambda c: c.get("usage") is not None)


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON object (`a.b`), objects only (arrays and leaves end a path)."""
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            paths.add(path)
            paths |= key_paths(item, path)
    return paths
