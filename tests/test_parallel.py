"""One run over several processes, and one run over several machines: the same verdicts, in the same
order, as the run in one process — and nothing a worker judged is lost.

- `zai-conformance run --workers 2` (pytest-xdist): workers write their own cell lines into one run
  directory; the controller gathers them into results.json in the catalogue's order.
- `--shard I/N` splits the selected cells; `zai-conformance report A B --out DIR` puts the shards back
  together and refuses documents that are not shards of one run.
- The first proxy cell of a process starts the proxy inside its tap: the start-up probe is the
  harness's own request, not the cell's (which process runs a cell first must not change its reasons).
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.recording import recorder
from conformance.session import UsageError, parse_shard

ROOT = Path(__file__).resolve().parent.parent
# Fast paths on two endpoints (no LiteLLM import, no proxy): enough cells for both workers to get some.
# glm-4.5 on the coding endpoint has public recordings (bodies over 1 KiB) and none of crush's
# recorded conversations, which would only make each of these runs longer.
CELLS = ["coding/glm-4.5/openai-sdk/*", "anthropic/glm-4.6/anthropic-sdk/*"]


def _run(reports: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "conformance", "run", "--reports", str(reports)]
    for pattern in CELLS:
        argv += ["--cell", pattern]
    environment = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    return subprocess.run(argv + list(extra), cwd=ROOT, capture_output=True, text=True, env=environment)


def _verdicts(document: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(cell["cell"], cell["verdict"], tuple(cell["reasons"])) for cell in document["cells"]]


@pytest.fixture(scope="module")
def one_process(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    reports = tmp_path_factory.mktemp("one") / "reports"
    done = _run(reports, "--workers", "1")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads((reports / "results.json").read_text())


def test_two_workers_give_the_one_process_run_cell_for_cell(one_process, tmp_path):
    reports = tmp_path / "reports"
    done = _run(reports, "--workers", "2")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    document = json.loads((reports / "results.json").read_text())
    assert _verdicts(document) == _verdicts(one_process)  # same cells, verdicts, reasons, and order
    assert document["run"]["workers"] == 2
    assert document["run"]["network"] == {"guard": True, "refused": []}
    run_dir = reports / "runs" / document["run"]["id"]
    worker_lines = {path.name: path.read_text().count("\n") for path in run_dir.glob("cells-*.jsonl")}
    assert sorted(worker_lines) == ["cells-gw0.jsonl", "cells-gw1.jsonl"], worker_lines
    assert all(worker_lines.values()) and sum(worker_lines.values()) == len(document["cells"])
    assert (reports / "index.html").is_file() and "cells:" in done.stdout

    # the run directory of a parallel run re-renders whole (a crashed controller loses no worker's cells)
    again = subprocess.run(
        [sys.executable, "-m", "conformance", "report", str(run_dir), "--out", str(tmp_path / "again")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr
    rendered = json.loads((tmp_path / "again" / "results.json").read_text())
    assert sorted(_verdicts(rendered)) == sorted(_verdicts(one_process))


def test_shards_partition_the_run_and_combine_into_it(one_process, tmp_path):
    shards = []
    for index in (1, 2):
        reports = tmp_path / f"shard-{index}"
        done = _run(reports, "--workers", "1", "--shard", f"{index}/2")
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        shards.append(reports / "results.json")
    documents = [json.loads(path.read_text()) for path in shards]
    assert [d["run"]["shard"] for d in documents] == ["1/2", "2/2"]
    assert [cell["cell"] for cell in documents[0]["cells"]] == [cell["cell"] for cell in one_process["cells"]][::2]
    ids = [cell["cell"] for d in documents for cell in d["cells"]]
    assert sorted(ids) == sorted(cell["cell"] for cell in one_process["cells"]) and len(ids) == len(set(ids))

    out = tmp_path / "combined"
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "report", *map(str, shards), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "2 shards combined" in done.stdout
    combined = json.loads((out / "results.json").read_text())
    assert _verdicts(combined) == _verdicts(one_process)
    assert combined["summary"] == one_process["summary"]
    refs = [
        exchange[key]
        for cell in combined["cells"]
        for exchange in (cell.get("observation") or {}).get("exchanges", [])
        for key in ("request_body_ref", "response_body_ref")
        if exchange.get(key)
    ]
    assert refs and all(ref in combined["bodies"] for ref in refs)  # every large body still there
    assert [shard["shard"] for shard in combined["run"]["shards"]] == ["1/2", "2/2"]

    overlapping = subprocess.run(
        [sys.executable, "-m", "conformance", "report", str(shards[0]), str(shards[0]), "--out", str(tmp_path / "x")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert overlapping.returncode == 2 and "shards overlap" in overlapping.stderr


def test_documents_of_different_runs_are_not_combined(one_process, tmp_path):
    other = json.loads(json.dumps(one_process))
    other["run"]["clients"] = {**other["run"]["clients"], "openai": "0.0.1"}
    other["cells"] = []
    paths = []
    for name, document in (("a.json", one_process), ("b.json", other)):
        (tmp_path / name).write_text(json.dumps(document))
        paths.append(str(tmp_path / name))
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "report", *paths, "--out", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "b.json: not a shard of the same run" in done.stderr and "run.clients" in done.stderr


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0", "/2"])
def test_a_shard_that_cannot_be_is_a_usage_error(text):
    with pytest.raises(UsageError, match="expected I/N"):
        parse_shard(text)


def test_shard_split_is_every_nth_from_the_ith():
    assert parse_shard("2/4") == (2, 4)


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def test_the_harness_own_requests_to_a_local_service_are_not_the_cells():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host = f"127.0.0.1:{server.server_address[1]}"
    recorder.register_passthrough(host)
    try:
        served = recorder.Recorder().serve(lambda request: pytest.fail("a local request reached the double"), {})
        with served as tap, httpx.Client(trust_env=False) as client:
            with recorder.harness_own_requests():
                assert client.get(f"http://{host}/health/liveliness").status_code == 200  # the start-up probe
            assert client.get(f"http://{host}/v1/models").status_code == 200  # the path's own request
        assert tap.local_requests == 1
    finally:
        recorder.unregister_passthrough(host)
        server.shutdown()
        server.server_close()


def test_a_parallel_run_on_a_folder_another_run_holds_is_a_usage_error(tmp_path):
    """The controller takes the folder once the workers have collected cells: a held folder is one usage
    error (exit 2, naming the other run), and no worker writes a cell."""
    from conformance.session import ConformanceSession

    holder = ConformanceSession.from_options(reports=str(tmp_path / "reports"), environ={})
    holder.claim_reports()
    try:
        done = _run(tmp_path / "reports", "--workers", "2")
    finally:
        holder.finish()
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"{tmp_path / 'reports'} is in use by another zai-conformance run" in done.stdout + done.stderr
    assert holder.run_id in done.stdout + done.stderr
    assert not (tmp_path / "reports" / "results.json").exists()
    assert not list((tmp_path / "reports").glob("runs/*/cells-*.jsonl"))
