"""The collector runs on the harness's own thread (conformance.gc_guard), so a finaliser that sets a
context variable — LiteLLM's stream wrapper has one — never runs inside another thread's
`ContextVar.set`, where CPython's gh-148891 turns it into a segfault."""

from __future__ import annotations

import contextvars
import gc
import os
import subprocess
import sys
import threading

import pytest

from conformance.gc_guard import THREAD_NAME, collect_off_thread, generation_due, guarding

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THRESHOLDS = (700, 10, 10)

stamp: contextvars.ContextVar[str] = contextvars.ContextVar("stamp")


class Abandoned:
    """Garbage in a reference cycle whose finaliser sets a context variable, as LiteLLM's does."""

    def __init__(self, done: threading.Event, seen: list[str]) -> None:
        self.me = self
        self.done, self.seen = done, seen

    def __del__(self) -> None:
        stamp.set("finalised")
        self.seen.append(threading.current_thread().name)
        self.done.set()


@pytest.mark.parametrize(
    ("counts", "due"),
    [((0, 0, 0), None), ((700, 10, 10), None), ((701, 0, 0), 0), ((5, 11, 0), 1), ((701, 11, 11), 2)],
)
def test_a_generation_is_due_by_cpythons_rule(counts: tuple[int, int, int], due: int | None) -> None:
    assert generation_due(counts, THRESHOLDS) == due


def test_the_harness_collects_on_its_own_thread_and_finalisers_run_there() -> None:
    collect_off_thread()  # the plugin already did, in every pytest process; a second call does nothing
    assert guarding() and not gc.isenabled()
    assert collect_off_thread() is False
    done, seen = threading.Event(), []
    Abandoned(done, seen)
    churn: list[object] = []
    while not done.wait(0.05):  # make garbage-counting allocations until the collector gets to it
        churn = [[] for _ in range(2000)]
    del churn
    assert seen == [THREAD_NAME]
    assert stamp.get("untouched") == "untouched"  # the finaliser's set stayed in the collector's context


def test_a_forked_child_collects_the_usual_way() -> None:
    assert guarding()
    pid = os.fork()
    if pid == 0:  # the child: only report, then leave without running anything of pytest's
        os._exit(0 if gc.isenabled() else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_process_that_switched_collection_off_keeps_it_off() -> None:
    code = (
        "import gc; gc.disable(); from conformance.gc_guard import collect_off_thread as c; print(c(), gc.isenabled())"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
