"""Run one cell: find its evidence (or record it), drive its client path, and have it judged.

This is the only place that knows the order of things — evidence → path → judge — and each step is
someone else's module: the evidence store says where a cell's bytes are and which recording to keep,
the path drives the client, `checks.judge` gives the verdict. Every outcome — no evidence, no key, a
corrupt cassette, a replay miss, a client exception — ends as a CellResult with a verdict and
reasons. Nothing here raises for a bad cell: the run goes on.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.catalogue import Catalogue, Cell
from conformance.checks.judge import Judgement, judge, stalled
from conformance.observation import Observation
from conformance.paths.base import CallOptions, Target, load_adapter
from conformance.recording import netguard
from conformance.recording.cassette import CorruptCassette
from conformance.recording.evidence import (
    USED,
    EvidenceStore,
    Kept,
    KeyRefusal,
    NewRecording,
    is_zai,
    provokes_key,
    refused_key,
    served_evidence,
    served_provenance,
)
from conformance.recording.modes import CellPlan, RecordMode, plan_for
from conformance.recording.recorder import Recorder, WireTap
from conformance.recording.served import ServedDouble
from conformance.results import CellResult, client_versions, now
from conformance.scenario import offered_tools, request_for
from conformance.secrets import SCRUBBER
from conformance.triggers import INVALID_KEY, WRONG_PLAN_KEY
from conformance.verdict import Finding, Severity, Verdict

log = logging.getLogger("conformance")

REPLAY_KEY = "zai-conformance-replay-key"  # a placeholder: replay needs a key-shaped argument, not a key
# INVALID_KEY and WRONG_PLAN_KEY (the keys a scenario provokes errors with) live with the double's
# trigger protocol (conformance/triggers.py); importable from here as well.
CONNECT_TIMEOUT = 10.0  # seconds to open a connection, every cell
# Replay's only clock. A replayed client gets this timeout instead of the cell's idle limit: a recorded
# hang replays as the client's timeout at once (the cassette holds it as a transport fault), so in replay
# a timeout can only mean the harness or the machine stalled — never a HANG verdict.
REPLAY_STALL_GUARD = 600.0


@dataclass
class RunSettings:
    # "replay" | "live" (RecordMode.run_mode). Given alone, "live" means record mode all, as it always has;
    # `record_mode`, when given, decides, and `mode` follows it.
    mode: str = "replay"
    cassette_root: Path = Path("cassettes")
    base_urls: dict[str, str] = field(default_factory=dict)  # endpoint id → override
    api_key: str | None = None
    idle_timeout: float | None = None  # default: 10 s replay, 120 s live
    strict_cassettes: bool = False  # an evidence warning (recorded interactions left unused) fails the test
    record_mode: RecordMode = RecordMode.NONE
    block_network: bool = False  # refuse every connection outside loopback, recording or not

    def __post_init__(self) -> None:
        if self.mode not in ("replay", "live"):
            raise ValueError(f"mode {self.mode!r}: replay or live (a record mode goes in record_mode)")
        if self.record_mode is RecordMode.NONE and self.mode == "live":
            self.record_mode = RecordMode.ALL
        self.mode = self.record_mode.run_mode

    @property
    def live(self) -> bool:
        """The run may call the endpoints with the key (some cells at least: see CellRunner.plan)."""
        return self.record_mode.records

    @property
    def guarded(self) -> bool:
        """The loopback-only network guard is on for the whole run: in replay, and with --block-network."""
        return not self.live or self.block_network

    def timeout(self, live: bool | None = None) -> float:
        """The idle limit of a cell that is recorded (`live`) or replayed; by default, of the run's mode."""
        live = self.live if live is None else live
        return self.idle_timeout if self.idle_timeout is not None else (120.0 if live else 10.0)

    def client_timeout(self, idle: float, live: bool | None = None) -> float:
        """The timeout a client is actually given. Live: the idle limit (silence that long is a HANG).
        Replay: only the stall guard — replay verdicts come from the evidence, not from how busy the
        machine is."""
        live = self.live if live is None else live
        return idle if live else max(idle, REPLAY_STALL_GUARD)


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
        self._double: ServedDouble | None = None  # answers cells without recorded evidence (replay)
        if settings.api_key:
            SCRUBBER.add_secret(settings.api_key)

    def base_url(self, cell: Cell) -> str:
        return self.settings.base_urls.get(cell.endpoint.id, cell.endpoint.base_url).rstrip("/")

    def plan(self, cell: Cell) -> CellPlan:
        """What the run's record mode means for this cell: replay it, or record it (anew, extending its
        live cassette, or rewriting it) — decided before it runs, from what is on disk now."""
        if not self.settings.record_mode.records:
            return CellPlan.REPLAY
        return plan_for(
            self.settings.record_mode,
            has_live=self.store.location("live", cell).is_file(),
            replays_evidence=load_adapter(cell.path).replays_evidence,
        )

    def run(self, cell: Cell) -> CellResult:
        started = time.perf_counter()
        plan = CellPlan.REPLAY
        try:
            plan = self.plan(cell)  # _run decides the same way: nothing on disk changes in between
            result = self._run(cell)
            if not plan.records and failed_inside_proxy(result):
                result = self._retried(cell, result)
        except Exception as exc:  # a harness defect or a broken adapter entry: this cell only
            log.exception("cell %s: the harness could not run it", cell.id)
            message = SCRUBBER.text(f"{type(exc).__name__}: {exc}")
            result = self._result(
                cell, Verdict.FAIL, [f"the harness could not run this cell: {message}"], harness_error=message
            )
        result.duration_ms = round((time.perf_counter() - started) * 1000, 2)
        if result.verdict is not Verdict.SKIPPED:
            result.limits = self.limits(cell, live=plan.records)
        return result

    def _retried(self, cell: Cell, first: CellResult) -> CellResult:
        """Replay once more a cell whose proxy failed inside itself before anything reached Z.AI. LiteLLM
        1.110's proxy now and then raises an internal error (a context-variable lookup in its datastore
        routing) on a request it otherwise serves: seen once in six full runs (about 20,000 proxy cells),
        never twice in a row. In replay the cell runs again from its first turn on the same recorded
        answers, so the second attempt meets the same evidence; its verdict stands, and the cell says
        that it was retried and why."""
        second = self._run(cell)
        first_why = first.reasons[0] if first.reasons else first.verdict.value
        second.findings.append(
            Finding(
                "harness",
                Severity.INFO,
                f"retried once: the first attempt failed inside the proxy before anything reached Z.AI ({first_why})",
            )
        )
        return second

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
        adapter = load_adapter(cell.path)
        missing = adapter.unavailable(cell.path)
        if missing is not None:
            return self._result(cell, Verdict.SKIPPED, [f"not run on this machine: {missing}"])
        plan = self.plan(cell)
        if plan.records:
            return self._live(cell, plan)
        evidence = self.store.find(cell) if adapter.replays_evidence else None
        if evidence is None:
            return self._served(cell)
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
        stall = stalled(observation)
        if stall is not None:
            why = (
                f"replay stalled: {stall} after the {REPLAY_STALL_GUARD:.0f} s stall guard, and the evidence "
                "holds no recorded timeout — the machine or the harness stalled; this is not a verdict"
            )
            return self._result(cell, Verdict.FAIL, [why], harness_error=why, observation=observation)
        result = self._judged(cell, self._judge(cell, observation, intended, recorded), observation)
        result.evidence = evidence.evidence(provenance, observation.exchanges)
        self._warn_unused(result, recorded)
        return result

    def _served(self, cell: Cell) -> CellResult:
        """No live or public recording: the double answers this cell's client now (synthetic evidence,
        labelled so), so the verdict is about what this client sends today."""
        if self._double is None:
            self._double = ServedDouble(self.catalogue)
        provenance = served_provenance(cell, clients=client_versions())
        answer = self._double.answerer(self.limits(cell, live=False)["idle_s"])
        with self.recorder.serve(answer, provenance) as tap:
            observation, intended = self._drive(cell, tap)
        stall = stalled(observation)
        if stall is not None:
            why = f"the served double stalled: {stall} with no fault served — a harness defect; this is not a verdict"
            return self._result(cell, Verdict.FAIL, [why], harness_error=why, observation=observation)
        served = sum(1 for e in observation.exchanges if e.outcome == "served")
        result = self._judged(cell, self._judge(cell, observation, intended, served), observation)
        result.evidence = served_evidence(provenance, observation.exchanges)
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

    def _live(self, cell: Cell, plan: CellPlan) -> CellResult:
        if not self.settings.api_key:
            return self._result(cell, Verdict.SKIPPED, [self._needs_key()])
        base_url = self.base_url(cell)
        double_only = cell.scenario.provoke.double_only if cell.scenario.provoke else None
        if double_only and is_zai(base_url):
            return self._result(
                cell, Verdict.SKIPPED, [f"{double_only}: this cell's evidence comes from the Z.AI double"]
            )
        if cell.scenario.paced and not is_zai(base_url):
            why = (
                "a silence Z.AI's generation makes (modelled by the double in-process, wire/pacing.py); a server "
                "other than Z.AI sends its answer at once, so a live run against it cannot show it"
            )
            return self._result(cell, Verdict.SKIPPED, [why])
        blocked = self._blocked(cell, base_url)
        if blocked is not None:
            return self._result(cell, Verdict.SKIPPED, [blocked])
        refused = self.refused_keys.get(cell.endpoint.id)
        if refused is not None and not provokes_key(cell):
            return self._result(cell, Verdict.SKIPPED, [f"not run: {refused}"])
        if plan is CellPlan.EXTEND:
            return self._extended(cell, base_url)
        recording = self.store.new_recording("live", cell, base_url, recorded=now(), clients=client_versions())
        try:
            with self.recorder.record(recording.scratch, recording.provenance) as tap:
                observation, intended = self._drive(cell, tap)
            judgement = self._judge(cell, observation, intended, len(observation.exchanges))
        except BaseException:
            recording.discard()
            raise
        refusal = refused_key(cell, observation.exchanges)
        if refusal is not None:
            return self._key_refused(cell, recording, refusal, observation)
        result = self._judged(cell, judgement, observation)
        if plan is CellPlan.REWRITE:
            kept = self.store.replace(recording)
        else:
            kept = self.store.keep(recording, cell, judgement.verdict, observation.exchanges)
        return self._recorded(result, recording, kept)

    def _extended(self, cell: Cell, base_url: str) -> CellResult:
        """new_episodes on a cell with a live cassette: what the cassette holds answers, what it lacks is
        recorded and appended. Judged like a replay for what was there (the interactions it held and the
        path never asked for are an evidence warning), like a recording for what was added."""
        try:
            recording = self.store.extension(cell, base_url, recorded=now(), clients=client_versions())
        except CorruptCassette as exc:
            why = f"evidence unusable: {exc} — --record-mode rewrite records this cell anew"
            return self._result(cell, Verdict.NOT_RECORDED, [why], evidence_error=str(exc))
        try:
            with self.recorder.extend(recording.scratch, recording.provenance) as tap:
                held = tap.recorded_interactions
                observation, intended = self._drive(cell, tap)
            judgement = self._judge(cell, observation, intended, held)
        except BaseException:
            recording.discard()
            raise
        refusal = refused_key(cell, observation.exchanges)
        if refusal is not None:
            return self._key_refused(cell, recording, refusal, observation)
        result = self._judged(cell, judgement, observation)
        kept = self.store.keep_extension(recording, cell, judgement.verdict, observation.exchanges)
        result = self._recorded(result, recording, kept)
        self._warn_unused(result, held)
        return result

    def _recorded(self, result: CellResult, recording: NewRecording, kept: Kept) -> CellResult:
        if kept.reason is not None:
            result.reasons.append(kept.reason)
        result.evidence = recording.evidence(kept, result.observation.exchanges if result.observation else [])
        return result

    def _needs_key(self) -> str:
        """Why a cell the run would record is SKIPPED without a key (the run goes on without it)."""
        mode = self.settings.record_mode
        if mode is RecordMode.ALL:
            return "live mode needs ZAI_API_KEY; it is not set"
        return f"--record-mode {mode.value} needs ZAI_API_KEY to record this cell; it is not set"

    def _blocked(self, cell: Cell, base_url: str) -> str | None:
        """--block-network with a recording mode: a cell whose endpoint is not on loopback would need the
        network, so it is refused — named, and counted with the guard's refusals — rather than recorded,
        or quietly answered by the double. Nothing is sent and its older recordings stay."""
        host = urlsplit(base_url).hostname
        if not self.settings.block_network or netguard.is_loopback(host):
            return None
        netguard.note_refused(f"record {cell.id} from {host} (--block-network)")
        return (
            f"--block-network: {cell.id} would be recorded from {host}, which is not loopback; not run "
            "(nothing sent, any older recording kept) — drop --block-network to record it, or aim the "
            "endpoint at a loopback server with --base-url"
        )

    def _key_refused(
        self, cell: Cell, recording: NewRecording, refusal: KeyRefusal, observation: Observation
    ) -> CellResult:
        """Z.AI refused the run's key: a property of the run, not of this cell. Nothing of it is kept,
        no later cell on this endpoint is sent, every older recording stays, and the run says so once."""
        recording.discard()
        why = (
            f"Z.AI refused the run's key on the {cell.endpoint.id} endpoint (HTTP {refusal.status}, code "
            f"{refusal.code}: {refusal.meaning}) at cell {cell.id}; nothing more is recorded on this endpoint "
            "and every older recording is kept"
        )
        self.refused_keys[cell.endpoint.id] = why
        log.warning("%s — check ZAI_API_KEY (and the plan: a Coding Plan key works on coding/anthropic)", why)
        return self._result(cell, Verdict.SKIPPED, [why], observation=observation)

    def limits(self, cell: Cell, live: bool | None = None) -> dict[str, float]:
        """Every cell runs under an idle limit (no byte for this long: the client's timeout → HANG) and a
        connect limit; a scenario may set its own idle limit (`timeout`). `live`: the cell is recorded
        (by default: the run records)."""
        return {"idle_s": cell.scenario.timeout or self.settings.timeout(live), "connect_s": CONNECT_TIMEOUT}

    def _drive(self, cell: Cell, tap: WireTap) -> tuple[Observation, dict[str, Any]]:
        """Run the path; return what it did and the first request it is meant to put on the wire
        (the scenario in the endpoint's protocol, with the path's documented configuration)."""
        live = tap.recording  # this cell's requests may reach the endpoint (recorded, or extending a cassette)
        limits = self.limits(cell, live=live)
        target = Target(
            base_url=self.base_url(cell),
            api_key=self._key(cell, live),
            idle_timeout=self.settings.client_timeout(limits["idle_s"], live),
            connect_timeout=self.settings.client_timeout(limits["connect_s"], live),
        )
        provoke = cell.scenario.provoke
        options = CallOptions(
            client_params=cell.scenario.client_params,
            fault_header=provoke.fault if provoke and provoke.via == "header" else None,
        )
        adapter = load_adapter(cell.path).build(cell.path, target, catalogue=self.catalogue, options=options)
        model = cell.model_sent
        intended = adapter.intended(request_for(self.catalogue, cell.scenario, model, cell.endpoint.protocol))
        try:
            turns = adapter.run(cell.scenario, request_for(self.catalogue, cell.scenario, model, cell.path.api))
        finally:
            adapter.close()
        return Observation(turns=turns, exchanges=tap.exchanges, local_requests=tap.local_requests), intended

    def _key(self, cell: Cell, live: bool) -> str:
        provoked = cell.scenario.provoke.key if cell.scenario.provoke else None
        if provoked == "invalid":
            return INVALID_KEY
        if provoked == "wrong-plan":
            return WRONG_PLAN_KEY.get(cell.endpoint.id, WRONG_PLAN_KEY["coding"])
        return (self.settings.api_key or "") if live else REPLAY_KEY

    def _judge(self, cell: Cell, observation: Observation, intended: dict[str, Any], recorded: int) -> Judgement:
        tools = offered_tools(self.catalogue, cell.scenario, intended)
        return judge(cell, observation, intended, recorded, self.base_url(cell), tools)

    def _judged(self, cell: Cell, judgement: Judgement, observation: Observation) -> CellResult:
        """The CellResult of a judged cell (a replay miss carries the command that records it)."""
        return self._result(
            cell,
            judgement.verdict,
            list(judgement.reasons),
            findings=list(judgement.findings),
            observation=observation,
            unused_interactions=judgement.unused_interactions,
            record_command=record_command(cell) if judgement.needs_recording else None,
        )


def failed_inside_proxy(result: CellResult) -> bool:
    """The path reached the local proxy, and a turn the proxy answered with HTTP 500 sent nothing
    upstream: a failure of the proxy itself, not of Z.AI nor of what the client sent (which the proxy
    refuses with a 4xx). In a conversation the earlier turns went upstream, one exchange each; the
    failed turn added none (a turn whose answer came from Z.AI would have)."""
    observation = result.observation
    if result.verdict is not Verdict.FAIL or observation is None or not observation.local_requests:
        return False
    failed = [turn for turn in observation.turns if turn.error is not None]
    if not failed or any(turn.error.status != 500 for turn in failed if turn.error is not None):
        return False
    used = sum(1 for exchange in observation.exchanges if exchange.outcome in USED)
    return used == len(observation.turns) - len(failed)
