"""The two properties, as pure functions of what a path did with a case (`FuzzRun`):

- `wire`: the first request on the wire says what the scenario says — the same messages (roles, texts,
  tool calls and their arguments, tool results and the calls they answer), tools, and parameters;
  `history`: a follow-up turn carries that conversation back unchanged, then the call the path was
  answered with and the scenario's tool result;
- `exposed`: what the path hands its user says what the wire said — text, reasoning, tool calls,
  finish reason, and an error exactly when the wire carried one.

Each returns every `Difference` it sees; which of them a path is allowed (its documented translation)
or already known for (a client bug on record) is decided in conformance/fuzz/findings.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from conformance.fuzz.case import FuzzCase
from conformance.fuzz.drive import FuzzRun
from conformance.fuzz.neutral import NCall, NMessage, NRequest, read
from conformance.observation import Exchange, Turn
from conformance.wire import WireAnswer, read_answer

Property = Literal["wire", "history", "exposed"]
Change = Literal["added", "dropped", "changed"]


@dataclass(frozen=True)
class Difference:
    """One way the path's output differs from what it should say. `subject` names what differs in
    terms a data file can match (`messages.text`, `temperature`, `added:tool_choice`, `finish_reason`);
    `expected` and `got` are the values (None: absent)."""

    property: Property
    subject: str
    change: Change
    expected: Any
    got: Any
    turn: int = 0
    where: str = ""  # e.g. messages[3]

    def describe(self) -> str:
        place = f" at {self.where}" if self.where else ""
        return (
            f"{self.property}: {self.subject} {self.change}{place} (turn {self.turn + 1}): "
            f"expected {_short(self.expected)}, got {_short(self.got)}"
        )


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sent_body(exchange: Exchange) -> dict[str, Any]:
    try:
        body = json.loads(exchange.request_body or "")
    except ValueError:
        return {"<not JSON>": exchange.request_body}
    return body if isinstance(body, dict) else {"<not an object>": body}


def wire(run: FuzzRun) -> list[Difference]:
    """The first request against the case rendered in the endpoint's protocol (with the path's
    configured settings, `ClientPath.intended`)."""
    if not run.exchanges:
        return [Difference("wire", "request", "dropped", "a request", None)]
    intended, sent = read(run.intended, run.protocol), read(sent_body(run.exchanges[0]), run.protocol)
    return compare_requests(intended, sent, "wire", 0)


def compare_requests(intended: NRequest, sent: NRequest, prop: Property, turn: int) -> list[Difference]:
    out = compare_messages(intended.messages, sent.messages, prop, turn)
    out += _compare_tools(intended, sent, prop, turn)
    out += _compare_fields(intended.params, sent.params, prop, turn, "")
    out += _compare_fields(intended.other, sent.other, prop, turn, "added:")
    return out


def compare_messages(
    intended: tuple[NMessage, ...], sent: tuple[NMessage, ...], prop: Property, turn: int
) -> list[Difference]:
    if len(intended) != len(sent):
        roles = [m.role for m in intended], [m.role for m in sent]
        change: Change = "dropped" if len(sent) < len(intended) else "added"
        return [Difference(prop, "messages.count", change, roles[0], roles[1], turn)]
    out = []
    for index, (mine, theirs) in enumerate(zip(intended, sent, strict=True)):
        where = f"messages[{index}]"
        for name in ("role", "text", "call_id"):
            if getattr(mine, name) != getattr(theirs, name):
                out.append(
                    Difference(
                        prop, f"messages.{name}", "changed", getattr(mine, name), getattr(theirs, name), turn, where
                    )
                )
        out += _compare_calls(mine.calls, theirs.calls, prop, turn, where)
    return out


def _compare_calls(
    intended: tuple[NCall, ...], sent: tuple[NCall, ...], prop: Property, turn: int, where: str
) -> list[Difference]:
    if [c.name for c in intended] != [c.name for c in sent]:
        return [
            Difference(prop, "calls.name", "changed", [c.name for c in intended], [c.name for c in sent], turn, where)
        ]
    out = []
    for mine, theirs in zip(intended, sent, strict=True):
        if mine.id != theirs.id:
            out.append(Difference(prop, "calls.id", "changed", mine.id, theirs.id, turn, where))
        if mine.arguments != theirs.arguments:
            out.append(Difference(prop, "calls.arguments", "changed", mine.arguments, theirs.arguments, turn, where))
    return out


def _compare_tools(intended: NRequest, sent: NRequest, prop: Property, turn: int) -> list[Difference]:
    if [t.name for t in intended.tools] != [t.name for t in sent.tools]:
        names = [t.name for t in intended.tools], [t.name for t in sent.tools]
        return [Difference(prop, "tools.name", "changed", names[0], names[1], turn)]
    out = []
    for index, (mine, theirs) in enumerate(zip(intended.tools, sent.tools, strict=True)):
        for name in ("description", "parameters"):
            if getattr(mine, name) != getattr(theirs, name):
                change: Change = "dropped" if getattr(theirs, name) is None else "changed"
                out.append(
                    Difference(
                        prop,
                        f"tools.{name}",
                        change,
                        getattr(mine, name),
                        getattr(theirs, name),
                        turn,
                        f"tools[{index}]",
                    )
                )
    return out


def _compare_fields(
    intended: dict[str, Any], sent: dict[str, Any], prop: Property, turn: int, prefix: str
) -> list[Difference]:
    out = []
    for key in sorted(intended.keys() | sent.keys()):
        if key not in sent:
            out.append(Difference(prop, prefix + key if prefix else key, "dropped", intended[key], None, turn))
        elif key not in intended:
            out.append(Difference(prop, prefix + key if prefix else key, "added", None, sent[key], turn))
        elif intended[key] != sent[key]:
            out.append(Difference(prop, prefix + key if prefix else key, "changed", intended[key], sent[key], turn))
    return out


def history(run: FuzzRun, case: FuzzCase) -> list[Difference]:
    """The follow-up request: the first request's conversation unchanged, then the assistant turn the
    wire answered (its text and calls), then the case's tool result for each call."""
    if case.result is None or len(run.exchanges) < 2:
        return []
    first = answer(run.exchanges[0])
    if not first.tool_calls:
        return []
    calls = tuple(NCall(c.id, c.name, c.arguments) for c in first.tool_calls)
    conversation = read(run.intended, run.protocol).messages
    expected = (
        *conversation,
        NMessage("assistant", first.text or "", calls),
        *(NMessage("tool", case.result, (), c.id) for c in calls),
    )
    sent = read(sent_body(run.exchanges[1]), run.protocol).messages
    return compare_messages(expected, sent, "history", 1)


def answer(exchange: Exchange) -> WireAnswer:
    """What the wire said, read by the harness's own reader (conformance/wire)."""
    return read_answer(exchange.status or 0, exchange.response_body or "", exchange.response_headers, exchange.url)


def exposed(run: FuzzRun) -> list[Difference]:
    """Each turn the path exposed against the wire answer to its own request."""
    if len(run.turns) != len(run.exchanges):
        return [Difference("exposed", "turns", "changed", len(run.exchanges), len(run.turns))]
    out: list[Difference] = []
    for index, (turn, exchange) in enumerate(zip(run.turns, run.exchanges, strict=True)):
        out += exposed_turn(turn, answer(exchange), index)
    return out


def exposed_turn(turn: Turn, wire_answer: WireAnswer, index: int) -> list[Difference]:
    failed = wire_answer.status >= 400 or wire_answer.status == 0
    if failed or turn.error is not None:
        if failed and turn.error is None:
            return [
                Difference("exposed", "error", "dropped", wire_answer.error_code or wire_answer.status, None, index)
            ]
        if not failed and turn.error is not None:
            return [Difference("exposed", "error", "added", None, turn.error.message, index)]
        return []
    out = []
    for name in ("text", "reasoning"):
        wanted, got = getattr(wire_answer, name) or "", getattr(turn, name) or ""
        if wanted != got:
            out.append(Difference("exposed", name, "changed", wanted, got, index))
    wanted_calls = tuple(NCall(c.id, c.name, c.arguments) for c in wire_answer.tool_calls)
    got_calls = tuple(NCall(c.id, c.name, c.arguments) for c in turn.tool_calls)
    out += [
        Difference("exposed", d.subject, d.change, d.expected, d.got, index)
        for d in _compare_calls(wanted_calls, got_calls, "exposed", index, "")
    ]
    if wire_answer.finish_reason != turn.finish_reason:
        out.append(
            Difference("exposed", "finish_reason", "changed", wire_answer.finish_reason, turn.finish_reason, index)
        )
    return out


def all_differences(run: FuzzRun, case: FuzzCase) -> list[Difference]:
    return [*wire(run), *history(run, case), *exposed(run)]
