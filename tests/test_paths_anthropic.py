"""The three client paths that reach Z.AI's Anthropic-compatible endpoint — the Anthropic SDK, LiteLLM
`anthropic/` as the LiteLLM / Agent Zero guide writes it, and LiteLLM `anthropic/` configured to work —
run as real cells through the real runner against the Z.AI double on loopback (live mode, recorded),
then replayed from those recordings with the double gone: the same verdicts, for the same reasons.

Beyond verdicts, each test names a fact the paths' users depend on: where reasoning surfaces, that
thinking signatures are kept and the thinking blocks go back to Z.AI on the next turn, how stop
reasons are translated, that usage adds up (cache reads included), and what the guide's configuration
refuses or sends by default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.catalogue import DEFAULT_CATALOGUE, Catalogue, load_catalogue
from conformance.double.server import running
from conformance.observation import Exchange
from conformance.results import CellResult
from conformance.runner import CellRunner, RunSettings
from conformance.verdict import Verdict
from conformance.wire import read_answer
from tests.support.recorded import RECORDED_SCENARIOS
from tests.support.releases import before

KEY = "double-test-key"
PAYG_KEY = "double-payg-test-key"  # the double answers 429/1113 to it on the Anthropic endpoint
MODEL = "glm-4.7"
SDK, GUIDE, LITELLM = "anthropic-sdk", "litellm-anthropic-guide", "litellm-anthropic"
PATHS = (SDK, GUIDE, LITELLM)  # their entries: the packaged catalogue's
SCENARIOS = RECORDED_SCENARIOS


def _scenario(scenario_id: str, content: str, stream: bool = False) -> dict[str, Any]:
    scenario: dict[str, Any] = {
        "id": scenario_id,
        "title": scenario_id,
        "stream": stream,
        "messages": [{"role": "user", "content": content}],
        "expect": [{"text": True}],
    }
    if stream:
        scenario["params"] = {"stream_options": {"include_usage": True}}
    return scenario


# Test-only scenarios: no max_tokens (what goes on the wire by default), the double's stop reasons that
# the Anthropic contract lacks or names differently, a transient error, and a key on the wrong plan.
FAULTS = {
    "fault-refusal": "[double:sensitive]",
    "fault-network-error": "[double:network_error]",
    "fault-context-window": "[double:model_context_window_exceeded]",
}
EXTRA_SCENARIOS = [
    _scenario("default-max-tokens", "Say hi in Portuguese"),
    *(_scenario(name, f"Say hi in Portuguese {marker}") for name, marker in FAULTS.items()),
    *(_scenario(f"{name}-stream", f"Say hi in Portuguese {marker}", True) for name, marker in FAULTS.items()),
    _scenario("fault-1302", "Say hi in Portuguese [double:1302]"),
    _scenario("blocked", "Say hi in Portuguese"),
]
EXTRA = tuple(scenario["id"] for scenario in EXTRA_SCENARIOS)

GUIDE_REFUSAL = (
    "refused by the client before sending: UnsupportedParamsError HTTP 400: litellm.UnsupportedParamsError: "
    "anthropic does not support parameters: ['reasoning_effort'], for model={model}. To drop these, set "
    "`litellm.drop_params=True` or for proxy: `litellm_settings: drop_params: true` . If you want to use these "
    "params dynamically send allowed_openai_params=['reasoning_effort'] in your request."
)
THINKING_CHANGED = (
    "turn {turn}: thinking.budget_tokens 4096 is not below max_tokens 4096, as Anthropic's contract requires"
)
REASONING_EFFORT_ADDED = (
    'turn {turn}: the path added reasoning_effort="high", which Z.AI\'s documented request does not have; '
    "Z.AI answered it with 200 in measured notes of 2026-09-28, ZAI-FACTS §3.2"
)
# Without max_tokens, LiteLLM's `anthropic/` fills in the model's maximum output from its cost map, and for
# a model the map does not know (the guide registers none) DEFAULT_ANTHROPIC_CHAT_MAX_TOKENS: 4096 up to
# 1.108, 128000 from 1.109 (measured: 1.108.7 sends 4096, 1.109.3 sends 128000).
GUIDE_DEFAULT_MAX_TOKENS = 4096 if before("litellm", "1.109") else 128000
GUIDE_DEFAULT_CHANGED = (
    []
    if GUIDE_DEFAULT_MAX_TOKENS == 4096
    else [f"turn 1: the path changed max_tokens: 4096 → {GUIDE_DEFAULT_MAX_TOKENS}"]
)


@dataclass
class Runs:
    catalogue: Catalogue
    live: dict[str, CellResult]
    replay: dict[str, CellResult]

    def cell(self, path: str, scenario: str, model: str = MODEL) -> CellResult:
        return self.live[f"anthropic/{model}/{path}/{scenario}"]


def _catalogue(root: Path) -> Catalogue:
    data = yaml.safe_load(DEFAULT_CATALOGUE.read_text())
    data.pop("conversations")  # recorded conversations are OpenAI-protocol cells: none of this module's
    data["scenarios"] = [s for s in data["scenarios"] if s["id"] not in EXTRA] + EXTRA_SCENARIOS
    target = root / "catalogue.yaml"
    target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return load_catalogue(target)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Every cell of the three paths for glm-4.7 (and the thinking cells for glm-4.6, whose 2025-style
    reasoning opens with a line break), recorded live against the double, then replayed without it."""
    root = tmp_path_factory.mktemp("anthropic-paths")
    catalogue = _catalogue(root)
    cells = [catalogue.cell(f"anthropic/{MODEL}/{p}/{s}") for p in PATHS for s in SCENARIOS + EXTRA]
    cells += [catalogue.cell(f"anthropic/glm-4.6/{p}/{s}") for p in PATHS for s in ("thinking", "thinking-stream")]
    live: dict[str, CellResult] = {}
    with running() as double:
        base_urls = double.base_urls
        for key in (KEY, PAYG_KEY):
            settings = RunSettings(mode="live", cassette_root=root, base_urls=base_urls, api_key=key)
            runner = CellRunner(catalogue, settings)
            live |= {c.id: runner.run(c) for c in cells if (c.scenario.id == "blocked") == (key == PAYG_KEY)}
    replayer = CellRunner(catalogue, RunSettings(mode="replay", cassette_root=root, base_urls=base_urls))
    replay = {cell.id: replayer.run(cell) for cell in cells}
    return Runs(catalogue, live, replay)


# --- verdicts ------------------------------------------------------------------------------------


def expected(catalogue: Catalogue, path: str, scenario_id: str, model: str = MODEL) -> tuple[Verdict, list[str]]:
    if path == SDK:
        return Verdict.PASS, []
    if path == GUIDE and scenario_id.startswith("thinking"):
        return Verdict.UNSUPPORTED, [GUIDE_REFUSAL.format(model=model)]
    why = []
    if path == LITELLM and scenario_id.startswith("thinking"):
        for turn in range(1, catalogue.scenario(scenario_id).turns + 1):
            why += [THINKING_CHANGED.format(turn=turn), REASONING_EFFORT_ADDED.format(turn=turn)]
    return (Verdict.DEVIATION if why else Verdict.PASS), why


@pytest.mark.parametrize("path", [GUIDE, LITELLM])
def test_system_as_text_blocks_is_reported_not_held_against_litellm(runs: Runs, path: str) -> None:
    findings = runs.cell(path, "chat").findings
    assert ("request_params", "the path sends system as a list of text blocks") in [
        (f.check, f.message) for f in findings if f.severity.value == "info"
    ]


@pytest.mark.parametrize("path", [SDK, GUIDE, LITELLM])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_scenario_gets_its_verdict_for_its_reasons(runs: Runs, path: str, scenario: str) -> None:
    result = runs.cell(path, scenario)
    assert (result.verdict, result.reasons) == expected(runs.catalogue, path, scenario)


@pytest.mark.parametrize("path", [SDK, GUIDE, LITELLM])
@pytest.mark.parametrize("scenario", ["thinking", "thinking-stream"])
def test_reasoning_is_kept_as_the_wire_sent_it(runs: Runs, path: str, scenario: str) -> None:
    """Every character of the thinking Z.AI sent reaches the user, leading whitespace included (2025's
    glm-4.6 opened its reasoning with a line break; the newest era does not — either way it is kept)."""
    result = runs.cell(path, scenario, model="glm-4.6")
    assert (result.verdict, result.reasons) == expected(runs.catalogue, path, scenario, model="glm-4.6")
    if result.verdict is not Verdict.UNSUPPORTED:
        exchanges = [e for e in result.observation.exchanges if e.outcome != "refused"]
        for turn, exchange in zip(result.observation.turns, exchanges, strict=True):
            assert turn.reasoning and turn.reasoning == _wire(exchange).reasoning


def test_replay_gives_the_same_verdicts_from_the_recordings_alone(runs: Runs) -> None:
    assert runs.replay.keys() == runs.live.keys()
    for cell, live in runs.live.items():
        replayed = runs.replay[cell]
        assert (replayed.verdict, replayed.reasons) == (live.verdict, live.reasons), cell
        assert replayed.evidence["kind"] == "live" and replayed.evidence["cassette"]
        sent = [e.outcome for e in replayed.observation.exchanges]
        assert sent == ["replayed"] * len(live.observation.exchanges), cell  # nothing refused is ever sent


# --- what each path exposes ----------------------------------------------------------------------


def _wire(exchange: Exchange) -> Any:
    return read_answer(exchange.status, exchange.response_body, exchange.response_headers, exchange.url)


def _sent(exchange: Exchange) -> dict[str, Any]:
    return json.loads(exchange.request_body)


def _headers(exchange: Exchange) -> dict[str, str]:
    return {name.lower(): " ".join(values) for name, values in exchange.request_headers.items()}


def _returned_thinking(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        block
        for message in body["messages"]
        if message["role"] == "assistant" and isinstance(message["content"], list)
        for block in message["content"]
        if block.get("type") == "thinking"
    ]


@pytest.mark.parametrize(
    ("path", "scenario", "where", "finish"),
    [
        (SDK, "thinking", "thinking content blocks", ["tool_use", "end_turn"]),
        (SDK, "thinking-stream", "thinking_delta events (content_block_delta)", ["tool_use", "end_turn"]),
        (LITELLM, "thinking", "message.reasoning_content", ["tool_calls", "stop"]),
        (LITELLM, "thinking-stream", "delta.reasoning_content", ["tool_calls", "stop"]),
    ],
)
def test_thinking_surfaces_keeps_its_signature_and_goes_back_to_zai(
    runs: Runs, path: str, scenario: str, where: str, finish: list[str]
) -> None:
    result = runs.cell(path, scenario)
    turns, exchanges = result.observation.turns, result.observation.exchanges
    assert [turn.finish_reason for turn in turns] == finish  # Anthropic's as sent; LiteLLM's translated
    for turn, exchange in zip(turns, exchanges, strict=True):
        wire = _wire(exchange)
        assert turn.reasoning == wire.reasoning and turn.reasoning_field == where
        assert turn.signatures == wire.signatures and len(wire.signatures) == 1
    if path == LITELLM:  # also as `thinking_blocks`, and the chunk builder keeps the streamed signature
        assert [turn.thinking_blocks for turn in turns] == [1, 1]
        if scenario.endswith("-stream"):
            assert [t.built.signatures for t in turns] == [t.signatures for t in turns]
    first_answer = _wire(exchanges[0])
    returned = _returned_thinking(_sent(exchanges[1]))
    assert returned == [
        {"type": "thinking", "thinking": first_answer.reasoning, "signature": first_answer.signatures[0]}
    ]
    checks = {f.check: f.message for f in result.findings if f.turn == 1 and f.side == "request"}
    assert checks["history_thinking"] == "1 thinking block(s) sent back with their signatures"


def test_the_sdk_authenticates_with_bearer_and_sends_the_scenario_as_rendered(runs: Runs) -> None:
    exchange = runs.cell(SDK, "thinking").observation.exchanges[0]
    headers = _headers(exchange)
    assert headers["authorization"] == f"Bearer {KEY}" and "x-api-key" not in headers  # SDK 2.x: api_key → Bearer
    body = _sent(exchange)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048} and body["max_tokens"] == 4096
    assert body["system"] == "You are a helpful assistant"


def test_litellm_authenticates_with_x_api_key_and_rewrites_the_request(runs: Runs) -> None:
    exchange = runs.cell(LITELLM, "thinking").observation.exchanges[0]
    headers = _headers(exchange)
    assert headers["x-api-key"] == KEY and "authorization" not in headers
    body = _sent(exchange)
    # reasoning_effort "high" becomes a 4096-token budget — not below max_tokens, which Anthropic requires —
    # and, being an allowed_openai_param, is also forwarded as it is.
    assert (body["thinking"], body["max_tokens"], body["reasoning_effort"]) == (
        {"type": "enabled", "budget_tokens": 4096},
        4096,
        "high",
    )
    assert body["system"] == [{"type": "text", "text": "You are a helpful assistant"}]
    assert [tool.get("type") for tool in body["tools"]] == ["custom"]  # added; no request check sees it


@pytest.mark.parametrize("scenario", ["thinking", "thinking-stream"])
def test_the_guide_refuses_reasoning_before_sending_anything(runs: Runs, scenario: str) -> None:
    result = runs.cell(GUIDE, scenario)
    assert result.observation.exchanges == []
    error = result.observation.turns[0].error
    assert error.exception == "litellm.exceptions.UnsupportedParamsError"


@pytest.mark.parametrize("path", [SDK, GUIDE, LITELLM])
def test_without_max_tokens_each_path_sends_its_default(runs: Runs, path: str) -> None:
    """The SDK sends the Anthropic rendering's 4096; the working path passes 4096 itself; the guide's
    LiteLLM falls back to DEFAULT_ANTHROPIC_CHAT_MAX_TOKENS for a model it does not know — 4096 up to
    1.108, and from 1.109 128000, which is reported as a change of the intended 4096."""
    result = runs.cell(path, "default-max-tokens")
    if path == GUIDE:
        sent, reasons = GUIDE_DEFAULT_MAX_TOKENS, GUIDE_DEFAULT_CHANGED
    else:
        sent, reasons = 4096, []
    assert _sent(result.observation.exchanges[0])["max_tokens"] == sent
    assert (result.verdict, result.reasons) == (Verdict.DEVIATION if reasons else Verdict.PASS, reasons)


@pytest.mark.parametrize("path", [SDK, GUIDE, LITELLM])
@pytest.mark.parametrize("scenario", ["tool", "tool-stream"])
def test_usage_counts_cache_reads_in_the_prompt(runs: Runs, path: str, scenario: str) -> None:
    """Z.AI's input_tokens exclude cache reads; every path exposes prompt = input + cache reads."""
    result = runs.cell(path, scenario)
    turn, exchange = result.observation.turns[1], result.observation.exchanges[1]
    body = exchange.response_body
    if scenario.endswith("-stream"):
        delta = next(line for line in body.splitlines() if '"message_delta"' in line)
        usage = json.loads(delta.removeprefix("data: "))["usage"]
    else:
        usage = json.loads(body)["usage"]
    assert usage["cache_read_input_tokens"] > 0
    assert turn.usage.prompt_tokens == usage["input_tokens"] + usage["cache_read_input_tokens"]
    assert turn.usage.cached_tokens == usage["cache_read_input_tokens"]
    assert turn.usage.total_tokens == turn.usage.prompt_tokens + usage["output_tokens"]


def test_the_sdk_stream_is_read_event_by_event(runs: Runs) -> None:
    result = runs.cell(SDK, "tool-stream")
    turn = result.observation.turns[0]
    events, facts = turn.extras["events"], turn.stream
    assert events[0] == "message_start" and events[-2:] == ["message_delta", "message_stop"]
    assert "ping" not in events and "event: ping" in result.observation.exchanges[0].response_body  # SDK skips it
    assert facts.finish_chunk == facts.usage_chunk == facts.chunks - 2  # both on message_delta
    assert facts.order == ["content", "tool_call", "finish", "usage"]
    assert turn.finish_reason == "tool_use" and turn.extras["stop_sequence"] is None


def test_litellm_streams_usage_in_its_own_chunk_after_the_finish(runs: Runs) -> None:
    turn = runs.cell(LITELLM, "tool-stream").observation.turns[0]
    facts = turn.stream
    assert facts.finish_chunk == facts.chunks - 2 and facts.usage_chunk == facts.chunks - 1
    assert facts.order == ["content", "tool_call", "finish", "usage"]


# --- stop reasons and errors ---------------------------------------------------------------------

LITELLM_FINISH = {
    "fault-refusal": ("content_filter", "refusal"),
    "fault-network-error": ("stop", "network_error"),
    # LiteLLM's finish-reason map: up to 1.108 it has no entry and the reason becomes `stop`; from 1.109
    # it maps it to `length` (measured: 1.108.7 exposes stop, 1.109.3 length)
    "fault-context-window": (
        "stop" if before("litellm", "1.109") else "length",
        "model_context_window_exceeded",
    ),
}


@pytest.mark.parametrize("stream", ["", "-stream"])
@pytest.mark.parametrize("fault", list(FAULTS))
def test_stop_reasons_the_anthropic_contract_lacks(runs: Runs, fault: str, stream: str) -> None:
    """The SDK passes Z.AI's stop reason through as sent. LiteLLM translates: `refusal` becomes
    `content_filter` (the same meaning: PASS), while `network_error` becomes `stop` and
    `model_context_window_exceeded` `stop` (up to 1.108) or `length` (from 1.109) — neither says the
    context window was exceeded (FAIL). These scenarios send no max_tokens: the guide's path also
    reports its default where it is not the intended 4096 (see the test above)."""
    sdk = runs.cell(SDK, fault + stream)
    assert sdk.verdict is Verdict.PASS, sdk.reasons
    assert sdk.observation.turns[0].finish_reason == LITELLM_FINISH[fault][1]
    exposed, sent = LITELLM_FINISH[fault]
    for path in (GUIDE, LITELLM):
        result = runs.cell(path, fault + stream)
        assert result.observation.turns[0].finish_reason == exposed
        lost = (
            []
            if fault == "fault-refusal"
            else [f"turn 1: the path exposes finish_reason {exposed!r}; Z.AI sent {sent!r}"]
        )
        reasons = lost + (GUIDE_DEFAULT_CHANGED if path == GUIDE else [])
        verdict = Verdict.FAIL if lost else Verdict.DEVIATION if reasons else Verdict.PASS
        assert (result.verdict, result.reasons) == (verdict, reasons), path


@pytest.mark.parametrize(
    ("path", "exception"),
    [
        (SDK, "RateLimitError HTTP 429 code 1302: Error code: 429 - {'type': 'error', 'error': {'type': "),
        (GUIDE, 'RateLimitError HTTP 429 code 1302: litellm.RateLimitError: AnthropicException - {"type":"error",'),
        (LITELLM, 'RateLimitError HTTP 429 code 1302: litellm.RateLimitError: AnthropicException - {"type":"error",'),
    ],
)
def test_a_concurrency_error_is_transient_with_its_code(runs: Runs, path: str, exception: str) -> None:
    result = runs.cell(path, "fault-1302")
    assert result.verdict is Verdict.TRANSIENT
    assert result.reasons[0].startswith(exception) and result.reasons[0].endswith("— high concurrency"), result.reasons
    assert "[1302][High concurrency usage of this API" in result.reasons[0]


@pytest.mark.parametrize("path", [SDK, GUIDE, LITELLM])
def test_a_key_of_the_other_plan_is_blocked_with_1113(runs: Runs, path: str) -> None:
    result = runs.cell(path, "blocked")
    assert result.verdict is Verdict.BLOCKED
    error = result.observation.turns[0].error
    assert (error.status, error.code) == (429, "1113")
    assert result.reasons[0].endswith("— insufficient balance, or a key used on the other plan's endpoint")
