"""`zai-conformance diff OLD NEW`: what changed between two runs, cell by cell.

Either side is a results.json or a run folder (reports/runs/<id>, finished or not). A cell is the
same cell when its id is; it changed when its verdict, its reasons or the kind of its evidence did.
Used between runs by users ("what did my upgrade change?") and between commits by developers
("did this refactoring change any verdict?"); the exit code says whether anything changed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

COMPARED = ("verdict", "reasons", "evidence")  # what makes a cell "changed", in the order shown


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class CellChange:
    cell: str
    changes: tuple[FieldChange, ...]

    @property
    def verdicts(self) -> tuple[str | None, str | None] | None:
        for change in self.changes:
            if change.field == "verdict":
                return change.old, change.new
        return None


@dataclass(frozen=True)
class ResultsDiff:
    old: str
    new: str
    compared: int  # cells present on both sides
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[CellChange, ...] = field(default_factory=tuple)

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "compared": self.compared,
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": [{"cell": c.cell, "changes": [asdict(change) for change in c.changes]} for c in self.changed],
        }


def _facts(cell: dict[str, Any]) -> dict[str, Any]:
    return {
        "verdict": cell.get("verdict"),
        "reasons": list(cell.get("reasons") or []),
        "evidence": (cell.get("evidence") or {}).get("kind"),
    }


def diff_documents(
    old: dict[str, Any], new: dict[str, Any], old_name: str = "old", new_name: str = "new"
) -> ResultsDiff:
    """Pure: two results documents in, the cells added, removed and changed out."""
    before = {cell["cell"]: _facts(cell) for cell in old["cells"]}
    after = {cell["cell"]: _facts(cell) for cell in new["cells"]}
    changed = []
    for cell in sorted(before.keys() & after.keys()):
        changes = tuple(
            FieldChange(name, before[cell][name], after[cell][name])
            for name in COMPARED
            if before[cell][name] != after[cell][name]
        )
        if changes:
            changed.append(CellChange(cell, changes))
    return ResultsDiff(
        old=old_name,
        new=new_name,
        compared=len(before.keys() & after.keys()),
        added=tuple(sorted(after.keys() - before.keys())),
        removed=tuple(sorted(before.keys() - after.keys())),
        changed=tuple(changed),
    )


def diff_paths(old: Path, new: Path) -> ResultsDiff:
    from conformance.results import load_results

    return diff_documents(load_results(old), load_results(new), str(old), str(new))


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
