"""The double's OpenAI-protocol surfaces, over real HTTP: shapes as Z.AI sends them, behaviour that
follows the request and the catalogue, and every error and fault reachable by its documented trigger."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conformance.double.server import DoubleServer, running
from conformance.triggers import (
    CALLS_HEADER,
    CODING_PLAN_PREFIX,
    ERA_HEADER,
    FAULT_HEADER,
    PAYG_PREFIX,
    invalid_key,
    marker,
    with_marker,
)

ZAI_ID = re.compile(r"^\d{14}[0-9a-f]{16}$")
KEY = {"Authorization": "Bearer double-test-key"}
WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Get weather information for a location",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
    },
}
ADD, MULTIPLY = (
    {
        "type": "function",
        "function": {
            "name": name,
            "description": f"{name} two numbers",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                "required": ["a", "b"],
            },
        },
    }
    for name in ("add", "multiply")
)


@pytest.fixture(scope="module")
def double() -> Iterator[DoubleServer]:
    with running() as server:
        yield server


def post(double: DoubleServer, body: dict[str, Any], endpoint: str = "coding", headers: dict | None = None, **kw):
    return httpx.post(
        double.base_urls[endpoint] + "/chat/completions",
        json=body,
        headers=KEY if headers is None else headers,
        timeout=10,
        **kw,
    )


def chat(model: str = "glm-4.6", text: str = "Say hi in Portuguese", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


def chunks(response: httpx.Response) -> tuple[list[dict[str, Any]], list[str]]:
    lines = [line[6:] for line in response.text.split("\n\n") if line.startswith("data: ")]
    return [json.loads(line) for line in lines if line != "[DONE]"], lines


def error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


# --- shapes --------------------------------------------------------------------------------------


def test_an_older_era_answers_without_object_or_reasoning_details(double):
    response = post(double, chat("glm-4.5"), headers={**KEY, ERA_HEADER: "2025-11"})
    body = response.json()
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    assert list(body) == ["choices", "created", "id", "model", "request_id", "usage"]
    assert ZAI_ID.match(body["id"]) and body["request_id"] == body["id"]
    assert body["choices"][0]["message"] == {
        "content": "Olá!",
        "reasoning_content": body["choices"][0]["message"]["reasoning_content"],
        "role": "assistant",
    }
    usage = body["usage"]
    assert list(usage) == ["completion_tokens", "prompt_tokens", "prompt_tokens_details", "total_tokens"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert '"content":"Olá!"' in response.text and '"role":"assistant"' in response.text  # compact, unescaped


@pytest.mark.parametrize("model", ["glm-4.7-flash", "glm-4.5"])
def test_the_newest_era_adds_object_and_reasoning_tokens_for_every_model(double, model):
    body = post(double, chat(model)).json()
    assert body["object"] == "chat.completion"
    details = body["usage"]["completion_tokens_details"]
    assert 0 < details["reasoning_tokens"] <= body["usage"]["completion_tokens"]


def test_request_id_is_echoed(double):
    assert post(double, chat(request_id="my-request-0001")).json()["request_id"] == "my-request-0001"


def test_stream_grammar(double):
    response = post(double, chat("glm-4.7-flash", stream=True, stream_options={"include_usage": True}))
    assert response.headers["content-type"] == "text/event-stream;charset=UTF-8"
    events, raw = chunks(response)
    assert raw[-1] == "[DONE]"
    assert all(list(c) == ["id", "created", "object", "model", "choices"] for c in events[:-1])
    deltas = [c["choices"][0]["delta"] for c in events]
    kinds = [next(k for k in ("reasoning_content", "content") if k in d) for d in deltas[:-1]]
    assert kinds == sorted(kinds, key=lambda k: k != "reasoning_content")  # reasoning first, then content
    assert all(d["role"] == "assistant" for d in deltas)
    assert all("finish_reason" not in c["choices"][0] for c in events[:-1])
    last = events[-1]
    assert last["choices"][0] == {"index": 0, "finish_reason": "stop", "delta": {"role": "assistant", "content": ""}}
    assert set(last["usage"]) == {
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "prompt_tokens_details",
        "completion_tokens_details",
    }
    assert "".join(d.get("content", "") for d in deltas) == "Olá!"


def test_tool_call_whole_in_one_chunk_with_streamed_id(double):
    body = chat("glm-4.6", "What's the weather in Florence?", tools=[WEATHER], tool_choice="auto", stream=True)
    events, _ = chunks(post(double, body))
    calls = [c["choices"][0]["delta"] for c in events if "tool_calls" in c["choices"][0]["delta"]]
    assert len(calls) == 1 and "role" not in calls[0]
    [call] = calls[0]["tool_calls"]
    assert re.fullmatch(r"call_[0-9a-f]{24}", call["id"]) and call["index"] == 0 and call["type"] == "function"
    assert json.loads(call["function"]["arguments"]) == {"location": "Florence, Italy"}
    assert events[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_tool_stream_sends_argument_fragments(double):
    body = chat("glm-4.6", "What's the weather in Florence?", tools=[WEATHER], stream=True, tool_stream=True)
    events, _ = chunks(post(double, body))
    parts = [c["choices"][0]["delta"]["tool_calls"][0] for c in events if "tool_calls" in c["choices"][0]["delta"]]
    assert len(parts) > 2 and parts[0]["function"]["arguments"] == "" and "id" in parts[0]
    assert json.loads("".join(p["function"]["arguments"] for p in parts)) == {"location": "Florence, Italy"}


def test_parallel_calls_unstreamed_ids_and_the_result_turn(double):
    system = {"role": "system", "content": "Always use both add and multiply at the same time."}
    body = {
        "model": "glm-4.5",
        "messages": [system, {"role": "user", "content": "Add and multiply 2 and 3"}],
        "tools": [ADD, MULTIPLY],
    }
    message = post(double, body).json()["choices"][0]["message"]
    ids = [c["id"] for c in message["tool_calls"]]
    assert [c["function"]["name"] for c in message["tool_calls"]] == ["add", "multiply"]
    assert all(re.fullmatch(r"call_-\d+", i) for i in ids) and [c["index"] for c in message["tool_calls"]] == [0, 1]
    results = [{"role": "tool", "tool_call_id": i, "content": r} for i, r in zip(ids, ["5", "6"], strict=True)]
    follow = {**body, "messages": [*body["messages"], message, *results]}
    answer = post(double, follow).json()["choices"][0]
    assert answer["finish_reason"] == "stop" and "5" in answer["message"]["content"]


def test_forced_tool_choice_is_honoured_without_text(double):
    body = chat(
        "glm-4.5", "Anything", tools=[WEATHER], tool_choice={"type": "function", "function": {"name": "weather"}}
    )
    message = post(double, body).json()["choices"][0]["message"]
    assert message["content"] == "" and message["tool_calls"][0]["function"]["name"] == "weather"


def test_glm_4_6_omits_content_next_to_tool_calls(double):
    message = post(double, chat("glm-4.6", "weather in Florence?", tools=[WEATHER])).json()["choices"][0]["message"]
    assert "content" not in message and message["tool_calls"]


def test_the_calls_header_chooses_the_calls_or_none(double):
    """X-Double-Calls overrides the double's own choice (the fidelity measure gives it the real model's):
    calls nobody named, a call after tool results, and no call where the prompt names a tool."""
    headers = {**KEY, CALLS_HEADER: "multiply,add"}
    message = post(double, chat("glm-4.6", "Work it out", tools=[ADD, MULTIPLY]), headers=headers).json()
    assert [c["function"]["name"] for c in message["choices"][0]["message"]["tool_calls"]] == ["multiply", "add"]
    assert message["choices"][0]["finish_reason"] == "tool_calls"
    call = message["choices"][0]["message"]["tool_calls"][0]
    turns = [{"role": "user", "content": "Work it out"}, message["choices"][0]["message"]]
    after = chat("glm-4.6", tools=[ADD, MULTIPLY], stream=True)
    after["messages"] = [*turns, {"role": "tool", "tool_call_id": call["id"], "content": "6"}]
    streamed, _ = chunks(post(double, after, headers={**KEY, CALLS_HEADER: "add"}))
    assert [c["function"]["name"] for d in streamed for c in d["choices"][0]["delta"].get("tool_calls", [])] == ["add"]
    assert streamed[-1]["choices"][0]["finish_reason"] == "tool_calls"
    weather = chat("glm-4.6", "weather in Florence?", tools=[WEATHER])
    named = post(double, weather, headers={**KEY, CALLS_HEADER: "none"})
    assert "tool_calls" not in named.json()["choices"][0]["message"]


def test_the_calls_header_refuses_a_tool_the_request_does_not_offer(double):
    refused = post(double, chat("glm-4.6", tools=[WEATHER]), headers={**KEY, CALLS_HEADER: "weather,bash"})
    assert refused.status_code == 400
    assert refused.json()["error"] == {
        "code": "double-calls",
        "message": f"{CALLS_HEADER}: not offered by the request: ['bash']",
    }


def test_json_object_is_honoured_and_json_schema_ignored(double):
    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    as_object = post(double, chat(response_format={"type": "json_object"})).json()["choices"][0]["message"]
    ignored = post(double, chat(response_format=schema)).json()["choices"][0]["message"]
    assert isinstance(json.loads(as_object["content"]), dict)
    assert ignored["content"] == "Olá!"


def test_stop_word_and_small_max_tokens(double):
    stopped = post(double, chat(stop=["á"])).json()["choices"][0]
    assert stopped["message"]["content"] == "Ol" and stopped["finish_reason"] == "stop"
    short = post(double, chat(max_tokens=2)).json()["choices"][0]
    assert short["finish_reason"] == "length"


def test_thinking_rules(double):
    hybrid_off = post(double, chat("glm-4.6", thinking={"type": "disabled"})).json()["choices"][0]["message"]
    assert "reasoning_content" not in hybrid_off
    always_off_coding = post(double, chat("glm-5.3", thinking={"type": "disabled"})).json()["choices"][0]["message"]
    assert "reasoning_content" in always_off_coding  # ignored on the coding endpoint
    refused = post(double, chat("glm-5.3", thinking={"type": "disabled"}), endpoint="general")
    assert error(refused) == (
        400,
        "1210",
        "This model always engages in thinking and cannot be disabled; please use low, high, or max",
    )
    low = post(double, chat("glm-5.3", reasoning_effort="low"), endpoint="general").json()
    assert "reasoning_content" not in low["choices"][0]["message"]
    assert low["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0


def test_models_and_embeddings(double):
    listed = httpx.get(double.base_urls["general"] + "/models", headers=KEY).json()
    assert listed["object"] == "list" and {"id": "glm-4.6", "object": "model"}.items() <= listed["data"][6].items()
    vectors = httpx.post(
        double.base_urls["general"] + "/embeddings",
        headers=KEY,
        json={"model": "embedding-3", "input": ["a", "b"], "dimensions": 256},
    ).json()
    assert [len(d["embedding"]) for d in vectors["data"]] == [256, 256]
    assert abs(sum(x * x for x in vectors["data"][0]["embedding"]) - 1) < 1e-3
    too_big = httpx.post(
        double.base_urls["general"] + "/embeddings",
        headers=KEY,
        json={"model": "embedding-3", "input": "a", "dimensions": 4096},
    )
    assert too_big.status_code == 400


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "endpoint", "expected"),
    [
        ({}, "coding", (401, "1001")),
        ({"Authorization": f"Bearer {invalid_key('test')}"}, "coding", (401, "1002")),
        ({"Authorization": f"Bearer {CODING_PLAN_PREFIX}1"}, "general", (429, "1113")),
        ({"Authorization": f"Bearer {PAYG_PREFIX}1"}, "coding", (429, "1113")),
    ],
    ids=["no-key", "bad-key", "coding-key-on-general", "payg-key-on-coding"],
)
def test_keys(double, headers, endpoint, expected):
    assert error(post(double, chat(), endpoint=endpoint, headers=headers))[:2] == expected
    assert (
        post(double, chat(), endpoint=endpoint, headers=headers).headers["content-type"].startswith("application/json")
    )


def test_the_right_plan_key_works_on_its_endpoint(double):
    assert (
        post(double, chat(), endpoint="coding", headers={"Authorization": f"Bearer {CODING_PLAN_PREFIX}1"}).status_code
        == 200
    )
    assert (
        post(double, chat(), endpoint="general", headers={"Authorization": f"Bearer {PAYG_PREFIX}1"}).status_code == 200
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (chat("glm-9"), (400, "1211", "Unknown Model, please check the model code.")),
        (
            {"model": "glm-4.6", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": ""}]},
            (400, "1214", "messages[1]:content和tool_calls 字段不能同时为空"),
        ),
        (chat("glm-4.5", "x" * 600_000), (400, "1261", "Prompt too long")),
    ],
    ids=["unknown-model", "empty-message", "prompt-too-long"],
)
def test_request_errors(double, body, expected):
    assert error(post(double, body)) == expected


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("1301", 400),
        ("1302", 429),
        ("1305", 429),
        ("1308", 429),
        ("1310", 429),
        ("1311", 429),
        ("500", 500),
        ("1214", 400),
    ],
)
def test_error_faults_by_marker_and_by_header(double, code, status):
    by_marker = error(post(double, chat(text=with_marker("hello", code))))
    by_header = error(post(double, chat(), headers={**KEY, FAULT_HEADER: code}))
    assert by_marker[:2] == by_header[:2] == (status, code)


def test_quota_errors_say_when_they_reset_in_utc8(double):
    _, _, message = error(post(double, chat(text=marker("1308"))))
    assert re.fullmatch(
        r"Usage limit reached for 5 hour\. Your limit will reset at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", message
    )


def test_an_error_for_a_stream_request_is_plain_json_without_content_type(double):
    response = post(double, chat(text=marker("1305"), stream=True))
    assert response.status_code == 429 and "content-type" not in response.headers
    assert response.json() == {
        "error": {"code": "1305", "message": "The service may be temporarily overloaded, please try again later"}
    }


@pytest.mark.parametrize("reason", ["sensitive", "network_error", "model_context_window_exceeded"])
def test_streams_can_end_with_zai_finish_reasons(double, reason):
    events, raw = chunks(post(double, chat(text=with_marker("hello", reason), stream=True)))
    assert events[-1]["choices"][0]["finish_reason"] == reason and raw[-1] == "[DONE]"
    unstreamed = post(double, chat(text=with_marker("hello", reason))).json()
    assert unstreamed["choices"][0]["finish_reason"] == reason


# --- transport faults ------------------------------------------------------------------------------


def test_a_hanging_stream_sends_one_chunk_then_nothing(double):
    received = []
    with (
        pytest.raises(httpx.ReadTimeout),
        httpx.stream(
            "POST",
            double.base_urls["coding"] + "/chat/completions",
            json=chat(text=with_marker("hi", "hang"), stream=True),
            headers=KEY,
            timeout=httpx.Timeout(5, read=1.0),
        ) as response,
    ):
        for chunk in response.iter_raw():
            received.append(chunk)
    assert len(received) == 1 and received[0].startswith(b"data: ")


def test_a_slow_first_token(double, monkeypatch):
    """The double holds its answer back for the seconds the marker asks, then answers in full. Read
    from the wait it is asked for, not from the clock: a busy machine must not decide this test."""
    from conformance.double import server as double_server

    waits: list[float] = []

    def wait(handler, seconds: float) -> bool:
        waits.append(seconds)
        return True  # the client is still there when the wait is over

    monkeypatch.setattr(double_server._Handler, "_wait", wait)
    response = post(double, chat(text=with_marker("hi", "slow=0.5")))
    assert waits == [0.5]
    assert response.status_code == 200 and response.json()["choices"][0]["message"]["content"]


def test_a_connection_reset_mid_stream(double):
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        post(double, chat(text=with_marker("hi", "reset"), stream=True))


def test_the_double_is_a_real_server_on_loopback(double):
    host, port = double.root_url.removeprefix("http://").split(":")
    assert host == "127.0.0.1"
    with socket.create_connection((host, int(port)), timeout=2):
        pass


@pytest.mark.parametrize("stream", [False, True])
def test_a_request_without_a_key_gets_the_gateways_401_as_json(double: DoubleServer, stream: bool) -> None:
    """crush recorded Z.AI's 401/1001 to three streamed requests made without a key: plain JSON with
    `Content-Type: application/json` — unlike a 1305 before a stream, which comes with none."""
    answer = post(double, chat(stream=stream), headers={})
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"]["code"] == "1001"
