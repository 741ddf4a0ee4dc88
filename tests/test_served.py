"""Synthetic evidence is served, not committed: a cell with no live or public recording is answered by
the double at run time, in-process, through the same tap replay uses — labelled double, nothing written,
nothing connected, and its faults played without a clock."""

from __future__ import annotations

import json
import socket

import pytest

from conformance.catalogue import load_catalogue
from conformance.double.faults import Transport
from conformance.double.wire import Reply
from conformance.expectations import Expectations
from conformance.recording import netguard, transport
from conformance.recording.served import ServedFaultUnsupported, as_response
from conformance.runner import CellRunner, RunSettings
from conformance.verdict import Verdict


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture
def runner(catalogue, tmp_path):
    return CellRunner(catalogue, RunSettings(cassette_root=tmp_path / "empty"))


def test_a_cell_without_a_recording_is_served_by_the_double_and_labelled_so(runner, tmp_path):
    result = runner.run(runner.catalogue.cell("coding/glm-4.6/openai-sdk/chat"))
    assert result.verdict is Verdict.PASS, result.reasons
    evidence = result.evidence
    assert evidence["kind"] == "double" and evidence["cassette"] is None and evidence["used"] is True
    assert evidence["provenance"]["served"].startswith("at run time by the zai-conformance")
    assert "not by Z.AI" in evidence["provenance"]["synthetic"]
    assert not result.real
    assert [e.outcome for e in result.observation.exchanges] == ["served"]
    assert not (tmp_path / "empty").exists(), "serving writes no cassette"


def test_serving_opens_no_connection(runner, monkeypatch):
    connects: list[object] = []
    real_connect = socket.socket.connect

    def spy(self, address):  # anything at all, loopback included
        connects.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    with netguard.loopback_only() as refused:
        for path in ("openai-sdk", "litellm-zai", "zai-sdk", "litellm-zai-async"):
            result = runner.run(runner.catalogue.cell(f"general/glm-4.6/{path}/tool-stream"))
            assert result.evidence["kind"] == "double" and result.evidence["used"], (path, result.reasons)
    assert connects == [] and refused.list() == []


@pytest.mark.parametrize("path", ["openai-sdk", "litellm-zai", "anthropic-sdk", "zai-sdk"])
@pytest.mark.parametrize("scenario", ["stream-hang", "client-timeout"])
def test_served_faults_end_in_the_clients_timeout_without_waiting(runner, path, scenario):
    endpoint = "anthropic" if path == "anthropic-sdk" else "coding"
    cell_id = f"{endpoint}/glm-4.6/{path}/{scenario}"
    cell = runner.catalogue.cell(cell_id)
    if cell.not_applicable:
        pytest.skip(cell.not_applicable)
    result = runner.run(cell)
    expected = Expectations.load().for_cell(cell_id)  # the scenario expects the client's timeout...
    assert result.verdict is (expected.verdict if expected else Verdict.PASS), result.reasons
    assert result.harness_error is None
    error = result.observation.turns[-1].error
    assert error is not None and error.timeout
    faults = [e.transport_fault for e in result.observation.exchanges if e.transport_fault]
    assert faults and all(f["after_seconds"] == result.limits["idle_s"] and "served" in f for f in faults)


def _reply(**transport) -> Reply:
    events = [b'data: {"choices":[{"delta":{"content":"Ol"}}]}\n\n', b"data: [DONE]\n\n"]
    return Reply(200, {"Content-Type": "text/event-stream"}, events=events, transport=Transport(**transport))


def test_a_hung_stream_keeps_its_first_event_and_a_slow_answer_depends_only_on_the_limit():
    hung = as_response(_reply(hang=True), idle_s=2.0)
    assert transport.is_fault(hung)
    assert hung["transport_fault"]["phase"] == "mid-body"
    assert hung["body"]["string"].startswith(b"data: ") and hung["transport_fault"]["received_status"]["code"] == 200
    too_slow = as_response(_reply(slow=5.0), idle_s=2.0)
    assert too_slow["transport_fault"]["phase"] == "first byte" and too_slow["body"]["string"] == b""
    in_time = as_response(_reply(slow=1.0), idle_s=2.0)
    assert not transport.is_fault(in_time) and in_time["body"]["string"].endswith(b"data: [DONE]\n\n")


def test_a_reset_cannot_be_served_without_a_socket_and_says_so():
    with pytest.raises(ServedFaultUnsupported, match="needs a real socket"):
        as_response(_reply(reset=True), idle_s=2.0)


def _chunk(delta: dict) -> bytes:
    return b"data: " + json.dumps({"choices": [{"index": 0, "delta": delta}]}).encode() + b"\n\n"


def _call_stream(arguments: str, fragments: int) -> list[bytes]:
    """A tool call whose arguments come whole (fragments=1) or in equal fragments, after a word of text."""
    size = -(-len(arguments) // fragments)
    head = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "write_file", "arguments": ""}}
    events = [_chunk({"content": "Writing "}), _chunk({"tool_calls": [head]})]
    events += [
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": arguments[i : i + size]}}]})
        for i in range(0, len(arguments), size)
    ]
    return [*events, b"data: [DONE]\n\n"]


def test_a_buffered_long_argument_is_a_silence_the_idle_limit_ends_and_a_streamed_one_is_not():
    arguments = "x" * 24_000  # 6,000 tokens: 120 s at the modelled 50 tokens/s
    buffered = as_response(Reply(200, {}, events=_call_stream(arguments, 1)), idle_s=90.0)
    assert transport.is_fault(buffered)
    fault = buffered["transport_fault"]
    assert fault["phase"] == "mid-body" and fault["after_seconds"] == 90.0
    assert fault["served"].startswith("the double sent no byte for 120 s after chunk 2")
    assert buffered["body"]["string"].endswith(b'"arguments": ""}}]}}]}\n\n')  # what came before the silence
    streamed = as_response(Reply(200, {}, events=_call_stream(arguments, 400)), idle_s=90.0)
    assert not transport.is_fault(streamed)
    # the same silence under a longer limit is only late
    assert not transport.is_fault(as_response(Reply(200, {}, events=_call_stream(arguments, 1)), idle_s=121.0))
