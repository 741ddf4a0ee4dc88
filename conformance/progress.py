"""Progress of a long run (`zai-conformance run`): cells done out of all, the cell that just finished,
the time so far and an estimate of the time left, on stderr every PERIOD seconds.

A pytest plugin object the CLI hands to its pytest session: under pytest-xdist it lives in the
controller, which hears of every cell the workers finish. The estimate assumes the cells left take as
long on average as the cells done; it is for a person watching, never for a verdict.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

import pytest

PERIOD = 15.0  # seconds between lines


def is_cell(test_id: str) -> bool:
    """A test id of the suite's cells (`suites/test_matrix.py::test_cell[<cell id>]`)."""
    return test_id.split("[", 1)[0].endswith("::test_cell")


def cell_of(test_id: str) -> str:
    return test_id.split("[", 1)[1].rstrip("]") if "[" in test_id else test_id


def duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    def __init__(
        self, out: TextIO | None = None, clock: Callable[[], float] = time.monotonic, period: float = PERIOD
    ) -> None:
        self.out = out
        self.clock = clock
        self.period = period
        self.total: int | None = None
        self.done = 0
        self.last: str | None = None
        self.started = clock()
        self._said = self.started

    def line(self) -> str:
        elapsed = self.clock() - self.started
        total = self.total or 0
        share = f" ({self.done / total:.0%})" if total else ""
        parts = [f"zai-conformance: {self.done:,}/{total:,} cells{share}", f"{duration(elapsed)} so far"]
        if self.done and total > self.done:
            parts.append(f"about {duration(elapsed / self.done * (total - self.done))} left")
        if self.last:
            parts.append(f"last: {self.last}")
        return " · ".join(parts)

    def _say(self, force: bool = False) -> None:
        now = self.clock()
        if force or now - self._said >= self.period:
            self._said = now
            # on a line of its own: pytest's progress dots may have left the cursor mid-line
            print("\n" + self.line(), file=self.out or sys.stderr, flush=True)

    # --- pytest hooks (controller) ---

    def pytest_collection_finish(self, session: Any) -> None:
        if self.total is None:
            self.total = sum(1 for item in session.items if is_cell(item.nodeid)) or None

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if self.total is None:
            self.total = sum(1 for test_id in ids if is_cell(test_id)) or None

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when != "teardown" or not is_cell(report.nodeid):
            return
        self.done += 1
        self.last = cell_of(report.nodeid)
        self._say(force=self.total is not None and self.done == self.total)
