"""The double as a server under abuse: hung and slow requests must not pin its threads and sockets once
the client has gone (or after its maximum hang), and `zai-conformance double` must say in one line
why it cannot listen instead of printing a traceback."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conformance.cli import main
from conformance.double.server import MAX_HANG, DoubleServer, running
from conformance.runner import RunSettings
from conformance.triggers import FAULT_HEADER, with_marker

DEADLINE = 30.0  # seconds: generous, so a slow machine only makes the test slower, never red
POLL = 0.05
HUNG = 150  # requests held open at once: 100 hung streams, 25 hung answers, 25 slow first bytes
FD_DIR = Path("/proc/self/fd")

needs_proc_fd = pytest.mark.skipif(not FD_DIR.is_dir(), reason="counting descriptors needs /proc/self/fd")


def open_fds() -> int:
    return len(os.listdir(FD_DIR))


def started_since(before: set[threading.Thread]) -> list[threading.Thread]:
    """Threads alive now that were not before: the double's handlers. Counting every thread of the
    process would also count threads an earlier test left to end on their own (a relay's, LiteLLM's),
    which may end in the middle of this one."""
    return [thread for thread in threading.enumerate() if thread not in before]


def eventually(condition: Callable[[], bool]) -> bool:
    """Poll `condition` until it holds or the deadline passes: the double releases in the background."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL)
    return True


def request(double: DoubleServer, text: str, *, stream: bool, fault: str | None = None) -> socket.socket:
    """A raw HTTP/1.1 chat request on its own socket, left open: no client library, no pool, no timeout."""
    url = urlsplit(double.base_urls["coding"])
    body = json.dumps({"model": "glm-4.6", "messages": [{"role": "user", "content": text}], "stream": stream})
    head = [
        f"POST {url.path}/chat/completions HTTP/1.1",
        f"Host: {url.netloc}",
        "Authorization: Bearer double-test-key",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *([f"{FAULT_HEADER}: {fault}"] if fault else []),
    ]
    client = socket.create_connection((url.hostname, url.port), timeout=DEADLINE)
    client.sendall(("\r\n".join(head) + "\r\n\r\n" + body).encode())
    return client


def first_chunk(client: socket.socket) -> bytes:
    """Read until the first SSE event has arrived: the double is now hanging on this request."""
    received = b""
    while b"data: " not in received:
        more = client.recv(65536)
        assert more, f"the double closed a hung stream early: {received!r}"
        received += more
    return received


def until_closed(client: socket.socket) -> bytes:
    """Everything the double sends until it closes its end."""
    received = b""
    while more := client.recv(65536):
        received += more
    return received


@pytest.fixture
def double() -> Iterator[DoubleServer]:
    with running() as server:
        yield server


# --- hung requests are released -------------------------------------------------------------------


@needs_proc_fd
def test_hung_and_slow_requests_are_released_when_their_clients_go(double: DoubleServer) -> None:
    threads, fds = set(threading.enumerate()), open_fds()
    clients = [request(double, with_marker("hi", "hang"), stream=True) for _ in range(100)]
    for client in clients:
        first_chunk(client)
    clients += [request(double, "hi", stream=False, fault="hang") for _ in range(25)]
    clients += [request(double, with_marker("hi", "slow=600"), stream=False) for _ in range(25)]
    assert eventually(lambda: len(started_since(threads)) >= HUNG), "every request is held by the double"

    for client in clients:
        client.close()

    assert eventually(lambda: not started_since(threads)), (
        f"{len(started_since(threads))} handler threads still pinned after their clients left"
    )
    assert eventually(lambda: open_fds() <= fds), f"{open_fds() - fds} descriptors still open"


@needs_proc_fd
def test_a_client_that_never_leaves_is_released_after_the_maximum_hang() -> None:
    with running(max_hang=0.5) as double:
        threads, fds = set(threading.enumerate()), open_fds()
        stream = request(double, with_marker("hi", "hang"), stream=True)
        head = first_chunk(stream)
        answer = request(double, "hi", stream=False, fault="hang")
        slow = request(double, with_marker("hi", "slow=600"), stream=False)

        rest = until_closed(stream)  # the double closes; the client never did
        assert b"200 OK" in head and not (head + rest).endswith(b"0\r\n\r\n")  # cut off, not a finished stream
        assert until_closed(answer) == b"" and until_closed(slow) == b""  # no answer, just a close
        for client in (stream, answer, slow):
            client.close()
        assert eventually(lambda: not started_since(threads))
        assert eventually(lambda: open_fds() <= fds)


def test_stopping_the_double_releases_the_requests_it_holds() -> None:
    threads = set(threading.enumerate())
    with running() as double:
        clients = [request(double, with_marker("hi", "hang"), stream=True) for _ in range(20)]
        for client in clients:
            first_chunk(client)
    try:
        assert eventually(lambda: not started_since(threads))
    finally:
        for client in clients:
            client.close()


def test_a_slow_first_byte_still_arrives_when_the_client_waits(double: DoubleServer) -> None:
    client = request(double, with_marker("hi", "slow=0.3"), stream=False)
    started = time.monotonic()
    answer = client.recv(65536)
    client.close()
    assert answer.startswith(b"HTTP/1.1 200 OK") and time.monotonic() - started >= 0.25


def test_the_default_maximum_hang_outlasts_the_longest_idle_limit_of_a_run() -> None:
    live, replay = RunSettings(mode="live").timeout(), RunSettings().timeout()
    assert 2 * max(live, replay) <= MAX_HANG  # a waiting client always times out first: it sees a HANG


# --- `zai-conformance double` where it cannot listen ----------------------------------------------


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as occupant:
        occupant.bind(("127.0.0.1", 0))
        occupant.listen()
        yield occupant.getsockname()[1]


def test_a_busy_port_is_one_line_and_exit_2(busy_port: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["double", "--port", str(busy_port)]) == 2
    out, err = capsys.readouterr()
    assert err == f"zai-conformance double: cannot listen on 127.0.0.1:{busy_port}: address already in use\n"
    assert out == ""


@pytest.mark.parametrize(
    ("host", "port", "reason"),
    [
        ("127.0.0.1", "-1", "the port must be 0-65535"),
        ("127.0.0.1", "65536", "the port must be 0-65535"),
        # a label over 63 characters: the resolver refuses the name before asking any DNS server
        ("x" * 64 + ".invalid", "0", "unknown host"),
        ("192.0.2.1", "0", "cannot assign requested address"),  # TEST-NET-1: not an address of this machine
    ],
)
def test_a_port_or_host_it_cannot_use_is_one_line_and_exit_2(
    host: str, port: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["double", "--host", host, "--port", port]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"zai-conformance double: cannot listen on {host}:{port}: {reason}")
    assert err.count("\n") == 1 and "Traceback" not in err and out == ""
