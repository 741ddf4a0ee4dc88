"""The double's answer rules that the recordings ground (conformance/double/answers.py, data/double.yaml,
data/wire_eras.yaml): which tools get called, whether text comes before the calls, `/no_think`, and the
separator of a request without tools. Each test fails if its rule is taken back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conformance.catalogue import load_catalogue
from conformance.double.answers import declines_thinking, names, plan
from conformance.double.ask import Ask, AskMessage, AskTool
from conformance.double.eras import era_named, newest
from conformance.double.server import DoubleServer, running
from conformance.triggers import ERA_HEADER

KEY = {"Authorization": "Bearer double-test-key"}
CRUSH_TOOLS = ["bash", "download", "edit", "multiedit", "fetch", "glob", "grep", "ls", "sourcegraph", "view", "write"]
CRUSH_SYSTEM = "You are Crush. Tools: " + ", ".join(CRUSH_TOOLS) + ". Use the edit tool after view."
TITLE_SYSTEM = "You will generate a short title based on the first message of a conversation.\n\n /no_think"
TITLE_USER = "Generate a concise title for the following content:\n\nuse bash to create a file\n <think>\n\n</think>"


def ask(model: str, user: str, system: str | None = None, tools: list[str] | None = None, **extra: Any) -> Ask:
    messages = ([AskMessage("system", system)] if system else []) + [AskMessage("user", user)]
    schema = {"type": "object", "properties": {"command": {"type": "string"}}}
    return Ask(
        surface="openai",
        endpoint="coding",
        model_name=model,
        model=load_catalogue().model(model),
        messages=messages,
        tools=[AskTool(name, f"the {name} tool", schema) for name in tools or []],
        **extra,
    )


def called(request: Ask) -> list[str]:
    return [call.name for call in plan(request).calls]


# --- which tools get called -------------------------------------------------------------------------


def test_a_system_prompt_naming_every_tool_calls_none_of_them() -> None:
    """crush's system prompt names all 11 tools; glm-4.6 calls only the one the user asks for."""
    assert called(ask("glm-4.6", "Hello", CRUSH_SYSTEM, CRUSH_TOOLS)) == []
    assert called(ask("glm-4.6", "use bash to create a file named test.txt", CRUSH_SYSTEM, CRUSH_TOOLS)) == ["bash"]
    both = "use glob to find all .go files and use ls to list the files in the current directory"
    assert called(ask("glm-4.6", both, CRUSH_SYSTEM, CRUSH_TOOLS)) == ["glob", "ls"]


def test_only_the_last_user_message_is_read() -> None:
    request = ask("glm-4.6", "Hello", tools=["bash"])
    request.messages.insert(0, AskMessage("user", "use bash please"))
    assert called(request) == []


@pytest.mark.parametrize(
    ("text", "tool", "expected"),
    [
        ("use multiedit to change it", "edit", False),
        ("use multiedit to change it", "multiedit", True),
        ("Add and multiply the number 2 and 3", "add", True),
        ("What's the weather in Florence,Italy?", "weather", True),
        ("the tools are here", "ls", False),
        ("call get_weather now", "get_weather", True),
        ("call get_weather_v2 now", "get_weather", False),
    ],
)
def test_a_tool_is_named_as_a_word_of_its_own(text: str, tool: str, expected: bool) -> None:
    assert names(text, tool) is expected


def test_forced_and_required_tool_choice_still_call() -> None:
    assert called(ask("glm-4.6", "Hello", tools=["bash", "ls"], tool_choice="ls")) == ["ls"]
    assert called(ask("glm-4.6", "Hello", tools=["bash", "ls"], tool_choice="required")) == ["bash"]


# --- text before a tool call (wire_eras.yaml: tool_call_preamble) -----------------------------------


def test_glm_4_6_calls_without_a_preamble_since_2025_11() -> None:
    newest_answer = plan(ask("glm-4.6", "use bash to do it", tools=["bash"]))
    assert newest_answer.calls and newest_answer.text == ""
    for era in ("2025-11", "2025-12", "2026-01"):
        assert plan(ask("glm-4.6", "use bash to do it", tools=["bash"], era=era_named(era))).text == ""


def test_other_models_and_glm_4_6_in_2025_10_still_say_a_line_first() -> None:
    assert plan(ask("glm-4.7-flash", "use bash to do it", tools=["bash"])).text
    assert plan(ask("glm-4.6", "use bash to do it", tools=["bash"], era=era_named("2025-10"))).text


def test_the_preamble_data_agrees_with_itself() -> None:
    assert all(era.shape.tool_call_preamble for era in (era_named(n) for n in ("2025-09", "2025-10", "2026-03")))
    assert newest().shape_for("glm-4.6").tool_call_preamble is False


# --- /no_think (double.yaml: no_think) --------------------------------------------------------------


def test_glm_4_5_air_honours_no_think_and_fits_the_title_budget() -> None:
    answer = plan(ask("glm-4.5-air", TITLE_USER, TITLE_SYSTEM, max_tokens=40))
    assert answer.reasoning == "" and answer.finish == "stop" and answer.text


def test_no_think_needs_both_recorded_markers_and_a_recorded_model() -> None:
    assert declines_thinking(ask("glm-4.5-air", TITLE_USER, TITLE_SYSTEM))
    assert not declines_thinking(ask("glm-4.5-air", TITLE_USER, "Generate a title."))
    assert not declines_thinking(ask("glm-4.5-air", "Generate a title for: hello", TITLE_SYSTEM))
    assert not declines_thinking(ask("glm-4.6", TITLE_USER, TITLE_SYSTEM))
    # the same title request without the markers reasons (crush/9c04ddaa4, 2025-10-02: until `length`)
    assert plan(ask("glm-4.5-air", "Generate a title for: hello", "Generate a title.", max_tokens=40)).reasoning


@pytest.fixture(scope="module")
def double() -> Iterator[DoubleServer]:
    with running() as server:
        yield server


def deltas(double: DoubleServer, body: dict[str, Any], era: str | None = None) -> list[dict[str, Any]]:
    headers = {**KEY, **({ERA_HEADER: era} if era else {})}
    response = httpx.post(
        double.base_urls["coding"] + "/chat/completions", json={**body, "stream": True}, headers=headers, timeout=10
    )
    assert response.status_code == 200, response.text
    payloads = [block[6:] for block in response.text.split("\n\n") if block.startswith("data: ")]
    return [json.loads(p)["choices"][0]["delta"] for p in payloads[:-1]]


TITLE_BODY = {
    "model": "glm-4.5-air",
    "max_tokens": 40,
    "messages": [{"role": "system", "content": TITLE_SYSTEM}, {"role": "user", "content": TITLE_USER}],
}


def test_a_declined_thought_still_opens_as_the_era_does(double: DoubleServer) -> None:
    """2026-04-15: one "\\n" reasoning delta, then the text; 2025-10: a "\\n" content delta, then the text."""
    newest_deltas = deltas(double, TITLE_BODY)
    assert newest_deltas[0] == {"role": "assistant", "reasoning_content": "\n"}
    assert all("reasoning_content" not in d for d in newest_deltas[1:]) and newest_deltas[1]["content"].strip()
    old = deltas(double, TITLE_BODY, era="2025-10")
    assert old[0] == {"role": "assistant", "content": "\n"}
    assert all("reasoning_content" not in d for d in old) and old[1]["content"].strip()


# --- the separator of a request without tools (wire_eras.yaml: without_tools) -----------------------

ADD = {"type": "function", "function": {"name": "add", "parameters": {"type": "object", "properties": {}}}}


def separators(stream: list[dict[str, Any]]) -> int:
    return sum(1 for d in stream if d.get("content") == "\n")


def test_in_2025_11_a_request_without_tools_has_no_separator(double: DoubleServer) -> None:
    body = {"model": "glm-4.5", "messages": [{"role": "user", "content": "Say hi in Portuguese"}]}
    assert separators(deltas(double, body, era="2025-11")) == 0
    assert separators(deltas(double, {**body, "tools": [ADD]}, era="2025-11")) == 1
    assert separators(deltas(double, body, era="2025-12")) == 1  # unrecorded without tools: as with them
