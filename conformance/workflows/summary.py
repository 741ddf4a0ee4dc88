"""`--summary-md FILE` (on `run` and `report`): the run's Markdown summary, compared with the previous
run found in the reports folder, and — under GitHub Actions — its unexpected cells as annotations.

The previous run is the newest run folder under `<reports>/runs/` older than this one
(`conformance.results.previous_run`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from conformance.report.summary_md import annotations, render_summary_md
from conformance.results import previous_run, write_text


def write_summary(document: dict[str, Any], reports_dir: Path, target: Path) -> None:
    previous, name = previous_run(reports_dir / "runs", str(document["run"].get("id", "")))
    target.parent.mkdir(parents=True, exist_ok=True)
    write_text(target, render_summary_md(document, previous, name))
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for line in annotations(document):
            print(line)
