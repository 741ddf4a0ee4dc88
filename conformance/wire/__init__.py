"""Read what Z.AI actually sent: the reference a path's output is judged against.

Parsing is deliberately independent of every client library, so a client's bug cannot hide in the
reference. One WireAnswer for both protocols: OpenAI-protocol answers (openai.py) and Anthropic
Messages answers (anthropic.py), told apart by the URL they answered.
"""

from __future__ import annotations

from conformance.wire import anthropic, openai
from conformance.wire.answer import WireAnswer, WireStream

__all__ = ["WireAnswer", "WireStream", "read_answer"]


def read_answer(
    status: int, body: str | None, headers: dict[str, list[str]] | None = None, url: str = ""
) -> WireAnswer:
    """Parse a response body, JSON or SSE, of either protocol (an Anthropic Messages answer is
    recognised by its URL), into the facts checks compare against."""
    body = body or ""
    content_type = " ".join(v for k, vs in (headers or {}).items() if k.lower() == "content-type" for v in vs)
    streamed = "text/event-stream" in content_type or body.lstrip().startswith(("data:", "event:"))
    if url.split("?")[0].endswith("/v1/messages"):
        return anthropic.read(status, body, streamed)
    if status >= 400:
        return openai.error_answer(status, body)
    if streamed:
        return openai.read_stream(status, body)
    return openai.read_json(status, body)
