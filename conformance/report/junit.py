"""The run as JUnit XML (reports/junit.xml), for CI systems that chart test results.

As in web-platform-tests, a cell fails only where its verdict differs from its expectation: a known
DEVIATION that is still a DEVIATION passes, and a fix nobody expected fails until the expectations
file says so. SKIPPED and NOT_RECORDED cells are skipped, so an unrecorded matrix reads as such
rather than as green.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from conformance.verdict import Verdict

NOT_RUN = (Verdict.SKIPPED.value, Verdict.NOT_RECORDED.value)
# Characters XML 1.0 cannot carry at all (reasons quote client exceptions, which may hold ANSI
# colour codes); each is written as a visible \xNN instead of making the file unparseable.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render_junit(document: dict[str, Any]) -> str:
    suites: dict[str, list[dict[str, Any]]] = {}
    for cell in document["cells"]:
        suites.setdefault(f"{cell['endpoint']}/{cell['model']}", []).append(cell)
    root = ET.Element("testsuites", name="zai-conformance")
    for name, cells in suites.items():
        root.append(testsuite(name, cells, document["run"].get("started_at")))
    _sum_suites(root, root.findall("testsuite"))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def testsuite(name: str, cells: list[dict[str, Any]], timestamp: str | None) -> ET.Element:
    suite = ET.Element("testsuite", name=name)
    if timestamp:
        suite.set("timestamp", timestamp)
    cases = [testcase(cell) for cell in cells]
    suite.extend(cases)
    _count_cases(suite, cases)
    return suite


def testcase(cell: dict[str, Any]) -> ET.Element:
    case = ET.Element(
        "testcase",
        # dots in model ids (glm-4.5) would read as package levels in CI dashboards
        classname=f"zai.{cell['endpoint']}.{cell['model'].replace('.', '_')}.{cell['path']}",
        name=cell["scenario"],
        time=_seconds(cell.get("duration_ms")),
    )
    case.append(_properties(cell))
    reasons = "\n".join(cell.get("reasons") or ())
    if cell.get("as_expected") is False:
        expected = cell.get("expected") or {}
        # the whole cell in the message: a CI dashboard often shows only this line
        first = (cell.get("reasons") or [""])[0]
        message = f"{cell['cell']}: unexpected {cell['verdict']}, expected {expected.get('verdict')}"
        message += f" — {first[:200]}" if first else ""
        failure = ET.SubElement(case, "failure", message=_text(message), type=cell["verdict"])
        failure.text = _text("\n".join(filter(None, [reasons, _expectation(expected)])))
    elif cell["verdict"] in NOT_RUN:
        message = f"{cell['verdict']}: {reasons}" if reasons else cell["verdict"]
        ET.SubElement(case, "skipped", message=_text(message))
    elif reasons:
        ET.SubElement(case, "system-out").text = _text(reasons)
    return case


def _properties(cell: dict[str, Any]) -> ET.Element:
    """Verdict, evidence and expectation as properties: what a CI dashboard can group and filter by."""
    evidence = cell.get("evidence") or {}
    expected = cell.get("expected") or {}
    values = {
        "cell": cell["cell"],
        "verdict": cell["verdict"],
        "evidence": evidence.get("kind") or "none",
        "real_zai_bytes": str(bool(cell.get("real"))).lower(),
        "cassette": evidence.get("cassette"),
        "expected": expected.get("verdict"),
    }
    properties = ET.Element("properties")
    for name, value in values.items():
        if value:
            ET.SubElement(properties, "property", name=name, value=_text(value))
    return properties


def _expectation(expected: dict[str, Any]) -> str:
    """Why the other verdict was expected, so the failure says what to update if this is a fix."""
    if not expected.get("pattern"):
        return "expected by default (no expectations entry matches this cell)"
    because = f": {expected['reason']}" if expected.get("reason") else ""
    link = f" ({expected['link']})" if expected.get("link") else ""
    return f"expectations entry {expected['pattern']!r}{because}{link}"


def _count_cases(suite: ET.Element, cases: list[ET.Element]) -> None:
    _set_counts(
        suite,
        cases,
        {
            "tests": len(cases),
            "failures": sum(1 for case in cases if case.find("failure") is not None),
            "errors": 0,
            "skipped": sum(1 for case in cases if case.find("skipped") is not None),
        },
    )


def _sum_suites(root: ET.Element, suites: list[ET.Element]) -> None:
    _set_counts(
        root,
        suites,
        {key: sum(int(suite.get(key, 0)) for suite in suites) for key in ("tests", "failures", "errors", "skipped")},
    )


def _set_counts(element: ET.Element, children: list[ET.Element], counts: dict[str, int]) -> None:
    for key, value in counts.items():
        element.set(key, str(value))
    element.set("time", f"{sum(float(child.get('time', 0)) for child in children):.3f}")


def _seconds(duration_ms: float | None) -> str:
    return f"{(duration_ms or 0) / 1000:.3f}"


def _text(value: str) -> str:
    return XML_ILLEGAL.sub(lambda match: f"\\x{ord(match.group()):02x}", value)
