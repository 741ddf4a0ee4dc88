"""Progress of a long run: cells done out of all, the last cell, the time so far and left — read off a
clock the test controls."""

from __future__ import annotations

import io
from types import SimpleNamespace

from conformance.progress import Progress, duration

CELL = "suites/test_matrix.py::test_cell[coding/glm-4.6/openai-sdk/{}]"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _finish(progress: Progress, name: str, when: str = "teardown") -> None:
    progress.pytest_runtest_logreport(SimpleNamespace(when=when, nodeid=CELL.format(name)))


def test_a_line_every_period_with_the_share_done_and_the_time_left() -> None:
    clock, out = Clock(), io.StringIO()
    progress = Progress(out, clock, period=15)
    progress.pytest_xdist_node_collection_finished(None, [CELL.format(n) for n in "abcd"] + ["tests/x.py::test_y"])
    clock.now += 10
    _finish(progress, "a")
    assert out.getvalue() == ""  # not yet a period since the start
    clock.now += 10
    _finish(progress, "a", when="call")  # one cell is one teardown, whatever else it reports
    _finish(progress, "b")
    assert out.getvalue() == (
        "\nzai-conformance: 2/4 cells (50%) · 20 s so far · about 20 s left · last: coding/glm-4.6/openai-sdk/b\n"
    )
    clock.now += 1
    _finish(progress, "c")
    _finish(progress, "d")  # the last cell is always said
    assert (
        out.getvalue().splitlines()[-1]
        == "zai-conformance: 4/4 cells (100%) · 21 s so far · last: coding/glm-4.6/openai-sdk/d"
    )


def test_tests_that_are_not_cells_are_not_counted() -> None:
    progress = Progress(io.StringIO(), Clock())
    progress.pytest_collection_finish(SimpleNamespace(items=[SimpleNamespace(nodeid=CELL.format("a"))]))
    progress.pytest_runtest_logreport(SimpleNamespace(when="teardown", nodeid="tests/test_x.py::test_y"))
    assert (progress.total, progress.done) == (1, 0)


def test_durations_read_as_people_say_them() -> None:
    assert [duration(s) for s in (4.4, 75, 3725)] == ["4 s", "1 min 15 s", "1 h 02 min"]
