"""The request a capture without one must have been: the minimal one asking for what it shows.

Model, stream, a tool per tool_use block (or tool call) with a schema inferred from its input,
thinking if a thinking block is there, `max_tokens: 1` if the answer stopped on its budget, usage in
the stream if the stream carried it, and a user message naming the tools. Pure: the caller decides
where the request goes and how its key travels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from conformance.wire.sse import read_events


@dataclass(frozen=True)
class Reconstructed:
    headers: dict[str, str]  # lower-cased names, no credentials
    body: bytes


def infer_schema(value: Any) -> dict[str, Any]:
    """A JSON schema a value satisfies, as a client would have declared it for a tool's input."""
    if isinstance(value, dict):
        return {
            "type": "object",
            "properties": {key: infer_schema(item) for key, item in value.items()},
            "required": list(value),
        }
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, list):
        return {"type": "array", "items": infer_schema(value[0]) if value else {"type": "string"}}
    return {"type": "string"}


@dataclass
class _Shown:
    """What a response shows about the request that produced it."""

    model: str = "glm-4.7"
    stream: bool = False
    tools: list[tuple[str, Any]] = field(default_factory=list)  # (name, input/arguments)
    thinking: bool = False
    stop: str | None = None
    output_tokens: int | None = None
    usage_in_stream: bool = False


def _shown_anthropic(text: str, fmt: str) -> _Shown:
    shown = _Shown(stream=fmt == "sse")
    if fmt == "sse":
        inputs: dict[int, list[str]] = {}
        names: dict[int, str] = {}
        for event in read_events(text):
            data = event.data if isinstance(event.data, dict) else {}
            kind = event.kind
            if kind == "message_start":
                shown.model = (data.get("message") or {}).get("model") or shown.model
            elif kind == "content_block_start":
                block = data.get("content_block") or {}
                if block.get("type") == "tool_use":
                    names[data.get("index", len(names))] = block.get("name", "tool")
                shown.thinking = shown.thinking or block.get("type") == "thinking"
            elif kind == "content_block_delta":
                delta = data.get("delta") or {}
                if delta.get("type") == "input_json_delta":
                    inputs.setdefault(data.get("index", 0), []).append(delta.get("partial_json", ""))
            elif kind == "message_delta":
                shown.stop = (data.get("delta") or {}).get("stop_reason")
                shown.output_tokens = (data.get("usage") or {}).get("output_tokens")
        for index, name in names.items():
            try:
                arguments = json.loads("".join(inputs.get(index, [])) or "{}")
            except ValueError:
                arguments = {}
            shown.tools.append((name, arguments))
        return shown
    message = json.loads(text)
    shown.model = message.get("model") or shown.model
    for block in message.get("content") or []:
        if block.get("type") == "tool_use":
            shown.tools.append((block.get("name", "tool"), block.get("input") or {}))
        shown.thinking = shown.thinking or block.get("type") == "thinking"
    shown.stop = message.get("stop_reason")
    shown.output_tokens = (message.get("usage") or {}).get("output_tokens")
    return shown


def _shown_openai(text: str, fmt: str) -> _Shown:
    shown = _Shown(stream=fmt == "sse")
    payloads = [e.data for e in read_events(text) if isinstance(e.data, dict)] if fmt == "sse" else [json.loads(text)]
    for payload in payloads:
        shown.model = payload.get("model") or shown.model
        shown.usage_in_stream = shown.usage_in_stream or (fmt == "sse" and "usage" in payload)
        for choice in payload.get("choices") or []:
            part = choice.get("delta") or choice.get("message") or {}
            shown.thinking = shown.thinking or bool(part.get("reasoning_content"))
            for call in part.get("tool_calls") or []:
                function = call.get("function") or {}
                if function.get("name"):
                    try:
                        arguments = json.loads(function.get("arguments") or "{}")
                    except ValueError:
                        arguments = {}
                    shown.tools.append((function["name"], arguments))
            shown.stop = choice.get("finish_reason") or shown.stop
        shown.output_tokens = (payload.get("usage") or {}).get("completion_tokens", shown.output_tokens)
    return shown


def _ask_text(tools: list[tuple[str, Any]]) -> str:
    names = [name for name, _ in tools]
    if not names:
        return "Hello."
    if len(names) == 1:
        return f"Use the {names[0]} tool."
    return f"Use the {', '.join(names[:-1])} and {names[-1]} tools."


def reconstruct(protocol: str, text: str, fmt: str, stream: bool | None = None) -> Reconstructed:
    """The minimal request that asks for what a captured response (`fmt`: json | sse) shows; `stream`
    overrides what the capture's format says (a session log holds a streamed answer as one message)."""
    shown = _shown_anthropic(text, fmt) if protocol == "anthropic" else _shown_openai(text, fmt)
    if stream is not None:
        shown.stream = stream
    tiny = shown.stop in ("max_tokens", "length")
    # A capture cut by its budget: ask with the smallest budget, so that any answer is cut (the
    # capture's own output count says what *its* answer needed, not what the double's needs).
    budget = 1 if tiny else 1024
    body: dict[str, Any] = {"model": shown.model}
    if protocol == "anthropic":
        body["max_tokens"] = budget if tiny or not shown.thinking else 2048
        body["messages"] = [{"role": "user", "content": _ask_text(shown.tools)}]
        if shown.tools:
            body["tools"] = [
                {"name": name, "description": f"The {name} tool.", "input_schema": infer_schema(arguments)}
                for name, arguments in shown.tools
            ]
        if shown.thinking:
            body["thinking"] = {"type": "enabled", "budget_tokens": 1024}
    else:
        body["max_tokens"] = budget
        body["messages"] = [{"role": "user", "content": _ask_text(shown.tools)}]
        if shown.tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {"name": name, "description": f"The {name} tool.", "parameters": infer_schema(args)},
                }
                for name, args in shown.tools
            ]
        if shown.usage_in_stream:
            body["stream_options"] = {"include_usage": True}
    if shown.stream:
        body["stream"] = True
    headers = {"content-type": "application/json"}
    if protocol == "anthropic":
        headers["anthropic-version"] = "2023-06-01"
    return Reconstructed(headers, json.dumps(body, ensure_ascii=False).encode())
