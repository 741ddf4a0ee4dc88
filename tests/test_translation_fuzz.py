"""Translation fuzzing (issue 14 §4): generated scenarios go through every client path against the Z.AI
double, served in-process; what reaches the wire must say what the scenario says (up to the path's
documented translations), and what the path exposes must say what the wire said.

Deterministic and bounded: a fixed number of derandomised examples per path (ZAI_FUZZ_EXAMPLES, default
20, runs more). The proxy paths import LiteLLM's proxy (~20 s) and run only with ZAI_FUZZ_PROXY=1. A new
difference fails with its path, its property and a one-line reproducer of the shrunk case; the known
ones (conformance/data/translations.yaml) are checked to still reproduce.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings

from conformance.fuzz.__main__ import main as replay
from conformance.fuzz.case import Call, FuzzCase, FuzzTool, Msg
from conformance.fuzz.drive import run_case
from conformance.fuzz.findings import ledger, report
from conformance.fuzz.properties import Difference, all_differences, answer, exposed_turn
from conformance.fuzz.strategies import cases
from conformance.observation import ToolCall
from conformance.wire.sse import read_events

EXAMPLES = int(os.environ.get("ZAI_FUZZ_EXAMPLES", "20"))
PATHS = [
    "openai-sdk",
    "litellm-zai",
    "litellm-zai-async",
    "litellm-openai",
    "openhands",
    "zai-sdk",
    "anthropic-sdk",
    "litellm-anthropic",
    "litellm-anthropic-guide",
]
PROXY_PATHS = ["proxy-openai-sdk"] if os.environ.get("ZAI_FUZZ_PROXY") == "1" else []
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
WEATHER = FuzzTool(
    "tool_weather",
    "Weather — für überall 🌦",
    {
        "type": "object",
        "properties": {
            "place": {"type": "object", "properties": {"ort": {"type": "string", "enum": ["Zürich", "القاهرة"]}}},
            "days": {"type": "array", "items": {"type": "integer"}},
        },
        "required": ["place"],
    },
)
RICH = FuzzCase(
    messages=(
        Msg("system", "Réponds brièvement. ‮RTL‬"),
        Msg("user", "e\u0301 👩\u200d💻 first"),
        Msg("assistant", "", (Call("call_0", "tool_weather", {"place": {"ort": "Zürich"}}),)),
        Msg("tool", "22 °C ☀", call_id="call_0"),
        Msg("user", "and now tool_weather again"),
    ),
    tools=(WEATHER,),
    temperature=0.3,
    top_p=0.5,
    max_tokens=2048,
    stop=("ZZZ",),
    result="18 °C 🌧",
)


def _check(path: str, case: FuzzCase) -> None:
    run = run_case(path, case)
    verdicts = ledger().classify(path, case, all_differences(run, case))
    assert not verdicts.new, report(path, case, verdicts.new)


@pytest.mark.parametrize("path", PATHS + PROXY_PATHS)
def test_the_wire_says_what_the_scenario_says_and_the_path_what_the_wire_said(path: str) -> None:
    @FUZZ
    @given(cases())
    def fuzz(case: FuzzCase) -> None:
        _check(path, case)

    fuzz()


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("stream", [False, True])
def test_a_rich_conversation_goes_through_with_both_turns(path: str, stream: bool) -> None:
    """Not only generated cases: a known one that surely reaches the follow-up turn on every path."""
    case = replace(RICH, stream=stream)
    run = run_case(path, case)
    assert len(run.exchanges) == 2 and [t.error for t in run.turns] == [None, None]
    assert run.turns[0].tool_calls[0].arguments == {"place": {"ort": "Zürich"}}
    assert "18 °C 🌧" in (run.turns[1].text or "")
    _check(path, case)


def test_the_comparison_catches_a_mangled_wire_body_and_a_mangled_exposure() -> None:
    """The properties can fail: the same run, with its request and answer tampered with after the fact."""
    run = run_case("openai-sdk", RICH)
    assert all_differences(run, RICH) == []
    sent = json.loads(run.exchanges[0].request_body or "")
    sent["messages"][1]["content"] = "é 👩\u200d💻 first"  # NFC-normalised: the combining mark folded
    sent["messages"][2]["tool_calls"][0]["function"]["arguments"] = '{"place":{}}'
    del sent["tools"][0]["function"]["parameters"]["properties"]["place"]["properties"]
    sent["temperature"] = 0.7
    sent["parallel_tool_calls"] = False
    mangled = replace(run, exchanges=[replace(run.exchanges[0], request_body=json.dumps(sent)), *run.exchanges[1:]])
    found = {(d.property, d.subject, d.change, d.where) for d in all_differences(mangled, RICH)}
    assert found == {
        ("wire", "messages.text", "changed", "messages[1]"),
        ("wire", "calls.arguments", "changed", "messages[2]"),
        ("wire", "tools.parameters", "changed", "tools[0]"),
        ("wire", "temperature", "changed", ""),
        ("wire", "added:parallel_tool_calls", "added", ""),
    }
    turn = replace(run.turns[1], text=(run.turns[1].text or "").replace("🌧", "?"))
    first = replace(run.turns[0], tool_calls=[ToolCall.parse("call_x", "tool_weather", "{}")])
    assert {d.subject for d in exposed_turn(turn, answer(run.exchanges[1]), 1)} == {"text"}
    assert {d.subject for d in exposed_turn(first, answer(run.exchanges[0]), 0)} == {"calls.id", "calls.arguments"}


def test_a_translation_or_a_known_finding_excuses_only_its_own_path_and_change() -> None:
    book = ledger()
    case = FuzzCase(messages=(Msg("user", "hi"),))
    finish = Difference("exposed", "finish_reason", "changed", "end_turn", "stop")
    assert book.classify("litellm-anthropic", case, [finish]).translated == [finish]
    assert book.classify("anthropic-sdk", case, [finish]).new == [finish]
    wrong = Difference("exposed", "finish_reason", "changed", "end_turn", "tool_calls")
    assert book.classify("litellm-anthropic", case, [wrong]).new == [wrong]
    ceiling = Difference("wire", "max_tokens", "changed", 4096, 128000)
    assert book.classify("litellm-anthropic-guide", case, [ceiling]).translated == [ceiling]
    assert book.classify("litellm-anthropic-guide", replace(case, max_tokens=4096), [ceiling]).new == [ceiling]
    clamped = Difference("wire", "temperature", "changed", 0.3, 0.5)
    assert book.classify("zai-sdk", case, [clamped]).new == [clamped]  # only 0.01 and 0.99 are known


@pytest.mark.parametrize(
    ("finding", "path"), [(k.id, p) for k in ledger().known for p in k.paths], ids=lambda value: value
)
def test_every_known_finding_still_reproduces(finding: str, path: str) -> None:
    known = next(k for k in ledger().known if k.id == finding)
    case = FuzzCase.from_json(known.case)
    differences = all_differences(run_case(path, case), case)
    assert any(known.covers(path, d) for d in differences), (
        f"known finding {finding!r} no longer reproduces on {path} (stale: remove it from "
        f"conformance/data/translations.yaml): {known.reproducer(path)}"
    )


@settings(max_examples=50, derandomize=True, deadline=None, database=None)
@given(cases())
def test_a_case_survives_its_one_line_json(case: FuzzCase) -> None:
    line = case.to_json()
    assert "\n" not in line and "'" not in line and line.isascii()
    assert FuzzCase.from_json(line) == case


def test_the_reproducer_replays_a_case_and_names_what_the_ledger_makes_of_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    known = next(k for k in ledger().known if k.id == "zai-sdk-stream-line-separators")
    assert replay(["--path", "zai-sdk", "--case", known.case]) == 0
    assert "known:zai-sdk-stream-line-separators  exposed: error added" in capsys.readouterr().out
    assert replay(["--path", "openai-sdk", "--case", known.case]) == 0
    assert "the wire says what the case says" in capsys.readouterr().out


def test_the_reference_sse_reader_keeps_an_event_whole_across_a_line_separator() -> None:
    body = 'data: {"choices":[{"delta":{"content":"a\u2028b"}}]}\n\ndata: [DONE]\n\n'
    events = read_events(body)
    assert events[0].data == {"choices": [{"delta": {"content": "a\u2028b"}}]}


def test_generated_cases_reach_every_corner_the_issue_names() -> None:
    """The strategy is not vacuous: among the first examples there are long, multi-turn, tool-calling,
    streamed, stop-bearing, astral-character cases."""
    seen: list[FuzzCase] = []

    @settings(max_examples=60, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(cases())
    def collect(case: FuzzCase) -> None:
        seen.append(case)

    collect()
    texts = [m.content for c in seen for m in c.messages]
    assert any(len(t) > 5_000 for t in texts)
    assert any(any(ord(ch) > 0xFFFF for ch in t) for t in texts)
    assert any(c.result is not None for c in seen) and any(c.stream for c in seen) and any(c.stop for c in seen)
    assert any(any(m.calls for m in c.messages) for c in seen)
    assert any(m.role == "system" for c in seen for m in c.messages)
    nested = [t.parameters for c in seen for t in c.tools]
    assert any(any(p.get("type") == "object" for p in s["properties"].values()) for s in nested)
