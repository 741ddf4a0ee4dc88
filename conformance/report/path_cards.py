"""One card per client path of an endpoint, under the summary table: what works through it, what does
not, and which path to use instead — the answer a person came for, in words, before any matrix.

Pure, from the summary's entries (conformance.report.summary): a family works through a path when
every judged cell of it PASSes; it does not work when some judged cell FAILs or HANGs (the path does
not do it); anything between (deviations, refusals documented as unsupported, quota and transient
errors) works with differences. For a family that does not work, the path to use instead is the
path of the same endpoint where the largest share of that family works (PASS or DEVIATION, as the
summary counts it), the PASS share breaking a tie, if one does better.
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
    works: int  # judged cells that PASS or DEVIATE (work with a named difference)
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
    """The other path where most of this family works (then most PASS, then more judged cells), if it
    does better than `entry`; None when no path on this endpoint does."""
    candidates = [(_standing(other[column]), name, other[column]) for name, other in summary.rows if name != path]
    judged = [candidate for candidate in candidates if candidate[2] is not None and candidate[2].judged]
    if not judged:
        return None
    standing, name, best = max(judged, key=lambda candidate: candidate[0])
    if standing[:2] <= _standing(entry)[:2]:
        return None
    return Alternative(name, best.works, best.passed, best.judged)


def _standing(entry: SummaryEntry | None) -> tuple[float, float, int]:
    if entry is None or not entry.judged:
        return (0.0, 0.0, 0)
    return (entry.works / entry.judged, entry.passed / entry.judged, entry.judged)
