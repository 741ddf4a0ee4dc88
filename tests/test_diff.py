"""`zai-conformance diff`: cells added, removed and changed between two runs, and an exit code that
says whether anything changed — the check every refactoring and every upgrade is measured with."""

from __future__ import annotations

import json

import pytest

from conformance.cli import main
from conformance.comparison import diff_documents
from conformance.results import gather


def _cell(cell: str, verdict: str = "PASS", reasons: list[str] | None = None, kind: str | None = "public") -> dict:
    endpoint, model, path, scenario = cell.split("/")
    return {
        "cell": cell,
        "endpoint": endpoint,
        "model": model,
        "path": path,
        "scenario": scenario,
        "verdict": verdict,
        "reasons": reasons or [],
        "evidence": {"kind": kind, "used": True} if kind else None,
    }


def _document(*cells: dict) -> dict:
    return gather({"id": "run"}, list(cells))


A, B, C = "coding/glm-4.6/openai-sdk/chat", "coding/glm-4.6/litellm-zai/chat", "general/glm-5.3/zai-sdk/chat"


def test_identical_runs_differ_in_nothing():
    diff = diff_documents(_document(_cell(A), _cell(B)), _document(_cell(B), _cell(A)))
    assert (diff.compared, diff.added, diff.removed, diff.changed, diff.any) == (2, (), (), (), False)


def test_added_removed_and_each_kind_of_change_are_named():
    old = _document(_cell(A), _cell(B, reasons=["x"]), _cell("coding/glm-4.6/zai-sdk/chat"))
    new = _document(
        _cell(A, "FAIL", ["the scenario expects reasoning; Z.AI sent none"]),
        _cell(B, reasons=["y"], kind="live"),
        _cell(C),
    )
    diff = diff_documents(old, new)
    assert diff.added == (C,) and diff.removed == ("coding/glm-4.6/zai-sdk/chat",)
    changes = {change.cell: {c.field: (c.old, c.new) for c in change.changes} for change in diff.changed}
    assert changes == {
        A: {"verdict": ("PASS", "FAIL"), "reasons": ([], ["the scenario expects reasoning; Z.AI sent none"])},
        B: {"reasons": (["x"], ["y"]), "evidence": ("public", "live")},
    }
    assert diff.any


def test_the_command_reads_results_files_and_run_folders_and_exits_by_change(tmp_path, capsys):
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(_document(_cell(A))))
    new.write_text(json.dumps(_document(_cell(A, "DEVIATION", ["usage on the finish chunk"]))))
    run = tmp_path / "runs" / "r1"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"id": "r1"}))
    (run / "cells.jsonl").write_text(json.dumps(_cell(A)) + "\n")

    assert main(["diff", str(old), str(run)]) == 0
    assert "1 cell(s) compared; 0 changed, 0 added, 0 removed" in capsys.readouterr().out

    assert main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert f"changed: {A}" in out and "verdict: PASS → DEVIATION" in out

    assert main(["diff", "--json", str(old), str(new)]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["changed"][0]["cell"] == A
    assert document["changed"][0]["changes"][0] == {"field": "verdict", "old": "PASS", "new": "DEVIATION"}


@pytest.mark.parametrize("content", [None, "not json", json.dumps({"schema": "other"})])
def test_an_unreadable_side_is_a_usage_error(tmp_path, capsys, content):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_document(_cell(A))))
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    assert main(["diff", str(good), str(bad)]) == 2
    assert "zai-conformance diff: cannot read the results" in capsys.readouterr().err


def test_unchanged_path_is_not_the_same_as_a_renamed_cell(tmp_path):
    renamed = dict(_cell(A), cell=A.replace("chat", "chat-renamed"))
    diff = diff_documents(_document(_cell(A)), _document(renamed))
    assert diff.added == (A.replace("chat", "chat-renamed"),) and diff.removed == (A,)
