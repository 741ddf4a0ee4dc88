"""Judge one cell: what its path did (the Observation) against what its scenario expects, as a verdict
with reasons and findings.

Pure: no I/O, no run state, no client. The runner drives the path and hands the result here, so every
rule that turns an observation into a verdict — a replay miss is NOT_RECORDED, a client that refused
before sending is classified, each turn is checked on the request and the response side, a
conversation that stopped early fails — can be read, and tested, without running anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance.catalogue import Cell, Scenario, Tool, TurnExpectation
from conformance.checks.agent import check_agent
from conformance.checks.control import answer_finding, applies, check_control, request_object
from conformance.checks.cost import check_cost
from conformance.checks.cost_map import check_cost_map
from conformance.checks.errors import check_expected_error, classify
from conformance.checks.operations import check_operation
from conformance.checks.request import check_request
from conformance.checks.response import check_turn
from conformance.observation import Exchange, Observation, Turn
from conformance.verdict import Finding, Severity, Verdict, combine, reasons
from conformance.wire import read_answer


@dataclass(frozen=True)
class Judgement:
    """A cell's verdict and everything the judging found out on the way."""

    verdict: Verdict
    reasons: tuple[str, ...]
    findings: tuple[Finding, ...] = ()
    # recorded interactions a replay that ran to its end never asked for (an evidence warning)
    unused_interactions: int = 0

    @property
    def needs_recording(self) -> bool:
        """The evidence does not answer this cell (a replay miss): recording it again would."""
        return self.verdict is Verdict.NOT_RECORDED


def judge(
    cell: Cell,
    observation: Observation,
    intended: dict[str, Any],
    recorded_interactions: int,
    base_url: str,
    tools: dict[str, Tool],
) -> Judgement:
    """The verdict on one cell. `intended` is the first request the path is meant to send (the scenario
    in the endpoint's protocol, with the path's configuration), `recorded_interactions` how many
    interactions its evidence holds, `base_url` the endpoint the path was aimed at and `tools` the
    scenario's tools by name."""
    scenario = cell.scenario
    expect, why = scenario.expectations(cell.endpoint, cell.model)
    if scenario.operation != "chat":
        return _judge_operation(cell, observation, intended, expect[0], base_url)
    if scenario.agent is not None:
        return _judge_agent(cell, observation)
    findings: list[Finding] = [Finding("expectation", Severity.INFO, why)] if why else []
    failure: tuple[Verdict, str] | None = None
    wire = None
    for turn in observation.turns:
        exchange = _exchange_for(observation.exchanges, turn)
        if exchange is not None:
            findings += check_request(
                exchange,
                turn.index,
                intended,
                cell.endpoint,
                base_url,
                previous=wire,
                client_only=scenario.client_params,
            )
            if exchange.outcome == "miss":
                failure = (Verdict.NOT_RECORDED, f"replay miss on turn {turn.index + 1}: {exchange.miss}")
                break
        wire = (
            read_answer(exchange.status, exchange.response_body, exchange.response_headers, exchange.url)
            if exchange is not None and exchange.status is not None
            else None
        )
        wanted = expect[turn.index]
        if wanted.error is not None:
            reached = exchange is not None or observation.local_requests > 0 or not wanted.error.sent
            if turn.error is not None and not reached and not turn.error.timeout:
                # the client, or its proxy, refused: Z.AI's error never came
                failure = classify(turn.error, sent=False)
                break
            findings += [
                Finding(f.check, f.severity, f.message, turn.index, "response")
                for f in check_expected_error(wanted.error, turn.error, wire, sent=exchange is not None)
            ]
            if turn.error is not None:
                break
            continue
        if turn.error is not None:
            failure = classify(turn.error, exchange is not None, proxied=observation.local_requests > 0)
            break
        findings += check_turn(wanted, turn, wire, tools, scenario.stream, cell.path.api)
        if wanted.cost:
            findings += check_cost(turn, wire, cell.model)
        if wanted.cost_map:
            findings += check_cost_map(turn, cell.model)
    findings += _conversation_findings(observation, scenario, recorded_interactions, failure is not None)
    findings += _control_findings(cell, observation) + _served_faults(observation)
    unused = _unused_interactions(observation, recorded_interactions, failure is not None)
    if failure is not None:
        verdict, why = failure
        return Judgement(verdict, (why, *reasons(findings)), tuple(findings), unused)
    return Judgement(combine(findings), tuple(reasons(findings)), tuple(findings), unused)


def _judge_agent(cell: Cell, observation: Observation) -> Judgement:
    """An agent's run: a replay miss is NOT_RECORDED, a failure it reported is classified like a client's
    error, and otherwise the task and the requests decide (checks/agent.py). The agent writes its own
    requests, so they are not compared with the scenario's."""
    missed = next((e for e in observation.exchanges if e.outcome == "miss"), None)
    if missed is not None:
        return Judgement(Verdict.NOT_RECORDED, (f"replay miss: {missed.miss}",))
    task = cell.scenario.agent
    assert task is not None
    turn = observation.turns[0]
    findings = check_agent(task, turn, observation.exchanges) + _served_faults(observation)
    if turn.error is not None:
        verdict, why = classify(turn.error, sent=bool(observation.exchanges))
        return Judgement(verdict, (why, *reasons(findings)), tuple(findings))
    return Judgement(combine(findings), tuple(reasons(findings)), tuple(findings))


def _served_faults(observation: Observation) -> list[Finding]:
    """A transport fault the double played says why (a hang, a long generation without a byte)."""
    return [
        Finding("transport_fault", Severity.INFO, str(exchange.transport_fault["served"]))
        for exchange in observation.exchanges
        if exchange.transport_fault and exchange.transport_fault.get("served")
    ]


def _control_findings(cell: Cell, observation: Observation) -> list[Finding]:
    """A reasoning-control scenario names the control's fate on the wire and Z.AI's answer to it; any
    cell whose real answer the sources dispute says so."""
    scenario = cell.scenario
    unverified = scenario.unverified_answer(cell.endpoint, cell.model)
    if not applies(scenario.control, cell.path.api):
        if unverified is None:
            return []
        return [Finding("zai_answer", Severity.INFO, f"Z.AI's real answer is unverified: {unverified}")]
    first = observation.turns[0] if observation.turns else None
    exchange = _exchange_for(observation.exchanges, first) if first is not None else None
    sent = request_object(exchange.request_body) if exchange is not None else None
    refusal = first.error.message[:160] if first is not None and first.error is not None and exchange is None else None
    served = exchange is not None and exchange.outcome == "served"
    return [
        *check_control(scenario.control, scenario.params, sent, refusal),
        *answer_finding(first if exchange is not None else None, unverified, served),
    ]


def _judge_operation(
    cell: Cell, observation: Observation, intended: dict[str, Any], expect: TurnExpectation, base_url: str
) -> Judgement:
    """A non-chat operation (`GET /models`, `POST /embeddings`): one call, judged by its own checks."""
    (turn,) = observation.turns
    exchange = _exchange_for(observation.exchanges, turn)
    if exchange is not None and exchange.outcome == "miss":
        return Judgement(Verdict.NOT_RECORDED, (f"replay miss: {exchange.miss}",))
    if turn.error is not None:
        verdict, why = classify(turn.error, sent=exchange is not None)
        return Judgement(verdict, (why,))
    findings = check_operation(cell.scenario.operation, expect, turn, exchange, intended, cell.endpoint, base_url)
    return Judgement(combine(findings), tuple(reasons(findings)), tuple(findings))


def stalled(observation: Observation) -> str | None:
    """In replay, a client timeout must come from a recorded transport fault; otherwise say which turn
    timed out (the replay stalled, which no verdict may rest on)."""
    if any(e.transport_fault for e in observation.exchanges):
        return None
    for turn in observation.turns:
        if turn.error is not None and turn.error.timeout:
            return f"turn {turn.index + 1} timed out ({turn.error.exception.rsplit('.', 1)[-1]})"
    return None


def _exchange_for(exchanges: list[Exchange], turn: Turn) -> Exchange | None:
    """The request that produced a turn: the turn's own by position, unless the path says where its
    answer came from — a Router that fell back or served a cache answers from its last request; a
    client that refused answered from none. Most paths send one request per turn and say nothing
    (`answered_from` None): for them the position is the answer."""
    answered_from = turn.answered_from
    if answered_from == "client":
        return None
    if answered_from in ("upstream", "cache"):
        return exchanges[-1] if exchanges else None
    return exchanges[turn.index] if turn.index < len(exchanges) else None


def _conversation_findings(observation: Observation, scenario: Scenario, recorded: int, failed: bool) -> list[Finding]:
    """Findings about the conversation as a whole: how many requests the path sent, whether it ran
    all its turns, and how much of the recording it used."""
    findings = []
    turns = scenario.turns
    sent = len(observation.exchanges)
    if scenario.requests is not None:
        if sent != scenario.requests and not failed:
            findings.append(
                Finding(
                    "requests",
                    Severity.FAIL,
                    f"the path sent {sent} request(s) to Z.AI; the scenario makes {scenario.requests} when it works",
                )
            )
        elif sent == scenario.requests:
            findings.append(Finding("requests", Severity.INFO, f"{sent} request(s) to Z.AI, as the scenario makes"))
    elif sent > len(observation.turns):
        findings.append(
            Finding(
                "requests",
                Severity.DEVIATION,
                f"the path sent {sent} requests for {len(observation.turns)} turn(s)",
            )
        )
    if not failed and len(observation.turns) < turns:
        findings.append(
            Finding(
                "conversation",
                Severity.FAIL,
                f"the conversation stopped after {len(observation.turns)} of {turns} turns",
            )
        )
    unused = _unused_interactions(observation, recorded, failed)
    if unused:
        findings.append(
            Finding(
                "evidence",
                Severity.INFO,
                f"the recording has {recorded} interactions; the path used {recorded - unused}",
            )
        )
    return findings


def _unused_interactions(observation: Observation, recorded: int, failed: bool) -> int:
    """Recorded interactions a replay never asked for. Counted only when the path used some of the
    recording and the conversation ran to its end: a client that refused before sending, or a failure
    that stopped the conversation, leaves the rest unused for a reason its verdict already gives."""
    replayed = sum(1 for e in observation.exchanges if e.outcome in ("replayed", "served"))
    return recorded - replayed if not failed and replayed and replayed < recorded else 0
