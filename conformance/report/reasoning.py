"""`zai-conformance reasoning`: the reasoning-control matrix of a run, as Markdown.

Two tables from a results.json, for the scenarios that steer reasoning (a catalogue `control`):
- per path, what of each control reaches Z.AI (as written, changed, renamed, dropped, refused by the
  client) — the client's own bytes, so this table is real evidence even offline;
- per endpoint and model, what answered it through the endpoint's plain SDK path: rejected with a code,
  reasoned or not — and, on live evidence, the effect against the same path's `thinking-default` cell
  (reasoning tokens with the control against without it). Answers the sources dispute are marked, and
  an answer served by the double says so: it is what Z.AI documents, not what Z.AI did.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.catalogue import Catalogue, Scenario, load_catalogue
from conformance.checks.control import Fate, applies, control_fate, lookup, request_object
from conformance.results import load_results, unpack_body

BASELINE = "thinking-default"  # the same request without any control: what a live effect is measured against
# the plain client of each endpoint: its answers are Z.AI's (or the double's), untouched by a translation
PLAIN_PATH = {"general": "openai-sdk", "coding": "openai-sdk", "anthropic": "anthropic-sdk"}
IGNORED_WITHIN = 0.2  # live: reasoning tokens within ±20% of the baseline's count as the control ignored


@dataclass(frozen=True)
class Outcome:
    """One cell of the matrix: its fate on the wire and what answered."""

    endpoint: str
    model: str
    path: str
    scenario: str
    fate: Fate | None  # None: the cell did not run (not applicable, no evidence)
    answer: str  # rejected (1210) | reasoned | no reasoning | — (nothing sent)
    evidence: str  # live | public | double | none
    reasoning_tokens: int | None
    recorded: str | None = None  # the evidence's date: Z.AI's contract changed in 2026, an effect is dated


def outcomes(document: dict[str, Any], catalogue: Catalogue) -> list[Outcome]:
    """Every cell of the run whose scenario steers reasoning, or is the baseline, read from its observation."""
    scenarios = {s.id: s for s in catalogue.scenarios}
    apis = {path.id: path.api for path in catalogue.paths}
    found = []
    for cell in document.get("cells", []):
        scenario = scenarios.get(cell.get("scenario", ""))
        if scenario is None or not (scenario.control or scenario.id == BASELINE):
            continue
        found.append(_outcome(document, cell, scenario, apis.get(cell.get("path", ""), "openai")))
    return found


def _outcome(document: dict[str, Any], cell: dict[str, Any], scenario: Scenario, api: str) -> Outcome:
    """`document`: the request body may live in its `bodies` (a body over 1 KiB is stored once there)."""
    observation = cell.get("observation") or {}
    exchanges = observation.get("exchanges") or []
    turns = observation.get("turns") or []
    turn = turns[0] if turns else {}
    sent = request_object(unpack_body(document, exchanges[0], "request_body")) if exchanges else None
    ran = cell.get("verdict") not in ("SKIPPED", "NOT_RECORDED")
    given = ran and applies(scenario.control, api)
    fate = control_fate(scenario.control, scenario.params, sent).fate if given else None
    error = turn.get("error")
    if not exchanges:
        answer = "—"
    elif error:
        answer = f"rejected ({error.get('code') or error.get('status')})"
    else:
        answer = "reasoned" if turn.get("reasoning") else "no reasoning"
    usage = turn.get("usage") or {}
    evidence = cell.get("evidence") or {}
    return Outcome(
        cell["endpoint"],
        cell["model"],
        cell["path"],
        cell["scenario"],
        fate,
        answer,
        evidence.get("kind") or "none",
        usage.get("reasoning_tokens"),
        (evidence.get("provenance") or {}).get("recorded"),
    )


def path_table(found: Iterable[Outcome], scenarios: dict[str, Scenario]) -> str:
    """Rows: the controls; columns: the paths; each entry the fate, with the endpoints where it differs."""
    fates: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    paths: list[str] = []
    for outcome in found:
        if outcome.fate is None:
            continue
        if outcome.path not in paths:
            paths.append(outcome.path)
        where = fates[(outcome.scenario, outcome.path)][outcome.fate.value]
        if outcome.endpoint not in where:
            where.append(outcome.endpoint)
    rows = [_header("control | scenario", paths)]
    for scenario_id in _controls(scenarios):
        entries = [_fate_entry(fates.get((scenario_id, path))) for path in paths]
        if any(entry != "·" for entry in entries):
            rows.append(_row(_label(scenarios[scenario_id]), entries))
    return "\n".join(rows)


def answer_table(found: Iterable[Outcome], scenarios: dict[str, Scenario], catalogue: Catalogue) -> str:
    """Rows: the controls; columns: endpoint/model; each entry what answered through the plain path."""
    found = list(found)
    baseline = {(o.endpoint, o.model, o.path): o for o in found if o.scenario == BASELINE}
    answers: dict[tuple[str, str], str] = {}
    columns: list[str] = []
    for outcome in found:
        if outcome.scenario == BASELINE or PLAIN_PATH.get(outcome.endpoint) != outcome.path or outcome.fate is None:
            continue
        column = f"{outcome.endpoint}/{outcome.model}"
        if column not in columns:
            columns.append(column)
        entry = _answer_entry(outcome, baseline.get((outcome.endpoint, outcome.model, outcome.path)))
        endpoint = next(e for e in catalogue.endpoints if e.id == outcome.endpoint)
        model = next(m for m in catalogue.models if m.id == outcome.model)
        if scenarios[outcome.scenario].unverified_answer(endpoint, model):
            entry += " †"
        answers[(outcome.scenario, column)] = entry
    rows = [_header("control | scenario", columns)]
    for scenario_id in _controls(scenarios):
        entries = [answers.get((scenario_id, column), "·") for column in columns]
        if any(entry != "·" for entry in entries):
            rows.append(_row(_label(scenarios[scenario_id]), entries))
    return "\n".join(rows)


def _answer_entry(outcome: Outcome, baseline: Outcome | None) -> str:
    entry = outcome.answer if outcome.evidence != "double" else f"{outcome.answer} (double)"
    if outcome.evidence not in ("live", "public") or outcome.answer.startswith("rejected"):
        return entry
    with_it, without = outcome.reasoning_tokens, baseline.reasoning_tokens if baseline is not None else None
    if with_it is None or not without:
        return entry
    effect = "ignored" if abs(with_it - without) <= IGNORED_WITHIN * without else "honoured"
    dated = f", {outcome.evidence} {outcome.recorded}" if outcome.recorded else f", {outcome.evidence}"
    return f"{effect}: {with_it} vs {without} reasoning tokens{dated}"


def render(document: dict[str, Any], catalogue: Catalogue) -> str:
    scenarios = {s.id: s for s in catalogue.scenarios}
    found = outcomes(document, catalogue)
    if not any(o.fate is not None for o in found):
        return "No reasoning-control cells ran in these results (select them with --cell '*/reasoning-*')."
    return "\n\n".join(
        [
            "### What reaches Z.AI, per path",
            path_table(found, scenarios),
            "### What answered, through the endpoint's plain SDK",
            answer_table(found, scenarios, catalogue),
            "† Z.AI's real answer is disputed by the sources (see the cell); an answer marked (double) is what "
            "Z.AI documents, served by the double. Live evidence shows the effect: reasoning tokens with the "
            f"control against the same path's {BASELINE} cell (within ±{IGNORED_WITHIN:.0%}: ignored).",
        ]
    )


def _controls(scenarios: dict[str, Scenario]) -> list[str]:
    """The rows: each control scenario once (a streamed twin tells its scenario's story again)."""
    return [sid for sid, scenario in scenarios.items() if scenario.control and scenario.stream_of is None]


def _label(scenario: Scenario) -> str:
    """The control as written, and the scenario that writes it (two scenarios may write the same one)."""
    shape = ", ".join(f"`{name}={json.dumps(lookup(scenario.params, name))}`" for name in scenario.control)
    return f"{shape} | {scenario.id}"


def _fate_entry(by_fate: dict[str, list[str]] | None) -> str:
    if not by_fate:
        return "·"
    if len(by_fate) == 1:
        return next(iter(by_fate))
    return "; ".join(f"{fate} ({', '.join(endpoints)})" for fate, endpoints in by_fate.items())


def _header(first: str, columns: list[str]) -> str:
    return _row(first, columns) + "\n" + _row("--- | ---", ["---"] * len(columns))


def _row(first: str, entries: list[str]) -> str:
    return "| " + " | ".join([first, *entries]) + " |"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "results", nargs="?", default="reports/results.json", help="a results.json (default: reports/results.json)"
    )


def run(args: argparse.Namespace) -> int:
    try:
        document = load_results(Path(args.results))
    except (OSError, ValueError) as exc:
        print(f"zai-conformance reasoning: cannot read {args.results}: {exc}", file=sys.stderr)
        return 2
    print(render(document, load_catalogue()))
    return 0
