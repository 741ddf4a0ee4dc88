"""Cost map: a client's own record of a model — context window, output limit, prices — against Z.AI's.

LiteLLM trims prompts, caps max_tokens and bills spend by its cost map, shipped with each release. When
Z.AI raises a limit or changes a price, the map goes stale without any error: a user is capped at a
limit Z.AI no longer has, or billed at last year's rate. So each figure the map gives is compared with
the catalogue's model entry, and a difference is named (field, the client's value, Z.AI's); a route the
map does not know at all is named too. Pure: the path reads the map (Turn.cost_map), this judges it.
"""

from __future__ import annotations

from conformance.catalogue import Model
from conformance.observation import CostMapEntry, Turn
from conformance.verdict import Finding, Severity

TOLERANCE = 0.01  # relative, for prices: rounding in a cost map is not a finding
PER_MILLION = 1e6  # the map prices per token; Z.AI (and the catalogue) per million tokens


def check_cost_map(turn: Turn, model: Model) -> list[Finding]:
    """Findings for one turn's cost-map entry against the catalogue's model (response side)."""
    return [Finding(f.check, f.severity, f.message, turn.index, "response") for f in _cost_map(turn.cost_map, model)]


def _cost_map(entry: CostMapEntry | None, model: Model) -> list[Finding]:
    if entry is None:
        return [Finding("cost_map", Severity.DEVIATION, "the path exposes no cost-map entry to compare")]
    who = f"{entry.client}'s cost map"
    if entry.missing is not None:
        return [
            Finding(
                "cost_map",
                Severity.DEVIATION,
                f"{who} has no entry for {entry.route} ({entry.missing}): no context window, output limit "
                f"or price for {model.id}",
            )
        ]
    findings = [
        *_limit(who, entry, "max_input_tokens", entry.max_input_tokens, model.context_window),
        *_limit(who, entry, "max_output_tokens", entry.max_output_tokens, model.max_output),
        *_prices(who, entry, model),
    ]
    if not any(f.severity is Severity.DEVIATION for f in findings):
        findings.append(Finding("cost_map", Severity.INFO, f"{who} agrees with Z.AI on {entry.route}"))
    return findings


def _limit(who: str, entry: CostMapEntry, field: str, given: int | None, documented: int) -> list[Finding]:
    if given is None:
        return [
            Finding(
                "cost_map", Severity.DEVIATION, f"{who} gives {entry.route} no {field}; Z.AI documents {documented}"
            )
        ]
    if given != documented:
        return [
            Finding(
                "cost_map",
                Severity.DEVIATION,
                f"{who} gives {entry.route} {field} {given}; Z.AI documents {documented}",
            )
        ]
    return []


def _prices(who: str, entry: CostMapEntry, model: Model) -> list[Finding]:
    if model.price is None:
        return [Finding("cost_map", Severity.INFO, f"the catalogue has no price for {model.id}: prices not compared")]
    findings = [
        *_price(who, entry, "input_cost_per_token", entry.input_cost_per_token, model.price.input),
        *_price(who, entry, "output_cost_per_token", entry.output_cost_per_token, model.price.output),
    ]
    cached = entry.cache_read_input_token_cost
    if cached is not None:
        return [*findings, *_price(who, entry, "cache_read_input_token_cost", cached, model.price.cached_input)]
    # No cache-read price: the client bills cached input at the input rate (LiteLLM's fallback), which is
    # only right where Z.AI lists no discount for it.
    billed = entry.input_cost_per_token
    if billed is not None and _differs(billed * PER_MILLION, model.price.cached_input):
        findings.append(
            Finding(
                "cost_map",
                Severity.DEVIATION,
                f"{who} gives {entry.route} no cache_read_input_token_cost (cached input billed as input, "
                f"${billed * PER_MILLION:g}/1M); Z.AI lists ${model.price.cached_input:g}/1M",
            )
        )
    return findings


def _price(who: str, entry: CostMapEntry, field: str, per_token: float | None, documented: float) -> list[Finding]:
    if per_token is None:
        return [
            Finding(
                "cost_map", Severity.DEVIATION, f"{who} gives {entry.route} no {field}; Z.AI lists ${documented:g}/1M"
            )
        ]
    if _differs(per_token * PER_MILLION, documented):
        return [
            Finding(
                "cost_map",
                Severity.DEVIATION,
                f"{who} gives {entry.route} {field} {per_token:g} (${per_token * PER_MILLION:g}/1M); "
                f"Z.AI lists ${documented:g}/1M",
            )
        ]
    return []


def _differs(per_million: float, documented: float) -> bool:
    return abs(per_million - documented) > max(abs(documented) * TOLERANCE, 1e-9)
