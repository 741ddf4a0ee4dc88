"""The same question: one canonical form of what a chat request asks, read the same way by replay
matching and by the request checks.

Replay matching (conformance.recording.matching) asks "may this recorded answer serve that request?";
the request checks ask "did the path send the scenario's messages and tools?". Both must read a
conversation alike, or a request could replay as the scenario's question while the checks call it a
different one (or the reverse). Input is JSON as parsed from a body:

- messages: one (role, text, tool calls, tool_call_id) per message. Content given as a list of text
  parts reads as its joined text; tool-call arguments are parsed from their JSON string; whitespace
  around an assistant turn that only carried tool calls is dropped; history `reasoning_content` and a
  tool call's `index` are not part of it. Anthropic Messages bodies (`anthropic=True`) read into the
  same form: `system` as a leading system message, tool_use blocks as tool calls, each tool_result
  block as a tool message.
- tools: (type, name, description, parameters) per tool; `strict` and other client extras are not
  part of it. An Anthropic tool ({name, description, input_schema}) reads as a function tool.
- every JSON object compares whatever the order of its keys.

What the canonical form leaves out is not hidden: the request checks report it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

ANTHROPIC_MESSAGES_PATH = "/v1/messages"


def method(value: str) -> str:
    return value.upper()


def endpoint_path(url: str) -> str:
    """The URL's path without a trailing slash: neither the host nor the query is part of the question."""
    return urlsplit(url).path.rstrip("/")


def is_anthropic_messages(path: str) -> bool:
    """An Anthropic Messages request (`…/v1/messages`), whose messages read differently."""
    return path.endswith(ANTHROPIC_MESSAGES_PATH)


def body_object(body: bytes | str | None) -> tuple[dict[str, Any], str | None]:
    """A request body as its JSON object and None; a body that is not a JSON object as {} and its text
    verbatim (no body reads as the empty object)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return {}, text
    return data, None


def model(data: dict[str, Any]) -> Any:
    return data.get("model")


def stream(data: dict[str, Any]) -> bool:
    """Streamed or not: an absent, false or null `stream` all mean a JSON answer."""
    return bool(data.get("stream"))


def messages(value: Any, *, system: Any = None, anthropic: bool = False) -> tuple[Any, ...]:
    """The canonical conversation of a request's `messages` (None or empty: none); `anthropic` reads
    them, with the request's `system`, as an Anthropic Messages body."""
    value = value or []
    if anthropic and isinstance(value, list):
        value = _anthropic_messages(system, value)
    return tuple(_message(m) for m in value) if isinstance(value, list) else (_freeze(value),)


def tools(value: Any) -> tuple[Any, ...]:
    """The canonical tool definitions of a request's `tools` (None or empty: none), either protocol."""
    value = value or []
    return tuple(_tool(t) for t in value) if isinstance(value, list) else (_freeze(value),)


def _anthropic_messages(system: Any, messages: list[Any]) -> list[Any]:
    """Anthropic messages in OpenAI shape, so both protocols canonicalise alike."""
    converted: list[Any] = []
    if system:
        converted.append({"role": "system", "content": _text(system)})
    for message in messages:
        if not isinstance(message, dict) or not isinstance(message.get("content"), list):
            converted.append(message)
            continue
        blocks = [b for b in message["content"] if isinstance(b, dict)]
        text = "".join(str(b.get("text", "")) for b in blocks if b.get("type") == "text")
        calls = [
            {"id": b.get("id"), "function": {"name": b.get("name"), "arguments": b.get("input")}}
            for b in blocks
            if b.get("type") == "tool_use"
        ]
        results = [b for b in blocks if b.get("type") == "tool_result"]
        if results:
            converted += [
                {"role": "tool", "tool_call_id": b.get("tool_use_id"), "content": _text(b.get("content"))}
                for b in results
            ]
        else:
            converted.append({"role": message.get("role"), "content": text, "tool_calls": calls or None})
    return converted


def _message(message: Any) -> Any:
    if not isinstance(message, dict):
        return _freeze(message)
    role = message.get("role")
    content = _text(message.get("content"))
    tool_calls = tuple(_tool_call(call) for call in message.get("tool_calls") or ())
    if role == "assistant" and tool_calls:
        content = content.strip()
    return (role, content, tool_calls, message.get("tool_call_id"))


def _text(content: Any) -> str:
    """Text of a message; OpenAI content-part lists of text parts read as their joined text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) and p.get("type") == "text" for p in content):
        return "".join(str(p.get("text", "")) for p in content)
    return json.dumps(content, sort_keys=True)


def _tool_call(call: Any) -> Any:
    if not isinstance(call, dict):
        return _freeze(call)
    function = call.get("function") or {}
    arguments = function.get("arguments")
    try:
        parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
    except ValueError:
        parsed = arguments
    return (call.get("id"), function.get("name"), _freeze(parsed))


def _tool(tool: Any) -> Any:
    if not isinstance(tool, dict):
        return _freeze(tool)
    if "input_schema" in tool:  # Anthropic: {name, description, input_schema}
        return ("function", tool.get("name"), tool.get("description"), _freeze(tool.get("input_schema")))
    function = dict(tool.get("function") or {})
    return (
        tool.get("type"),
        function.get("name"),
        function.get("description"),
        _freeze(function.get("parameters")),
    )


def _freeze(value: Any) -> Any:
    """A hashable, order-insensitive (for mappings) form of a JSON value."""
    if isinstance(value, dict):
        return tuple(sorted((key, _freeze(item)) for key, item in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(item) for item in value)
    return value
