"""Render a neutral scenario as the request each protocol documents, and build its next turn.

Two renderings: Z.AI's OpenAI-protocol chat request, and the Anthropic Messages request its
Anthropic-compatible endpoint takes. A client path starts from the rendering of *its own* API (the
OpenAI SDK and LiteLLM take OpenAI-style messages even when LiteLLM talks Anthropic on the wire; the
Anthropic SDK takes Anthropic messages); request checks compare the wire with the rendering of the
*endpoint's* protocol; the importer and the request matcher use them to recognise recorded evidence.
"""

from __future__ import annotations

import base64
import copy
from functools import cache
from typing import Any

from conformance.catalogue import IMAGES, Catalogue, Message, Scenario, Tool
from conformance.corpora.members import MemberRef, request_body
from conformance.triggers import with_marker

# Anthropic requires max_tokens; a scenario without one (the recorded thinking requests) gets this.
ANTHROPIC_DEFAULT_MAX_TOKENS = 4096
# Anthropic has no reasoning_effort: a scenario asking for reasoning asks for a thinking budget.
ANTHROPIC_THINKING_BUDGET = 2048


def tool_definitions(catalogue: Catalogue, scenario: Scenario) -> list[dict[str, Any]]:
    definitions = []
    for name in scenario.tools:
        tool = catalogue.tools[name]
        function: dict[str, Any] = {"name": name, "description": tool.description}
        function["parameters"] = copy.deepcopy(tool.parameters)
        if tool.strict is not None:
            function["strict"] = tool.strict
        definitions.append({"type": "function", "function": function})
    return definitions


def openai_request(catalogue: Catalogue, scenario: Scenario, model_id: str) -> dict[str, Any]:
    """The first-turn request body, as Z.AI's OpenAI-protocol endpoints take it."""
    body: dict[str, Any] = {"model": model_id, "messages": []}
    for message in _messages(scenario):
        rendered: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.image is not None:
            url = f"data:{_media_type(message.image)};base64,{_image_base64(message.image)}"
            rendered["content"] = [
                {"type": "image_url", "image_url": {"url": url}},
                {"type": "text", "text": message.content},
            ]
        if message.reasoning is not None:
            rendered["reasoning_content"] = message.reasoning
        body["messages"].append(rendered)
    if scenario.tools:
        body["tools"] = tool_definitions(catalogue, scenario)
    if scenario.tool_choice is not None:
        body["tool_choice"] = copy.deepcopy(scenario.tool_choice)
    body.update(copy.deepcopy(scenario.params))
    if scenario.stream:
        body["stream"] = True
    return body


def anthropic_request(catalogue: Catalogue, scenario: Scenario, model_id: str) -> dict[str, Any]:
    """The same question as an Anthropic Messages request (system apart, tools with input_schema,
    a required max_tokens, a thinking budget for reasoning). Parameters with no Anthropic
    counterpart (stream_options) are left out."""
    params = scenario.params
    body: dict[str, Any] = {
        "model": model_id,
        "max_tokens": params.get("max_tokens", ANTHROPIC_DEFAULT_MAX_TOKENS),
        "messages": [_anthropic_message(m) for m in _messages(scenario) if m.role != "system"],
    }
    system = "\n".join(m.content for m in scenario.messages if m.role == "system")
    if system:
        body["system"] = system
    if scenario.tools:
        body["tools"] = [
            {
                "name": name,
                "description": catalogue.tools[name].description,
                "input_schema": copy.deepcopy(catalogue.tools[name].parameters),
            }
            for name in scenario.tools
        ]
    choice = scenario.tool_choice
    if choice == "auto":
        body["tool_choice"] = {"type": "auto"}
    elif isinstance(choice, dict):
        body["tool_choice"] = {"type": "tool", "name": choice["function"]["name"]}
    thinking = params.get("thinking") if isinstance(params.get("thinking"), dict) else {}
    if thinking.get("type") == "disabled":
        body["thinking"] = {"type": "disabled"}
    elif thinking.get("type") == "adaptive" or "budget_tokens" in thinking:
        body["thinking"] = copy.deepcopy(thinking)  # already in Anthropic's own shape
    elif "reasoning_effort" in params or "thinking" in params:
        body["thinking"] = {"type": "enabled", "budget_tokens": ANTHROPIC_THINKING_BUDGET}
    if "output_config" in params:  # Anthropic's effort control
        body["output_config"] = copy.deepcopy(params["output_config"])
    for name in ("temperature", "top_p"):
        if name in params:
            body[name] = params[name]
    if "stop" in params:
        stop = params["stop"]
        body["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    if scenario.stream:
        body["stream"] = True
    return body


def _anthropic_message(message: Message) -> dict[str, Any]:
    if message.image is None:
        return {"role": message.role, "content": message.content}
    source = {"type": "base64", "media_type": _media_type(message.image), "data": _image_base64(message.image)}
    return {
        "role": message.role,
        "content": [{"type": "image", "source": source}, {"type": "text", "text": message.content}],
    }


@cache
def _image_base64(name: str) -> str:
    return base64.b64encode((IMAGES / name).read_bytes()).decode("ascii")


def _media_type(name: str) -> str:
    suffix = name.rsplit(".", 1)[-1].lower()
    return "image/jpeg" if suffix in ("jpg", "jpeg") else f"image/{suffix}"


def _messages(scenario: Scenario) -> list[Message]:
    """The scenario's messages, with its double fault marker (if any) on the last user message."""
    messages = list(scenario.messages)
    fault = scenario.provoke.fault if scenario.provoke and scenario.provoke.via == "marker" else None
    if fault:
        last = max(i for i, m in enumerate(messages) if m.role == "user")
        marked = with_marker(messages[last].content, fault)
        messages[last] = messages[last].model_copy(update={"content": marked})
    return messages


def request_for(catalogue: Catalogue, scenario: Scenario, model_id: str, protocol: str) -> dict[str, Any]:
    if scenario.recorded is not None:
        return recorded_request(scenario, 0, model_id)
    if scenario.operation == "models":
        return {}  # a GET: no body
    if scenario.operation == "embeddings":
        return {"model": model_id, **copy.deepcopy(scenario.params)}
    render = {"anthropic": anthropic_request, "responses": responses_request}.get(protocol, openai_request)
    return render(catalogue, scenario, model_id)


# The Responses API's names for the chat parameters a scenario uses (OpenAI's Responses reference);
# parameters with no counterpart there (stream_options, stop) are left out.
RESPONSES_PARAMS = {"max_tokens": "max_output_tokens", "temperature": "temperature", "top_p": "top_p"}


def responses_request(catalogue: Catalogue, scenario: Scenario, model_id: str) -> dict[str, Any]:
    """The same question as an OpenAI Responses request (Z.AI's `/api/v1/responses`): the system prompt
    as `instructions`, the conversation as input items, tools flattened (`{type, name, description,
    parameters}`), `reasoning.effort` for `reasoning_effort`."""
    body: dict[str, Any] = {"model": model_id, "input": []}
    system = "\n".join(m.content for m in scenario.messages if m.role == "system")
    if system:
        body["instructions"] = system
    for message in _messages(scenario):
        if message.role == "system":
            continue
        kind = "output_text" if message.role == "assistant" else "input_text"
        content: list[dict[str, Any]] = [{"type": kind, "text": message.content}]
        if message.image is not None:
            url = f"data:{_media_type(message.image)};base64,{_image_base64(message.image)}"
            content.insert(0, {"type": "input_image", "image_url": url})
        body["input"].append({"role": message.role, "content": content})
    if scenario.tools:
        body["tools"] = [{"type": "function", **t["function"]} for t in tool_definitions(catalogue, scenario)]
    choice = scenario.tool_choice
    if isinstance(choice, dict):
        body["tool_choice"] = {"type": "function", "name": choice["function"]["name"]}
    elif choice is not None:
        body["tool_choice"] = choice
    for name, value in scenario.params.items():
        if name in RESPONSES_PARAMS:
            body[RESPONSES_PARAMS[name]] = copy.deepcopy(value)
        elif name == "reasoning_effort":
            body["reasoning"] = {"effort": value}
    if scenario.stream:
        body["stream"] = True
    return body


def tool_result_messages(
    scenario: Scenario, tool_calls: list[dict[str, Any]], api: str = "openai"
) -> list[dict[str, Any]]:
    """Answer each tool call of the previous turn with the scenario's recorded result, in call order:
    one `tool` message per call (OpenAI), one user message of tool_result blocks (Anthropic), or one
    `function_call_output` item per call (Responses)."""
    results = []
    for call in tool_calls:
        name = call.get("function", {}).get("name")
        content = scenario.tool_results.get(name, f"error: the scenario has no result for tool {name!r}")
        results.append((call.get("id"), content))
    if api == "anthropic":
        blocks = [{"type": "tool_result", "tool_use_id": call_id, "content": content} for call_id, content in results]
        return [{"role": "user", "content": blocks}]
    if api == "responses":
        return [{"type": "function_call_output", "call_id": call_id, "output": content} for call_id, content in results]
    return [{"role": "tool", "tool_call_id": call_id, "content": content} for call_id, content in results]


def recorded_request(scenario: Scenario, turn: int, model_id: str) -> dict[str, Any]:
    """Turn `turn` of a recorded conversation: the request the recording's client sent, as it sent it
    (its history carries that client's own assistant messages and tool results), naming the cell's model."""
    assert scenario.recorded is not None
    ref = MemberRef.parse(scenario.recorded.evidence)
    if ref is None:
        raise ValueError(f"scenario {scenario.id}: {scenario.recorded.evidence!r} names no recorded interactions")
    return {**request_body(ref, turn), "model": model_id}  # freshly parsed: the path may change it


def offered_tools(catalogue: Catalogue, scenario: Scenario, request: dict[str, Any]) -> dict[str, Tool]:
    """The tools a cell's answers are checked against, by name: the catalogue's for a written scenario;
    for a recorded conversation, the ones its recorded request offered (function tools, OpenAI style)."""
    if scenario.recorded is None:
        return {name: catalogue.tools[name] for name in scenario.tools}
    offered = {}
    for entry in request.get("tools") or []:
        function = entry.get("function") if isinstance(entry, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            continue
        parameters = function.get("parameters")
        if not isinstance(parameters, dict) or parameters.get("type") != "object":
            parameters = {"type": "object"}  # no schema to hold the arguments to
        offered[function["name"]] = Tool(
            description=str(function.get("description") or ""), parameters=parameters, strict=function.get("strict")
        )
    return offered
