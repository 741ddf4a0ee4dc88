"""No waiting between a client's retries while replaying.

Clients back off before retrying a 429 or a 5xx (the OpenAI and Anthropic SDKs up to 8 s a retry,
LiteLLM's Router in the proxy likewise). Against a live server that wait is politeness; against a
cassette it carries no information — the recording already holds each attempt's answer — and it
turned a replay of the proxy's error cells into five to nine seconds each. During replay the back-off
hooks of those clients wait zero seconds; how many retries a path makes is unchanged, and still
reported.

Two kinds of hook, because LiteLLM changed how its Router waits: up to 1.109 the Router asks
`_time_to_sleep_before_retry` for the seconds and sleeps itself; from 1.110 its router core hands a
"sleep" step to `PythonHost.sleep` / `sleep_sync`. A hook missing from the installed release is
skipped, so one table serves every client set.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any


def _no_wait(*_: Any, **__: Any) -> float:
    """Stands in for a method that returns the seconds to wait."""
    return 0.0


def _sleep_zero(*_: Any, **__: Any) -> Awaitable[None]:
    """Stands in for a method that returns the awaitable sleep itself: still a yield to the loop."""
    return asyncio.sleep(0)


def _sleep_sync_zero(*_: Any, **__: Any) -> None:
    """Stands in for a method that sleeps in the calling thread."""


# (module, class, method, replacement)
HOOKS: tuple[tuple[str, str, str, Callable[..., Any]], ...] = (
    ("openai._base_client", "BaseClient", "_calculate_retry_timeout", _no_wait),
    ("anthropic._base_client", "BaseClient", "_calculate_retry_timeout", _no_wait),
    ("litellm.router", "Router", "_time_to_sleep_before_retry", _no_wait),
    ("litellm.router_python_host", "PythonHost", "sleep", _sleep_zero),
    ("litellm.router_python_host", "PythonHost", "sleep_sync", _sleep_sync_zero),
)


@contextmanager
def without_backoff() -> Iterator[None]:
    """Only clients already imported are patched: importing LiteLLM costs seconds, and a client first
    imported during a cell simply waits in that one cell."""
    patched: list[tuple[type, str, Any]] = []
    for module_name, class_name, method, replacement in HOOKS:
        owner = getattr(sys.modules.get(module_name), class_name, None)
        original = owner.__dict__.get(method) if isinstance(owner, type) else None
        if original is None:  # not imported, or renamed in another version: it just waits
            continue
        patched.append((owner, method, original))
        setattr(owner, method, replacement)
    try:
        yield
    finally:
        for owner, method, original in reversed(patched):
            setattr(owner, method, original)
