"""The command line: each subcommand's output and exit codes, and clear messages for bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conformance.catalogue import load_catalogue
from conformance.cli import main
from conformance.results import gather
from conformance.session import ConformanceSession, UsageError
from tests.conftest import packaged_catalogue_text


def test_cells_lists_applicability_and_evidence(capsys) -> None:
    assert main(["cells", "--cell", "coding/glm-4.6/openai-sdk/*"]) == 0
    lines = dict(line.split("\t") for line in capsys.readouterr().out.splitlines())
    assert lines["coding/glm-4.6/openai-sdk/chat"] == "public"
    # no real recording: the double serves synthetic evidence at run time
    assert lines["coding/glm-4.6/openai-sdk/thinking"] == "double (served at run time)"
    catalogue = load_catalogue()
    assert len(lines) == sum(1 for cell in catalogue.cells if cell.id.startswith("coding/glm-4.6/openai-sdk/"))
    assert len(lines) > len([s for s in catalogue.scenarios if s.models is None])  # the model's own scenarios too


def test_cells_says_why_a_cell_does_not_apply(tmp_path: Path, capsys) -> None:
    catalogue = packaged_catalogue_text()
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
    text = packaged_catalogue_text().replace("max_output: 98304", "max_output: -1", 1)
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


# --- bad input: one line saying what and where, exit 2 -------------------------------------------------

ONE_CELL = "coding/glm-4.6/openai-sdk/chat"  # keeps a run short, should a check be missing
SUITES = str(Path(__file__).resolve().parents[1] / "suites")
IDLE_REFUSED = "must be a positive, finite number of seconds"


def _pytest_door(*options: str) -> int:
    """`pytest suites …`, collecting only: a usage error stops it before anything runs."""
    return pytest.main([SUITES, "-p", "no:cacheprovider", "--co", "-q", *options])


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf"])
def test_an_idle_timeout_that_is_not_positive_and_finite_is_a_usage_error(tmp_path: Path, capsys, value) -> None:
    assert main(["run", "--idle-timeout", value, "--cell", ONE_CELL, "--reports", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"--idle-timeout {value}: {IDLE_REFUSED}" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf"])
def test_the_pytest_door_refuses_the_same_idle_timeouts(capsys, value) -> None:
    assert _pytest_door(f"--zai-idle-timeout={value}") == pytest.ExitCode.USAGE_ERROR
    assert f"--idle-timeout {value}: {IDLE_REFUSED}" in capsys.readouterr().err


def test_replay_from_a_cassette_folder_that_does_not_exist_is_a_usage_error(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "casettes"
    assert main(["run", "--cassettes", str(missing), "--cell", ONE_CELL, "--reports", str(tmp_path / "r")]) == 2
    assert f"--cassettes {missing}: the cassette folder does not exist" in capsys.readouterr().err
    assert main(["cells", "--cassettes", str(missing)]) == 2
    assert f"--cassettes {missing}: the cassette folder does not exist" in capsys.readouterr().err


def test_a_cassette_folder_from_the_environment_is_checked_too(tmp_path: Path, capsys, monkeypatch) -> None:
    """Given by ZAI_CONFORMANCE_CASSETTES and no --zai-* option, it is checked as the suite is collected,
    and still reads as one usage error, not a collection traceback."""
    missing = tmp_path / "casettes"
    monkeypatch.setenv("ZAI_CONFORMANCE_CASSETTES", str(missing))
    assert _pytest_door() == pytest.ExitCode.USAGE_ERROR
    captured = capsys.readouterr()
    assert f"ZAI_CONFORMANCE_CASSETTES {missing}: the cassette folder does not exist" in captured.err
    assert "ERROR collecting" not in captured.out


def test_live_mode_may_name_a_cassette_folder_it_will_make(tmp_path: Path) -> None:
    session = ConformanceSession.from_options(
        live=True, cassettes=str(tmp_path / "new"), reports=str(tmp_path / "r"), environ={}
    )
    assert session.settings.cassette_root == tmp_path / "new"


@pytest.mark.parametrize("below", [False, True], ids=["the-file", "a-folder-under-it"])
def test_reports_on_a_file_is_a_usage_error(tmp_path: Path, capsys, below: bool) -> None:
    file = tmp_path / "results.json"
    file.write_text("{}")
    reports = file / "reports" if below else file
    assert main(["run", "--reports", str(reports), "--cell", ONE_CELL]) == 2
    err = capsys.readouterr().err
    problem = f"{file} is a file, so no folder can be made there" if below else "that is a file, not a folder"
    assert f"--reports {reports}: {problem}" in err
    assert "Traceback" not in err


def test_reports_on_a_file_from_the_environment_is_a_usage_error(tmp_path: Path) -> None:
    file = tmp_path / "results.json"
    file.write_text("{}")
    with pytest.raises(UsageError, match=f"^ZAI_CONFORMANCE_REPORTS {file}: that is a file, not a folder"):
        ConformanceSession.from_options(environ={"ZAI_CONFORMANCE_REPORTS": str(file)})


def test_report_out_on_a_file_is_a_usage_error(tmp_path: Path, capsys) -> None:
    document = gather({"id": "r1", "mode": "replay", "started_at": "2026-01-01T00:00:00Z"}, [])
    (tmp_path / "results.json").write_text(json.dumps(document))
    out = tmp_path / "index.html"
    out.write_text("not a folder")
    assert main(["report", str(tmp_path / "results.json"), "--out", str(out)]) == 2
    assert f"zai-conformance report: --out {out}: that is a file, not a folder" in capsys.readouterr().err


def test_workers_default_to_one_per_core_in_replay_and_one_live(monkeypatch) -> None:
    from conformance.cli import workers_for

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert workers_for(None, live=False) == 3 and workers_for("auto", live=False) == 3
    assert workers_for(None, live=True) == 1  # Z.AI limits concurrent requests per key
    assert workers_for("2", live=True) == 2  # asked for: given


@pytest.mark.parametrize("given", ["0", "-1", "two", "1.5"])
def test_workers_that_cannot_be_are_refused(given) -> None:
    from conformance.cli import workers_for

    with pytest.raises(SystemExit, match="--workers"):
        workers_for(given, live=False)


def test_without_pytest_xdist_a_run_keeps_to_one_process(monkeypatch) -> None:
    import importlib.util

    from conformance.cli import workers_for

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "xdist" else real(name, *a))
    assert workers_for(None, live=False) == 1
    with pytest.raises(SystemExit, match="pytest-xdist"):
        workers_for("2", live=False)
