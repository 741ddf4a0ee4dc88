"""What makes two requests "the same question" — the rule that lets one real response serve many paths.

Two chat requests ask the same question when they share method, endpoint path, model, streaming,
the conversation (roles, text, tool calls and results) and the tools offered. Anthropic Messages
bodies (`…/v1/messages`) are read into the same canonical form: `system` as a leading system message,
tool_use blocks as tool calls, each tool_result block as a tool message. Client-specific extras
— header sets, `strict` flags, `stream_options`, `max_tokens`, history `reasoning_content`, tool-call
`index`, whitespace around an assistant turn that only carried tool calls — do not change the
question; the request checks report them instead, so nothing is hidden by matching loosely.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Question:
    method: str
    path: str
    model: str | None
    stream: bool
    messages: tuple[Any, ...]
    tools: tuple[Any, ...]
    raw: str | None = None  # a body that is not a JSON object, kept verbatim

    def differences(self, other: Question) -> list[str]:
        """Name each part in which two questions differ (empty when they are the same)."""
        found = []
        for part in ("method", "path", "model", "stream", "tools", "raw"):
            if getattr(self, part) != getattr(other, part):
                found.append(f"{part}: {_short(getattr(self, part))} ≠ {_short(getattr(other, part))}")
        if self.messages != other.messages:
            found.append(_message_difference(self.messages, other.messages))
        return found


def question_of(method: str, url: str, body: bytes | str | None) -> Question:
    """Canonical question of an HTTP request; a body that is not JSON is kept verbatim."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    raw = None
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        data, raw = {}, text
    path = urlsplit(url).path.rstrip("/")
    messages = data.get("messages") or []
    if path.endswith("/v1/messages") and isinstance(messages, list):
        messages = _anthropic_messages(data.get("system"), messages)
    tools = data.get("tools") or []
    return Question(
        method=method.upper(),
        path=path,
        model=data.get("model"),
        stream=bool(data.get("stream")),
        messages=tuple(_message(m) for m in messages) if isinstance(messages, list) else (_freeze(messages),),
        tools=tuple(_tool(t) for t in tools) if isinstance(tools, list) else (_freeze(tools),),
        raw=raw,
    )


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


def _message_difference(ours: tuple[Any, ...], theirs: tuple[Any, ...]) -> str:
    if len(ours) != len(theirs):
        return f"messages: {len(ours)} message(s) ≠ {len(theirs)}"
    for index, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
        if mine != other:
            return f"messages[{index}]: {_short(mine)} ≠ {_short(other)}"
    return "messages differ"


def _short(value: Any, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
