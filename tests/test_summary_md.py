"""`--summary-md`: the Markdown a CI user reads in their job summary, the previous run it compares with,
and the GitHub annotations of unexpected cells."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance.catalogue import load_catalogue
from conformance.cli import main
from conformance.expectations import Expected
from conformance.features import OTHER, family_of
from conformance.report.summary_md import annotations, render_summary_md
from conformance.results import gather, previous_run, write_json
from conformance.verdict import Verdict
from tests.support.cells import cell_result

RUN: dict[str, Any] = {"id": "20261130T120000Z-replay-2", "mode": "replay", "started_at": "2026-11-30T12:00:00Z"}


def _document(run_id: str, verdicts: dict[str, Verdict], expected: dict[str, Verdict] | None = None) -> dict[str, Any]:
    cells = []
    for cell_id, verdict in verdicts.items():
        wanted = (expected or {}).get(cell_id, Verdict.PASS)
        result = cell_result(cell_id, verdict, [f"why {cell_id}"], expected=Expected(wanted, reason="", link=None))
        cells.append(result.to_dict())
    return gather({**RUN, "id": run_id}, cells)


NOW = {
    "coding/glm-4.6/openai-sdk/chat": Verdict.PASS,
    "coding/glm-4.6/openai-sdk/tool-stream": Verdict.FAIL,
    "coding/glm-4.6/litellm-zai/chat-stream": Verdict.PASS,
}


def test_every_packaged_scenario_has_a_feature_family() -> None:
    assert [s.id for s in load_catalogue().scenarios if family_of(s.id) is OTHER] == []
    assert family_of("chat-stream").id == "streaming" and family_of("tool-stream").id == "tools"


def test_the_summary_gives_counts_unexpected_cells_changes_and_paths_against_features() -> None:
    before = _document("20261130T100000Z-replay-1", {**NOW, "coding/glm-4.6/openai-sdk/tool-stream": Verdict.PASS})
    text = render_summary_md(_document(RUN["id"], NOW), before, "20261130T100000Z-replay-1")
    assert "**3 cells**: PASS 2 · FAIL 1" in text
    assert "### Unexpected verdicts: 1" in text
    assert (
        "| `coding/glm-4.6/openai-sdk/tool-stream` | FAIL | PASS | why coding/glm-4.6/openai-sdk/tool-stream |" in text
    )
    assert "### Changes since the previous run (20261130T100000Z-replay-1)" in text
    assert "**Newly failing** (1):\n\n- `coding/glm-4.6/openai-sdk/tool-stream`: PASS → FAIL" in text
    assert "| path | streaming | chat | tools |" in text
    assert "| `openai-sdk` | — | 1/1 | 0/1 |" in text and "| `litellm-zai` | 1/1 | — | — |" in text


def test_without_a_previous_run_the_summary_says_so() -> None:
    text = render_summary_md(_document(RUN["id"], {"coding/glm-4.6/openai-sdk/chat": Verdict.PASS}))
    assert "No previous run to compare with." in text and "Every judged cell matches its expectation." in text


def test_unexpected_cells_become_annotations_with_escaped_text() -> None:
    document = _document(RUN["id"], NOW)
    document["cells"][1]["reasons"] = ["50% lost:\nline two"]
    title = "zai-conformance coding/glm-4.6/openai-sdk/tool-stream"
    assert annotations(document) == [f"::error title={title}::FAIL, expected PASS: 50%25 lost:%0Aline two"]


def test_the_previous_run_is_the_newest_older_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = tmp_path / "runs"
    for run_id in ("20261130T090000Z-replay-1", "20261130T100000Z-replay-2", "20261130T130000Z-replay-4"):
        folder = runs / run_id
        folder.mkdir(parents=True)
        (folder / "run.json").write_text(json.dumps({**RUN, "id": run_id}))
        (folder / "cells.jsonl").write_text("")
    (runs / "20261130T110000Z-replay-3").mkdir()  # unreadable: passed over, said
    document, name = previous_run(runs, "20261130T120000Z-replay-5")
    assert name == "20261130T100000Z-replay-2" and document is not None
    assert "20261130T110000Z-replay-3 cannot be read" in capsys.readouterr().err
    assert previous_run(runs, "20261130T080000Z-replay-0") == (None, None)


def test_report_writes_the_summary_where_asked(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    write_json(results, _document(RUN["id"], NOW))
    out, summary = tmp_path / "out", tmp_path / "step-summary.md"
    assert main(["report", str(results), "--out", str(out), "--summary-md", str(summary)]) == 0
    assert summary.read_text().startswith(f"## zai-conformance: replay {RUN['id']}")
