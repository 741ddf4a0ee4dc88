"""The question a request asks, independent of its protocol.

Every surface (OpenAI chat completions, Anthropic messages, OpenAI Responses) parses its body into an
`Ask`; one planner decides the answer; each surface renders it in its own wire format. That is what
keeps the surfaces consistent with each other and with the catalogue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from conformance.catalogue import Model
from conformance.double.eras import WireEra, newest

_REMINDER = re.compile(r"<system-reminder>.*?</system-reminder>", re.DOTALL)


def users_words(text: str) -> str:
    """A user turn without the `<system-reminder>` blocks an agent (Claude Code) writes into it: those
    are the agent's notes to the model, not what the user asks, so they name no tool to call."""
    return _REMINDER.sub("", text).strip() if "<system-reminder>" in text else text


@dataclass
class AskMessage:
    role: str  # system | user | assistant | tool
    text: str
    tool_calls: list[str] = field(default_factory=list)  # names the assistant called
    is_tool_result: bool = False


@dataclass
class AskTool:
    name: str
    description: str
    schema: dict[str, Any]


@dataclass
class Ask:
    surface: str  # openai | anthropic | responses
    endpoint: str  # general | coding | anthropic | responses
    model_name: str
    model: Model | None  # None: not in the catalogue (→ 1211)
    messages: list[AskMessage]
    tools: list[AskTool] = field(default_factory=list)
    tool_choice: str | None = None  # auto | none | required | <tool name> (forced)
    stream: bool = False
    thinking: str | None = None  # enabled | disabled | None (not given)
    reasoning_effort: str | None = None
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    response_format: str | None = None  # text | json_object | json_schema
    tool_stream: bool = False
    request_id: str | None = None
    temperature: Any = None  # as sent: the double checks Z.AI's documented ranges
    top_p: Any = None
    fault: str | None = None  # from a prompt marker or the X-Double-Fault header
    era: WireEra = field(default_factory=newest)  # whose wire shapes to answer in (X-Double-Era, or the double's)
    calls_asked: tuple[str, ...] | None = None  # the tool calls X-Double-Calls asks for; None: the double's choice

    @property
    def last_user_text(self) -> str:
        for message in reversed(self.messages):
            if message.role == "user" and not message.is_tool_result:
                return message.text
        return ""

    @property
    def answering_tool_results(self) -> bool:
        return bool(self.messages) and self.messages[-1].is_tool_result

    @property
    def input_text(self) -> str:
        return "\n".join(m.text for m in self.messages) + "".join(t.name + t.description for t in self.tools)
