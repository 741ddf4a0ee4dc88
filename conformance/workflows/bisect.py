"""`zai-conformance bisect PACKAGE --cell CELL --good V1 --bad V2`: the first release that changed a verdict.

Walks the registry's releases of PACKAGE between the two (pre-releases, yanked releases and releases
that are never installed are skipped and listed), runs the cell under each probed release — a client
set pinning that release, built with uv and cached, so a second bisect is fast — and binary-searches
for the first release whose verdict differs from the good one's. A release that cannot be installed
is skipped too, and the search goes on around it. Nothing here knows any answer: the verdicts come
from running the cell.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.clients import registry
from conformance.clients.sets import ClientSet, ClientSetError, build


@dataclass(frozen=True)
class Probe:
    version: str
    verdict: str
    reasons: list[str]


@dataclass
class Bisection:
    package: str
    cell: str
    good: str
    bad: str
    first_changed: str | None = None
    probes: dict[str, Probe] = field(default_factory=dict)
    skipped: list[registry.Skipped] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "cell": self.cell,
            "good": self.good,
            "bad": self.bad,
            "first_changed": self.first_changed,
            "verdicts": {version: probe.verdict for version, probe in self.probes.items()},
            "reasons": {version: probe.reasons for version, probe in self.probes.items()},
            "skipped": [skip.to_dict() for skip in self.skipped],
            "note": self.note,
        }

    def render(self) -> str:
        lines = [f"bisect {self.package} on {self.cell}: good {self.good}, bad {self.bad}"]
        for version, probe in self.probes.items():
            lines.append(f"  {self.package} {version}: {probe.verdict} — {'; '.join(probe.reasons[:1])}")
        for skip in self.skipped:
            lines.append(f"  skipped {skip.version}: {skip.why}")
        if self.first_changed:
            before = self.probes[self.good]
            after = self.probes[self.first_changed]
            lines.append(
                f"first release whose verdict differs from {self.good}'s: {self.package} {self.first_changed} "
                f"({before.verdict} → {after.verdict})"
            )
            lines.append(f"  {self.good}: {'; '.join(before.reasons) or '(no reasons)'}")
            lines.append(f"  {self.first_changed}: {'; '.join(after.reasons) or '(no reasons)'}")
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)


Runner = Callable[[str], Probe]  # version → the cell's verdict under it


def bisect(package: str, cell: str, good: str, bad: str, releases: list[registry.Release], run: Runner) -> Bisection:
    """Binary search over the candidates between good and bad (pure but for `run`)."""
    result = Bisection(package, cell, good, bad)
    candidates, result.skipped = registry.candidates(package, releases, good, bad)
    for endpoint in (good, bad):
        why = registry.never(package, endpoint)
        if why is not None:
            raise ClientSetError(f"{package} {endpoint} is never installed: {why}")
    result.probes[good] = run(good)
    result.probes[bad] = run(bad)
    reference = result.probes[good].verdict
    if result.probes[bad].verdict == reference:
        result.note = f"{good} and {bad} give the same verdict ({reference}): nothing to bisect"
        return result
    # invariant: everything before `low` keeps the good verdict; `high` is known to differ
    low, high = 0, len(candidates)  # candidates[high] stands for `bad` when high == len
    remaining = list(candidates)
    while low < high:
        middle = (low + high) // 2
        version = remaining[middle]
        try:
            probe = run(version)
        except ClientSetError as exc:
            result.skipped.append(registry.Skipped(version, f"cannot be installed: {exc}"))
            del remaining[middle]
            high -= 1
            continue
        result.probes[version] = probe
        if probe.verdict == reference:
            low = middle + 1
        else:
            high = middle
    result.first_changed = remaining[low] if low < len(remaining) else bad
    return result


def cell_runner(package: str, cell: str, progress: Callable[[str], None] | None = None) -> Runner:
    """Run one cell (replay) in the environment of a client set that pins `package` at a version."""

    def run(version: str) -> Probe:
        client_set = ClientSet(
            name=f"{package}-{version}", title=f"bisect: {package} {version}", pins={package: version}
        )
        environment = build(client_set, progress=progress)
        with tempfile.TemporaryDirectory(prefix="zai-bisect-") as reports:
            done = subprocess.run(
                [str(environment.python), "-m", "conformance.cli", "run", "--cell", cell, "--reports", reports],
                capture_output=True,
                text=True,
                check=False,
            )
            results = Path(reports) / "results.json"
            if not results.is_file():
                raise ClientSetError(f"{package} {version}: the run wrote no results ({done.stderr.strip()[-400:]})")
            document = json.loads(results.read_text(encoding="utf-8"))
        cells = [c for c in document["cells"] if c["cell"] == cell]
        if not cells:
            raise ClientSetError(f"no cell {cell!r} in the catalogue (list cells with `zai-conformance cells`)")
        if progress:
            progress(f"{package} {version}: {cells[0]['verdict']}")
        return Probe(version, cells[0]["verdict"], list(cells[0]["reasons"]))

    return run
