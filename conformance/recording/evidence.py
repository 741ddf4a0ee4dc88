"""Where a cell's evidence lives, and which evidence wins when several exist.

    cassettes/live/<endpoint>/<model>/<path>/<scenario>.yaml    recorded here, by this path, with a key
    cassettes/public/<endpoint>/<model>/<scenario>.yaml         a real Z.AI recording by another project
    cassettes/double/<endpoint>/<model>/<path>/<scenario>.yaml  produced by the project's Z.AI double

Public recordings are path-independent (another client made them; every path is fed the same real
bytes). Precedence is live > public > double: real bytes always beat synthetic ones, and this
path's own recording beats another client's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conformance.catalogue import Cell

KINDS = ("live", "public", "double")
REAL_KINDS = frozenset({"live", "public"})


@dataclass(frozen=True)
class EvidenceFile:
    kind: str
    path: Path


class EvidenceStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def location(self, kind: str, cell: Cell) -> Path:
        endpoint, model, path, scenario = cell.endpoint.id, cell.model.id, cell.path.id, cell.scenario.id
        if kind == "public":
            return self.root / "public" / endpoint / model / f"{scenario}.yaml"
        if kind in ("live", "double"):
            return self.root / kind / endpoint / model / path / f"{scenario}.yaml"
        raise ValueError(f"unknown evidence kind {kind!r} (known: {', '.join(KINDS)})")

    def find(self, cell: Cell) -> EvidenceFile | None:
        for kind in KINDS:
            path = self.location(kind, cell)
            if path.is_file():
                return EvidenceFile(kind, path)
        return None
