"""No waiting between a client's retries while replaying.

Clients back off before retrying a 429 or a 5xx (the OpenAI and Anthropic SDKs up to 8 s a retry,
LiteLLM's Router in the proxy likewise). Against a live server that wait is politeness; against a
cassette it carries no information — the recording already holds each attempt's answer — and it
turned a replay of the proxy's error cells into nine seconds each. During replay the back-off hooks of
those clients return zero; how many retries a path makes is unchanged, and still reported.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# (module, class, method): each returns the seconds to wait before the next attempt.
HOOKS = (
    ("openai._base_client", "BaseClient", "_calculate_retry_timeout"),
    ("anthropic._base_client", "BaseClient", "_calculate_retry_timeout"),
    ("litellm.router", "Router", "_time_to_sleep_before_retry"),
)


def _no_wait(*_: Any, **__: Any) -> float:
    return 0.0


@contextmanager
def without_backoff() -> Iterator[None]:
    """Only clients already imported are patched: importing LiteLLM costs seconds, and a client first
    imported during a cell simply waits in that one cell."""
    patched: list[tuple[type, str, Any]] = []
    for module_name, class_name, method in HOOKS:
        owner = getattr(sys.modules.get(module_name), class_name, None)
        original = owner.__dict__.get(method) if isinstance(owner, type) else None
        if original is None:  # not imported, or renamed in another version: it just waits
            continue
        patched.append((owner, method, original))
        setattr(owner, method, _no_wait)
    try:
        yield
    finally:
        for owner, method, original in reversed(patched):
            setattr(owner, method, original)
