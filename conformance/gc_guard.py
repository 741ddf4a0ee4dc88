"""The cyclic garbage collector, run from a thread of the harness's own instead of wherever it fires.

Why: CPython (3.10 and 3.11 at least; gh-148891, open) can free a context's variables while a
`ContextVar.set` is still walking them. The set allocates, an allocation may start the collector, and
if a finaliser run by that collection sets a variable of the same context, the outer set goes on over
freed memory. LiteLLM's stream wrapper has exactly such a finaliser (`CustomStreamWrapper.__del__`
restores its `trace_id`/`session_id` variables), and the clients' transports and the proxy set context
variables all the time: a pytest-xdist worker of the harness died of it (SIGSEGV in
`hamt_node_bitmap_assoc`), and under `--dist loadgroup` the run then never ended.

How: automatic collection is switched off and one daemon thread collects by CPython's own
generation rule (a generation is collected once the counts `gc.get_count()` gives pass the thresholds
`gc.get_threshold()` gave). A collection then only ever starts on that thread, which sets no context
variable while it collects; finalisers run there, in its own empty context. The thread holds the GIL
while it collects, as the collector always did, so no other thread is inside a `set` at that moment.

CPython also holds full collections back while few long-lived objects are new; that count is not
visible from Python, so a full collection here waits until the last one's cost is a small share of
the time since (`FULL_COLLECTION_SHARE`). This is memory housekeeping, never a verdict.
"""

from __future__ import annotations

import gc
import os
import threading
import time

THREAD_NAME = "zai-gc"
OFF_ENV = "ZAI_GC_ON_THREAD"  # "0": collect the usual way (to measure what this costs, benchmarks/)
POLL_SECONDS = 0.01  # how often the counts are read: at most this much garbage-making between looks
FULL_COLLECTION_SHARE = 0.05  # a full collection takes at most about this share of the thread's time

_lock = threading.Lock()
_thread: threading.Thread | None = None


def collect_off_thread() -> bool:
    """Move collection onto the harness's own thread (once per process; later calls do nothing).
    Returns whether this call did it. Left alone where collection is already off (a user's
    `gc.disable()` or a zero threshold): the process then keeps the choice it made; and with
    ZAI_GC_ON_THREAD=0 in the environment."""
    global _thread
    with _lock:
        if _thread is not None and _thread.is_alive():
            return False
        thresholds = gc.get_threshold()
        if not gc.isenabled() or thresholds[0] == 0 or os.environ.get(OFF_ENV) == "0":
            return False
        gc.disable()
        _thread = threading.Thread(target=_collect, args=(thresholds,), name=THREAD_NAME, daemon=True)
        _thread.start()
        return True


def _forked_child() -> None:
    """A forked child has no collecting thread: it collects the usual way again."""
    global _thread
    if _thread is not None:
        _thread = None
        gc.enable()


os.register_at_fork(after_in_child=_forked_child)


def guarding() -> bool:
    """Collection runs on the harness's thread in this process."""
    return _thread is not None and _thread.is_alive() and not gc.isenabled()


def generation_due(counts: tuple[int, int, int], thresholds: tuple[int, ...]) -> int | None:
    """The oldest generation CPython's rule would collect now, or None: the youngest collection is
    due once its count passes its threshold, an older one once the younger collections since it
    pass its own."""
    for generation in (2, 1, 0):
        if counts[generation] > thresholds[generation]:
            return generation
    return None


def _collect(thresholds: tuple[int, ...]) -> None:
    full_cost = 0.0
    full_at = time.monotonic()
    while True:
        time.sleep(POLL_SECONDS)
        generation = generation_due(gc.get_count(), thresholds)
        if generation is None:
            continue
        if generation == 2:
            now = time.monotonic()
            if full_cost > (now - full_at) * FULL_COLLECTION_SHARE:
                generation = 1
            else:
                gc.collect(2)
                full_at, full_cost = time.monotonic(), time.monotonic() - now
                continue
        gc.collect(generation)
