"""Record synthetic evidence: every cell that no real recording covers, through its client path,
against the double, into `cassettes/double/` with provenance `double`.

It is live mode aimed at the double (the same runner, recorder and scrubbing), so a double cassette
is made exactly as a live one would be — only its bytes are synthetic, and it says so. Cells with a
live or public recording are left alone: real bytes always take precedence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from conformance.catalogue import Catalogue, Cell
from conformance.double.server import running
from conformance.expectations import Expectations
from conformance.recording.evidence import EvidenceStore
from conformance.results import CellResult
from conformance.runner import CellRunner, RunSettings

SYNTHETIC_KEY = "double-synthetic-evidence-key"  # the double accepts any key; this one names its purpose


@dataclass
class SyntheticRun:
    recorded: list[CellResult] = field(default_factory=list)
    real_evidence: int = 0  # cells left alone: they have live or public evidence
    not_applicable: int = 0

    def verdicts(self) -> Counter[str]:
        return Counter(result.verdict.value for result in self.recorded)

    def unexpected(self) -> list[CellResult]:
        return [r for r in self.recorded if r.expected is not None and r.as_expected is False]


def cells_to_record(
    catalogue: Catalogue, store: EvidenceStore, patterns: list[str], refresh: bool = False
) -> tuple[list[Cell], int, int]:
    """Cells without evidence (and, with `refresh`, those with double evidence, to re-record them)."""
    chosen, real, skipped = [], 0, 0
    for cell in catalogue.cells:
        if patterns and not any(fnmatchcase(cell.id, p) for p in patterns):
            continue
        if cell.not_applicable:
            skipped += 1
            continue
        evidence = store.find(cell)
        if evidence is not None and evidence.kind != "double":
            real += 1
            continue
        if evidence is None or refresh:
            chosen.append(cell)
    return chosen, real, skipped


def record_synthetic(
    catalogue: Catalogue,
    cassette_root: Path,
    patterns: list[str] | None = None,
    expectations: Expectations | None = None,
    progress: Callable[[int, int, CellResult], None] | None = None,
    refresh: bool = False,
) -> SyntheticRun:
    store = EvidenceStore(cassette_root)
    cells, real, skipped = cells_to_record(catalogue, store, patterns or [], refresh)
    run = SyntheticRun(real_evidence=real, not_applicable=skipped)
    with running(catalogue=catalogue) as double:
        settings = RunSettings(
            mode="live",
            cassette_root=cassette_root,
            base_urls=double.base_urls,
            api_key=SYNTHETIC_KEY,
            record_kind="double",
            idle_timeout=30.0,
        )
        runner = CellRunner(catalogue, settings)
        for number, cell in enumerate(cells, start=1):
            result = runner.run(cell)
            if expectations is not None:
                result.expected = expectations.for_cell(cell.id)
            run.recorded.append(result)
            if progress is not None:
                progress(number, len(cells), result)
    return run
