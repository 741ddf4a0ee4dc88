"""pytest plugin (entry point `pytest11`): parametrises suites over the catalogue's cells.

A suite asks for the `zai_cell` and `zai_session` fixtures; everything else — options, selection,
recording, results, reports — happens here and in `conformance.session`. The plugin is inert in a
pytest run that collects no suite (the harness's own tests), apart from registering its options.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from conformance.catalogue import CatalogueError
from conformance.expectations import ExpectationsError
from conformance.options import add_pytest_options, any_given, session_kwargs
from conformance.results import CellResult
from conformance.session import USAGE_ERRORS, ConformanceSession, outcome_message

if TYPE_CHECKING:
    from conformance.double.server import DoubleServer

_SESSION = pytest.StashKey[ConformanceSession]()
_USAGE_ERROR = pytest.StashKey[str]()  # a setting found unusable while collecting (see below)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_pytest_options(parser.getgroup("zai-conformance", "Z.AI conformance suites"))


def _session(config: pytest.Config) -> ConformanceSession:
    session = config.stash.get(_SESSION, None)
    if session is None:
        try:
            session = ConformanceSession.from_options(**session_kwargs(config.getoption))
        except (CatalogueError, ExpectationsError, *USAGE_ERRORS) as exc:
            raise pytest.UsageError(str(exc)) from None
        config.stash[_SESSION] = session
    return session


def pytest_configure(config: pytest.Config) -> None:
    """Check conformance options up front, so a typo is a one-line usage error, not a collection
    traceback. Without any --zai-* option the session is only built if a suite asks for cells."""
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
def pytest_collection_modifyitems(config: pytest.Config) -> None:
    """Settings no --zai-* option gave (ZAI_CONFORMANCE_CASSETTES, ZAI_BASE_URL_*, the default folders)
    are only checked when a suite asks for cells; a problem found then is raised here, after
    collection, where pytest prints a usage error as one line."""
    problem = config.stash.get(_USAGE_ERROR, None)
    if problem is not None:
        raise pytest.UsageError(problem)


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
    if conformance is None or not runs_cells or session.config.option.collectonly:
        return
    try:
        conformance.claim_reports()
    except USAGE_ERRORS as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_sessionfinish(session: pytest.Session) -> None:
    conformance = session.config.stash.get(_SESSION, None)
    if conformance is not None:
        conformance.finish()  # writes results and reports if a cell ran; gives the reports folder back
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
