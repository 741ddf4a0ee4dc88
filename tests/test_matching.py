""" "The same question": client extras do not change it, real differences do — and are named."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from vcr.request import Request

from conformance.catalogue import Catalogue
from conformance.recording.matching import question_of
from conformance.recording.recorder import _same_question
from conformance.scenario import anthropic_request, openai_request
from conformance.wire import normal

URL = "https://api.z.ai/api/coding/paas/v4/chat/completions"
CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "weather", "arguments": '{"location":"Florence,Italy"}'},
}


@pytest.fixture
def second_turn(catalogue: Catalogue) -> dict[str, Any]:
    """The `tool` scenario's second request, as the recording has it."""
    body = openai_request(catalogue, catalogue.scenario("tool"), "glm-4.5")
    body["messages"] += [
        {"role": "assistant", "content": "", "tool_calls": [copy.deepcopy(CALL)]},
        {"role": "tool", "tool_call_id": "call_1", "content": "40 C"},
    ]
    return body


def _differences(a: dict[str, Any], b: dict[str, Any], url_a: str = URL, url_b: str = URL) -> list[str]:
    return question_of("POST", url_a, json.dumps(a)).differences(question_of("POST", url_b, json.dumps(b)))


# --- extras that do not change the question ----------------------------------------------------


def _strip_strict(body):
    for tool in body["tools"]:
        del tool["function"]["strict"]


def _stream_options(body):
    body["stream_options"] = {"include_usage": True}


def _max_tokens(body):
    body["max_tokens"] = 128000


def _drop_max_tokens(body):
    del body["max_tokens"]


def _reasoning_in_history(body):
    body["messages"][2]["reasoning_content"] = "Let me call the weather tool."


def _tool_call_index(body):
    body["messages"][2]["tool_calls"][0]["index"] = 0


def _null_content(body):
    body["messages"][2]["content"] = None


def _whitespace_content(body):
    body["messages"][2]["content"] = "\n\n  "


def _missing_content(body):
    del body["messages"][2]["content"]


def _text_parts(body):
    body["messages"][1]["content"] = [
        {"type": "text", "text": "What's the weather "},
        {"type": "text", "text": "in Florence,Italy?"},
    ]


def _tool_message_parts(body):
    body["messages"][3]["content"] = [{"type": "text", "text": "40 C"}]


def _key_order(body):
    body["messages"] = [dict(reversed(list(m.items()))) for m in body["messages"]]
    body["tools"] = [json.loads(json.dumps(t, sort_keys=True)) for t in body["tools"]]
    for key in list(body):
        body[key] = body.pop(key)


def _argument_spacing(body):
    body["messages"][2]["tool_calls"][0]["function"]["arguments"] = '{ "location" : "Florence,Italy" }'


def _other_params(body):
    body.update(temperature=0.2, tool_choice="required", thinking={"type": "enabled"}, user="someone")


def _tool_type_missing_in_history(body):
    del body["messages"][2]["tool_calls"][0]["type"]


@pytest.mark.parametrize(
    "extra",
    [
        _strip_strict,
        _stream_options,
        _max_tokens,
        _drop_max_tokens,
        _reasoning_in_history,
        _tool_call_index,
        _null_content,
        _whitespace_content,
        _missing_content,
        _text_parts,
        _tool_message_parts,
        _key_order,
        _argument_spacing,
        _other_params,
        _tool_type_missing_in_history,
    ],
)
def test_extras_do_not_change_the_question(second_turn, extra):
    changed = copy.deepcopy(second_turn)
    extra(changed)
    assert json.dumps(changed) != json.dumps(second_turn)  # the edit did something
    assert _differences(second_turn, changed) == []


def test_bytes_and_text_bodies_ask_the_same_question(second_turn):
    text = json.dumps(second_turn)
    assert question_of("POST", URL, text) == question_of("post", URL + "/", text.encode("utf-8"))


def test_query_string_is_not_part_of_the_question(second_turn):
    assert _differences(second_turn, second_turn, URL, URL + "?key=<redacted>") == []


# --- real differences, named ---------------------------------------------------------------------


def test_different_model_is_named(second_turn):
    other = {**second_turn, "model": "glm-4.6"}
    assert _differences(second_turn, other) == ["model: 'glm-4.5' ≠ 'glm-4.6'"]


def test_stream_flag_is_named(second_turn):
    assert _differences(second_turn, {**second_turn, "stream": True}) == ["stream: False ≠ True"]


def test_endpoint_path_is_named(second_turn):
    general = "https://api.z.ai/api/paas/v4/chat/completions"
    assert _differences(second_turn, second_turn, URL, general) == [
        "path: '/api/coding/paas/v4/chat/completions' ≠ '/api/paas/v4/chat/completions'"
    ]


def test_method_is_named(second_turn):
    body = json.dumps(second_turn)
    assert question_of("GET", URL, body).differences(question_of("POST", URL, body)) == ["method: 'GET' ≠ 'POST'"]


def test_changed_user_message_is_named_with_its_index(second_turn):
    other = copy.deepcopy(second_turn)
    other["messages"][1]["content"] = "What's the weather in Rome?"
    [difference] = _differences(second_turn, other)
    assert difference.startswith("messages[1]: ")
    assert "Florence,Italy" in difference and "Rome" in difference


def test_changed_role_is_a_difference(second_turn):
    other = copy.deepcopy(second_turn)
    other["messages"][0]["role"] = "user"
    [difference] = _differences(second_turn, other)
    assert difference.startswith("messages[0]: ('system'")


def test_message_count_is_named(second_turn):
    other = copy.deepcopy(second_turn)
    del other["messages"][3]
    assert _differences(second_turn, other) == ["messages: 4 message(s) ≠ 3"]


def test_tool_definitions_are_compared(second_turn):
    other = copy.deepcopy(second_turn)
    other["tools"][0]["function"]["parameters"]["properties"]["location"]["description"] = "a town"
    [difference] = _differences(second_turn, other)
    assert difference.startswith("tools: ")
    assert "the city" in difference and "a town" in difference
    assert _differences(second_turn, {**second_turn, "tools": []})[0].startswith("tools: ")


def test_tool_call_arguments_are_compared(second_turn):
    other = copy.deepcopy(second_turn)
    other["messages"][2]["tool_calls"][0]["function"]["arguments"] = '{"location":"Rome"}'
    [difference] = _differences(second_turn, other)
    assert difference.startswith("messages[2]: ")
    assert "Rome" in difference


def test_tool_call_id_and_tool_result_are_compared(second_turn):
    other = copy.deepcopy(second_turn)
    other["messages"][3]["content"] = "41 C"
    assert _differences(second_turn, other)[0].startswith("messages[3]: ")
    other = copy.deepcopy(second_turn)
    other["messages"][3]["tool_call_id"] = "call_2"
    assert _differences(second_turn, other)[0].startswith("messages[3]: ")


def test_whitespace_in_assistant_text_without_tool_calls_is_a_difference(second_turn):
    ours = copy.deepcopy(second_turn)
    ours["messages"][2] = {"role": "assistant", "content": "It is hot."}
    theirs = copy.deepcopy(ours)
    theirs["messages"][2]["content"] = "It is hot.\n"
    assert _differences(ours, theirs)[0].startswith("messages[2]: ")


def test_several_differences_are_all_named(second_turn):
    other = {**copy.deepcopy(second_turn), "model": "glm-4.6", "stream": True}
    other["messages"][1]["content"] = "hello"
    differences = _differences(second_turn, other)
    assert [d.split(":")[0] for d in differences] == ["model", "stream", "messages[1]"]


def test_long_values_are_shortened(second_turn):
    other = copy.deepcopy(second_turn)
    other["messages"][0]["content"] = "x" * 1000
    [difference] = _differences(second_turn, other)
    assert len(difference) < 400 and "…" in difference


def test_different_non_json_bodies_are_different_questions():
    assert question_of("POST", URL, "abc").differences(question_of("POST", URL, "xyz")) != []


# --- the recorder's vcrpy matcher --------------------------------------------------------------


def test_vcrpy_matcher_accepts_the_same_question(second_turn):
    extra = copy.deepcopy(second_turn)
    _stream_options(extra)
    _reasoning_in_history(extra)
    ours = Request("POST", URL, json.dumps(second_turn).encode(), {"Authorization": "Bearer <redacted>"})
    theirs = Request("POST", URL, json.dumps(extra).encode(), {"User-Agent": "OpenAI/Python 2.20.0"})
    assert _same_question(ours, theirs) is None


def test_vcrpy_matcher_raises_with_the_differences(second_turn):
    other = {**second_turn, "model": "glm-4.6", "stream": True}
    with pytest.raises(AssertionError) as caught:
        _same_question(
            Request("POST", URL, json.dumps(second_turn).encode(), {}),
            Request("POST", URL, json.dumps(other).encode(), {}),
        )
    assert str(caught.value) == "model: 'glm-4.5' ≠ 'glm-4.6'; stream: False ≠ True"


# --- one reading for replay matching and the request checks -------------------------------------


def test_matching_reads_messages_and_tools_as_the_request_checks_do(second_turn):
    """The request checks call conformance.wire.normal directly; the matcher must read the same."""
    asked = question_of("POST", URL, json.dumps(second_turn))
    assert asked.messages == normal.messages(second_turn["messages"]) and len(asked.messages) == 4
    assert asked.tools == normal.tools(second_turn["tools"]) and len(asked.tools) == 1


def test_anthropic_messages_read_with_their_system_prompt(catalogue):
    body = anthropic_request(catalogue, catalogue.scenario("tool"), "glm-4.5")
    asked = question_of("POST", "https://api.z.ai/api/anthropic/v1/messages", json.dumps(body))
    assert asked.messages == normal.messages(body["messages"], system=body.get("system"), anthropic=True)
    assert asked.tools == normal.tools(body["tools"])
    assert asked.tools == normal.tools(openai_request(catalogue, catalogue.scenario("tool"), "glm-4.5")["tools"])
