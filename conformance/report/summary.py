"""The report's summary, first on the page: per endpoint, client paths against feature families, each
entry the share of judged cells that work (PASS, or DEVIATION: works with a named difference) with the
verdict mix and the evidence behind it.

Pure: a results document in, views out. A person answers "does streaming work through the proxy on
the coding endpoint?" here before opening any matrix; the entry's text says the share (colour only
repeats it) and its tooltip the full mix.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from conformance.features import Family, families, family_of
from conformance.verdict import Verdict

UNJUDGED = (Verdict.SKIPPED.value, Verdict.NOT_RECORDED.value)


@dataclass(frozen=True)
class SummaryEntry:
    passed: int
    judged: int
    deviated: int  # judged cells that work with a named difference (DEVIATION)
    verdicts: tuple[tuple[str, int], ...]  # every cell of the entry, in the vocabulary's order
    evidence: tuple[tuple[str, int], ...]  # live / public / double / none

    @property
    def works(self) -> int:
        return self.passed + self.deviated

    @property
    def text(self) -> str:
        """Judged cells that work / judged cells; "≈" when some of them work only with a difference. A
        stream whose usage arrives on the last chunk (DEVIATION) works: 0/15 would read as broken."""
        if not self.judged:
            return "–"
        return f"{self.works}/{self.judged}" + (" ≈" if self.deviated else "")

    @property
    def state(self) -> str:
        """all | works | some | none | unjudged (the entry's colour, which only repeats the text): every
        judged cell PASS; every one works, some with a difference; some work; none works."""
        if not self.judged:
            return "unjudged"
        if self.passed == self.judged:
            return "all"
        if self.works == self.judged:
            return "works"
        return "some" if self.works else "none"

    @property
    def title(self) -> str:
        mix = ", ".join(f"{verdict} {count}" for verdict, count in self.verdicts)
        bytes_ = ", ".join(f"{kind} {count}" for kind, count in self.evidence)
        return f"{mix}; evidence: {bytes_}"


Row = tuple[str, tuple[SummaryEntry | None, ...]]  # a path, and its entry per family shown


@dataclass(frozen=True)
class EndpointSummary:
    endpoint: str
    families: tuple[Family, ...]
    rows: tuple[Row, ...]


def path_features(cells: list[dict[str, Any]]) -> tuple[tuple[Family, ...], tuple[Row, ...]]:
    """Paths against the feature families their cells fall in: the families shown (in the data's order)
    and one row per path (in the order paths first appear), None where the path has no cell."""
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for cell in cells:
        grouped.setdefault(cell["path"], {}).setdefault(family_of(cell["scenario"]).id, []).append(cell)
    shown = tuple(f for f in families() if any(f.id in row for row in grouped.values()))
    rows = tuple(
        (path, tuple(_entry(row[f.id]) if f.id in row else None for f in shown)) for path, row in grouped.items()
    )
    return shown, rows


def endpoint_summaries(document: dict[str, Any]) -> list[EndpointSummary]:
    by_endpoint: dict[str, list[dict[str, Any]]] = {}
    for cell in document["cells"]:
        by_endpoint.setdefault(cell["endpoint"], []).append(cell)
    return [EndpointSummary(endpoint, *path_features(cells)) for endpoint, cells in by_endpoint.items()]


def _entry(cells: list[dict[str, Any]]) -> SummaryEntry:
    verdicts = Counter(cell["verdict"] for cell in cells)
    judged = [cell for cell in cells if cell["verdict"] not in UNJUDGED]
    evidence = Counter((cell.get("evidence") or {}).get("kind") or "none" for cell in cells)
    return SummaryEntry(
        passed=sum(1 for cell in judged if cell["verdict"] == Verdict.PASS.value),
        judged=len(judged),
        deviated=sum(1 for cell in judged if cell["verdict"] == Verdict.DEVIATION.value),
        verdicts=tuple((v.value, verdicts[v.value]) for v in Verdict if verdicts[v.value]),
        evidence=tuple((kind, evidence[kind]) for kind in ("live", "public", "double", "none") if evidence[kind]),
    )
