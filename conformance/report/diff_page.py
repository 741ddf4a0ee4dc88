"""`zai-conformance diff OLD NEW --html FILE`: the diff between two runs as one self-contained page.

The text diff answers "did anything change?"; the page answers "what broke, what got fixed, what
merely moved", so its cells are filed by kind of change (conformance.comparison.change_kind), most
urgent first, each section a plain <details> a reader opens or closes without any script. A row
names its cell's endpoint, model, path and scenario, its verdict before and after as text badges,
and the first reason on each side. The page has no script and no network; its one <style> applies
by hash (conformance.report.page_style), and recorded text only ever lands in escaped text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from conformance.comparison import (
    CHANGE_KINDS,
    EVIDENCE_CHANGED,
    NEWLY_FAILING,
    NEWLY_PASSING,
    REASONS_CHANGED,
    VERDICT_CHANGED,
    ResultsDiff,
    change_kind,
)
from conformance.report.cell_id import split_cell
from conformance.report.html import templates
from conformance.report.page_style import page_style, style_only_policy

ADDED, REMOVED = "added", "removed"
SECTION_KINDS = (*CHANGE_KINDS, ADDED, REMOVED)
HINTS = {
    NEWLY_FAILING: "was PASS or DEVIATION, now anything worse",
    NEWLY_PASSING: "now PASS, was anything else",
    VERDICT_CHANGED: "the verdict moved some other way (e.g. FAIL → HANG, PASS → NOT_RECORDED)",
    EVIDENCE_CHANGED: "same verdict, judged on another kind of evidence (e.g. double → public)",
    REASONS_CHANGED: "same verdict and evidence, other reasons",
    ADDED: "only in the new run",
    REMOVED: "only in the old run",
}
OPEN_BY_DEFAULT = (NEWLY_FAILING, NEWLY_PASSING)
OPEN_LIMIT = 300  # rows: a section this long or longer starts closed, so the page opens light
REASON_CHARS = 200


@dataclass(frozen=True)
class Side:
    """One run's facts about a cell, as a row shows them."""

    verdict: str | None
    evidence: str | None
    reason: str  # the first reason, clipped
    reason_full: str  # the first reason, whole (the tooltip)
    more_reasons: int


@dataclass(frozen=True)
class DiffRow:
    cell: str
    endpoint: str
    model: str
    path: str
    scenario: str
    old: Side | None
    new: Side | None

    @property
    def evidence_changed(self) -> bool:
        return self.old is not None and self.new is not None and self.old.evidence != self.new.evidence


@dataclass(frozen=True)
class DiffSection:
    kind: str
    hint: str
    rows: tuple[DiffRow, ...]

    @property
    def anchor(self) -> str:
        return self.kind.replace(" ", "-")

    @property
    def open(self) -> bool:
        return self.kind in OPEN_BY_DEFAULT and 0 < len(self.rows) < OPEN_LIMIT


@dataclass(frozen=True)
class RunLabel:
    source: str
    run_id: str
    mode: str
    started_at: str
    client_set: str


@dataclass(frozen=True)
class DiffPage:
    old: RunLabel
    new: RunLabel
    compared: int
    sections: tuple[DiffSection, ...]

    @property
    def summary(self) -> str:
        """The summary line: how many cells were compared and how many of each kind of change."""
        counts = [f"{len(section.rows)} {section.kind}" for section in self.sections if section.rows]
        changes = "; ".join(counts) if counts else "nothing changed"
        return f"{self.old.source} → {self.new.source}: {self.compared} cell(s) compared; {changes}"


def diff_page(diff: ResultsDiff, old: dict[str, Any], new: dict[str, Any]) -> DiffPage:
    """Pure: the diff and the two documents it came from in, the page's sections out (every kind of
    change, in CHANGE_KINDS order then added and removed; an empty kind is kept and says so)."""
    before = {cell["cell"]: cell for cell in old["cells"]}
    after = {cell["cell"]: cell for cell in new["cells"]}
    filed: dict[str, list[DiffRow]] = {kind: [] for kind in SECTION_KINDS}
    for change in diff.changed:
        filed[change_kind(change)].append(_row(change.cell, before.get(change.cell), after.get(change.cell)))
    filed[ADDED] = [_row(cell, None, after.get(cell)) for cell in diff.added]
    filed[REMOVED] = [_row(cell, before.get(cell), None) for cell in diff.removed]
    return DiffPage(
        old=_label(diff.old, old),
        new=_label(diff.new, new),
        compared=diff.compared,
        sections=tuple(DiffSection(kind, HINTS[kind], tuple(filed[kind])) for kind in SECTION_KINDS),
    )


def render_diff_page(page: DiffPage) -> str:
    style = page_style()
    return templates().get_template("diff.html.j2").render(page=page, style=Markup(style), csp=style_only_policy(style))


def _row(cell_id: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> DiffRow:
    cell = new or old or {}
    endpoint, model, path, scenario = (
        str(cell.get(name) or default)
        for name, default in zip(("endpoint", "model", "path", "scenario"), split_cell(cell_id), strict=True)
    )
    return DiffRow(cell_id, endpoint, model, path, scenario, _side(old), _side(new))


def _side(cell: dict[str, Any] | None) -> Side | None:
    if cell is None:
        return None
    reasons = [str(reason) for reason in cell.get("reasons") or []]
    first = reasons[0] if reasons else ""
    clipped = first if len(first) <= REASON_CHARS else first[: REASON_CHARS - 1] + "…"
    return Side(
        verdict=cell.get("verdict"),
        evidence=(cell.get("evidence") or {}).get("kind"),
        reason=clipped,
        reason_full=first,
        more_reasons=max(len(reasons) - 1, 0),
    )


def _label(source: str, document: dict[str, Any]) -> RunLabel:
    run = document.get("run") or {}
    return RunLabel(
        source=source,
        run_id=str(run.get("id") or ""),
        mode=str(run.get("mode") or ""),
        started_at=str(run.get("started_at") or ""),
        client_set=str(run.get("client_set") or ""),
    )
