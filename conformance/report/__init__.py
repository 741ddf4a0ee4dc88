"""Reports from a results document: HTML (self-contained), JUnit XML. results.json is written by
conformance.results."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_reports(document: dict[str, Any], reports_dir: Path) -> dict[str, Path]:
    """index.html and junit.xml, each written whole or not at all (a reader never sees half of one). The
    page says what changed since the previous run in `reports_dir/runs`, when there is one."""
    from conformance.report.changes import changes_since
    from conformance.report.html import render_html
    from conformance.report.junit import render_junit
    from conformance.results import previous_run, write_text

    previous, name = previous_run(reports_dir / "runs", str(document["run"].get("id", "")))
    changes = changes_since(previous, document, name) if previous is not None and name is not None else None
    written = {"html": reports_dir / "index.html", "junit": reports_dir / "junit.xml"}
    write_text(written["html"], render_html(document, changes))
    write_text(written["junit"], render_junit(document))
    return written
