"""Render a neutral scenario as the OpenAI-protocol request Z.AI documents, and build its next turn.

Client paths start from this request and express it in their own API; the importer and the request
matcher use it to recognise a recorded exchange as evidence for a scenario.
"""

from __future__ import annotations

import copy
from typing import Any

from conformance.catalogue import Catalogue, Scenario


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


def tool_result_messages(scenario: Scenario, tool_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Answer each tool call of the previous turn with the scenario's recorded result, in call order."""
    messages = []
    for call in tool_calls:
        name = call.get("function", {}).get("name")
        content = scenario.tool_results.get(name, f"error: the scenario has no result for tool {name!r}")
        messages.append({"role": "tool", "tool_call_id": call.get("id"), "content": content})
    return messages
