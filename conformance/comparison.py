"""Comparing two results documents cell by cell: the one definition of "this cell changed" (its
verdict, its reasons or the kind of its evidence), used by `zai-conformance diff` and by the report's
"changed since the previous run". Pure: documents in, a ResultsDiff out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
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


# The kinds of change a reader sorts a diff by, most urgent first: a cell that broke is news whatever
# else moved with it, so a cell is filed under its verdict's movement before its evidence or reasons.
NEWLY_FAILING = "newly failing"
NEWLY_PASSING = "newly passing"
VERDICT_CHANGED = "verdict changed otherwise"
EVIDENCE_CHANGED = "evidence changed"
REASONS_CHANGED = "reasons changed"
CHANGE_KINDS = (NEWLY_FAILING, NEWLY_PASSING, VERDICT_CHANGED, EVIDENCE_CHANGED, REASONS_CHANGED)

HOLDING = ("PASS", "DEVIATION")  # a cell that works: what "newly failing" starts from
NOT_JUDGED = ("SKIPPED", "NOT_RECORDED")  # not a judgement of the path: never "newly failing"


def verdict_movement(old: str | None, new: str | None) -> str:
    """Which way a verdict moved. Newly failing: it held (PASS / DEVIATION) and is now anything worse
    that is still a judgement (DEVIATION after PASS, FAIL, HANG, BLOCKED…); losing the evidence (now
    NOT_RECORDED) or being skipped says nothing about the path, so it is "changed otherwise"."""
    if new == "PASS" and old != "PASS":
        return NEWLY_PASSING
    if old in HOLDING and new is not None and new not in NOT_JUDGED and _rank(new) > _rank(old):
        return NEWLY_FAILING
    return VERDICT_CHANGED


def change_kind(change: CellChange) -> str:
    """The one kind a changed cell is filed under: its verdict's movement, else its evidence, else its
    reasons."""
    verdicts = change.verdicts
    if verdicts is not None:
        return verdict_movement(*verdicts)
    if any(item.field == "evidence" for item in change.changes):
        return EVIDENCE_CHANGED
    return REASONS_CHANGED


def _rank(verdict: str | None) -> int:
    return HOLDING.index(verdict) if verdict in HOLDING else len(HOLDING)
