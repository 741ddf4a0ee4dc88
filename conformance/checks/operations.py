"""Checks for the non-chat operations: `GET /models` and `POST /embeddings`.

The same three-way comparison as for chat: what the scenario expects, what Z.AI sent (read here from
the raw body, independently of any client), and what the client exposed.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.catalogue import Endpoint, TurnExpectation
from conformance.observation import Exchange, Turn
from conformance.verdict import Finding, Severity

INFO, DEVIATION, FAIL = Severity.INFO, Severity.DEVIATION, Severity.FAIL
ROUTES = {
    ("models", "openai"): "/models",
    ("models", "anthropic"): "/v1/models",
    ("embeddings", "openai"): "/embeddings",
}


def check_operation(
    operation: str,
    expect: TurnExpectation,
    turn: Turn,
    exchange: Exchange | None,
    intended: dict[str, Any],
    endpoint: Endpoint,
    base_url: str,
) -> list[Finding]:
    findings = _request(operation, exchange, intended, endpoint, base_url) if exchange is not None else []
    sent = _json(exchange.response_body) if exchange is not None else None
    if operation == "models":
        findings += _models(expect, turn, sent)
    else:
        findings += _embeddings(expect, turn, sent)
    return [Finding(f.check, f.severity, f.message, turn.index, f.side) for f in findings]


def _request(
    operation: str, exchange: Exchange, intended: dict[str, Any], endpoint: Endpoint, base_url: str
) -> list[Finding]:
    route = ROUTES.get((operation, endpoint.protocol), "")
    wanted = base_url.rstrip("/") + route
    method = "GET" if operation == "models" else "POST"
    findings = []
    if exchange.url.split("?")[0] != wanted or exchange.method != method:
        findings.append(
            Finding(
                "request_url",
                FAIL,
                f"sent {exchange.method} {exchange.url}; expected {method} {wanted}",
                None,
                "request",
            )
        )
    body = _json(exchange.request_body) or {}
    for key, value in intended.items():
        if body.get(key) != value:
            findings.append(
                Finding(
                    "request_params", DEVIATION, f"{key}: intended {value!r}, sent {body.get(key)!r}", None, "request"
                )
            )
    return findings


def _models(expect: TurnExpectation, turn: Turn, sent: Any) -> list[Finding]:
    if turn.models is None:  # required: the listing is what a models call exposes
        return [Finding("models", FAIL, "the path exposed no model listing")]
    exposed = [m for m in turn.models if m]
    wire = [item.get("id") for item in (sent or {}).get("data") or [] if isinstance(item, dict)]
    findings = []
    if sent is not None and exposed != wire:
        findings.append(Finding("models", FAIL, f"the path lists {len(exposed)} models; Z.AI sent {len(wire)}: {wire}"))
    missing = [model for model in expect.models_listed if model not in exposed]
    if missing:
        who = "Z.AI did not list them" if not any(m in wire for m in missing) else "the path dropped them"
        findings.append(Finding("models", FAIL, f"{missing} not in the listing ({who})"))
    if not findings:
        findings.append(
            Finding("models", INFO, f"{len(exposed)} models listed, {list(expect.models_listed)} among them")
        )
    if sent is not None and "hasMore" in sent and "has_more" not in sent:
        findings.append(
            Finding("models", INFO, "Z.AI pages the listing with `hasMore` (Anthropic's API says `has_more`)")
        )
    return findings


def _embeddings(expect: TurnExpectation, turn: Turn, sent: Any) -> list[Finding]:
    exposed = list(turn.embedding_lengths or [])  # required: none exposed is the first finding below
    wire = [len(item.get("embedding") or []) for item in (sent or {}).get("data") or [] if isinstance(item, dict)]
    findings = []
    if not exposed:
        findings.append(Finding("embeddings", FAIL, "the path exposed no embedding"))
    elif sent is not None and exposed != wire:
        findings.append(Finding("embeddings", FAIL, f"vector lengths {exposed} differ from Z.AI's {wire}"))
    wanted = expect.embedding_dimensions
    if wanted is not None and exposed and any(length != wanted for length in exposed):
        who = "Z.AI sent" if wire and wire != [wanted] * len(wire) else "the path exposed"
        findings.append(Finding("embeddings", FAIL, f"dimensions {wanted} asked; {who} vectors of {exposed}"))
    usage = turn.usage
    if usage is None or usage.prompt_tokens is None:
        findings.append(Finding("usage", DEVIATION, "no prompt_tokens in the embedding usage"))
    if not findings:
        findings.append(Finding("embeddings", INFO, f"{len(exposed)} vector(s) of {exposed[0]} dimensions"))
    return findings


def _json(text: str | None) -> Any:
    try:
        return json.loads(text or "")
    except ValueError:
        return None
