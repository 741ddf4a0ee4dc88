"""Judging is testable without a client: hand-made Observations in, verdicts and reasons out.

No path runs here and no cassette is read — each test builds what a path would have observed (its
turns, and the exchanges the wire tap saw) and asks `checks.judge` for the cell's verdict.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.catalogue import Catalogue, Cell
from conformance.checks.judge import judge, stalled
from conformance.observation import ErrorInfo, Exchange, Observation, Turn, Usage
from conformance.scenario import request_for
from conformance.verdict import Severity, Verdict

REASONING = "The user wants a greeting in Portuguese."
TIMEOUT = ErrorInfo(exception="httpx.ReadTimeout", message="timed out", timeout=True)


def _intended(catalogue: Catalogue, cell: Cell) -> dict[str, Any]:
    return request_for(catalogue, cell.scenario, cell.model_sent, cell.endpoint.protocol)


def _answer(reasoning: str | None = REASONING) -> dict[str, Any]:
    """Z.AI's non-streamed answer to a greeting, with or without reasoning_content."""
    message: dict[str, Any] = {"role": "assistant", "content": "Olá!"}
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "glm-4.6",
        "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 8, "total_tokens": 18},
    }


def _exchange(cell: Cell, request: dict[str, Any], answer: dict[str, Any] | None, **facts: Any) -> Exchange:
    """One request as the wire tap saw it: replayed with `answer`, or (no answer) whatever `facts` say."""
    return Exchange(
        method="POST",
        url=cell.endpoint.base_url + "/chat/completions",
        request_headers={"Authorization": ["Bearer <redacted>"]},
        request_body=json.dumps(request),
        outcome=facts.pop("outcome", "replayed"),
        status=200 if answer is not None else None,
        response_headers={"Content-Type": ["application/json"]} if answer is not None else {},
        response_body=json.dumps(answer) if answer is not None else None,
        **facts,
    )


def _greeting(reasoning: str | None) -> Turn:
    field = "reasoning_content" if reasoning is not None else None
    return Turn(
        index=0, text="Olá!", reasoning=reasoning, reasoning_field=field, finish_reason="stop", usage=Usage(10, 8, 18)
    )


def _judge(catalogue: Catalogue, cell: Cell, observation: Observation, recorded: int = 1):
    return judge(cell, observation, _intended(catalogue, cell), recorded, cell.endpoint.base_url, {})


@pytest.fixture
def thinking(catalogue: Catalogue) -> Cell:
    return catalogue.cell("coding/glm-4.6/openai-sdk/thinking-enabled")


def test_a_faithful_turn_passes(catalogue, thinking):
    exchange = _exchange(thinking, _intended(catalogue, thinking), _answer())
    judgement = _judge(catalogue, thinking, Observation(turns=[_greeting(REASONING)], exchanges=[exchange]))
    assert judgement.verdict is Verdict.PASS, judgement.reasons
    assert judgement.reasons == ()
    assert not judgement.needs_recording
    assert any(f.check == "reasoning" and f.severity is Severity.INFO for f in judgement.findings)


def test_a_turn_that_drops_the_expected_reasoning_fails_with_the_reason(catalogue, thinking):
    exchange = _exchange(thinking, _intended(catalogue, thinking), _answer())
    judgement = _judge(catalogue, thinking, Observation(turns=[_greeting(None)], exchanges=[exchange]))
    assert judgement.verdict is Verdict.FAIL
    assert judgement.reasons == (
        f"turn 1: Z.AI sent {len(REASONING)} chars of reasoning_content; the path exposed none",
    )


def test_expected_reasoning_that_zai_never_sent_fails_naming_zai(catalogue, thinking):
    exchange = _exchange(thinking, _intended(catalogue, thinking), _answer(reasoning=None))
    judgement = _judge(catalogue, thinking, Observation(turns=[_greeting(None)], exchanges=[exchange]))
    assert judgement.verdict is Verdict.FAIL
    assert "turn 1: the scenario expects reasoning; Z.AI sent none" in judgement.reasons


def test_a_replay_miss_is_not_recorded_and_asks_for_a_recording(catalogue, thinking):
    why = "no recorded request has these messages"
    exchange = _exchange(thinking, _intended(catalogue, thinking), None, outcome="miss", miss=why)
    error = ErrorInfo(exception="vcr.errors.CannotOverwriteExistingCassetteException", message="no match")
    judgement = _judge(catalogue, thinking, Observation(turns=[Turn(index=0, error=error)], exchanges=[exchange]))
    assert judgement.verdict is Verdict.NOT_RECORDED
    assert judgement.reasons[0] == f"replay miss on turn 1: {why}"
    assert judgement.needs_recording
    assert judgement.unused_interactions == 0


def test_a_replay_miss_on_an_operation_is_not_recorded(catalogue):
    cell = catalogue.cell("coding/glm-4.6/openai-sdk/models-list")
    exchange = _exchange(cell, {}, None, outcome="miss", miss="nothing recorded for GET /models")
    observation = Observation(turns=[Turn(index=0, error=TIMEOUT)], exchanges=[exchange])
    judgement = judge(cell, observation, {}, 1, cell.endpoint.base_url, {})
    assert (judgement.verdict, judgement.reasons) == (
        Verdict.NOT_RECORDED,
        ("replay miss: nothing recorded for GET /models",),
    )
    assert judgement.findings == ()


def test_a_path_that_forgets_a_fact_its_cell_requires_fails_instead_of_passing_silently(catalogue):
    """A models call the path answered without exposing the listing: judged on what is missing."""
    cell = catalogue.cell("coding/glm-4.6/openai-sdk/models-list")
    listing = {"object": "list", "data": [{"id": "glm-4.6", "object": "model"}]}
    exchange = Exchange(
        method="GET",
        url=cell.endpoint.base_url + "/models",
        request_headers={"Authorization": ["Bearer <redacted>"]},
        request_body=None,
        outcome="replayed",
        status=200,
        response_headers={"Content-Type": ["application/json"]},
        response_body=json.dumps(listing),
    )
    forgot = judge(cell, Observation(turns=[Turn(index=0)], exchanges=[exchange]), {}, 1, cell.endpoint.base_url, {})
    assert (forgot.verdict, forgot.reasons) == (Verdict.FAIL, ("turn 1: the path exposed no model listing",))
    exposed = Observation(turns=[Turn(index=0, models=["glm-4.6"])], exchanges=[exchange])
    assert judge(cell, exposed, {}, 1, cell.endpoint.base_url, {}).verdict is Verdict.PASS


def test_a_turn_answered_by_the_client_itself_is_paired_with_no_request(catalogue):
    """`answered_from` (a Router's) decides which request a turn is judged against; without it, the
    turn's own request by position."""
    cell = catalogue.cell("general/glm-4.6/router-rate-limit/router-rate-limit")
    exchange = _exchange(cell, _intended(catalogue, cell), _answer())
    refused = ErrorInfo(exception="litellm.exceptions.RateLimitError", message="RPM limit=1", status=429)
    by_client = Turn(index=0, error=refused, answered_from="client")
    judgement = _judge(catalogue, cell, Observation(turns=[by_client], exchanges=[exchange]))
    assert judgement.verdict is Verdict.PASS, judgement.reasons
    by_position = Turn(index=0, error=refused)
    assert _judge(catalogue, cell, Observation(turns=[by_position], exchanges=[exchange])).verdict is not Verdict.PASS


def test_recorded_interactions_left_unused_are_counted_only_when_the_conversation_ran_to_its_end(catalogue, thinking):
    exchange = _exchange(thinking, _intended(catalogue, thinking), _answer())
    ran = _judge(catalogue, thinking, Observation(turns=[_greeting(REASONING)], exchanges=[exchange]), recorded=3)
    assert ran.verdict is Verdict.PASS and ran.unused_interactions == 2
    assert any(
        f.check == "evidence" and f.message == "the recording has 3 interactions; the path used 1" for f in ran.findings
    )
    broken = Observation(turns=[Turn(index=0, error=TIMEOUT)], exchanges=[exchange])
    failed = _judge(catalogue, thinking, broken, recorded=3)
    assert failed.verdict is Verdict.HANG and failed.unused_interactions == 0


def test_a_timeout_without_a_recorded_transport_fault_is_a_stall(catalogue, thinking):
    request = _intended(catalogue, thinking)
    timed_out = [Turn(index=0, error=TIMEOUT)]
    assert stalled(Observation(turns=timed_out, exchanges=[_exchange(thinking, request, _answer())])) == (
        "turn 1 timed out (ReadTimeout)"
    )
    fault = _exchange(thinking, request, None, transport_fault={"kind": "timeout", "phase": "read"})
    assert stalled(Observation(turns=timed_out, exchanges=[fault])) is None  # a recorded hang: a verdict
    assert stalled(Observation(turns=[_greeting(REASONING)], exchanges=[])) is None
