"""A tiny loopback HTTP server that answers chat completions in Z.AI's shapes, for harness tests.

Not the project's Z.AI double: it exists to exercise recording, scrubbing and live mode end to end,
and it is deliberately indiscreet — it echoes the credentials it receives into its answers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

AUTH_ERROR_MARKER = "trigger-auth-error"


@dataclass
class Received:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeZai:
    port: int
    received: list[Received] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def base_url(self, endpoint_path: str = "/api/coding/paas/v4") -> str:
        return f"http://127.0.0.1:{self.port}{endpoint_path}"


def _credentials(headers: dict[str, str], path: str) -> str:
    """What the server got: the auth header and the whole request URL (its query carries any key),
    as a server quoting the URL in an error message would."""
    return f"auth={headers.get('authorization', '')} url=http://{headers.get('host', '')}{path}"


def answer_like_zai(body: dict[str, Any], echo: str) -> tuple[int, str, bytes]:
    """The default answer: a chat completion (streamed or not) echoing `echo`, or a 401 echoing it."""
    user = " ".join(str(m.get("content")) for m in body.get("messages", []) if m.get("role") == "user")
    if AUTH_ERROR_MARKER in user:
        error = {"error": {"code": "1002", "message": f"Authorization Token is invalid: {echo}"}}
        return 401, "application/json; charset=UTF-8", json.dumps(error).encode()
    usage = {
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
        "prompt_tokens_details": {"cached_tokens": 0},
    }
    if body.get("stream"):
        chunks = [
            {
                "id": "20261121000000abcdef0123456789ab",
                "created": 1,
                "object": "chat.completion.chunk",
                "model": body.get("model"),
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": f"echo {echo}"}}],
            },
            {
                "id": "20261121000000abcdef0123456789ab",
                "created": 1,
                "object": "chat.completion.chunk",
                "model": body.get("model"),
                "choices": [{"index": 0, "finish_reason": "stop", "delta": {"role": "assistant", "content": ""}}],
                "usage": usage,
            },
        ]
        text = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        return 200, "text/event-stream;charset=UTF-8", text.encode()
    answer = {
        "choices": [
            {
                "finish_reason": "stop",
                "index": 0,
                "message": {
                    "content": f"echo {echo}",
                    "reasoning_content": f"I saw {echo}",
                    "role": "assistant",
                },
            }
        ],
        "created": 1,
        "id": "20261121000000abcdef0123456789ab",
        "model": body.get("model"),
        "object": "chat.completion",
        "request_id": "20261121000000abcdef0123456789ab",
        "usage": usage,
    }
    return 200, "application/json; charset=UTF-8", json.dumps(answer).encode()


@contextmanager
def fake_zai(answer: Callable[[dict[str, Any], str], tuple[Any, ...]] = answer_like_zai) -> Iterator[FakeZai]:
    """Serve on an ephemeral loopback port for the duration of the block. `answer` returns
    (status, content type, payload) or, to hang after the payload, (…, seconds to stall)."""
    state: FakeZai

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw or b"{}")
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.received.append(Received("POST", parts.path, parts.query, headers, body))
            status, content_type, payload, *stall = answer(body, _credentials(headers, self.path))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            # a stalling answer promises more bytes than it sends, so the client keeps waiting
            self.send_header("Content-Length", str(len(payload) + (1000 if stall else 0)))
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
            if stall:
                state.stop.wait(stall[0])

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = FakeZai(port=server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
