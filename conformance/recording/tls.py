"""Offline runs build each client's default TLS context once per process, not once per cell.

Every cell builds its client afresh (its own target, key and timeouts), and with it, inside httpx or
httpx2, a default TLS context: loading the CA bundle took 100 ms of a 160 ms zai-sdk cell. Replay
and the served double never open a TLS connection (the transport is intercepted before any socket),
so during a replay the default context — the same CA bundle, the same settings — is built once and
handed to every client that asks for the default (one per CA bundle SSL_CERT_FILE / SSL_CERT_DIR
name). Anything else (verify=False, a client certificate) is built as the library builds it. Live
runs are left alone: there the context is used, and httpcore sets ALPN on it per connection.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
from collections.abc import Iterator
from typing import Any

STACKS = ("httpx", "httpx2")  # each binds create_ssl_context into its transports module by name
_lock = threading.Lock()


def _shared(original: Any) -> Any:
    built: dict[tuple[Any, ...], Any] = {}

    def create_ssl_context(verify: Any = True, cert: Any = None, trust_env: bool = True) -> Any:
        if verify is not True or cert is not None:
            return original(verify=verify, cert=cert, trust_env=trust_env)
        # the default context depends on these alone (the CA bundle the environment names, else certifi's)
        key = (trust_env, os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")) if trust_env else (False,)
        with _lock:
            if key not in built:
                built[key] = original(verify=verify, cert=cert, trust_env=trust_env)
            return built[key]

    create_ssl_context.original = original  # type: ignore[attr-defined]
    return create_ssl_context


@contextlib.contextmanager
def one_default_context() -> Iterator[None]:
    """While inside, each installed HTTP stack builds its default TLS context once."""
    patched: list[tuple[Any, Any]] = []
    for stack in STACKS:
        try:
            module = importlib.import_module(f"{stack}._transports.default")
        except ImportError:
            continue
        original = getattr(module, "create_ssl_context", None)
        if original is None or hasattr(original, "original"):
            continue  # a release without it, or already shared by an enclosing run
        module.create_ssl_context = _shared(original)
        patched.append((module, original))
    try:
        yield
    finally:
        for module, original in patched:
            module.create_ssl_context = original
