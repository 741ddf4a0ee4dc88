"""Replay opens no connection outside loopback — proved from outside the harness.

The full replay runs in a subprocess under a Python audit hook (PEP 578) that logs every
`socket.connect` and `socket.getaddrinfo`. The harness's own guard refuses non-loopback attempts
before they reach the socket layer, so the proof has two halves: the audit log shows only loopback
traffic, and the guard's record of refused attempts (results.json) is empty. A control lookup made
after the run, outside the guard, shows the audit hook really sees lookups.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conformance.recording.netguard import is_loopback

PROBE = r"""
import json, socket, sys
events = []
def audit(event, args):
    if event == "socket.connect":
        events.append(["connect", repr(args[1]), args[1][0] if isinstance(args[1], tuple) else None])
    elif event == "socket.getaddrinfo":
        events.append(["getaddrinfo", repr(args[0]), args[0]])
sys.addaudithook(audit)
from conformance.cli import main
code = main(["run", "--reports", sys.argv[2]])
try:
    socket.getaddrinfo("control.invalid", 443)  # outside the run: must be seen by the hook
except OSError:
    pass
with open(sys.argv[1], "w") as handle:
    json.dump({"code": code, "events": events}, handle)
"""


def test_full_replay_touches_only_loopback(tmp_path: Path) -> None:
    out, reports = tmp_path / "audit.json", tmp_path / "reports"
    root = Path(__file__).resolve().parent.parent
    subprocess.run(
        [sys.executable, "-c", PROBE, str(out), str(reports)],
        cwd=root,
        check=True,
        timeout=600,
        capture_output=True,
    )
    audit = json.loads(out.read_text())
    results = json.loads((reports / "results.json").read_text())

    assert audit["code"] == 0
    assert results["summary"]["evidence"]["public"] > 100, "the replay must actually replay recorded cells"
    assert results["run"]["network"] == {"guard": True, "refused": []}
    outside = [event for event in audit["events"] if event[2] is not None and not is_loopback(event[2])]
    assert outside == [["getaddrinfo", "'control.invalid'", "control.invalid"]]
