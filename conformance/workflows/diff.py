"""`zai-conformance diff OLD NEW`: what changed between two runs, cell by cell.

Either side is a results.json or a run folder (reports/runs/<id>, finished or not). A cell is the
same cell when its id is; it changed when its verdict, its reasons or the kind of its evidence did.
Used between runs by users ("what did my upgrade change?") and between commits by developers
("did this refactoring change any verdict?"); the exit code says whether anything changed. With
--html the same diff is also written as a page (conformance.report.diff_page), filed by kind of change.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.comparison import ResultsDiff


def load_pair(old: Path, new: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both sides' documents: the page needs each cell's own facts, not only what changed."""
    from conformance.results import load_results

    return load_results(old), load_results(new)


def write_page(diff: ResultsDiff, old: dict[str, Any], new: dict[str, Any], out: Path) -> Path:
    """The diff as a self-contained HTML page at `out` (written whole or not at all)."""
    from conformance.report.diff_page import diff_page, render_diff_page
    from conformance.results import write_text

    write_text(out, render_diff_page(diff_page(diff, old, new)))
    return out


def render(diff: ResultsDiff, limit: int | None = None) -> str:
    """Plain text: a summary line, then each added, removed and changed cell (at most `limit` each)."""
    lines = [
        f"{diff.old} → {diff.new}: {diff.compared} cell(s) compared; "
        f"{len(diff.changed)} changed, {len(diff.added)} added, {len(diff.removed)} removed"
    ]
    for title, cells in (("added", diff.added), ("removed", diff.removed)):
        shown = cells if limit is None else cells[:limit]
        lines += [f"{title}: {cell}" for cell in shown]
        if len(shown) < len(cells):
            lines.append(f"… and {len(cells) - len(shown)} more {title}")
    shown_changes = diff.changed if limit is None else diff.changed[:limit]
    for change in shown_changes:
        lines.append(f"changed: {change.cell}")
        for item in change.changes:
            lines.append(f"  {item.field}: {_short(item.old)} → {_short(item.new)}")
    if len(shown_changes) < len(diff.changed):
        lines.append(f"… and {len(diff.changed) - len(shown_changes)} more changed")
    return "\n".join(lines)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 300 else text[:299] + "…"
