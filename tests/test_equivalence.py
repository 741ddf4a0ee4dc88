"""Streamed vs non-streamed equivalence, computed from results: what is compared, and what is not."""

from __future__ import annotations

from typing import Any

from conformance.equivalence import stream_equivalence


def _cell(cell_id: str, kind: str = "double", verdict: str = "PASS", **turn: Any) -> dict[str, Any]:
    base = {"text": "Olá!", "reasoning": "hmm", "finish_reason": "stop", "usage": {"total_tokens": 3}, "tool_calls": []}
    return {
        "cell": cell_id,
        "verdict": verdict,
        "evidence": {"kind": kind},
        "observation": {"turns": [{**base, **turn}], "exchanges": []},
    }


def test_the_same_answer_both_ways_is_the_same():
    (pair,) = stream_equivalence([_cell("g/m/p/chat"), _cell("g/m/p/chat-stream", stream={"usage_chunks": 1})])
    assert pair["same"] and pair["differences"] == []
    assert pair["compared"].endswith("text, reasoning")


def test_differences_are_named():
    call = {"name": "add", "arguments": {"a": 2, "b": 3}}
    plain = _cell("g/m/p/tool", tool_calls=[call], finish_reason="tool_calls")
    streamed = _cell("g/m/p/tool-stream", tool_calls=[], finish_reason="stop", text="Olá", stream={"usage_chunks": 2})
    (pair,) = stream_equivalence([plain, streamed])
    assert not pair["same"]
    text = "; ".join(pair["differences"])
    assert "tool calls [('add', {'a': 2, 'b': 3})] vs streamed []" in text
    assert "finish_reason 'tool_calls' vs streamed 'stop'" in text
    assert "usage in 2 chunks" in text and "text differs after reassembly" in text


def test_real_recordings_are_separate_generations_whose_words_are_not_compared():
    (pair,) = stream_equivalence([_cell("g/m/p/chat", "public"), _cell("g/m/p/chat-stream", "public", text="Oi")])
    assert pair["same"] and "text" not in pair["compared"]
    florence = [{"name": "weather", "arguments": {"location": "Florence, Italy"}}]
    short = [{"name": "weather", "arguments": {"location": "Florence"}}]
    plain, streamed = (
        _cell("g/m/p/tool", "public", tool_calls=florence),
        _cell("g/m/p/tool-stream", "public", tool_calls=short),
    )
    (pair,) = stream_equivalence([plain, streamed])
    assert pair["same"], pair["differences"]  # the same tool, asked in other words by another generation


def test_unjudged_cells_and_missing_twins_make_no_pair():
    assert stream_equivalence([_cell("g/m/p/chat"), _cell("g/m/p/chat-stream", verdict="NOT_RECORDED")]) == []
    assert stream_equivalence([_cell("g/m/p/chat-stream")]) == []


def test_an_anthropic_stop_reason_matches_its_openai_twin():
    (pair,) = stream_equivalence([_cell("a/m/p/chat", finish_reason="end_turn"), _cell("a/m/p/chat-stream")])
    assert pair["same"], pair["differences"]
