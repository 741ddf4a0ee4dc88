"""Checks on hand-built observations: each finding, its severity, and the words that name the fault."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.catalogue import Catalogue, TurnExpectation
from conformance.checks.cost import check_cost
from conformance.checks.errors import classify
from conformance.checks.operations import check_operation
from conformance.checks.request import check_request
from conformance.checks.response import check_turn
from conformance.observation import (
    BuiltMessage,
    CostClaim,
    Envelope,
    ErrorInfo,
    Exchange,
    StreamFacts,
    ToolCall,
    Turn,
    Usage,
)
from conformance.paths.base import describe_exception
from conformance.scenario import openai_request
from conformance.verdict import Finding, Severity, Verdict, combine, reasons
from conformance.wire import WireAnswer, WireStream
from tests.support.fake_secrets import ZAI_KEY

INFO, DEVIATION, FAIL = Severity.INFO, Severity.DEVIATION, Severity.FAIL
BASE = "https://api.z.ai/api/coding/paas/v4"
BOOK = {
    "title": "The Lord of the Rings",
    "author": {"name": "J.R.R. Tolkien", "nationality": "British"},
    "genres": ["fantasy", "adventure"],
    "published_year": 1954,
}


def _by(findings: list[Finding], check: str) -> list[Finding]:
    return [f for f in findings if f.check == check]


def _worst(findings: list[Finding]) -> list[tuple[str, Severity, str]]:
    """The findings that move the verdict, as (check, severity, message)."""
    return [(f.check, f.severity, f.message) for f in findings if f.severity is not INFO]


def _chat(text: str = "Olá!", **turn: Any) -> tuple[TurnExpectation, Turn, WireAnswer]:
    usage = Usage(prompt_tokens=16, completion_tokens=72, total_tokens=88)
    expect = TurnExpectation(finish_reason="stop", text=True)
    exposed = Turn(**{"index": 0, "text": text, "finish_reason": "stop", "usage": usage, **turn})
    wire = WireAnswer(status=200, text="Olá!", finish_reason="stop", usage=Usage(16, 72, 88))
    return expect, exposed, wire


def _call(name: str, arguments: Any, call_id: str = "call_1") -> ToolCall:
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return ToolCall.parse(call_id, name, raw)


def _tool_turn(catalogue: Catalogue, exposed: list[ToolCall], sent: list[ToolCall] | None = None):
    expect = TurnExpectation(finish_reason="tool_calls", tool_calls=("Book",))
    usage = Usage(10, 20, 30)
    turn = Turn(index=0, tool_calls=exposed, finish_reason="tool_calls", usage=usage)
    wire = WireAnswer(
        status=200,
        tool_calls=sent if sent is not None else exposed,
        finish_reason="tool_calls",
        usage=Usage(10, 20, 30),
    )
    return check_turn(expect, turn, wire, {"Book": catalogue.tools["Book"]}, streamed=False)


# --- response checks -----------------------------------------------------------------------------


def test_a_faithful_answer_passes():
    expect, turn, wire = _chat()
    findings = check_turn(expect, turn, wire, {}, streamed=False)
    assert _worst(findings) == []
    assert combine(findings) is Verdict.PASS
    assert {f.check for f in findings} == {"finish_reason", "usage"}
    assert all(f.turn == 0 and f.side == "response" for f in findings)


def test_findings_carry_the_turn_index():
    expect, turn, wire = _chat()
    turn.index = 1
    assert {f.turn for f in check_turn(expect, turn, wire, {}, streamed=False)} == {1}


def test_reasoning_sent_but_not_exposed_is_a_deviation():
    expect, turn, wire = _chat()
    wire.reasoning = "The user wants a greeting."
    findings = check_turn(expect, turn, wire, {}, streamed=False)
    assert _worst(findings) == [
        ("reasoning", DEVIATION, "Z.AI sent 26 chars of reasoning_content; the path exposed none")
    ]


def test_reasoning_sent_but_not_exposed_fails_when_expected():
    expect, turn, wire = _chat()
    expect = expect.model_copy(update={"reasoning": True})
    wire.reasoning = "The user wants a greeting."
    assert _worst(check_turn(expect, turn, wire, {}, streamed=False)) == [
        ("reasoning", FAIL, "Z.AI sent 26 chars of reasoning_content; the path exposed none")
    ]


def test_reasoning_expected_but_not_sent_blames_zai():
    expect, turn, wire = _chat()
    expect = expect.model_copy(update={"reasoning": True})
    assert _worst(check_turn(expect, turn, wire, {}, streamed=False)) == [
        ("reasoning", FAIL, "the scenario expects reasoning; Z.AI sent none")
    ]


def test_reasoning_exposed_faithfully_says_where():
    expect, turn, wire = _chat(reasoning="Think.", reasoning_field="message.reasoning_content")
    wire.reasoning = "Think."
    [finding] = _by(check_turn(expect, turn, wire, {}, streamed=False), "reasoning")
    assert (finding.severity, finding.message) == (
        INFO,
        "reasoning (6 chars) surfaced as message.reasoning_content",
    )


def test_reasoning_altered_or_trimmed():
    expect, turn, wire = _chat(reasoning="Something else")
    wire.reasoning = "\nThink.\n"
    [finding] = _by(check_turn(expect, turn, wire, {}, streamed=False), "reasoning")
    assert finding.severity is FAIL and "reasoning differs from Z.AI's reasoning_content" in finding.message
    turn.reasoning = "Think."
    [finding] = _by(check_turn(expect, turn, wire, {}, streamed=False), "reasoning")
    assert (finding.severity, finding.message) == (
        DEVIATION,
        "the path changed whitespace around Z.AI's reasoning_content",
    )


def test_altered_text_fails():
    expect, turn, wire = _chat(text="Hello!")
    assert _worst(check_turn(expect, turn, wire, {}, streamed=False)) == [
        ("text", FAIL, "text differs from Z.AI's: exposed 'Hello!', sent 'Olá!'")
    ]


def test_whitespace_only_change_is_a_deviation():
    expect, turn, wire = _chat(text="\nOlá!  ")
    assert _worst(check_turn(expect, turn, wire, {}, streamed=False)) == [
        ("text", DEVIATION, "the path changed whitespace around the text Z.AI sent")
    ]


def test_missing_text_says_who_dropped_it():
    expect, turn, wire = _chat(text=None)
    findings = _worst(check_turn(expect, turn, wire, {}, streamed=False))
    assert ("text", FAIL, "no answer text: the path exposed none of the text Z.AI sent") in findings
    wire.text = None
    assert _worst(check_turn(expect, turn, wire, {}, streamed=False)) == [
        ("text", FAIL, "no answer text: Z.AI sent no text")
    ]


def test_tool_arguments_that_are_not_json_fail(catalogue):
    call = _call("Book", '{"title": "The Lord')
    findings = _worst(_tool_turn(catalogue, [call]))
    assert len(findings) == 1
    check, severity, message = findings[0]
    assert (check, severity) == ("tool_arguments", FAIL)
    assert message.startswith("Book: arguments are not JSON: ")


def test_tool_arguments_that_break_the_schema_fail_naming_the_tool(catalogue):
    call = _call("Book", {**BOOK, "published_year": "1954"})
    assert _worst(_tool_turn(catalogue, [call])) == [
        ("tool_arguments", FAIL, "Book arguments break its schema: '1954' is not of type 'integer'")
    ]
    nested = _call("Book", {**BOOK, "author": {"name": "Tolkien"}})
    assert _worst(_tool_turn(catalogue, [nested])) == [
        ("tool_arguments", FAIL, "Book arguments break its schema: 'nationality' is a required property")
    ]


def test_valid_tool_arguments_pass(catalogue):
    findings = _tool_turn(catalogue, [_call("Book", BOOK)])
    assert _worst(findings) == []
    assert [f.message for f in _by(findings, "tool_arguments")] == ["Book arguments are JSON and satisfy its schema"]


def test_call_to_a_tool_not_offered_fails(catalogue):
    findings = _worst(_tool_turn(catalogue, [_call("Hammer", {})]))
    assert ("tool_arguments", FAIL, "call to 'Hammer', which the request did not offer") in findings
    assert any(
        c == "tool_calls" and "tool calls ['Hammer']; the scenario expects ['Book']" in m for c, _, m in findings
    )


def test_tool_calls_differing_from_the_wire_fail(catalogue):
    exposed = [_call("Book", BOOK, call_id="call_renamed")]
    sent = [_call("Book", BOOK, call_id="call_-8167732570302206983")]
    [(check, severity, message)] = _worst(_tool_turn(catalogue, exposed, sent))
    assert (check, severity) == ("tool_calls", FAIL)
    assert message.startswith("tool calls differ from Z.AI's: exposed [('call_renamed', 'Book'")
    assert "call_-8167732570302206983" in message


def test_dropped_tool_call_fails(catalogue):
    findings = _worst(_tool_turn(catalogue, [], [_call("Book", BOOK)]))
    assert (
        "tool_calls",
        FAIL,
        "tool calls []; the scenario expects ['Book'] (Z.AI sent ['Book'])",
    ) in findings


def test_usage_arithmetic_must_add_up():
    expect, turn, wire = _chat()
    turn.usage = Usage(16, 72, 100)
    wire.usage = Usage(16, 72, 100)
    assert _worst(check_turn(expect, turn, wire, {}, streamed=False)) == [
        ("usage", FAIL, "total_tokens 100 ≠ prompt + completion 16+72")
    ]


def test_usage_dropped_by_the_path_fails():
    expect, turn, wire = _chat()
    turn.usage = None
    assert _worst(check_turn(expect, turn, wire, {}, streamed=False)) == [
        ("usage", FAIL, "Z.AI sent usage; the path exposed none")
    ]


def test_usage_altered_by_the_path_fails_and_details_deviate():
    expect, turn, wire = _chat()
    turn.usage = Usage(16, 70, 86)
    wire.usage = Usage(16, 72, 88, reasoning_tokens=30, cached_tokens=7)
    assert _worst(check_turn(expect, turn, wire, {}, streamed=False)) == [
        ("usage", FAIL, "usage (16, 70, 86) differs from Z.AI's (16, 72, 88)"),
        ("usage", DEVIATION, "reasoning_tokens: Z.AI sent 30, the path exposes None"),
        ("usage", DEVIATION, "cached_tokens: Z.AI sent 7, the path exposes None"),
    ]


def test_finish_reason_mapped_differently_from_the_wire_fails():
    expect, turn, wire = _chat(finish_reason="content_filter")
    assert _worst(check_turn(expect, turn, wire, {}, streamed=False)) == [
        ("finish_reason", FAIL, "the path exposes finish_reason 'content_filter'; Z.AI sent 'stop'")
    ]


def test_an_anthropic_stop_reason_translated_to_openai_is_the_same_answer():
    expect, turn, wire = _chat(finish_reason="stop")
    wire.finish_reason = "end_turn"  # the Anthropic endpoint's word; LiteLLM exposes OpenAI's
    [finding] = _by(check_turn(expect, turn, wire, {}, streamed=False), "finish_reason")
    assert (finding.severity, finding.message) == (INFO, "finish_reason 'stop' as expected (Z.AI sent 'end_turn')")


def test_finish_reason_not_the_expected_one_names_both():
    expect, turn, wire = _chat(finish_reason="length")
    wire.finish_reason = "length"
    assert _worst(check_turn(expect, turn, wire, {}, streamed=False)) == [
        ("finish_reason", FAIL, "finish_reason 'length'; the scenario expects 'stop' (Z.AI sent 'length')")
    ]


def test_finish_reason_rewritten_to_the_expected_value_fails():
    expect, turn, wire = _chat()
    wire.finish_reason = "length"  # Z.AI truncated the answer; the path claims a normal stop
    assert any(f.severity is FAIL for f in _by(check_turn(expect, turn, wire, {}, streamed=False), "finish_reason"))


# --- stream checks -------------------------------------------------------------------------------


def _streamed(facts: StreamFacts, **exposed: Any) -> list[Finding]:
    expect, turn, wire = _chat(stream=facts, **exposed)
    wire.stream = WireStream(
        chunks=facts.chunks,
        done=True,
        finish_chunk=facts.finish_chunk,
        usage_chunk=facts.usage_chunk,
        usage_chunk_choices=1,
    )
    return check_turn(expect, turn, wire, {}, streamed=True)


def test_stream_usage_on_the_finish_chunk_is_a_deviation():
    facts = StreamFacts(chunks=5, content_deltas=4, finish_chunk=4, usage_chunk=4, usage_chunk_choices=1)
    [finding] = _by(_streamed(facts), "stream_usage")
    assert finding.severity is DEVIATION
    assert finding.message.startswith("usage arrives on the finish_reason chunk (chunk 5 of 5)")


def test_stream_usage_in_its_own_chunk_is_info():
    facts = StreamFacts(chunks=6, content_deltas=4, finish_chunk=4, usage_chunk=5, usage_chunk_choices=0)
    findings = _streamed(facts)
    assert _worst(findings) == []
    [finding] = _by(findings, "stream_usage")
    assert (finding.severity, finding.message) == (
        INFO,
        "usage arrives in its own chunk after finish_reason (chunk 6 of 6, no choices)",
    )


def test_stream_usage_before_the_finish_chunk_is_not_called_after():
    facts = StreamFacts(chunks=6, content_deltas=4, finish_chunk=5, usage_chunk=2, usage_chunk_choices=1)
    [finding] = _by(_streamed(facts), "stream_usage")
    assert "after finish_reason" not in finding.message


def test_stream_facts_are_required_for_a_streamed_request():
    expect, turn, wire = _chat()
    [finding] = _by(check_turn(expect, turn, wire, {}, streamed=True), "stream")
    assert (finding.severity, finding.message) == (
        FAIL,
        "a streamed request, but the path delivered no stream",
    )


def test_wire_stream_problems():
    expect, turn, wire = _chat(stream=StreamFacts(chunks=2, finish_chunk=1, usage_chunk=1))
    wire.stream = WireStream(chunks=2, done=False, finish_chunk=1, usage_chunk=1, malformed=["{not json"])
    findings = _worst(check_turn(expect, turn, wire, {}, streamed=True))
    assert ("stream_done", DEVIATION, "Z.AI's stream did not end with its end marker") in findings
    assert ("stream_sse", FAIL, "1 SSE event(s) are not JSON: '{not json'") in findings


def test_chunk_builder_disagreeing_with_the_stream_fails():
    facts = StreamFacts(chunks=6, finish_chunk=4, usage_chunk=5, usage_chunk_choices=0)
    built = BuiltMessage(content="Olá", finish_reason="stop")
    [finding] = _by(_streamed(facts, built=built), "chunk_builder")
    assert finding.severity is FAIL
    assert finding.message == "stream_chunk_builder disagrees with the stream: content 'Olá' vs deltas 'Olá!'"


def test_chunk_builder_agreeing_with_the_stream_is_info():
    facts = StreamFacts(chunks=6, finish_chunk=4, usage_chunk=5, usage_chunk_choices=0)
    built = BuiltMessage(content="Olá!", finish_reason="stop")
    [finding] = _by(_streamed(facts, built=built), "chunk_builder")
    assert (finding.severity, finding.message) == (
        INFO,
        "stream_chunk_builder rebuilds the same message as the deltas",
    )


def test_restamped_identity_is_reported():
    expect, turn, wire = _chat(envelope=Envelope(model="zai/glm-4.5", created=2))
    wire.model, wire.created = "glm-4.5", 1
    [finding] = _by(check_turn(expect, turn, wire, {}, streamed=False), "identity")
    assert finding.severity is INFO
    assert finding.message == (
        "model reported as 'zai/glm-4.5' (Z.AI sent 'glm-4.5'); "
        "created reported as 2 (Z.AI sent 1: the client restamped it)"
    )


# --- facts a path must expose: forgetting one is judged, not skipped ------------------------------


def _signed(**exposed: Any) -> tuple[TurnExpectation, Turn, WireAnswer]:
    expect, turn, wire = _chat(**exposed)
    wire.signatures = ["sig-1"]  # Z.AI's thinking block came signed
    return expect, turn, wire


def test_an_anthropic_style_client_that_exposes_no_signatures_fails():
    expect, turn, wire = _signed()
    [finding] = _by(check_turn(expect, turn, wire, {}, streamed=False, api="anthropic"), "signatures")
    assert (finding.severity, finding.message) == (FAIL, "Z.AI sent 1 thinking signature(s); the path exposed none")


def test_a_client_that_hands_out_thinking_blocks_must_expose_their_signatures():
    expect, turn, wire = _signed(thinking_blocks=1)
    [finding] = _by(check_turn(expect, turn, wire, {}, streamed=False), "signatures")
    assert finding.severity is FAIL


def test_an_openai_style_client_without_thinking_blocks_is_not_judged_on_signatures():
    """It exposes reasoning as reasoning_content only: it has no place for a signature."""
    expect, turn, wire = _signed(thinking_blocks=0)
    assert _by(check_turn(expect, turn, wire, {}, streamed=False), "signatures") == []


def test_signatures_kept_as_sent_are_info_and_changed_ones_fail():
    expect, turn, wire = _signed(signatures=["sig-1"])
    [kept] = _by(check_turn(expect, turn, wire, {}, streamed=False, api="anthropic"), "signatures")
    assert (kept.severity, kept.message) == (INFO, "1 thinking block signature(s) kept as sent")
    turn.signatures = []
    [lost] = _by(check_turn(expect, turn, wire, {}, streamed=False, api="anthropic"), "signatures")
    assert lost.severity is FAIL


def test_a_cost_scenario_without_a_cost_from_the_client_is_a_deviation(catalogue):
    _, turn, wire = _chat()
    model = next(m for m in catalogue.models if m.price is not None)
    [finding] = check_cost(turn, wire, model)
    assert finding.severity is DEVIATION
    assert finding.message.startswith("no cost from the client (the client gave no cost); 16 in (0 cached) + 72 out")
    turn.cost = CostClaim(error="model not mapped")
    assert check_cost(turn, wire, model)[0].message.startswith("no cost from the client (model not mapped)")


def _operation(catalogue: Catalogue, operation: str, turn: Turn) -> list[Finding]:
    endpoint = catalogue.endpoint("coding")
    return check_operation(operation, TurnExpectation(), turn, None, {}, endpoint, endpoint.base_url)


def test_a_models_call_that_exposes_no_listing_fails(catalogue):
    assert _worst(_operation(catalogue, "models", Turn(index=0))) == [
        ("models", FAIL, "the path exposed no model listing")
    ]
    assert _worst(_operation(catalogue, "models", Turn(index=0, models=["glm-4.6"]))) == []


def test_an_embeddings_call_that_exposes_no_vector_fails(catalogue):
    usage = Usage(prompt_tokens=3)
    assert _worst(_operation(catalogue, "embeddings", Turn(index=0, usage=usage))) == [
        ("embeddings", FAIL, "the path exposed no embedding")
    ]
    assert _worst(_operation(catalogue, "embeddings", Turn(index=0, usage=usage, embedding_lengths=[8]))) == []


# --- request checks ------------------------------------------------------------------------------


@pytest.fixture
def coding(catalogue: Catalogue):
    return catalogue.endpoint("coding")


def _exchange(body: dict[str, Any] | str, url: str = BASE + "/chat/completions", **headers: list[str]) -> Exchange:
    return Exchange(
        method="POST",
        url=url,
        request_headers=headers or {"Authorization": ["Bearer <redacted>"]},
        request_body=body if isinstance(body, str) else json.dumps(body),
        outcome="replayed",
    )


def _intended(catalogue: Catalogue, scenario: str) -> dict[str, Any]:
    return openai_request(catalogue, catalogue.scenario(scenario), "glm-4.5")


def _request_findings(f: list[Finding]) -> list[tuple[str, Severity, str]]:
    assert all(x.side == "request" for x in f)
    return [(x.check, x.severity, x.message) for x in f]


def test_the_intended_request_has_no_findings(catalogue, coding):
    intended = _intended(catalogue, "chat")
    assert check_request(_exchange(intended), 0, intended, coding, BASE) == []


def test_undocumented_scenario_param_is_noted(catalogue, coding):
    intended = _intended(catalogue, "chat-stream")
    [finding] = check_request(_exchange(intended), 0, intended, coding, BASE)
    assert (finding.check, finding.severity) == ("request_documented", INFO)
    assert finding.message.startswith("stream_options is not in Z.AI's documented request (scenario sends it; fantasy")


def test_wrong_url_fails(catalogue, coding):
    intended = _intended(catalogue, "chat")
    exchange = _exchange(intended, url="https://api.z.ai/api/paas/v4/chat/completions")
    assert _request_findings(check_request(exchange, 0, intended, coding, BASE)) == [
        (
            "request_url",
            FAIL,
            f"sent to https://api.z.ai/api/paas/v4/chat/completions, expected {BASE}/chat/completions",
        )
    ]
    with_query = _exchange(intended, url=BASE + "/chat/completions?x=1")
    assert check_request(with_query, 0, intended, coding, BASE) == []


def test_missing_bearer_auth_fails(catalogue, coding):
    intended = _intended(catalogue, "chat")
    for headers in (
        {"x-api-key": ["<redacted>"]},
        {"Authorization": ["<redacted>"]},
        {"Content-Type": ["a/b"]},
    ):
        assert _request_findings(check_request(_exchange(intended, **headers), 0, intended, coding, BASE)) == [
            ("auth", FAIL, "no 'Authorization: Bearer' header, which Z.AI's OpenAI endpoints require")
        ]


def test_x_api_key_endpoint_accepts_either_header(catalogue):
    from conformance.scenario import anthropic_request

    anthropic = catalogue.endpoint("anthropic")
    intended = anthropic_request(catalogue, catalogue.scenario("chat"), "glm-4.6")
    base = anthropic.base_url
    url = base + "/v1/messages"
    assert check_request(_exchange(intended, url=url, **{"X-Api-Key": ["k"]}), 0, intended, anthropic, base) == []
    bearer = check_request(_exchange(intended, url=url, Authorization=["Bearer k"]), 0, intended, anthropic, base)
    assert [(f.check, f.severity) for f in bearer] == [("auth", INFO)]
    findings = check_request(_exchange(intended, url=url, **{"Accept": ["*/*"]}), 0, intended, anthropic, base)
    assert _request_findings(findings) == [("auth", FAIL, "neither x-api-key nor Authorization header sent")]
    wrong_path = check_request(
        _exchange(intended, url=base + "/chat/completions", **{"X-Api-Key": ["k"]}), 0, intended, anthropic, base
    )
    assert [f.check for f in wrong_path] == ["request_url"]


def test_dropped_param_is_a_deviation_naming_it(catalogue, coding):
    intended = _intended(catalogue, "chat")
    sent = {k: v for k, v in intended.items() if k != "max_tokens"}
    assert _request_findings(check_request(_exchange(sent), 0, intended, coding, BASE)) == [
        ("request_params", DEVIATION, "the path dropped max_tokens=4000")
    ]


def test_changed_param_is_a_deviation_naming_both_values(catalogue, coding):
    intended = _intended(catalogue, "chat")
    assert _request_findings(
        check_request(_exchange({**intended, "max_tokens": 128000}), 0, intended, coding, BASE)
    ) == [("request_params", DEVIATION, "the path changed max_tokens: 4000 → 128000")]


def test_added_undocumented_param_is_a_deviation(catalogue, coding):
    intended = _intended(catalogue, "chat")
    findings = check_request(_exchange({**intended, "n": 1}), 0, intended, coding, BASE)
    assert _request_findings(findings) == [
        ("request_params", DEVIATION, "the path added n=1, which Z.AI's documented request does not have")
    ]


def test_added_documented_param_is_info(catalogue, coding):
    intended = _intended(catalogue, "chat")
    findings = check_request(_exchange({**intended, "temperature": 0.5}), 0, intended, coding, BASE)
    assert _request_findings(findings) == [("request_params", INFO, "the path added temperature=0.5")]


def test_changed_messages_on_the_first_turn_fail(catalogue, coding):
    intended = _intended(catalogue, "chat")
    sent = {**intended, "messages": [{"role": "user", "content": "Say hi in Spanish"}]}
    assert _request_findings(check_request(_exchange(sent), 0, intended, coding, BASE)) == [
        ("request_messages", FAIL, "the messages sent are not the scenario's messages")
    ]
    parts = {
        **intended,
        "messages": [{**m, "content": [{"type": "text", "text": m["content"]}]} for m in intended["messages"]],
    }
    assert check_request(_exchange(parts), 0, intended, coding, BASE) == []


def test_changed_tool_definitions_are_a_deviation(catalogue, coding):
    intended = _intended(catalogue, "tool")
    sent = json.loads(json.dumps(intended))
    sent["tools"][0]["function"]["description"] = "Weather"
    assert _request_findings(check_request(_exchange(sent), 0, intended, coding, BASE)) == [
        ("request_tools", DEVIATION, "the path changed the tool definitions")
    ]


def test_dropped_strict_flag_is_reported(catalogue, coding):
    intended = _intended(catalogue, "tool")
    sent = json.loads(json.dumps(intended))
    del sent["tools"][0]["function"]["strict"]
    findings = check_request(_exchange(sent), 0, intended, coding, BASE)
    assert any("strict" in f.message for f in findings)


def test_body_that_is_not_json_fails(catalogue, coding):
    intended = _intended(catalogue, "chat")
    assert _request_findings(check_request(_exchange("not json"), 0, intended, coding, BASE)) == [
        ("request_body", FAIL, "the request body is not JSON")
    ]
    assert _request_findings(check_request(_exchange("[1]"), 0, intended, coding, BASE)) == [
        ("request_body", FAIL, "the request body is not a JSON object")
    ]


def _second_turn(catalogue: Catalogue, assistant: dict[str, Any], tool_content: Any = "40 C") -> tuple[dict, dict]:
    intended = _intended(catalogue, "tool")
    sent = json.loads(json.dumps(intended))
    sent["messages"] += [assistant, {"role": "tool", "tool_call_id": "call_1", "content": tool_content}]
    return intended, sent


ASSISTANT = {
    "role": "assistant",
    "content": None,
    "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}],
}


def test_list_content_in_a_tool_message_of_turn_two_is_a_deviation(catalogue, coding):
    intended, sent = _second_turn(catalogue, ASSISTANT, [{"type": "text", "text": "40 C"}])
    findings = _request_findings(check_request(_exchange(sent), 1, intended, coding, BASE))
    assert findings == [
        (
            "history_shape",
            DEVIATION,
            "messages[3] (tool) content is a list of parts; "
            "GLM's chat template reads only string content there (BerriAI/litellm#25868)",
        )
    ]
    assert all(f.turn == 1 for f in check_request(_exchange(sent), 1, intended, coding, BASE))


def test_plain_second_turn_has_no_findings(catalogue, coding):
    intended, sent = _second_turn(catalogue, ASSISTANT)
    assert check_request(_exchange(sent), 1, intended, coding, BASE) == []


def test_history_extras_are_noted(catalogue, coding):
    assistant = {
        **ASSISTANT,
        "reasoning_content": "I should call the tool.",
        "function_call": None,
        "tool_calls": [{**ASSISTANT["tool_calls"][0], "index": 0}],
    }
    intended, sent = _second_turn(catalogue, assistant)
    assert _request_findings(check_request(_exchange(sent), 1, intended, coding, BASE)) == [
        ("history_shape", INFO, "messages[2] (assistant) carries extra keys ['function_call']"),
        ("history_shape", INFO, "messages[2] sends reasoning_content back"),
        (
            "history_shape",
            INFO,
            "messages[2] tool_calls carry extra keys ['index'] (Z.AI's acceptance unverified)",
        ),
    ]


# --- verdicts ------------------------------------------------------------------------------------


def test_combine_takes_the_worst_severity():
    info = Finding("a", INFO, "i")
    deviation = Finding("b", DEVIATION, "d")
    fail = Finding("c", FAIL, "f")
    assert combine([]) is Verdict.PASS
    assert combine([info]) is Verdict.PASS
    assert combine([info, deviation]) is Verdict.DEVIATION
    assert combine([deviation, fail, info]) is Verdict.FAIL
    assert combine(iter([deviation, fail])) is Verdict.FAIL


def test_reasons_are_worst_first_without_info_and_keep_order_within_a_severity():
    findings = [
        Finding("a", DEVIATION, "first deviation", turn=0),
        Finding("b", INFO, "just so you know"),
        Finding("c", FAIL, "first failure", turn=1),
        Finding("d", DEVIATION, "second deviation"),
        Finding("e", FAIL, "second failure", turn=0, side="request"),
    ]
    assert reasons(findings) == [
        "turn 2: first failure",
        "turn 1: second failure",
        "turn 1: first deviation",
        "second deviation",
    ]
    assert reasons([Finding("b", INFO, "x")]) == []


def test_finding_to_dict():
    assert Finding("usage", FAIL, "m", turn=1, side="request").to_dict() == {
        "check": "usage", "severity": "fail", "message": "m", "turn": 1, "side": "request",
    }  # fmt: skip


# --- errors --------------------------------------------------------------------------------------


def _error(status: int | None = None, code: str | None = None, **kwargs: Any) -> ErrorInfo:
    kwargs.setdefault("exception", "openai.APIStatusError")
    kwargs.setdefault("message", "Error code: 429")
    return ErrorInfo(status=status, code=code, **kwargs)


@pytest.mark.parametrize("code", ["1113", "1308", "1309", "1310", "1311"])
def test_account_and_plan_codes_are_blocked(code):
    verdict, why = classify(_error(429, code, exception="openai.RateLimitError"), sent=True)
    assert verdict is Verdict.BLOCKED
    assert why.startswith(f"RateLimitError HTTP 429 code {code}: Error code: 429 — ")


def test_blocked_reason_says_what_the_code_means():
    assert classify(_error(429, "1113"), sent=True)[1].endswith(
        "insufficient balance, or a key used on the other plan's endpoint"
    )


@pytest.mark.parametrize("code", ["1302", "1305"])
def test_concurrency_and_overload_codes_are_transient(code):
    verdict, why = classify(_error(429, code), sent=True)
    assert verdict is Verdict.TRANSIENT
    assert f"code {code}" in why


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_transient(status):
    verdict, why = classify(_error(status, message="upstream failed"), sent=True)
    assert (verdict, why) == (
        Verdict.TRANSIENT,
        f"APIStatusError HTTP {status}: upstream failed — server error",
    )


def test_timeout_is_a_hang():
    verdict, why = classify(
        _error(exception="openai.APITimeoutError", message="Request timed out.", timeout=True), True
    )
    assert (verdict, why) == (
        Verdict.HANG,
        "APITimeoutError: Request timed out. — no byte within the idle limit",
    )


def test_network_error_after_sending_is_transient():
    error = _error(exception="httpx.RemoteProtocolError", message="peer closed connection", network=True)
    assert classify(error, sent=True)[0] is Verdict.TRANSIENT
    assert classify(error, sent=False) == (
        Verdict.FAIL,
        "the client raised before sending anything: RemoteProtocolError: peer closed connection",
    )


def test_client_side_refusal_is_unsupported():
    error = _error(
        exception="litellm.exceptions.UnsupportedParamsError", message="zai does not support reasoning_effort"
    )
    assert classify(error, sent=False) == (
        Verdict.UNSUPPORTED,
        "refused by the client before sending: UnsupportedParamsError: zai does not support reasoning_effort",
    )
    assert classify(error, sent=True)[0] is Verdict.FAIL  # it reached the wire: not a clean refusal


def test_other_business_errors_fail():
    error = _error(
        400, "1211", exception="openai.BadRequestError", message="Unknown Model, please check the model code."
    )
    assert classify(error, sent=True) == (
        Verdict.FAIL,
        "BadRequestError HTTP 400 code 1211: Unknown Model, please check the model code.",
    )


def test_error_message_is_kept_whole_on_one_line_and_bounded():
    # LiteLLM puts its advice after a line break ("…or for proxy:\n drop_params: true"): keep it.
    error = _error(400, exception="x.Boom", message="first line\n  second   line")
    assert classify(error, sent=True) == (Verdict.FAIL, "Boom HTTP 400: first line second line")
    long = _error(400, exception="x.Boom", message="y" * 1000)
    reason = classify(long, sent=True)[1]
    assert reason.endswith("…") and len(reason) == len("Boom HTTP 400: ") + 400


# --- describe_exception --------------------------------------------------------------------------


class FakeRateLimitError(Exception):
    def __init__(self, message: str, status_code: int, body: Any = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body


def test_describe_exception_reads_status_and_code_from_the_body():
    body = {"error": {"code": "1113", "message": "Insufficient balance or no resource package. Please recharge."}}
    exc = FakeRateLimitError(f"Error code: 429 - {json.dumps(body)} (key {ZAI_KEY})", 429, body)
    info = describe_exception(exc)
    assert info.exception == f"{__name__}.FakeRateLimitError"
    assert (info.status, info.code, info.timeout, info.network) == (429, "1113", False, False)
    assert ZAI_KEY not in info.message
    assert info.message.endswith("(key <redacted>)")
    assert classify(info, sent=True)[0] is Verdict.BLOCKED


def test_describe_exception_reads_the_code_from_the_message():
    exc = FakeRateLimitError('litellm.RateLimitError: {"error":{"code":"1302","message":"High concurrency"}}', 429)
    info = describe_exception(exc)
    assert (info.status, info.code) == (429, "1302")
    assert classify(info, sent=True)[0] is Verdict.TRANSIENT


def test_describe_exception_follows_the_cause_chain():
    class APITimeoutError(Exception):
        pass

    try:
        try:
            raise FakeRateLimitError("inner", 504)
        except FakeRateLimitError as inner:
            raise APITimeoutError("Request timed out.") from inner
    except APITimeoutError as exc:
        info = describe_exception(exc)
    assert info.exception.endswith("APITimeoutError")
    assert (info.status, info.code, info.timeout) == (504, None, True)
    assert info.message == "Request timed out."


def test_describe_exception_marks_connection_errors():
    class ConnectError(Exception):
        pass

    info = describe_exception(ConnectError("[Errno 111] Connection refused"))
    assert (info.network, info.timeout, info.status, info.code) == (True, False, None, None)


def test_anthropic_system_as_text_blocks_is_the_same_prompt_and_added_tool_keys_are_info(catalogue):
    from conformance.scenario import anthropic_request

    anthropic = catalogue.endpoint("anthropic")
    intended = anthropic_request(catalogue, catalogue.scenario("tool"), "glm-4.6")
    sent = json.loads(json.dumps(intended))
    sent["system"] = [{"type": "text", "text": intended["system"]}]
    sent["tools"][0]["type"] = "custom"
    url = anthropic.base_url + "/v1/messages"
    findings = check_request(
        _exchange(sent, url=url, **{"X-Api-Key": ["k"]}), 0, intended, anthropic, anthropic.base_url
    )
    assert [(f.check, f.severity, f.message) for f in findings] == [
        ("request_params", INFO, "the path sends system as a list of text blocks"),
        ("request_tools", INFO, "tool 'weather': the path added 'type'"),
    ]
    sent["system"] = [{"type": "text", "text": "something else"}]
    changed = check_request(
        _exchange(sent, url=url, **{"X-Api-Key": ["k"]}), 0, intended, anthropic, anthropic.base_url
    )
    assert ("request_params", DEVIATION, "the path changed the system prompt") in [
        (f.check, f.severity, f.message) for f in changed
    ]
