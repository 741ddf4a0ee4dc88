"""Three client paths on Z.AI's OpenAI-protocol endpoints — LiteLLM's `openai/` provider with `api_base`,
LiteLLM configured as OpenHands configures it, and Z.AI's own SDK — run through the real runner:
live against the Z.AI double on loopback (recorded, then replayed), and replayed against the public
recordings of real Z.AI traffic. The tests assert each cell's verdict with its exact reasons, and what
the path did: what it put on the wire, what it exposed (reasoning, tool calls, finish reasons, usage,
stream shape) and what it sent back in the follow-up turn."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.catalogue import Catalogue, load_catalogue
from conformance.double.server import DoubleServer, running
from conformance.expectations import Expectations
from conformance.observation import Exchange, Turn
from conformance.paths.openhands import (
    OpenHandsLLMConfig,
    openhands_assistant_message,
    openhands_messages,
)
from conformance.paths.zai_sdk import render as zai_render
from conformance.results import CellResult
from conformance.runner import REPLAY_KEY, CellRunner, RunSettings
from conformance.scenario import openai_request
from conformance.verdict import Severity, Verdict
from tests.support.recorded import RECORDED_SCENARIOS
from tests.support.releases import before

ROOT = Path(__file__).resolve().parents[1]
KEY = "double-test-key"
# OpenHands passes its configured maximum output as max_completion_tokens. LiteLLM's zai/ provider up to
# 1.108 does not list it, and OpenHands' drop_params=True drops it without a word: no output limit reaches
# Z.AI. From 1.109 zai/ sends it as Z.AI's max_tokens. (Measured: 1.108.7 drops it, 1.109.3 sends it.)
ZAI_DROPS_MAX_COMPLETION_TOKENS = before("litellm", "1.109")

PATHS = ("litellm-openai", "openhands", "zai-sdk")  # their entries: the packaged catalogue's
SCENARIOS = RECORDED_SCENARIOS
# per scenario family: (finish_reason, tool calls) of each turn
TURNS = {
    "chat": [("stop", [])],
    "tool": [("tool_calls", ["weather"]), ("stop", [])],
    "parallel-tools": [("tool_calls", ["add", "multiply"]), ("stop", [])],
    "thinking": [("tool_calls", ["weather"]), ("stop", [])],
    "object-person": [("tool_calls", ["Person"])],
    "object-book": [("tool_calls", ["Book"])],
}
LIST_CONTENT = (
    "turn 2: messages[{index}] ({role}) content is a list of parts; GLM's chat template reads only string "
    "content there (BerriAI/litellm#25868)"
)
USAGE_ON_FINISH = re.compile(
    r"^turn \d: usage arrives on the finish_reason chunk \(chunk (\d+) of \1\); OpenAI's include_usage "
    r"contract sends it in a separate last chunk with empty choices$"
)


def family(scenario: str) -> str:
    return scenario.removesuffix("-stream")


def cells(endpoint: str, model: str, scenarios: tuple[str, ...] = SCENARIOS) -> list[str]:
    return [f"{endpoint}/{model}/{path}/{scenario}" for path in PATHS for scenario in scenarios]


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clients_catalogue() -> Catalogue:
    """The packaged catalogue: the tests drive the path entries that ship."""
    return load_catalogue()


@pytest.fixture(scope="module")
def double() -> Iterator[DoubleServer]:
    with running() as server:
        yield server


@pytest.fixture(scope="module")
def double_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("double-recordings")


LIVE_CELLS = cells("coding", "glm-4.5") + cells("general", "glm-4.7", ("chat", "chat-stream", "thinking-stream"))


@pytest.fixture(scope="module")
def live(clients_catalogue: Catalogue, double: DoubleServer, double_root: Path) -> dict[str, CellResult]:
    """Every cell run live against the double, recorded under `double_root`."""
    settings = RunSettings(mode="live", cassette_root=double_root, base_urls=double.base_urls, api_key=KEY)
    runner = CellRunner(clients_catalogue, settings)
    return {cell: runner.run(clients_catalogue.cell(cell)) for cell in LIVE_CELLS}


@pytest.fixture(scope="module")
def replayed(clients_catalogue: Catalogue, live: dict[str, CellResult], double_root: Path) -> dict[str, CellResult]:
    """The same cells replayed from what the live run recorded."""
    runner = CellRunner(clients_catalogue, RunSettings(mode="replay", cassette_root=double_root))
    return {cell: runner.run(clients_catalogue.cell(cell)) for cell in live}


PUBLIC_CELLS = (
    cells("coding", "glm-4.5")
    + cells("coding", "glm-4.7-flash", ("chat", "thinking", "thinking-stream"))
    + cells("general", "glm-4.6v", ("thinking", "parallel-tools-stream"))
    + cells("coding", "glm-4.6", ("tool",))
)


@pytest.fixture(scope="module")
def public(clients_catalogue: Catalogue) -> dict[str, CellResult]:
    """Cells replayed against the shipped public recordings: real Z.AI bytes."""
    runner = CellRunner(clients_catalogue, RunSettings(mode="replay", cassette_root=ROOT / "cassettes"))
    return {cell: runner.run(clients_catalogue.cell(cell)) for cell in PUBLIC_CELLS}


# --- helpers -------------------------------------------------------------------------------------


def turns(result: CellResult) -> list[Turn]:
    assert result.observation is not None, result.reasons
    return result.observation.turns


def exchange(result: CellResult, turn: int) -> Exchange:
    assert result.observation is not None, result.reasons
    return result.observation.exchanges[turn]


def sent(result: CellResult, turn: int = 0) -> dict[str, Any]:
    return json.loads(exchange(result, turn).request_body or "")


def headers(result: CellResult, turn: int = 0) -> dict[str, str]:
    return {name.lower(): values[0] for name, values in exchange(result, turn).request_headers.items()}


def messages_of(result: CellResult, check: str, severity: Severity | None = None) -> list[str]:
    return [f.message for f in result.findings if f.check == check and (severity is None or f.severity is severity)]


def expected_reasons(path: str, scenario: str) -> set[str] | None:
    """The exact reasons a cell's verdict carries (None: judged by pattern, see below)."""
    name = family(scenario)
    count = len(TURNS[name])
    if path == "litellm-openai":
        return set()
    if path == "zai-sdk":
        return set() if not scenario.endswith("-stream") else None
    reasons = set()
    for turn in range(1, count + 1):
        if ZAI_DROPS_MAX_COMPLETION_TOKENS:
            reasons.add(f"turn {turn}: the path dropped max_tokens=4096")
        if name == "thinking":
            reasons.add(f'turn {turn}: the path dropped reasoning_effort="high"')
    if count == 2:
        reasons.add(LIST_CONTENT.format(index=2, role="assistant"))
        for index in range(3, 3 + len(TURNS[name][0][1])):
            reasons.add(LIST_CONTENT.format(index=index, role="tool"))
    return reasons


def assert_verdict(result: CellResult) -> None:
    """Exactly the reasons this client release gives, and the verdict the expectations give the cell
    under the installed clients (compared last: a verdict the expectations do not know yet fails alone)."""
    path, scenario = result.path, result.scenario
    reasons = expected_reasons(path, scenario)
    if reasons is not None:
        assert set(result.reasons) == reasons, result.cell
    else:  # zai-sdk streams: usage on the finish chunk, which is the last one, on every turn
        assert len(result.reasons) == len(TURNS[family(scenario)])
        assert all(USAGE_ON_FINISH.match(reason) for reason in result.reasons), result.reasons
    assert result.verdict is (Verdict.DEVIATION if result.reasons else Verdict.PASS), result.cell
    expected = Expectations.load().for_cell(result.cell)
    assert result.verdict is expected.verdict, (result.cell, result.reasons, expected)


def assert_answers(result: CellResult) -> None:
    """What every path exposed: finish reasons, tool calls with valid arguments, reasoning, usage."""
    observed = turns(result)
    expected = TURNS[family(result.scenario)]
    assert len(observed) == len(expected), result.cell
    for turn, (finish, calls) in zip(observed, expected, strict=True):
        assert turn.error is None
        assert turn.finish_reason == finish, result.cell
        assert [call.name for call in turn.tool_calls] == calls, result.cell
        assert all(call.parse_error is None and isinstance(call.arguments, dict) for call in turn.tool_calls)
        assert turn.reasoning, f"{result.cell}: Z.AI thinks by default; the path must expose it"
        assert turn.usage is not None and turn.usage.total_tokens == turn.usage.prompt_tokens + (
            turn.usage.completion_tokens or 0
        )
        if calls == [] and finish == "stop":
            assert (turn.text or "").strip()
    # the checks compared reasoning with Z.AI's bytes and found it identical, in the named field
    surfaced = messages_of(result, "reasoning", Severity.INFO)
    assert len(surfaced) == len(expected) and all("surfaced as" in m for m in surfaced), result.cell


# --- unit: the configurations ----------------------------------------------------------------------


def test_openhands_configuration_is_built_from_its_llm_variables(clients_catalogue: Catalogue) -> None:
    settings = clients_catalogue.path("openhands").options["openhands"]  # the entry's LLM_* settings
    environment = {"LLM_MODEL": "glm-4.6", "LLM_API_KEY": "k", "LLM_BASE_URL": "https://x/v4", **settings}
    config = OpenHandsLLMConfig.from_environment(environment)
    assert config.function_calling_active
    assert config.completion_partial() == {
        "model": "glm-4.6",
        "api_key": "k",
        "base_url": "https://x/v4",
        "api_version": None,
        "custom_llm_provider": "zai",
        "timeout": None,
        "drop_params": True,
        "seed": None,
        "temperature": 0.6,
        "max_completion_tokens": 4096,
        "top_p": 1.0,
    }
    defaults = OpenHandsLLMConfig.from_environment({"LLM_MODEL": "glm-4.6"})
    assert (defaults.temperature, defaults.top_p, defaults.max_output_tokens) == (0.0, 1.0, 4096)
    assert not defaults.function_calling_active  # no GLM pattern in OpenHands' model_features


def test_openhands_serialises_messages_with_list_content_and_named_tool_results() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"location":"x"}'}}
    assistant = openhands_assistant_message({"content": "\n\n", "tool_calls": [call], "reasoning_content": "hm"})
    assert assistant == {"content": [], "role": "assistant", "tool_calls": [call]}
    history = openhands_messages(
        [
            {"role": "system", "content": "sys"},
            {"role": "user", "content": "hi"},
            assistant,
            {"role": "tool", "tool_call_id": "call_1", "content": "40 C"},
        ]
    )
    assert history == [
        {"content": [{"type": "text", "text": "sys"}], "role": "system"},
        {"content": [{"type": "text", "text": "hi"}], "role": "user"},
        {"content": [], "role": "assistant", "tool_calls": [call]},
        {"content": [{"type": "text", "text": "40 C"}], "role": "tool", "tool_call_id": "call_1", "name": "weather"},
    ]
    spoken = openhands_assistant_message({"content": "Olá!", "tool_calls": None})
    assert spoken == {"content": [{"type": "text", "text": "Olá!"}], "role": "assistant"}


def test_openhands_intent_is_the_scenario_with_its_configured_sampling_and_output() -> None:
    from conformance.paths.base import Target, build_path

    catalogue = load_catalogue()
    target = Target(base_url="http://127.0.0.1:9/api/coding/paas/v4", api_key="k", idle_timeout=5)
    path = build_path(catalogue.path("openhands"), target, catalogue=catalogue)
    body = {"model": "glm-4.6", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4000}
    assert path.intended(body) == {**body, "max_tokens": 4096, "temperature": 0.6}
    kwargs = path.kwargs({**body, "stream": True, "reasoning_effort": "high"})
    assert kwargs["messages"] == [{"content": [{"type": "text", "text": "hi"}], "role": "user"}]
    assert (kwargs["max_completion_tokens"], kwargs["temperature"], kwargs["top_p"]) == (4096, 0.6, 1.0)
    assert "max_tokens" not in kwargs  # the configured maximum replaces the scenario's
    assert (kwargs["stream"], kwargs["reasoning_effort"], kwargs["custom_llm_provider"]) == (True, "high", "zai")
    assert (kwargs["timeout"], kwargs["num_retries"], kwargs["max_retries"]) == (5, 0, 0)


def test_zai_sdk_takes_its_declared_parameters_as_keywords_and_the_rest_in_extra_body() -> None:
    body = {
        "model": "glm-4.5",
        "messages": [],
        "tools": [],
        "tool_choice": "auto",
        "stream": True,
        "max_tokens": 4000,
        "reasoning_effort": "high",
        "thinking": {"type": "enabled"},
        "stream_options": {"include_usage": True},
    }
    kwargs = zai_render(body)
    assert kwargs.pop("extra_body") == {"stream_options": {"include_usage": True}}
    assert kwargs == {key: value for key, value in body.items() if key != "stream_options"}


# --- live against the double, then replayed --------------------------------------------------------


@pytest.mark.parametrize("cell", LIVE_CELLS)
def test_live_against_the_double(live: dict[str, CellResult], cell: str) -> None:
    result = live[cell]
    assert_answers(result)
    assert [e.outcome for e in result.observation.exchanges] == ["recorded"] * len(turns(result))
    assert result.evidence["kind"] == "live" and result.evidence["provenance"]["target_is_zai"] is False
    assert_verdict(result)


@pytest.mark.parametrize("cell", LIVE_CELLS)
def test_replaying_the_double_recordings_gives_the_same_verdicts(
    live: dict[str, CellResult], replayed: dict[str, CellResult], cell: str
) -> None:
    again = replayed[cell]
    assert [e.outcome for e in again.observation.exchanges] == ["replayed"] * len(turns(live[cell]))
    assert (again.verdict, again.reasons) == (live[cell].verdict, live[cell].reasons)


def test_litellm_openai_sends_the_scenario_as_it_is(live: dict[str, CellResult], clients_catalogue: Catalogue) -> None:
    for scenario in SCENARIOS:
        result = live[f"coding/glm-4.5/litellm-openai/{scenario}"]
        intended = openai_request(clients_catalogue, clients_catalogue.scenario(scenario), "glm-4.5")
        body = sent(result)
        # no `openai/` prefix on the wire, nothing added or dropped; reasoning_effort reaches Z.AI
        assert body["model"] == "glm-4.5"
        assert set(body) == set(intended)
        assert {key: body[key] for key in intended if key != "messages"} == {
            key: value for key, value in intended.items() if key != "messages"
        }
        assert headers(result)["authorization"] == f"Bearer {KEY}"
        assert headers(result)["user-agent"].startswith("OpenAI/Python")
    assert sent(live["coding/glm-4.5/litellm-openai/thinking"])["reasoning_effort"] == "high"


def test_litellm_openai_exposes_the_model_as_sent_and_reemits_usage_after_the_finish_chunk(
    live: dict[str, CellResult],
) -> None:
    plain = turns(live["coding/glm-4.5/litellm-openai/chat"])[0]
    assert plain.envelope.model == "glm-4.5"  # unlike zai/, which reports "zai/glm-4.5"
    assert plain.reasoning_field == "message.reasoning_content"
    streamed = turns(live["coding/glm-4.5/litellm-openai/chat-stream"])[0]
    facts = streamed.stream
    assert facts.finish_chunk == facts.chunks - 2 and facts.usage_chunk == facts.chunks - 1
    assert streamed.reasoning_field == "delta.reasoning_content"


def test_litellm_openai_echoes_litellm_extras_in_the_follow_up(live: dict[str, CellResult]) -> None:
    assistant = sent(live["coding/glm-4.5/litellm-openai/tool"], 1)["messages"][2]
    assert "reasoning_content" in assistant and "index" in assistant["tool_calls"][0]
    if before("litellm", "1.108"):
        # LiteLLM 1.106's message object carries provider_specific_fields ({"refusal": null}), and the
        # documented idiom (append the returned message) sends it back to Z.AI
        assert assistant["provider_specific_fields"] == {"refusal": None}
    else:
        # from 1.108 (measured: 1.108.0, and 1.110.2 with openai 2.x or 3.x) the message has none to echo
        assert "provider_specific_fields" not in assistant
    streamed = sent(live["coding/glm-4.5/litellm-openai/tool-stream"], 1)["messages"][2]
    assert "reasoning_content" in streamed and "provider_specific_fields" not in streamed


def test_openhands_puts_its_configuration_on_the_wire(live: dict[str, CellResult]) -> None:
    for scenario in SCENARIOS:
        result = live[f"coding/glm-4.5/openhands/{scenario}"]
        for turn in range(len(turns(result))):
            body = sent(result, turn)
            assert body["model"] == "glm-4.5"  # LLM_MODEL=glm-4.5 with custom_llm_provider=zai
            assert (body["temperature"], body["top_p"]) == (0.6, 1.0)
            # OpenHands passes max_completion_tokens (its configured 4096, not the scenario's maximum)
            if ZAI_DROPS_MAX_COMPLETION_TOKENS:  # zai/ up to 1.108: no output limit reaches Z.AI at all
                assert "max_tokens" not in body and "max_completion_tokens" not in body
            else:  # zai/ from 1.109: the configured maximum, as Z.AI's max_tokens
                assert body["max_tokens"] == 4096 and "max_completion_tokens" not in body
            assert "reasoning_effort" not in body  # dropped silently as well (zai/ does not support it)
            assert ("stream_options" in body) is scenario.endswith("-stream")
            assert all(isinstance(m["content"], list) for m in body["messages"])
        assert messages_of(result, "request_params", Severity.INFO) == ["the path added top_p=1.0"] * len(turns(result))


def test_openhands_rebuilds_the_assistant_turn_its_own_way(live: dict[str, CellResult]) -> None:
    for scenario in ("tool", "tool-stream", "parallel-tools", "thinking"):
        history = sent(live[f"coding/glm-4.5/openhands/{scenario}"], 1)["messages"]
        assistant, results = history[2], history[3:]
        assert "reasoning_content" not in assistant  # OpenHands' Message has no place for it
        assert all(set(call) == {"id", "type", "function"} for call in assistant["tool_calls"])
        names = [call["function"]["name"] for call in assistant["tool_calls"]]
        assert [(m["role"], m["name"]) for m in results] == [("tool", name) for name in names]
        assert all(m["content"] == [{"type": "text", "text": m["content"][0]["text"]}] for m in results)


def test_openhands_reports_the_provider_prefixed_model(live: dict[str, CellResult]) -> None:
    assert turns(live["coding/glm-4.5/openhands/chat"])[0].envelope.model == "zai/glm-4.5"


def test_openhands_sets_litellm_modify_params_for_its_calls_only(
    clients_catalogue: Catalogue, double: DoubleServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import litellm

    during: list[bool] = []
    completion = litellm.completion

    def spy(*args: Any, **kwargs: Any) -> Any:
        during.append(litellm.modify_params)
        return completion(*args, **kwargs)

    monkeypatch.setattr(litellm, "completion", spy)
    monkeypatch.setattr(litellm, "modify_params", False)
    settings = RunSettings(mode="live", cassette_root=tmp_path, base_urls=double.base_urls, api_key=KEY)
    result = CellRunner(clients_catalogue, settings).run(clients_catalogue.cell("coding/glm-4.5/openhands/tool"))
    assert result.verdict is Verdict.DEVIATION
    assert during == [True, True]  # OpenHands' config default, set before each call
    assert litellm.modify_params is False  # and the process-wide setting restored after it


def test_openhands_intends_its_configured_temperature_and_maximum_output(live: dict[str, CellResult]) -> None:
    result = live["coding/glm-4.5/openhands/chat"]
    changed = messages_of(result, "request_params", Severity.DEVIATION)
    # intended max_tokens is 4096 (not the scenario's 4000) and temperature 0.6 is not reported as added
    if ZAI_DROPS_MAX_COMPLETION_TOKENS:  # zai/ up to 1.108 drops it: reported against the intended 4096
        assert changed == ["the path dropped max_tokens=4096"]
    else:  # from 1.109 the wire has 4096: as intended (the scenario's 4000 would be "changed 4000 → 4096")
        assert sent(result)["max_tokens"] == 4096 and changed == []
    assert not any("temperature" in m for m in messages_of(result, "request_params"))


def test_zai_sdk_adds_its_headers_and_null_fields(live: dict[str, CellResult]) -> None:
    import zai

    for scenario in SCENARIOS:
        result = live[f"coding/glm-4.5/zai-sdk/{scenario}"]
        sdk = headers(result)
        assert sdk["authorization"] == f"Bearer {KEY}"  # the raw key: no JWT (disable_token_cache=True)
        assert "sign_type" not in sdk
        assert sdk["accept-language"] == "en-US,en"
        assert sdk["x-source-channel"] == "python-sdk"
        assert sdk["zai-sdk-ver"] == zai.__version__
        assert sdk["x-request-sdk"] == sdk["source_type"] == "z-ai-sdk-python"
        body = sent(result)
        assert body["response_format"] is None and body["thinking"] is None
        assert ("stream_options" in body) is scenario.endswith("-stream")  # through extra_body
        assert sorted(messages_of(result, "request_params")) == sorted(
            ["the path added response_format=null", "the path added thinking=null"] * len(turns(result))
        )
    assert sent(live["coding/glm-4.5/zai-sdk/object-book"])["tool_choice"] == {
        "type": "function",
        "function": {"name": "Book"},
    }


def test_zai_sdk_exposes_declared_reasoning_and_passes_z_ai_stream_shape_through(live: dict[str, CellResult]) -> None:
    plain = turns(live["coding/glm-4.5/zai-sdk/chat"])[0]
    assert plain.reasoning_field == "message.reasoning_content (declared field)"
    assert plain.envelope.model == "glm-4.5"
    streamed = turns(live["coding/glm-4.5/zai-sdk/chat-stream"])[0]
    facts = streamed.stream
    assert facts.usage_chunk == facts.finish_chunk == facts.chunks - 1
    reasoned = turns(live["general/glm-4.7/zai-sdk/chat"])[0]
    assert reasoned.usage.reasoning_tokens is not None  # 2026 envelope: completion_tokens_details kept
    assert reasoned.envelope.object == "chat.completion"


def test_zai_sdk_appends_the_returned_message_object(live: dict[str, CellResult]) -> None:
    assistant = sent(live["coding/glm-4.5/zai-sdk/tool"], 1)["messages"][2]
    assert "reasoning_content" in assistant and "index" in assistant["tool_calls"][0]
    streamed = sent(live["coding/glm-4.5/zai-sdk/tool-stream"], 1)["messages"][2]
    assert set(streamed) == {"role", "content", "tool_calls"}


@pytest.mark.parametrize(
    ("key", "verdict", "status", "codes", "exceptions"),
    [
        (
            "double-coding-test-key",
            Verdict.BLOCKED,
            429,
            {"litellm-openai": "1113", "openhands": "1113", "zai-sdk": "1113"},
            {
                "litellm-openai": "litellm.exceptions.RateLimitError",
                "openhands": "litellm.exceptions.RateLimitError",
                "zai-sdk": "zai.core._errors.APIReachLimitError",
            },
        ),
        (
            # a refused key is the run's, not the cell's: the cell is skipped, saying so, with what was raised
            "invalid-test-key",
            Verdict.SKIPPED,
            401,
            # LiteLLM's message keeps Z.AI's text but not its code: it is read from the response it keeps
            {"litellm-openai": "1002", "openhands": "1002", "zai-sdk": "1002"},
            {
                "litellm-openai": "litellm.exceptions.AuthenticationError",
                "openhands": "litellm.exceptions.AuthenticationError",
                "zai-sdk": "zai.core._errors.APIAuthenticationError",
            },
        ),
    ],
)
def test_refusals_are_classified_per_path(
    clients_catalogue: Catalogue,
    double: DoubleServer,
    tmp_path: Path,
    key: str,
    verdict: Verdict,
    status: int,
    codes: dict[str, str | None],
    exceptions: dict[str, str],
) -> None:
    settings = RunSettings(mode="live", cassette_root=tmp_path, base_urls=double.base_urls, api_key=key)
    for path in PATHS:
        runner = CellRunner(clients_catalogue, settings)  # one run per path: a refused key ends a run's endpoint
        result = runner.run(clients_catalogue.cell(f"general/glm-4.5/{path}/chat"))
        assert result.verdict is verdict, (path, result.reasons)
        if verdict is Verdict.SKIPPED:
            assert "Z.AI refused the run's key on the general endpoint (HTTP 401, code 1002" in result.reasons[0]
        error = turns(result)[0].error
        assert (error.exception, error.status, error.code) == (exceptions[path], status, codes[path])
        assert key not in error.message


# --- real Z.AI bytes: the public recordings ------------------------------------------------------------


@pytest.mark.parametrize("cell", PUBLIC_CELLS)
def test_public_recordings(public: dict[str, CellResult], cell: str) -> None:
    result = public[cell]
    assert result.evidence["kind"] == "public" and result.evidence["used"] is True
    assert result.real
    assert_answers(result)
    assert_verdict(result)


def test_public_thinking_request_reaches_z_ai_through_openai_and_the_sdk_only(public: dict[str, CellResult]) -> None:
    """The recorded thinking request sends reasoning_effort: `openai/` and the SDK send it as recorded
    (zai/ refuses it before sending; OpenHands' drop_params loses it without a word)."""
    for model in ("coding/glm-4.5", "coding/glm-4.7-flash", "general/glm-4.6v"):
        for turn in (0, 1):
            assert sent(public[f"{model}/litellm-openai/thinking"], turn)["reasoning_effort"] == "high"
            assert sent(public[f"{model}/zai-sdk/thinking"], turn)["reasoning_effort"] == "high"
            assert "reasoning_effort" not in sent(public[f"{model}/openhands/thinking"], turn)


def test_public_glm_4_7_flash_reasoning_tokens_survive_every_path(public: dict[str, CellResult]) -> None:
    for path in PATHS:
        usage = turns(public[f"coding/glm-4.7-flash/{path}/chat"])[0].usage
        assert usage.reasoning_tokens and usage.reasoning_tokens <= usage.completion_tokens, path
        assert not messages_of(public[f"coding/glm-4.7-flash/{path}/chat"], "usage", Severity.DEVIATION)


def test_public_glm_4_6_tool_call_without_content_key(public: dict[str, CellResult]) -> None:
    """glm-4.6's recorded tool-call message has no `content` key: each path sends it back its own way."""
    back = {path: sent(public[f"coding/glm-4.6/{path}/tool"], 1)["messages"][2] for path in PATHS}
    assert back["openhands"]["content"] == []
    # the SDK's create() assigns message.content (to strip image-data prefixes), which marks it as set
    assert "content" in back["zai-sdk"] and back["zai-sdk"]["content"] is None
    assert "content" not in back["litellm-openai"]
    assert all(message["tool_calls"][0]["function"]["name"] == "weather" for message in back.values())


def test_public_streams_get_a_local_created_from_litellm_only(public: dict[str, CellResult]) -> None:
    """Z.AI's `created` of 2025 comes back restamped with the local clock from both LiteLLM paths."""
    for path in PATHS:
        identity = messages_of(public[f"coding/glm-4.5/{path}/chat-stream"], "identity")
        restamped = [m for m in identity if "the client restamped it" in m]
        assert bool(restamped) is (path != "zai-sdk"), (path, identity)


def test_replay_sends_the_placeholder_key_never_a_real_one(public: dict[str, CellResult]) -> None:
    for path in PATHS:
        assert headers(public[f"coding/glm-4.5/{path}/chat"])["authorization"] == f"Bearer {REPLAY_KEY}"
