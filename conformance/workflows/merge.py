"""`zai-conformance merge`: per-client-set results combined into one document with the client set as a
dimension — each cell's verdict per set side by side, and what changed between adjacent sets.

The inputs are ordinary results.json files (one run each, under one client set: its versions are in
`run.clients`); the order given is the order sets are compared in (adjacent pairs). A change between
two sets is attributed to the client versions that differ between them — "litellm 1.106.2 → 1.108.0"
— so a user sees which release changed a verdict. The per-set documents stay what they are; the
merged one references them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.results import SCHEMA, load_results, now

MATRIX_SCHEMA = "zai-conformance/matrix/1"
# Distributions the harness records about itself, not clients: never the cause of a verdict change.
NOT_CLIENTS = frozenset({"python", "vcrpy", "pytest"})


@dataclass(frozen=True)
class SetRun:
    """One client set's results: its name and the document its run wrote."""

    name: str
    document: dict[str, Any]
    source: str = ""
    title: str = ""

    @property
    def versions(self) -> dict[str, str]:
        return dict(self.document["run"].get("clients") or {})


@dataclass(frozen=True)
class VerdictChange:
    cell: str
    before_set: str
    after_set: str
    before: str
    after: str
    before_reasons: list[str]
    after_reasons: list[str]
    clients_changed: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cell": self.cell,
            "from_set": self.before_set,
            "to_set": self.after_set,
            "from": self.before,
            "to": self.after,
            "from_reasons": self.before_reasons,
            "to_reasons": self.after_reasons,
            "clients_changed": {name: list(pair) for name, pair in self.clients_changed.items()},
        }


def changed_clients(before: dict[str, str], after: dict[str, str]) -> dict[str, tuple[str | None, str | None]]:
    """Client distributions whose version differs between two sets (name → (before, after))."""
    names = (before.keys() | after.keys()) - NOT_CLIENTS
    return {n: (before.get(n), after.get(n)) for n in sorted(names) if before.get(n) != after.get(n)}


def merge(runs: list[SetRun]) -> dict[str, Any]:
    """Pure: per-set documents in, the matrix document out."""
    if not runs:
        raise ValueError("nothing to merge: give at least one client set's results")
    names = [run.name for run in runs]
    if len(set(names)) != len(names):
        raise ValueError(f"client set names must be unique, got {names}")
    by_set = {run.name: {cell["cell"]: cell for cell in run.document["cells"]} for run in runs}
    cell_ids = sorted(set().union(*(cells.keys() for cells in by_set.values())))
    verdicts = {
        cell: {name: by_set[name][cell]["verdict"] if cell in by_set[name] else None for name in names}
        for cell in cell_ids
    }
    changes: list[VerdictChange] = []
    for before, after in itertools.pairwise(runs):
        clients = changed_clients(before.versions, after.versions)
        for cell in cell_ids:
            a, b = by_set[before.name].get(cell), by_set[after.name].get(cell)
            if a is None or b is None or a["verdict"] == b["verdict"]:
                continue
            changes.append(
                VerdictChange(
                    cell, before.name, after.name, a["verdict"], b["verdict"], a["reasons"], b["reasons"], clients
                )
            )
    return {
        "schema": MATRIX_SCHEMA,
        "generated_at": now(),
        "sets": [
            {
                "name": run.name,
                "title": run.title,
                "source": run.source,
                "clients": run.versions,
                "run_id": run.document["run"].get("id"),
                "summary": run.document["summary"],
            }
            for run in runs
        ],
        "adjacent": [
            {
                "from": a.name,
                "to": b.name,
                "clients_changed": {k: list(v) for k, v in changed_clients(a.versions, b.versions).items()},
            }
            for a, b in itertools.pairwise(runs)
        ],
        "cells": [{"cell": cell, "verdicts": verdicts[cell]} for cell in cell_ids],
        "changes": [change.to_dict() for change in changes],
    }


def load_set_runs(paths: list[Path], names: list[str] | None = None) -> list[SetRun]:
    """Read per-set results (results.json or run folders). A set's name is given, or the run's
    `client_set` name, or the folder the results sit in."""
    runs = []
    for index, path in enumerate(paths):
        document = load_results(path)
        if document.get("schema") != SCHEMA:
            raise ValueError(f"{path}: not a {SCHEMA} document")
        name = (names[index] if names and index < len(names) else None) or document["run"].get("client_set")
        name = name or (path.parent.name if path.is_file() else path.name)
        runs.append(SetRun(name, document, str(path), str(document["run"].get("client_set_title") or "")))
    return runs
