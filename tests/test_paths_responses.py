"""The Responses API door (endpoint `responses`, Z.AI's /api/v1): the scenario rendered as a Responses
request, the conversation continued with input items, and both client paths — the OpenAI SDK's
`responses.create` and LiteLLM's `responses()` — run end to end against the double in-process."""

from __future__ import annotations

import json

import pytest

from conformance.catalogue import load_catalogue
from conformance.observation import ToolCall, Turn
from conformance.paths.base import Conversation
from conformance.paths.openai_responses import finish_of
from conformance.runner import CellRunner, RunSettings
from conformance.scenario import responses_request
from conformance.verdict import Verdict


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def test_a_scenario_renders_as_a_responses_request(catalogue):
    body = responses_request(catalogue, catalogue.scenario("tool"), "glm-5.3")
    assert body["instructions"] == "You are a helpful assistant"
    assert body["input"] == [
        {"role": "user", "content": [{"type": "input_text", "text": "What's the weather in Florence,Italy?"}]}
    ]
    (tool,) = body["tools"]
    assert tool["type"] == "function" and tool["name"] == "weather" and tool["parameters"]["required"] == ["location"]
    assert (body["tool_choice"], body["max_output_tokens"]) == ("auto", 4000)
    assert "max_tokens" not in body and "messages" not in body
    effort = responses_request(catalogue, catalogue.scenario("thinking-effort-high"), "glm-5.3")
    assert effort["reasoning"] == {"effort": "high"} and "reasoning_effort" not in effort
    history = responses_request(catalogue, catalogue.scenario("responses-history"), "glm-5.3")
    assert [item["role"] for item in history["input"]] == ["user", "assistant", "user"]
    assert history["input"][1]["content"] == [{"type": "output_text", "text": "4"}]


def test_the_next_turn_appends_the_answers_items_and_the_function_call_outputs(catalogue):
    scenario = catalogue.scenario("tool")
    first = responses_request(catalogue, scenario, "glm-5.3")
    conversation = Conversation(scenario, first, "responses")
    call = {"type": "function_call", "call_id": "call_1", "name": "weather", "arguments": '{"location":"Florence"}'}
    turn = Turn(index=0, tool_calls=[ToolCall.parse("call_1", "weather", call["arguments"])])
    assert conversation.answered(turn, [call])
    assert conversation.body["input"] == [
        *first["input"],
        call,
        {"type": "function_call_output", "call_id": "call_1", "output": "40 C"},
    ]


@pytest.mark.parametrize(
    ("response", "finish"),
    [
        ({"status": "completed", "output": [{"type": "message"}]}, "stop"),
        ({"status": "completed", "output": [{"type": "function_call"}]}, "tool_calls"),
        ({"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}, "length"),
        ({"status": "incomplete", "incomplete_details": {"reason": "content_filter"}}, "content_filter"),
        ({"status": "failed"}, None),
    ],
)
def test_a_responses_status_reads_as_a_finish_reason(response, finish):
    assert finish_of(response) == finish


@pytest.mark.parametrize("path", ["openai-sdk-responses", "litellm-responses"])
def test_each_responses_path_runs_a_tool_conversation_against_the_double(catalogue, tmp_path, path):
    runner = CellRunner(catalogue, RunSettings(cassette_root=tmp_path / "empty"))
    result = runner.run(catalogue.cell(f"responses/glm-5.3/{path}/tool"))
    assert result.verdict is Verdict.PASS, result.reasons
    assert result.evidence["kind"] == "double"
    first, second = result.observation.exchanges
    assert first.url == second.url == "https://api.z.ai/api/v1/responses"
    follow_up = json.loads(second.request_body or "")
    kinds = [item.get("type", "message") for item in follow_up["input"]]
    assert kinds[-2:] == ["function_call", "function_call_output"]
    turns = result.observation.turns
    assert [t.finish_reason for t in turns] == ["tool_calls", "stop"]
    assert turns[0].tool_calls[0].name == "weather" and turns[1].text
