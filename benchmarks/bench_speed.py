"""Speed, measured against floors taken in the same run — printed, never asserted (these 2-core machines
are shared and noisy; a timed test would judge the neighbours, not the harness).

    .venv/bin/python benchmarks/bench_speed.py                 # everything (about 10 minutes)
    .venv/bin/python benchmarks/bench_speed.py --only cells    # per-cell cost against each client's floor
    .venv/bin/python benchmarks/bench_speed.py --only matrix --only scale --only report

Sections:
- cells: per client path, streamed and not, the harness's cost of a cell (CellRunner.run: evidence,
  client, judging) against the floor — the same client library sending the same request and parsing
  the same bytes from an in-memory transport, no harness. The bytes are the ones the harness's own run
  of the cell received (recorded or served), so both parse exactly the same answer. For the proxy
  paths the floor is the same client through the same in-process LiteLLM proxy with no tap, its
  upstream a loopback double (the harness's upstream is served in-process, without a socket).
- matrix: the README's main job (`zai-conformance run`, the full matrix) in a fresh process with one
  worker and with the default (one per core): wall time, and peak memory summed over the run's processes.
- scale: a selection and one with four times its cells (four models instead of one), two workers:
  wall time and peak memory per cell should not grow.
- report: rendering the full matrix's results.json into index.html and junit.xml (median of 3).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

FAKE_KEY = "bench-speed-fake-zai-key-000000"
REPEATS = 30
# (cell without its scenario, scenarios): every client path, one model, the plain and the streamed chat
CELL_PATHS: tuple[str, ...] = (
    "coding/glm-4.6/openai-sdk",
    "coding/glm-4.6/zai-sdk",
    "coding/glm-4.6/litellm-zai",
    "coding/glm-4.6/litellm-zai-async",
    "coding/glm-4.6/litellm-openai",
    "coding/glm-4.6/openhands",
    "anthropic/glm-4.6/anthropic-sdk",
    "coding/glm-4.6/proxy-openai-sdk",
    "coding/glm-4.6/proxy-litellm",
    "anthropic/glm-4.6/proxy-anthropic-sdk",
)
SCENARIOS = ("chat", "chat-stream")
SCALE_ONE = ["*/glm-4.5/*"]
SCALE_FOUR = ["*/glm-4.5/*", "*/glm-4.5-air/*", "*/glm-4.5-flash/*", "*/glm-5/*"]


def median_ms(call: Callable[[], Any], repeats: int = REPEATS) -> float:
    """Median of `repeats` calls after a warm-up call (imports, first connections, a client's caches);
    fewer, at least 5, for a call that takes seconds (a recorded stream of 1,285 chunks through LiteLLM)."""
    started = time.perf_counter()
    call()
    call()
    first = (time.perf_counter() - started) / 2
    repeats = max(5, min(repeats, int(10 / max(first, 1e-3))))
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


# --- floors: the client library alone, answered from memory ---------------------------------------


def _answer(exchange: Any) -> tuple[int, dict[str, str], bytes]:
    headers = {name: values[-1] for name, values in exchange.response_headers.items() if values}
    for hop in ("content-encoding", "transfer-encoding", "content-length"):
        headers = {k: v for k, v in headers.items() if k.lower() != hop}
    return exchange.status or 200, headers, (exchange.response_body or "").encode()


def _mock(module: Any, answer: tuple[int, dict[str, str], bytes], asynchronous: bool = False) -> Any:
    status, headers, body = answer

    def handler(request: Any) -> Any:
        request.read()
        return module.Response(status, headers=headers, content=body)

    transport = module.MockTransport(handler)
    return (module.AsyncClient if asynchronous else module.Client)(transport=transport)


def _consume(result: Any) -> None:
    if hasattr(result, "__iter__") and not isinstance(result, dict | str | bytes) and not hasattr(result, "model_dump"):
        for _ in result:
            pass


def floor_for(
    path: str, request: dict[str, Any], answer: tuple[int, dict[str, str], bytes], base_url: str
) -> Callable[[], Any]:
    """One call of the client library that `path` drives, with `request`, answered with `answer`."""
    import httpx
    import httpx2

    model = request["model"]
    if path == "openai-sdk":
        import openai

        client = openai.OpenAI(api_key=FAKE_KEY, base_url=base_url, http_client=_mock(httpx2, answer), max_retries=0)
        return lambda: _consume(client.chat.completions.create(**request))
    if path == "anthropic-sdk":
        import anthropic

        client = anthropic.Anthropic(
            api_key=FAKE_KEY, base_url=base_url, http_client=_mock(httpx2, answer), max_retries=0
        )
        return lambda: _consume(client.messages.create(**request))
    if path == "zai-sdk":
        import inspect

        from zai import ZaiClient

        client = ZaiClient(api_key=FAKE_KEY, base_url=base_url, http_client=_mock(httpx, answer), max_retries=0)
        declared = set(inspect.signature(client.chat.completions.create).parameters)
        known = {k: v for k, v in request.items() if k in declared}  # the rest travels as the path sends it:
        extra = {k: v for k, v in request.items() if k not in declared}  # in extra_body
        return lambda: _consume(client.chat.completions.create(**known, extra_body=extra or None))
    import litellm
    import openai

    rest = {k: v for k, v in request.items() if k != "model"}
    if path in ("litellm-zai", "litellm-openai", "openhands"):
        client = openai.OpenAI(api_key=FAKE_KEY, base_url=base_url, http_client=_mock(httpx2, answer), max_retries=0)
        routed = f"zai/{model}" if path == "litellm-zai" else f"openai/{model}"
        return lambda: _consume(
            litellm.completion(model=routed, api_key=FAKE_KEY, api_base=base_url, client=client, **rest)
        )
    if path == "litellm-zai-async":

        async def once() -> None:
            client = openai.AsyncOpenAI(
                api_key=FAKE_KEY, base_url=base_url, http_client=_mock(httpx2, answer, True), max_retries=0
            )
            result = await litellm.acompletion(model=f"zai/{model}", api_key=FAKE_KEY, client=client, **rest)
            if hasattr(result, "__aiter__"):
                async for _ in result:
                    pass

        return lambda: asyncio.run(once())
    raise KeyError(path)


def proxy_floor(path: str, request: dict[str, Any], proxy_url: str) -> Callable[[], Any]:
    """The same client through the running in-process proxy, with no tap (its upstream: a loopback double)."""
    from conformance.proxy.config import MASTER_KEY

    if path == "proxy-openai-sdk":
        import openai

        client = openai.OpenAI(api_key=MASTER_KEY, base_url=proxy_url + "/v1", max_retries=0)
        return lambda: _consume(client.chat.completions.create(**request))
    if path == "proxy-anthropic-sdk":
        import anthropic

        client = anthropic.Anthropic(api_key=MASTER_KEY, base_url=proxy_url, max_retries=0)
        return lambda: _consume(client.messages.create(**request))
    import litellm

    rest = {k: v for k, v in request.items() if k != "model"}
    return lambda: _consume(
        litellm.completion(model=f"litellm_proxy/{request['model']}", api_base=proxy_url, api_key=MASTER_KEY, **rest)
    )


class _FixedUpstream:
    """A loopback server answering every request with the bytes given last: the proxy floor's Z.AI."""

    def __init__(self) -> None:
        import http.server

        self.answer: tuple[int, dict[str, str], bytes] = (200, {}, b"{}")
        self.paths: list[str] = []
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers, body = upstream.answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def bench_cells(scratch: Path, cell_paths: tuple[str, ...] = CELL_PATHS) -> list[dict[str, Any]]:
    from conformance.proxy import server as proxy_server
    from conformance.recording import netguard
    from conformance.scenario import request_for
    from conformance.session import ConformanceSession

    # the harness as a run has it: results written, network guard, one TLS context, cassettes parsed once
    session = ConformanceSession.from_options(reports=str(scratch / "cells"), cells=[f"{p}/*" for p in cell_paths])
    catalogue = session.catalogue
    rows = []
    upstream: _FixedUpstream | None = None
    for prefix in cell_paths:
        for scenario in SCENARIOS:
            cell = catalogue.cell(f"{prefix}/{scenario}")
            harness = median_ms(lambda cell=cell: session.run(cell))
            result = session.run(cell)
            request = request_for(catalogue, cell.scenario, cell.model_sent, cell.path.api)
            exchanges = [e for e in result.observation.exchanges if e.response_body] if result.observation else []
            if not exchanges:
                rows.append({"cell": cell.id, "harness_ms": round(harness, 2), "floor_ms": None})
                print(f"  {cell.id:55s} harness {harness:8.2f} ms  (no answer to give a floor)", flush=True)
                continue
            answer = _answer(exchanges[0])
            if cell.path.id.startswith("proxy-"):
                from conformance.proxy.config import proxy_model_name

                request = {**request, "model": proxy_model_name(cell.endpoint, cell.model_sent)}  # as the path names it
                if upstream is None:
                    upstream = _FixedUpstream()
                upstream.answer = answer
                proxy = proxy_server.get_proxy(catalogue)
                for endpoint in catalogue.endpoints:  # no tap: the proxy's upstream is the fixed loopback server
                    base = endpoint.base_url.split("://", 1)[1].split("/", 1)[1]
                    proxy.route(endpoint, f"{upstream.url}/{base}", FAKE_KEY, catalogue)
                try:
                    with netguard.loopback_only():
                        floor = median_ms(proxy_floor(cell.path.id, request, proxy.url))
                except Exception as exc:
                    print(f"  {cell.id}: no floor: {type(exc).__name__}: {str(exc)[:200]} {upstream.paths[-3:]}")
                    continue
                kind = "in-process proxy, the same bytes from a loopback upstream"
            else:
                floor = median_ms(floor_for(cell.path.id, request, answer, cell.endpoint.base_url))
                kind = "in-memory transport, the same bytes"
            rows.append(
                {
                    "cell": cell.id,
                    "evidence": (result.evidence or {}).get("kind"),
                    "harness_ms": round(harness, 2),
                    "floor_ms": round(floor, 2),
                    "ratio": round(harness / floor, 2),
                    "floor": kind,
                }
            )
            print(
                f"  {cell.id:55s} harness {harness:8.2f} ms  floor {floor:8.2f} ms  ×{harness / floor:5.2f}  ({kind})",
                flush=True,
            )
    session.finish()
    if upstream is not None:
        upstream.close()
    return rows


# --- whole runs, in fresh processes ----------------------------------------------------------------


def _tree_rss(root_pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            parent, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        pid = int(entry.name)
        children.setdefault(parent, []).append(pid)
        rss[pid] = pages * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack += children.get(pid, [])
    return total


def timed_run(cells: list[str], workers: str, reports: Path) -> dict[str, Any]:
    argv = [sys.executable, "-m", "conformance", "run", "--reports", str(reports), "--workers", workers]
    for pattern in cells:
        argv += ["--cell", pattern]
    peak = 0
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while process.poll() is None:
        peak = max(peak, _tree_rss(process.pid))
        time.sleep(0.25)
    wall = time.perf_counter() - started
    document = json.loads((reports / "results.json").read_text())
    return {
        "cells": document["summary"]["cells"],
        "wall_s": round(wall, 1),
        "peak_mb": round(peak / 2**20),
        "exit": process.returncode,
    }


def bench_matrix(scratch: Path) -> dict[str, Any]:
    figures = {}
    for workers in ("1", "auto"):
        figures[workers] = timed_run([], workers, scratch / f"matrix-{workers}")
        print(f"  full matrix, --workers {workers:4s}: {figures[workers]}", flush=True)
    speedup = figures["1"]["wall_s"] / figures["auto"]["wall_s"]
    print(f"  speed-up, one worker → one per core: ×{speedup:.2f}  (target: full matrix ≤ 60 s, ≤ 1024 MB)")
    return {**figures, "speedup": round(speedup, 2)}


def bench_scale(scratch: Path) -> dict[str, Any]:
    one = timed_run(SCALE_ONE, "auto", scratch / "scale-1")
    four = timed_run(SCALE_FOUR, "auto", scratch / "scale-4")
    cells = four["cells"] / one["cells"]
    print(f"  1×: {one}")
    print(f"  4×: {four}")
    wall, memory = four["wall_s"] / one["wall_s"], four["peak_mb"] / one["peak_mb"]
    print(f"  cells ×{cells:.2f} → wall ×{wall:.2f}, memory ×{memory:.2f} (linear or better: each ≤ the cells' factor)")
    return {"one": one, "four": four}


def bench_report(scratch: Path) -> dict[str, Any]:
    from conformance.report import write_reports

    source = scratch / "matrix-auto" / "results.json"
    if not source.is_file():
        timed_run([], "auto", scratch / "matrix-auto")
    document = json.loads(source.read_text())
    times = []
    for attempt in range(3):
        started = time.perf_counter()
        write_reports(document, scratch / f"render-{attempt}")
        times.append(time.perf_counter() - started)
    size = (scratch / "render-0" / "index.html").stat().st_size
    median = statistics.median(times)
    print(f"  render {len(document['cells'])} cells: {median:.2f} s median, index.html {size / 2**20:.1f} MB (≤ 2 s)")
    return {"median_s": round(statistics.median(times), 2), "index_mb": round(size / 2**20, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=("cells", "matrix", "scale", "report"))
    parser.add_argument("--json", metavar="FILE", help="also write the figures here")
    parser.add_argument("--path", action="append", help="cells: only these client paths (e.g. proxy-litellm)")
    args = parser.parse_args(argv)
    sections = args.only or ["cells", "matrix", "scale", "report"]
    chosen = tuple(prefix for prefix in CELL_PATHS if not args.path or prefix.rsplit("/", 1)[1] in args.path)
    figures: dict[str, Any] = {"cpus": len(os.sched_getaffinity(0))}
    with tempfile.TemporaryDirectory(prefix="zai-bench-speed-") as scratch:
        for section in sections:
            print(f"== {section}", flush=True)
            if section == "cells":
                figures["cells"] = bench_cells(Path(scratch), chosen)
            elif section == "matrix":
                figures["matrix"] = bench_matrix(Path(scratch))
            elif section == "scale":
                figures["scale"] = bench_scale(Path(scratch))
            else:
                figures["report"] = bench_report(Path(scratch))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
