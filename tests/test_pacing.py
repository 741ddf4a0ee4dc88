"""Stream timing modelled from a stream's own content (wire/pacing.py): each chunk arrives once what it
carries is generated, so a tool call's arguments buffered whole arrive after one long silence, and the
same arguments fragmented arrive a little at a time. No clock is read."""

from __future__ import annotations

import json

import pytest

from conformance.protocol import GenerationRate
from conformance.wire import read_answer
from conformance.wire.pacing import pace_chunks, pace_stream

RATE = GenerationRate(tokens_per_second=10, chars_per_token=4, source="test")


def _call(arguments: str, *, name: str | None = None) -> dict:
    function = {"arguments": arguments} if name is None else {"name": name, "arguments": arguments}
    return {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": function}]}}]}


def test_each_chunk_arrives_when_its_content_is_generated():
    chunks = [
        {"choices": [{"delta": {"reasoning_content": "abcd" * 10}}]},  # 10 tokens: 1 s
        {"choices": [{"delta": {"content": "abcd" * 5}}]},  # 5 tokens: 1.5 s
        {"usage": {"total_tokens": 15}},  # nothing generated: at once
    ]
    pacing = pace_chunks(chunks, RATE)
    assert pacing.arrivals == (1.0, 1.5, 1.5)
    assert (pacing.longest_silence_s, pacing.silence_before) == (1.0, 0)
    assert pacing.first_argument_s is None and pacing.argument_chunks == 0


def test_a_whole_call_is_one_long_silence_and_fragments_are_short_ones():
    arguments = "y" * 400  # 100 tokens: 10 s
    whole = pace_chunks([_call("", name="write_file"), _call(arguments)], RATE)
    assert whole.argument_chunks == 1
    assert whole.first_argument_s == pytest.approx(10.3)  # 3 tokens of name, then all 100 of the arguments
    assert whole.longest_silence_s == pytest.approx(10.0)
    assert whole.first_silence_over(5.0) == (1, pytest.approx(10.0))
    pieces = [_call("", name="write_file")] + [_call(arguments[i : i + 40]) for i in range(0, 400, 40)]
    fragmented = pace_chunks(pieces, RATE)
    assert fragmented.argument_chunks == 10
    assert fragmented.first_argument_s == pytest.approx(1.3)
    assert fragmented.longest_silence_s == pytest.approx(1.0)
    assert fragmented.first_silence_over(5.0) is None


def test_an_sse_body_is_paced_as_sent_and_the_wire_reader_keeps_the_figures_for_tool_calls():
    body = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in [_call("", name="f"), _call('{"a":1}')])
    body += "data: [DONE]\n\n"
    assert pace_stream(body, RATE).argument_chunks == 1
    answer = read_answer(200, body, {"Content-Type": ["text/event-stream"]}, "https://api.z.ai/x")
    assert answer.stream is not None and answer.stream.pacing is not None
    assert answer.stream.pacing.argument_chunks == 1
    plain = 'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n'
    assert read_answer(200, plain, {"Content-Type": ["text/event-stream"]}, "https://api.z.ai/x").stream.pacing is None


def test_a_path_that_gathers_streamed_arguments_into_one_delta_deviates():
    from conformance.catalogue import TurnExpectation
    from conformance.checks.response import check_turn
    from conformance.observation import StreamFacts, ToolCall, Turn
    from conformance.verdict import Severity

    pieces = [_call("", name="f")] + [_call(part) for part in ('{"a"', ":1", "}")]
    body = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in pieces) + "data: [DONE]\n\n"
    wire = read_answer(200, body, {"Content-Type": ["text/event-stream"]}, "https://api.z.ai/x")

    def turn(deltas: int) -> Turn:
        facts = StreamFacts(chunks=deltas, tool_call_deltas=deltas)
        return Turn(index=0, tool_calls=[ToolCall.parse("call_1", "f", '{"a":1}')], stream=facts)

    expect = TurnExpectation(tool_calls=("f",))
    gathered = [f for f in check_turn(expect, turn(1), wire, {}, True) if f.check == "tool_stream"]
    assert [f.severity for f in gathered] == [Severity.INFO, Severity.DEVIATION]
    assert gathered[0].message.startswith("tool-call arguments: first byte at ")
    assert gathered[1].message == (
        "Z.AI streamed the arguments in 3 chunks; the path handed out 1 tool-call delta(s): it buffers what "
        "tool_stream streams"
    )
    passed_on = [f for f in check_turn(expect, turn(4), wire, {}, True) if f.check == "tool_stream"]
    assert [f.severity for f in passed_on] == [Severity.INFO]
