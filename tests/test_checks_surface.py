"""Checks for the documented surface beyond the recordings: expected errors, JSON mode, stop words,
thinking turned off, preserved thinking and client-only arguments — each finding and its words."""

from __future__ import annotations

import json
from typing import Any

from conformance.catalogue import Catalogue, ErrorExpectation, Tool, TurnExpectation
from conformance.checks.errors import check_expected_error
from conformance.checks.request import check_request
from conformance.checks.response import check_turn
from conformance.observation import ErrorInfo, Exchange, ToolCall, Turn, Usage
from conformance.verdict import Finding, Severity, Verdict, combine
from conformance.wire import WireAnswer

INFO, DEVIATION, FAIL = Severity.INFO, Severity.DEVIATION, Severity.FAIL
PERSON = Tool(
    description="A person",
    parameters={
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    },
)


def _worst(findings: list[Finding]) -> list[tuple[str, Severity, str]]:
    return [(f.check, f.severity, f.message) for f in findings if f.severity is not INFO]


def _error(**fields: Any) -> ErrorInfo:
    base = {"exception": "openai.RateLimitError", "message": "Error code: 429 - {'error': …}", "status": 429}
    return ErrorInfo(**{**base, **fields})


QUOTA = ErrorExpectation(status=429, code="1308", verdict="BLOCKED")
QUOTA_WIRE = WireAnswer(
    status=429, error_code="1308", error_message="Usage limit reached for 5 hour.", error_envelope=True
)


# --- expected errors ------------------------------------------------------------------------------


def test_an_error_surfaced_with_status_code_and_message_passes():
    error = _error(code="1308", message="Error code: 429 - Usage limit reached for 5 hour. Your limit…")
    findings = check_expected_error(QUOTA, error, QUOTA_WIRE, sent=True)
    assert _worst(findings) == []
    assert combine(findings) is Verdict.PASS
    assert "RateLimitError HTTP 429 code 1308" in findings[0].message and "(reads as BLOCKED)" in findings[0].message


def test_no_exception_where_zai_refused_fails():
    findings = check_expected_error(QUOTA, None, WireAnswer(status=200, text="hi"), sent=True)
    assert _worst(findings) == [
        ("error", FAIL, "no exception: expected HTTP 429 / 1308 to surface (Z.AI answered HTTP 200)")
    ]


def test_a_lost_business_code_is_a_deviation_that_blames_the_path():
    error = _error(code=None, message="Usage limit reached for 5 hour.")
    (code,) = [f for f in check_expected_error(QUOTA, error, QUOTA_WIRE, sent=True) if f.check == "error_code"]
    assert code.severity is DEVIATION
    assert "Z.AI sent code 1308; the path lost it" in code.message


def test_a_lost_message_and_a_changed_status_are_named():
    error = _error(code="1308", status=500, message="Internal server error")
    checks = {f.check: f for f in check_expected_error(QUOTA, error, QUOTA_WIRE, sent=True)}
    assert checks["error_status"].severity is DEVIATION and "HTTP 500, not 429" in checks["error_status"].message
    assert checks["error_message"].severity is DEVIATION and "Usage limit reached" in checks["error_message"].message


def test_a_page_that_is_no_error_envelope_is_not_demanded_from_the_exception():
    """A gateway's HTML 502 (crush recorded one) has no message a client could be asked to carry."""
    page = "<html><head><title>502 Bad Gateway ZS</title></head></html>"
    wire = WireAnswer(status=502, error_message=page)
    error = _error(code=None, status=502, message="Bad Gateway")
    expect = ErrorExpectation(status=502, verdict="TRANSIENT")
    assert [f for f in check_expected_error(expect, error, wire, sent=True) if f.check == "error_message"] == []
    enveloped = WireAnswer(status=502, error_message="upstream went away", error_envelope=True)
    messages = [f for f in check_expected_error(expect, error, enveloped, sent=True) if f.check == "error_message"]
    assert messages and messages[0].severity is DEVIATION


def test_an_error_that_reads_as_another_class_is_named():
    error = _error(code=None, message="Usage limit reached for 5 hour.")  # a bare 429 reads as TRANSIENT
    classes = [f for f in check_expected_error(QUOTA, error, QUOTA_WIRE, sent=True) if f.check == "error_class"]
    assert classes and "reads as TRANSIENT; Z.AI's HTTP 429 / 1308 is BLOCKED" in classes[0].message


def test_the_anthropic_surface_message_frame_is_looked_through():
    wire = WireAnswer(
        status=429, error_code="1308", error_message="[1308][Usage limit reached][2026112203]", error_envelope=True
    )
    error = _error(code="1308", message="rate_limit_error: Usage limit reached (request 2026…)")
    assert [f for f in check_expected_error(QUOTA, error, wire, sent=True) if f.check == "error_message"] == []


def test_an_expected_timeout_wants_the_clients_timeout():
    hang = ErrorExpectation(verdict="HANG")
    timed_out = ErrorInfo(exception="openai.APITimeoutError", message="Request timed out.", timeout=True)
    assert _worst(check_expected_error(hang, timed_out, None, sent=True)) == []
    other = _error(code="1305")
    (wrong,) = _worst(check_expected_error(hang, other, None, sent=True))
    assert wrong[1] is FAIL and "expected the client's timeout" in wrong[2]


# --- JSON mode, stop words, thinking off ----------------------------------------------------------


def _answer(exposed: str, wire_text: str | None = None, **expect: Any) -> list[Finding]:
    text = exposed
    turn = Turn(index=0, text=text, finish_reason="stop", usage=Usage(5, 5, 10))
    wire = WireAnswer(
        status=200, text=text if wire_text is None else wire_text, finish_reason="stop", usage=Usage(5, 5, 10)
    )
    return check_turn(TurnExpectation(finish_reason="stop", **expect), turn, wire, {"Person": PERSON}, False)


def test_json_object_text_passes_and_prose_fails():
    assert _worst(_answer('{"name": "Alice", "age": 30}', json_object=True)) == []
    (prose,) = _worst(_answer("Alice is 30.", json_object=True))
    assert prose[1] is FAIL and "is not JSON" in prose[2]
    (fenced,) = _worst(_answer('```json\n{"a": 1}\n```', json_object=True))
    assert "Markdown fence" in fenced[2]


def test_json_schema_ignored_by_glm_is_a_named_deviation():
    (ignored,) = _worst(_answer("Alice is 30 and lives in Paris.", json_schema="Person"))
    assert ignored[1] is DEVIATION and "GLM ignores response_format json_schema" in ignored[2]
    (broken,) = _worst(_answer('{"name": "Alice"}', json_schema="Person"))
    assert broken[1] is DEVIATION and "'age' is a required property" in broken[2]


def test_json_broken_by_the_path_fails():
    findings = _worst(_answer("Alice", wire_text='{"name": "Alice", "age": 30}', json_schema="Person"))
    (broken,) = [f for f in findings if f[0] == "json"]
    assert broken[1] is FAIL and "Z.AI sent valid JSON" in broken[2]
    assert any(f[0] == "text" and f[1] is FAIL for f in findings)  # and the text check says it changed


def test_litellms_forced_tool_workaround_is_judged_on_the_text():
    arguments = {"name": "Alice", "age": 30}
    turn = Turn(index=0, text=json.dumps(arguments), finish_reason="stop", usage=Usage(5, 5, 10))
    call = ToolCall.parse("call_1", "json_tool_call", json.dumps(arguments))
    wire = WireAnswer(status=200, tool_calls=[call], finish_reason="tool_use", usage=Usage(5, 5, 10))
    expect = TurnExpectation(finish_reason="stop", json_schema="Person")
    findings = check_turn(expect, turn, wire, {"Person": PERSON}, False)
    assert _worst(findings) == []
    assert any("forced tool call (json_tool_call)" in f.message for f in findings)


def test_a_stop_word_in_the_text_fails_and_says_who():
    (kept,) = _worst(_answer("one, two, five", text=True, text_excludes=("five",)))
    assert kept[1] is FAIL and "Z.AI did not stop there" in kept[2]
    assert _worst(_answer("one, two, ", text=True, text_excludes=("five",))) == []


def test_reasoning_where_none_is_expected_fails():
    turn = Turn(index=0, text="hi", reasoning="thinking…", finish_reason="stop", usage=Usage(5, 5, 10))
    wire = WireAnswer(status=200, text="hi", reasoning="thinking…", finish_reason="stop", usage=Usage(5, 5, 10))
    expect = TurnExpectation(finish_reason="stop", text=True, reasoning=False)
    (found,) = _worst(check_turn(expect, turn, wire, {}, False))
    assert found[0] == "reasoning" and "no reasoning expected" in found[2] and "Z.AI sent 9 chars" in found[2]


# --- request side: preserved thinking, client-only arguments ---------------------------------------


def _exchange(body: dict[str, Any]) -> Exchange:
    return Exchange(
        method="POST",
        url="https://api.z.ai/api/paas/v4/chat/completions",
        request_headers={"Authorization": ["Bearer x"]},
        request_body=json.dumps(body),
        outcome="replayed",
    )


def _preserved(catalogue: Catalogue) -> dict[str, Any]:
    from conformance.scenario import openai_request

    return openai_request(catalogue, catalogue.scenario("thinking-preserved"), "glm-4.6")


def test_reasoning_dropped_from_the_history_fails(catalogue):
    intended = _preserved(catalogue)
    stripped = json.loads(json.dumps(intended))
    stripped["messages"][1].pop("reasoning_content")
    general = catalogue.endpoint("general")
    findings = check_request(_exchange(stripped), 0, intended, general, "https://api.z.ai/api/paas/v4")
    (dropped,) = [f for f in findings if f.check == "history_reasoning"]
    assert dropped.severity is FAIL and "dropped the assistant's reasoning_content" in dropped.message
    kept = check_request(_exchange(intended), 0, intended, general, "https://api.z.ai/api/paas/v4")
    assert [f.severity for f in kept if f.check == "history_reasoning"] == [INFO]


def test_a_client_only_argument_must_not_reach_zai(catalogue):
    intended = openai_chat = {"model": "glm-4.6", "messages": [{"role": "user", "content": "hi"}]}
    general = catalogue.endpoint("general")
    leaked = {**openai_chat, "metadata": {"run": "x"}}
    findings = check_request(
        _exchange(leaked), 0, intended, general, "https://api.z.ai/api/paas/v4", None, ["metadata"]
    )
    assert ("request_params", FAIL, "the client's own argument 'metadata' reached Z.AI") in _worst(findings)
    kept = check_request(_exchange(intended), 0, intended, general, "https://api.z.ai/api/paas/v4", None, ["metadata"])
    assert _worst(kept) == []
