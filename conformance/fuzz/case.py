"""A fuzz case: one neutral chat request, richer than a catalogue scenario (a history may carry the
assistant's tool calls and their results), and how each protocol documents it as a request body.

The case is plain typed data with a compact JSON form, so that a counterexample hypothesis shrank can
be printed as one line and replayed exactly, without hypothesis and without the seed that found it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from conformance.catalogue import Scenario

Role = Literal["system", "user", "assistant", "tool"]
MODEL = "glm-4.6"  # hybrid thinking, tools, 128k context: every path can send every generated case


@dataclass(frozen=True)
class Call:
    """A tool call an assistant turn of the history made."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Msg:
    """One history message. A tool message answers the call `call_id`; an assistant message may carry
    calls (and then may have empty text, as Z.AI's own answers do)."""

    role: Role
    content: str
    calls: tuple[Call, ...] = ()
    call_id: str | None = None


@dataclass(frozen=True)
class FuzzTool:
    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class FuzzCase:
    """A generated scenario. `result`: when set, the last user message names `tools[0]`, the double
    calls it, and the path builds the follow-up turn itself with this text as the tool's result."""

    messages: tuple[Msg, ...]
    tools: tuple[FuzzTool, ...] = ()
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    stream: bool = False
    result: str | None = None
    params: dict[str, Any] = field(default_factory=dict)  # unused by generation; room for hand-written cases

    def to_json(self) -> str:
        """One line of JSON (non-ASCII escaped, so a shell and a terminal carry it unharmed; a `'` as
        an escape, so the line can be single-quoted), defaults left out to keep a reproducer short."""
        data = _without_defaults(json.loads(json.dumps(asdict(self))), _DEFAULTS)  # tuples as lists
        data["messages"] = [_without_defaults(m, _MSG_DEFAULTS) for m in data["messages"]]
        return json.dumps(data, separators=(",", ":"), ensure_ascii=True).replace("'", "\\u0027")

    @classmethod
    def from_json(cls, text: str) -> FuzzCase:
        raw = json.loads(text)
        messages = tuple(
            Msg(
                role=m["role"],
                content=m["content"],
                calls=tuple(Call(**c) for c in m.get("calls") or ()),
                call_id=m.get("call_id"),
            )
            for m in raw["messages"]
        )
        tools = tuple(FuzzTool(**t) for t in raw.get("tools") or ())
        rest = {k: v for k, v in raw.items() if k not in ("messages", "tools", "stop")}
        return cls(messages=messages, tools=tools, stop=tuple(raw.get("stop") or ()), **rest)

    @property
    def sampling(self) -> dict[str, Any]:
        """The parameters the case sets, by their OpenAI-protocol names."""
        params: dict[str, Any] = {}
        for name in ("temperature", "top_p", "max_tokens"):
            if getattr(self, name) is not None:
                params[name] = getattr(self, name)
        if self.stop:
            params["stop"] = list(self.stop)
        return {**params, **self.params}

    @property
    def turns(self) -> int:
        return 2 if self.result is not None else 1

    def scenario(self) -> Scenario:
        """The catalogue-shaped scenario a path's conversation loop needs: how many turns, and the tool
        result it answers a call with. Its messages are not what is sent (the case's body is)."""
        user = next(m.content for m in reversed(self.messages) if m.role == "user")
        fields: dict[str, Any] = {
            "id": "fuzz",
            "title": "a generated scenario",
            "messages": [{"role": "user", "content": user}],
            "tools": [tool.name for tool in self.tools],
            "stream": self.stream,
            "expect": [{}] * self.turns,
        }
        if self.result is not None:
            fields["tool_results"] = {self.tools[0].name: self.result}
        return Scenario.model_validate(fields)


_DEFAULTS: dict[str, Any] = {
    "tools": [],
    "temperature": None,
    "top_p": None,
    "max_tokens": None,
    "stop": [],
    "stream": False,
    "result": None,
    "params": {},
}
_MSG_DEFAULTS: dict[str, Any] = {"calls": [], "call_id": None}


def _without_defaults(data: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in defaults or v != defaults[k]}


def openai_body(case: FuzzCase, model: str = MODEL) -> dict[str, Any]:
    """The case as Z.AI's OpenAI-protocol chat request: the rendering every OpenAI-style client takes."""
    messages = []
    for message in case.messages:
        rendered: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.calls:
            rendered["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)},
                }
                for call in message.calls
            ]
        if message.call_id is not None:
            rendered["tool_call_id"] = message.call_id
        messages.append(rendered)
    body: dict[str, Any] = {"model": model, "messages": messages}
    if case.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
            }
            for t in case.tools
        ]
    body.update(case.sampling)
    if case.stream:
        body["stream"] = True
    return body


ANTHROPIC_DEFAULT_MAX_TOKENS = 4096  # Anthropic requires max_tokens; conformance/scenario.py sends the same


def anthropic_body(case: FuzzCase, model: str = MODEL) -> dict[str, Any]:
    """The case as an Anthropic Messages request, as Anthropic's docs write it: system apart (joined),
    tool calls as tool_use blocks, each run of tool results — and the user text that follows them — as
    one user message (the protocol alternates roles), tools with `input_schema`, stop as stop_sequences."""
    messages: list[dict[str, Any]] = []
    for message in case.messages:
        if message.role == "system":
            continue
        if message.role == "assistant":
            blocks: list[dict[str, Any]] = [{"type": "text", "text": message.content}] if message.content else []
            blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in message.calls]
            messages.append({"role": "assistant", "content": blocks if message.calls else message.content})
            continue
        if message.role == "tool":
            block = {"type": "tool_result", "tool_use_id": message.call_id, "content": message.content}
        else:
            block = {"type": "text", "text": message.content}
        last = messages[-1] if messages else None
        if last is not None and last["role"] == "user" and isinstance(last["content"], list):
            last["content"].append(block)  # after tool results: the same user turn
        elif message.role == "tool":
            messages.append({"role": "user", "content": [block]})
        else:
            messages.append({"role": "user", "content": message.content})
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": case.max_tokens if case.max_tokens is not None else ANTHROPIC_DEFAULT_MAX_TOKENS,
        "messages": messages,
    }
    system = "\n".join(m.content for m in case.messages if m.role == "system")
    if system:
        body["system"] = system
    if case.tools:
        body["tools"] = [
            {"name": t.name, "description": t.description, "input_schema": t.parameters} for t in case.tools
        ]
    for name in ("temperature", "top_p"):
        if getattr(case, name) is not None:
            body[name] = getattr(case, name)
    if case.stop:
        body["stop_sequences"] = list(case.stop)
    if case.stream:
        body["stream"] = True
    return body
