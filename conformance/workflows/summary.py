"""`--summary-md FILE` (on `run` and `report`): the run's Markdown summary, compared with the previous
run found in the reports folder, and — under GitHub Actions — its unexpected cells as annotations.

The previous run is the newest run folder under `<reports>/runs/` older than this one (run ids start
with their UTC start time); one that cannot be read is passed over with a warning.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from conformance.report.summary_md import annotations, render_summary_md
from conformance.results import load_run_dir, write_text


def previous_run(runs_dir: Path, current: str) -> tuple[dict[str, Any] | None, str | None]:
    if not runs_dir.is_dir():
        return None, None
    older = sorted((path for path in runs_dir.iterdir() if path.is_dir() and path.name < current), reverse=True)
    for path in older:
        try:
            document, _ = load_run_dir(path)
        except (OSError, ValueError) as exc:
            print(
                f"zai-conformance: the earlier run {path} cannot be read ({exc}); trying an older one", file=sys.stderr
            )
            continue
        return document, path.name
    return None, None


def write_summary(document: dict[str, Any], reports_dir: Path, target: Path) -> None:
    previous, name = previous_run(reports_dir / "runs", str(document["run"].get("id", "")))
    target.parent.mkdir(parents=True, exist_ok=True)
    write_text(target, render_summary_md(document, previous, name))
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for line in annotations(document):
            print(line)
