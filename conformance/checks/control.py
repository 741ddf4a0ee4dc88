"""Reasoning controls: what of the control a user wrote reaches Z.AI, and what Z.AI made of it.

Users steer GLM's reasoning in half a dozen shapes (top-level `reasoning_effort`, `thinking.effort`, a
nested `reasoning.effort`, Qwen's `enable_thinking`, Anthropic's budget, `adaptive` and
`output_config.effort`), and clients drop, rename, clamp or refuse them on the way (ZAI-FACTS §9.1).
The request a client sends is its own bytes — real evidence even offline — so each cell names the
control's fate on the wire in one finding; Z.AI's reaction is named in another, marked unverified
where the sources disagree.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from conformance.observation import Turn
from conformance.verdict import Finding, Severity

# Request fields through which any client expresses reasoning: where a control went when it is no longer
# where the user wrote it.
REASONING_FIELDS = ("thinking", "reasoning_effort", "reasoning", "enable_thinking", "output_config")
_ABSENT = object()
# Controls only the OpenAI-style request can carry: an Anthropic-style client (the Anthropic SDK) writes
# its reasoning as a thinking budget, so for it these are no control it was given.
OPENAI_ONLY = frozenset({"reasoning_effort", "reasoning", "enable_thinking", "thinking.effort"})


class Fate(StrEnum):
    """What the path did with the control, as the wire shows it."""

    AS_WRITTEN = "as written"
    CHANGED = "changed"  # the same field, another value (clamped, mapped)
    RENAMED = "renamed"  # gone from where it was written; another reasoning field carries the request
    DROPPED = "dropped"  # gone, and no reasoning field in its place
    REFUSED = "refused by the client"  # nothing sent


@dataclass(frozen=True)
class ControlOutcome:
    fate: Fate
    detail: str  # the wire's side: the value sent, or the field that replaced it
    also: str = ""  # sent as written, and also carried another way (a translating client's own field)


def lookup(body: dict[str, Any], dotted: str) -> Any:
    """The value at `thinking.effort` in a request body, or _ABSENT."""
    value: Any = body
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return _ABSENT
        value = value[part]
    return value


def request_object(text: str | None) -> dict[str, Any] | None:
    """A request body as the JSON object it should be, or None."""
    try:
        value = json.loads(text or "")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def applies(control: Sequence[str], api: str) -> bool:
    """Whether a path whose own API is `api` can be given this control as written."""
    return bool(control) and (api == "openai" or not any(_written_as(name) in OPENAI_ONLY for name in control))


def _written_as(name: str) -> str:
    return name if name == "thinking.effort" else name.split(".")[0]


def control_fate(control: Sequence[str], written: dict[str, Any], sent: dict[str, Any] | None) -> ControlOutcome:
    """The fate of the control fields `control` the user `written` (the scenario's parameters) in the
    body a path `sent` (None: it sent nothing)."""
    if sent is None:
        return ControlOutcome(Fate.REFUSED, "no request reached Z.AI")
    wanted = {name: lookup(written, name) for name in control}
    on_wire = {name: lookup(sent, name) for name in control}
    roots = {name.split(".")[0] for name in control}
    instead = {name: sent[name] for name in REASONING_FIELDS if name in sent and name not in roots}
    if all(on_wire[name] == wanted[name] for name in control):
        # a translating client may also carry it its own way (LiteLLM: effort → an Anthropic budget too)
        extra = {name: value for name, value in instead.items() if lookup(written, name) is _ABSENT}
        return ControlOutcome(Fate.AS_WRITTEN, _pairs(on_wire), _pairs(extra) if extra else "")
    present = {name: value for name, value in on_wire.items() if value is not _ABSENT}
    if present:
        return ControlOutcome(Fate.CHANGED, _pairs(present))
    if instead:
        return ControlOutcome(Fate.RENAMED, _pairs(instead))
    return ControlOutcome(Fate.DROPPED, "no reasoning field on the wire")


def check_control(
    control: Sequence[str], written: dict[str, Any], sent: dict[str, Any] | None, refusal: str | None = None
) -> list[Finding]:
    """One finding naming the control's fate. Dropped or changed silently is a deviation: the user
    asked for a behaviour and the client decided otherwise without a word; a rename is how a
    translating client carries it (its correctness is the request checks' to judge); a client's
    refusal is the error verdict's business, named here for the control matrix."""
    if not control:
        return []
    outcome = control_fate(control, written, sent)
    shape = _pairs({name: lookup(written, name) for name in control})
    if outcome.fate is Fate.REFUSED:
        message = f"reasoning control {shape}: refused by the client" + (f" ({refusal})" if refusal else "")
        return [Finding("reasoning_control", Severity.INFO, message, 0, "request")]
    severity = Severity.DEVIATION if outcome.fate in (Fate.DROPPED, Fate.CHANGED) else Severity.INFO
    message = f"reasoning control {shape}: {outcome.fate.value}"
    if outcome.fate is not Fate.AS_WRITTEN:
        message += f" — on the wire: {outcome.detail}"
    elif outcome.also:
        message += f", and also {outcome.also}"
    return [Finding("reasoning_control", severity, message, 0, "request")]


def answer_finding(turn: Turn | None, unverified: str | None, served: bool) -> list[Finding]:
    """What Z.AI (or the double) answered to the control: rejected with a code, reasoned, or not —
    and, where the sources disagree, that the answer is unverified until a live run measures it."""
    if turn is None:
        return []
    if turn.error is not None:
        code = turn.error.code or turn.error.status
        answered = f"rejected ({code})"
    else:
        answered = "reasoned" if turn.reasoning else "did not reason"
    who = "the double (what Z.AI documents)" if served else "Z.AI"
    message = f"reasoning control answered by {who}: {answered}"
    if unverified:
        message += f"; Z.AI's real answer is unverified: {unverified}"
    return [Finding("reasoning_answer", Severity.INFO, message, turn.index, "response")]


def _pairs(values: dict[str, Any]) -> str:
    return ", ".join(f"{name}={json.dumps(value, ensure_ascii=False)}" for name, value in values.items())
