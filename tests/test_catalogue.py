"""The catalogue: what it holds, the cells it implies, and how it refuses a broken file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.catalogue import Catalogue, CatalogueError, load_catalogue
from conformance.results import HARNESS_DISTRIBUTIONS, client_distributions, client_versions
from tests.conftest import PACKAGED_CONVERSATIONS

REQUIRED_MODELS = {
    "glm-5.3", "glm-5.2", "glm-5.1", "glm-5", "glm-4.7", "glm-4.7-flash", "glm-4.6", "glm-4.6v",
    "glm-4.6v-flash", "glm-4.5", "glm-4.5-air", "glm-4.5-flash",
}  # fmt: skip

NEW_MODEL = {
    "id": "glm-9",
    "thinking": "hybrid",
    "tools": True,
    "context_window": 128000,
    "max_output": 8192,
}


def _error(path) -> str:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    return str(caught.value)


def _index(entries: list[dict], entry_id: str) -> int:
    return next(i for i, entry in enumerate(entries) if entry["id"] == entry_id)


# --- small hand-written catalogues: each test states the cells it expects, literally -------------


def _endpoint(endpoint_id: str, protocol: str = "openai") -> dict[str, Any]:
    auth = "bearer" if protocol == "openai" else "x-api-key"
    return {
        "id": endpoint_id,
        "title": endpoint_id,
        "base_url": "https://z.invalid/v4",
        "protocol": protocol,
        "auth": auth,
    }


def _model(model_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": model_id, "thinking": "hybrid", "tools": True, "context_window": 1000, "max_output": 100, **fields}


def _path(path_id: str, *protocols: str, **fields: Any) -> dict[str, Any]:
    return {"id": path_id, "title": path_id, "adapter": "x.y:Z", "protocols": list(protocols or ["openai"]), **fields}


def _scenario(scenario_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": scenario_id,
        "title": scenario_id,
        "messages": [{"role": "user", "content": "Say hi"}],
        "expect": [{"finish_reason": "stop", "text": True}],
        **fields,
    }


def _small_file(tmp_path, endpoints=None, models=None, paths=None, scenarios=None) -> Path:
    """A catalogue of the entries given; by default one endpoint, model, path and scenario."""
    data = {
        "endpoints": endpoints or [_endpoint("general")],
        "models": models or [_model("m")],
        "paths": paths or [_path("oa")],
        "scenarios": scenarios or [_scenario("hello")],
    }
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _small(tmp_path, *args: Any, **kwargs: Any) -> Catalogue:
    return load_catalogue(_small_file(tmp_path, *args, **kwargs))


def _ids(catalogue: Catalogue, scenario: str | None = None) -> set[str]:
    return {cell.id for cell in catalogue.cells if scenario is None or cell.scenario.id == scenario}


# --- the packaged catalogue ---------------------------------------------------------------------


def test_packaged_catalogue_has_the_four_endpoints(catalogue: Catalogue):
    endpoints = {e.id: (e.base_url, e.protocol, e.auth) for e in catalogue.endpoints}
    assert endpoints == {
        "general": ("https://api.z.ai/api/paas/v4", "openai", "bearer"),
        "coding": ("https://api.z.ai/api/coding/paas/v4", "openai", "bearer"),
        "anthropic": ("https://api.z.ai/api/anthropic", "anthropic", "x-api-key"),
        "responses": ("https://api.z.ai/api/v1", "responses", "bearer"),
    }
    # the Responses API is documented for coding tools, said to behave with glm-5.3 only: its models alone
    responses = {c.model.id for c in catalogue.cells if c.endpoint.id == "responses"}
    assert responses == {"glm-5.3", "glm-5.3-flash"}


def test_packaged_catalogue_has_the_documented_models(catalogue: Catalogue):
    ids = [m.id for m in catalogue.models]
    assert set(ids) >= REQUIRED_MODELS, REQUIRED_MODELS - set(ids)
    assert len(ids) == len(set(ids))


def test_model_capabilities_come_from_the_entry(catalogue: Catalogue):
    assert catalogue.model("glm-5.3").capabilities == {"tools", "tool_stream", "thinking", "reasoning_effort"}
    assert catalogue.model("glm-4.6v").capabilities == {"tools", "thinking", "vision"}
    assert catalogue.model("glm-4.5").capabilities == {"tools", "thinking"}


def test_lookups_name_the_unknown_id_and_the_known_ones(catalogue: Catalogue):
    assert catalogue.scenario("tool").tool_results == {"weather": "40 C"}
    with pytest.raises(CatalogueError, match=r"unknown model 'glm-0'.*glm-4\.5"):
        catalogue.model("glm-0")
    with pytest.raises(CatalogueError, match="no cell 'coding/glm-0/openai-sdk/chat'"):
        catalogue.cell("coding/glm-0/openai-sdk/chat")
    cell = catalogue.cell("coding/glm-4.5/openai-sdk/tool")
    assert (cell.endpoint.id, cell.model.id, cell.path.id, cell.scenario.id) == (
        "coding",
        "glm-4.5",
        "openai-sdk",
        "tool",
    )


def test_cell_ids_are_unique(catalogue: Catalogue):
    ids = [cell.id for cell in catalogue.cells]
    assert len(ids) == len(set(ids))


def test_a_scenario_restricted_to_models_gets_cells_for_those_only(catalogue: Catalogue):
    restricted = catalogue.scenario("thinking-effort-high")
    assert restricted.models == ("glm-5.2", "glm-5.3")
    models = {cell.model.id for cell in catalogue.cells if cell.scenario.id == restricted.id}
    assert models == {"glm-5.2", "glm-5.3"}


def test_not_for_makes_skipped_cells_that_say_why(catalogue: Catalogue):
    cell = catalogue.cell("anthropic/glm-4.6/anthropic-sdk/thinking-preserved")
    assert cell.not_applicable and "signature" in cell.not_applicable
    assert catalogue.cell("general/glm-4.6/openai-sdk/thinking-preserved").not_applicable is None
    metadata = catalogue.cell("general/glm-4.6/openai-sdk/litellm-metadata")
    assert "litellm.completion" in (metadata.not_applicable or "")
    assert catalogue.cell("general/glm-4.6/litellm-zai/litellm-metadata").not_applicable is None


def test_cases_choose_the_expectation_per_endpoint_and_thinking_mode(catalogue: Catalogue):
    scenario = catalogue.scenario("thinking-disabled")
    general, coding = catalogue.endpoint("general"), catalogue.endpoint("coding")
    always, hybrid = catalogue.model("glm-5.3"), catalogue.model("glm-4.6")
    (refused,), why = scenario.expectations(general, always)
    assert refused.error is not None and refused.error.code == "1210" and "general" in (why or "")
    (ignored,), _ = scenario.expectations(coding, always)
    assert ignored.reasoning is True
    (obeyed,), why = scenario.expectations(general, hybrid)
    assert obeyed.reasoning is False and why is None


def test_packaged_paths_meet_only_endpoints_of_a_protocol_they_reach(catalogue: Catalogue):
    by_endpoint = Counter((cell.endpoint.id, cell.path.id) for cell in catalogue.cells)
    assert by_endpoint[("anthropic", "anthropic-sdk")] and not by_endpoint[("anthropic", "openai-sdk")]
    assert by_endpoint[("coding", "openai-sdk")] and not by_endpoint[("coding", "anthropic-sdk")]
    assert by_endpoint[("anthropic", "proxy-openai-sdk")] and by_endpoint[("coding", "proxy-openai-sdk")]


# --- which cells exist: small catalogues, expected cells written out -------------------------------


def test_a_path_meets_only_the_endpoints_of_a_protocol_it_reaches(tmp_path):
    catalogue = _small(
        tmp_path,
        endpoints=[_endpoint("general"), _endpoint("anthropic", "anthropic")],
        paths=[_path("oa", "openai"), _path("an", "anthropic"), _path("both", "openai", "anthropic")],
    )
    assert _ids(catalogue) == {
        "general/m/oa/hello",
        "general/m/both/hello",
        "anthropic/m/an/hello",
        "anthropic/m/both/hello",
    }


def test_a_model_limited_to_an_endpoint_has_cells_only_there(tmp_path):
    catalogue = _small(
        tmp_path,
        endpoints=[_endpoint("general"), _endpoint("coding")],
        models=[_model("m"), _model("only-coding", endpoints=["coding"])],
    )
    assert _ids(catalogue) == {"general/m/oa/hello", "coding/m/oa/hello", "coding/only-coding/oa/hello"}


def test_a_scenario_restricted_to_models_endpoints_or_paths_has_cells_only_there(tmp_path):
    catalogue = _small(
        tmp_path,
        endpoints=[_endpoint("general"), _endpoint("coding")],
        models=[_model("m"), _model("n")],
        paths=[_path("oa"), _path("ob"), _path("xa")],
        scenarios=[
            _scenario("by-model", models=["n"]),
            _scenario("by-endpoint", endpoints=["coding"]),
            _scenario("by-path", paths=["o*"]),
            _scenario("all-three", models=["m"], endpoints=["general"], paths=["o*"]),
        ],
    )
    assert _ids(catalogue, "by-model") == {
        "general/n/oa/by-model", "general/n/ob/by-model", "general/n/xa/by-model",
        "coding/n/oa/by-model", "coding/n/ob/by-model", "coding/n/xa/by-model",
    }  # fmt: skip
    assert _ids(catalogue, "by-endpoint") == {
        "coding/m/oa/by-endpoint", "coding/m/ob/by-endpoint", "coding/m/xa/by-endpoint",
        "coding/n/oa/by-endpoint", "coding/n/ob/by-endpoint", "coding/n/xa/by-endpoint",
    }  # fmt: skip
    assert _ids(catalogue, "by-path") == {
        "general/m/oa/by-path", "general/m/ob/by-path", "general/n/oa/by-path", "general/n/ob/by-path",
        "coding/m/oa/by-path", "coding/m/ob/by-path", "coding/n/oa/by-path", "coding/n/ob/by-path",
    }  # fmt: skip
    assert _ids(catalogue, "all-three") == {"general/m/oa/all-three", "general/m/ob/all-three"}


def test_a_path_restricted_to_its_scenarios_runs_only_those(tmp_path):
    catalogue = _small(
        tmp_path,
        paths=[_path("oa"), _path("recipe", scenarios=["recipe-only"])],
        scenarios=[_scenario("hello"), _scenario("recipe-only", paths=["recipe"])],
    )
    assert _ids(catalogue) == {"general/m/oa/hello", "general/m/recipe/recipe-only"}


def test_missing_capabilities_and_not_for_make_cells_that_cannot_run_and_say_why(tmp_path):
    catalogue = _small(
        tmp_path,
        models=[_model("m"), _model("plain", tools=False, thinking="none")],
        paths=[_path("oa"), _path("an", "openai", api="anthropic"), _path("lite")],
        scenarios=[
            _scenario("needs-tools", requires=["tools", "thinking"]),
            _scenario("no-anthropic", not_for=[{"api": "anthropic", "why": "no such field in the Messages API"}]),
            _scenario("no-lite", not_for=[{"paths": ["li*"], "why": "not that client"}]),
        ],
    )
    skipped = {cell.id: cell.not_applicable for cell in catalogue.cells if cell.not_applicable}
    assert skipped == {
        "general/plain/oa/needs-tools": "plain does not support tools, thinking (catalogue); scenario needs it",
        "general/plain/an/needs-tools": "plain does not support tools, thinking (catalogue); scenario needs it",
        "general/plain/lite/needs-tools": "plain does not support tools, thinking (catalogue); scenario needs it",
        "general/m/an/no-anthropic": "no such field in the Messages API",
        "general/plain/an/no-anthropic": "no such field in the Messages API",
        "general/m/lite/no-lite": "not that client",
        "general/plain/lite/no-lite": "not that client",
    }
    assert len(catalogue.cells) == 2 * 3 * 3  # a cell that cannot run is still a cell


def test_adding_one_model_adds_its_cells_on_every_endpoint_it_reaches(tmp_path):
    endpoints = [_endpoint("general"), _endpoint("anthropic", "anthropic")]
    paths = [_path("oa"), _path("an", "anthropic")]
    scenarios = [_scenario("wide"), _scenario("m-only", models=["m"])]
    before = _ids(_small(tmp_path, endpoints, [_model("m")], paths, scenarios))
    after = _ids(_small(tmp_path, endpoints, [_model("m"), _model("glm-9")], paths, scenarios))
    # scenarios restricted to named models do not grow with the catalogue
    assert after - before == {"general/glm-9/oa/wide", "anthropic/glm-9/an/wide"}
    assert before < after


# --- the clients a run records ------------------------------------------------------------------


def test_a_run_records_the_clients_its_paths_name_then_the_harness_own(tmp_path):
    catalogue = _small(tmp_path, paths=[_path("oa", clients=["openai", "extra-sdk"]), _path("ob", clients=["openai"])])
    assert client_distributions(catalogue) == ("openai", "extra-sdk", *HARNESS_DISTRIBUTIONS)
    assert "extra-sdk" not in client_versions(catalogue)  # not installed: left out
    assert client_versions(catalogue)["openai"]


def test_the_packaged_paths_name_their_clients(catalogue: Catalogue):
    clients = {path.id: set(path.clients) for path in catalogue.paths}
    assert all(clients.values()), [path for path, names in clients.items() if not names]
    for path in ("proxy-openai-sdk", "proxy-litellm", "proxy-litellm-guide", "proxy-anthropic-sdk"):
        assert {"litellm", "openai"} <= clients[path], path  # the proxy, and its zai/ route's SDK
    assert {"litellm", "anthropic"} <= clients["proxy-anthropic-sdk"]
    assert {"litellm", "openai"} <= clients["openhands"] and {"litellm", "openai"} <= clients["router-cache"]
    # everything a run listed when the list was a constant in conformance/results.py
    listed = {"openai", "litellm", "anthropic", "zai-sdk", "httpx", "httpx2", "aiohttp", "vcrpy", "pytest"}
    assert set(client_distributions(catalogue)) >= listed


# --- streamed variants ---------------------------------------------------------------------------

# Every scenario of the packaged catalogue, in order, as it stood before streamed twins became
# variants: the expansion must give exactly these ids (and so exactly these cells).
PACKAGED_SCENARIOS = (
    "chat", "chat-stream", "tool", "tool-stream", "parallel-tools", "parallel-tools-stream", "thinking",
    "thinking-stream", "object-person", "object-person-stream", "object-book", "object-book-stream",
    "connection", "thinking-default", "thinking-enabled", "thinking-enabled-stream", "thinking-disabled",
    "thinking-preserved", "thinking-effort-low", "thinking-effort-high", "thinking-effort-max-stream",
    "reasoning-effort-none", "reasoning-effort-minimal", "reasoning-effort-medium", "reasoning-effort-xhigh",
    "reasoning-effort-max", "reasoning-effort-invalid", "reasoning-thinking-effort", "reasoning-nested-effort",
    "reasoning-enable-thinking-false", "reasoning-budget-tokens", "reasoning-adaptive",
    "reasoning-output-config-effort", "responses-history", "responses-error-invalid-key",
    "responses-error-unknown-model", "agent-task", "agent-wrong-plan", "agent-plan-model",
    "tool-large-argument-tool-stream",
    "tool-large-argument-buffered",
    "models-list", "embeddings", "cost", "cost-map", "router-fallback", "router-cache", "router-rate-limit", "vision",
    "vision-stream", "sampling-low", "sampling-high", "temperature-out-of-range", "top-p-out-of-range",
    "max-tokens-length", "stop-word", "stop-words", "json-object", "json-schema", "do-sample-false",
    "request-user-id", "unknown-param", "litellm-metadata", "client-timeout", "stream-hang",
    "error-invalid-key", "error-wrong-plan", "error-unknown-model", "error-empty-content",
    "error-prompt-too-long", "error-sensitive-input", "error-concurrency", "error-overloaded", "error-quota",
    "error-guide-id-glm-4-flash", "error-guide-id-glm-4-plus", "error-guide-id-glm-4-32b-misspelled",
    "error-plan-model", "error-context-suffix-model", "model-alias-glm-latest", "model-alias-glm-flash-latest",
    "error-server", "finish-sensitive",
    "finish-sensitive-stream", "finish-network-error",
    "finish-network-error-stream", "finish-context-exceeded", "finish-context-exceeded-stream",
)  # fmt: skip


def test_the_packaged_scenarios_expand_to_the_same_ids_in_the_same_order(catalogue: Catalogue):
    written = tuple(scenario.id for scenario in catalogue.scenarios if scenario.recorded is None)
    assert written == PACKAGED_SCENARIOS
    # the recorded conversations follow, in the order of their file
    recorded = [s["id"] for s in yaml.safe_load(PACKAGED_CONVERSATIONS.read_text())["scenarios"]]
    assert [s.id for s in catalogue.scenarios[len(written) :]] == recorded


def test_a_packaged_streamed_variant_differs_from_its_scenario_only_in_streaming(catalogue: Catalogue):
    for streamed, unstreamed in catalogue.stream_twins.items():
        variant, base = catalogue.scenario(streamed), catalogue.scenario(unstreamed)
        assert variant.stream and not base.stream
        assert variant.params == {**base.params, "stream_options": {"include_usage": True}}
        if base.streamed is None:  # written out in full (the recorded requests differ)
            assert streamed == "parallel-tools-stream", streamed
            continue
        assert variant.title == base.streamed.title
        same = {"id", "title", "source", "stream", "params", "streamed", "stream_of"}
        assert variant.model_dump(exclude=same) == base.model_dump(exclude=same), streamed


def test_a_streamed_variant_is_the_scenario_streamed_right_after_it(tmp_path):
    catalogue = _small(
        tmp_path,
        scenarios=[
            _scenario("hello", params={"max_tokens": 10}, source="docs", streamed={"title": "hello, streamed"}),
            _scenario("bye", streamed={"title": "bye, streamed", "source": "the streaming docs"}),
        ],
    )
    assert [s.id for s in catalogue.scenarios] == ["hello", "hello-stream", "bye", "bye-stream"]
    variant = catalogue.scenario("hello-stream")
    assert (variant.title, variant.source, variant.stream, variant.stream_of) == (
        "hello, streamed",
        "docs",
        True,
        "hello",
    )
    assert variant.params == {"max_tokens": 10, "stream_options": {"include_usage": True}}
    assert variant.messages == catalogue.scenario("hello").messages
    assert catalogue.scenario("bye-stream").source == "the streaming docs"
    assert catalogue.stream_twins == {"hello-stream": "hello", "bye-stream": "bye"}
    assert _ids(catalogue) == {
        "general/m/oa/hello",
        "general/m/oa/hello-stream",
        "general/m/oa/bye",
        "general/m/oa/bye-stream",
    }


def test_a_streamed_scenario_written_out_names_its_twin(tmp_path):
    catalogue = _small(
        tmp_path,
        scenarios=[
            _scenario("hello"),
            _scenario("hello-live", stream=True, stream_of="hello"),
            _scenario("lone", stream=True),
        ],
    )
    assert catalogue.stream_twins == {"hello-live": "hello"}


def test_a_path_may_run_a_streamed_variant_alone(tmp_path):
    catalogue = _small(
        tmp_path,
        paths=[_path("oa", scenarios=["hello-stream"])],
        scenarios=[_scenario("hello", streamed={"title": "hello, streamed"})],
    )
    assert _ids(catalogue) == {"general/m/oa/hello-stream"}


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        pytest.param(
            _scenario("hello", stream=True, streamed={"title": "again"}),
            "scenario 'hello': only an unstreamed chat scenario has a streamed variant (field 'streamed')",
            id="already-streamed",
        ),
        pytest.param(
            {"id": "listing", "title": "t", "operation": "models", "expect": [{}], "streamed": {"title": "t"}},
            "scenario 'listing': only an unstreamed chat scenario has a streamed variant (field 'streamed')",
            id="not-a-chat",
        ),
        pytest.param(
            _scenario("hello", params={"stream_options": {"include_usage": False}}, streamed={"title": "t"}),
            "scenario 'hello': params.stream_options is the streamed variant's to set; remove it here",
            id="stream-options-given",
        ),
        pytest.param(
            _scenario("hello", streamed={"title": ""}),
            "scenario 'hello': field 'streamed.title': String should have at least 1 character",
            id="no-title",
        ),
        pytest.param(
            _scenario("hello", streamed={"title": "t", "stream": False}),
            "scenario 'hello': field 'streamed.stream': Extra inputs are not permitted",
            id="unknown-field",
        ),
        pytest.param(
            _scenario("hello", stream_of="chat"),
            "scenario 'hello': stream_of names the unstreamed twin of a streamed scenario: this one has stream: false",
            id="stream-of-on-an-unstreamed-scenario",
        ),
    ],
)
def test_a_bad_streamed_variant_names_the_scenario(tmp_path, scenario, message):
    assert message in _error(_small_file(tmp_path, scenarios=[scenario]))


def test_a_variant_whose_id_is_taken_is_refused_naming_both(tmp_path):
    scenarios = [_scenario("hello", streamed={"title": "t"}), _scenario("hello-stream", stream=True)]
    message = _error(_small_file(tmp_path, scenarios=scenarios))
    assert "scenario 'hello-stream': duplicate id (scenario 'hello' declares it as its streamed variant)" in message


@pytest.mark.parametrize(
    ("twin", "message"),
    [
        ("nowhere", "scenario 'late': field 'stream_of': unknown scenario 'nowhere'"),
        ("hello-stream", "scenario 'late': field 'stream_of': a streamed scenario 'hello-stream'"),
    ],
)
def test_stream_of_must_name_an_unstreamed_scenario(tmp_path, twin, message):
    scenarios = [_scenario("hello", streamed={"title": "t"}), _scenario("late", stream=True, stream_of=twin)]
    assert message in _error(_small_file(tmp_path, scenarios=scenarios))


# --- cells implied by an edit ------------------------------------------------------------------


def test_missing_capabilities_make_not_applicable_cells_with_the_reason(write_catalogue):
    no_tools = {**NEW_MODEL, "thinking": "none", "tools": False}
    edited = load_catalogue(write_catalogue(lambda data: data["models"].append(no_tools)))
    reasons = {
        cell.scenario.id: cell.not_applicable for cell in edited.cells if cell.id.startswith("coding/glm-9/openai-sdk/")
    }
    assert reasons["chat"] is None and reasons["chat-stream"] is None
    assert reasons["tool"] == "glm-9 does not support tools (catalogue); scenario needs it"
    assert reasons["thinking"] == "glm-9 does not support tools, thinking (catalogue); scenario needs it"
    assert reasons["object-book-stream"].startswith("glm-9 does not support tools")
    # the capable models keep every scenario applicable
    assert edited.cell("coding/glm-4.5/openai-sdk/thinking").not_applicable is None


def test_an_anthropic_path_is_paired_only_with_the_anthropic_endpoint(write_catalogue):
    path = {
        "id": "another-anthropic-client",
        "title": "Anthropic SDK",
        "adapter": "x.y:Z",
        "protocols": ["anthropic"],
        "scenarios": ["chat"],
    }
    edited = load_catalogue(write_catalogue(lambda data: data["paths"].append(path)))
    cells = [cell for cell in edited.cells if cell.path.id == "another-anthropic-client"]
    assert {cell.endpoint.id for cell in cells} == {"anthropic"}
    assert {cell.scenario.id for cell in cells} == {"chat"}
    assert len(cells) == len(edited.models)


# --- validation: errors name the entry and the field ------------------------------------------


def test_bad_thinking_value_names_the_model_and_the_field(write_catalogue):
    message = _error(
        write_catalogue(lambda d: d["models"][_index(d["models"], "glm-4.6")].update(thinking="sometimes"))
    )
    assert "model 'glm-4.6'" in message
    assert "field 'thinking'" in message
    assert "'always', 'hybrid' or 'none'" in message


def test_bad_thinking_value_shows_the_value_given(write_catalogue):
    message = _error(
        write_catalogue(lambda d: d["models"][_index(d["models"], "glm-4.6")].update(thinking="sometimes"))
    )
    assert "sometimes" in message


def test_missing_field_names_the_model_and_the_field(write_catalogue):
    message = _error(write_catalogue(lambda d: d["models"][_index(d["models"], "glm-5")].pop("tools")))
    assert "model 'glm-5': field 'tools': Field required" in message


def test_entry_without_id_is_named_by_position(write_catalogue):
    message = _error(write_catalogue(lambda d: d["endpoints"][1].pop("id")))
    assert "endpoint '#2': field 'id': Field required" in message


def test_nested_field_error_names_the_path_and_the_value(write_catalogue):
    message = _error(write_catalogue(lambda d: d["scenarios"][0]["messages"][1].update(role="robot")))
    assert "scenario 'chat': field 'messages.1.role'" in message
    assert "(got 'robot')" in message


def test_unknown_tool_referenced_by_a_scenario(write_catalogue):
    message = _error(
        write_catalogue(lambda d: d["scenarios"][_index(d["scenarios"], "tool")]["tools"].append("hammer"))
    )
    assert "scenario 'tool': field 'tools': unknown tool 'hammer'" in message


def test_tool_result_for_a_tool_the_scenario_does_not_offer(write_catalogue):
    def edit(data):
        data["scenarios"][_index(data["scenarios"], "tool")]["tool_results"]["add"] = "5"

    assert "scenario 'tool': field 'tool_results': 'add' is not one of its tools" in _error(write_catalogue(edit))


def test_expected_tool_call_without_a_result(write_catalogue):
    def edit(data):
        scenario = data["scenarios"][_index(data["scenarios"], "parallel-tools")]
        del scenario["tool_results"]["multiply"]

    assert "scenario 'parallel-tools': field 'tool_results': no result for ['multiply']" in _error(
        write_catalogue(edit)
    )


def test_expected_tool_call_to_an_unoffered_tool(write_catalogue):
    def edit(data):
        data["scenarios"][_index(data["scenarios"], "object-person")]["expect"][0]["tool_calls"] = ["Book"]

    message = _error(write_catalogue(edit))
    assert "scenario 'object-person': field 'expect[1].tool_calls': 'Book' is not one of its tools" in message


def _with_case(expect: dict) -> object:
    """An edit giving scenario 'object-person' one alternative expectation (a case) of one turn."""

    def edit(data):
        scenario = data["scenarios"][_index(data["scenarios"], "object-person")]
        scenario["cases"] = [{"when": {"model": ["glm-4.6"]}, "why": "a case", "expect": [expect]}]

    return edit


def test_expected_tool_call_in_a_case_to_a_tool_that_does_not_exist(write_catalogue):
    message = _error(write_catalogue(_with_case({"finish_reason": "tool_calls", "tool_calls": ["nonexistent"]})))
    assert (
        "scenario 'object-person': field 'cases[0].expect[1].tool_calls': 'nonexistent' is not one of its tools"
        in message
    )


@pytest.mark.parametrize("where", ["expect", "cases[0].expect"])
def test_json_schema_of_a_tool_that_does_not_exist_names_the_turn(write_catalogue, where):
    turn = {"finish_reason": "stop", "json_schema": "nonexistent"}

    def in_expect(data):
        data["scenarios"][_index(data["scenarios"], "object-person")]["expect"] = [turn]

    message = _error(write_catalogue(in_expect if where == "expect" else _with_case(turn)))
    assert f"scenario 'object-person': field '{where}[1].json_schema': unknown tool 'nonexistent'" in message
    assert "1 problem(s)" in message


def test_forced_tool_choice_of_an_unoffered_tool(write_catalogue):
    def edit(data):
        scenario = data["scenarios"][_index(data["scenarios"], "object-person")]
        scenario["tool_choice"] = {"type": "function", "function": {"name": "Hammer"}}

    assert "scenario 'object-person': field 'tool_choice'" in _error(write_catalogue(edit))


@pytest.mark.parametrize("section", ["endpoints", "models", "paths", "scenarios"])
def test_duplicate_ids_are_refused(write_catalogue, section):
    def edit(data):
        data[section].append(dict(data[section][0]))

    duplicate = write_catalogue(edit)
    entry_id = yaml.safe_load(duplicate.read_text())[section][0]["id"]
    assert f"{section[:-1]} {entry_id!r}: duplicate id" in _error(duplicate)


def test_duplicate_tool_names_are_refused(write_catalogue, catalogue_data):
    text = yaml.safe_dump(catalogue_data, sort_keys=False)
    weather_again = "tools:\n  weather:\n    description: another weather\n    parameters: {type: object}\n"
    path = write_catalogue(text=text.replace("tools:\n", weather_again, 1))
    second = [number for number, line in enumerate(path.read_text().splitlines(), 1) if line == "  weather:"][1]
    assert f"{path}:{second}:3: duplicate key 'weather'" in _error(path)


def test_expect_turns_must_match_tool_results(write_catalogue):
    message = _error(write_catalogue(lambda d: d["scenarios"][_index(d["scenarios"], "tool")].pop("tool_results")))
    assert "scenario 'tool'" in message
    assert "expect has 2 turn(s) but the scenario makes 1" in message


def test_single_turn_scenario_with_tool_results_is_refused(write_catalogue):
    def edit(data):
        data["scenarios"][_index(data["scenarios"], "object-person")]["tool_results"] = {"Person": "ok"}

    assert "scenario 'object-person'" in (message := _error(write_catalogue(edit)))
    assert "expect has 1 turn(s) but the scenario makes 2" in message


def test_base_url_must_be_an_absolute_url(write_catalogue):
    message = _error(write_catalogue(lambda d: d["endpoints"][0].update(base_url="api.z.ai/api/paas/v4")))
    assert "endpoint 'general': field 'base_url'" in message
    assert "must be an absolute http(s) URL, got 'api.z.ai/api/paas/v4'" in message


def test_trailing_slash_of_a_base_url_is_dropped(write_catalogue):
    edited = load_catalogue(write_catalogue(lambda d: d["endpoints"][0].update(base_url="http://127.0.0.1:9/v4/")))
    assert edited.endpoint("general").base_url == "http://127.0.0.1:9/v4"


def test_reserved_params_are_refused(write_catalogue):
    message = _error(write_catalogue(lambda d: d["scenarios"][0]["params"].update(stream=True)))
    assert "scenario 'chat': field 'params'" in message
    assert "['stream'] have their own scenario fields" in message


def test_tool_parameters_must_be_an_object_schema(write_catalogue):
    message = _error(write_catalogue(lambda d: d["tools"]["weather"]["parameters"].update(type="array")))
    assert "tool 'weather': field 'parameters'" in message
    assert "type: object" in message


def test_unknown_field_is_refused(write_catalogue):
    message = _error(write_catalogue(lambda d: d["models"][_index(d["models"], "glm-4.5")].update(thinkng="always")))
    assert "model 'glm-4.5': field 'thinkng': Extra inputs are not permitted" in message


def test_unknown_references_from_models_and_paths(write_catalogue):
    def edit(data):
        data["models"].append({**NEW_MODEL, "endpoints": ["nowhere"]})
        data["paths"][0]["scenarios"] = ["chat", "haiku"]

    message = _error(write_catalogue(edit))
    assert "model 'glm-9': field 'endpoints': unknown endpoint 'nowhere'" in message
    assert "path 'openai-sdk': field 'scenarios': unknown scenario 'haiku'" in message
    assert "2 problem(s)" in message


def test_every_problem_is_reported_at_once(write_catalogue):
    def edit(data):
        data["models"][0]["thinking"] = "sometimes"
        data["endpoints"][1]["base_url"] = "nowhere"

    message = _error(write_catalogue(edit))
    assert "2 problem(s)" in message
    assert "field 'thinking'" in message and "field 'base_url'" in message


def test_invalid_yaml(write_catalogue):
    path = write_catalogue(text="models: [unclosed\n")
    message = _error(path)
    assert message == f"{path}:2:1: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence at 1:9)"


def test_invalid_yaml_names_the_line_and_column_one_based(write_catalogue):
    path = write_catalogue(text="endpoints:\n  - id: general\nmodels\nscenarios: []\n")
    assert _error(path) == f"{path}:4:1: could not find expected ':' (while scanning a simple key at 3:1)"


def test_not_a_mapping(write_catalogue):
    path = write_catalogue(text="- just\n- a list\n")
    assert "expected a mapping with endpoints, models, paths, tools, scenarios" in _error(path)


def test_missing_file(tmp_path):
    path = tmp_path / "absent.yaml"
    assert _error(path) == f"cannot read catalogue {path}: No such file or directory"


def test_scenario_restricted_to_an_unknown_model(write_catalogue):
    def edit(data):
        data["scenarios"][_index(data["scenarios"], "stop-word")]["models"] = ["glm-4.6", "glm-9"]

    assert "scenario 'stop-word': field 'models': unknown model 'glm-9'" in _error(write_catalogue(edit))


def test_case_naming_an_unknown_endpoint(write_catalogue):
    def edit(data):
        data["scenarios"][_index(data["scenarios"], "thinking-disabled")]["cases"][0]["when"]["endpoint"] = ["mars"]

    message = _error(write_catalogue(edit))
    assert "scenario 'thinking-disabled': field 'cases[0].when.endpoint': unknown endpoint 'mars'" in message


def test_an_expected_error_expects_nothing_else(write_catalogue):
    def edit(data):
        data["scenarios"][_index(data["scenarios"], "error-quota")]["expect"][0]["text"] = True

    message = _error(write_catalogue(edit))
    assert "scenario 'error-quota'" in message and "expects nothing else" in message


def test_an_image_that_is_not_shipped(write_catalogue):
    def edit(data):
        data["scenarios"][_index(data["scenarios"], "vision")]["messages"][0]["image"] = "missing.png"

    assert "no image 'missing.png'" in _error(write_catalogue(edit))


def test_an_unknown_provoked_key_kind(write_catalogue):
    def edit(data):
        data["scenarios"][_index(data["scenarios"], "error-invalid-key")]["provoke"]["key"] = "stolen"

    assert "scenario 'error-invalid-key': field 'provoke.key'" in _error(write_catalogue(edit))
