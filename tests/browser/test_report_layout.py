"""The report on a phone, and its accessibility as axe-core measures it.

On a 390×844 phone the page must not scroll sideways (wide tables scroll inside their own box), with or
without a drill-down open. axe-core scans the page as loaded and with a drill-down open; serious and
critical violations fail the test, every one listed in the message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import CLICKED, LONG_REASON, ReportPage

# The layout viewport's width (clientWidth), not innerWidth: a mobile browser zooms out to fit a page
# wider than the screen, and innerWidth then grows with the overflow it should reveal.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.body.querySelectorAll('*')]
    .filter((e) => e.getBoundingClientRect().right > width + 1 && e.checkVisibility())
    .filter((e) => { /* inside a box that scrolls sideways is fine */
      for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
        const s = getComputedStyle(p);
        if (['auto', 'scroll', 'hidden', 'clip'].includes(s.overflowX) && p.getBoundingClientRect().right <= width + 1)
          return false;
      }
      return true;
    });
  const outermost = new Set(wide);
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, clientWidth: width,
          wide: wide.filter((e) => !outermost.has(e.parentElement)).slice(0, 8).map(describe)};
  function describe(e) {
    return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
         (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : '') +
         ' right=' + Math.round(e.getBoundingClientRect().right);
  }
}"""
PHONE_WIDTH = 390


def no_sideways_scroll(report: ReportPage, state: str) -> None:
    measured = report.js(OVERFLOW)
    limit = min(measured["innerWidth"], measured["clientWidth"], PHONE_WIDTH)
    if measured["scrollWidth"] > limit:
        report.fail(
            f"{state}: the page scrolls sideways on a {PHONE_WIDTH}×844 phone: documentElement.scrollWidth "
            f"{measured['scrollWidth']} > {limit} (innerWidth {measured['innerWidth']}: the phone zooms out to fit); "
            f"elements reaching past the right edge, outside any box that scrolls: {measured['wide']}"
        )


def test_phone_layout_does_not_scroll_sideways(open_report: Callable[..., ReportPage]) -> None:
    report = open_report(phone=True)
    no_sideways_scroll(report, "as loaded")
    report.page.evaluate("(id) => { location.hash = 'cell=' + id; }", LONG_REASON)
    report.wait_until(
        "() => { const p = document.getElementById('panel'); return !!p && p.checkVisibility(); }",
        f"#panel (hidden until opened) must open at #cell={LONG_REASON}",
    )
    no_sideways_scroll(report, f"with the drill-down of {LONG_REASON} open (a reason holding a long URL)")


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        targets = [" ".join(map(str, node.get("target", []))) for node in violation.get("nodes", [])]
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} — {len(targets)} element(s): "
            f"{targets[:5]} {violation.get('helpUrl', '')}"
        )
    return "\n".join(lines)


@pytest.mark.parametrize("state", ["loaded", "drill-down open"])
def test_axe_finds_nothing_serious(open_report: Callable[..., ReportPage], axe_source: str, state: str) -> None:
    # axe-core is injected, which the page's CSP forbids: this context alone bypasses it
    report = open_report(f"#cell={CLICKED}" if state == "drill-down open" else "", bypass_csp=True)
    if state == "drill-down open":
        report.wait_until(
            "() => { const p = document.getElementById('panel'); return !!p && p.checkVisibility(); }",
            f"#panel (hidden until opened) must open at #cell={CLICKED}",
        )
    report.page.add_script_tag(content=axe_source)
    results = report.js("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
    if serious:
        report.fail(
            f"axe-core {results['testEngine']['version']} finds {len(serious)} serious or critical violation(s) "
            f"with the page {state}:\n{describe(serious)}"
        )
