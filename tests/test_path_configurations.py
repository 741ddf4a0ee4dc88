"""Configurations of a client are catalogue entries: each entry's `options` are read by its adapter (with
a clear error when they do not fit), one LiteLLM adapter serves every LiteLLM entry, and every change
to LiteLLM's process-wide state is undone by the context manager that made it."""

from __future__ import annotations

from typing import Any

import pytest

from conformance import litellm_globals
from conformance.catalogue import Catalogue
from conformance.paths.base import PathOptionsError, Target, build_path, load_adapter

TARGET = Target(base_url="http://127.0.0.1:9/api/anthropic", api_key="k", idle_timeout=5)
BODY = {"model": "glm-4.6", "messages": [{"role": "user", "content": "hi"}]}


def _entry(catalogue: Catalogue, path_id: str, **options: Any):
    spec = catalogue.path(path_id)
    return spec.model_copy(update={"options": options}) if options else spec


# --- options ----------------------------------------------------------------------------------------


def test_every_packaged_entry_has_options_its_adapter_reads(catalogue: Catalogue):
    for spec in catalogue.paths:
        load_adapter(spec).options_of(spec)  # the proxy's entries: their client's options too


def test_options_that_do_not_fit_name_the_entry_and_the_field(catalogue: Catalogue):
    spec = _entry(catalogue, "litellm-zai", provider="zia")
    with pytest.raises(PathOptionsError, match=r"path 'litellm-zai': options do not fit .*LiteLLMPath: provider"):
        load_adapter(spec).options_of(spec)


def test_an_adapter_without_options_refuses_any(catalogue: Catalogue):
    spec = _entry(catalogue, "openai-sdk", provider="zai")
    with pytest.raises(PathOptionsError, match="provider: Extra inputs are not permitted"):
        build_path(spec, TARGET, catalogue=catalogue)


def test_a_proxy_entry_checks_its_clients_options(catalogue: Catalogue):
    client = "conformance.paths.litellm:LiteLLMPath"
    spec = _entry(catalogue, "proxy-litellm", client=client, client_options={"call": "acompletion!"})
    with pytest.raises(PathOptionsError, match=r"path 'proxy-litellm'.*call"):
        load_adapter(spec).options_of(spec)


def test_openhands_brings_its_own_route(catalogue: Catalogue):
    spec = _entry(catalogue, "openhands", openhands={"LLM_TEMPERATURE": "0.6"}, provider="zai")
    with pytest.raises(PathOptionsError, match="openhands configures LiteLLM from its LLM_"):
        load_adapter(spec).options_of(spec)


# --- one LiteLLM adapter, several entries -------------------------------------------------------------


def _kwargs(catalogue: Catalogue, path_id: str, body: dict[str, Any]) -> dict[str, Any]:
    path = build_path(catalogue.path(path_id), TARGET, catalogue=catalogue)
    return path.kwargs(body)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("path_id", "model"),
    [("litellm-zai", "zai/glm-4.6"), ("litellm-openai", "openai/glm-4.6"), ("litellm-anthropic", "anthropic/glm-4.6")],
)
def test_the_provider_option_is_the_models_prefix(catalogue: Catalogue, path_id: str, model: str):
    kwargs = _kwargs(catalogue, path_id, BODY)
    assert (kwargs["model"], kwargs["api_base"], kwargs["api_key"]) == (model, TARGET.base_url, "k")
    assert (kwargs["timeout"], kwargs["num_retries"], kwargs["max_retries"]) == (5, 0, 0)


def test_the_working_anthropic_entry_allows_the_reasoning_parameters_a_request_has(catalogue: Catalogue):
    kwargs = _kwargs(catalogue, "litellm-anthropic", {**BODY, "reasoning_effort": "high"})
    assert kwargs["allowed_openai_params"] == ["reasoning_effort"]
    assert kwargs["max_tokens"] == 4096  # the scenario gave none
    assert _kwargs(catalogue, "litellm-anthropic", {**BODY, "max_tokens": 100})["max_tokens"] == 100
    assert "allowed_openai_params" not in _kwargs(catalogue, "litellm-anthropic", BODY)


def test_the_guide_entry_adds_nothing(catalogue: Catalogue):
    kwargs = _kwargs(catalogue, "litellm-anthropic-guide", {**BODY, "reasoning_effort": "high"})
    assert "allowed_openai_params" not in kwargs and "max_tokens" not in kwargs


def test_only_the_anthropic_route_reads_thinking_blocks_and_only_the_async_entry_awaits(catalogue: Catalogue):
    litellm_sdk = [p for p in catalogue.paths if p.adapter == "conformance.paths.litellm:LiteLLMPath"]
    paths = {p.id: build_path(p, TARGET, catalogue=catalogue) for p in litellm_sdk if p.id.startswith("litellm-")}
    assert {i for i, p in paths.items() if p.thinking_blocks} == {"litellm-anthropic", "litellm-anthropic-guide"}  # type: ignore[attr-defined]
    assert {i for i, p in paths.items() if p.asynchronous} == {"litellm-zai-async"}  # type: ignore[attr-defined]


# --- LiteLLM's process-wide state ----------------------------------------------------------------------


def test_isolated_litellm_puts_back_the_callback_list_objects_whether_filled_or_replaced():
    """A LiteLLM release may fill a callback list in place or replace it: either way the cell ends with
    the original list object holding exactly its former entries, and the cache as it was."""
    litellm = litellm_globals.import_litellm()
    original, entries = litellm.callbacks, list(litellm.callbacks)
    success = litellm.success_callback
    cache = object()
    previous_cache, litellm.cache = litellm.cache, cache
    try:
        with litellm_globals.isolated_litellm():
            assert litellm.cache is None  # no global cache inside
            litellm.callbacks = [*litellm.callbacks, "replaced"]  # a newer LiteLLM replaces the list
            litellm.success_callback.append("filled")  # an older one fills it in place
        assert litellm.callbacks is original and litellm.callbacks == entries
        assert litellm.success_callback is success and "filled" not in success
        assert litellm.cache is cache
    finally:
        litellm.cache = previous_cache


def test_modify_params_and_shipped_prices_are_undone_after_the_call():
    litellm = litellm_globals.import_litellm()
    before, in_use = litellm.modify_params, litellm.model_cost
    with litellm_globals.modify_params(not before):
        assert litellm.modify_params is (not before)
    with litellm_globals.shipped_prices():
        assert litellm.model_cost is litellm_globals.shipped_cost_map()
    assert litellm.modify_params is before and litellm.model_cost is in_use


def test_shipped_prices_are_not_the_proxys_registrations_whatever_ran_first():
    """A proxy cell registers its deployments (at no cost) into LiteLLM's process-wide cost map and LiteLLM
    memoises lookups over it: pricing must still use the map the release ships, or an unmapped model
    would be priced at zero after any proxy cell (a verdict depending on cell order)."""
    litellm = litellm_globals.import_litellm()
    model = "zai/zai-conformance-unmapped-model"
    saved = dict(litellm.model_cost)
    try:
        litellm.register_model(
            {
                model: {
                    "input_cost_per_token": 0.0,
                    "output_cost_per_token": 0.0,
                    "litellm_provider": "zai",
                    "mode": "chat",
                }
            }
        )
        assert litellm.get_model_info(model)  # memoised now, as after a proxy cell
        with (
            litellm_globals.shipped_prices() as shipped,
            pytest.raises(Exception, match=r"isn.t mapped|not mapped|This model"),
        ):
            shipped.get_model_info(model)
    finally:
        litellm.model_cost.clear()
        litellm.model_cost.update(saved)
        litellm_globals._forget_prices(litellm)
