"""Refuse every network connection outside loopback, and remember each attempt.

Replay must be provably offline: vcrpy answers the clients it patches, but anything else (a cost map
fetch, a tokenizer download, a telemetry ping) would go out. The guard patches connect and name
resolution at the socket layer, so it catches all of them, and records what was tried so a test can
assert that nothing was.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class NetworkBlocked(ConnectionRefusedError):
    """Raised instead of connecting to a non-loopback address during replay (or with --block-network)."""


_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_lock = threading.Lock()
_attempts: list[str] = []
_depth = 0
_originals: dict[str, Any] = {}


def is_loopback(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).strip("[]").lower()
    if host in _LOOPBACK_NAMES or host == "":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _address_host(address: Any) -> Any:
    if isinstance(address, tuple) and address:
        return address[0]
    return None  # AF_UNIX paths and the like are local


def _refuse(what: str) -> NetworkBlocked:
    with _lock:
        _attempts.append(what)
    return NetworkBlocked(f"zai-conformance blocks network access outside loopback (replay or --block-network): {what}")


def note_refused(what: str) -> None:
    """Count a connection the harness refused before trying it (--block-network with a recording mode:
    a cell that would be recorded from a host outside loopback), so the run reports it with the rest."""
    with _lock:
        _attempts.append(what)


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(_address_host(address)):
        raise _refuse(f"connect to {address!r}")
    return _originals["connect"](self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(_address_host(address)):
        raise _refuse(f"connect to {address!r}")
    return _originals["connect_ex"](self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not is_loopback(host):
        raise _refuse(f"resolve {host!r}")
    return _originals["getaddrinfo"](host, *args, **kwargs)


@contextmanager
def loopback_only() -> Iterator[RefusedAttempts]:
    """Within the block, only loopback connections succeed; yields what was refused."""
    global _depth
    with _lock:
        if _depth == 0:
            _originals.update(
                connect=socket.socket.connect,
                connect_ex=socket.socket.connect_ex,
                getaddrinfo=socket.getaddrinfo,
            )
            socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
            socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
            socket.getaddrinfo = _guarded_getaddrinfo
        _depth += 1
        start = len(_attempts)
    try:
        yield RefusedAttempts(start)
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                socket.socket.connect = _originals["connect"]  # type: ignore[method-assign]
                socket.socket.connect_ex = _originals["connect_ex"]  # type: ignore[method-assign]
                socket.getaddrinfo = _originals["getaddrinfo"]


class RefusedAttempts:
    """The attempts refused since a guard was entered, read live."""

    def __init__(self, start: int) -> None:
        self._start = start

    def list(self) -> list[str]:
        with _lock:
            return _attempts[self._start :]


def refused_attempts() -> list[str]:
    """Every attempt refused in this process so far (for the end-of-run report)."""
    with _lock:
        return list(_attempts)
