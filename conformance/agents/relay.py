"""A loopback relay between an agent's own CLI and its endpoint.

An agent is a program of its own (Claude Code, Codex, opencode): its HTTP never passes through this
process, so the recording layer cannot see it. The agent is pointed at this relay instead, and the
relay sends each request on with httpx from inside the harness — where the recording layer records,
replays or serves it like any client's — and streams the answer back as it arrives. The relay changes
nothing in either direction except the hop-by-hop headers HTTP requires it to own; what the agent sent
is what the cell's evidence holds.

It listens on 127.0.0.1 only, on a port of its own per cell, and its upstream calls carry the cell's
tap as their owner (`recorder.REQUEST_OWNER`), so an agent still talking after its cell ended is
refused rather than judged on the next cell's evidence.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from conformance.recording import recorder

# Headers one hop owns (RFC 9110 §7.6.1) and the ones httpx sets from the body it sends.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
CHUNK = 65536


class Relay:
    """One cell's relay: `start()` returns its base URL; every request to it goes to `upstream`
    (the endpoint's base URL) with the same path below the base, method, headers and body."""

    def __init__(self, upstream: str, *, idle_timeout: float, connect_timeout: float) -> None:
        self.upstream = upstream.rstrip("/")
        self.requests = 0  # how many requests the agent sent through the relay
        self.failures: list[str] = []  # upstream calls that raised (the agent got a 502 naming them)
        self._timeout = httpx.Timeout(idle_timeout, connect=connect_timeout)
        self._client = httpx.Client(timeout=self._timeout, follow_redirects=False)
        self._owner = recorder.active_tap()
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the relay is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        relay = self

        class Handler(_Forward):
            pass

        Handler.relay = relay
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="zai-agent-relay", daemon=True).start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self._client.close()

    def __enter__(self) -> Relay:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def forward(self, handler: _Forward) -> None:
        """Send one request on and stream its answer back (called on the request's own thread)."""
        with self._lock:
            self.requests += 1
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        headers = [(k, v) for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP]
        token = recorder.REQUEST_OWNER.set(self._owner)
        try:
            request = self._client.build_request(
                handler.command, self.upstream + handler.path, headers=headers, content=body
            )
            try:
                response = self._client.send(request, stream=True)
            except httpx.HTTPError as exc:
                self._failed(handler, exc)
                return
            try:
                handler.send_response(response.status_code, response.reason_phrase)
                for key, value in response.headers.multi_items():
                    if key.lower() not in HOP_BY_HOP:
                        handler.send_header(key, value)
                handler.send_header("Transfer-Encoding", "chunked")
                handler.end_headers()
                try:
                    for chunk in response.iter_raw(CHUNK):
                        if chunk:
                            handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                            handler.wfile.flush()
                except httpx.HTTPError as exc:  # the answer broke off: the agent sees its stream end early
                    with self._lock:
                        self.failures.append(f"{handler.command} {handler.path}: {type(exc).__name__}: {exc}")
                    handler.close_connection = True
                    return
                handler.wfile.write(b"0\r\n\r\n")
            finally:
                response.close()
        except (BrokenPipeError, ConnectionResetError):  # the agent stopped listening
            handler.close_connection = True
        finally:
            recorder.REQUEST_OWNER.reset(token)

    def _failed(self, handler: _Forward, exc: Exception) -> None:
        why = f"{type(exc).__name__}: {exc}"
        with self._lock:
            self.failures.append(f"{handler.command} {handler.path}: {why}")
        body = json.dumps({"error": {"message": f"zai-conformance relay: the upstream call failed: {why}"}}).encode()
        handler.send_response(502)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    relay: Relay

    def _any(self) -> None:
        self.relay.forward(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _any

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the cell's evidence is the record of what passed."""
