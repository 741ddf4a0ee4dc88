"""The wire history: per model and recording date, which envelope fields and stream patterns Z.AI
used. The dates asserted here were read from the corpus and checked against the raw recordings (the
archive members themselves, and Z.AI's own `created` stamps in them)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conformance.cli import main as cli_main
from conformance.corpora.archive import archive_members
from conformance.fidelity import DEFAULT_CORPUS
from conformance.fidelity.corpus import load_corpus
from conformance.fidelity.features import created_day, response_features, stream_features
from conformance.fidelity.history import Sighting, WireHistory, history_of, sightings, wire_history

CRUSH = DEFAULT_CORPUS / "crush" / "crush.tar.xz"
OBJECT = "stream: object on chunks"
USAGE = "stream: usage keys"
OPENING = "stream: opening chunk"
FINISH = "stream: finish_reason on"
BASE_USAGE = (
    "completion_tokens, prompt_tokens, prompt_tokens_details, prompt_tokens_details.cached_tokens, total_tokens"
)
DETAILED_USAGE = (
    "completion_tokens, completion_tokens_details, completion_tokens_details.reasoning_tokens, prompt_tokens, "
    "prompt_tokens_details, prompt_tokens_details.cached_tokens, total_tokens"
)


@pytest.fixture(scope="module")
def history() -> WireHistory:
    return wire_history(DEFAULT_CORPUS)


def spans(history: WireHistory, model: str, feature: str) -> dict[str, tuple[str, str]]:
    return {s.value: (s.first, s.last) for s in history.spans(model, feature)}


def raw_member(commit: str, test: str) -> str:
    path = f"{commit}/internal/agent/testdata/TestCoderAgent/zai-glm4.6/{test}"
    return next(m.text() for m in archive_members(CRUSH) if m.relative.as_posix() == path)


# --- on the real corpus ----------------------------------------------------------------------------


def test_object_appears_on_crush_chunks_in_january_2026(history: WireHistory) -> None:
    for model in ("glm-4.6", "glm-4.5-air"):
        assert spans(history, model, OBJECT) == {
            "none": ("2025-10-02", "2026-01-15"),
            "every chunk": ("2026-01-19", "2026-04-15"),
        }, model
    # the raw bytes: the cassette committed 2026-01-15 has no `object`, the one committed 2026-01-19 has
    before, after = raw_member("faca2df1c", "simple_test.yaml"), raw_member("9ec06ad38", "simple_test.yaml")
    assert '"object":"chat.completion.chunk"' not in before and '"object":"chat.completion.chunk"' in after


def test_completion_tokens_details_appears_for_glm_4_6_only(history: WireHistory) -> None:
    assert spans(history, "glm-4.6", USAGE) == {
        BASE_USAGE: ("2025-10-02", "2026-01-15"),
        DETAILED_USAGE: ("2026-01-19", "2026-04-15"),
    }
    assert spans(history, "glm-4.5-air", USAGE) == {BASE_USAGE: ("2025-10-02", "2026-04-15")}
    assert spans(history, "glm-4.7-flash", USAGE) == {DETAILED_USAGE: ("2026-03-12", "2026-03-12")}
    before, after = raw_member("faca2df1c", "simple_test.yaml"), raw_member("9ec06ad38", "simple_test.yaml")
    assert "completion_tokens_details" not in before
    assert '"completion_tokens_details":{"reasoning_tokens":' in after


def test_a_commit_date_bounds_the_recording_and_z_ai_stamps_say_when(history: WireHistory) -> None:
    """The cassettes committed 2026-01-15 were recorded 2025-12-11 (Z.AI's `created`): the change
    falls between 2025-12-11 and 2026-01-19."""
    glm46 = history.models["glm-4.6"]
    assert glm46.created["2026-01-15"] == {"2025-12-11"}
    assert glm46.created["2026-01-19"] == {"2026-01-19"}
    for commit, day in (("faca2df1c", "2025-12-11"), ("9ec06ad38", "2026-01-19")):
        stamp = re.search(r'"created":(\d+)', raw_member(commit, "simple_test.yaml"))
        assert stamp and created_day(f'{{"created":{stamp.group(1)}}}', "json") == day


def test_the_opening_chunk_of_glm_4_6_changed_three_times(history: WireHistory) -> None:
    assert spans(history, "glm-4.6", OPENING) == {
        "role + content:blank": ("2025-10-02", "2025-10-23"),
        'role + content:"" + reasoning_content:blank': ("2025-10-02", "2025-11-13"),
        "role + reasoning_content:blank": ("2025-10-27", "2026-02-06"),
        "role + reasoning_content:text": ("2025-10-23", "2026-04-15"),
    }
    # since 2026-03-12 every glm-4.6 stream opens on reasoning text, no blank separator
    days = history.models["glm-4.6"].days
    assert dict(days["2026-03-12"][OPENING]) == {"role + reasoning_content:text": 57}
    assert dict(days["2025-12-04"][OPENING]) == {"role + reasoning_content:blank": 119}


def test_finish_reason_on_the_tool_call_chunk_is_glm_4_5_of_september_2025(history: WireHistory) -> None:
    assert spans(history, "glm-4.5", FINISH) == {
        "tool_call + last (finish)": ("2025-09-26", "2025-09-26"),
        "last (finish)": ("2025-09-26", "2025-11-11"),
    }
    for model in ("glm-4.6", "glm-4.5-air", "glm-4.6v", "glm-4.7-flash"):
        assert set(spans(history, model, FINISH)) == {"last (finish)"}, model


def test_tool_call_ids_differ_between_streamed_and_unstreamed_answers(history: WireHistory) -> None:
    assert set(spans(history, "glm-4.6", "stream: tool-call id format")) == {"call_<24 hex>", "(no tool calls)"}
    assert set(spans(history, "glm-4.6", "json: tool-call id format")) == {"call_-<int>", "(no tool calls)"}


def test_only_z_ai_traffic_is_in_the_history(history: WireHistory) -> None:
    found, left_out = sightings(DEFAULT_CORPUS)
    assert left_out == history.left_out == 90
    assert not {item.name for item in load_corpus(DEFAULT_CORPUS).left_out} & {s.name for s in found}
    assert set(history.models) == {"glm-4.5", "glm-4.5-air", "glm-4.6", "glm-4.6v", "glm-4.6v-flash", "glm-4.7-flash"}
    assert sum(sum(h.responses.values()) for h in history.models.values()) == len(found)


def test_the_rendering_orders_dates_and_names_the_changes(history: WireHistory) -> None:
    text = history.render()
    glm46 = text.split("\nglm-4.6 (", 1)[1].split("\nglm-4.6v", 1)[0]
    assert glm46.startswith("802 responses, 2025-10-02 … 2026-04-15, 2 undated)")
    assert glm46.index("2026-01-15") < glm46.index("2026-01-19") < glm46.index("\n  unknown")
    after = glm46.split("  2026-01-19", 1)[1].split("  2026-02-06", 1)[0]
    assert "stream: object on chunks: every chunk (27)" in after
    assert "stream: object on chunks = every chunk: 2026-01-19 … 2026-04-15 (231 response(s))" in glm46


# --- pure parts ----------------------------------------------------------------------------------


def _chunk(delta: dict, **extra: object) -> dict:
    return {"id": "1", "created": 1768830394, "choices": [{"index": 0, "delta": delta}], **extra}


def test_stream_features_read_the_wire_not_the_text() -> None:
    chunks = [
        _chunk({"role": "assistant", "content": "", "reasoning_content": "\n"}),
        _chunk({"role": "assistant", "reasoning_content": "think"}),
        _chunk({"role": "assistant", "content": "\n\n"}),
        _chunk({"tool_calls": [{"id": "call_0123456789abcdef01234567", "index": 0, "function": {"name": "f"}}]}),
        {
            **_chunk({"role": "assistant", "content": ""}),
            "choices": [{"index": 0, "finish_reason": "tool_calls", "delta": {"role": "assistant", "content": ""}}],
            "usage": {"prompt_tokens": 1, "completion_tokens_details": {"reasoning_tokens": 1}},
        },
    ]
    features = stream_features(chunks)
    assert features[OBJECT] == "none"
    assert features[OPENING] == 'role + content:"" + reasoning_content:blank'
    assert features["stream: channels"] == "reasoning → content → tool_call"
    assert features["stream: blank chunks opening a channel"] == "reasoning (blank), content (blank)"
    assert features['stream: content "" beside blank reasoning'] == "yes"
    assert features[FINISH] == "last (finish)"
    assert features[USAGE] == "completion_tokens_details, completion_tokens_details.reasoning_tokens, prompt_tokens"
    assert features["stream: tool-call id format"] == "call_<24 hex>"
    with_object = stream_features([{**c, "object": "chat.completion.chunk"} for c in chunks])
    assert with_object[OBJECT] == "every chunk"
    assert stream_features([chunks[0], {**chunks[1], "object": "x"}])[OBJECT] == "some"


def test_features_of_what_is_not_an_openai_chat_answer_are_empty() -> None:
    assert response_features('{"error":{"code":"1211","message":"x"}}', "json") == {}
    assert response_features('{"type":"message","content":[]}', "json") == {}
    assert response_features("<html></html>", "text") == {}


def test_the_history_groups_by_model_and_date_and_keeps_unknown_dates_out_of_spans(tmp_path: Path) -> None:
    found = [
        Sighting("glm-x", "2026-01-02", "a", {OBJECT: "every chunk"}),
        Sighting("glm-x", "2025-12-01", "b", {OBJECT: "none"}),
        Sighting("glm-x", "unknown", "c", {OBJECT: "none"}),
        Sighting("glm-x", "2026-02-01", "d", {OBJECT: "every chunk"}),
    ]
    history = history_of(found, tmp_path)
    assert spans(history, "glm-x", OBJECT) == {
        "none": ("2025-12-01", "2025-12-01"),
        "every chunk": ("2026-01-02", "2026-02-01"),
    }
    text = history.render()
    assert text.index("2025-12-01") < text.index("2026-01-02") < text.index("\n  unknown")
    assert "  2026-02-01  1 response(s)  (no change)" in text
    dates = history.to_dict()["models"]["glm-x"]["dates"]
    assert [d["date"] for d in dates] == ["2025-12-01", "2026-01-02", "2026-02-01", "unknown"]


# --- the command ---------------------------------------------------------------------------------


def test_the_command_prints_the_history_as_text_or_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "x.sse").write_text(
        "".join(
            f"data: {json.dumps(c)}\n\n"
            for c in [
                _chunk(
                    {"role": "assistant", "reasoning_content": "hm"}, model="glm-4.7", object="chat.completion.chunk"
                ),
                {
                    **_chunk({"role": "assistant", "content": ""}, object="chat.completion.chunk"),
                    "choices": [{"index": 0, "finish_reason": "stop", "delta": {"role": "assistant", "content": ""}}],
                    "usage": {"prompt_tokens": 1},
                },
            ]
        )
        + "data: [DONE]\n\n"
    )
    assert cli_main(["wire-history", str(corpus), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    [day] = document["models"]["glm-4.7"]["dates"]
    assert day["date"] == "unknown" and day["features"][OBJECT] == {"every chunk": 1}
    assert cli_main(["wire-history", str(corpus)]) == 0
    assert "glm-4.7 (1 responses, no dated recording, 1 undated)" in capsys.readouterr().out
    assert cli_main(["wire-history", str(tmp_path / "missing")]) == 2
