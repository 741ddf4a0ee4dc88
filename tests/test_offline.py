"""An offline replay run as a user runs it (a subprocess of `zai-conformance run`, over two workers),
and two properties of it. The full matrix is replayed once per test run, by the suites themselves
(`suites/` is in testpaths); this replays what the two properties need and no more: every cell a
public recording backs (on every path), and one cell of each kind of answer the double serves,
through every path.

1. Replay opens no connection outside loopback — proved from outside the harness. A Python audit
   hook (PEP 578), installed in every process of the run (controller and workers), logs every
   `socket.connect` and `socket.getaddrinfo`. The harness's own guard refuses non-loopback attempts
   before they reach the socket layer, so the proof has two halves: the audit log shows only loopback
   traffic, and the guard's record of refused attempts (gathered from every worker) is empty. A
   control lookup made after the run, outside the guard, shows the audit hook really sees lookups.
2. Every imported public recording is evidence the paths actually consume: each one backs a replayed
   verdict for every client path (unless an expectation says the path refuses before sending).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.recording.netguard import is_loopback

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = ROOT / "cassettes" / "public"
# Served at run time through every path: an answer, a stream, tools, an error, a fault.
SERVED = ("*/glm-4.6/*/chat", "*/glm-4.6/*/tool-stream", "*/glm-4.6/*/error-server", "*/glm-4.6/*/stream-hang")


def selection() -> list[str]:
    """--cell options: every public recording's cells (any path), and the served sample."""
    public = sorted(f"{path.parent.parent.name}/{path.parent.name}/*/{path.stem}" for path in PUBLIC.glob("*/*/*.yaml"))
    return [argument for pattern in [*public, *SERVED] for argument in ("--cell", pattern)]


# Installed in every Python process of the run through PYTHONPATH — the run's controller and each of its
# worker processes (pytest-xdist starts them as fresh interpreters): a Python audit hook (PEP 578) that
# appends every socket.connect and socket.getaddrinfo to a file of its own process.
AUDIT = r"""
import json, os, sys
_log = os.path.join(os.environ["ZAI_TEST_AUDIT_DIR"], f"audit-{os.getpid()}.jsonl")
def _audit(event, args):
    if event == "socket.connect":
        record = ["connect", repr(args[1]), args[1][0] if isinstance(args[1], tuple) else None]
    elif event == "socket.getaddrinfo":
        record = ["getaddrinfo", repr(args[0]), args[0]]
    else:
        return
    with open(_log, "a") as handle:
        handle.write(json.dumps(record) + "\n")
sys.addaudithook(_audit)
"""
PROBE = r"""
import json, socket, sys
from conformance.cli import main
code = main(["run", "--reports", sys.argv[2], "--workers", "2", *json.loads(sys.argv[3])])
try:
    socket.getaddrinfo("control.invalid", 443)  # outside the run: must be seen by the hook
except OSError:
    pass
with open(sys.argv[1], "w") as handle:
    json.dump({"code": code}, handle)
"""


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("replay")
    out, reports, audit = tmp / "code.json", tmp / "reports", tmp / "audit"
    audit.mkdir()
    hook = tmp / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(AUDIT)
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(hook), str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "ZAI_TEST_AUDIT_DIR": str(audit),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), str(reports), json.dumps(selection())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=environment,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    processes = {path.name: [json.loads(line) for line in path.read_text().splitlines()] for path in audit.iterdir()}
    result = {"code": json.loads(out.read_text())["code"], "processes": processes}
    return result, json.loads((reports / "results.json").read_text())


def test_full_replay_touches_only_loopback(replay) -> None:
    audit, results = replay
    assert audit["code"] == 0
    assert results["summary"]["evidence"]["public"] > 100, "the replay must actually replay recorded cells"
    assert results["summary"]["evidence"]["double"] > 20, "and have the double serve cells, in-process"
    assert {cell["path"] for cell in results["cells"] if cell["verdict"] != "SKIPPED"} >= {
        "openai-sdk",
        "litellm-zai",
        "zai-sdk",
        "anthropic-sdk",
        "proxy-openai-sdk",
        "proxy-anthropic-sdk",
    }
    assert results["run"]["workers"] == 2 and results["run"]["network"] == {"guard": True, "refused": []}
    # the controller and both workers were audited, and each worker ran cells (its proxy's loopback traffic)
    assert len(audit["processes"]) >= 3, sorted(audit["processes"])
    events = [event for process in audit["processes"].values() for event in process]
    assert sum(1 for event in events if event[0] == "connect") > 0
    outside = [event for event in events if event[2] is not None and not is_loopback(event[2])]
    assert outside == [["getaddrinfo", "'control.invalid'", "control.invalid"]]


def test_every_public_recording_backs_a_verdict_on_every_path(replay) -> None:
    _, results = replay
    public = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "cassettes" / "public").rglob("*.yaml"))
    assert len(public) == 52
    by_cassette: dict[str, dict[str, dict[str, Any]]] = {}
    for cell in results["cells"]:
        evidence = cell.get("evidence") or {}
        if evidence.get("kind") == "public":
            by_cassette.setdefault(evidence["cassette"], {})[cell["path"]] = cell
    assert sorted(by_cassette) == public
    from conformance.catalogue import load_catalogue

    # every path that runs the recorded scenarios (the Router paths run only their own recipes)
    openai_paths = {p.id for p in load_catalogue().paths if "openai" in p.protocols and p.scenarios is None}
    for cassette, cells in by_cassette.items():
        assert set(cells) == openai_paths, cassette
        for path, cell in cells.items():
            refused_as_expected = cell["verdict"] in ("UNSUPPORTED", "FAIL") and cell["as_expected"] is True
            assert cell["evidence"]["used"] or refused_as_expected, (cassette, path, cell["reasons"])
            assert cell["as_expected"] is True, (cassette, path, cell["verdict"], cell["reasons"])
