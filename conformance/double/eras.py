"""Z.AI's OpenAI-protocol wire by era: which shapes the double sends for a model at a date.

Z.AI changed its chat-completion wire several times (2025-09 → 2026-03: the opening delta, blank
reasoning deltas, a separator before the answer, finish_reason on tool-call chunks, `object`,
`completion_tokens_details`). What changed when, per model, with the recordings that show it, is data
(data/wire_eras.yaml); this module reads it and answers one question — the `WireShape` of a model in
an era — so the surface renders without if-chains on dates or model names. The newest era is the
default; an older one is chosen by its name or by any date on which it was in effect.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, fields, replace
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

Opening = Literal["blank_content", "blank_reasoning", "word"]
BlankReasoning = Literal["with_empty_content", "alone"]


class UnknownEra(ValueError):
    """An era the recordings do not show: the message names the ones they do."""


@dataclass(frozen=True)
class WireShape:
    """The behaviours of one model's wire in one era (meanings: data/wire_eras.yaml)."""

    object: bool
    reasoning_tokens: bool
    opening: Opening
    blank_reasoning: BlankReasoning
    answer_separator: bool
    tool_call_finish_reason: bool
    tool_call_preamble: bool
    # every content delta (the separator too) carries `reasoning_content: ""` beside its text
    content_with_empty_reasoning: bool

    @property
    def reasoning_lead(self) -> str:
        """What the reasoning starts with: a blank line when the stream opens with a blank reasoning delta."""
        return "\n" if self.opening == "blank_reasoning" else ""


@dataclass(frozen=True)
class WireEra:
    name: str
    start: datetime.date
    shape: WireShape
    models: dict[str, WireShape]  # models whose recordings differ from the era's shape
    without_tools: dict[str, Any] = field(default_factory=dict)  # behaviours of requests that send no tools

    def shape_for(self, model: str | None, tools: bool = True) -> WireShape:
        """The model's shape in this era; a request without tools gets the era's `without_tools` behaviours
        on top, where its recordings show the wire differing for such requests."""
        shape = self.models.get((model or "").lower(), self.shape)
        if tools or not self.without_tools:
            return shape
        only = self.without_tools.get("models")  # recorded for these models alone
        if only is not None and (model or "").lower() not in {name.lower() for name in only}:
            return shape
        return _shape(self.without_tools, shape)


_SHAPE_KEYS = frozenset(f.name for f in fields(WireShape))


def _shape(values: dict[str, Any], base: WireShape | None = None) -> WireShape:
    chosen = {k: v for k, v in values.items() if k in _SHAPE_KEYS}
    if base is not None:
        return replace(base, **chosen)
    missing = _SHAPE_KEYS - set(chosen)
    if missing:
        raise ValueError(f"wire_eras.yaml: an era lacks {', '.join(sorted(missing))}")
    return WireShape(**chosen)


@cache
def eras() -> tuple[WireEra, ...]:
    """Every era, oldest first."""
    document = yaml.safe_load((resources.files("conformance.double") / "data" / "wire_eras.yaml").read_text())
    loaded = []
    for entry in document["eras"]:
        shape = _shape(entry["behaviours"])
        models = {name.lower(): _shape(values, shape) for name, values in (entry.get("models") or {}).items()}
        plain = entry.get("without_tools") or {}
        loaded.append(WireEra(str(entry["name"]), entry["start"], shape, models, plain))
    return tuple(sorted(loaded, key=lambda era: era.start))


def newest() -> WireEra:
    return eras()[-1]


def era_named(wanted: str | None) -> WireEra:
    """The era named `wanted` (e.g. "2025-10"), or the one in effect on a date `YYYY-MM-DD`; None: the newest.

    A date falls in the last era that started on or before it: a behaviour is taken to last until a
    recording shows it changed. `UnknownEra` for anything else, or a date before the first recording."""
    if wanted is None or not wanted.strip():
        return newest()
    wanted = wanted.strip()
    known = eras()
    for candidate in known:
        if candidate.name == wanted:
            return candidate
    names = ", ".join(e.name for e in known)
    try:
        day = datetime.date.fromisoformat(wanted)
    except ValueError:
        raise UnknownEra(f"unknown era {wanted!r}: the recordings show {names} (or give a date YYYY-MM-DD)") from None
    in_effect = [e for e in known if e.start <= day]
    if not in_effect:
        raise UnknownEra(f"no era on {wanted}: the first recording is from {known[0].start.isoformat()} ({names})")
    return in_effect[-1]
