"""The client-sets page's full view: every cell's verdict under each set, side by side, per
endpoint/model — light enough for several sets × 12,000 cells.

Most cells come out the same under every set (the sets differ in a few libraries), so a row per cell
would bury the few that move. A block shows the cells whose verdict differs across the sets (or that
a set lacks) one row each, a column per set; the cells with the same verdict under every set fold
into a count, and inside its <details> into one line per path and verdict that names the scenarios.
Pure: the merged matrix document (conformance.workflows.merge) in, frozen views out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from conformance.report.cell_id import split_cell
from conformance.verdict import Verdict

OPEN_LIMIT = 200  # differing rows: a block with more starts closed, so the page opens light


@dataclass(frozen=True)
class SetRow:
    """One cell whose verdict differs across the sets: its verdict under each (None: not run there)."""

    cell: str
    path: str
    scenario: str
    verdicts: tuple[str | None, ...]


@dataclass(frozen=True)
class SameGroup:
    """The scenarios of one path whose cells came out `verdict` under every set."""

    path: str
    verdict: str
    scenarios: tuple[str, ...]


@dataclass(frozen=True)
class SetBlock:
    endpoint: str
    model: str
    differing: tuple[SetRow, ...]
    same: tuple[SameGroup, ...]

    @property
    def same_cells(self) -> int:
        return sum(len(group.scenarios) for group in self.same)

    @property
    def cells(self) -> int:
        return len(self.differing) + self.same_cells

    @property
    def same_counts(self) -> list[tuple[str, int]]:
        counts: Counter[str] = Counter()
        for group in self.same:
            counts[group.verdict] += len(group.scenarios)
        return _ordered(counts)

    @property
    def open(self) -> bool:
        return 0 < len(self.differing) <= OPEN_LIMIT


def set_blocks(document: dict[str, Any]) -> list[SetBlock]:
    """Per endpoint/model (in the order the cells come), its differing rows and its folded groups."""
    names = [entry["name"] for entry in document["sets"]]
    grouped: dict[tuple[str, str], list[tuple[str, str, str, tuple[str | None, ...]]]] = {}
    for cell in document["cells"]:
        endpoint, model, path, scenario = split_cell(cell["cell"])
        verdicts = tuple(cell["verdicts"].get(name) for name in names)
        grouped.setdefault((endpoint, model), []).append((cell["cell"], path, scenario, verdicts))
    return [_block(endpoint, model, cells) for (endpoint, model), cells in grouped.items()]


def _block(endpoint: str, model: str, cells: list[tuple[str, str, str, tuple[str | None, ...]]]) -> SetBlock:
    differing = []
    same: dict[tuple[str, str], list[str]] = {}
    for cell, path, scenario, verdicts in cells:
        first = verdicts[0]
        if first is not None and all(verdict == first for verdict in verdicts):
            same.setdefault((path, first), []).append(scenario)
        else:
            differing.append(SetRow(cell, path, scenario, verdicts))
    return SetBlock(
        endpoint=endpoint,
        model=model,
        differing=tuple(differing),
        same=tuple(SameGroup(path, verdict, tuple(scenarios)) for (path, verdict), scenarios in same.items()),
    )


def _ordered(counts: Counter[str]) -> list[tuple[str, int]]:
    known = [verdict.value for verdict in Verdict]
    order = known + sorted(name for name in counts if name not in known)
    return [(name, counts[name]) for name in order if counts.get(name)]
