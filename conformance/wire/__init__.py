"""Read what Z.AI actually sent: the reference a path's output is judged against.

Parsing is deliberately independent of every client library, so a client's bug cannot hide in the
reference. One WireAnswer for every protocol: OpenAI-protocol answers (openai.py), Anthropic Messages
answers (anthropic.py) and OpenAI Responses answers (responses.py), told apart by the URL they answered.
"""

from __future__ import annotations

from conformance.wire import anthropic, openai, responses
from conformance.wire.answer import WireAnswer, WireStream

__all__ = ["WireAnswer", "WireStream", "read_answer"]


def read_answer(
    status: int, body: str | None, headers: dict[str, list[str]] | None = None, url: str = ""
) -> WireAnswer:
    """Parse a response body, JSON or SSE, of any protocol (an Anthropic Messages answer and a Responses
    answer are recognised by their URL's path), into the facts checks compare against."""
    body = body or ""
    content_type = " ".join(v for k, vs in (headers or {}).items() if k.lower() == "content-type" for v in vs)
    streamed = "text/event-stream" in content_type or body.lstrip().startswith(("data:", "event:"))
    path = url.split("?")[0]
    if path.endswith("/v1/messages"):
        return anthropic.read(status, body, streamed)
    if path.endswith("/responses"):
        return responses.read(status, body, streamed)
    if status >= 400:
        return openai.error_answer(status, body)
    if streamed:
        return openai.read_stream(status, body)
    return openai.read_json(status, body)
