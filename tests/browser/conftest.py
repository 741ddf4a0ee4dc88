"""The report in a real browser: one headless Chromium per xdist worker, one page per test.

A small results document (every verdict kind, every evidence kind, one unexpected verdict, one cell with
recorded exchanges, one reason too long for a phone) is rendered once per worker with the real renderer,
written to a temporary folder and opened over file:// — as a person opens reports/index.html. Pages open
in a normal context, under the page's own Content-Security-Policy; only the accessibility scan gets a
context that bypasses it, because injecting axe-core is exactly what that policy forbids.

The page is rewritten against an element contract (README "Reading the report"; the brief in issue 16):
#summary, #matrix with td[data-cell=…], #panel, the filters, #search, and html[data-ready=true] once the
script has made the page interactive. Each test's failure message names the part of that contract it
found missing, and a screenshot of every page the test opened is saved under FAILURES.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from conformance.expectations import Expected
from conformance.observation import Exchange, Observation, Turn
from conformance.report.html import render_html
from conformance.results import gather
from conformance.verdict import Finding, Severity, Verdict
from tests.browser.driver import Blocking, launch
from tests.support.cells import cell_result
from tests.support.runs import PUBLIC_SOURCE
from tests.support.runs import RUN as REPORT_RUN

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("ZAI_CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / ".browser" / "node_modules" / "axe-core" / "axe.min.js"
# Screenshots of failed tests: inside reports/ (ignored by git), where a CI artifact picks them up.
FAILURES = Path(os.environ.get("ZAI_BROWSER_FAILURES", ROOT / "reports" / "browser-failures"))
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
READY_MS = 20_000  # generous: the suite shares two cores with the replay; no test measures speed
ACTION_MS = 10_000
PAGES = pytest.StashKey[list["ReportPage"]]()


def missing(why: str, *, installable: bool) -> NoReturn:
    """A browser-test prerequisite is absent. scripts/bootstrap installs it when it can (as root, with
    npm): then its absence is a broken set-up and fails; otherwise the tests are SKIPPED, saying why."""
    if installable:
        pytest.fail(f"{why} — scripts/bootstrap installs it on this machine: run scripts/bootstrap", pytrace=False)
    pytest.skip(why)


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


# --- the results document -------------------------------------------------------------------------

RUN: dict[str, Any] = {
    **REPORT_RUN,
    "id": "20260101T000000Z-replay-browser",
    "clients": {**REPORT_RUN["clients"], "zai-sdk": "0.2.3"},
}

CLICKED = "coding/glm-4.5/openai-sdk/chat"  # has recorded exchanges and turns: a full drill-down
UNEXPECTED = "coding/glm-4.5/litellm-zai/chat"  # FAIL where PASS was expected: the one unexpected verdict
SEARCHED = "coding/glm-4.6/zai-sdk/thinking"  # no other cell id contains this one
NEARBY = "coding/glm-4.5/openai-sdk/thinking"  # nor this one, in the first matrix
LONG_REASON = "general/glm-4.6/litellm-zai/chat-stream"  # an unbreakable URL in its reason (the phone test)
FAILING = ("coding/glm-4.5/litellm-zai/chat", "coding/glm-4.6/litellm-zai/tool")  # every FAIL cell

# endpoint, model, path, scenario → verdict, evidence kind, expected verdict (None: not judged), reason
PLAN: list[tuple[str, str, str | None, str | None, str]] = [
    ("coding/glm-4.5/openai-sdk/chat", "PASS", "public", "PASS", ""),
    ("coding/glm-4.5/openai-sdk/chat-stream", "PASS", "public", "PASS", ""),
    ("coding/glm-4.5/openai-sdk/tool", "DEVIATION", "double", "DEVIATION", "tool call id is not a string"),
    ("coding/glm-4.5/openai-sdk/thinking", "UNSUPPORTED", "live", "UNSUPPORTED", "thinking refused (400)"),
    ("coding/glm-4.5/litellm-zai/chat", "FAIL", "live", "PASS", "LiteLLM raised APIError on a 200 answer"),
    ("coding/glm-4.5/litellm-zai/chat-stream", "PASS", "live", "PASS", ""),
    ("coding/glm-4.5/litellm-zai/tool", "NOT_RECORDED", None, "PASS", "no recording of this cell"),
    ("coding/glm-4.5/litellm-zai/thinking", "PASS", "double", "PASS", ""),
    ("coding/glm-4.6/openai-sdk/chat", "PASS", "public", "PASS", ""),
    ("coding/glm-4.6/openai-sdk/tool", "HANG", "live", "HANG", "no byte within 120 s"),
    ("coding/glm-4.6/litellm-zai/tool", "FAIL", "double", "FAIL", "tool arguments arrive as a dict"),
    ("coding/glm-4.6/zai-sdk/chat", "PASS", "double", "PASS", ""),
    ("coding/glm-4.6/zai-sdk/thinking", "DEVIATION", "public", "DEVIATION", "reasoning in an unnamed field"),
    ("general/glm-4.6/openai-sdk/chat", "SKIPPED", None, None, "live mode needs ZAI_API_KEY"),
    ("general/glm-4.6/openai-sdk/chat-stream", "BLOCKED", "live", "BLOCKED", "quota exhausted (1308)"),
    ("general/glm-4.6/litellm-zai/chat", "TRANSIENT", "live", "TRANSIENT", "overloaded (1305), retried 3 times"),
    (
        LONG_REASON,
        "DEVIATION",
        "public",
        "DEVIATION",
        "usage missing from the last chunk of "
        "https://api.z.ai/api/paas/v4/chat/completions?stream=true&include_usage=true&model=glm-4.6"
        "&request_id=0123456789abcdef0123456789abcdef0123456789abcdef",
    ),
    ("general/glm-4.6/zai-sdk/chat", "NOT_RECORDED", None, "PASS", "no recording of this cell"),
]


def evidence(cell_id: str, kind: str | None) -> dict[str, Any] | None:
    endpoint = cell_id.split("/")[0]
    if kind is None:
        return None
    provenance: dict[str, Any] = {"kind": kind, "recorded": "2026-01-01T00:00:05Z"}
    if kind == "public":
        provenance |= {
            "source": dict(PUBLIC_SOURCE),
            "recorded": "2025-10-23",
            "client": "OpenAI/Go 2.7.1",
            "endpoint_url": RUN["base_urls"][endpoint],
        }
    elif kind == "live":
        provenance |= {
            "recorded_by": "zai-conformance 0.1.0",
            "clients": {"python": "3.11.7", "openai": "2.54.0"},
            "endpoint_url": RUN["base_urls"][endpoint],
            "target_is_zai": True,
        }
    return {"kind": kind, "cassette": f"cassettes/{kind}/{cell_id}.yaml", "provenance": provenance, "used": True}


def exchanges() -> Observation:
    """One streamed chat turn, as a replay observes it."""
    chunks = [{"choices": [{"index": 0, "delta": {"content": word}}]} for word in ("Olá", "!", " Tudo", " bem?")]
    body = "".join(f"data: {chunk}\n\n" for chunk in chunks) + "data: [DONE]\n\n"
    return Observation(
        turns=[Turn(index=0, text="Olá! Tudo bem?", finish_reason="stop")],
        exchanges=[
            Exchange(
                method="POST",
                url="https://api.z.ai/api/coding/paas/v4/chat/completions",
                request_headers={"authorization": ["Bearer <redacted>"], "content-type": ["application/json"]},
                request_body='{"model": "glm-4.5", "messages": [{"role": "user", "content": "Say hi in Portuguese"}]}',
                outcome="replayed",
                status=200,
                response_headers={"Content-Type": ["text/event-stream;charset=UTF-8"]},
                response_body=body,
            )
        ],
    )


# the clicked cell's one finding: its message travels in the page's shared values (drilldown.py)
FINDING = Finding("usage", Severity.INFO, "usage present and consistent (28+17=45)", turn=0)


def browser_document() -> dict[str, Any]:
    """The results document every browser test opens, built as the runner builds one (CellResult → gather)."""
    cells = []
    for cell_id, verdict, kind, expected, reason in PLAN:
        result = cell_result(
            cell_id,
            Verdict(verdict),
            [reason] if reason else [],
            evidence=evidence(cell_id, kind),
            expected=Expected(Verdict(expected)) if expected else None,
            observation=exchanges() if cell_id == CLICKED else None,
            findings=[FINDING] if cell_id == CLICKED else [],
            duration_ms=12.5,
            record_command=None if kind else f"ZAI_API_KEY=… zai-conformance run --live --cell '{cell_id}'",
        )
        cells.append(result.to_dict())
    return gather(copy.deepcopy(RUN), cells)


# --- the browser and the page ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Blocking]:
    """One headless Chromium for this worker, shared by its browser tests (each opens its own context)."""
    if not CHROMIUM.is_file():
        missing(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium (apt-get install chromium; "
            "scripts/bootstrap installs it when run as root)",
            installable=is_root() and shutil.which("apt-get") is not None,
        )
    _, browser, stop = launch(CHROMIUM)
    try:
        yield browser
    finally:
        stop()


@pytest.fixture(scope="session")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rendered report, once per worker."""
    path = tmp_path_factory.mktemp("browser-report") / "index.html"
    path.write_text(render_html(browser_document()), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        missing(
            f"axe-core is not installed at {AXE.relative_to(ROOT)} (scripts/bootstrap installs it with npm from "
            "tests/browser/package-lock.json)",
            installable=is_root() and shutil.which("npm") is not None,
        )
    return AXE.read_text(encoding="utf-8")


# Whether a person sees an element: laid out, not hidden, and not faded below half opacity.
SHOWN = """(element) => {
  if (!element.checkVisibility({visibilityProperty: true, opacityProperty: true})) return false;
  let opacity = 1;
  for (let node = element; node instanceof Element; node = node.parentElement) {
    opacity *= parseFloat(getComputedStyle(node).opacity);
  }
  return opacity >= 0.5;
}"""


@dataclass
class ReportPage:
    """One opened report: the page, what its script complained about, and the checks the tests share."""

    page: Blocking
    screenshot: Path
    errors: list[str] = field(default_factory=list)

    def fail(self, message: str) -> NoReturn:
        """Fail naming what is missing, what the page's script reported, and where its screenshot goes."""
        complaints = "".join(f"\n  {error}" for error in self.errors[:10]) or " none"
        pytest.fail(f"{message}\npage script errors:{complaints}\nscreenshot: {self.screenshot}", pytrace=False)

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def wait_until(
        self,
        expression: str,
        message: str,
        arg: Any = None,
        timeout_ms: int = ACTION_MS,
        then: Callable[[], str] | None = None,
    ) -> None:
        """Wait for a JS predicate; on timeout, fail with `message` (what the page did not do) and what
        `then()` says of the page as it was left."""
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        try:
            self.page.wait_for_function(expression, arg=arg, timeout=timeout_ms)
            return
        except PlaywrightTimeout:
            pass
        self.fail(message + (f" ({then()})" if then else ""))

    def focused(self) -> str:
        """The focused element's opening, for a failure message."""
        return self.js(
            """() => { const e = document.activeElement; if (!e) return 'nothing';
                 const text = (e.textContent || '').trim().slice(0, 40);
                 return `<${e.tagName.toLowerCase()}${e.id ? ' id=' + e.id : ''}> ${text}`; }"""
        )

    def visible_count_is(self, *choices: set[str], message: str) -> None:
        """Wait until the visible matrix cells are exactly one of `choices` (sets of ids: a page may show
        one matrix at a time or all of them); fail naming what is visible instead."""
        self.wait_until(
            f"""(choices) => {{
                 const shown = [...document.querySelectorAll('#matrix td[data-cell]')]
                   .filter({SHOWN}).map((td) => td.dataset.cell);
                 return choices.some((ids) => shown.length === ids.length && ids.every((id) => shown.includes(id)));
               }}""",
            message,
            arg=[sorted(ids) for ids in choices],
            then=lambda: f"visible: {len(self.visible_cells())} cells, {self.visible_cells()[:6]}",
        )

    def require(self, selector: str, contract: str) -> Blocking:
        """The first element matching `selector`; fail naming the contract when there is none."""
        if not self.js("(s) => document.querySelector(s) !== null", selector):
            self.fail(f"no element matches {selector}: {contract}")
        return self.page.locator(selector).first

    def visible_cells(self) -> list[str]:
        """The ids of the matrix cells a person can see now: not display:none, not inside a closed
        <details>, not visibility:hidden, and not faded out (a cell dimmed below half opacity is one a
        filter took away, even if it keeps its place in the table)."""
        cells = "[...document.querySelectorAll('#matrix td[data-cell]')]"
        return self.js(f"() => {cells}.filter({SHOWN}).map((td) => td.dataset.cell)")

    def cell_control(self, cell_id: str) -> Blocking:
        """The focusable link or button inside a cell, which opens its drill-down."""
        self.require(
            f'#matrix td[data-cell="{cell_id}"]',
            'matrix cells are td[data-cell="<endpoint>/<model>/<path>/<scenario>"] inside #matrix',
        )
        return self.require(
            f'#matrix td[data-cell="{cell_id}"] :is(a[href], button)',
            "each matrix cell holds a focusable link or button that opens its drill-down",
        )

    def panel_open(self) -> bool:
        return self.js("() => { const p = document.getElementById('panel'); return !!p && p.checkVisibility(); }")


def slug(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1]).strip("_")[:150] or "test"


NOT_READY = (
    "the page never set html[data-ready=true]: once its script has made the page interactive it must set "
    "document.documentElement.dataset.ready = 'true'"
)
NEVER_READY: list[str] = []  # the report is rendered once per worker: one vain wait for it is enough


@pytest.fixture
def open_report(
    browser: Blocking, report_file: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., ReportPage]]:
    """`open_report(fragment="", phone=False, bypass_csp=False)`: a new context and page on the report
    (1440×900, or a 390×844 phone), waited for until the page says it is interactive."""
    contexts: list[Blocking] = []
    opened: list[ReportPage] = []
    request.node.stash[PAGES] = opened

    def open_(fragment: str = "", *, phone: bool = False, bypass_csp: bool = False) -> ReportPage:
        options: dict[str, Any] = {"viewport": PHONE if phone else DESKTOP, "bypass_csp": bypass_csp}
        if phone:
            options |= {"is_mobile": True, "has_touch": True, "device_scale_factor": 3}
        context = browser.new_context(**options)
        contexts.append(context)
        context.set_default_timeout(ACTION_MS)
        name = slug(request.node.nodeid) + (f"-{len(opened) + 1}" if opened else "")
        report = ReportPage(context.new_page(), FAILURES / f"{name}.png")
        opened.append(report)
        report.page.on("pageerror", lambda error: report.errors.append(f"uncaught {error}"))
        report.page.on(
            "console",
            lambda message: (
                report.errors.append(f"console.{message.type}: {message.text}")
                if message.type in ("error", "warning")
                else None
            ),
        )
        report.page.goto(report_file.as_uri() + fragment)
        if NEVER_READY:  # the same page, already waited for in vain on this worker: no second wait
            report.fail(NEVER_READY[0] + " (found by an earlier test on this worker)")
        try:
            report.wait_until("() => document.documentElement.dataset.ready === 'true'", NOT_READY, timeout_ms=READY_MS)
        except pytest.fail.Exception:
            NEVER_READY.append(NOT_READY)
            raise
        return report

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def report(open_report: Callable[..., ReportPage]) -> ReportPage:
    """The report at 1440×900, under its own Content-Security-Policy, ready."""
    return open_report()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failure, a screenshot of every page the test opened, named in the report's output."""
    report: pytest.TestReport = yield
    opened = item.stash.get(PAGES, [])
    if report.failed and report.when in ("setup", "call") and opened:
        FAILURES.mkdir(parents=True, exist_ok=True)
        saved = []
        for page in opened:
            try:
                page.page.screenshot(path=str(page.screenshot), full_page=True)
                saved.append(str(page.screenshot))
            except Exception as error:  # a page that crashed: say so, keep the test's own failure
                saved.append(f"{page.screenshot}: not saved ({error})")
        report.sections.append(("browser screenshots", "\n".join(saved)))
    return report
