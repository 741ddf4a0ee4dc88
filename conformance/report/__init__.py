"""Reports from a results document: HTML (self-contained), JUnit XML. results.json is written by
conformance.results."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_reports(document: dict[str, Any], reports_dir: Path) -> dict[str, Path]:
    """index.html and junit.xml, each written whole or not at all (a reader never sees half of one)."""
    from conformance.report.html import render_html
    from conformance.report.junit import render_junit
    from conformance.results import write_text

    written = {"html": reports_dir / "index.html", "junit": reports_dir / "junit.xml"}
    write_text(written["html"], render_html(document))
    write_text(written["junit"], render_junit(document))
    return written
