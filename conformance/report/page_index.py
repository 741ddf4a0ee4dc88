"""The compact index the page draws its matrices from: per cell, indexes into the lists of endpoints,
models, paths, scenarios, verdicts and evidence labels, and its reasons.

A full run has some 12,000 cells in 47 endpoint/model matrices; drawn as HTML they were 9 MB the
browser had to parse before anything moved. As columns of small integers the same facts are a few
hundred KB, and the script draws only the matrix being looked at (report.js). Pure: a results
document in, a PageIndex out; `as_json` is what the page embeds.

Evidence is indexed by the bytes behind the verdict, as the header counts it (results.summarise): a
cell whose path consumed none of its cassette's bytes (a client refusing before sending) is `none`,
and its badge says "no bytes used" rather than naming a kind the verdict does not rest on — so the
header's count of PUBLIC is the number of PUBLIC badges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance.features import OTHER, families, family_of
from conformance.verdict import Verdict

KINDS = ("live", "public", "double", "none")  # the order of the header's evidence counts
KIND_LABELS = {"public": "PUBLIC", "live": "LIVE", "double": "DOUBLE · synthetic"}
NO_EVIDENCE = "no evidence"
NO_BYTES_USED = "no bytes used"
NOT_RUN = (Verdict.SKIPPED.value, Verdict.NOT_RECORDED.value)


@dataclass(frozen=True)
class Block:
    """One endpoint/model matrix: rows are its scenarios, columns its paths (both in first-seen order)."""

    endpoint: str
    model: str
    paths: tuple[str, ...]
    scenarios: tuple[str, ...]
    cells: tuple[int, ...]  # positions in the document's cells
    has_evidence: bool
    folded: bool  # nothing to look at yet: no evidence and nothing judged beyond SKIPPED / NOT_RECORDED

    @property
    def key(self) -> str:
        return f"{self.endpoint}/{self.model}"


@dataclass(frozen=True)
class IndexedCell:
    block: int
    path: int
    scenario: int
    verdict: int
    kind: int  # into KINDS: the bytes behind the verdict
    label: int  # into PageIndex.labels: what the evidence badge says
    note: int  # into PageIndex.notes, or -1: the evidence badge's tooltip line
    expected: int  # into PageIndex.verdicts, or -1: no expectation
    as_expected: int  # 1, 0, or -1 (not judged)
    reasons: tuple[int, ...]  # into PageIndex.reasons


@dataclass(frozen=True)
class PageIndex:
    endpoints: tuple[str, ...]
    models: tuple[str, ...]
    paths: tuple[str, ...]
    scenarios: tuple[str, ...]
    families: tuple[tuple[str, str], ...]  # id, title: the feature families the scenarios fall in
    scenario_family: tuple[int, ...]  # per scenario, into families
    verdicts: tuple[str, ...]
    labels: tuple[str, ...]
    notes: tuple[str, ...]
    reasons: tuple[str, ...]
    blocks: tuple[Block, ...]
    cells: tuple[IndexedCell, ...]  # in the document's order

    def as_json(self) -> dict[str, Any]:
        """Columns, not records: twelve thousand small integers per field compress to almost nothing."""
        cells = self.cells
        return {
            "endpoints": list(self.endpoints),
            "models": list(self.models),
            "paths": list(self.paths),
            "scenarios": list(self.scenarios),
            "families": [list(family) for family in self.families],
            "scenario_family": list(self.scenario_family),
            "verdicts": list(self.verdicts),
            "kinds": list(KINDS),
            "labels": list(self.labels),
            "notes": list(self.notes),
            "reasons": list(self.reasons),
            "blocks": [
                {
                    "endpoint": self.endpoints.index(block.endpoint),
                    "model": self.models.index(block.model),
                    "paths": [self.paths.index(path) for path in block.paths],
                    "scenarios": [self.scenarios.index(scenario) for scenario in block.scenarios],
                    "has_evidence": block.has_evidence,
                    "folded": block.folded,
                }
                for block in self.blocks
            ],
            "cells": {
                "b": [cell.block for cell in cells],
                "p": [cell.path for cell in cells],
                "s": [cell.scenario for cell in cells],
                "v": [cell.verdict for cell in cells],
                "k": [cell.kind for cell in cells],
                "l": [cell.label for cell in cells],
                "n": [cell.note for cell in cells],
                "x": [cell.expected for cell in cells],
                "a": [cell.as_expected for cell in cells],
                "r": [list(cell.reasons) for cell in cells],
            },
        }


def evidence_kind(cell: dict[str, Any]) -> str:
    """The kind of evidence whose bytes the verdict rests on, or "none" (as results.summarise counts)."""
    evidence = cell.get("evidence") or {}
    return evidence["kind"] if evidence.get("used") else "none"


def evidence_label(cell: dict[str, Any]) -> str:
    """The evidence badge's text. It names a kind only when the verdict rests on that kind's bytes."""
    evidence = cell.get("evidence")
    if not evidence:
        return NO_EVIDENCE
    if not evidence.get("used"):
        return NO_BYTES_USED
    label = KIND_LABELS.get(evidence["kind"], str(evidence["kind"]).upper())
    return f"{label} · not Z.AI" if evidence["kind"] != "double" and not cell.get("real") else label


def evidence_note(cell: dict[str, Any]) -> str:
    """The badge's tooltip line, where the label alone would hide something."""
    evidence = cell.get("evidence")
    if not evidence:
        return ""
    kind = KIND_LABELS.get(evidence["kind"], str(evidence["kind"]).upper())
    if not evidence.get("used"):
        return f"a {kind} recording exists for this cell, but the path consumed none of its bytes"
    if evidence["kind"] != "double" and not cell.get("real"):
        return "recorded against a base URL that is not Z.AI: not real Z.AI bytes"
    return ""


def verdict_names(cells: list[dict[str, Any]]) -> tuple[str, ...]:
    """The verdict vocabulary in its order, then any unknown verdict a document holds (never dropped)."""
    known = [verdict.value for verdict in Verdict]
    extra = sorted({cell["verdict"] for cell in cells} - set(known))
    return (*known, *extra)


def page_index(document: dict[str, Any]) -> PageIndex:
    cells = document["cells"]
    endpoints = _first_seen(cell["endpoint"] for cell in cells)
    models = _first_seen(cell["model"] for cell in cells)
    paths = _first_seen(cell["path"] for cell in cells)
    scenarios = _first_seen(cell["scenario"] for cell in cells)
    used = {family_of(scenario) for scenario in scenarios}
    shown = [family for family in (*families(), OTHER) if family in used]
    path_at = {path: number for number, path in enumerate(paths)}
    scenario_at = {scenario: number for number, scenario in enumerate(scenarios)}
    verdicts = verdict_names(cells)
    labels: dict[str, int] = {}
    notes: dict[str, int] = {}
    reasons: dict[str, int] = {}
    blocks = _blocks(cells, paths, scenarios)
    block_of = {position: number for number, block in enumerate(blocks) for position in block.cells}
    indexed = []
    for position, cell in enumerate(cells):
        expected = (cell.get("expected") or {}).get("verdict")
        note = evidence_note(cell)
        indexed.append(
            IndexedCell(
                block=block_of[position],
                path=path_at[cell["path"]],
                scenario=scenario_at[cell["scenario"]],
                verdict=verdicts.index(cell["verdict"]),
                kind=KINDS.index(evidence_kind(cell)) if evidence_kind(cell) in KINDS else KINDS.index("none"),
                label=labels.setdefault(evidence_label(cell), len(labels)),
                note=notes.setdefault(note, len(notes)) if note else -1,
                expected=verdicts.index(expected) if expected in verdicts else -1,
                as_expected={True: 1, False: 0}.get(cell.get("as_expected"), -1),
                reasons=tuple(reasons.setdefault(str(reason), len(reasons)) for reason in cell.get("reasons") or ()),
            )
        )
    return PageIndex(
        endpoints=tuple(endpoints),
        models=tuple(models),
        paths=tuple(paths),
        scenarios=tuple(scenarios),
        families=tuple((family.id, family.title) for family in shown),
        scenario_family=tuple(shown.index(family_of(scenario)) for scenario in scenarios),
        verdicts=verdicts,
        labels=tuple(labels),
        notes=tuple(notes),
        reasons=tuple(reasons),
        blocks=tuple(blocks),
        cells=tuple(indexed),
    )


def _blocks(cells: list[dict[str, Any]], paths: list[str], scenarios: list[str]) -> list[Block]:
    """Endpoint/model matrices in the order their first cells appear."""
    grouped: dict[tuple[str, str], list[int]] = {}
    for position, cell in enumerate(cells):
        grouped.setdefault((cell["endpoint"], cell["model"]), []).append(position)
    blocks = []
    for (endpoint, model), positions in grouped.items():
        members = [cells[position] for position in positions]
        used_paths = {cell["path"] for cell in members}
        used_scenarios = {cell["scenario"] for cell in members}
        has_evidence = any(cell.get("evidence") for cell in members)
        blocks.append(
            Block(
                endpoint=endpoint,
                model=model,
                paths=tuple(path for path in paths if path in used_paths),
                scenarios=tuple(scenario for scenario in scenarios if scenario in used_scenarios),
                cells=tuple(positions),
                has_evidence=has_evidence,
                folded=not has_evidence and all(cell["verdict"] in NOT_RUN for cell in members),
            )
        )
    return blocks


def _first_seen(values: Any) -> list[str]:
    return list(dict.fromkeys(values))
