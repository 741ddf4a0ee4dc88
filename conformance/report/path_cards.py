"""One card per client path of an endpoint, under the summary table: what works through it, what does
not, and which path to use instead — the answer a person came for, in words, before any matrix.

Pure, from the summary's entries (conformance.report.summary): a family works through a path when
every judged cell of it PASSes; it does not work when some judged cell FAILs or HANGs (the path does
not do it); anything between (deviations, refusals documented as unsupported, quota and transient
errors) works with differences. For a family that does not work, the path to use instead is the
path of the same endpoint with the best PASS share for that family, if one does better.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.features import Family
from conformance.report.summary import EndpointSummary, SummaryEntry
from conformance.verdict import Verdict

FAILED = (Verdict.FAIL.value, Verdict.HANG.value)


@dataclass(frozen=True)
class Alternative:
    path: str
    passed: int
    judged: int


@dataclass(frozen=True)
class Failing:
    family: Family
    failed: int  # judged cells that FAIL or HANG
    judged: int
    instead: Alternative | None  # the same endpoint's best path for this family, when one does better


@dataclass(frozen=True)
class Partial:
    family: Family
    entry: SummaryEntry


@dataclass(frozen=True)
class PathCard:
    endpoint: str
    path: str
    works: tuple[Family, ...]
    partial: tuple[Partial, ...]
    failing: tuple[Failing, ...]
    unjudged: tuple[Family, ...]  # only SKIPPED / NOT_RECORDED cells: nothing to say yet

    @property
    def anchor(self) -> str:
        """The card's id: a path name recurs across endpoints, so the endpoint makes it unique."""
        return f"path={self.endpoint}/{self.path}"


def path_cards(summary: EndpointSummary) -> tuple[PathCard, ...]:
    """The endpoint's paths in the summary table's order, each with its families sorted into the four."""
    return tuple(_card(summary, path, entries) for path, entries in summary.rows)


def _card(summary: EndpointSummary, path: str, entries: tuple[SummaryEntry | None, ...]) -> PathCard:
    works, partial, failing, unjudged = [], [], [], []
    for column, (family, entry) in enumerate(zip(summary.families, entries, strict=True)):
        if entry is None:
            continue
        failed = sum(count for verdict, count in entry.verdicts if verdict in FAILED)
        if not entry.judged:
            unjudged.append(family)
        elif entry.passed == entry.judged:
            works.append(family)
        elif failed:
            failing.append(Failing(family, failed, entry.judged, _instead(summary, path, column, entry)))
        else:
            partial.append(Partial(family, entry))
    return PathCard(summary.endpoint, path, tuple(works), tuple(partial), tuple(failing), tuple(unjudged))


def _instead(summary: EndpointSummary, path: str, column: int, entry: SummaryEntry) -> Alternative | None:
    """The other path with the best PASS share in this family (more judged cells break a tie), if it
    does better than `entry`; None when no path on this endpoint does."""
    candidates = [
        (other[column].passed / other[column].judged, other[column].judged, name, other[column])
        for name, other in summary.rows
        if name != path and other[column] is not None and other[column].judged
    ]
    if not candidates:
        return None
    share, _, name, best = max(candidates, key=lambda candidate: (candidate[0], candidate[1]))
    if share <= entry.passed / entry.judged:
        return None
    return Alternative(name, best.passed, best.judged)
