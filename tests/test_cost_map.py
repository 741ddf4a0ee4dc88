"""The cost-map check on hand-built entries: a stale figure is a DEVIATION naming the field, the client's value
and Z.AI's; figures that agree pass; a route the map does not know is named."""

from __future__ import annotations

from conformance.catalogue import Model, Price
from conformance.checks.cost import check_cost
from conformance.checks.cost_map import check_cost_map
from conformance.observation import CostClaim, CostMapEntry, Turn, Usage
from conformance.verdict import Severity

MODEL = Model(
    id="glm-5.2",
    thinking="hybrid",
    tools=True,
    context_window=1_000_000,
    max_output=131072,
    price=Price(input=1.4, cached_input=0.26, output=4.4),
)


def _entry(**changes: object) -> CostMapEntry:
    figures: dict[str, object] = {
        "max_input_tokens": 1_000_000,
        "max_output_tokens": 131072,
        "input_cost_per_token": 1.4e-6,
        "output_cost_per_token": 4.4e-6,
        "cache_read_input_token_cost": 2.6e-7,
    }
    return CostMapEntry("LiteLLM", "zai/glm-5.2", **{**figures, **changes})  # type: ignore[arg-type]


def _findings(entry: CostMapEntry | None, model: Model = MODEL):
    return check_cost_map(Turn(index=0, cost_map=entry), model)


def _deviations(entry: CostMapEntry | None, model: Model = MODEL) -> list[str]:
    return [f.message for f in _findings(entry, model) if f.severity is Severity.DEVIATION]


def test_matching_figures_pass_with_one_info_finding():
    [finding] = _findings(_entry())
    assert finding.severity is Severity.INFO
    assert (finding.check, finding.turn, finding.side) == ("cost_map", 0, "response")
    assert "agrees with Z.AI on zai/glm-5.2" in finding.message


def test_a_stale_output_limit_is_a_deviation_naming_field_and_both_values():
    assert _deviations(_entry(max_output_tokens=128000)) == [
        "LiteLLM's cost map gives zai/glm-5.2 max_output_tokens 128000; Z.AI documents 131072"
    ]


def test_a_stale_context_window_and_a_missing_limit_are_named():
    stale = _deviations(_entry(max_input_tokens=1048576, max_output_tokens=None))
    assert stale == [
        "LiteLLM's cost map gives zai/glm-5.2 max_input_tokens 1048576; Z.AI documents 1000000",
        "LiteLLM's cost map gives zai/glm-5.2 no max_output_tokens; Z.AI documents 131072",
    ]


def test_a_stale_price_is_named_per_token_and_per_million():
    [message] = _deviations(_entry(output_cost_per_token=3.2e-6))
    assert message == "LiteLLM's cost map gives zai/glm-5.2 output_cost_per_token 3.2e-06 ($3.2/1M); Z.AI lists $4.4/1M"


def test_rounding_within_one_percent_is_not_a_finding():
    assert _deviations(_entry(input_cost_per_token=1.401e-6)) == []


def test_no_cache_read_price_bills_cached_input_as_input():
    """LiteLLM falls back to the input rate: wrong where Z.AI discounts cached input, right where it does not."""
    [message] = _deviations(_entry(cache_read_input_token_cost=None))
    assert message == (
        "LiteLLM's cost map gives zai/glm-5.2 no cache_read_input_token_cost (cached input billed as input, "
        "$1.4/1M); Z.AI lists $0.26/1M"
    )
    undiscounted = MODEL.model_copy(update={"price": Price(input=1.4, cached_input=1.4, output=4.4)})
    assert _deviations(_entry(cache_read_input_token_cost=None), undiscounted) == []


def test_a_model_missing_from_the_map_is_named():
    entry = CostMapEntry("LiteLLM", "openai/glm-5.2", missing="This model isn't mapped yet.")
    [message] = _deviations(entry)
    assert message.startswith("LiteLLM's cost map has no entry for openai/glm-5.2 (This model isn't mapped yet.)")
    assert "glm-5.2" in message


def test_a_path_that_exposes_no_map_is_a_deviation():
    assert _deviations(None) == ["the path exposes no cost-map entry to compare"]


def test_without_a_catalogue_price_only_the_limits_are_compared():
    unpriced = MODEL.model_copy(update={"price": None})
    findings = _findings(_entry(input_cost_per_token=9e-6), unpriced)
    assert [f.severity for f in findings] == [Severity.INFO, Severity.INFO]
    assert "prices not compared" in findings[0].message


def test_cost_without_a_catalogue_price_still_names_a_client_that_cannot_price():
    unpriced = MODEL.model_copy(update={"price": None})
    turn = Turn(index=0, usage=Usage(16, 72, 88), cost=CostClaim(error="This model isn't mapped yet."))
    [finding] = check_cost(turn, None, unpriced)
    assert (finding.severity, finding.message) == (
        Severity.DEVIATION,
        "no cost from the client (This model isn't mapped yet.)",
    )
    turn.cost = CostClaim(amount=0.001)
    assert check_cost(turn, None, unpriced)[0].severity is Severity.INFO
