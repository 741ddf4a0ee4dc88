"""Benchmark the offline replay: whole-matrix wall time, per-cell cost, and session start-up.

Prints medians over several runs (machines are noisy). Each run is a fresh process, as a user's
`zai-conformance run` is. Usage:

    .venv/bin/python benchmarks/bench_replay.py [--runs 3]

Figures:
- wall: `zai-conformance run` from process start to exit (import, collection, every cell, reports);
- start-up: the same command selecting one cell, with an empty cassette folder (imports, catalogue,
  pytest collection, results and reports; no client call), and `import litellm` alone, which the
  first LiteLLM cell of a process pays;
- per cell: the harness's own duration_ms for cells whose verdict rests on replayed bytes, by client
  path and streamed or not (a recorded stream of 1,285 chunks costs what the client spends parsing
  it), and the first LiteLLM cell of a run separately: it pays LiteLLM's lazy start.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "conformance"]


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=False, capture_output=True, env=env)
    return time.perf_counter() - started


NO_PROXY = ["--cell", "*/*/[!p]*/*"]  # every path but the LiteLLM proxy ones
# the spine's matrix (issue 2: OpenAI SDK and LiteLLM zai/, sync and async), whose target was 60 s
SPINE = ["--cell", "*/*/openai-sdk/*", "--cell", "*/*/litellm-zai*/*"]


def full_run(reports: Path, selection: list[str] | None = None) -> tuple[float, dict]:
    started = time.perf_counter()
    argv = [*CLI, "run", "--reports", str(reports), *(selection or [])]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"replay failed (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return wall, json.loads((reports / "results.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    walls: list[float] = []
    walls_without_proxy: list[float] = []
    walls_spine: list[float] = []
    per_path: dict[str, list[float]] = defaultdict(list)
    first_litellm: list[float] = []
    cells = replayed = 0
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            walls_spine.append(full_run(Path(tmp), SPINE)[0])
        with tempfile.TemporaryDirectory() as tmp:
            walls_without_proxy.append(full_run(Path(tmp), NO_PROXY)[0])
        with tempfile.TemporaryDirectory() as tmp:
            wall, document = full_run(Path(tmp))
        walls.append(wall)
        cells = document["summary"]["cells"]
        with_evidence = [c for c in document["cells"] if (c.get("evidence") or {}).get("used")]
        replayed = len(with_evidence)
        seen_litellm = False
        for cell in with_evidence:
            if cell["path"].startswith("litellm") and not seen_litellm:
                first_litellm.append(cell["duration_ms"])
                seen_litellm = True
                continue
            shape = "streamed" if cell["scenario"].endswith("-stream") else "non-streamed"
            per_path[f"{cell['path']} ({shape})"].append(cell["duration_ms"])

    # one cell and no cassettes at all: imports, catalogue, pytest collection, results and reports, no client call
    no_call = ["--cell", "general/glm-5.3/openai-sdk/chat", "--cassettes", tempfile.mkdtemp()]
    startup = [timed([*CLI, "run", *no_call, "--reports", tempfile.mkdtemp()]) for _ in range(args.runs)]
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    litellm_import = [timed([sys.executable, "-c", "import litellm"], env) for _ in range(args.runs)]
    bare = [timed([sys.executable, "-c", "pass"]) for _ in range(args.runs)]

    all_cells = [d for values in per_path.values() for d in values]
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; {args.runs} runs each, medians")
    print(f"matrix: {cells} cells, {replayed} replayed from evidence, the rest judged without a call")
    print(
        f"full replay wall time:        {statistics.median(walls):7.2f} s"
        f"   (runs: {', '.join(f'{w:.2f}' for w in walls)})"
    )
    print(
        f"replay without the proxy paths:{statistics.median(walls_without_proxy):7.2f} s"
        f"   (runs: {', '.join(f'{w:.2f}' for w in walls_without_proxy)})"
    )
    print(f"session start-up (1 cell, no call): {statistics.median(startup):5.2f} s")
    print(f"import litellm (once/process):{statistics.median(litellm_import):7.2f} s")
    print(f"python start (baseline):      {statistics.median(bare):7.2f} s")
    print(f"per replayed cell, all paths: {statistics.median(all_cells):7.1f} ms median")
    for path, values in sorted(per_path.items()):
        print(f"  {path:<36} {statistics.median(values):7.1f} ms median over {len(values)} cell runs")
    if first_litellm:
        print(
            f"  first LiteLLM cell of a run {statistics.median(first_litellm):7.1f} ms median"
            " (includes LiteLLM's start)"
        )
    target, spine = 60.0, statistics.median(walls_spine)
    verdict = "meets" if spine < target else "MISSES"
    print(
        f"the spine's matrix (openai-sdk, litellm-zai, litellm-zai-async): {spine:.2f} s"
        f" — {verdict} its {target:.0f} s target"
    )


if __name__ == "__main__":
    main()
