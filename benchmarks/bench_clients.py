"""The version axis, measured: building a client set's environment (cold, warm package cache, cached) and
the wall time of one set's run — printed, never asserted (these machines are shared and noisy).

    .venv/bin/python benchmarks/bench_clients.py                       # litellm-1.108.7, coding/glm-4.6/*
    .venv/bin/python benchmarks/bench_clients.py --set openai-2 --cell 'general/*/openai-sdk/*'

- cold: an empty environment folder and an empty uv package cache — what a fresh CI machine pays;
- warm cache: the environment removed, uv's package cache kept — a new set on a machine that built one;
- cached: the environment already built — every later run or bisect probe (0 s of building).
Needs the package registry (the builds download); the tests never do.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conformance.clients.sets import SET_ENV, build, load_sets  # noqa: E402


def timed_build(client_set, root: Path) -> tuple[float, Path]:
    started = time.perf_counter()
    environment = build(client_set, root)
    return time.perf_counter() - started, environment.python


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="litellm-1.108.7", help="client set to build (default litellm-1.108.7)")
    parser.add_argument("--cell", action="append", help="cells to run under it (default coding/glm-4.6/*)")
    args = parser.parse_args(argv)
    client_set = load_sets()[args.set]
    cells = args.cell or ["coding/glm-4.6/*"]
    with tempfile.TemporaryDirectory(prefix="zai-bench-envs-") as scratch:
        root = Path(scratch) / "envs"
        cache = Path(scratch) / "uv-cache"
        os.environ["UV_CACHE_DIR"] = str(cache)  # the builds' uv processes inherit it: an empty cache
        cold, python = timed_build(client_set, root)
        cached, _ = timed_build(client_set, root)
        for env_dir in root.iterdir():
            if env_dir.name != "resolved":
                shutil.rmtree(env_dir)
        warm, python = timed_build(client_set, root)
        argv = [str(python), "-m", "conformance.cli", "run", "--reports", str(Path(scratch) / "reports")]
        for pattern in cells:
            argv += ["--cell", pattern]
        started = time.perf_counter()
        done = subprocess.run(
            argv,
            env={**os.environ, SET_ENV: client_set.name, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
            capture_output=True,
            text=True,
            check=False,
        )
        run_s = time.perf_counter() - started
        summary = [line for line in done.stdout.splitlines() if " cells: " in line]
    print(f"client set {client_set.label}")
    print(f"  environment, cold (empty env folder and uv cache): {cold:6.1f} s")
    print(f"  environment, warm uv cache (env removed):          {warm:6.1f} s")
    print(f"  environment, cached (already built):               {cached:6.2f} s")
    counts = summary[0].strip() if summary else "no summary"
    print(f"  run of {' '.join(cells)} under it: {run_s:6.1f} s wall ({counts})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
