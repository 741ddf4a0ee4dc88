"""The double's HTTP server: a real server on a loopback port that speaks Z.AI's three surfaces.

Routes follow the catalogue's endpoint base paths, so the double answers at the same paths Z.AI
does (`/api/paas/v4/chat/completions`, `/api/coding/paas/v4/…`, `/api/anthropic/v1/messages`), and a
client needs only its host changed. Streams go out with chunked transfer encoding, one SSE event per
write, so clients see them arrive as they would from Z.AI — and the transport faults (a hang, a slow
first byte, a reset) act on real sockets.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from conformance.catalogue import Catalogue, load_catalogue
from conformance.double import anthropic_surface, openai_surface
from conformance.double.answers import plan
from conformance.double.faults import transport_of
from conformance.double.refusals import Refusal, check_key, check_request
from conformance.double.wire import DoubleRequest, Reply


class Double:
    """Routes a request to its surface and runs the answer flow: key, request rules, plan, render."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.bases = sorted(
            ((urlsplit(e.base_url).path.rstrip("/"), e.id, e.protocol) for e in catalogue.endpoints),
            key=lambda base: len(base[0]),
            reverse=True,
        )

    def route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        location, _, query = path.partition("?")
        for base, endpoint, protocol in self.bases:
            if location.startswith(base + "/"):
                request = DoubleRequest(method, endpoint, location[len(base) :], query, headers, body)
                return self._dispatch(request, protocol)
        return Reply(404, {"Content-Type": "application/json"}, body=b'{"error":{"code":"404","message":"Not Found"}}')

    def _dispatch(self, request: DoubleRequest, protocol: str) -> Reply:
        if protocol == "anthropic":
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

    def _answer(self, request: DoubleRequest, surface: Any) -> Reply:
        stream = b'"stream":true' in request.body.replace(b" ", b"")
        try:
            check_key(surface.key(request), request.endpoint)
            ask = surface.parse(request, self.catalogue)
            stream = ask.stream
            check_request(ask)
            reply = surface.render(ask, plan(ask))
        except Refusal as refused:
            return surface.render_refusal(refused, stream=stream)
        reply.transport = transport_of(ask.fault)
        return reply


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "zai-conformance-double"  # not nginx: nobody should mistake it for Z.AI
    sys_version = ""
    server: _Server

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.server.double.route(self.command, self.path, headers, body)
        if reply.transport.slow:
            self.server.stopping.wait(reply.transport.slow)
        try:
            if reply.events is None:
                self._whole(reply)
            else:
                self._stream(reply)
        except (BrokenPipeError, ConnectionResetError):
            # the client gave up first (its timeout against a slow or hung answer): that is the test
            self.close_connection = True

    def _whole(self, reply: Reply) -> None:
        if reply.transport.hang:
            self.server.stopping.wait()  # the answer never comes
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
                self.server.stopping.wait()  # after the first chunk, silence
                self.close_connection = True
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

    def __init__(self, address: tuple[str, int], double: Double, verbose: bool) -> None:
        super().__init__(address, _Handler)
        self.double = double
        self.verbose = verbose
        self.stopping = threading.Event()


class DoubleServer:
    """A running double. `root_url` replaces `https://api.z.ai`; `base_urls` are per endpoint."""

    def __init__(self, server: _Server, catalogue: Catalogue) -> None:
        self._server = server
        self.catalogue = catalogue
        host, port = server.server_address[:2]
        self.root_url = f"http://{host}:{port}"
        self.port = port

    @property
    def base_urls(self) -> dict[str, str]:
        return {e.id: self.root_url + urlsplit(e.base_url).path.rstrip("/") for e in self.catalogue.endpoints}

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()


def start(
    port: int = 0, host: str = "127.0.0.1", catalogue: Catalogue | None = None, verbose: bool = False
) -> DoubleServer:
    catalogue = catalogue or load_catalogue()
    server = _Server((host, port), Double(catalogue), verbose)
    threading.Thread(target=server.serve_forever, name="zai-double", daemon=True).start()
    return DoubleServer(server, catalogue)


@contextmanager
def running(port: int = 0, catalogue: Catalogue | None = None) -> Iterator[DoubleServer]:
    """The double on a loopback port for the duration of the block (port 0: an ephemeral one)."""
    double = start(port, catalogue=catalogue)
    try:
        yield double
    finally:
        double.stop()


def serve_forever(port: int, host: str = "127.0.0.1") -> None:
    """`zai-conformance double --port N`: print the base URLs and serve until interrupted."""
    double = start(port, host, verbose=True)
    print(f"zai-conformance double listening on {double.root_url} (synthetic answers, not Z.AI)")
    for endpoint, url in double.base_urls.items():
        print(f"  {endpoint:<10} {url}")
    print("Point a client at one of these, e.g. --base-url coding=<url>; Ctrl-C stops.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        double.stop()
