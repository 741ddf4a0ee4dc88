"""`zai-conformance diff`: cells added, removed and changed between two runs, and an exit code that
says whether anything changed — the check every refactoring and every upgrade is measured with."""

from __future__ import annotations

import json

import pytest

from conformance.cli import main
from conformance.comparison import diff_documents, verdict_movement
from conformance.report.diff_page import diff_page, render_diff_page
from conformance.results import gather
from tests.support.pages import assert_script_free_and_pinned, read_page


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


# The diff as a page: each cell filed under its kind of change, nothing recorded becoming markup.

SECTIONS = {
    "newly failing": "coding/glm-4.6/openai-sdk/chat",  # PASS → FAIL
    "newly passing": "coding/glm-4.6/litellm-zai/chat",  # FAIL → PASS
    "verdict changed otherwise": "coding/glm-4.6/openai-sdk/tools",  # FAIL → HANG
    "evidence changed": "coding/glm-4.6/openai-sdk/stream",  # double → public, still PASS
    "reasons changed": "coding/glm-4.6/litellm-zai/tools",  # DEVIATION, another reason
    "added": "general/glm-5.3/zai-sdk/chat",
    "removed": "general/glm-5.3/zai-sdk/tools",
}


def _page_documents() -> tuple[dict, dict]:
    old = _document(
        _cell(SECTIONS["newly failing"], "PASS"),
        _cell(SECTIONS["newly passing"], "FAIL", ["no usage in the stream"]),
        _cell(SECTIONS["verdict changed otherwise"], "FAIL", ["tool call id missing"]),
        _cell(SECTIONS["evidence changed"], "PASS", kind="double"),
        _cell(SECTIONS["reasons changed"], "DEVIATION", ["usage on the finish chunk"]),
        _cell(SECTIONS["removed"], "DEVIATION", ["gone since"]),
    )
    new = _document(
        _cell(SECTIONS["newly failing"], "FAIL", ["the scenario expects reasoning; Z.AI sent none", "and more"]),
        _cell(SECTIONS["newly passing"], "PASS"),
        _cell(SECTIONS["verdict changed otherwise"], "HANG", ["no byte within 30 s"]),
        _cell(SECTIONS["evidence changed"], "PASS", kind="public"),
        _cell(SECTIONS["reasons changed"], "DEVIATION", ["usage on a chunk of its own"]),
        _cell(SECTIONS["added"], "UNSUPPORTED", ["documented as unsupported"]),
    )
    return old, new


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("PASS", "DEVIATION", "newly failing"),
        ("PASS", "FAIL", "newly failing"),
        ("DEVIATION", "HANG", "newly failing"),
        ("DEVIATION", "BLOCKED", "newly failing"),
        ("DEVIATION", "PASS", "newly passing"),
        ("SKIPPED", "PASS", "newly passing"),
        ("PASS", "NOT_RECORDED", "verdict changed otherwise"),  # the evidence went, not the path
        ("PASS", "SKIPPED", "verdict changed otherwise"),
        ("FAIL", "HANG", "verdict changed otherwise"),
        ("FAIL", "DEVIATION", "verdict changed otherwise"),
        ("NOT_RECORDED", "FAIL", "verdict changed otherwise"),
    ],
)
def test_a_verdicts_movement_names_its_section(old, new, kind):
    assert verdict_movement(old, new) == kind


def test_the_page_files_each_kind_of_change_in_its_section():
    old, new = _page_documents()
    text = render_diff_page(diff_page(diff_documents(old, new, "old.json", "new.json"), old, new))
    page = assert_script_free_and_pinned(text)
    for section, cell in SECTIONS.items():
        assert page.cells_in(section) == [cell], section
    assert "old.json → new.json: 5 cell(s) compared; 1 newly failing; 1 newly passing" in text

    failing = page.row_text(SECTIONS["newly failing"])
    assert "coding glm-4.6 openai-sdk chat PASS → FAIL" in failing
    assert "the scenario expects reasoning; Z.AI sent none (+1 more)" in failing
    assert "double → public" in page.row_text(SECTIONS["evidence changed"])
    reasons = page.row_text(SECTIONS["reasons changed"])
    assert "usage on the finish chunk" in reasons and "usage on a chunk of its own" in reasons
    assert "— → UNSUPPORTED" in page.row_text(SECTIONS["added"])
    assert "DEVIATION → — public gone since —" in page.row_text(SECTIONS["removed"])


def test_an_empty_diff_page_says_nothing_changed_and_keeps_every_section():
    old, _ = _page_documents()
    text = render_diff_page(diff_page(diff_documents(old, old), old, old))
    page = assert_script_free_and_pinned(text)
    assert "6 cell(s) compared; nothing changed" in text
    kinds = [attrs.get("data-kind") for tag, attrs in page.attributes if tag == "details"]
    assert kinds == [*SECTIONS]
    assert not page.rows


def test_hostile_names_and_reasons_stay_text_on_the_page():
    hostile = 'coding/<img src=x onerror=alert(1)>/openai-sdk/"><script>alert(2)'
    old = _document(_cell(hostile, "PASS"))
    reason = '</td><style>body{display:none}</style><b style="color:red" onclick="alert(3)">x</b>'
    new = _document(_cell(hostile, "FAIL", [reason]))
    text = render_diff_page(diff_page(diff_documents(old, new, "<i>old</i>", "new"), old, new))
    page = assert_script_free_and_pinned(text)  # one <style>, no script, no style attribute
    for markup in ("<img", "<script", "<b ", "<i>", 'onclick="alert'):
        assert markup not in text, markup
    assert page.cells_in("newly failing") == [hostile]
    assert reason in page.row_text(hostile)  # shown, as text
    assert "&lt;i&gt;old&lt;/i&gt;" in text


def test_diff_html_writes_the_page_and_keeps_the_text_and_the_exit_code(tmp_path, capsys):
    old_doc, new_doc = _page_documents()
    old, new, same = tmp_path / "old.json", tmp_path / "new.json", tmp_path / "same.json"
    old.write_text(json.dumps(old_doc))
    new.write_text(json.dumps(new_doc))
    same.write_text(json.dumps(old_doc))

    assert main(["diff", str(old), str(new)]) == 1
    text_only = capsys.readouterr().out
    page = tmp_path / "pages" / "diff.html"
    assert main(["diff", str(old), str(new), "--html", str(page)]) == 1
    captured = capsys.readouterr()
    assert captured.out == text_only and str(page) in captured.err
    assert read_page(page.read_text()).cells_in("newly failing") == [SECTIONS["newly failing"]]

    assert main(["diff", "--json", str(old), str(new), "--html", str(page)]) == 1
    assert json.loads(capsys.readouterr().out)["added"] == [SECTIONS["added"]]

    assert main(["diff", str(old), str(same), "--html", str(page)]) == 0
    assert "nothing changed" in page.read_text()


def test_diff_html_that_cannot_be_written_is_a_usage_error(tmp_path, capsys):
    old = tmp_path / "old.json"
    old.write_text(json.dumps(_document(_cell(A))))
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["diff", str(old), str(old), "--html", str(blocker / "diff.html")]) == 2
    assert "cannot write the page" in capsys.readouterr().err
