"""`zai-conformance matrix --clients A --clients B …`: the same cells judged under several client sets.

Each set's environment is built with uv (cached); the cells run in it as an ordinary replay (or live)
run writing `<reports>/sets/<name>/results.json`; the runs are merged into `<reports>/matrix.json` and
`<reports>/matrix.html`. By default only the cells whose client differs between the sets run: a cell
whose path uses none of the libraries that differ (by the catalogue's `clients` of each path) would
only repeat itself.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.catalogue import Catalogue
from conformance.clients.sets import SET_ENV, SET_TITLE_ENV, ClientSet, Environment, build
from conformance.workflows.merge import SetRun, changed_clients, load_set_runs, merge


@dataclass(frozen=True)
class SetOutcome:
    environment: Environment
    results: Path
    exit_code: int
    seconds: float


def differing_clients(environments: list[Environment]) -> set[str]:
    """Every client distribution whose version differs between any two of the sets."""
    names: set[str] = set()
    for a, b in itertools.combinations(environments, 2):
        names |= set(changed_clients(a.versions, b.versions))
    return names


def sensitive_patterns(catalogue: Catalogue, clients: set[str]) -> list[str]:
    """Cell patterns for the paths that use one of `clients` (the cells a version change can move)."""
    return [f"*/{path.id}/*" for path in catalogue.paths if set(path.clients) & clients]


def run_sets(
    sets: list[ClientSet],
    reports: Path,
    patterns: list[str] | None,
    catalogue: Catalogue,
    extra_args: list[str] | None = None,
    progress: Callable[[str], None] = print,
) -> tuple[list[SetOutcome], list[str]]:
    """Build every set's environment, then run the cells in each; returns the outcomes and the cell
    patterns used (given, or derived from the clients that differ)."""
    environments = [build(client_set, progress=progress) for client_set in sets]
    for environment in environments:
        versions = ", ".join(f"{k} {v}" for k, v in environment.versions.items() if k != "python")
        built = f"built in {environment.built_s:.0f} s" if environment.built_s else "cached"
        progress(f"client set {environment.client_set.name}: {versions} ({built})")
    if not patterns:
        differing = differing_clients(environments)
        patterns = sensitive_patterns(catalogue, differing)
        progress(f"clients that differ between the sets: {', '.join(sorted(differing)) or 'none'}")
        if not patterns:
            progress("no path uses a client that differs: every cell would repeat itself; give --cell to run some")
            return [], []
    outcomes = []
    for environment in environments:
        name = environment.client_set.name
        out = reports / "sets" / name
        argv = [str(environment.python), "-m", "conformance.cli", "run", "--reports", str(out)]
        for pattern in patterns:
            argv += ["--cell", pattern]
        argv += extra_args or []
        env = {
            **os.environ,
            SET_ENV: name,
            SET_TITLE_ENV: environment.client_set.title,
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        progress(f"running {len(patterns)} cell pattern(s) under client set {name} …")
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        seconds = round(time.perf_counter() - started, 1)
        if not (out / "results.json").is_file():
            tail = (done.stdout + done.stderr).strip()[-1500:]
            raise RuntimeError(f"client set {name}: the run wrote no results (exit {done.returncode}):\n{tail}")
        progress(f"client set {name}: done in {seconds:.0f} s (exit {done.returncode})")
        outcomes.append(SetOutcome(environment, out / "results.json", done.returncode, seconds))
    return outcomes, patterns


def merged(outcomes: list[SetOutcome]) -> dict[str, Any]:
    runs = load_set_runs([o.results for o in outcomes], [o.environment.client_set.name for o in outcomes])
    titled = [
        SetRun(r.name, r.document, r.source, o.environment.client_set.title)
        for r, o in zip(runs, outcomes, strict=True)
    ]
    document = merge(titled)
    for entry, outcome in zip(document["sets"], outcomes, strict=True):
        entry["env_build_s"] = outcome.environment.built_s
        entry["run_s"] = outcome.seconds
    return document
