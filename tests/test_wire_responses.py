"""Reading Responses answers (`…/responses`, JSON and SSE) into the WireAnswer the checks compare against.

No real recording of Z.AI's Responses API exists, so the bodies are the double's (OpenAI's schema); the
expected values come from the double's plan, not from the reader. The other protocols' readers must read
exactly as before: the URL alone picks the Responses reader."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.catalogue import load_catalogue
from conformance.double.server import Double
from conformance.double.wire import Reply
from conformance.observation import Usage
from conformance.triggers import with_marker
from conformance.wire import WireAnswer, anthropic, openai, read_answer

KEY = {"authorization": "Bearer double-test-key"}
RESPONSES = "https://api.z.ai/api/v1/responses"
MODEL = "glm-5.3"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a place",
    "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
}


@pytest.fixture(scope="module")
def double() -> Double:
    return Double(load_catalogue())


def served(double: Double, path: str, body: dict[str, Any], headers: dict[str, str] = KEY) -> tuple[Reply, str]:
    reply = double.route("POST", path, headers, json.dumps(body).encode())
    text = (reply.body if reply.events is None else b"".join(reply.events)) or b""
    return reply, text.decode()


def read(reply: Reply, text: str, url: str = RESPONSES) -> WireAnswer:
    return read_answer(reply.status, text, {k: [v] for k, v in reply.headers.items()}, url=url)


def responses(double: Double, **body: Any) -> tuple[WireAnswer, dict[str, Any]]:
    """The answer as read, and the double's whole response object (from the body or the terminal event)."""
    reply, text = served(double, "/api/v1/responses", {"model": MODEL, **body})
    whole = json.loads(text) if reply.events is None else json.loads(text.rsplit("data: ", 1)[1])["response"]
    return read(reply, text), whole


@pytest.mark.parametrize("stream", [False, True])
def test_text_reasoning_usage_and_finish(double: Double, stream: bool) -> None:
    answer, whole = responses(double, input="Say hi in Portuguese", stream=stream)

    assert answer.status == 200 and answer.text == "Olá!" and answer.finish_reason == "stop"
    assert answer.reasoning == whole["output"][0]["summary"][0]["text"] and "Say hi" in answer.reasoning
    usage = whole["usage"]
    assert answer.usage == Usage(
        prompt_tokens=usage["input_tokens"],
        completion_tokens=usage["output_tokens"],
        total_tokens=usage["total_tokens"],
        reasoning_tokens=usage["output_tokens_details"]["reasoning_tokens"],
        cached_tokens=usage["input_tokens_details"]["cached_tokens"],
    )
    assert answer.id == whole["id"] and answer.model == MODEL and answer.created == whole["created_at"]
    assert answer.error_code is None and answer.tool_calls == []


def test_stream_facts(double: Double) -> None:
    reply, text = served(double, "/api/v1/responses", {"model": MODEL, "input": "Say hi", "stream": True})
    answer = read(reply, text)
    assert answer.stream is not None and answer.stream.done and not answer.stream.malformed
    assert answer.stream.chunks == len(reply.events or []) == answer.stream.finish_chunk + 1


@pytest.mark.parametrize("stream", [False, True])
def test_tool_calls_use_the_call_id_and_finish_as_tool_calls(double: Double, stream: bool) -> None:
    answer, whole = responses(double, input="Use get_weather for Florence", tools=[WEATHER], stream=stream)

    call_item = next(item for item in whole["output"] if item["type"] == "function_call")
    [call] = answer.tool_calls
    assert call.id == call_item["call_id"] and call.name == "get_weather"
    assert call.arguments == {"location": "Florence, Italy"} and call.parse_error is None
    assert answer.finish_reason == "tool_calls"


@pytest.mark.parametrize("stream", [False, True])
def test_a_max_output_tokens_cut_reads_as_length(double: Double, stream: bool) -> None:
    answer, _ = responses(double, input="Count from one to ten", max_output_tokens=20, stream=stream)
    assert answer.finish_reason == "length"
    assert answer.stream is None or answer.stream.done  # response.incomplete ends a stream too


def test_a_failed_response_has_no_finish_and_its_error(double: Double) -> None:
    answer, _ = responses(double, input=with_marker("Say hi", "network_error"))
    assert answer.finish_reason is None
    assert (answer.error_code, answer.error_message) == ("server_error", "network_error")


@pytest.mark.parametrize("stream", [False, True])
def test_the_zai_error_envelope(double: Double, stream: bool) -> None:
    reply, text = served(double, "/api/v1/responses", {"model": "glm-9", "input": "hi", "stream": stream})
    answer = read(reply, text)
    assert answer.status == 400 and answer.error_code == "1211" and answer.error_envelope
    assert answer.error_message == "Unknown Model, please check the model code."


def test_a_stream_cut_before_its_terminal_event_keeps_what_the_deltas_built(double: Double) -> None:
    reply, text = served(
        double,
        "/api/v1/responses",
        {"model": MODEL, "input": "Use get_weather for Florence", "tools": [WEATHER], "stream": True},
    )
    events = text.split("\n\n")
    cut = "\n\n".join(event for event in events if "response.completed" not in event)
    answer = read(reply, cut)
    assert answer.stream is not None and not answer.stream.done
    assert answer.text == "I'll use get_weather for this." and answer.reasoning
    assert [c.arguments for c in answer.tool_calls] == [{"location": "Florence, Italy"}]
    assert answer.finish_reason is None and answer.usage is None


def test_an_error_event_in_a_stream_is_the_answers_error() -> None:
    body = 'event: error\ndata: {"type":"error","sequence_number":0,"code":"1234","message":"Network error"}\n\n'
    answer = read_answer(200, body, {"Content-Type": ["text/event-stream"]}, url=RESPONSES)
    assert (answer.error_code, answer.error_message) == ("1234", "Network error")
    assert answer.stream is not None and not answer.stream.done


# --- the other protocols read as before ------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_chat_completions_bodies_read_as_before(double: Double, stream: bool) -> None:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Say hi in Portuguese"}], "stream": stream}
    reply, text = served(double, "/api/paas/v4/chat/completions", body)
    answer = read(reply, text, url="https://api.z.ai/api/paas/v4/chat/completions")
    direct = openai.read_stream(reply.status, text) if stream else openai.read_json(reply.status, text)
    assert answer == direct and answer.text == "Olá!" and answer.finish_reason == "stop"


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_bodies_read_as_before(double: Double, stream: bool) -> None:
    body = {"model": MODEL, "max_tokens": 1024, "messages": [{"role": "user", "content": "Say hi in Portuguese"}]}
    reply, text = served(double, "/api/anthropic/v1/messages", {**body, "stream": stream}, {"x-api-key": "double-k"})
    answer = read(reply, text, url="https://api.z.ai/api/anthropic/v1/messages?beta=true")
    assert answer == anthropic.read(reply.status, text, stream)
    assert answer.text == "Olá!" and answer.finish_reason == "end_turn"


def test_the_url_alone_picks_the_responses_reader(double: Double) -> None:
    reply, text = served(double, "/api/v1/responses", {"model": MODEL, "input": "Say hi in Portuguese"})
    assert read(reply, text, url=RESPONSES + "?x=1").text == "Olá!"
    assert read(reply, text, url="https://api.z.ai/api/paas/v4/chat/completions").text is None  # no choices
