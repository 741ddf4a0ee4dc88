"""Render a neutral scenario as the request each protocol documents, and build its next turn.

Two renderings: Z.AI's OpenAI-protocol chat request, and the Anthropic Messages request its
Anthropic-compatible endpoint takes. A client path starts from the rendering of *its own* API (the
OpenAI SDK and LiteLLM take OpenAI-style messages even when LiteLLM talks Anthropic on the wire; the
Anthropic SDK takes Anthropic messages); request checks compare the wire with the rendering of the
*endpoint's* protocol; the importer and the request matcher use them to recognise recorded evidence.
"""

from __future__ import annotations

import copy
from typing import Any

from conformance.catalogue import Catalogue, Scenario

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
    body: dict[str, Any] = {
        "model": model_id,
        "messages": [message.model_dump() for message in scenario.messages],
    }
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
        "messages": [{"role": m.role, "content": m.content} for m in scenario.messages if m.role != "system"],
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
    if "reasoning_effort" in params or "thinking" in params:
        body["thinking"] = {"type": "enabled", "budget_tokens": ANTHROPIC_THINKING_BUDGET}
    for name in ("temperature", "top_p"):
        if name in params:
            body[name] = params[name]
    if "stop" in params:
        stop = params["stop"]
        body["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    if scenario.stream:
        body["stream"] = True
    return body


def request_for(catalogue: Catalogue, scenario: Scenario, model_id: str, protocol: str) -> dict[str, Any]:
    render = anthropic_request if protocol == "anthropic" else openai_request
    return render(catalogue, scenario, model_id)


def tool_result_messages(
    scenario: Scenario, tool_calls: list[dict[str, Any]], api: str = "openai"
) -> list[dict[str, Any]]:
    """Answer each tool call of the previous turn with the scenario's recorded result, in call order:
    one `tool` message per call (OpenAI), or one user message of tool_result blocks (Anthropic)."""
    results = []
    for call in tool_calls:
        name = call.get("function", {}).get("name")
        content = scenario.tool_results.get(name, f"error: the scenario has no result for tool {name!r}")
        results.append((call.get("id"), content))
    if api == "anthropic":
        blocks = [{"type": "tool_result", "tool_use_id": call_id, "content": content} for call_id, content in results]
        return [{"role": "user", "content": blocks}]
    return [{"role": "tool", "tool_call_id": call_id, "content": content} for call_id, content in results]
