"""What changed since the previous run, as a reader wants it: cells newly failing (they passed), newly
passing, and whose evidence changed kind — for the report's section and the Markdown summary.

Pure: two results documents in (`conformance.workflows.diff` compares them cell by cell).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance.comparison import diff_documents


@dataclass(frozen=True)
class Change:
    cell: str
    old: str
    new: str


@dataclass(frozen=True)
class Changes:
    previous: str
    compared: int
    changed: int
    added: int
    removed: int
    failing: tuple[Change, ...]  # verdicts that were PASS
    passing: tuple[Change, ...]  # verdicts that are PASS now
    evidence: tuple[Change, ...]  # evidence kind (live / public / double / none)


def changes_since(previous: dict[str, Any], document: dict[str, Any], name: str) -> Changes:
    diff = diff_documents(previous, document, name, "this run")
    failing, passing, evidence = [], [], []
    for change in diff.changed:
        verdicts = change.verdicts
        if verdicts is not None and verdicts[0] == "PASS":
            failing.append(Change(change.cell, str(verdicts[0]), str(verdicts[1])))
        elif verdicts is not None and verdicts[1] == "PASS":
            passing.append(Change(change.cell, str(verdicts[0]), str(verdicts[1])))
        kinds = next((c for c in change.changes if c.field == "evidence"), None)
        if kinds is not None:
            evidence.append(Change(change.cell, kinds.old or "none", kinds.new or "none"))
    return Changes(
        previous=name,
        compared=diff.compared,
        changed=len(diff.changed),
        added=len(diff.added),
        removed=len(diff.removed),
        failing=tuple(failing),
        passing=tuple(passing),
        evidence=tuple(evidence),
    )
