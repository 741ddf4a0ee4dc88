"""Benchmark the LiteLLM proxy paths: the proxy's start time, and what going through it costs a replay.

Every figure comes from fresh processes, as a user's run is one. Usage:

    .venv/bin/python benchmarks/bench_proxy.py [--starts 5] [--replays 3] [--cells 'coding/glm-4.6/*' ...]

Figures:
- proxy start (median of --starts fresh processes): `import litellm` (the client side; a LiteLLM cell
  pays it anyway), `import litellm.proxy.proxy_server`, and config load until /health/liveliness
  answers — and the whole, from a cold interpreter to a ready proxy;
- replay: the selected cells are first recorded from the Z.AI double (proxy paths and the direct paths
  they correspond to, into a temporary cassette folder), then replayed --replays times, each in a fresh
  process under the network guard: wall time of the proxy cells (with and without the proxy's start)
  against the same scenarios through the direct paths, and the median cell cost per path.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CELLS = ["coding/glm-4.6/*", "anthropic/glm-4.6/*"]
# Each proxy path and the direct path that asks the same question without the proxy.
COUNTERPART = {"proxy-openai-sdk": "openai-sdk", "proxy-litellm": "litellm-zai", "proxy-anthropic-sdk": "anthropic-sdk"}
FAKE_KEY = "bench-proxy-fake-zai-key"

START = """
import json, time
t0 = time.perf_counter()
import conformance, litellm
t1 = time.perf_counter()
from conformance.proxy import server
proxy = server.get_proxy(api_key="bench-proxy-fake-zai-key")
t2 = time.perf_counter()
print(json.dumps({"import_litellm": t1 - t0, "import_proxy": proxy.times.import_s, "ready": proxy.times.ready_s,
                  "total_in_process": t2 - t0}))
server.stop()
"""


def selected(catalogue: Any, patterns: list[str]) -> list[Any]:
    """The matching proxy cells whose counterpart exists (same endpoint, model and scenario through the
    direct path), and those counterparts: like for like, so the two walls compare."""
    cells = {c.id: c for c in catalogue.cells if not c.not_applicable and any(fnmatchcase(c.id, p) for p in patterns)}
    chosen = []
    for cell in cells.values():
        direct = COUNTERPART.get(cell.path.id)
        twin = f"{cell.endpoint.id}/{cell.model.id}/{direct}/{cell.scenario.id}"
        if direct is not None and twin in cells:
            chosen += [cells[twin], cell]
    return chosen


def worker_record(folder: Path, patterns: list[str]) -> None:
    """Record the selected cells from the double into folder/cassettes."""
    from conformance.catalogue import load_catalogue
    from conformance.double.server import running
    from conformance.runner import CellRunner, RunSettings

    catalogue = load_catalogue()
    with running() as double:
        settings = RunSettings(
            mode="live",
            cassette_root=folder / "cassettes",
            base_urls=dict(double.base_urls),
            api_key=FAKE_KEY,
            record_kind="double",
        )
        runner = CellRunner(catalogue, settings)
        for cell in selected(catalogue, patterns):
            runner.run(cell)


def worker_replay(folder: Path, patterns: list[str]) -> None:
    """Replay the selected cells (direct paths first, then the proxy's) and print their costs as JSON."""
    import conformance  # noqa: F401 - sets LITELLM_LOCAL_MODEL_COST_MAP before LiteLLM loads
    from conformance.catalogue import load_catalogue
    from conformance.proxy import server
    from conformance.recording import netguard
    from conformance.runner import CellRunner, RunSettings

    catalogue = load_catalogue()
    runner = CellRunner(catalogue, RunSettings(mode="replay", cassette_root=folder / "cassettes"))
    cells = selected(catalogue, patterns)
    direct = [c for c in cells if not c.path.id.startswith("proxy-")]
    proxied = [c for c in cells if c.path.id.startswith("proxy-")]
    durations: dict[str, list[float]] = defaultdict(list)
    walls: dict[str, float] = {}
    verdicts: dict[str, str] = {}
    with netguard.loopback_only() as refused:
        for name, group in (("direct", direct), ("proxy", proxied)):
            started = time.perf_counter()
            for cell in group:
                result = runner.run(cell)
                durations[cell.path.id].append(result.duration_ms)
                verdicts[cell.id] = result.verdict.value
            walls[name] = time.perf_counter() - started
    proxy = server.current()
    print(
        json.dumps(
            {
                "walls": walls,
                "durations": durations,
                "verdicts": verdicts,
                "cells": {"direct": len(direct), "proxy": len(proxied)},
                "proxy_start": proxy.times.total_s if proxy else None,
                "refused": refused.list(),
            }
        )
    )


def run_worker(*args: str) -> dict[str, Any] | None:
    done = subprocess.run(
        [sys.executable, __file__, *args], cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False
    )
    if done.returncode != 0:
        sys.exit(f"worker {args[:2]} failed (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5, help="fresh processes timing the proxy start")
    parser.add_argument("--replays", type=int, default=3, help="fresh processes replaying the cells")
    parser.add_argument(
        "--cells", nargs="*", default=DEFAULT_CELLS, help="cell id globs (endpoint/model/path/scenario)"
    )
    parser.add_argument("--worker", choices=["record", "replay"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "record":
        worker_record(args.folder, args.cells)
        return
    if args.worker == "replay":
        worker_replay(args.folder, args.cells)
        return

    starts = []
    for _ in range(args.starts):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", START], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
        )
        wall = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"proxy start failed:\n{done.stderr[-3000:]}")
        starts.append({**json.loads(done.stdout.strip().splitlines()[-1]), "process_wall": wall})
    bare = []
    for _ in range(args.starts):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=False)
        bare.append(time.perf_counter() - started)

    replays = []
    with tempfile.TemporaryDirectory(prefix="bench-proxy-") as tmp:
        folder = Path(tmp)
        run_worker("--worker", "record", "--folder", str(folder), "--cells", *args.cells)
        for _ in range(args.replays):
            replays.append(run_worker("--worker", "replay", "--folder", str(folder), "--cells", *args.cells))

    def start_figure(key: str) -> str:
        values = [s[key] for s in starts]
        return f"{median(values):6.2f} s  (runs: {', '.join(f'{v:.2f}' for v in values)})"

    print(f"{args.starts} fresh processes; medians")
    print(f"proxy start, cold interpreter → /health/liveliness: {start_figure('total_in_process')}")
    print(f"  the whole process (start, stop, exit):        {start_figure('process_wall')}")
    print(f"  python start (baseline):                      {median(bare):6.2f} s")
    print(f"  import conformance + litellm (client side):   {start_figure('import_litellm')}")
    print(f"  import litellm.proxy.proxy_server (after it):{start_figure('import_proxy')}")
    print(f"  config load until liveness answers:           {start_figure('ready')}")

    replays = [r for r in replays if r]
    if not replays:
        return
    first = replays[0]
    refused = sorted({attempt for r in replays for attempt in r["refused"]})
    unstable = {cell for r in replays for cell, verdict in r["verdicts"].items() if verdict != first["verdicts"][cell]}
    print(
        f"\nreplay of {first['cells']['proxy']} proxy cells vs {first['cells']['direct']} direct cells "
        f"({', '.join(args.cells)}); {len(replays)} fresh processes, medians"
    )
    proxy_wall = median([r["walls"]["proxy"] for r in replays])
    proxy_start = median([r["proxy_start"] for r in replays if r["proxy_start"] is not None])
    direct_wall = median([r["walls"]["direct"] for r in replays])
    print(f"  proxy cells, wall (incl. proxy start):  {proxy_wall:7.2f} s")
    print(f"  of which the proxy's start:             {proxy_start:7.2f} s")
    print(f"  proxy cells, wall without the start:    {proxy_wall - proxy_start:7.2f} s")
    print(f"  direct cells, wall:                     {direct_wall:7.2f} s")
    print("  per cell (median duration_ms over all runs; the first cell of each path includes its client's start):")
    for path, direct in COUNTERPART.items():
        through = [d for r in replays for d in r["durations"].get(path, [])[1:]]
        alone = [d for r in replays for d in r["durations"].get(direct, [])[1:]]
        if through and alone:
            print(
                f"    {path:<20} {median(through):7.1f} ms   vs {direct:<14} {median(alone):7.1f} ms"
                f"   (+{median(through) - median(alone):.1f} ms through the proxy)"
            )
    print(f"  network attempts refused during replay: {refused or 'none'}")
    print(f"  verdicts stable across replays: {'yes' if not unstable else sorted(unstable)}")


if __name__ == "__main__":
    main()
