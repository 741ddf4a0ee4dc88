"""The suite's red/green meaning: a cassette that changes under a cell turns that cell red, with a
reason that says what changed, even where the expectations file expects a known deviation.

The change made here is the one users fear most from an upgrade: the reasoning disappears.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conformance.recording import cassette
from conformance.session import ConformanceSession, outcome_message
from conformance.verdict import Verdict

ROOT = Path(__file__).resolve().parent.parent
RECORDED = ROOT / "cassettes" / "public" / "coding" / "glm-4.5" / "thinking.yaml"
RECORDED_STREAM = ROOT / "cassettes" / "public" / "coding" / "glm-4.5" / "thinking-stream.yaml"


def _session(tmp_path: Path, pattern: str) -> ConformanceSession:
    return ConformanceSession.from_options(
        cassettes=str(tmp_path / "cassettes"),
        reports=str(tmp_path / "reports"),
        cells=[pattern],
        environ={},
    )


def _copy(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / "cassettes" / "public" / "coding" / "glm-4.5" / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)
    return target


def _without_reasoning_json(body: str) -> str:
    document = json.loads(body)
    for choice in document.get("choices", []):
        choice.get("message", {}).pop("reasoning_content", None)
    return json.dumps(document, ensure_ascii=False)


def _without_reasoning_sse(body: str) -> str:
    lines = []
    for line in body.split("\n"):
        if line.startswith("data: {"):
            chunk = json.loads(line[len("data: ") :])
            for choice in chunk.get("choices", []):
                choice.get("delta", {}).pop("reasoning_content", None)
            line = "data: " + json.dumps(chunk, ensure_ascii=False)
        lines.append(line)
    return "\n".join(lines)


def _strip_reasoning(path: Path, rewrite) -> None:
    document = cassette.read(path)
    for interaction in document["interactions"]:
        body = interaction["response"]["body"]
        assert isinstance(body, str) and "reasoning_content" in body  # the recording really had reasoning
        interaction["response"]["body"] = rewrite(body)
    cassette.write(path, document["provenance"], document["interactions"])


@pytest.mark.parametrize(
    ("recorded", "rewrite", "scenario"),
    [(RECORDED, _without_reasoning_json, "thinking"), (RECORDED_STREAM, _without_reasoning_sse, "thinking-stream")],
)
def test_reasoning_removed_from_a_cassette_turns_its_cells_red(tmp_path, recorded, rewrite, scenario):
    target = _copy(recorded, tmp_path)
    pattern = f"coding/glm-4.5/openai-sdk/{scenario}"
    before = _session(tmp_path, pattern)
    (cell,) = before.selected_cells()
    untouched = before.run(cell)
    assert untouched.as_expected, untouched.reasons  # green with the shipped evidence and expectations
    before.finish()  # gives the reports folder back: one run at a time per folder

    _strip_reasoning(target, rewrite)
    after = _session(tmp_path, pattern)
    result = after.run(cell)

    assert result.verdict is Verdict.FAIL
    assert result.as_expected is False
    assert any("expects reasoning; Z.AI sent none" in reason for reason in result.reasons), result.reasons
    kind, message = outcome_message(result)
    assert kind == "fail"
    assert message.startswith("unexpected FAIL; expected ")
    assert "reasoning" in message


def test_a_changed_cassette_is_marked_unexpected_in_the_saved_results(tmp_path):
    target = _copy(RECORDED, tmp_path)
    _strip_reasoning(target, _without_reasoning_json)
    session = _session(tmp_path, "coding/glm-4.5/openai-sdk/thinking")
    (cell,) = session.selected_cells()
    result = session.run(cell)
    document = result.to_dict()
    assert document["as_expected"] is False
    assert document["expected"]["verdict"] != document["verdict"] == "FAIL"
