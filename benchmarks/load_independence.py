"""Replay verdicts do not depend on how busy the machine is — shown, not asserted in a timed test.

Replays the same selection twice: once as the machine is, once with CPU-burning processes beside it
(two by default: on a 2-core machine the replay then gets about a third of the CPU). Then compares the
two results.json documents cell by cell — verdict, reasons and evidence kind — and prints how many
cells were compared and every cell that differs. Exit 0 when none differs.

    .venv/bin/python benchmarks/load_independence.py                     # openai-sdk, litellm-zai, proxy-openai-sdk
    .venv/bin/python benchmarks/load_independence.py --cell 'coding/*' --burners 3
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CELLS = ("*/openai-sdk/*", "*/litellm-zai/*", "*/proxy-openai-sdk/*")


def _burn(stop: Any) -> None:
    value = 0
    while not stop.is_set():
        for number in range(100_000):
            value = (value * 31 + number) % 1_000_003


def replay(cells: list[str], reports: Path) -> tuple[dict[str, Any], float]:
    argv = [sys.executable, "-m", "conformance.cli", "run", "--reports", str(reports)]
    for pattern in cells:
        argv += ["--cell", pattern]
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"replay failed (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return json.loads((reports / "results.json").read_text()), seconds


def judged(document: dict[str, Any]) -> dict[str, tuple[str, list[str], str | None]]:
    return {
        cell["cell"]: (cell["verdict"], cell["reasons"], (cell.get("evidence") or {}).get("kind"))
        for cell in document["cells"]
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cell", action="append", help="cell pattern (repeatable); default: " + " ".join(DEFAULT_CELLS)
    )
    parser.add_argument("--burners", type=int, default=2, help="CPU-burning processes in the loaded run (default 2)")
    args = parser.parse_args(argv)
    cells = args.cell or list(DEFAULT_CELLS)
    with tempfile.TemporaryDirectory(prefix="zai-load-") as scratch:
        quiet, quiet_s = replay(cells, Path(scratch) / "quiet")
        stop = multiprocessing.Event()
        burners = [multiprocessing.Process(target=_burn, args=(stop,), daemon=True) for _ in range(args.burners)]
        for burner in burners:
            burner.start()
        try:
            loaded, loaded_s = replay(cells, Path(scratch) / "loaded")
        finally:
            stop.set()
            for burner in burners:
                burner.join(10)
    a, b = judged(quiet), judged(loaded)
    differing = sorted(cell for cell in a.keys() | b.keys() if a.get(cell) != b.get(cell))
    print(f"selection: {' '.join(cells)}")
    print(f"quiet replay: {len(a)} cells in {quiet_s:.1f} s")
    print(f"loaded replay ({args.burners} CPU burners): {len(b)} cells in {loaded_s:.1f} s")
    print(f"cells compared: {len(a.keys() & b.keys())}; differing in verdict, reasons or evidence: {len(differing)}")
    for cell in differing:
        print(f"  {cell}:\n    quiet:  {a.get(cell)}\n    loaded: {b.get(cell)}")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
