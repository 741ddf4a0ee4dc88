"""One conformance run: settings, selected cells, the runner, results and reports, start to finish.

Shared by the pytest plugin and the CLI so that `pytest` and `zai-conformance run` are the same run.
Replay — and any run with --block-network — runs inside the loopback-only network guard from the first
cell to the last.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from conformance import __version__
from conformance.agent_configs import read_configuration
from conformance.catalogue import Catalogue, Cell, load_catalogue
from conformance.clients.sets import SET_ENV, SET_TITLE_ENV
from conformance.envfile import EnvFileError, EnvTarget, target_from
from conformance.equivalence import equivalence_summary
from conformance.expectations import Expectations
from conformance.recording import netguard, tls
from conformance.recording.modes import RecordMode
from conformance.reports_lock import ReportsBusy, ReportsLock
from conformance.results import CellResult, ResultsWriter, client_versions, now
from conformance.runner import CellRunner, RunSettings
from conformance.secrets import SCRUBBER, Scrubber
from conformance.verdict import Verdict

log = logging.getLogger("conformance")


class _ScrubbingFilter(logging.Filter):
    """Scrubs each record of the harness's logger before any handler (file, pytest capture) sees it."""

    def __init__(self, scrubber: Scrubber = SCRUBBER) -> None:
        super().__init__()
        self._scrubber = scrubber

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._scrubber.text(record.getMessage())
        record.args = ()
        return True


log.addFilter(_ScrubbingFilter())

KEY_ENV = "ZAI_API_KEY"
BASE_URL_ENV = "ZAI_BASE_URL_{endpoint}"  # e.g. ZAI_BASE_URL_CODING=http://127.0.0.1:8000/api/coding/paas/v4


class UsageError(ValueError):
    """A setting the user gave cannot work; the message says which and why."""


USAGE_ERRORS = (UsageError, EnvFileError)
CASSETTES_ENV = "ZAI_CONFORMANCE_CASSETTES"
REPORTS_ENV = "ZAI_CONFORMANCE_REPORTS"


def _chosen(given: str | None, option: str, variable: str, environ: Mapping[str, str]) -> tuple[str | None, str]:
    """A folder setting's value and who set it, for the message if it cannot work: the option, else
    the environment variable, else (None, "") — the default."""
    if given:
        return given, option
    if environ.get(variable):
        return environ[variable], variable
    return None, ""


def check_idle_timeout(seconds: float | None) -> None:
    """The idle limit must be a positive, finite number of seconds: 0 or -1 would end every call at
    once (live, as a network TRANSIENT the harness caused), nan or inf would never end a hang."""
    if seconds is not None and not 0 < seconds < math.inf:
        raise UsageError(f"--idle-timeout {seconds:g}: must be a positive, finite number of seconds")


def chosen_record_mode(live: bool, record_mode: str | None) -> RecordMode:
    """The run's record mode: --record-mode, else all for --live, else none. `--live` is
    `--record-mode all`, so giving both with another mode is a contradiction, not a choice."""
    if record_mode is None:
        return RecordMode.ALL if live else RecordMode.NONE
    try:
        mode = RecordMode(record_mode)
    except ValueError:
        known = ", ".join(m.value for m in RecordMode)
        raise UsageError(f"--record-mode {record_mode!r}: expected one of {known}") from None
    if live and mode is not RecordMode.ALL:
        raise UsageError(f"--live is --record-mode all; it cannot go with --record-mode {mode.value}: give one")
    return mode


def check_cassettes(root: Path, given_by: str, live: bool) -> None:
    """Replay reads the cassettes: a folder that is not there would make every cell NOT_RECORDED and
    the run pass, judging nothing. Live mode makes the folder on its first recording, so there it only
    has to be makeable. The default folder is not checked in replay (a checkout may have none yet)."""
    if live:
        check_folder(root, given_by or "the default cassette folder")
    elif given_by and not root.is_dir():
        what = "is a file, not a folder" if root.exists() else "does not exist"
        raise UsageError(f"{given_by} {root}: the cassette folder {what} (replay reads recorded cassettes from it)")


def check_folder(folder: Path, given_by: str) -> None:
    """A folder the run writes into must be one, or be makeable: a file in its place, or in place of a
    folder above it, would otherwise end the run with a traceback once the first cell is written."""
    for candidate in (folder, *folder.parents):
        if candidate.is_dir():
            return
        if candidate.exists() or candidate.is_symlink():
            if candidate == folder:
                raise UsageError(f"{given_by} {folder}: that is a file, not a folder; give a folder")
            raise UsageError(f"{given_by} {folder}: {candidate} is a file, so no folder can be made there")


def parse_shard(text: str) -> tuple[int, int]:
    """`I/N` (1 ≤ I ≤ N): this run is shard I of N — for splitting one run across CI jobs, whose
    results `zai-conformance report A B … --out DIR` combines."""
    index, sep, count = text.partition("/")
    try:
        shard = int(index), int(count)
    except ValueError:
        shard = (0, 0)
    if not sep or not 1 <= shard[0] <= shard[1]:
        raise UsageError(f"--shard {text!r}: expected I/N with 1 <= I <= N, e.g. 1/2")
    return shard


def parse_base_urls(pairs: list[str], catalogue: Catalogue, environ: Mapping[str, str]) -> dict[str, str]:
    """Endpoint base-URL overrides: ZAI_BASE_URL_<ENDPOINT> from the environment, then ENDPOINT=URL pairs."""
    known = {endpoint.id for endpoint in catalogue.endpoints}
    urls = {}
    for endpoint in known:
        value = environ.get(BASE_URL_ENV.format(endpoint=endpoint.upper().replace("-", "_")))
        if value:
            urls[endpoint] = value
    for pair in pairs:
        endpoint, sep, url = pair.partition("=")
        if not sep or not url:
            shown = SCRUBBER.text(pair)  # a usage error is printed: the URL may carry a credential
            raise UsageError(f"--base-url {shown!r}: expected ENDPOINT=URL (endpoints: {', '.join(sorted(known))})")
        if endpoint not in known:
            shown = SCRUBBER.text(pair)
            raise UsageError(f"--base-url {shown!r}: unknown endpoint {endpoint!r} (known: {', '.join(sorted(known))})")
        urls[endpoint] = url
    for endpoint, url in urls.items():
        if not url.startswith(("http://", "https://")):
            shown = SCRUBBER.text(url)
            raise UsageError(f"base URL for {endpoint!r} must start with http:// or https://, got {shown!r}")
    return {endpoint: url.rstrip("/") for endpoint, url in urls.items()}


class ConformanceSession:
    def __init__(
        self,
        settings: RunSettings,
        catalogue: Catalogue,
        expectations: Expectations,
        reports_dir: Path,
        patterns: list[str] | None = None,
    ) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.expectations = expectations
        self.reports_dir = reports_dir
        self.patterns = patterns or []
        self._runner: CellRunner | None = None
        self._writer: ResultsWriter | None = None
        self._guard: contextlib.ExitStack | None = None
        self._refused: Any = None
        self._log_handler: logging.Handler | None = None
        self.report_error: str | None = None
        self._lock = ReportsLock(reports_dir)  # one run per reports folder (see claim_reports)
        self._run_id: str | None = None
        # a run spread over processes (pytest-xdist): each worker runs cells and writes its own lines;
        # the controller runs none and gathers them (see join_run, begin_gathering, finish)
        self.worker: str | None = None
        self._gathering = False
        self.shard: tuple[int, int] | None = None
        self.configuration: dict[str, Any] | None = None  # what an --env-file set (never the key)
        self.document: dict[str, Any] | None = None

    @classmethod
    def from_options(
        cls,
        *,
        live: bool = False,
        record_mode: str | None = None,
        block_network: bool = False,
        base_urls: list[str] | None = None,
        cassettes: str | None = None,
        reports: str | None = None,
        cells: list[str] | None = None,
        catalogue: str | None = None,
        expectations: str | None = None,
        idle_timeout: float | None = None,
        strict_cassettes: bool = False,
        env_file: str | None = None,
        shard: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> ConformanceSession:
        environ = os.environ if environ is None else environ
        loaded = load_catalogue(catalogue)
        variables, agent = read_configuration(env_file, loaded) if env_file else ({}, None)
        if agent is not None and not variables:
            why = "; ".join(agent.problems) or "it names no Z.AI base URL"
            raise EnvFileError(f"--env-file {env_file}: no entry of this {agent.kind} file reaches Z.AI ({why})")
        target = target_from(variables, loaded) if env_file else EnvTarget()
        urls = parse_base_urls(base_urls or [], loaded, environ)
        if target.base_url and target.endpoint not in urls:
            urls[target.endpoint] = target.base_url
        check_idle_timeout(idle_timeout)
        mode = chosen_record_mode(live, record_mode)
        cassettes, cassettes_from = _chosen(cassettes, "--cassettes", CASSETTES_ENV, environ)
        check_cassettes(Path(cassettes or "cassettes"), cassettes_from, mode.records)
        reports, reports_from = _chosen(reports, "--reports", REPORTS_ENV, environ)
        check_folder(Path(reports or "reports"), reports_from or "the default reports folder")
        settings = RunSettings(
            record_mode=mode,
            block_network=block_network,
            cassette_root=Path(cassettes or "cassettes"),
            base_urls=urls,
            api_key=target.api_key or environ.get(KEY_ENV) or None,
            idle_timeout=idle_timeout,
            strict_cassettes=strict_cassettes,
        )
        cells = cells or target.cell_patterns()
        if env_file:
            environment_used = {"env_file": str(env_file), "used": target.used}
            if agent is not None:  # an agent's own file: which kind, and what is wrong with it
                environment_used.update(agent=agent.kind, problems=agent.problems)
        reports_dir = Path(reports or "reports")
        session = cls(settings, loaded, Expectations.load(expectations), reports_dir, cells)
        session.configuration = environment_used if env_file else None
        session.shard = parse_shard(shard) if shard else None
        return session

    def selected_cells(self) -> list[Cell]:
        """The cells this run judges: those matching the patterns (all without), then this shard's
        share of them — every N-th from the I-th, so each shard gets a like mix of paths and scenarios."""
        cells = list(self.catalogue.cells)
        if self.patterns:
            cells = [cell for cell in cells if any(fnmatchcase(cell.id, p) for p in self.patterns)]
        if self.shard is not None:
            index, count = self.shard
            cells = cells[index - 1 :: count]
        return cells

    @property
    def started(self) -> bool:
        return self._writer is not None

    @property
    def run_id(self) -> str:
        """`<UTC start>-<mode>-<pid>`: the runs/ directory name, fixed the first time it is asked for."""
        if self._run_id is None:
            self._run_id = new_run_id(self.settings.record_mode)
        return self._run_id

    def join_run(self, run_id: str, worker: str) -> None:
        """Be one worker of a parallel run: its cells go to runs/<run_id>/cells-<worker>.jsonl; the
        controller holds the reports folder and writes results and reports from every worker's lines."""
        self._run_id = run_id
        self.worker = worker

    def claim_reports(self) -> None:
        """Take the reports folder for this run, before any cell runs (the plugin calls this as the
        test loop starts; the first cell does otherwise). Another run holding it: a UsageError at
        once, naming the folder and that run — two runs never interleave their reports."""
        try:
            self._lock.acquire(f"pid {os.getpid()}, run {self.run_id}")
        except ReportsBusy as exc:
            raise UsageError(str(exc)) from None

    def _start(self) -> None:
        if self.worker is None:
            self.claim_reports()
        self._guard = contextlib.ExitStack()
        if self.settings.guarded:
            self._refused = self._guard.enter_context(netguard.loopback_only())
        if not self.settings.live:
            self._guard.enter_context(tls.one_default_context())
        self._runner = CellRunner(self.catalogue, self.settings)
        self._writer = ResultsWriter(self.reports_dir, self.run_header(), worker=self.worker)
        log_name = "run.log" if self.worker is None else f"run-{self.worker}.log"
        self._log_handler = _run_log(self._writer.run_dir / log_name)
        log.info("run %s: %s, %d cell(s) selected", self.run_id, self._mode_text(), len(self.selected_cells()))

    def begin_gathering(self, run_id: str) -> None:
        """The controller of a parallel run (named `run_id`, as its workers were told): take the reports
        folder and write the run's header before any worker's first cell; run no cell itself. A
        UsageError if another run holds the folder."""
        if self._writer is not None:
            return
        self._run_id = run_id
        self.claim_reports()
        self._gathering = True
        self._writer = ResultsWriter(self.reports_dir, self.run_header())
        self._log_handler = _run_log(self._writer.run_dir / "run.log")
        selected = len(self.selected_cells())
        log.info("run %s: %s, %d cell(s) selected, over workers", self.run_id, self._mode_text(), selected)

    def _mode_text(self) -> str:
        """The run's mode for its log: `live mode, --record-mode once, --block-network`."""
        settings = self.settings
        text = f"{settings.mode} mode, --record-mode {settings.record_mode.value}"
        return text + (", --block-network" if settings.block_network else "")

    def run_header(self) -> dict[str, Any]:
        """What results.json's `run` says before any cell: settings, versions, the catalogue's shape."""
        return {
            "id": self.run_id,
            "mode": self.settings.mode,  # replay | live: the run used the key and wrote cassettes
            "record_mode": self.settings.record_mode.value,  # none | once | new_episodes | all | rewrite
            "block_network": self.settings.block_network,
            "started_at": now(),
            "harness": f"zai-conformance {__version__}",
            "clients": client_versions(self.catalogue),
            "client_set": os.environ.get(SET_ENV) or "default",
            "client_set_title": os.environ.get(SET_TITLE_ENV, ""),
            "catalogue": self.catalogue.source,
            "expectations": self.expectations.source,
            "base_urls": {e.id: self.settings.base_urls.get(e.id, e.base_url) for e in self.catalogue.endpoints},
            "endpoints": [
                {
                    "id": e.id,
                    "title": e.title,
                    "protocol": e.protocol,
                    "paths": [p.id for p in self.catalogue.paths if e.protocol in p.protocols],
                }
                for e in self.catalogue.endpoints
            ],
            "paths": [{"id": p.id, "title": p.title} for p in self.catalogue.paths],
            "key_present": bool(self.settings.api_key),
            "selection": self.patterns,
            "shard": f"{self.shard[0]}/{self.shard[1]}" if self.shard else None,
            "strict_cassettes": self.settings.strict_cassettes,
            "configuration": self.configuration,
        }

    def run(self, cell: Cell) -> CellResult:
        if self._writer is None:
            self._start()
        assert self._runner is not None and self._writer is not None
        result = self._runner.run(cell)
        result.expected = self.expectations.for_cell(cell.id)
        self._writer.add(result)
        log.info(
            "cell %s: %s (%.0f ms)%s",
            cell.id,
            result.verdict.value,
            result.duration_ms,
            f" — {result.reasons[0]}" if result.reasons else "",
        )
        return result

    def finish(self, workers: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
        """Write results.json (with the streamed vs non-streamed comparison, which needs the catalogue's
        twins) and the reports; release the network guard and the reports folder. Safe to call twice,
        and before any cell ran (then it only releases the folder).

        A worker of a parallel run writes neither: it closes its lines and returns what the controller
        needs besides them (`worker_summary`). The controller gathers every worker's lines and merges
        the summaries it was handed (`workers`)."""
        if self.worker is not None:
            return self._finish_worker()
        if self._writer is None or self.document is not None:
            self._lock.release()
            return self.document
        refused = self._refused.list() if self._refused is not None else []
        keys_refused = dict(self._runner.refused_keys) if self._runner is not None else {}
        warnings: list[str] = []
        if self._gathering:
            order = {cell.id: position for position, cell in enumerate(self.catalogue.cells)}
            warnings = [str(bad) for bad in self._writer.gather_workers(order)]
            for summary in workers or []:
                refused += [attempt for attempt in summary.get("refused", []) if attempt not in refused]
                keys_refused.update(summary.get("keys_refused", {}))
            for bad in warnings:
                log.warning("gathering the workers' cells: %s", bad)
        extra: dict[str, Any] = {"network": {"guard": self.settings.guarded, "refused": refused}}
        extra["keys_refused"] = keys_refused
        if self._gathering:
            extra["workers"] = len(workers or [])
        if warnings:
            extra["warnings"] = warnings
        document = self._writer.finish(
            extra, equivalence=equivalence_summary(self._writer.cells, self.catalogue.stream_twins)
        )
        if self._guard is not None:
            self._guard.close()
        from conformance.report import write_reports

        try:
            written = write_reports(document, self.reports_dir)
        except Exception as exc:  # results.json is safe on disk; say how to get the report back
            log.exception("rendering the reports failed")
            self.report_error = (
                f"rendering the reports failed ({type(exc).__name__}: {exc}); the results are in "
                f"{self.reports_dir / 'results.json'} — re-render with `zai-conformance report`"
            )
        else:
            log.info("run finished: %s; report %s", document["summary"]["verdicts"], written["html"])
        self._close_log()
        self.document = document
        self._lock.release()
        return document

    def _finish_worker(self) -> dict[str, Any] | None:
        if self._writer is None:
            return None
        self._writer.close()
        summary = {
            "worker": self.worker,
            "cells": len(self._writer.cells),
            "refused": self._refused.list() if self._refused is not None else [],
            "keys_refused": dict(self._runner.refused_keys) if self._runner is not None else {},
        }
        if self._guard is not None:
            self._guard.close()
        self._close_log()
        self._writer = None
        return summary

    def _close_log(self) -> None:
        if self._log_handler is not None:
            logging.getLogger("conformance").removeHandler(self._log_handler)
            self._log_handler.close()
            self._log_handler = None


def new_run_id(mode: RecordMode) -> str:
    """`<UTC start>-<mode>-<pid>`, e.g. `…-replay-…`, `…-live-once-…`: a run directory's name (a parallel
    run's is its controller's)."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + f"-{mode.run_id_part}-{os.getpid()}"


class _ScrubbingFormatter(logging.Formatter):
    """Formats, then scrubs: a secret in a message, an argument or a traceback never reaches the log."""

    def __init__(self, fmt: str, scrubber: Scrubber = SCRUBBER) -> None:
        super().__init__(fmt)
        self._scrubber = scrubber

    def format(self, record: logging.LogRecord) -> str:
        return self._scrubber.text(super().format(record))


def _run_log(path: Path, scrubber: Scrubber = SCRUBBER) -> logging.Handler:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(_ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", scrubber))
    logger = logging.getLogger("conformance")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler


def outcome_message(result: CellResult) -> tuple[str, str] | None:
    """How a cell's result reads as a test outcome: None (passes), ('skip', why) or ('fail', why).
    Scrubbed: test output ends up in CI logs and JUnit files."""
    outcome = _outcome(result)
    return None if outcome is None else (outcome[0], SCRUBBER.text(outcome[1]))


def _outcome(result: CellResult) -> tuple[str, str] | None:
    if result.harness_error:
        return "fail", f"{result.cell}: the harness could not run this cell: {result.harness_error}"
    if result.evidence_error:
        return "fail", f"{result.cell}: {result.evidence_error}"
    expected = result.expected.verdict if result.expected else Verdict.PASS
    if result.verdict in (Verdict.SKIPPED, Verdict.NOT_RECORDED):  # nothing was judged
        why = "; ".join(result.reasons[:2])
        if result.record_command:
            why += f" — record it with: {result.record_command}"
        return "skip", f"{result.verdict.value}: {why}"
    strict = _strict_failure(result)
    if result.verdict != expected:
        kind = "unexpected pass" if result.verdict is Verdict.PASS else f"unexpected {result.verdict.value}"
        because = f" ({result.expected.reason})" if result.expected and result.expected.reason else ""
        lines = "\n  ".join([*result.reasons, *([strict] if strict else [])]) or "(no reasons)"
        return "fail", f"{kind}; expected {expected.value}{because}\n  {lines}"
    return ("fail", f"{result.cell}: {strict}") if strict else None


def _strict_failure(result: CellResult) -> str | None:
    """--strict-cassettes: the evidence's warnings (recorded interactions the path never used) fail the
    test. The verdict stays what the evidence says; only the test outcome changes."""
    warnings = (result.evidence or {}).get("warnings") or []
    if not result.strict_cassettes or not warnings:
        return None
    return "--strict-cassettes: " + "; ".join(warnings)
