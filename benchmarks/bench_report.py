"""The report page, measured: its size, its render time in Python, and in Chromium the time from navigation
to html[data-ready=true] — at the run's own size and at four times its cells — printed, never asserted
(these machines are shared and noisy).

    .venv/bin/python benchmarks/bench_report.py                                   # reports/results.json
    .venv/bin/python benchmarks/bench_report.py /tmp/ci-clone/reports/results.json --loads 5

- 4×: a synthetic document. Every cell is copied three times under a renamed model (`glm-4.6` →
  `glm-4.6·x2`…), sharing the original's evidence and bodies: scale data for the page, not a run.
- floor: in the same browser and the same run, a trivial page of the same size in bytes (its bulk an inert
  data block, then one line of script that sets data-ready): what loading that many bytes costs with no
  work on them. Browser figures come as ratios against it, so a slower or busier machine moves both.
- Chromium is Debian's /usr/bin/chromium (scripts/bootstrap installs it), at 1440×900, a fresh context
  per load; the moment data-ready turns "true" is taken inside the page (performance.now(), from the
  navigation's start), so Playwright's own round trips are not in it. A page that never sets data-ready
  (older than the rewrite of issue 16) is timed to its load event instead, and the output says so.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conformance.report.html import render_html  # noqa: E402
from conformance.results import load_results, summarise  # noqa: E402
from tests.browser.driver import CHROMIUM_ARGS  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1440, "height": 900}
# Runs before the page's own scripts (Playwright's init scripts are not subject to the page's CSP): the
# moment html gets data-ready="true", in ms since the navigation started.
MARK_READY = """(() => {
  const mark = () => {
    if (window.__readyAt === undefined && document.documentElement?.dataset.ready === "true") {
      window.__readyAt = performance.now();
    }
  };
  new MutationObserver(mark).observe(document, {attributes: true, subtree: true, attributeFilter: ["data-ready"]});
})();"""
LOAD_EVENT = "() => performance.getEntriesByType('navigation')[0].loadEventEnd"


def scaled(document: dict[str, Any], factor: int) -> dict[str, Any]:
    """`document` with each cell copied `factor - 1` more times under renamed models (synthetic scale data:
    the copies share the original's evidence, observation and bodies)."""
    cells = list(document["cells"])
    for copy_index in range(2, factor + 1):
        for cell in document["cells"]:
            model = f"{cell['model']}·x{copy_index}"
            cells.append(
                {
                    **cell,
                    "model": model,
                    "cell": "/".join((cell["endpoint"], model, cell["path"], cell["scenario"])),
                }
            )
    run = copy.deepcopy(document["run"])
    run["id"] = f"{run.get('id', 'run')}-synthetic-x{factor}"
    return {**document, "run": run, "summary": summarise(cells), "cells": cells}


def floor_page(size: int) -> str:
    """A trivial page of exactly `size` bytes (ASCII): an inert data block, then data-ready set at once."""
    head = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>floor</title></head><body><p>floor</p>'
    tail = '</script><script>document.documentElement.dataset.ready = "true";</script></body></html>\n'
    opening = '<script type="application/octet-stream" id="filler">'
    room = size - len(head) - len(opening) - len(tail)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    filler = (alphabet * (room // len(alphabet) + 1))[: max(room, 0)]
    return head + opening + filler + tail


def timed(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The median wall time of `repeat` calls (seconds), and the last call's result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


class Chromium:
    """One headless Chromium; `ready_ms(path)` opens a file in a fresh context and times it."""

    def __init__(self, ready_timeout_s: float) -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self.browser = self._playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        self.ready_timeout_ms = ready_timeout_s * 1000

    def load_ms(self, path: Path, wait_ready: bool = True) -> tuple[float, bool]:
        """Navigation start → data-ready (True), or → the load event when the page does not set it (False)."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        context = self.browser.new_context(viewport=VIEWPORT)
        try:
            page = context.new_page()
            page.add_init_script(MARK_READY)
            page.goto(path.as_uri(), wait_until="load", timeout=self.ready_timeout_ms)
            try:
                timeout = self.ready_timeout_ms if wait_ready else 1
                page.wait_for_function("() => window.__readyAt !== undefined", timeout=timeout)
            except PlaywrightTimeout:
                return page.evaluate(LOAD_EVENT), False
            return page.evaluate("() => window.__readyAt"), True
        finally:
            context.close()

    def median_ms(self, path: Path, loads: int) -> tuple[float, bool]:
        """The median of `loads` loads; a page whose first load never set data-ready is not waited for again."""
        first, ready = self.load_ms(path)
        rest = [self.load_ms(path, wait_ready=ready)[0] for _ in range(loads - 1)]
        return statistics.median([first, *rest]), ready

    def close(self) -> None:
        self.browser.close()
        self._playwright.stop()


def measure(
    label: str, document: dict[str, Any], scratch: Path, chromium: Chromium, renders: int, loads: int
) -> dict[str, Any]:
    render_s, page = timed(lambda: render_html(document), renders)
    path = scratch / f"{label}.html"
    path.write_text(page, encoding="utf-8")
    size = path.stat().st_size
    floor = scratch / f"{label}-floor.html"
    floor.write_text(floor_page(size), encoding="ascii")
    ready_ms, ready = chromium.median_ms(path, loads)
    floor_ms, _ = chromium.median_ms(floor, loads)
    return {
        "cells": len(document["cells"]),
        "bytes": size,
        "render_s": render_s,
        "ready_ms": ready_ms,
        "ready": ready,
        "floor_ms": floor_ms,
    }


def warm_up(document: dict[str, Any], scratch: Path, chromium: Chromium) -> None:
    """One untimed render (Jinja compiles the template on the first) and one untimed page load (the
    browser's first navigation starts its renderer process), on a one-cell slice of the document."""
    cells = document["cells"][:1]
    page = scratch / "warm-up.html"
    page.write_text(render_html({**document, "cells": cells, "summary": summarise(cells)}), encoding="utf-8")
    chromium.load_ms(page, wait_ready=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", default=str(ROOT / "reports" / "results.json"), help="results.json")
    parser.add_argument("--loads", type=int, default=5, help="page loads per page, median taken (default 5)")
    parser.add_argument("--renders", type=int, default=3, help="renders in Python, median taken (default 3)")
    parser.add_argument("--scale", type=int, default=4, help="the synthetic document's cells × (default 4)")
    parser.add_argument("--ready-timeout", type=float, default=120.0, help="seconds to wait for data-ready")
    args = parser.parse_args(argv)
    if not CHROMIUM.is_file():
        print(f"bench_report: {CHROMIUM} is missing (scripts/bootstrap installs it as root)", file=sys.stderr)
        return 2

    started = time.perf_counter()
    document = load_results(Path(args.results))
    read_s = time.perf_counter() - started
    size_in = Path(args.results).stat().st_size
    print(f"results: {args.results} ({size_in:,} bytes, {len(document['cells']):,} cells; read in {read_s:.2f} s)")
    chromium = Chromium(args.ready_timeout)
    print(f"browser: Chromium {chromium.browser.version} headless, {VIEWPORT['width']}×{VIEWPORT['height']}")
    print(f"medians: {args.renders} renders, {args.loads} loads per page (a fresh context each)")
    try:
        with tempfile.TemporaryDirectory(prefix="zai-bench-report-") as scratch:
            warm_up(document, Path(scratch), chromium)
            one = measure("x1", document, Path(scratch), chromium, args.renders, args.loads)
            big = scaled(document, args.scale)
            many = measure(f"x{args.scale}", big, Path(scratch), chromium, args.renders, args.loads)
    finally:
        chromium.close()

    mark = "data-ready" if one["ready"] and many["ready"] else "load event (the page sets no data-ready)"
    rows = [
        ("cells", lambda m: f"{m['cells']:,}"),
        ("page size, bytes", lambda m: f"{m['bytes']:,}"),
        ("render in Python, s", lambda m: f"{m['render_s']:.3f}"),
        (f"Chromium: navigation → {mark}, ms", lambda m: f"{m['ready_ms']:.0f}"),
        ("floor: a trivial page of the same size, ms", lambda m: f"{m['floor_ms']:.0f}"),
        ("page / floor", lambda m: f"×{m['ready_ms'] / m['floor_ms']:.2f}"),
    ]
    ratio = {
        "cells": many["cells"] / one["cells"],
        "page size, bytes": many["bytes"] / one["bytes"],
        "render in Python, s": many["render_s"] / one["render_s"],
        f"Chromium: navigation → {mark}, ms": many["ready_ms"] / one["ready_ms"],
        "floor: a trivial page of the same size, ms": many["floor_ms"] / one["floor_ms"],
    }
    width = max(len(name) for name, _ in rows)
    print(f"\n{'':{width}}  {'1× (this run)':>14}  {f'{args.scale}× (synthetic)':>16}  {'ratio':>7}")
    for name, cell in rows:
        factor = f"×{ratio[name]:.2f}" if name in ratio else ""
        print(f"{name:{width}}  {cell(one):>14}  {cell(many):>16}  {factor:>7}")
    print(
        f"\n{args.scale}× is synthetic scale data: each cell copied under renamed models ('<model>·x2'…), "
        "sharing the original's evidence and bodies; no such run exists."
    )
    if mark != "data-ready":
        print(
            "The page never set html[data-ready=true] (within --ready-timeout on its first load): its times are "
            "to the load event, before its script finished; the floor is timed to data-ready, which it sets at once."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
