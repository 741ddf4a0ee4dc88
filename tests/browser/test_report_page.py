"""The report as a person uses it, in Chromium: the summary first, a cell's drill-down by click, by link
and by keyboard, the filters (kept in the URL), search and the pickers.

Every check names the element contract it relies on in its failure message, so a test failing against
an older page says what that page lacks.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.browser.conftest import (
    CLICKED,
    FAILING,
    FINDING,
    NEARBY,
    PLAN,
    SEARCHED,
    UNEXPECTED,
    ReportPage,
)

ALL_CELLS = {cell_id for cell_id, *_ in PLAN}
PANEL_OPENS = "#panel (hidden until opened) becomes visible when a cell is opened"


def test_page_runs_without_script_errors(report: ReportPage) -> None:
    errors = [error for error in report.errors if not error.startswith("console.warning")]
    assert not errors, "the page's script reported errors (or the CSP refused something):\n" + "\n".join(errors)


def test_summary_comes_first_and_reads(report: ReportPage) -> None:
    report.require("#summary", "the summary (#summary) is the first section of the page")
    report.require("#matrix", "the matrix (#matrix) holds every cell")
    before = report.js(
        """() => !!(document.getElementById('summary').compareDocumentPosition(document.getElementById('matrix'))
                 & Node.DOCUMENT_POSITION_FOLLOWING)"""
    )
    assert before, "#summary must come before #matrix in the page"
    top = report.js("() => document.getElementById('summary').getBoundingClientRect().top")
    assert top < 900, f"#summary starts {top:.0f} px down, below the first screen (1440×900): it must be seen first"
    entries = report.js(
        """() => [...document.querySelectorAll('#summary [data-endpoint][data-path][data-feature]')].map((e) => ({
              key: [e.dataset.endpoint, e.dataset.path, e.dataset.feature].join(' '),
              text: e.innerText.trim(),
              size: parseFloat(getComputedStyle(e).fontSize),
              shown: e.checkVisibility({visibilityProperty: true}),
           }))"""
    )
    assert entries, "#summary has no entries with data-endpoint, data-path and data-feature"
    keys = {entry["key"] for entry in entries}
    assert "coding openai-sdk chat" in keys, f"no summary entry for coding / openai-sdk / chat among {sorted(keys)}"
    unreadable = [entry for entry in entries if entry["shown"] and (not entry["text"] or entry["size"] < 12)]
    assert not unreadable, f"summary entries without text or under 12 px: {unreadable[:5]}"


def test_skip_link_is_the_first_stop_and_table_of_contents_links_resolve(report: ReportPage) -> None:
    report.require("#skip-link", "a skip link (#skip-link) is the first thing keyboard focus reaches")
    report.page.keyboard.press("Tab")
    first = report.js("() => document.activeElement && (document.activeElement.id || document.activeElement.tagName)")
    assert first == "skip-link", f"the first Tab stop is {first!r}, not #skip-link"
    report.require("#toc a[href^='#']", "a table of contents (#toc) links to the page's sections")
    broken = report.js(
        """() => [...document.querySelectorAll("#toc a[href^='#']")]
              .map((a) => decodeURIComponent(a.getAttribute('href').slice(1)))
              .filter((id) => id && !id.includes('=') && !document.getElementById(id))"""
    )
    assert not broken, f"#toc links to sections that do not exist: {broken}"


def test_a_click_opens_the_cells_drill_down(report: ReportPage) -> None:
    report.require("#panel", PANEL_OPENS)
    assert not report.panel_open(), "#panel must stay hidden until a cell is opened"
    report.cell_control(CLICKED).click()
    report.wait_until(
        "() => document.getElementById('panel').checkVisibility()", f"a click on {CLICKED}: {PANEL_OPENS}"
    )
    body = report.require("#panel-body", "the drill-down's content is in #panel-body").inner_text()
    assert CLICKED in body, f"#panel-body does not name the cell clicked ({CLICKED}): {body[:300]!r}"
    hash_ = report.js("() => decodeURIComponent(location.hash)")
    assert hash_ == f"#cell={CLICKED}", f"opening a cell must make its link the location hash: got {hash_!r}"


def test_a_deep_link_opens_the_cells_drill_down(open_report: Callable[..., ReportPage]) -> None:
    report = open_report(f"#cell={CLICKED}")
    report.wait_until(
        "() => { const p = document.getElementById('panel'); return !!p && p.checkVisibility(); }",
        f"opening the report at #cell={CLICKED}: {PANEL_OPENS}",
    )
    body = report.require("#panel-body", "the drill-down's content is in #panel-body").inner_text()
    assert CLICKED in body, f"#panel-body does not name the linked cell ({CLICKED}): {body[:300]!r}"
    # the recorded exchange reaches the drill-down (as text)
    assert "chat/completions" in body, "the drill-down does not show the cell's recorded request"
    assert FINDING.message in body, "the drill-down does not show the cell's finding (its message is a shared value)"


def test_keyboard_focus_moves_into_the_drill_down_and_back(report: ReportPage) -> None:
    control = report.cell_control(CLICKED)
    report.require("#panel-close", "#panel holds a close button (#panel-close)")
    control.focus()
    report.page.keyboard.press("Enter")
    report.wait_until("() => document.getElementById('panel').checkVisibility()", f"Enter on {CLICKED}: {PANEL_OPENS}")
    report.wait_until(
        "() => document.getElementById('panel').contains(document.activeElement)",
        "opening the drill-down with the keyboard must move focus into #panel",
        then=lambda: f"focus is on {report.focused()}",
    )
    report.page.keyboard.press("Escape")
    report.wait_until("() => !document.getElementById('panel').checkVisibility()", "Escape must close #panel")
    report.wait_until(
        '(id) => document.querySelector(`td[data-cell="${id}"]`).contains(document.activeElement)',
        f"closing the drill-down must give focus back to the cell that opened it ({CLICKED})",
        arg=CLICKED,
        then=lambda: f"focus is on {report.focused()}",
    )


def test_a_verdict_filter_hides_cells_and_survives_a_reload(report: ReportPage) -> None:
    verdict = report.require("#f-verdict", "a verdict filter (#f-verdict, a <select> of verdicts)")
    count = report.require("#shown-count", "#shown-count says how many cells the filters leave")
    before, count_before = report.visible_cells(), count.inner_text()
    failing = {cell_id for cell_id in before if cell_id in FAILING}
    assert failing, f"no FAIL cell is visible as the page opens (visible: {before}): nothing to filter to"
    verdict.select_option("FAIL")
    report.visible_count_is(
        failing, message=f"with #f-verdict = FAIL only the FAIL cells of the {len(before)} shown must stay: {failing}"
    )
    counted = count.inner_text()
    assert counted != count_before and re.search(rf"\b{len(failing)}\b", counted), (
        f"#shown-count must say {len(failing)} cell(s) are shown: it says {counted!r} (before: {count_before!r})"
    )
    url = report.page.url
    assert "#" in url and url.split("#", 1)[1], f"the filter is not kept in the location hash: {url}"
    report.page.reload()
    report.wait_until("() => document.documentElement.dataset.ready === 'true'", "after a reload: html[data-ready]")
    kept = report.page.locator("#f-verdict").input_value()
    assert kept == "FAIL", f"reloading {url.split('#', 1)[1]!r} must restore #f-verdict = FAIL (it is {kept!r})"
    report.visible_count_is(failing, message="after a reload the filter must hide the same cells")


def test_only_unexpected_leaves_the_unexpected_cell(report: ReportPage) -> None:
    report.require("#f-unexpected", "an 'only unexpected' checkbox (#f-unexpected)").check()
    report.visible_count_is(
        {UNEXPECTED}, message=f"with #f-unexpected checked only {UNEXPECTED} (the one unexpected verdict) must stay"
    )


def test_search_finds_a_cell(report: ReportPage) -> None:
    search = report.require("#search", "a search box (#search) finds cells by their id and reasons")
    search.fill(NEARBY)
    report.visible_count_is({NEARBY}, message=f"searching for {NEARBY!r} must leave that cell, and only it, visible")
    # a cell outside the matrix shown first: visible at once, or one click away (a link naming its matrix)
    search.fill(SEARCHED)
    endpoint, model = SEARCHED.split("/")[:2]
    lead = """([id, endpoint, model]) => {
        const cell = document.querySelector(`#matrix td[data-cell="${id}"]`);
        if (cell && cell.checkVisibility()) return 'shown';
        const names = (e) => e.textContent.includes(endpoint) && e.textContent.includes(model);
        return [...document.querySelectorAll('a[href], button')]
          .find((e) => e.checkVisibility() && !e.closest('#matrix, #panel') && names(e)) || null;
      }"""
    report.wait_until(
        lead,
        f"searching for {SEARCHED!r} (a cell of {endpoint}/{model}, not of the matrix shown first) must show it, or "
        f"offer a link or button naming {endpoint} and {model} that leads to it",
        arg=[SEARCHED, endpoint, model],
    )
    report.js(f"(arg) => {{ const to = ({lead})(arg); if (to !== 'shown') to.click(); }}", [SEARCHED, endpoint, model])
    report.visible_count_is({SEARCHED}, message=f"the search for {SEARCHED!r} must lead to that cell, and only it")


def test_picking_a_model_shows_its_cells(report: ReportPage) -> None:
    report.require("#pick-model", "a model picker (#pick-model, a <select>)")
    options = report.js("() => [...document.querySelectorAll('#pick-model option')].map((o) => [o.value, o.label])")
    chosen = next((value for value, label in options if value and "glm-4.6" in f"{value} {label}"), None)
    assert chosen, f"#pick-model offers no glm-4.6 (the page opens on glm-4.5): {options}"
    report.page.locator("#pick-model").select_option(chosen)
    everywhere = {cell_id for cell_id in ALL_CELLS if cell_id.split("/")[1] == "glm-4.6"}
    on_coding = {cell_id for cell_id in everywhere if cell_id.startswith("coding/")}  # one endpoint at a time
    report.visible_count_is(
        on_coding, everywhere, message=f"picking {chosen!r} in #pick-model must show glm-4.6's cells, and no other"
    )
