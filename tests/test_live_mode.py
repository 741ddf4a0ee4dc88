"""Live mode, end to end, as a user with a key runs it — against the double on loopback.

`zai-conformance run --live` in a subprocess, the key taken from the environment, every endpoint
aimed at the double: each selected cell is recorded, scrubbed and judged; results, report and
cassettes are written; the verdicts match the expectations cell by cell; replaying the new cassettes
gives the same verdicts. The same run without the key skips every cell and writes no cassette.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.agents.specs import agents as agent_specs
from conformance.agents.specs import unavailable
from conformance.catalogue import load_catalogue
from conformance.expectations import Expectations
from conformance.paths.base import load_adapter

ROOT = Path(__file__).resolve().parent.parent
FAKE_KEY = "zaiconf-live-e2e-FAKE-key-5e1f"
# Every scenario on one endpoint; on the coding endpoint (its own base URL and routing) an answer, a stream,
# parallel tools and reasoning are enough — the scenarios themselves do not change with the endpoint.
PACED = "a silence Z.AI's generation makes"  # how a paced cell live against the double is skipped
# cells that never run, whatever the mode: not applicable, or a program this machine lacks (an agent's CLI)
NOT_RUN = ("not applicable: ", "not run on this machine: ")
SELECTION = [
    # every path on glm-5.3 but the agents, and one agent cell: their refusal cells wait out the agents' retries
    "general/glm-5.3/[!a]*",
    "general/glm-5.3/agent-*/agent-task",
    *(f"coding/glm-4.7-flash/*/{name}" for name in ("chat", "tool-stream", "parallel-tools", "thinking-stream")),
]


def _run(tmp: Path, double: Any, *, key: str | None, live: bool = True) -> tuple[int, dict[str, Any], str]:
    env = {k: v for k, v in os.environ.items() if k != "ZAI_API_KEY" and not k.startswith("ZAI_BASE_URL_")}
    if key is not None:
        env["ZAI_API_KEY"] = key
    argv = [sys.executable, "-m", "conformance", "run", "--cassettes", str(tmp / "cassettes")]
    # two workers live too: the double has no per-key concurrency limit, and a live run over workers
    # records each cell once, into its own cassette, like one process does
    argv += ["--reports", str(tmp / "reports"), *(["--live"] if live else []), "--workers", "2"]
    for endpoint, url in double.base_urls.items():
        argv += ["--base-url", f"{endpoint}={url}"]
    for pattern in SELECTION:
        argv += ["--cell", pattern]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    results = json.loads((tmp / "reports" / "results.json").read_text())
    return done.returncode, results, done.stdout + done.stderr


@pytest.fixture(scope="module")
def live_run(tmp_path_factory: pytest.TempPathFactory, zai_double: Any) -> tuple[Path, int, dict[str, Any], str]:
    tmp = tmp_path_factory.mktemp("live")
    code, results, output = _run(tmp, zai_double, key=FAKE_KEY)
    return tmp, code, results, output


def _selected() -> list[str]:
    from fnmatch import fnmatchcase

    return [c.id for c in load_catalogue().cells if any(fnmatchcase(c.id, p) for p in SELECTION)]


def test_every_cell_is_recorded_and_judged_as_expected(live_run) -> None:
    _, code, results, output = live_run
    assert results["run"]["mode"] == "live" and results["run"]["key_present"] is True
    assert results["run"]["record_mode"] == "all"  # --live is --record-mode all
    assert results["run"]["network"]["guard"] is False
    cells = {cell["cell"]: cell for cell in results["cells"]}
    assert sorted(cells) == sorted(_selected())
    expectations = Expectations.load()  # read against the installed client versions, as the run reads them
    unexpected = []
    for cell_id, cell in cells.items():
        reason = (cell["reasons"] or [""])[0]
        if reason.startswith((*NOT_RUN, PACED)):
            # not run at all, or a paced scenario: a silence only Z.AI (or the double in-process) makes
            assert cell["verdict"] == "SKIPPED" and cell["evidence"] is None, cell_id
            assert not reason.startswith(PACED) or load_catalogue().scenario(cell["scenario"]).paced, cell_id
            continue
        expected = expectations.for_cell(cell_id).verdict.value
        if cell["verdict"] != expected:
            unexpected.append(f"{cell_id}: {cell['verdict']}, expected {expected}: {(cell['reasons'] or [''])[0]}")
        evidence = cell["evidence"]
        assert evidence["kind"] == "live" and evidence["provenance"]["target_is_zai"] is False, cell_id
        assert Path(evidence["cassette"]).is_absolute() and Path(evidence["cassette"]).is_file(), cell_id
        sent = any(e["outcome"] == "recorded" for e in cell["observation"]["exchanges"])
        assert evidence["used"] is sent, cell_id
        # only a refusing client sends nothing upstream — or the proxy, answering for itself
        assert sent or cell["verdict"] in ("UNSUPPORTED", "FAIL") or cell["path"].startswith("proxy-"), cell_id
        assert cell["real"] is False  # the double is not Z.AI, whatever the mode says
    assert results["summary"]["real_cells"] == 0
    assert unexpected == []  # every verdict as expected, cell by cell — which is what the exit code says
    assert code == 0, output[-3000:]


def test_nothing_written_holds_the_key_and_the_report_exists(live_run) -> None:
    tmp, _, _, output = live_run
    assert FAKE_KEY not in output
    written = [p for p in tmp.rglob("*") if p.is_file()]
    assert any(p.name == "index.html" for p in written) and any(p.suffix == ".yaml" for p in written)
    assert [str(p) for p in written if FAKE_KEY.encode() in p.read_bytes()] == []
    cassette = next(p for p in written if p.suffix == ".yaml" and "openai-sdk/chat.yaml" in str(p))
    assert "Bearer <redacted>" in cassette.read_text()


def test_replaying_the_live_recordings_gives_the_same_verdicts(live_run, zai_double, tmp_path) -> None:
    tmp, _, recorded, _ = live_run
    replay_dir = tmp_path / "replay"
    replay_dir.mkdir()
    (replay_dir / "cassettes").symlink_to(tmp / "cassettes")
    code, replayed, output = _run(replay_dir, zai_double, key=None, live=False)
    assert replayed["run"]["network"] == {"guard": True, "refused": []}
    # a paced cell was not recorded live against the double (see above): replay serves it in-process
    paced = {c["cell"] for c in recorded["cells"] if (c["reasons"] or [""])[0].startswith(PACED)}
    assert paced, "the selection holds a paced scenario (tool-large-argument-buffered)"
    before = {c["cell"]: c["verdict"] for c in recorded["cells"] if c["cell"] not in paced}
    after = {c["cell"]: c["verdict"] for c in replayed["cells"] if c["cell"] not in paced}
    assert after == before
    # an agent's live recording is kept as a record, not replayed (its requests carry session ids and temporary
    # paths): replay has the double answer the agent again
    catalogue = load_catalogue()
    agents = {
        c["cell"]
        for c in recorded["cells"]
        if c["verdict"] != "SKIPPED" and not load_adapter(catalogue.path(c["path"])).replays_evidence
    }
    # the selection holds an agent's cells; they run where the agent is installed (scripts/bootstrap)
    assert agents or unavailable(agent_specs()["opencode"]) is not None
    served = [c for c in replayed["cells"] if c["verdict"] != "SKIPPED" and c["evidence"]["kind"] != "live"]
    assert {c["cell"] for c in served} == paced | agents and all(c["evidence"]["kind"] == "double" for c in served)
    assert code == 0, output[-3000:]  # fails also where the verdicts are not the expected ones (the test above)


def test_without_a_key_every_live_cell_is_skipped_with_the_reason(tmp_path, zai_double) -> None:
    code, results, output = _run(tmp_path, zai_double, key=None)
    assert code == 0, output[-3000:]
    assert {c["verdict"] for c in results["cells"]} == {"SKIPPED"}
    reasons = {c["reasons"][0] for c in results["cells"] if not c["reasons"][0].startswith(NOT_RUN)}
    assert reasons == {"live mode needs ZAI_API_KEY; it is not set"}
    assert len(results["cells"]) == len(_selected())
    assert not (tmp_path / "cassettes").exists()
    assert "ZAI_API_KEY is not set" in output
