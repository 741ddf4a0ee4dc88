"""A request body of either protocol read back into the case's neutral terms, so that the wire and the
scenario are compared as what they *say*: roles, texts, tool calls with parsed arguments, tool results
and the calls they answer, tool definitions, sampling parameters.

Deliberately separate from conformance/wire/normal.py (what replay matching reads): that form drops
what matching may ignore — the text of an Anthropic user turn that also carries tool results, say —
while here every word the scenario says must be found on the wire.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# The request fields the case sets, by their neutral names (Anthropic's stop_sequences reads as stop).
PARAMS = ("temperature", "top_p", "max_tokens", "stop", "stream")
_STRUCTURE = frozenset({"model", "messages", "tools", "system"})


@dataclass(frozen=True)
class NCall:
    id: str | None
    name: str | None
    arguments: Any  # parsed JSON (the raw string if it does not parse)


@dataclass(frozen=True)
class NMessage:
    role: str | None
    text: str
    calls: tuple[NCall, ...] = ()
    call_id: str | None = None


@dataclass(frozen=True)
class NTool:
    name: str | None
    description: str | None
    parameters: Any


@dataclass
class NRequest:
    messages: tuple[NMessage, ...]
    tools: tuple[NTool, ...]
    params: dict[str, Any]  # of PARAMS, those present
    other: dict[str, Any] = field(default_factory=dict)  # every other field, as sent


def read(body: dict[str, Any], protocol: str) -> NRequest:
    """A request body of `protocol` (openai | anthropic) in neutral terms."""
    if protocol == "anthropic":
        return _anthropic(body)
    messages = tuple(_openai_message(m) for m in body.get("messages") or [])
    tools = tuple(_openai_tool(t) for t in body.get("tools") or [])
    params = {name: body[name] for name in PARAMS if name in body}
    if isinstance(params.get("stop"), str):
        params["stop"] = [params["stop"]]
    return NRequest(messages, tools, params, _other(body, PARAMS))


def _other(body: dict[str, Any], taken: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in _STRUCTURE and k not in taken}


def _text(content: Any) -> str:
    """A message's text: a string, or the joined text of its text parts/blocks."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return json.dumps(content, ensure_ascii=False, sort_keys=True)


def _parsed(arguments: Any) -> Any:
    if not isinstance(arguments, str):
        return arguments
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments


def _openai_message(message: Any) -> NMessage:
    if not isinstance(message, dict):
        return NMessage(None, json.dumps(message, ensure_ascii=False))
    calls = tuple(
        NCall(c.get("id"), (c.get("function") or {}).get("name"), _parsed((c.get("function") or {}).get("arguments")))
        for c in message.get("tool_calls") or []
        if isinstance(c, dict)
    )
    return NMessage(message.get("role"), _text(message.get("content")), calls, message.get("tool_call_id"))


def _openai_tool(tool: Any) -> NTool:
    function = tool.get("function") if isinstance(tool, dict) else None
    if not isinstance(function, dict):
        return NTool(None, None, tool)
    return NTool(function.get("name"), function.get("description"), function.get("parameters"))


def _anthropic(body: dict[str, Any]) -> NRequest:
    messages: list[NMessage] = []
    system = body.get("system")
    if system:
        messages.append(NMessage("system", _text(system)))
    for message in body.get("messages") or []:
        messages += _anthropic_message(message)
    tools = tuple(
        NTool(t.get("name"), t.get("description"), t.get("input_schema"))
        if isinstance(t, dict)
        else NTool(None, None, t)
        for t in body.get("tools") or []
    )
    params = {name: body[name] for name in ("temperature", "top_p", "max_tokens", "stream") if name in body}
    if "stop_sequences" in body:
        params["stop"] = body["stop_sequences"]
    return NRequest(messages, tools, params, _other(body, (*PARAMS, "stop_sequences")))


def _anthropic_message(message: Any) -> list[NMessage]:
    """One Anthropic message as neutral messages: its tool results (one tool message each, first, as the
    protocol orders them), then its text and tool calls (if it has any)."""
    if not isinstance(message, dict):
        return [NMessage(None, json.dumps(message, ensure_ascii=False))]
    role, content = message.get("role"), message.get("content")
    if not isinstance(content, list):
        return [NMessage(role, _text(content))]
    blocks = [b for b in content if isinstance(b, dict)]
    out = [
        NMessage("tool", _text(b.get("content")), (), b.get("tool_use_id"))
        for b in blocks
        if b.get("type") == "tool_result"
    ]
    texts = [b for b in blocks if b.get("type") == "text"]
    calls = tuple(NCall(b.get("id"), b.get("name"), b.get("input")) for b in blocks if b.get("type") == "tool_use")
    if texts or calls or not out:
        out.append(NMessage(role, _text(texts), calls))
    return out
