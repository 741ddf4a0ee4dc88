"""Reading what Z.AI really sent: the reference every path is judged against, on real recorded bodies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance.protocol import openai_protocol
from conformance.recording import cassette
from conformance.wire import read_answer
from conformance.wire.sse import read_events
from tests.conftest import COMMITTED_CASSETTES, RECORDINGS

PUBLIC = COMMITTED_CASSETTES / "public"


def _responses(relative: str) -> list[dict[str, Any]]:
    document = cassette.read(PUBLIC / relative)
    return [interaction["response"] for interaction in document["interactions"]]


def _answer(response: dict[str, Any]):
    return read_answer(response["status"]["code"], response["body"], response["headers"])


def _events(body: str) -> list[Any]:
    """The JSON payloads of an SSE body, parsed independently of conformance.wire."""
    return [json.loads(line[len("data: ") :]) for line in body.split("\n") if line.startswith("data: {")]


def _all_responses() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(PUBLIC.rglob("*.yaml")):
        for index, interaction in enumerate(cassette.read(path)["interactions"]):
            out.append((f"{path.relative_to(PUBLIC)}#{index}", interaction["response"]))
    return out


# --- non-streamed ---------------------------------------------------------------------------------


def test_non_stream_chat_answer():
    [response] = _responses("coding/glm-4.5/chat.yaml")
    answer = _answer(response)
    assert answer.status == 200
    assert answer.text == "Olá!"
    assert answer.reasoning.startswith('\nThe user is asking me to say "hi" in Portuguese.')
    assert answer.reasoning.endswith("I'll respond with this greeting.")
    assert answer.finish_reason == "stop"
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens, answer.usage.total_tokens) == (
        16,
        72,
        88,
    )
    assert answer.usage.cached_tokens == 7 and answer.usage.reasoning_tokens is None
    assert answer.tool_calls == []
    assert (answer.id, answer.model, answer.created) == (
        "2025111117561942405e9f6eb547c7",
        "glm-4.5",
        1762854981,
    )
    assert answer.top_level_keys == ["choices", "created", "id", "model", "request_id", "usage"]
    assert answer.stream is None and answer.error_code is None


def test_non_stream_parallel_tool_calls():
    first, second = _responses("coding/glm-4.5/parallel-tools.yaml")
    answer = _answer(first)
    assert [(c.id, c.name, c.arguments) for c in answer.tool_calls] == [
        ("call_-8167732570302206983", "add", {"a": 2, "b": 3}),
        ("call_-8167732570302206982", "multiply", {"a": 2, "b": 3}),
    ]
    assert all(c.parse_error is None and c.arguments_raw == '{"a":2,"b":3}' for c in answer.tool_calls)
    assert answer.finish_reason == "tool_calls"
    after = _answer(second)
    assert after.finish_reason == "stop" and after.tool_calls == []
    assert "2 + 3 = 5" in after.text


def test_non_stream_reasoning_tokens_are_read():
    [response] = _responses("coding/glm-4.7-flash/object-book.yaml")
    answer = _answer(response)
    assert answer.usage.reasoning_tokens == 194
    [call] = answer.tool_calls
    assert call.name == "Book" and call.arguments["published_year"] == 1954
    assert "object" in answer.top_level_keys


# --- streamed -------------------------------------------------------------------------------------


def test_stream_parallel_tool_calls_are_reassembled():
    first, second = _responses("coding/glm-4.5/parallel-tools-stream.yaml")
    events = _events(first["body"])
    answer = _answer(first)
    stream = answer.stream
    assert stream is not None
    assert stream.chunks == len(events) == 104
    assert stream.done is True
    assert stream.finish_chunk == stream.usage_chunk == 103
    assert stream.usage_chunk_choices == 1
    assert stream.finish_key_on_nonfinal == 0
    assert stream.malformed == []
    assert [(c.id, c.name, c.arguments) for c in answer.tool_calls] == [
        ("call_4be9c6251abb4f3fbc1956bd", "add", {"a": 2, "b": 3}),
        ("call_29207bee5b434b86830450d2", "multiply", {"a": 2, "b": 3}),
    ]
    # the wire really split them by index 0 and 1
    indexes = {call["index"] for e in events for c in e["choices"] for call in c["delta"].get("tool_calls") or []}
    assert indexes == {0, 1}
    assert answer.finish_reason == "tool_calls"
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens, answer.usage.total_tokens) == (
        282,
        145,
        427,
    )
    assert answer.usage.cached_tokens == 258
    assert answer.text == "\nI'll add and multiply the numbers 2 and 3 for you.\n"
    assert answer.reasoning.startswith("\nThe user wants me to both add and multi")
    assert answer.top_level_keys == ["choices", "created", "id", "model"]
    assert (answer.id, answer.model, answer.created) == (
        "20251111175650c48a4928f3614935",
        "glm-4.5",
        1762855010,
    )

    after = _answer(second)
    assert after.stream.chunks == 71 and after.finish_reason == "stop" and after.tool_calls == []


def test_stream_text_and_reasoning_are_the_concatenated_deltas():
    for response in _responses("general/glm-4.6v/thinking-stream.yaml"):
        events = _events(response["body"])
        answer = _answer(response)
        deltas = [c["delta"] for e in events for c in e["choices"]]
        assert answer.text == "".join(d.get("content") or "" for d in deltas)
        assert answer.reasoning == "".join(d.get("reasoning_content") or "" for d in deltas)
        assert answer.usage.total_tokens == events[-1]["usage"]["total_tokens"]


def test_stream_is_detected_without_a_content_type():
    [response] = _responses("coding/glm-4.5/chat-stream.yaml")
    with_header, without = _answer(response), read_answer(200, response["body"])
    assert with_header.stream is not None and without.stream is not None
    assert (without.text, without.finish_reason, without.stream.chunks) == (
        with_header.text,
        with_header.finish_reason,
        with_header.stream.chunks,
    )


@pytest.mark.parametrize(("label", "response"), _all_responses(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_recorded_answer_reads_cleanly(label, response):
    """Z.AI's facts as the corpus README states them, checked on every recorded answer."""
    answer = _answer(response)
    assert answer.status == 200 and answer.error_code is None
    assert answer.finish_reason in openai_protocol().finish_reasons
    usage = answer.usage
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert all(call.parse_error is None for call in answer.tool_calls)
    assert (answer.finish_reason == "tool_calls") == bool(answer.tool_calls)
    if answer.stream is not None:
        stream = answer.stream
        assert stream.done and stream.malformed == []
        assert stream.chunks == len(_events(response["body"]))
        assert stream.finish_chunk == stream.usage_chunk == stream.chunks - 1  # together, on the last chunk
        assert stream.finish_key_on_nonfinal == 0  # non-final chunks carry no finish_reason key
        for call in answer.tool_calls:
            assert call.id.startswith("call_") and len(call.id) == len("call_") + 24


# --- synthetic streams ----------------------------------------------------------------------------


def _sse(*events: Any, done: bool = True) -> str:
    lines = [f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n" for e in events]
    return "".join(lines) + ("data: [DONE]\n\n" if done else "")


def _chunk(delta: dict[str, Any], **choice: Any) -> dict[str, Any]:
    return {"id": "x", "choices": [{"index": 0, "delta": delta, **choice}]}


def test_malformed_sse_lines_are_counted_not_fatal():
    body = _sse(_chunk({"content": "a"}), "{not json", _chunk({"content": "b"}, finish_reason="stop"))
    answer = read_answer(200, body)
    assert answer.stream.malformed == ["{not json"]
    assert answer.stream.chunks == 2
    assert answer.text == "ab" and answer.finish_reason == "stop"
    assert answer.stream.finish_chunk == 1


def test_missing_done_is_noted():
    answer = read_answer(200, _sse(_chunk({"content": "a"}, finish_reason="stop"), done=False))
    assert answer.stream.done is False
    assert answer.text == "a"


def test_openai_style_null_finish_reason_keys_are_counted():
    body = _sse(
        _chunk({"content": "a"}, finish_reason=None),
        _chunk({"content": "b"}, finish_reason=None),
        _chunk({}, finish_reason="stop"),
        {"id": "x", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}},
    )
    answer = read_answer(200, body, {"Content-Type": ["text/event-stream"]})
    stream = answer.stream
    assert stream.finish_key_on_nonfinal == 2
    assert (stream.finish_chunk, stream.usage_chunk, stream.usage_chunk_choices, stream.chunks) == (
        2,
        3,
        0,
        4,
    )
    assert answer.usage.total_tokens == 3


def test_comments_and_event_lines_are_ignored():
    body = ": keep-alive\n\nevent: message\n" + _sse(_chunk({"content": "hi"}, finish_reason="stop"))
    answer = read_answer(200, body, {"content-type": ["text/event-stream; charset=utf-8"]})
    assert answer.text == "hi" and answer.stream.chunks == 1 and answer.stream.malformed == []


def test_error_event_inside_a_stream():
    answer = read_answer(200, _sse({"error": {"code": 1302, "message": "High concurrency"}}))
    assert (answer.error_code, answer.error_message) == ("1302", "High concurrency")


def test_error_event_without_code_has_no_code():
    answer = read_answer(200, _sse({"error": {"message": "boom"}}))
    assert answer.error_code is None


def test_tool_call_deltas_without_index_are_kept_apart():
    body = _sse(
        _chunk({"tool_calls": [{"id": "call_a", "function": {"name": "add", "arguments": "{}"}}]}),
        _chunk(
            {"tool_calls": [{"id": "call_b", "function": {"name": "multiply", "arguments": "{}"}}]},
            finish_reason="tool_calls",
        ),
    )
    answer = read_answer(200, body)
    assert [(c.id, c.name) for c in answer.tool_calls] == [("call_a", "add"), ("call_b", "multiply")]


def test_tool_arguments_that_are_not_json_are_flagged():
    body = _sse(
        _chunk(
            {"tool_calls": [{"index": 0, "id": "c", "function": {"name": "add", "arguments": '{"a":'}}]},
            finish_reason="tool_calls",
        )
    )
    [call] = read_answer(200, body).tool_calls
    assert call.arguments is None and call.arguments_raw == '{"a":'
    assert call.parse_error.startswith("arguments are not JSON: ")


# --- errors ---------------------------------------------------------------------------------------


def test_error_body_with_status_429():
    body = '{"error":{"code":"1113","message":"Insufficient balance or no resource package. Please recharge."}}'
    answer = read_answer(429, body, {"Content-Type": ["application/json"]})
    assert answer.status == 429
    assert answer.error_code == "1113"
    assert answer.error_message == "Insufficient balance or no resource package. Please recharge."
    assert answer.text is None and answer.stream is None and answer.usage is None


def test_error_code_given_as_a_number_and_at_top_level():
    assert read_answer(400, '{"error":{"code":1211,"message":"Unknown Model"}}').error_code == "1211"
    top = read_answer(401, '{"code":"401","message":"expired"}')
    assert (top.error_code, top.error_message) == ("401", "expired")


def test_error_body_that_is_not_json_is_kept_as_the_message():
    answer = read_answer(500, "500 Internal service error")
    assert (answer.error_code, answer.error_message) == (None, "500 Internal service error")


def test_error_status_wins_over_an_sse_body():
    answer = read_answer(429, 'data: {"error":{"code":"1302","message":"slow down"}}\n\n')
    assert answer.stream is None
    assert answer.error_message.startswith("data: ")  # not JSON as a whole: kept verbatim


def test_published_zai_error_bodies():
    path = RECORDINGS / "errors" / "ERRORS.jsonl"
    read = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        try:
            body = json.loads(entry["body"])
        except ValueError:
            continue
        if not isinstance(entry["http"], int) or not isinstance(body.get("error"), dict):
            continue
        answer = read_answer(entry["http"], entry["body"])
        assert answer.error_code == entry["code"], line
        assert answer.error_message == body["error"]["message"]
        read += 1
    assert read >= 10


def test_ok_body_that_is_not_json_is_reported():
    answer = read_answer(200, "<html>gateway</html>")
    assert answer.error_message == "response body is not JSON: '<html>gateway</html>'"
    assert read_answer(200, "[1, 2]").error_message == "response body is not a JSON object: '[1, 2]'"


def test_bodies_of_public_cassettes_exist():
    assert len(list(Path(PUBLIC).rglob("*.yaml"))) == 52


# --- the one SSE reader (wire/sse.py), shared with the fidelity measurement ---------------------------


def test_sse_events_carry_their_name_data_and_payload():
    body = 'event: message_start\ndata: {"type":"message_start"}\n\n: keep-alive\n\nevent: ping\ndata: {}\n\n'
    events = read_events(body)
    assert [(e.name, e.raw, e.data) for e in events] == [
        ("message_start", '{"type":"message_start"}', {"type": "message_start"}),
        ("ping", "{}", {}),
    ]
    assert [e.kind for e in events] == ["message_start", "ping"]


def test_sse_data_lines_of_one_event_are_joined_and_blank_lines_may_hold_spaces():
    body = 'data: {"a":\ndata: 1}\n   \ndata:{"type":"message_stop"}\r\n\r\n'
    first, second = read_events(body)
    assert first.lines == ('{"a":', "1}") and first.data == {"a": 1} and first.name is None
    assert second.raw == '{"type":"message_stop"}' and second.kind == "message_stop"  # no space after the colon


def test_sse_payloads_that_do_not_parse_are_unknown_and_done_is_no_payload():
    elided, done, empty = read_events('data: {"id": "msg_..." ...}\n\ndata: [DONE]\n\nevent: x\ndata:\n\n')
    assert not elided.known and elided.raw == '{"id": "msg_..." ...}' and not elided.done
    assert done.done and done.data is None
    assert empty.lines == ("",) and not empty.known
    assert read_events("event: ping\n\n")[0].lines == ()  # a named event without data is still an event


def test_an_openai_stream_reports_the_chunks_that_are_not_json():
    body = 'data: {"choices":[{"delta":{"content":"Hi"},"finish_reason":"stop"}]}\n\ndata: {oops\n\ndata: [DONE]\n\n'
    answer = read_answer(200, body, {"content-type": ["text/event-stream"]})
    assert answer.text == "Hi" and answer.stream.chunks == 1 and answer.stream.done
    assert answer.stream.malformed == ["{oops"]
