"""Cost: what a client says an answer cost, against Z.AI's price list applied to Z.AI's own usage.

LiteLLM prices answers from its cost map; a GLM model missing from it, or priced as another model
(BerriAI/litellm#31075), bills users wrongly without any error. The reference is computed here from
the catalogue's prices and the usage Z.AI sent, so a client's arithmetic cannot hide in it.
"""

from __future__ import annotations

from conformance.catalogue import Model
from conformance.observation import Turn
from conformance.verdict import Finding, Severity
from conformance.wire import WireAnswer

TOLERANCE = 0.01  # relative: rounding in a cost map is not a finding


def check_cost(turn: Turn, wire: WireAnswer | None, model: Model) -> list[Finding]:
    findings = [_cost(turn, wire, model)]
    return [Finding(f.check, f.severity, f.message, turn.index, "response") for f in findings]


def _cost(turn: Turn, wire: WireAnswer | None, model: Model) -> Finding:
    claim = turn.cost
    if model.price is None:
        # No reference price, but a client that cannot price the answer at all is still a finding.
        if claim is None or claim.amount is None:
            why = (claim.error if claim is not None else None) or "the client gave no cost"
            return Finding("cost", Severity.DEVIATION, f"no cost from the client ({why})")
        return Finding("cost", Severity.INFO, f"the catalogue has no price for {model.id}: nothing to compare")
    usage = wire.usage if wire is not None and wire.usage is not None else turn.usage
    if usage is None or None in (usage.prompt_tokens, usage.completion_tokens):
        return Finding("cost", Severity.DEVIATION, "no usage to price")
    cached = usage.cached_tokens or 0
    expected = model.price.of(usage.prompt_tokens, cached, usage.completion_tokens)
    tokens = f"{usage.prompt_tokens} in ({cached} cached) + {usage.completion_tokens} out"
    listed = f"${expected:.8f} at Z.AI's ${model.price.input}/${model.price.cached_input}/${model.price.output} per 1M"
    # Required wherever the scenario asks for a cost: a client that gave none is a finding.
    claimed = claim.amount if claim is not None else None
    if claimed is None:
        why = (claim.error if claim is not None else None) or "the client gave no cost"
        return Finding("cost", Severity.DEVIATION, f"no cost from the client ({why}); {tokens} is {listed}")
    if abs(claimed - expected) <= max(abs(expected) * TOLERANCE, 1e-9):
        return Finding("cost", Severity.INFO, f"cost ${claimed:.8f} for {tokens}, as {listed}")
    return Finding(
        "cost",
        Severity.DEVIATION,
        f"the client prices {tokens} at ${claimed:.8f}; {listed}",
    )
