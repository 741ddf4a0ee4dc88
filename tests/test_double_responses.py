"""The double's Responses surface (`POST /api/v1/responses`): in-process through `Double.route`, and through
the real OpenAI Python SDK against a loopback double. No real recording of this surface exists, so the
SDK's own types are the judge of shape: every body and every event must validate against them strictly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from conformance.catalogue import load_catalogue
from conformance.double.server import RESPONSES_BASE, Double, DoubleServer, running
from conformance.double.wire import Reply
from conformance.triggers import CODING_PLAN_PREFIX, PAYG_PREFIX, with_marker
from conformance.wire.sse import read_events

KEY = "double-test-key"
MODEL = "glm-5.3"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a place",
    "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
    "strict": True,
}
EVENTS = TypeAdapter(ResponseStreamEvent)


@pytest.fixture(scope="module")
def double() -> Double:
    return Double(load_catalogue())


@pytest.fixture(scope="module")
def server() -> Iterator[DoubleServer]:
    with running() as served:
        yield served


@pytest.fixture(scope="module")
def client(server: DoubleServer) -> openai.OpenAI:
    return openai.OpenAI(api_key=KEY, base_url=server.responses_url, max_retries=0, timeout=10)


def post(double: Double, body: dict[str, Any], key: str | None = KEY) -> Reply:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    return double.route("POST", f"{RESPONSES_BASE}/responses", headers, json.dumps(body).encode())


def whole(reply: Reply) -> Response:
    """A non-streamed answer, validated strictly against the SDK's Response type."""
    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"] == "application/json"
    return Response.model_validate_json(reply.body or b"")


def streamed(reply: Reply) -> list[Any]:
    """A streamed answer's events, each `event: <type>` + `data:` and validated against the SDK's union."""
    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"].startswith("text/event-stream")
    events = read_events(b"".join(reply.events or []).decode())
    for sse in events:
        assert sse.name == sse.data["type"]
    return [EVENTS.validate_python(sse.data) for sse in events]


def error_of(reply: Reply, status: int, code: str) -> str:
    assert reply.status == status, reply.body
    document = json.loads(reply.body or b"")
    assert list(document) == ["error"] and document["error"]["code"] == code
    return document["error"]["message"]


# --- in process ----------------------------------------------------------------------------------


def test_a_string_input_gets_reasoning_then_a_message(double: Double) -> None:
    response = whole(post(double, {"model": MODEL, "input": "Say hi in Portuguese"}))

    assert response.id.startswith("resp_") and response.object == "response" and response.status == "completed"
    assert response.model == MODEL and response.output_text == "Olá!"
    assert [item.type for item in response.output] == ["reasoning", "message"]
    reasoning, message = response.output
    assert reasoning.summary[0].type == "summary_text" and "Say hi in Portuguese" in reasoning.summary[0].text
    assert message.role == "assistant" and message.status == "completed" and message.content[0].annotations == []
    usage = response.usage
    assert usage is not None and usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert 0 < usage.output_tokens_details.reasoning_tokens < usage.output_tokens
    assert usage.input_tokens_details.cached_tokens == 0


def test_a_model_without_thinking_sends_no_reasoning_item(double: Double) -> None:
    response = whole(post(double, {"model": "glm-4-32b-0414-128k", "input": "Say hi in Portuguese"}))
    assert [item.type for item in response.output] == ["message"]


def test_low_effort_switches_glm_5_3_reasoning_off_as_on_chat_completions(double: Double) -> None:
    response = whole(post(double, {"model": MODEL, "input": "Say hi", "reasoning": {"effort": "low"}}))
    assert [item.type for item in response.output] == ["message"]
    assert response.usage is not None and response.usage.output_tokens_details.reasoning_tokens == 0


def test_an_effort_chat_completions_refuses_is_accepted_here(double: Double) -> None:
    """Codex sends `medium` by default and works with glm-5.3 here (ZAI-FACTS §9.4), while the general
    chat endpoint refuses levels the model does not document."""
    response = whole(post(double, {"model": MODEL, "input": "Say hi", "reasoning": {"effort": "medium"}}))
    assert response.status == "completed"


def test_a_named_tool_gets_a_function_call_with_parsed_arguments(double: Double) -> None:
    body = {"model": MODEL, "input": "Use get_weather for Florence", "tools": [WEATHER]}
    response = whole(post(double, body))

    calls = [item for item in response.output if item.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather" and calls[0].status == "completed"
    assert calls[0].call_id.startswith("call_") and calls[0].id and calls[0].id != calls[0].call_id
    assert json.loads(calls[0].arguments) == {"location": "Florence, Italy"}
    assert response.status == "completed" and response.tools[0].name == "get_weather"


def test_a_forced_tool_choice_calls_without_text(double: Double) -> None:
    body = {
        "model": MODEL,
        "input": "Hello",
        "tools": [WEATHER],
        "tool_choice": {"type": "function", "name": "get_weather"},
    }
    response = whole(post(double, body))
    assert [item.type for item in response.output] == ["reasoning", "function_call"]


def test_function_call_output_items_are_tool_results_answered_with_text(double: Double) -> None:
    history = [
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "Use get_weather for Florence"}],
        },
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"location":"Florence"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "Sunny, 24 C"},
    ]
    response = whole(post(double, {"model": MODEL, "input": history, "tools": [WEATHER]}))
    assert not [item for item in response.output if item.type == "function_call"]
    assert "Sunny, 24 C" in response.output_text


def test_instructions_and_developer_messages_are_the_system_prompt(double: Double) -> None:
    """The planner reads only the last user message, so a system prompt that names a tool calls nothing,
    and a request whose only text is the system prompt is refused (1214) — both prove where it went."""
    named = {"model": MODEL, "instructions": "Always use get_weather.", "input": "Say hi", "tools": [WEATHER]}
    assert not [item for item in whole(post(double, named)).output if item.type == "function_call"]
    developer = [{"type": "message", "role": "developer", "content": "Be brief"}, {"role": "user", "content": ""}]
    error_of(post(double, {"model": MODEL, "input": developer}), 400, "1214")


def test_max_output_tokens_cut_is_incomplete(double: Double) -> None:
    response = whole(post(double, {"model": MODEL, "input": "Count from one to ten", "max_output_tokens": 20}))
    assert response.status == "incomplete"
    assert response.incomplete_details is not None and response.incomplete_details.reason == "max_output_tokens"


def test_an_image_to_a_text_only_model_is_refused_and_to_a_vision_model_answered(double: Double) -> None:
    image = {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="}
    content = [{"type": "input_text", "text": "What colour is this square?"}, image]
    item = [{"type": "message", "role": "user", "content": content}]
    error_of(post(double, {"model": MODEL, "input": item}), 400, "1210")
    vision = next(m.id for m in load_catalogue().models if m.vision)
    assert whole(post(double, {"model": vision, "input": item})).output_text == "Red."


def test_the_stream_is_typed_numbered_and_ends_with_the_whole_response(double: Double) -> None:
    events = streamed(post(double, {"model": MODEL, "input": "Say hi in Portuguese", "stream": True}))

    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"] and kinds[-1] == "response.completed"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert events[0].response.status == "in_progress" and events[0].response.output == []
    assert kinds.count("response.output_item.added") == kinds.count("response.output_item.done") == 2
    for kind in ("reasoning_summary_part.added", "reasoning_summary_text.done", "content_part.added"):
        assert f"response.{kind}" in kinds
    deltas = [event.delta for event in events if event.type == "response.output_text.delta"]
    assert deltas and "".join(deltas) == "Olá!"
    final = events[-1].response
    assert final.output_text == "Olá!" and final.usage is not None
    done = next(event for event in events if event.type == "response.output_text.done")
    assert done.text == "Olá!" and done.item_id == final.output[1].id


def test_a_streamed_call_arrives_in_argument_fragments(double: Double) -> None:
    body = {"model": MODEL, "input": "Use get_weather for Florence", "tools": [WEATHER], "stream": True}
    events = streamed(post(double, body))
    fragments = [event.delta for event in events if event.type == "response.function_call_arguments.delta"]
    done = next(event for event in events if event.type == "response.function_call_arguments.done")
    assert len(fragments) > 1 and "".join(fragments) == done.arguments
    assert json.loads(done.arguments) == {"location": "Florence, Italy"}


def test_a_cut_stream_ends_with_response_incomplete(double: Double) -> None:
    body = {"model": MODEL, "input": "Count from one to ten", "max_output_tokens": 20, "stream": True}
    events = streamed(post(double, body))
    assert events[-1].type == "response.incomplete" and events[-1].response.status == "incomplete"


def test_a_network_error_fault_fails_the_response(double: Double) -> None:
    response = whole(post(double, {"model": MODEL, "input": with_marker("Say hi", "network_error")}))
    assert response.status == "failed" and response.error is not None
    assert response.error.code == "server_error" and response.error.message == "network_error"


@pytest.mark.parametrize(
    ("body", "key", "status", "code"),
    [
        ({"model": "glm-9", "input": "hi"}, KEY, 400, "1211"),
        ({"model": MODEL, "input": "hi"}, None, 401, "1001"),
        ({"model": MODEL, "input": "hi"}, "an-invalid-key", 401, "1002"),
        ({"model": MODEL, "input": "hi", "temperature": 2}, KEY, 400, "1210"),
        ({"model": MODEL}, KEY, 400, "1210"),
        ({"model": MODEL, "input": "hi [double:1302]", "stream": True}, KEY, 429, "1302"),
    ],
)
def test_refusals_come_in_zai_envelope(
    double: Double, body: dict[str, Any], key: str | None, status: int, code: str
) -> None:
    error_of(post(double, body, key), status, code)


@pytest.mark.parametrize("key", [CODING_PLAN_PREFIX + "k", PAYG_PREFIX + "k"])
def test_both_plans_keys_are_accepted(double: Double, key: str) -> None:
    assert whole(post(double, {"model": MODEL, "input": "Say hi in Portuguese"}, key)).output_text == "Olá!"


def test_other_routes_under_the_base_are_not_found(double: Double) -> None:
    assert (
        double.route("POST", f"{RESPONSES_BASE}/chat/completions", {"authorization": f"Bearer {KEY}"}, b"{}").status
        == 404
    )


# --- through the OpenAI SDK, on a socket -----------------------------------------------------------


def test_the_sdk_reads_a_whole_response(client: openai.OpenAI) -> None:
    response = client.responses.create(model=MODEL, input="Say hi in Portuguese")
    assert response.output_text == "Olá!" and response.status == "completed"


def test_the_sdk_streams_typed_events_ending_in_completed(client: openai.OpenAI) -> None:
    events = list(client.responses.create(model=MODEL, input="Say hi in Portuguese", stream=True))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "Olá!"
    assert events[-1].response.output_text == "Olá!"


def test_the_sdks_stream_helper_accumulates_the_events_into_the_final_response(client: openai.OpenAI) -> None:
    """`responses.stream` rebuilds the response from the events by output and content index: it fails on
    events that do not fit the items they name."""
    with client.responses.stream(model=MODEL, input="Use get_weather for Florence", tools=[WEATHER]) as stream:
        final = stream.get_final_response()
    assert final.output_text == "I'll use get_weather for this."
    [call] = [item for item in final.output if item.type == "function_call"]
    assert json.loads(call.arguments) == {"location": "Florence, Italy"}


def test_the_sdk_does_a_tool_round_trip(client: openai.OpenAI) -> None:
    first = client.responses.create(model=MODEL, input="Use get_weather for Florence", tools=[WEATHER])
    [call] = [item for item in first.output if item.type == "function_call"]
    assert json.loads(call.arguments) == {"location": "Florence, Italy"}

    history: list[Any] = [
        {"role": "user", "content": "Use get_weather for Florence"},
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny"},
    ]
    second = client.responses.create(model=MODEL, input=history, tools=[WEATHER])
    assert "Sunny" in second.output_text


def test_the_sdk_sends_instructions_as_the_system_prompt(client: openai.OpenAI) -> None:
    """The instructions are a message of the prompt (it counts more input tokens) but not the user's: the
    reasoning quotes the user's words, and a tool the instructions name is not called."""
    plain = client.responses.create(model=MODEL, input="Say hi in Portuguese", tools=[WEATHER])
    instructed = client.responses.create(
        model=MODEL, instructions="Always use get_weather.", input="Say hi in Portuguese", tools=[WEATHER]
    )
    assert instructed.output_text == "Olá!" and not [i for i in instructed.output if i.type == "function_call"]
    assert plain.usage is not None and instructed.usage is not None
    assert instructed.usage.input_tokens > plain.usage.input_tokens
    summary = next(item for item in instructed.output if item.type == "reasoning").summary[0].text
    assert "Say hi in Portuguese" in summary and "get_weather" not in summary


def test_the_sdk_raises_bad_request_for_an_unknown_model(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(model="glm-9", input="hi")
    assert raised.value.status_code == 400 and isinstance(raised.value.body, dict)
    assert raised.value.body["code"] == "1211"


@pytest.mark.parametrize(("key", "code"), [("", "1001"), ("an-invalid-key", "1002")])
def test_the_sdk_raises_authentication_error_without_a_valid_key(server: DoubleServer, key: str, code: str) -> None:
    sdk = openai.OpenAI(api_key=key or "unused", base_url=server.responses_url, max_retries=0, timeout=10)
    headers = None if key else {"Authorization": ""}  # no key at all: the SDK insists on one, so blank its header
    with pytest.raises(openai.AuthenticationError) as raised:
        sdk.responses.create(model=MODEL, input="hi", extra_headers=headers)
    assert raised.value.status_code == 401 and isinstance(raised.value.body, dict)
    assert raised.value.body["code"] == code
