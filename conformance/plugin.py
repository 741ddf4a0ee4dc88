"""pytest plugin (entry point `pytest11`): parametrises suites over the catalogue's cells.

A suite asks for the `zai_cell` and `zai_session` fixtures; everything else — options, selection,
recording, results, reports — happens here and in `conformance.session`. The plugin is inert in a
pytest run that collects no suite (the harness's own tests), apart from registering its options.

Under pytest-xdist (`-n 2`, what `zai-conformance run` does on a machine with two cores) the run is
one run spread over processes: the controller names it (the run id goes to each worker in its
`workerinput`), takes the reports folder once the workers have collected cells, and at the end
gathers every worker's cell lines and writes results and reports; each worker runs its share of the
cells with its own proxy and double and hands back what is not in its lines (refused connections,
refused keys) in its `workeroutput`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from conformance.catalogue import CatalogueError
from conformance.expectations import ExpectationsError
from conformance.gc_guard import collect_off_thread
from conformance.options import add_pytest_options, any_given, bare_spellings_free, session_kwargs
from conformance.progress import is_cell
from conformance.recording.modes import RecordMode
from conformance.results import CellResult
from conformance.session import USAGE_ERRORS, ConformanceSession, new_run_id, outcome_message

if TYPE_CHECKING:
    from conformance.double.server import DoubleServer

_SESSION = pytest.StashKey[ConformanceSession]()
_USAGE_ERROR = pytest.StashKey[str]()  # a setting found unusable while collecting (see below)
_RUN_ID = pytest.StashKey[str]()  # the controller's name for a run spread over workers
_WORKERS = pytest.StashKey[list]()  # each finished worker's summary (controller)
WORKER_OUTPUT = "zai_conformance"  # key in xdist's workerinput/workeroutput


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    add_pytest_options(
        parser.getgroup("zai-conformance", "Z.AI conformance suites"), bare=bare_spellings_free(pluginmanager)
    )


def _session(config: pytest.Config) -> ConformanceSession:
    session = config.stash.get(_SESSION, None)
    if session is None:
        try:
            session = ConformanceSession.from_options(**session_kwargs(config.getoption))
        except (CatalogueError, ExpectationsError, *USAGE_ERRORS) as exc:
            raise pytest.UsageError(str(exc)) from None
        config.stash[_SESSION] = session
        worker_input = getattr(config, "workerinput", None)
        if worker_input is not None and WORKER_OUTPUT in worker_input:
            session.join_run(worker_input[WORKER_OUTPUT]["run_id"], worker_input["workerid"])
    return session


def _controller_run_id(config: pytest.Config) -> str:
    if _RUN_ID not in config.stash:
        session = config.stash.get(_SESSION, None)  # built in pytest_configure if any option was given
        config.stash[_RUN_ID] = new_run_id(session.settings.record_mode if session is not None else RecordMode.NONE)
    return config.stash[_RUN_ID]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller, per worker: the run's id, so every worker writes into one run directory."""
    node.workerinput[WORKER_OUTPUT] = {"run_id": _controller_run_id(node.config)}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """xdist controller: a worker collected cells, so this run writes reports — take the folder now,
    before any cell runs (a second run on the same folder is one usage error, not lost reports)."""
    if not any(is_cell(test_id) for test_id in ids):
        return
    session = _session(node.config)
    if session.worker is None and not session.started:
        try:
            session.begin_gathering(_controller_run_id(node.config))
        except USAGE_ERRORS as exc:
            pytest.exit(f"zai-conformance: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: keep what a finished worker handed back beside its cell lines."""
    summary = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
    if summary:
        node.config.stash.setdefault(_WORKERS, []).append(summary)


def pytest_configure(config: pytest.Config) -> None:
    """Check conformance options up front, so a typo is a one-line usage error, not a collection
    traceback. Without any --zai-* option the session is only built if a suite asks for cells.
    Garbage is collected on the harness's own thread from here on (`conformance.gc_guard`: a CPython
    bug otherwise lets LiteLLM's stream finaliser crash a worker)."""
    collect_off_thread()
    if any_given(config.getoption):
        session = _session(config)
        if session.patterns and not session.selected_cells():
            raise pytest.UsageError(f"no cell matches {session.patterns}; list cells with `zai-conformance cells`")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "zai_cell" in metafunc.fixturenames:
        try:
            cells = _session(metafunc.config).selected_cells()
        except pytest.UsageError as exc:  # raised here, pytest would show a collection traceback
            metafunc.config.stash[_USAGE_ERROR] = str(exc)
            cells = []
        metafunc.parametrize("zai_cell", cells, ids=[cell.id for cell in cells])


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Settings no --zai-* option gave (ZAI_CONFORMANCE_CASSETTES, ZAI_BASE_URL_*, the default folders)
    are only checked when a suite asks for cells; a problem found then is raised here, after
    collection, where pytest prints a usage error as one line."""
    problem = config.stash.get(_USAGE_ERROR, None)
    if problem is not None:
        raise pytest.UsageError(problem)
    if any("zai_cell" in getattr(item, "fixturenames", ()) for item in items):
        _warn_if_pytest_recording_took_the_spelling(config)


def _warn_if_pytest_recording_took_the_spelling(config: pytest.Config) -> None:
    """With pytest-recording installed, a bare --record-mode or --block-network is its option, which
    the conformance cells never read: say so, rather than replay quietly what the user meant to record."""
    if bare_spellings_free(config.pluginmanager):
        return
    given = []
    if config.getoption("record_mode", default="none") not in (None, "none"):
        given.append(f"--record-mode {config.getoption('record_mode')}")
    if config.getoption("block_network", default=False):
        given.append("--block-network")
    if given:
        warnings.warn(
            pytest.PytestConfigWarning(
                f"{' and '.join(given)}: pytest-recording's option(s) here, which the conformance cells do not "
                "read; give --zai-record-mode / --zai-block-network (or `zai-conformance run --record-mode …`)"
            ),
            stacklevel=1,
        )


@pytest.fixture(scope="session")
def zai_session(request: pytest.FixtureRequest) -> ConformanceSession:
    return _session(request.config)


@pytest.fixture(scope="session")
def zai_double() -> Iterator[DoubleServer]:
    """The Z.AI double on an ephemeral loopback port, for the whole test session."""
    from conformance.double.server import running

    with running() as double:
        yield double


def assert_as_expected(result: CellResult) -> None:
    """Turn a cell result into a test outcome: pass, skip (nothing to judge) or fail (not as expected)."""
    outcome = outcome_message(result)
    if outcome is None:
        return
    kind, message = outcome
    if kind == "skip":
        pytest.skip(message)
    pytest.fail(message, pytrace=False)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """Take the reports folder before the first cell runs, so that a second run on a folder another
    run holds is one usage error (exit 2 from `zai-conformance run`) rather than every cell failing."""
    conformance = session.config.stash.get(_SESSION, None)
    runs_cells = any("zai_cell" in getattr(item, "fixturenames", ()) for item in session.items)
    if conformance is None or not runs_cells or session.config.option.collectonly or conformance.worker:
        return
    try:
        conformance.claim_reports()
    except USAGE_ERRORS as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_sessionfinish(session: pytest.Session) -> None:
    conformance = session.config.stash.get(_SESSION, None)
    if conformance is None:
        return
    if conformance.worker is not None:  # one worker of a parallel run: the controller writes
        summary = conformance.finish()
        if summary is not None:
            session.config.workeroutput[WORKER_OUTPUT] = summary  # type: ignore[attr-defined]
        return
    conformance.finish(session.config.stash.get(_WORKERS, []))  # results and reports if a cell ran
    if conformance.report_error and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    conformance = terminalreporter.config.stash.get(_SESSION, None)
    if conformance is None or conformance.document is None:
        return
    summary = conformance.document["summary"]
    counts = ", ".join(f"{k} {v}" for k, v in summary["verdicts"].items() if v)
    terminalreporter.write_sep("-", "zai-conformance")
    terminalreporter.write_line(f"{summary['cells']} cells: {counts}")
    terminalreporter.write_line(
        f"evidence: {summary['evidence']['public']} public, {summary['evidence']['live']} live, "
        f"{summary['evidence']['double']} double, {summary['evidence']['none']} none; "
        f"real Z.AI bytes behind {summary['real_share']:.0%} of cells with evidence"
    )
    if summary["unexpected"]:
        terminalreporter.write_line(f"{summary['unexpected']} cell(s) differ from their expectation")
    if summary.get("evidence_warnings"):
        terminalreporter.write_line(
            f"{summary['evidence_warnings']} cell(s) with an evidence warning: their cassette holds recorded "
            "interactions the replay never used (--strict-cassettes fails them)"
        )
    for why in (conformance.document["run"].get("keys_refused") or {}).values():
        terminalreporter.write_line(f"KEY REFUSED: {why}", red=True)
    refused = conformance.document["run"].get("network", {}).get("refused") or []
    if refused:
        terminalreporter.write_line(f"network guard refused {len(refused)} attempt(s): {refused[:3]}")
    if conformance.report_error:
        terminalreporter.write_line(f"ERROR: {conformance.report_error}", red=True)
    else:
        terminalreporter.write_line(f"report: {conformance.reports_dir / 'index.html'}")
