"""Every change this harness makes to LiteLLM's process-wide state, in one place, each undone by the
context manager that made it — so that no cell's verdict depends on which cells ran before it.

One process runs every LiteLLM path and the in-process LiteLLM proxy, and `litellm` keeps its settings
as module globals. Four things here touch them:

- `shipped_prices()`: `litellm.model_cost` as this LiteLLM release ships it, while an answer is priced
  (the proxy registers its deployments into the map in use, at no cost);
- `modify_params(value)`: `litellm.modify_params` as a configuration sets it (OpenHands), for one call;
- `isolated_litellm()`: a Router's cell — no global response cache, and the callback lists and
  `litellm.cache` given back as they were;
- `LiteLLMGlobals`: the proxy's own values of LiteLLM's globals, applied only while it handles a request.

`import_litellm()` is the one import of LiteLLM for the paths (deferred: it costs seconds), with the
settings the harness always wants (no debug banner, no telemetry, quiet logs).
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import threading
import types
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

# LiteLLM's module-level lists a Router or a Cache registers callbacks in
CALLBACK_LISTS = (
    "callbacks",
    "input_callback",
    "success_callback",
    "failure_callback",
    "service_callback",
    "_async_input_callback",
    "_async_success_callback",
    "_async_failure_callback",
)


def import_litellm() -> Any:
    """`litellm`, imported on first use, without its debug banner and telemetry."""
    import litellm

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    # Its logging worker warns whenever a new event loop appears, i.e. on every async cell.
    logging.getLogger("LiteLLM").setLevel(logging.ERROR)
    return litellm


@cache
def shipped_cost_map() -> dict[str, Any]:
    """The cost map file this LiteLLM release ships (what LITELLM_LOCAL_MODEL_COST_MAP=True loads)."""
    from importlib import resources

    return json.loads((resources.files("litellm") / "model_prices_and_context_window_backup.json").read_text())


@contextlib.contextmanager
def shipped_prices() -> Iterator[Any]:
    """`litellm` pricing with the cost map its release ships, not the one in use: the in-process proxy
    registers its deployments into `litellm.model_cost` (at no cost), and a price must not depend on
    whether a proxy cell ran first."""
    litellm = import_litellm()
    in_use, litellm.model_cost = litellm.model_cost, shipped_cost_map()
    _forget_prices(litellm)
    try:
        yield litellm
    finally:
        litellm.model_cost = in_use
        _forget_prices(litellm)


# LiteLLM memoises model-info lookups over `model_cost` (a case-insensitive key map and LRU caches of
# get_model_info). Swapping the map without clearing them prices a model by the map swapped out — the
# proxy's zero-cost deployments leaked into `completion_cost` after a proxy cell (seen on 1.106.2).
_PRICE_CACHES = ("_cached_get_model_info", "cached_get_model_info_helper", "_get_model_info_helper")


def _forget_prices(litellm: Any) -> None:
    utils = getattr(litellm, "utils", None)
    invalidate = getattr(utils, "_invalidate_model_cost_lowercase_map", None)
    if callable(invalidate):
        invalidate()
        return
    for name in _PRICE_CACHES:  # releases without the invalidation hook: clear what they memoise
        clear = getattr(getattr(utils, name, None), "cache_clear", None)
        if callable(clear):
            clear()


@contextlib.contextmanager
def modify_params(value: bool) -> Iterator[None]:
    """`litellm.modify_params` set for the duration of one call (a configuration's setting)."""
    litellm = import_litellm()
    before = litellm.modify_params
    litellm.modify_params = value
    try:
        yield
    finally:
        litellm.modify_params = before


@contextlib.contextmanager
def isolated_litellm() -> Iterator[Any]:
    """A Router cell without a global response cache, and LiteLLM's globals given back afterwards:
    `litellm.cache` as it was, and each callback list as the same list object with exactly its former
    entries. Both ways a release may change a list are undone: filled in place (the list LiteLLM's
    logging holds on to is put back in shape) or replaced by a new list (the original object is put back)."""
    litellm = import_litellm()
    saved = {
        name: (value, list(value)) for name in CALLBACK_LISTS if isinstance(value := getattr(litellm, name, None), list)
    }
    saved_cache = litellm.cache
    litellm.cache = None  # `cache_responses` builds a fresh in-memory cache only when none is installed
    try:
        yield litellm
    finally:
        litellm.cache = saved_cache
        for name, (original, entries) in saved.items():
            original[:] = entries
            setattr(litellm, name, original)


class LiteLLMGlobals:
    """The proxy's own values of LiteLLM's module globals, applied only while it works.

    Loading the guide's config sets `litellm.drop_params = True` and registers the proxy's callbacks;
    left in place, that would silently change what every later `litellm.completion` of a client path
    does. `learn(before)` records what the proxy changed since `before` (a snapshot) and puts `before`
    back; `enter()`/`leave()` (or `engaged()`) apply the proxy's values around a request and then
    restore the client side's, keeping anything the proxy changed meanwhile for next time. Requests may
    overlap: the values are swapped in by the first and out by the last. `release()` hands LiteLLM back
    to the client side at once, for a client that stopped waiting while the proxy still works (a hang).
    A snapshot reads only the globals that hold data (~600 of LiteLLM's ~1,000 names, once the proxy is
    loaded), found again whenever the module gains or loses a name; the lists and dicts are copied."""

    def __init__(self) -> None:
        self.proxy: dict[str, Any] = {}
        self._depth = 0
        self._generation = 0
        self._outside: dict[str, Any] = {}
        self._entered: dict[str, Any] = {}
        self._lock = threading.Lock()

    @staticmethod
    def snapshot() -> dict[str, Any]:
        import litellm

        namespace = vars(litellm)
        state = {}
        for name in _data_names(namespace):
            value = namespace.get(name, _GONE)
            if value is not _GONE:
                state[name] = copy.copy(value) if isinstance(value, list | dict | set) else value
        return state

    def learn(self, before: Mapping[str, Any]) -> None:
        now = self.snapshot()
        self.proxy.update(_changed(before, now))
        _apply({name: before[name] for name in _changed(before, now)})

    def enter(self) -> int:
        """Apply the proxy's values (first request in); returns the token `leave` takes."""
        with self._lock:
            if self._depth == 0:
                self._outside = self.snapshot()
                _apply(self.proxy)
                self._entered = self.snapshot()
            self._depth += 1
            return self._generation

    def leave(self, token: int) -> None:
        """Give LiteLLM back to the client side (last request out). A request that outlived `release`
        leaves nothing to undo."""
        with self._lock:
            if token != self._generation or self._depth == 0:
                return
            self._depth -= 1
            if self._depth == 0:
                self._restore()

    def release(self) -> None:
        """The client is done (or gave up — a hang, a timeout) while the proxy may still be working on
        its request: LiteLLM is the client side's again from now on."""
        with self._lock:
            if self._depth > 0:
                self._restore()
                self._depth = 0
                self._generation += 1

    def _restore(self) -> None:
        self.proxy.update(_changed(self._entered, self.snapshot()))
        _apply({name: self._outside[name] for name in self.proxy if name in self._outside})

    @contextlib.contextmanager
    def engaged(self) -> Iterator[None]:
        token = self.enter()
        try:
            yield
        finally:
            self.leave(token)


_GONE = object()
_NAMES: tuple[int, tuple[str, ...]] = (-1, ())  # (how many names the module had, those that held data)


def _is_code(value: Any) -> bool:
    """A module, class or function: what a snapshot leaves alone (LiteLLM's settings are data)."""
    if isinstance(value, types.ModuleType | type):
        return True
    return callable(value) and not isinstance(value, list | dict | set)


def _data_names(namespace: Mapping[str, Any]) -> tuple[str, ...]:
    """The module's names that hold data, found again when the module's size changes: telling data
    from code for ~1,000 names was most of a snapshot's cost, and it runs three times per proxy request.
    A name rebound from code to data without the module changing size is not seen (LiteLLM binds its
    settings at import); one rebound the other way is kept like data, which restores it all the same."""
    global _NAMES
    size, names = _NAMES
    if size != len(namespace):
        names = tuple(n for n, v in list(namespace.items()) if not n.startswith("__") and not _is_code(v))
        _NAMES = (len(namespace), names)
    return names


def _changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Names present before whose value differs after (names LiteLLM creates lazily are left alone)."""
    changed = {}
    for name, value in after.items():
        if name not in before:
            continue
        try:
            same = before[name] is value or bool(before[name] == value)
        except Exception:  # an object whose == cannot answer: treat as changed only if not identical
            same = False
        if not same:
            changed[name] = value
    return changed


def _apply(values: Mapping[str, Any]) -> None:
    import litellm

    for name, value in values.items():
        current = getattr(litellm, name, None)
        if isinstance(current, list) and isinstance(value, list):
            current[:] = value  # in place: other modules may hold the list itself
        elif isinstance(current, dict) and isinstance(value, dict):
            current.clear()
            current.update(value)
        else:
            setattr(litellm, name, copy.copy(value) if isinstance(value, set) else value)
