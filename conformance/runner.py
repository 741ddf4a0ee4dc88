"""Run one cell: find its evidence (or record it), drive its client path, check, and give a verdict.

This is the only place that knows the order of things; each step is someone else's module. Every
outcome — no evidence, no key, a corrupt cassette, a replay miss, a client exception — ends as a
CellResult with a verdict and reasons. Nothing here raises for a bad cell: the run goes on.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance import __version__
from conformance.catalogue import Catalogue, Cell, Scenario, TurnExpectation
from conformance.checks.cost import check_cost
from conformance.checks.errors import check_expected_error, classify
from conformance.checks.operations import check_operation
from conformance.checks.request import check_request
from conformance.checks.response import check_turn
from conformance.observation import Exchange, Observation, Turn
from conformance.paths.base import Target, load_adapter
from conformance.protocol import error_classes
from conformance.recording.cassette import CorruptCassette
from conformance.recording.evidence import EvidenceStore
from conformance.recording.recorder import Recorder, WireTap
from conformance.recording.scrub import SCRUBBER
from conformance.results import CellResult, client_versions, now
from conformance.scenario import request_for
from conformance.verdict import Finding, Severity, Verdict, combine, reasons
from conformance.wire import read_answer

log = logging.getLogger("conformance")

REPLAY_KEY = "zai-conformance-replay-key"  # a placeholder: replay needs a key-shaped argument, not a key
# Keys a scenario provokes errors with. Not secrets: a key containing "invalid" is refused by Z.AI and
# the double alike (401/1002); the double reads the plan from a key's prefix (429/1113 on the wrong one).
INVALID_KEY = "zai-conformance-invalid-key"
WRONG_PLAN_KEY = {"general": "double-coding-zai-conformance", "coding": "double-payg-zai-conformance"}
CONNECT_TIMEOUT = 10.0  # seconds to open a connection, every cell
# Replay's only clock. A replayed client gets this timeout instead of the cell's idle limit: a recorded
# hang replays as the client's timeout at once (the cassette holds it as a transport fault), so in replay
# a timeout can only mean the harness or the machine stalled — never a HANG verdict.
REPLAY_STALL_GUARD = 600.0
KINDS_NOT_OVERWRITTEN = frozenset({Verdict.TRANSIENT, Verdict.BLOCKED, Verdict.HANG})


@dataclass
class RunSettings:
    mode: str = "replay"  # replay | live
    cassette_root: Path = Path("cassettes")
    base_urls: dict[str, str] = field(default_factory=dict)  # endpoint id → override
    api_key: str | None = None
    idle_timeout: float | None = None  # default: 10 s replay, 120 s live
    record_kind: str = "live"  # the evidence kind live recordings are filed under (double: issue 3)
    strict_cassettes: bool = False  # an evidence warning (recorded interactions left unused) fails the test

    @property
    def live(self) -> bool:
        return self.mode == "live"

    def timeout(self) -> float:
        return self.idle_timeout if self.idle_timeout is not None else (120.0 if self.live else 10.0)

    def client_timeout(self, idle: float) -> float:
        """The timeout a client is actually given. Live: the idle limit (silence that long is a HANG).
        Replay: only the stall guard — replay verdicts come from the evidence, not from how busy the
        machine is."""
        return idle if self.live else max(idle, REPLAY_STALL_GUARD)


def record_command(cell: Cell) -> str:
    return f"ZAI_API_KEY=… zai-conformance run --live --cell '{cell.id}'"


class CellRunner:
    def __init__(self, catalogue: Catalogue, settings: RunSettings, recorder: Recorder | None = None) -> None:
        self.catalogue = catalogue
        self.settings = settings
        self.store = EvidenceStore(settings.cassette_root)
        self.recorder = recorder or Recorder()
        # endpoint id → why: Z.AI refused the run's key there, so nothing more is sent or recorded on it
        self.refused_keys: dict[str, str] = {}
        if settings.api_key:
            SCRUBBER.add_secret(settings.api_key)

    def base_url(self, cell: Cell) -> str:
        return self.settings.base_urls.get(cell.endpoint.id, cell.endpoint.base_url).rstrip("/")

    def run(self, cell: Cell) -> CellResult:
        started = time.perf_counter()
        try:
            result = self._run(cell)
        except Exception as exc:  # a harness defect or a broken adapter entry: this cell only
            log.exception("cell %s: the harness could not run it", cell.id)
            message = SCRUBBER.text(f"{type(exc).__name__}: {exc}")
            result = self._result(
                cell, Verdict.FAIL, [f"the harness could not run this cell: {message}"], harness_error=message
            )
        result.duration_ms = round((time.perf_counter() - started) * 1000, 2)
        if result.verdict is not Verdict.SKIPPED:
            result.limits = self.limits(cell)
        return result

    def _result(self, cell: Cell, verdict: Verdict, why: list[str], **extra: Any) -> CellResult:
        return CellResult(
            cell=cell.id,
            endpoint=cell.endpoint.id,
            model=cell.model.id,
            path=cell.path.id,
            scenario=cell.scenario.id,
            verdict=verdict,
            reasons=why,
            **extra,
        )

    def _run(self, cell: Cell) -> CellResult:
        if cell.not_applicable:
            return self._result(cell, Verdict.SKIPPED, [f"not applicable: {cell.not_applicable}"])
        if self.settings.live:
            return self._live(cell)
        evidence = self.store.find(cell)
        if evidence is None:
            return self._result(
                cell,
                Verdict.NOT_RECORDED,
                ["no recording of this cell (live, public or double) — replay has nothing to judge"],
                record_command=record_command(cell),
            )
        cassette = self._relative(evidence.path)
        try:
            with self.recorder.replay(evidence.path) as tap:
                observation, intended = self._drive(cell, tap)
                provenance = tap.provenance
                recorded = tap.recorded_interactions
        except CorruptCassette as exc:
            return self._result(
                cell,
                Verdict.NOT_RECORDED,
                [f"evidence unusable: {exc}"],
                evidence_error=str(exc),
                record_command=record_command(cell),
            )
        stalled = _stalled(observation)
        if stalled is not None:
            why = (
                f"replay stalled: {stalled} after the {REPLAY_STALL_GUARD:.0f} s stall guard, and the evidence "
                "holds no recorded timeout — the machine or the harness stalled; this is not a verdict"
            )
            return self._result(cell, Verdict.FAIL, [why], harness_error=why, observation=observation)
        result = self._judge(cell, observation, intended, recorded)
        result.evidence = {
            "kind": evidence.kind,
            "cassette": cassette,
            "provenance": provenance,
            "used": any(e.outcome == "replayed" for e in observation.exchanges),
        }
        self._warn_unused(result, recorded)
        return result

    def _warn_unused(self, result: CellResult, recorded: int) -> None:
        """An evidence warning: the cassette holds interactions a replay that ran to its end never
        asked for — the path stopped sending a request it sent when recorded, or the cassette holds
        more than the cell. The verdict stands; --strict-cassettes fails the test for it."""
        unused = result.unused_interactions
        if not unused or result.evidence is None:
            return
        result.evidence["unused"] = unused
        result.evidence["warnings"] = [
            f"{result.evidence['cassette']} holds {recorded} interactions; the path used {recorded - unused}: "
            f"{unused} recorded interaction(s) never asked for"
        ]
        result.strict_cassettes = self.settings.strict_cassettes

    def _live(self, cell: Cell) -> CellResult:
        if not self.settings.api_key:
            return self._result(cell, Verdict.SKIPPED, ["live mode needs ZAI_API_KEY; it is not set"])
        base_url = self.base_url(cell)
        double_only = cell.scenario.provoke.double_only if cell.scenario.provoke else None
        if double_only and _is_zai(base_url):
            return self._result(
                cell, Verdict.SKIPPED, [f"{double_only}: this cell's evidence comes from the Z.AI double"]
            )
        provokes_key = cell.scenario.provoke is not None and cell.scenario.provoke.key is not None
        refused = self.refused_keys.get(cell.endpoint.id)
        if refused is not None and not provokes_key:
            return self._result(cell, Verdict.SKIPPED, [f"not run: {refused}"])
        final = self.store.location(self.settings.record_kind, cell)
        scratch = final.with_name(f".{final.stem}.recording-{os.getpid()}.yaml")
        scratch.unlink(missing_ok=True)
        provenance = {
            "kind": self.settings.record_kind,
            "recorded": now(),
            "recorded_by": f"zai-conformance {__version__}",
            "clients": client_versions(),
            "endpoint": cell.endpoint.id,
            "endpoint_url": SCRUBBER.url(base_url),
            "target_is_zai": _is_zai(base_url),
            "model": cell.model.id,
            "path": cell.path.id,
            "scenario": cell.scenario.id,
        }
        if self.settings.record_kind == "double":
            provenance["synthetic"] = f"produced by the zai-conformance {__version__} double, not by Z.AI"
        try:
            with self.recorder.record(scratch, provenance) as tap:
                observation, intended = self._drive(cell, tap)
            result = self._judge(cell, observation, intended, len(observation.exchanges))
        except BaseException:
            scratch.unlink(missing_ok=True)
            raise
        refusal = _refusal(observation)
        if refusal is not None and refusal[1] in error_classes().key_refused and not provokes_key:
            return self._key_refused(cell, scratch, refusal, observation)
        worse = None
        if refusal is not None and refusal[1] in error_classes().one_off and not _provokes(cell, refusal[1]):
            worse = f"a one-off refusal, code {refusal[1]}, this time"
        kept = self._keep_recording(scratch, final, result, worse)
        recorded = any(e.outcome == "recorded" for e in observation.exchanges)
        if kept or recorded:
            result.evidence = {
                "kind": self.settings.record_kind,
                "cassette": self._relative(final) if kept else None,
                "provenance": {**provenance, "kept": kept},
                "used": recorded,
            }
        return result

    def _key_refused(self, cell: Cell, scratch: Path, refusal: tuple[int, str], observation: Observation) -> CellResult:
        """Z.AI refused the run's key: a property of the run, not of this cell. Nothing of it is kept,
        no later cell on this endpoint is sent, every older recording stays, and the run says so once."""
        scratch.unlink(missing_ok=True)
        status, code = refusal
        meaning = error_classes().key_refused[code]
        why = (
            f"Z.AI refused the run's key on the {cell.endpoint.id} endpoint (HTTP {status}, code {code}: {meaning}) "
            f"at cell {cell.id}; nothing more is recorded on this endpoint and every older recording is kept"
        )
        self.refused_keys[cell.endpoint.id] = why
        log.warning("%s — check ZAI_API_KEY (and the plan: a Coding Plan key works on coding/anthropic)", why)
        return self._result(cell, Verdict.SKIPPED, [why], observation=observation)

    def _keep_recording(self, scratch: Path, final: Path, result: CellResult, worse: str | None = None) -> bool:
        """Make the new recording the cell's cassette, unless an older one is better evidence: any
        older recording beats one in which the client sent nothing, one that only met a quota, an
        overload or a hang, and one refused for its content once (`worse` says why). A recording with
        nothing sent is kept when there is no older one: it documents that the client refused (and
        replay shows it again, or shows that it changed). Returns whether the new recording was kept."""
        if not scratch.exists():
            return False
        sent = any(e.outcome == "recorded" for e in (result.observation.exchanges if result.observation else []))
        if worse is None and (not sent or result.verdict in KINDS_NOT_OVERWRITTEN):
            worse = f"{result.verdict.value} this time"
        if final.exists() and worse is not None:
            scratch.unlink()
            result.reasons.append(f"previous recording kept ({worse}): {self._relative(final)}")
            return False
        os.replace(scratch, final)
        return True

    def limits(self, cell: Cell) -> dict[str, float]:
        """Every cell runs under an idle limit (no byte for this long: the client's timeout → HANG) and a
        connect limit; a scenario may set its own idle limit (`timeout`)."""
        return {"idle_s": cell.scenario.timeout or self.settings.timeout(), "connect_s": CONNECT_TIMEOUT}

    def _drive(self, cell: Cell, tap: WireTap) -> tuple[Observation, dict[str, Any]]:
        """Run the path; return what it did and the first request it is meant to put on the wire
        (the scenario in the endpoint's protocol, with the path's documented configuration)."""
        limits = self.limits(cell)
        target = Target(
            base_url=self.base_url(cell),
            api_key=self._key(cell),
            idle_timeout=self.settings.client_timeout(limits["idle_s"]),
            connect_timeout=self.settings.client_timeout(limits["connect_s"]),
        )
        adapter = load_adapter(cell.path)(cell.path, target)
        adapter.client_params = dict(cell.scenario.client_params)
        provoke = cell.scenario.provoke
        adapter.fault_header = provoke.fault if provoke and provoke.via == "header" else None
        model = cell.model_sent
        intended = adapter.intended(request_for(self.catalogue, cell.scenario, model, cell.endpoint.protocol))
        try:
            turns = adapter.run(cell.scenario, request_for(self.catalogue, cell.scenario, model, cell.path.api))
        finally:
            adapter.close()
        return Observation(turns=turns, exchanges=tap.exchanges, local_requests=tap.local_requests), intended

    def _key(self, cell: Cell) -> str:
        provoked = cell.scenario.provoke.key if cell.scenario.provoke else None
        if provoked == "invalid":
            return INVALID_KEY
        if provoked == "wrong-plan":
            return WRONG_PLAN_KEY.get(cell.endpoint.id, WRONG_PLAN_KEY["coding"])
        return (self.settings.api_key or "") if self.settings.live else REPLAY_KEY

    def _judge(self, cell: Cell, observation: Observation, intended: dict[str, Any], recorded: int) -> CellResult:
        scenario = cell.scenario
        tools = {name: self.catalogue.tools[name] for name in scenario.tools}
        expect, why = scenario.expectations(cell.endpoint, cell.model)
        findings: list[Finding] = [Finding("expectation", Severity.INFO, why)] if why else []
        failure: tuple[Verdict, str] | None = None
        wire = None
        if scenario.operation != "chat":
            return self._judge_operation(cell, observation, intended, expect[0])
        for turn in observation.turns:
            exchange = _exchange_for(observation.exchanges, turn)
            if exchange is not None:
                base = self.base_url(cell)
                findings += check_request(
                    exchange,
                    turn.index,
                    intended,
                    cell.endpoint,
                    base,
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
        findings += _conversation_findings(observation, scenario, recorded, failure is not None)
        extra: dict[str, Any] = {
            "findings": findings,
            "observation": observation,
            "unused_interactions": _unused_interactions(observation, recorded, failure is not None),
        }
        if failure is not None:
            verdict, why = failure
            if verdict is Verdict.NOT_RECORDED:
                extra["record_command"] = record_command(cell)
            return self._result(cell, verdict, [why, *reasons(findings)], **extra)
        return self._result(cell, combine(findings), reasons(findings), **extra)

    def _judge_operation(
        self, cell: Cell, observation: Observation, intended: dict[str, Any], expect: TurnExpectation
    ) -> CellResult:
        (turn,) = observation.turns
        exchange = _exchange_for(observation.exchanges, turn)
        extra: dict[str, Any] = {"observation": observation}
        if exchange is not None and exchange.outcome == "miss":
            why = f"replay miss: {exchange.miss}"
            return self._result(cell, Verdict.NOT_RECORDED, [why], record_command=record_command(cell), **extra)
        if turn.error is not None:
            verdict, why = classify(turn.error, sent=exchange is not None)
            return self._result(cell, verdict, [why], **extra)
        base = self.base_url(cell)
        findings = check_operation(cell.scenario.operation, expect, turn, exchange, intended, cell.endpoint, base)
        return self._result(cell, combine(findings), reasons(findings), findings=findings, **extra)

    def _relative(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(path)


def _is_zai(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host == "z.ai" or host.endswith(".z.ai")


def _refusal(observation: Observation) -> tuple[int, str] | None:
    """The first error Z.AI itself answered in this recording: (HTTP status, business code)."""
    for exchange in observation.exchanges:
        if exchange.outcome == "recorded" and exchange.status is not None and exchange.status >= 400:
            wire = read_answer(exchange.status, exchange.response_body, exchange.response_headers, exchange.url)
            if wire.error_code is not None:
                return exchange.status, str(wire.error_code)
    return None


def _provokes(cell: Cell, code: str) -> bool:
    """The scenario asks for this error code on this cell (then getting it is good evidence)."""
    expect, _ = cell.scenario.expectations(cell.endpoint, cell.model)
    return any(turn.error is not None and turn.error.code == code for turn in expect)


def _stalled(observation: Observation) -> str | None:
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
    client that refused answered from none."""
    answered_from = turn.extras.get("answered_from") if turn.extras else None
    if answered_from == "client":
        return None
    if answered_from in ("upstream", "cache"):
        return exchanges[-1] if exchanges else None
    return exchanges[turn.index] if turn.index < len(exchanges) else None


def _conversation_findings(observation: Observation, scenario: Scenario, recorded: int, failed: bool) -> list[Finding]:
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
    replayed = sum(1 for e in observation.exchanges if e.outcome == "replayed")
    return recorded - replayed if not failed and replayed and replayed < recorded else 0
