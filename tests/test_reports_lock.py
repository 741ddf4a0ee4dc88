"""One run per reports folder: a second run on a folder another run holds is refused at once, with a
message naming the folder and the other run; a lock left behind by a killed run blocks nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.results import gather
from conformance.session import ConformanceSession, UsageError

ROOT = Path(__file__).resolve().parent.parent
CELL = "coding/glm-4.6/openai-sdk/chat"


def _session(reports: Path) -> ConformanceSession:
    return ConformanceSession.from_options(reports=str(reports), cells=[CELL], environ={})


def test_a_second_session_on_the_same_folder_is_refused_naming_the_first(tmp_path: Path) -> None:
    first, second = _session(tmp_path / "reports"), _session(tmp_path / "reports")
    first.claim_reports()
    with pytest.raises(UsageError) as refused:
        second.claim_reports()
    message = str(refused.value)
    assert str(tmp_path / "reports") in message
    assert f"pid {os.getpid()}" in message and first.run_id in message
    assert "--reports" in message and "\n" not in message
    first.finish()  # never started: nothing written, but the folder is free again
    second.claim_reports()
    second.finish()


def test_the_first_cell_takes_the_folder_and_finish_frees_it(tmp_path: Path) -> None:
    first, second = _session(tmp_path / "reports"), _session(tmp_path / "reports")
    (cell,) = first.selected_cells()
    first.run(cell)
    with pytest.raises(UsageError, match="in use by another zai-conformance run"):
        second.run(cell)
    assert not second.started
    first.finish()
    second.run(cell)
    second.finish()
    results = json.loads((tmp_path / "reports" / "results.json").read_text())
    assert results["run"]["id"] == second.run_id


def test_sessions_on_different_folders_do_not_conflict(tmp_path: Path) -> None:
    first, second = _session(tmp_path / "a"), _session(tmp_path / "b")
    first.claim_reports()
    second.claim_reports()
    first.finish()
    second.finish()


HOLDER = textwrap.dedent(
    """
    import sys
    from conformance.session import ConformanceSession

    session = ConformanceSession.from_options(reports=sys.argv[1], environ={})
    session.claim_reports()
    print(session.run_id, flush=True)
    sys.stdin.read()  # hold the folder until told to go (or killed)
    """
)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Another process holding tmp_path/reports, as a running `zai-conformance run` would."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "reports")],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    run_id = process.stdout.readline().strip()
    assert run_id, "the holder did not take the lock"
    yield process, run_id
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


def test_a_run_on_a_folder_another_process_holds_is_a_usage_error(tmp_path: Path, holder) -> None:
    process, run_id = holder
    reports = tmp_path / "reports"
    # a process of its own, as a user's run is (a pytest session nested in this one, inside a pytest-xdist
    # worker, does not reliably show its usage error to capsys)
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--cell", CELL, "--reports", str(reports)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2, done.stdout[-2000:]
    err = done.stderr
    assert f"{reports} is in use by another zai-conformance run" in err
    assert f"pid {process.pid}" in err and run_id in err
    assert not (reports / "results.json").exists() and not (reports / "runs").exists()


def test_report_refuses_to_write_into_a_folder_a_run_holds(tmp_path: Path, holder, capsys) -> None:
    process, _ = holder
    document = gather({"id": "r1", "mode": "replay", "started_at": "2026-01-01T00:00:00Z"}, [])
    (tmp_path / "results.json").write_text(json.dumps(document))
    assert main(["report", str(tmp_path / "results.json"), "--out", str(tmp_path / "reports")]) == 2
    assert f"pid {process.pid}" in capsys.readouterr().err
    assert not (tmp_path / "reports" / "index.html").exists()


def test_a_lock_left_by_a_killed_run_blocks_nothing(tmp_path: Path, holder) -> None:
    process, run_id = holder
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    lock = tmp_path / "reports" / ".lock"
    assert run_id in lock.read_text()  # the file stays, naming a dead run: only the kernel's lock counts
    session = _session(tmp_path / "reports")
    session.claim_reports()
    assert session.run_id in lock.read_text() and run_id not in lock.read_text()
    session.finish()
