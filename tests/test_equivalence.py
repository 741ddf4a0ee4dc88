"""Streamed vs non-streamed equivalence, computed from results: which cells are paired (the catalogue's
declared twins, not their names), what is compared, and what is not."""

from __future__ import annotations

from typing import Any

from conformance.catalogue import Catalogue
from conformance.equivalence import equivalence_summary, stream_equivalence
from conformance.results import gather
from tests.support.cells import cell_record

TWINS = {"chat-stream": "chat", "tool-stream": "tool"}


def _cell(cell_id: str, kind: str = "double", verdict: str = "PASS", **turn: Any) -> dict[str, Any]:
    base = {"text": "Olá!", "reasoning": "hmm", "finish_reason": "stop", "usage": {"total_tokens": 3}, "tool_calls": []}
    observation = {"turns": [{**base, **turn}], "exchanges": []}
    return cell_record(cell_id, verdict, evidence={"kind": kind}, observation=observation)


def test_the_same_answer_both_ways_is_the_same():
    cells = [_cell("g/m/p/chat"), _cell("g/m/p/chat-stream", stream={"usage_chunks": 1})]
    (pair,) = stream_equivalence(cells, TWINS)
    assert (pair["cell"], pair["stream_cell"]) == ("g/m/p/chat", "g/m/p/chat-stream")
    assert pair["same"] and pair["differences"] == []
    assert pair["compared"].endswith("text, reasoning")


def test_differences_are_named():
    call = {"name": "add", "arguments": {"a": 2, "b": 3}}
    plain = _cell("g/m/p/tool", tool_calls=[call], finish_reason="tool_calls")
    streamed = _cell("g/m/p/tool-stream", tool_calls=[], finish_reason="stop", text="Olá", stream={"usage_chunks": 2})
    (pair,) = stream_equivalence([plain, streamed], TWINS)
    assert not pair["same"]
    text = "; ".join(pair["differences"])
    assert "tool calls [('add', {'a': 2, 'b': 3})] vs streamed []" in text
    assert "finish_reason 'tool_calls' vs streamed 'stop'" in text
    assert "usage in 2 chunks" in text and "text differs after reassembly" in text


def test_real_recordings_are_separate_generations_whose_words_are_not_compared():
    cells = [_cell("g/m/p/chat", "public"), _cell("g/m/p/chat-stream", "public", text="Oi")]
    (pair,) = stream_equivalence(cells, TWINS)
    assert pair["same"] and "text" not in pair["compared"]
    florence = [{"name": "weather", "arguments": {"location": "Florence, Italy"}}]
    short = [{"name": "weather", "arguments": {"location": "Florence"}}]
    plain, streamed = (
        _cell("g/m/p/tool", "public", tool_calls=florence),
        _cell("g/m/p/tool-stream", "public", tool_calls=short),
    )
    (pair,) = stream_equivalence([plain, streamed], TWINS)
    assert pair["same"], pair["differences"]  # the same tool, asked in other words by another generation


def test_unjudged_cells_and_missing_twins_make_no_pair():
    assert stream_equivalence([_cell("g/m/p/chat"), _cell("g/m/p/chat-stream", verdict="NOT_RECORDED")], TWINS) == []
    assert stream_equivalence([_cell("g/m/p/chat-stream")], TWINS) == []
    # the twin on another path, model or endpoint is not this cell's twin
    others = [_cell("g/m/q/chat"), _cell("g/n/p/chat"), _cell("h/m/p/chat"), _cell("g/m/p/chat-stream")]
    assert stream_equivalence(others, TWINS) == []


def test_pairs_are_the_declared_twins_not_names_that_look_alike():
    cells = [_cell("g/m/p/chat"), _cell("g/m/p/chat-stream"), _cell("g/m/p/vision"), _cell("g/m/p/vision-stream")]
    assert [pair["stream_cell"] for pair in stream_equivalence(cells, TWINS)] == ["g/m/p/chat-stream"]
    renamed = [_cell("g/m/p/parallel"), _cell("g/m/p/parallel-streamed")]
    (pair,) = stream_equivalence(renamed, {"parallel-streamed": "parallel"})
    assert (pair["cell"], pair["stream_cell"]) == ("g/m/p/parallel", "g/m/p/parallel-streamed")


def test_an_anthropic_stop_reason_matches_its_openai_twin():
    (pair,) = stream_equivalence([_cell("a/m/p/chat", finish_reason="end_turn"), _cell("a/m/p/chat-stream")], TWINS)
    assert pair["same"], pair["differences"]


def test_the_summary_counts_pairs_and_lists_only_the_differing_ones():
    differing = _cell("g/m/p/tool-stream", finish_reason="length")
    cells = [_cell("g/m/p/chat"), _cell("g/m/p/chat-stream"), _cell("g/m/p/tool"), differing]
    summary = equivalence_summary(cells, TWINS)
    assert (summary["pairs"], summary["same"]) == (2, 1)
    assert [pair["stream_cell"] for pair in summary["differing"]] == ["g/m/p/tool-stream"]


def test_gather_places_the_section_it_is_given_and_computes_none():
    cells = [_cell("g/m/p/chat"), _cell("g/m/p/chat-stream", finish_reason="length")]
    assert "equivalence" not in gather({"id": "r"}, cells)
    summary = equivalence_summary(cells, TWINS)
    document = gather({"id": "r"}, cells, summary)
    assert document["equivalence"] == summary
    assert list(document) == ["schema", "run", "summary", "equivalence", "cells", "bodies"]


def test_the_packaged_catalogue_pairs_every_streamed_scenario_with_its_unstreamed_one(catalogue: Catalogue):
    assert catalogue.stream_twins == {
        "chat-stream": "chat",
        "tool-stream": "tool",
        "parallel-tools-stream": "parallel-tools",
        "thinking-stream": "thinking",
        "object-person-stream": "object-person",
        "object-book-stream": "object-book",
        "thinking-enabled-stream": "thinking-enabled",
        "vision-stream": "vision",
        "finish-sensitive-stream": "finish-sensitive",
        "finish-network-error-stream": "finish-network-error",
        "finish-context-exceeded-stream": "finish-context-exceeded",
    }
