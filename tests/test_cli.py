"""The command line: each subcommand's output and exit codes, and clear messages for bad input."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.catalogue import load_catalogue
from conformance.cli import main
from conformance.results import gather


def test_cells_lists_applicability_and_evidence(capsys) -> None:
    assert main(["cells", "--cell", "coding/glm-4.6/openai-sdk/*"]) == 0
    lines = dict(line.split("\t") for line in capsys.readouterr().out.splitlines())
    assert lines["coding/glm-4.6/openai-sdk/chat"] == "public"
    assert lines["coding/glm-4.6/openai-sdk/thinking"] == "double"  # no real recording: synthetic evidence
    catalogue = load_catalogue()
    assert len(lines) == sum(1 for cell in catalogue.cells if cell.id.startswith("coding/glm-4.6/openai-sdk/"))
    assert len(lines) > len([s for s in catalogue.scenarios if s.models is None])  # the model's own scenarios too


def test_cells_says_why_a_cell_does_not_apply(tmp_path: Path, capsys) -> None:
    catalogue = Path("conformance/data/catalogue.yaml").read_text()
    entry = "  - id: glm-4.5-flash\n    envelope: 2025\n    thinking: "
    assert entry + "hybrid" in catalogue
    broken = catalogue.replace(entry + "hybrid", entry + "none")
    (tmp_path / "c.yaml").write_text(broken)
    assert main(["cells", "--catalogue", str(tmp_path / "c.yaml"), "--cell", "general/glm-4.5-flash/*/thinking"]) == 0
    out = capsys.readouterr().out
    assert "not applicable: glm-4.5-flash does not support thinking (catalogue); scenario needs it" in out


def test_run_with_a_pattern_that_matches_nothing_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["run", "--cell", "nowhere/*", "--reports", str(tmp_path)]) == 2
    assert "no cell matches ['nowhere/*']" in capsys.readouterr().err


def test_a_bad_base_url_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["run", "--base-url", "codin=http://x", "--reports", str(tmp_path)]) == 2
    assert "unknown endpoint 'codin'" in capsys.readouterr().err


def test_a_broken_catalogue_is_a_usage_error_naming_the_entry(tmp_path: Path, capsys) -> None:
    text = Path("conformance/data/catalogue.yaml").read_text().replace("max_output: 98304", "max_output: -1", 1)
    (tmp_path / "c.yaml").write_text(text)
    assert main(["cells", "--catalogue", str(tmp_path / "c.yaml")]) == 2
    assert "model 'glm-4.5': field 'max_output'" in capsys.readouterr().err


def test_report_renders_saved_results(tmp_path: Path, capsys) -> None:
    document = gather({"id": "r1", "mode": "replay", "started_at": "2026-01-01T00:00:00Z"}, [])
    (tmp_path / "results.json").write_text(json.dumps(document))
    assert main(["report", str(tmp_path / "results.json"), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "index.html").read_text().startswith("<!doctype html>")
    assert (tmp_path / "out" / "junit.xml").is_file()
    assert f"report: {tmp_path / 'out' / 'index.html'}" in capsys.readouterr().out


def test_report_from_a_missing_file_says_so(tmp_path: Path, capsys) -> None:
    assert main(["report", str(tmp_path / "nope.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_run_options_reach_pytest_under_their_plugin_names() -> None:
    from conformance.cli import build_parser
    from conformance.options import pytest_argv

    args = build_parser().parse_args(
        ["run", "--live", "--cell", "a/*", "--cell", "b/*", "--base-url", "coding=http://h/x", "--idle-timeout", "3"]
    )
    assert pytest_argv(args) == [
        "--zai-live",
        "--zai-cell",
        "a/*",
        "--zai-cell",
        "b/*",
        "--zai-base-url",
        "coding=http://h/x",
        "--zai-idle-timeout",
        "3.0",
    ]
