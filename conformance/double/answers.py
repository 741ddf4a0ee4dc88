"""Decide what the double answers to an Ask: reasoning, text, tool calls, finish reason, token counts.

The rules are the ones the real recordings show: thinking-capable models reason by default (glm-4.5-air
not when the request switches thinking off in its prompt: `/no_think`, data/double.yaml); a tool named
as a word in the last user message gets called (a forced `tool_choice` always does), every named tool
at once when several are; tool results get a text answer; `stop`, `max_tokens` and
`response_format: json_object` are honoured, `json_schema` is not. The words are synthetic.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from conformance.double.ask import Ask, AskTool

STREAM_FINISH_FAULTS = frozenset({"sensitive", "network_error", "model_context_window_exceeded"})


@cache
def double_data() -> dict[str, Any]:
    return yaml.safe_load((resources.files("conformance.double") / "data" / "double.yaml").read_text())


def tokens(text: str) -> int:
    """A deterministic stand-in for a tokenizer: about four characters a token."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


@dataclass
class PlannedCall:
    name: str
    arguments: dict[str, Any]

    @property
    def arguments_json(self) -> str:
        return json.dumps(self.arguments, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Answer:
    reasoning: str | None
    text: str
    calls: list[PlannedCall] = field(default_factory=list)
    finish: str = "stop"  # stop | tool_calls | length | sensitive | network_error | model_context_window_exceeded
    stop_sequence: str | None = None  # the stop word that cut the text, if one did
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    cached_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def pieces(text: str) -> list[str]:
    """Split text the way GLM streams it: a word (with its trailing space) per delta, and each run of
    line breaks as a delta of its own (both surfaces stream this way)."""
    out, current = [], ""
    for char in text:
        if current and (char == "\n") != current.endswith("\n"):  # entering or leaving a line-break run
            out.append(current)
            current = ""
        current += char
        if char == " ":
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return out


def thinks(ask: Ask) -> bool:
    """Whether the model reasons for this request (errors for refused settings are raised earlier).
    On the Anthropic surface only when the request asks for thinking: every capture without a
    `thinking` field has no thinking block, even from always-thinking glm-5.3 (caveman fixtures, 4
    output tokens); the OpenAI surfaces reason by default (every fantasy recording)."""
    model = ask.model
    if model is None or model.thinking == "none":
        return False
    if ask.surface == "anthropic":
        return ask.thinking == "enabled"
    if ask.reasoning_effort in ("none", "minimal") and model.reasoning_effort:
        return False
    if ask.reasoning_effort == "low" and "low" in model.reasoning_effort and model.thinking == "always":
        return False  # glm-5.3 at low effort: no reasoning_content, reasoning_tokens 0 (recorded)
    if model.thinking == "always":
        return True
    return ask.thinking != "disabled"


def plan(ask: Ask) -> Answer:
    calls = _calls(ask)
    text = _text(ask, calls)
    reasoning = None
    if thinks(ask):
        reasoning = "" if declines_thinking(ask) else _reasoning(ask, calls)
    answer = Answer(reasoning=reasoning, text=text, calls=calls, finish="tool_calls" if calls else "stop")
    _apply_stop(ask, answer)
    _apply_max_tokens(ask, answer)
    if ask.fault in STREAM_FINISH_FAULTS:
        answer.text = answer.text[: max(1, len(answer.text) // 2)]
        answer.calls = []
        answer.finish = ask.fault
    _count(ask, answer)
    return answer


def declines_thinking(ask: Ask) -> bool:
    """Whether the prompt switches thinking off the way crush's title requests do: a system prompt ending
    with `/no_think` and a last user message ending with an empty `<think>` block. glm-4.5-air then
    answers without reasoning in every era (2025-10-02 → 2026-04-15, 417 title requests), while the same
    title request without them made it reason until max_tokens cut it (crush/9c04ddaa4, 2025-10-02:
    `length`). Only the recorded pair, on the OpenAI surface, for the models recorded (data/double.yaml)."""
    rule = double_data()["no_think"]
    if ask.surface != "openai" or ask.model is None or ask.model.id not in rule["models"]:
        return False
    system = next((m.text for m in ask.messages if m.role == "system"), "")
    return system.rstrip().endswith(rule["system_ends_with"]) and ask.last_user_text.rstrip().endswith(
        rule["user_ends_with"]
    )


def _calls(ask: Ask) -> list[PlannedCall]:
    by_name = {tool.name: tool for tool in ask.tools}
    if ask.calls_asked is not None:  # X-Double-Calls: the caller chose, the server checked they are offered
        return [PlannedCall(name, arguments(by_name[name], ask.last_user_text)) for name in ask.calls_asked]
    if not ask.tools or ask.tool_choice == "none" or ask.answering_tool_results:
        return []
    if ask.tool_choice in by_name:
        return [PlannedCall(ask.tool_choice, arguments(by_name[ask.tool_choice], ask.last_user_text))]
    named = [tool for tool in ask.tools if names(ask.last_user_text, tool.name)]
    if not named and ask.tool_choice == "required":
        named = ask.tools[:1]
    return [PlannedCall(tool.name, arguments(tool, ask.last_user_text)) for tool in named]


def names(text: str, tool: str) -> bool:
    """Whether `text` names the tool as a word of its own (any case). Only the last user message is read:
    every recorded request that got a call named its tool there ("use bash to …", "Add and multiply …"),
    while a system prompt may name every tool (crush's does, and glm-4.6 still calls just the one asked
    for: crush/3d11e4ca8/…/zai-glm4.6/bash_tool.yaml, 2026-04-15); and "edit" is not named by "multiedit"."""
    return bool(tool) and re.search(rf"(?<!\w){re.escape(tool)}(?!\w)", text, re.IGNORECASE) is not None


def arguments(tool: AskTool, asked: str = "") -> dict[str, Any]:
    """The call's arguments: what the user spelled out for them in `asked` (their last message), else
    the data's values (data/double.yaml)."""
    value = _value(tool.schema, "", spelled_out(asked, tool.name))
    return value if isinstance(value, dict) else {}


_ABSOLUTE_PATH = re.compile(r"(?<![\w.~])/[\w.@+-]+(?:/[\w.@+-]+)+")
_QUOTED_COMMAND = re.compile(r"`([^`\n]+)`")


def spelled_out(asked: str, tool: str) -> dict[str, str]:
    """Argument values a user writes into their request, as a model takes them: a file's absolute path
    (the first one after the tool's name, else the first one at all) and a command in backticks. An
    agent's tools want exactly these — Claude Code's Read and opencode's read an absolute `file_path` /
    `filePath`, Codex's exec_command a `cmd` — and made-up values would only fail in the agent."""
    kinds = double_data()["spelled_out"]
    found: dict[str, str] = {}
    mention = re.search(rf"(?<!\w){re.escape(tool)}(?!\w)", asked, re.IGNORECASE) if tool else None
    paths = _ABSOLUTE_PATH.findall(asked[mention.end() :] if mention else "") or _ABSOLUTE_PATH.findall(asked)
    if paths:
        found.update(dict.fromkeys(kinds["path"], paths[0].rstrip(".,;:")))  # a sentence's full stop is not the path's
    command = _QUOTED_COMMAND.search(asked)
    if command:
        found.update(dict.fromkeys(kinds["command"], command.group(1)))
    return found


def _value(schema: dict[str, Any], name: str, spelled: dict[str, str] | None = None) -> Any:
    values = double_data()["argument_values"]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties") or {}
        required = schema.get("required") or list(properties)
        return {key: _value(properties[key], key, spelled) for key in required if key in properties}
    if spelled and name in spelled and kind in (None, "string"):
        return spelled[name]
    if name in values["by_name"]:
        return values["by_name"][name]
    if name in values["long_by_name"]:
        return long_text(int(values["long_by_name"][name]["chars"]))
    if kind == "array":
        return [_value(schema.get("items") or {"type": "string"}, "")]
    if schema.get("enum"):
        return schema["enum"][0]
    return values["by_type"].get(kind if isinstance(kind, str) else "string", "example")


def long_text(chars: int) -> str:
    """A file's worth of numbered lines, `chars` long: what an agent writing a file sends as an argument."""
    lines, size, number = [], 0, 1
    while size < chars:
        line = f"{number:05d} The quick brown fox jumps over the lazy dog.\n"
        lines.append(line)
        size += len(line)
        number += 1
    return "".join(lines)[:chars]


def _text(ask: Ask, calls: list[PlannedCall]) -> str:
    if ask.answering_tool_results and not calls:
        results = [m.text for m in ask.messages[len(ask.messages) - _trailing_results(ask) :]]
        return "Here is what the tools returned: " + "; ".join(results) + "."
    if calls:
        if ask.tool_choice in {call.name for call in calls}:
            return ""  # forced calls come without text (recorded)
        if ask.surface == "openai" and not ask.era.shape_for(ask.model_name).tool_call_preamble:
            return ""
        return f"I'll use {' and '.join(call.name for call in calls)} for this."
    text = next(a["text"] for a in double_data()["answers"] if a["when"].lower() in ask.last_user_text.lower())
    if ask.response_format == "json_object":
        return json.dumps({"answer": text}, ensure_ascii=False)
    return text


def _trailing_results(ask: Ask) -> int:
    count = 0
    for message in reversed(ask.messages):
        if not message.is_tool_result:
            break
        count += 1
    return count


def _reasoning(ask: Ask, calls: list[PlannedCall]) -> str:
    """What the model "thinks". Whether the wire leads it with a blank line is the era's business
    (eras.py), not the words'."""
    if ask.answering_tool_results:
        if calls:
            return f"The tools have answered.\n\nNext I should call {', '.join(c.name for c in calls)}."
        return "The tools have answered.\n\nI will report their results to the user."
    question = ask.last_user_text.strip().replace("\n", " ")[:80]
    if calls:
        return f'The user asks: "{question}".\n\nI should call {", ".join(c.name for c in calls)}.'
    return f'The user asks: "{question}".\n\nI will answer directly.'


def _apply_stop(ask: Ask, answer: Answer) -> None:
    cuts = [(answer.text.index(word), word) for word in ask.stop if word and word in answer.text]
    if cuts:
        position, word = min(cuts)
        answer.text, answer.finish, answer.stop_sequence = answer.text[:position], "stop", word


def _apply_max_tokens(ask: Ask, answer: Answer) -> None:
    """Reasoning is generated first and counts against max_tokens; what does not fit is cut."""
    budget = ask.max_tokens
    if budget is None:
        return
    used = tokens(answer.reasoning or "")
    if used > budget:
        answer.reasoning = (answer.reasoning or "")[: budget * 4]
        answer.text, answer.calls, answer.finish = "", [], "length"
        return
    room = budget - used
    needed = tokens(answer.text) + sum(tokens(c.arguments_json) for c in answer.calls)
    if needed > room:
        answer.text = answer.text[: room * 4]
        answer.calls = []
        answer.finish = "length"


def _count(ask: Ask, answer: Answer) -> None:
    answer.prompt_tokens = tokens(ask.input_text) + 8 * len(ask.messages)
    answer.cached_tokens = answer.prompt_tokens // 2 if len(ask.messages) > 2 else 0
    answer.reasoning_tokens = tokens(answer.reasoning or "")
    answer.completion_tokens = (
        answer.reasoning_tokens + tokens(answer.text) + sum(tokens(c.arguments_json) for c in answer.calls)
    )
