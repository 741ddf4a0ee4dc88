"""The catalogue: what it holds, the cells it implies, and how it refuses a broken file."""

from __future__ import annotations

from collections import Counter
from fnmatch import fnmatchcase

import pytest
import yaml

from conformance.catalogue import Catalogue, CatalogueError, load_catalogue

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


# --- the packaged catalogue ---------------------------------------------------------------------


def test_packaged_catalogue_has_the_three_endpoints(catalogue: Catalogue):
    endpoints = {e.id: (e.base_url, e.protocol, e.auth) for e in catalogue.endpoints}
    assert endpoints == {
        "general": ("https://api.z.ai/api/paas/v4", "openai", "bearer"),
        "coding": ("https://api.z.ai/api/coding/paas/v4", "openai", "bearer"),
        "anthropic": ("https://api.z.ai/api/anthropic", "anthropic", "x-api-key"),
    }


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


def _applies(endpoint, model, path, scenario) -> bool:
    """Whether the catalogue pairs these four into a cell (the filters of catalogue.Catalogue.cells)."""
    return (
        endpoint.protocol in path.protocols
        and (model.endpoints is None or endpoint.id in model.endpoints)
        and (scenario.models is None or model.id in scenario.models)
        and (scenario.endpoints is None or endpoint.id in scenario.endpoints)
        and (path.scenarios is None or scenario.id in path.scenarios)
        and (scenario.paths is None or any(fnmatchcase(path.id, glob) for glob in scenario.paths))
    )


def test_cell_ids_are_unique_and_cover_every_endpoint_path_pairing(catalogue: Catalogue):
    ids = [cell.id for cell in catalogue.cells]
    assert len(ids) == len(set(ids))
    expected = sum(
        1
        for e in catalogue.endpoints
        for p in catalogue.paths
        for m in catalogue.models
        for s in catalogue.scenarios
        if _applies(e, m, p, s)
    )
    assert len(ids) == expected


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


def test_paths_are_paired_only_with_endpoints_of_a_protocol_they_reach(catalogue: Catalogue):
    for cell in catalogue.cells:
        assert cell.endpoint.protocol in cell.path.protocols, cell.id
    by_endpoint = Counter(cell.endpoint.id for cell in catalogue.cells)
    anthropic_paths = [p.id for p in catalogue.paths if "anthropic" in p.protocols]
    assert "openai-sdk" not in anthropic_paths and "anthropic-sdk" in anthropic_paths
    anthropic = catalogue.endpoint("anthropic")
    assert by_endpoint["anthropic"] == sum(
        1
        for p in catalogue.paths
        for m in catalogue.models
        for s in catalogue.scenarios
        if _applies(anthropic, m, p, s)
    )


# --- cells implied by an edit ------------------------------------------------------------------


def test_adding_one_model_adds_its_cells_on_every_endpoint(write_catalogue, catalogue: Catalogue):
    edited = load_catalogue(write_catalogue(lambda data: data["models"].append(dict(NEW_MODEL))))
    before = {cell.id for cell in catalogue.cells}
    after = {cell.id for cell in edited.cells}
    assert before < after
    added = after - before
    assert added == {
        f"{endpoint.id}/glm-9/{path.id}/{scenario.id}"
        for endpoint in catalogue.endpoints
        for path in catalogue.paths
        if endpoint.protocol in path.protocols
        for scenario in catalogue.scenarios
        # scenarios restricted to named models do not grow with the catalogue
        if scenario.models is None and _applies(endpoint, edited.model("glm-9"), path, scenario)
    }
    # hybrid thinking and tools: every scenario applies
    assert all(edited.cell(cell_id).not_applicable is None for cell_id in added)


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


def test_a_model_limited_to_one_endpoint_has_cells_only_there(write_catalogue):
    only_coding = {**NEW_MODEL, "endpoints": ["coding"]}
    edited = load_catalogue(write_catalogue(lambda data: data["models"].append(only_coding)))
    assert {cell.endpoint.id for cell in edited.cells if cell.model.id == "glm-9"} == {"coding"}


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
