"""The double's Anthropic-compatible surface (`POST /api/anthropic/v1/messages`), over real HTTP.

Each test asserts a shape the real captures of Z.AI's endpoint show (zai-recordings/anthropic_endpoint/)
or a rule of the Anthropic Messages protocol the double promises to honour. The one real stream the
double is compared with is copied below, verbatim, with its provenance.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from conformance.catalogue import load_catalogue
from conformance.double import anthropic_surface
from conformance.double.answers import plan
from conformance.double.server import DoubleServer, running
from conformance.double.wire import DoubleRequest
from conformance.triggers import FAULT_HEADER, PAYG_PREFIX, with_marker

# Real capture: Z.AI's Anthropic-compatible /v1/messages, model glm-5, 2026-03-31 (the corpus copy in
# tests/fixtures; its .SOURCE.md says where it came from).
CAPTURED_STREAM = (
    Path(__file__).parent / "fixtures/zai-recordings/anthropic_endpoint/go_test__glm-5_stream1_text_then_tool_use.sse"
).read_text(encoding="utf-8")

KEY = "double-test-key"
MESSAGE_ID = re.compile(r"^msg_(\d{14})[0-9a-f]{16}$")
REQUEST_ID = re.compile(r"^\d{14}[0-9a-f]{16}$")
TOOL_ID = re.compile(r"^call_[0-9a-f]{24}$")
SIGNATURE = re.compile(r"^[0-9a-f]{24}$")
USAGE_KEYS = ["input_tokens", "output_tokens", "cache_read_input_tokens", "server_tool_use", "service_tier"]
BASH = {
    "name": "bash",
    "description": "Run a shell command",
    "input_schema": {
        "type": "object",
        "properties": {"command": {"type": "string"}, "description": {"type": "string"}},
        "required": ["command", "description"],
    },
}
WEATHER = {
    "name": "get_weather",
    "description": "Get weather information for a location",
    "input_schema": {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "the city"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer"},
        },
        "required": ["location", "unit", "days"],
        "additionalProperties": False,
    },
}


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def double() -> Iterator[DoubleServer]:
    with running() as server:
        yield server


@pytest.fixture(scope="module")
def client(double: DoubleServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=double.base_urls["anthropic"], timeout=10) as http:
        yield http


def post(client: httpx.Client, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    return client.post("/v1/messages", json=body, headers={"x-api-key": KEY} if headers is None else headers)


def ask(model: str = "glm-5", text: str = "hi in Portuguese", **extra: Any) -> dict[str, Any]:
    return {"model": model, "max_tokens": 1024, "messages": [{"role": "user", "content": text}], **extra}


def events(raw: str) -> list[tuple[str, dict[str, Any]]]:
    """Split an SSE body into (event name, data); each event must be exactly `event:` then `data:`."""
    assert raw.endswith("\n\n")
    parsed = []
    for frame in raw[:-2].split("\n\n"):
        event_line, data_line = frame.split("\n")
        assert event_line.startswith("event: ") and data_line.startswith("data: ")
        data = json.loads(data_line[len("data: ") :])
        assert data["type"] == event_line[len("event: ") :]
        parsed.append((data["type"], data))
    return parsed


def stream(client: httpx.Client, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    response = post(client, {**body, "stream": True})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    return events(response.text)


def data_lines(raw: str) -> list[str]:
    return [line[len("data: ") :] for line in raw.split("\n") if line.startswith("data: ")]


def printed_like_zai(text: str) -> bool:
    """Python's default separators `", "` / `": "`, UTF-8 unescaped: re-printing changes nothing."""
    return json.dumps(json.loads(text), ensure_ascii=False) == text


def printed_compact(text: str) -> bool:
    return json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":")) == text


def shape(value: Any) -> Any:
    """Keys in order and value types, not values: what two streams of different words share."""
    if isinstance(value, dict):
        return [(name, shape(inner)) for name, inner in value.items()]
    if isinstance(value, list):
        return [shape(inner) for inner in value]
    return type(value).__name__


def skeleton(stream_events: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, Any]]:
    """The stream's events with runs of same-shaped deltas collapsed into one."""
    collapsed: list[tuple[str, Any]] = []
    for name, data in stream_events:
        entry = (name, shape(data))
        if not collapsed or collapsed[-1] != entry:
            collapsed.append(entry)
    return collapsed


def blocks_of(stream_events: list[tuple[str, dict[str, Any]]], index: int) -> list[dict[str, Any]]:
    return [data for name, data in stream_events if name.startswith("content_block") and data["index"] == index]


def error_of(response: httpx.Response, status: int, error_type: str, code: str) -> str:
    """Check the Anthropic error envelope and Z.AI's `[code][text][request id]` message; return the text."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["type", "error", "request_id"]
    assert body["type"] == "error"
    assert REQUEST_ID.match(body["request_id"])
    assert list(body["error"]) == ["type", "code", "message"]
    assert (body["error"]["type"], body["error"]["code"]) == (error_type, code)
    match = re.fullmatch(r"\[(\d+)\]\[(.+)\]\[(\w+)\]", body["error"]["message"])
    assert match, body["error"]["message"]
    assert match.group(1) == code and match.group(3) == body["request_id"]
    return match.group(2)


# --- auth and errors -----------------------------------------------------------------------------


def test_x_api_key_authenticates_and_answers_json(client: httpx.Client) -> None:
    response = post(client, ask())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"]
    assert (body["type"], body["role"], body["model"]) == ("message", "assistant", "glm-5")
    assert body["content"] == [{"type": "text", "text": "Olá!"}]
    assert (body["stop_reason"], body["stop_sequence"]) == ("end_turn", None)
    assert list(body["usage"]) == USAGE_KEYS
    assert body["usage"]["server_tool_use"] == {"web_search_requests": 0}
    assert body["usage"]["service_tier"] == "standard"
    assert "cache_creation_input_tokens" not in response.text


def test_bearer_authenticates_with_beta_query_and_anthropic_headers(client: httpx.Client) -> None:
    headers = {
        "authorization": f"Bearer {KEY}",
        "anthropic-version": "2023-06-01",
        "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14",
    }
    response = client.post("/v1/messages?beta=true", json=ask(metadata={"user_id": "u1"}), headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["content"] == [{"type": "text", "text": "Olá!"}]


def test_missing_key_is_401_in_the_error_envelope(client: httpx.Client) -> None:
    text = error_of(post(client, ask(), headers={}), 401, "authentication_error", "1001")
    assert "Authorization" in text


def test_payg_key_is_429_1113_rate_limit_error(client: httpx.Client) -> None:
    response = post(client, ask(), headers={"x-api-key": PAYG_PREFIX + "abc"})
    text = error_of(response, 429, "rate_limit_error", "1113")
    assert text == "Insufficient balance or no resource package. Please recharge."


def test_error_bodies_are_compact_like_the_real_1113(client: httpx.Client) -> None:
    """zai-org/feedback#789 (real curl output): `{"type":"error","error":{"type":"rate_limit_error",…`."""
    response = post(client, ask(), headers={"x-api-key": PAYG_PREFIX + "abc"})
    assert response.text.startswith('{"type":"error","error":{"type":"rate_limit_error","code":"1113",')
    assert printed_compact(response.text)


def test_unknown_model_is_400_1211(client: httpx.Client) -> None:
    text = error_of(post(client, ask(model="glm-9000")), 400, "invalid_request_error", "1211")
    assert text == "Unknown Model, please check the model code."


def test_refused_stream_request_gets_plain_json(client: httpx.Client) -> None:
    response = post(client, {**ask(), "stream": True}, headers={"x-api-key": PAYG_PREFIX + "abc"})
    error_of(response, 429, "rate_limit_error", "1113")
    assert "event:" not in response.text


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"model": "glm-5", "max_tokens": 10}, "1210"),  # no messages
        (ask(max_tokens="ten"), "1210"),
        (ask(thinking={"type": "sometimes"}), "1210"),
        (ask(text=""), "1214"),
    ],
    ids=["no-messages", "max-tokens-not-int", "unknown-thinking-type", "empty-content"],
)
def test_malformed_requests_are_400(client: httpx.Client, body: dict[str, Any], code: str) -> None:
    error_of(post(client, body), 400, "invalid_request_error", code)


def test_unknown_thinking_type_on_an_always_thinking_model_says_it_always_thinks(client: httpx.Client) -> None:
    text = error_of(post(client, ask(model="glm-5.3", thinking={"type": "x"})), 400, "invalid_request_error", "1210")
    assert "always" in text


def test_image_to_a_text_model_is_1210_and_to_a_vision_model_is_answered(client: httpx.Client) -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
    content = [image, {"type": "text", "text": "What is in this picture?"}]
    messages = [{"role": "user", "content": content}]
    refused = post(client, {"model": "glm-5", "messages": messages})
    # Z.AI answered this one in the bare envelope, not its Anthropic one (hermes-agent#117208)
    assert refused.status_code == 400
    assert refused.json() == {"error": {"code": "1210", "message": "messages.content.type 参数非法，取值范围 ['text']"}}
    assert post(client, {"model": "glm-4.6v", "messages": messages}).status_code == 200


def test_error_fault_marker_gives_its_code(client: httpx.Client) -> None:
    error_of(post(client, ask(text=with_marker("hello", "1302"))), 429, "rate_limit_error", "1302")
    error_of(post(client, ask(text=with_marker("hello", "500"))), 500, "api_error", "500")


# --- JSON bodies ---------------------------------------------------------------------------------


def test_json_body_uses_default_separators_unescaped_utf8(client: httpx.Client) -> None:
    response = post(client, ask(model="glm-4.7"))
    assert printed_like_zai(response.text)
    assert '"type": "message", "role": "assistant"' in response.text
    assert "Olá!".encode() in response.content


def test_ids_headers_and_signature_formats(client: httpx.Client) -> None:
    thinking = {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    response = post(client, ask(model="glm-4.7", text="Use get_weather for Florence", tools=[WEATHER], **thinking))
    body = response.json()
    match = MESSAGE_ID.match(body["id"])
    assert match
    stamp = datetime.strptime(match.group(1), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    assert abs(stamp - (datetime.now(UTC) + timedelta(hours=8))) < timedelta(minutes=2)  # UTC+8, as Z.AI
    assert response.headers["x-log-id"] == body["id"].removeprefix("msg_")
    assert re.fullmatch(r"\d+\.\d+", response.headers["x-process-time"])
    thinking, *_, tool_use = body["content"]
    assert thinking["type"] == "thinking" and SIGNATURE.match(thinking["signature"])
    assert tool_use["type"] == "tool_use" and TOOL_ID.match(tool_use["id"])


def test_json_usage_excludes_cache_reads_from_input_tokens(client: httpx.Client, double: DoubleServer) -> None:
    body = conversation()
    usage = post(client, body).json()["usage"]
    answer = planned(double, body)
    assert answer.cached_tokens > 0
    assert usage["input_tokens"] == answer.prompt_tokens - answer.cached_tokens
    assert usage["cache_read_input_tokens"] == answer.cached_tokens
    assert usage["output_tokens"] == answer.completion_tokens


def conversation() -> dict[str, Any]:
    messages = [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": [{"type": "text", "text": "Hello! How can I help?"}]},
        {"role": "user", "content": "Say connection successful"},
    ]
    return {
        "model": "glm-5",
        "max_tokens": 1024,
        "system": [{"type": "text", "text": "Be brief."}],
        "messages": messages,
    }


def planned(double: DoubleServer, body: dict[str, Any]) -> Any:
    """What the planner decides for this body: the numbers the wire must carry."""
    request = DoubleRequest("POST", "anthropic", "/v1/messages", "", {}, json.dumps(body).encode())
    return plan(anthropic_surface.parse(request, double.catalogue))


# --- streams -------------------------------------------------------------------------------------


def test_stream_has_the_captured_event_order_and_shapes(client: httpx.Client) -> None:
    body = ask(text="Run a simple command with bash", tools=[BASH])
    double_events = stream(client, body)
    assert skeleton(double_events) == skeleton(events(CAPTURED_STREAM))
    names = [name for name, _ in double_events]
    assert names[:3] == ["message_start", "ping", "content_block_start"]
    assert names[-2:] == ["message_delta", "message_stop"]


def test_captured_stream_is_parsed_as_real_zai_printed_it() -> None:
    """Guards the helpers: the real capture passes the same checks the double's streams must pass."""
    assert all(printed_like_zai(line) for line in data_lines(CAPTURED_STREAM))
    assert [name for name, _ in events(CAPTURED_STREAM)][:2] == ["message_start", "ping"]


def test_every_stream_data_line_uses_default_separators(client: httpx.Client) -> None:
    thinking = {"thinking": {"type": "enabled", "budget_tokens": 1024}}  # its text quotes the question
    response = post(
        client, {**ask(model="glm-4.7", text="Use bash, in Português", tools=[BASH], **thinking), "stream": True}
    )
    lines = data_lines(response.text)
    assert len(lines) > 8
    assert all(printed_like_zai(line) for line in lines)
    assert "Português" in response.text


def test_tool_input_streams_as_one_compact_json_delta_equal_to_the_capture(client: httpx.Client) -> None:
    tool_events = blocks_of(stream(client, ask(text="Run a simple command with bash", tools=[BASH])), 1)
    start, delta, stop = tool_events
    assert start["content_block"]["input"] == {} and TOOL_ID.match(start["content_block"]["id"])
    captured = blocks_of(events(CAPTURED_STREAM), 1)[1]
    assert delta["delta"] == captured["delta"]  # the same words: double.yaml's argument values come from it
    assert stop == {"type": "content_block_stop", "index": 1}


def test_stream_usage_is_zero_at_start_and_whole_only_in_message_delta(
    client: httpx.Client, double: DoubleServer
) -> None:
    body = conversation()
    stream_events = stream(client, body)
    start = stream_events[0][1]["message"]
    assert start["usage"] == {"input_tokens": 0, "output_tokens": 0}
    assert (start["content"], start["stop_reason"], start["stop_sequence"]) == ([], None, None)
    with_usage = [name for name, data in stream_events if "usage" in data]
    assert with_usage == ["message_delta"]
    usage = stream_events[-2][1]["usage"]
    answer = planned(double, body)
    assert answer.cached_tokens > 0
    assert list(usage) == USAGE_KEYS
    assert usage["input_tokens"] == answer.prompt_tokens - answer.cached_tokens
    assert usage["cache_read_input_tokens"] == answer.cached_tokens
    assert usage == post(client, body).json()["usage"]


def test_stream_text_deltas_rebuild_the_json_text(client: httpx.Client) -> None:
    body = conversation()
    text_events = blocks_of(stream(client, body), 0)
    deltas = [e["delta"]["text"] for e in text_events if e["type"] == "content_block_delta"]
    assert len(deltas) > 1
    assert "".join(deltas) == post(client, body).json()["content"][0]["text"] == "connection successful"


# --- tools ---------------------------------------------------------------------------------------


def test_named_tool_is_called_with_input_that_satisfies_its_schema(client: httpx.Client) -> None:
    body = ask(text="What's the weather? Use get_weather.", tools=[WEATHER, BASH])
    stream_events = stream(client, body)
    tool_blocks = [
        d for n, d in stream_events if n == "content_block_start" and d["content_block"]["type"] == "tool_use"
    ]
    assert [b["content_block"]["name"] for b in tool_blocks] == ["get_weather"]
    index = tool_blocks[0]["index"]
    deltas = [d["delta"] for d in blocks_of(stream_events, index) if d["type"] == "content_block_delta"]
    assert [d["type"] for d in deltas] == ["input_json_delta"]
    arguments = json.loads(deltas[0]["partial_json"])
    jsonschema.validate(arguments, WEATHER["input_schema"])
    assert arguments == {"location": "Florence, Italy", "unit": "celsius", "days": 1}
    assert stream_events[-2][1]["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}

    json_body = post(client, body).json()
    (tool_use,) = [b for b in json_body["content"] if b["type"] == "tool_use"]
    jsonschema.validate(tool_use["input"], WEATHER["input_schema"])
    assert json_body["stop_reason"] == "tool_use"


def test_tool_result_turn_gets_a_text_answer_with_end_turn(client: httpx.Client) -> None:
    messages = [
        {"role": "user", "content": "What's the weather in Florence? Use get_weather."},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "I'll use get_weather for this."},
                {"type": "tool_use", "id": "call_0123456789abcdef01234567", "name": "get_weather", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_0123456789abcdef01234567", "content": "22°C and sunny"}
            ],
        },
    ]
    body = post(client, {"model": "glm-5", "max_tokens": 512, "tools": [WEATHER], "messages": messages}).json()
    assert [b["type"] for b in body["content"]] == ["text"]
    assert "22°C and sunny" in body["content"][0]["text"]
    assert body["stop_reason"] == "end_turn"


@pytest.mark.parametrize(
    ("choice", "text", "called", "stop_reason"),
    [
        ({"type": "any"}, "Hello", ["bash"], "tool_use"),
        ({"type": "tool", "name": "get_weather"}, "Hello", ["get_weather"], "tool_use"),
        ({"type": "none"}, "Use bash please", [], "end_turn"),
        ({"type": "auto"}, "Hello", [], "end_turn"),
    ],
    ids=["any", "tool", "none", "auto"],
)
def test_tool_choice(
    client: httpx.Client, choice: dict[str, str], text: str, called: list[str], stop_reason: str
) -> None:
    body = post(client, ask(text=text, tools=[BASH, WEATHER], tool_choice=choice)).json()
    assert [b["name"] for b in body["content"] if b["type"] == "tool_use"] == called
    assert body["stop_reason"] == stop_reason


def test_forced_tool_comes_without_text(client: httpx.Client) -> None:
    choice = {"type": "tool", "name": "bash"}
    body = post(client, ask(text="Hello", tools=[BASH], tool_choice=choice)).json()
    assert [b["type"] for b in body["content"]] == ["tool_use"]


# --- thinking ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "thinking", "thinks"),
    [
        ("glm-5", {"type": "disabled"}, False),
        ("glm-5", None, False),  # Anthropic's default; the glm-5 captures asked for none and got none
        ("glm-5", {"type": "enabled", "budget_tokens": 2048}, True),
        ("glm-5", {"type": "adaptive"}, True),
        # always-thinking models too only think here when asked: glm-5.3 without `thinking` answered with
        # a text block only (caveman fixtures); the glm-4.7 transcript with a thinking block is Claude Code's
        ("glm-5.3", None, False),
        ("glm-4.7", {"type": "enabled", "budget_tokens": 2048}, True),
    ],
    ids=["hybrid-disabled", "hybrid-absent", "hybrid-enabled", "hybrid-adaptive", "always-absent", "always-enabled"],
)
def test_thinking_block_only_when_the_model_thinks(
    client: httpx.Client, model: str, thinking: dict[str, Any] | None, thinks: bool
) -> None:
    extra = {} if thinking is None else {"thinking": thinking}
    body = post(client, ask(model=model, **extra)).json()
    kinds = [b["type"] for b in body["content"]]
    assert kinds == (["thinking", "text"] if thinks else ["text"])
    if thinks:
        assert list(body["content"][0]) == ["type", "thinking", "signature"]
        assert body["content"][0]["thinking"]


def test_thinking_streams_as_deltas_then_one_signature(client: httpx.Client) -> None:
    stream_events = stream(client, ask(thinking={"type": "enabled", "budget_tokens": 1024}))
    start, *deltas, stop = blocks_of(stream_events, 0)
    assert start["content_block"] == {"type": "thinking", "thinking": ""}
    kinds = [d["delta"]["type"] for d in deltas]
    assert kinds[-1] == "signature_delta" and kinds.count("signature_delta") == 1
    assert set(kinds[:-1]) == {"thinking_delta"} and len(kinds) > 2
    assert SIGNATURE.match(deltas[-1]["delta"]["signature"])
    assert "".join(d["delta"]["thinking"] for d in deltas[:-1]).startswith("The user asks")
    assert stop["type"] == "content_block_stop"
    assert blocks_of(stream_events, 1)[0]["content_block"] == {"type": "text", "text": ""}


# --- limits, stop sequences, models, faults ------------------------------------------------------


def test_tiny_max_tokens_stops_with_max_tokens(client: httpx.Client) -> None:
    body = post(client, ask(text="Tell me something", max_tokens=1)).json()
    assert body["stop_reason"] == "max_tokens"
    assert body["content"] == [{"type": "text", "text": "This"}]
    assert stream(client, ask(text="Tell me something", max_tokens=1))[-2][1]["delta"]["stop_reason"] == "max_tokens"


def test_stop_sequences_cut_the_text_and_are_named(client: httpx.Client) -> None:
    body = post(client, ask(stop_sequences=["nowhere", "!"])).json()
    assert body["content"] == [{"type": "text", "text": "Olá"}]
    assert (body["stop_reason"], body["stop_sequence"]) == ("stop_sequence", "!")
    delta = stream(client, ask(stop_sequences=["!"]))[-2][1]["delta"]
    assert delta == {"stop_reason": "stop_sequence", "stop_sequence": "!"}


def test_stop_sequence_that_never_occurs_changes_nothing(client: httpx.Client) -> None:
    body = post(client, ask(stop_sequences=["nowhere"])).json()
    assert body["content"] == [{"type": "text", "text": "Olá!"}]
    assert (body["stop_reason"], body["stop_sequence"]) == ("end_turn", None)


@pytest.mark.parametrize(
    ("model", "thinks"),
    [("claude-haiku-4-5-20251001", False), ("claude-sonnet-4-5-20250929", False)],
    ids=["haiku-to-glm-4.5-air", "sonnet-to-glm-4.7"],
)
def test_claude_model_id_is_accepted_and_echoed(client: httpx.Client, model: str, thinks: bool) -> None:
    body = post(client, ask(model=model)).json()
    assert body["model"] == model
    assert ("thinking" in [b["type"] for b in body["content"]]) is thinks
    assert stream(client, ask(model=model))[0][1]["message"]["model"] == model


def test_upper_case_glm_id_is_found(client: httpx.Client) -> None:
    assert post(client, ask(model="GLM-5")).json()["model"] == "GLM-5"


@pytest.mark.parametrize(
    ("fault", "stop_reason"),
    [
        ("sensitive", "refusal"),
        ("network_error", "network_error"),
        ("model_context_window_exceeded", "model_context_window_exceeded"),
    ],
)
def test_finish_faults_map_to_stop_reasons(client: httpx.Client, fault: str, stop_reason: str) -> None:
    body = post(client, ask(text="Tell me something"), headers={"x-api-key": KEY, FAULT_HEADER: fault}).json()
    assert body["stop_reason"] == stop_reason
    assert (
        stream(client, ask(text=with_marker("Tell me something", fault)))[-2][1]["delta"]["stop_reason"] == stop_reason
    )


# --- the official SDK ----------------------------------------------------------------------------


def test_anthropic_sdk_reads_the_double(double: DoubleServer) -> None:
    anthropic = pytest.importorskip("anthropic")
    sdk = anthropic.Anthropic(api_key=KEY, base_url=double.base_urls["anthropic"], max_retries=0)
    message = sdk.messages.create(
        model="glm-5", max_tokens=256, messages=[{"role": "user", "content": "hi in Portuguese"}]
    )
    assert message.content[0].text == "Olá!" and message.stop_reason == "end_turn"
    with sdk.messages.stream(
        model="glm-5", max_tokens=256, tools=[BASH], messages=[{"role": "user", "content": "Run it with bash"}]
    ) as events_stream:
        final = events_stream.get_final_message()
    (tool_use,) = [b for b in final.content if b.type == "tool_use"]
    assert tool_use.input == {"command": 'echo "Hello, World!"', "description": "Print Hello World message"}
    assert final.stop_reason == "tool_use" and final.usage.output_tokens > 0
    payg = anthropic.Anthropic(api_key=PAYG_PREFIX + "x", base_url=double.base_urls["anthropic"], max_retries=0)
    with pytest.raises(anthropic.RateLimitError) as raised:
        payg.messages.create(model="glm-5", max_tokens=16, messages=[{"role": "user", "content": "hi"}])
    assert raised.value.status_code == 429


def test_catalogue_has_the_models_claude_ids_map_to() -> None:
    ids = {m.id for m in load_catalogue().models}
    assert {anthropic_surface.CLAUDE_DEFAULT, *anthropic_surface.CLAUDE_FAMILIES.values()} <= ids
