"""Streamed vs non-streamed: does a path give the same answer both ways?

A cell judges one request; this compares two cells of the same endpoint, model and path — a streamed
scenario and the unstreamed one it is the variant of (the catalogue's `streamed:`, or `stream_of:`;
`Catalogue.stream_twins`) — after the run, from the results themselves: the same tool calls (names and
arguments), the same finish_reason, usage reported once, and — where both answers came from the
double, which answers the same question the same way — the same arguments, text and reasoning after
the stream is reassembled. Real recordings of the two are separate generations: only the shape of the
answer (which tools, which finish_reason, usage once) is compared, not its words.

The session asks for the comparison when its run finishes (it has the catalogue), and so does
`zai-conformance report` for a run directory; the results document carries it as `equivalence`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.protocol import neutral_finish

UNJUDGED = frozenset({"SKIPPED", "NOT_RECORDED"})


def equivalence_summary(cells: list[dict[str, Any]], twins: Mapping[str, str]) -> dict[str, Any]:
    """The results document's `equivalence` section: how many pairs were compared, how many gave the
    same answer, and each pair that did not, with its differences."""
    pairs = stream_equivalence(cells, twins)
    return {
        "pairs": len(pairs),
        "same": sum(1 for pair in pairs if pair["same"]),
        "differing": [pair for pair in pairs if not pair["same"]],
    }


def stream_equivalence(cells: list[dict[str, Any]], twins: Mapping[str, str]) -> list[dict[str, Any]]:
    """One entry per pair of judged cells of one endpoint, model and path whose scenarios are twins:
    `twins` maps a streamed scenario's id to its unstreamed scenario's (Catalogue.stream_twins)."""
    by_place = {_place(cell, cell["scenario"]): cell for cell in cells}
    pairs = []
    for streamed in cells:
        unstreamed = twins.get(streamed["scenario"])
        if unstreamed is None:
            continue
        plain = by_place.get(_place(streamed, unstreamed))
        if plain is None or {plain["verdict"], streamed["verdict"]} & UNJUDGED:
            continue
        pairs.append(_compare(plain, streamed))
    return pairs


def _place(cell: dict[str, Any], scenario: str) -> tuple[str, str, str, str]:
    """Where a cell of `scenario` sits next to `cell`: the same endpoint, model and path."""
    return cell["endpoint"], cell["model"], cell["path"], scenario


def _compare(plain: dict[str, Any], streamed: dict[str, Any]) -> dict[str, Any]:
    same_generation = _kind(plain) == _kind(streamed) == "double"
    differences: list[str] = []
    turns_plain, turns_streamed = _turns(plain), _turns(streamed)
    if len(turns_plain) != len(turns_streamed):
        differences.append(f"{len(turns_plain)} turn(s) unstreamed, {len(turns_streamed)} streamed")
    for index, (one, other) in enumerate(zip(turns_plain, turns_streamed, strict=False)):
        differences += [f"turn {index + 1}: {d}" for d in _turn_differences(one, other, same_generation)]
    return {
        "cell": plain["cell"],
        "stream_cell": streamed["cell"],
        "compared": (
            "tool calls with arguments, finish_reason, usage count, text, reasoning"
            if same_generation
            else "tool call names, finish_reason, usage count (separate generations)"
        ),
        "same": not differences,
        "differences": differences,
    }


def _turn_differences(plain: dict[str, Any], streamed: dict[str, Any], words: bool) -> list[str]:
    differences = []
    if (plain.get("error") is None) != (streamed.get("error") is None):
        return ["one raised an error, the other did not"]
    calls = [_call(c, words) for c in plain.get("tool_calls") or []]
    streamed_calls = [_call(c, words) for c in streamed.get("tool_calls") or []]
    if calls != streamed_calls:
        differences.append(f"tool calls {calls} vs streamed {streamed_calls}")
    finish, streamed_finish = plain.get("finish_reason"), streamed.get("finish_reason")
    if neutral_finish(finish) != neutral_finish(streamed_finish):
        differences.append(f"finish_reason {finish!r} vs streamed {streamed_finish!r}")
    usage_chunks = (streamed.get("stream") or {}).get("usage_chunks", 0)
    if usage_chunks > 1:
        differences.append(f"usage in {usage_chunks} chunks of the stream")
    if (plain.get("usage") is None) != (streamed.get("usage") is None):
        differences.append("usage in one answer only")
    if words:
        for field in ("text", "reasoning"):
            if (plain.get(field) or "") != (streamed.get(field) or ""):
                differences.append(f"{field} differs after reassembly")
    return differences


def _call(call: dict[str, Any], arguments: bool) -> tuple[Any, ...]:
    """A tool call as compared: its name, and its arguments when both answers are one generation."""
    return (call.get("name"), call.get("arguments")) if arguments else (call.get("name"),)


def _turns(cell: dict[str, Any]) -> list[dict[str, Any]]:
    return list((cell.get("observation") or {}).get("turns") or [])


def _kind(cell: dict[str, Any]) -> str | None:
    return (cell.get("evidence") or {}).get("kind")
