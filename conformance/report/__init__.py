"""Reports from a results document: HTML (self-contained), JUnit XML. results.json is written by
conformance.results."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_reports(document: dict[str, Any], reports_dir: Path) -> dict[str, Path]:
    from conformance.report.html import render_html
    from conformance.report.junit import render_junit

    reports_dir.mkdir(parents=True, exist_ok=True)
    written = {"html": reports_dir / "index.html", "junit": reports_dir / "junit.xml"}
    written["html"].write_text(render_html(document), encoding="utf-8")
    written["junit"].write_text(render_junit(document), encoding="utf-8")
    return written
