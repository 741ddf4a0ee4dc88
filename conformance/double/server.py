"""The double's HTTP server: a real server on a loopback port that speaks Z.AI's surfaces.

Routes follow the catalogue's endpoint base paths, so the double answers at the same paths Z.AI
does (`/api/paas/v4/chat/completions`, `/api/coding/paas/v4/…`, `/api/anthropic/v1/messages`,
`/api/v1/responses`), and a client needs only its host changed. Streams go out with chunked transfer
encoding, one SSE event per write, so clients see them arrive as they would from Z.AI — and the
transport faults (a hang, a slow first byte, a reset) act on real sockets.
"""

from __future__ import annotations

import json
import math
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from conformance.catalogue import Catalogue, load_catalogue
from conformance.double import anthropic_surface, openai_surface, responses_surface
from conformance.double.answers import plan
from conformance.double.eras import UnknownEra, WireEra, era_named
from conformance.double.faults import transport_of
from conformance.double.refusals import Refusal, check_key, check_request
from conformance.double.wire import DoubleRequest, Reply
from conformance.triggers import CALLS_HEADER, ERA_HEADER, requested_calls, requested_era

MAX_HANG = 600.0
"""Seconds a hung or slow request may hold its thread and socket while its client stays connected.

Ten minutes: five times the longest idle limit the harness gives a client (120 s live; replay uses
10 s, scenarios 2 s), so a client that waits always gives up first and sees a hang (→ HANG), while a
client that never closes its socket cannot pin the double for longer than this. A run with a longer
`--idle-timeout` against `zai-conformance double` needs `--max-hang` raised to match."""

TICK = 0.25
"""Seconds between looks at the stop flag while a request waits for its client to leave. Stopping
frees held requests within this; a wake-up pipe would be one more descriptor to outlive them."""

RESPONSES_BASE = "/api/v1"
"""Where Z.AI serves OpenAI's Responses API (`POST /api/v1/responses`, ZAI-FACTS §9.4). Served whether or
not the catalogue lists the endpoint yet; a catalogue endpoint of protocol `responses` takes its place."""
RESPONSES_ENDPOINT = "responses"
"""The endpoint id its requests carry. No plan refuses it (triggers.PLAN_REFUSED_ON names no such
endpoint): Z.AI documents the Responses API for coding tools on docs.z.ai/devpack/tool/others
(VicBilibily/GCMP#369, 2026-08-15), and its base URL is neither the coding nor the pay-as-you-go one,
so the double accepts Coding Plan and pay-as-you-go keys alike there."""

_PEER_CLOSED = getattr(select, "POLLRDHUP", 0)  # Linux: the client's FIN, even behind unread bytes


class ListenError(Exception):
    """The double cannot listen where it was asked to; the message says where and why, in one line."""


def _client_left(connection: socket.socket, seconds: float) -> bool:
    """Wait up to `seconds` for the client to close or reset its end of `connection`; True if it did.

    A closed peer makes the socket readable with nothing to read (a peek of 0 bytes), a reset one
    makes the peek fail. Linux also reports the FIN itself, which still works when the client has
    sent bytes nobody reads; elsewhere such bytes look like a client still there, so the slice is
    slept out rather than spun on.
    """
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(connection, _PEER_CLOSED or select.POLLIN)
        events = poller.poll(math.ceil(seconds * 1000))
        if not events:
            return False
        if events[0][1] & (_PEER_CLOSED | select.POLLHUP | select.POLLERR | select.POLLNVAL):
            return True
    elif not select.select([connection], [], [], seconds)[0]:
        return False
    try:
        if connection.recv(1, socket.MSG_PEEK) == b"":
            return True
    except OSError:  # ECONNRESET and kin: the client is gone just the same
        return True
    time.sleep(seconds)
    return False


class Double:
    """Routes a request to its surface and runs the answer flow: key, request rules, plan, render.

    It answers in the wire shapes of `era` (a name or a date, data/wire_eras.yaml; None: the newest
    recordings'), unless a request asks for another with `X-Double-Era`. `UnknownEra` for an era the
    recordings do not show."""

    def __init__(self, catalogue: Catalogue, era: str | None = None) -> None:
        self.catalogue = catalogue
        self.era: WireEra = era_named(era)
        bases = [(urlsplit(e.base_url).path.rstrip("/"), e.id, str(e.protocol)) for e in catalogue.endpoints]
        if not any(protocol == "responses" for _, _, protocol in bases):
            bases.append((RESPONSES_BASE, RESPONSES_ENDPOINT, "responses"))
        self.bases = sorted(bases, key=lambda base: len(base[0]), reverse=True)

    def route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        location, _, query = path.partition("?")
        for base, endpoint, protocol in self.bases:
            if location.startswith(base + "/"):
                request = DoubleRequest(method, endpoint, location[len(base) :], query, headers, body)
                return self._dispatch(request, protocol)
        return Reply(404, {"Content-Type": "application/json"}, body=b'{"error":{"code":"404","message":"Not Found"}}')

    def _dispatch(self, request: DoubleRequest, protocol: str) -> Reply:
        if protocol == "responses":
            if request.method == "POST" and request.route == "/responses":
                return self._answer(request, responses_surface)
        elif protocol == "anthropic":
            if request.method == "POST" and request.route == "/v1/messages":
                return self._answer(request, anthropic_surface)
            if request.method == "GET" and request.route == "/v1/models":
                return self._guarded(request, anthropic_surface, lambda: anthropic_surface.models(self.catalogue))
        elif request.method == "POST" and request.route == "/chat/completions":
            return self._answer(request, openai_surface)
        elif request.method == "GET" and request.route == "/models":
            return self._guarded(request, openai_surface, lambda: openai_surface.models(self.catalogue))
        elif request.method == "POST" and request.route == "/embeddings":
            return self._guarded(request, openai_surface, lambda: openai_surface.embeddings(request))
        return Reply(404, {"Content-Type": "application/json"}, body=b'{"error":{"code":"404","message":"Not Found"}}')

    def _guarded(self, request: DoubleRequest, surface: Any, answer: Any) -> Reply:
        try:
            check_key(surface.key(request), request.endpoint)
        except Refusal as refused:
            return surface.render_refusal(refused, stream=False)
        return answer()

    def _era(self, request: DoubleRequest) -> WireEra:
        wanted = requested_era(request.headers)
        return self.era if wanted is None else era_named(wanted)

    def _answer(self, request: DoubleRequest, surface: Any) -> Reply:
        stream = b'"stream":true' in request.body.replace(b" ", b"")
        try:
            era = self._era(request)
        except UnknownEra as exc:  # the double's own protocol, not Z.AI's: say so plainly
            return _protocol_error("double-era", f"{ERA_HEADER}: {exc}")
        try:
            check_key(surface.key(request), request.endpoint)
            ask = surface.parse(request, self.catalogue)
            ask.era = era
            ask.calls_asked = requested_calls(request.headers)
            unoffered = sorted(set(ask.calls_asked or ()) - {tool.name for tool in ask.tools})
            if unoffered:  # the double's own protocol, not Z.AI's: say so plainly
                return _protocol_error("double-calls", f"{CALLS_HEADER}: not offered by the request: {unoffered}")
            stream = ask.stream
            check_request(ask)
            reply = surface.render(ask, plan(ask))
        except Refusal as refused:
            return surface.render_refusal(refused, stream=stream)
        reply.transport = transport_of(ask.fault)
        return reply


def _protocol_error(code: str, message: str) -> Reply:
    """A 400 for a misuse of the double's own trigger protocol (conformance/triggers.py): never Z.AI's."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    return Reply(400, {"Content-Type": "application/json"}, body=body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "zai-conformance-double"  # not nginx: nobody should mistake it for Z.AI
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        # a connection that sends nothing (no request, a short body, an idle keep-alive) is dropped
        # after the maximum hang too, instead of pinning its thread until the double stops
        self.timeout = self.server.max_hang
        super().setup()

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        try:
            body = self.rfile.read(length) if length else b""
        except OSError:  # the client left, or stalled past the maximum hang, mid-body
            self.close_connection = True
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.server.double.route(self.command, self.path, headers, body)
        if reply.transport.slow and not self._wait(reply.transport.slow):
            self.close_connection = True  # nobody left to answer, or waited past the maximum hang
            return
        try:
            if reply.events is None:
                self._whole(reply)
            else:
                self._stream(reply)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            # the client gave up first (its timeout against a slow or hung answer): that is the test
            self.close_connection = True

    def _wait(self, seconds: float) -> bool:
        """Send nothing for `seconds`; True if the client is still there to be answered afterwards.

        A hung or slow request gives up early — False, and its connection is closed — when the
        client leaves, the double stops, or the server's maximum hang runs out: to a client still
        waiting it looks the same, but its thread and socket are not pinned for the double's life.
        """
        deadline = time.monotonic() + min(seconds, self.server.max_hang)
        while not self.server.stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return seconds <= self.server.max_hang
            if _client_left(self.connection, min(left, TICK)):
                return False
        return False

    def _hang(self) -> None:
        """The rest of the answer never comes: wait until the client leaves (or the maximum hang)."""
        self._wait(math.inf)
        self.close_connection = True

    def _whole(self, reply: Reply) -> None:
        if reply.transport.hang:
            self._hang()  # the answer never comes
            return
        payload = reply.body or b""
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _stream(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        events = reply.events or []
        for number, event in enumerate(events):
            if reply.transport.reset and number == len(events) // 2:
                self._reset()
                return
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.flush()
            if reply.transport.hang:
                self._hang()  # after the first chunk, silence
                return
        self.wfile.write(b"0\r\n\r\n")

    def _reset(self) -> None:
        """Close with RST, not FIN: the client sees a connection reset mid-stream."""
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # a burst of connections (a pool, a fault test) is accepted, not SYN-retried

    def __init__(self, address: tuple[str, int], double: Double, verbose: bool, max_hang: float) -> None:
        super().__init__(address, _Handler)
        self.double = double
        self.verbose = verbose
        self.max_hang = max_hang
        self.stopping = threading.Event()


class DoubleServer:
    """A running double. `root_url` replaces `https://api.z.ai`; `base_urls` are per endpoint."""

    def __init__(self, server: _Server, catalogue: Catalogue) -> None:
        self._server = server
        self.catalogue = catalogue
        self.era = server.double.era  # the wire era it answers in unless a request asks for another
        host, port = server.server_address[:2]
        self.root_url = f"http://{host}:{port}"
        self.port = port

    @property
    def base_urls(self) -> dict[str, str]:
        return {e.id: self.root_url + urlsplit(e.base_url).path.rstrip("/") for e in self.catalogue.endpoints}

    @property
    def responses_url(self) -> str:
        """The Responses API's base URL (append `/responses`), listed in the catalogue or not."""
        base = next(path for path, _, protocol in self._server.double.bases if protocol == "responses")
        return self.root_url + base

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()


def start(
    port: int = 0,
    host: str = "127.0.0.1",
    catalogue: Catalogue | None = None,
    verbose: bool = False,
    max_hang: float = MAX_HANG,
    era: str | None = None,
) -> DoubleServer:
    """Listen on `host:port` and serve in a background thread; `ListenError` if it cannot listen,
    `UnknownEra` (before listening) for an era the recordings do not show."""
    catalogue = catalogue or load_catalogue()
    double = Double(catalogue, era)
    server = _listen(host, port, lambda address: _Server(address, double, verbose, max_hang))
    threading.Thread(target=server.serve_forever, name="zai-double", daemon=True).start()
    return DoubleServer(server, catalogue)


def _listen(host: str, port: int, server: Callable[[tuple[str, int]], _Server]) -> _Server:
    """Bind `server` to `host:port`, or say in one line what stops it: a busy port, a port out of range,
    a host that does not resolve or is not this machine's — for a user, not a traceback."""
    where = f"cannot listen on {host}:{port}"
    if not 0 <= port <= 65535:
        raise ListenError(f"{where}: the port must be 0-65535")
    try:
        return server((host, port))
    except socket.gaierror as exc:
        raise ListenError(f"{where}: unknown host ({_reason(exc)})") from exc
    except ValueError as exc:  # a host that is not even a name: non-IDNA text, a NUL
        raise ListenError(f"{where}: not a host name ({exc})") from exc
    except OSError as exc:
        raise ListenError(f"{where}: {_reason(exc)}") from exc


def _reason(exc: OSError) -> str:
    """`Address already in use` → `address already in use`: the tail of a one-line message."""
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


@contextmanager
def running(
    port: int = 0, catalogue: Catalogue | None = None, max_hang: float = MAX_HANG, era: str | None = None
) -> Iterator[DoubleServer]:
    """The double on a loopback port for the duration of the block (port 0: an ephemeral one)."""
    double = start(port, catalogue=catalogue, max_hang=max_hang, era=era)
    try:
        yield double
    finally:
        double.stop()


def serve_forever(port: int, host: str = "127.0.0.1", max_hang: float = MAX_HANG, era: str | None = None) -> None:
    """`zai-conformance double --port N [--era E]`: print the base URLs and serve until interrupted.

    Raises `ListenError` or `UnknownEra` (before printing anything) when it cannot listen there or
    does not know the era."""
    double = start(port, host, verbose=True, max_hang=max_hang, era=era)
    era_name = double.era.name
    print(f"zai-conformance double listening on {double.root_url} (synthetic answers, not Z.AI; wire era {era_name})")
    urls = double.base_urls
    for endpoint, url in {**urls, RESPONSES_ENDPOINT: urls.get(RESPONSES_ENDPOINT, double.responses_url)}.items():
        print(f"  {endpoint:<10} {url}")
    print("Point a client at one of these, e.g. --base-url coding=<url>; Ctrl-C stops.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        double.stop()
