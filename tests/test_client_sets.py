"""The suite is green on every shipped client set, not only the default: each set marked `ci` (built by
scripts/bootstrap, so this test needs no registry) replays its version-sensitive cells — cells an
expectation with a client-version condition decides — and each comes out as its expectations say.

Every such expectation is exercised on each path and endpoint it names (its first applicable cell
there): 226 cells, where all 1,256 it decides would replay the same behaviour on every model again.
The whole set runs under every client set in `zai-conformance matrix` (the workflow's client-sets job)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conformance.clients.sets import SET_ENV, built, load_sets
from conformance.expectations import Expectations

CI_SETS = [name for name, client_set in load_sets().items() if client_set.ci]


def version_sensitive_patterns() -> list[str]:
    """The cell patterns of every expectation that holds only for some client releases."""
    patterns: list[str] = []
    for entry in Expectations.load().entries:
        if entry.clients:
            patterns += [p for p in entry.cells if p not in patterns]
    return patterns


def version_sensitive_sample() -> list[str]:
    """For each version-conditioned pattern, its first applicable cell on each (path, endpoint)."""
    from fnmatch import fnmatchcase

    from conformance.catalogue import load_catalogue

    chosen: dict[str, None] = {}
    cells = load_catalogue().cells
    for pattern in version_sensitive_patterns():
        covered: set[tuple[str, str]] = set()
        for cell in cells:
            where = (cell.path.id, cell.endpoint.id)
            if where not in covered and not cell.not_applicable and fnmatchcase(cell.id, pattern):
                covered.add(where)
                chosen[cell.id] = None
    return list(chosen)


def test_there_are_version_sensitive_cells_to_replay():
    assert CI_SETS, "at least one client set besides the default is replayed in CI"
    assert version_sensitive_patterns()
    sample = version_sensitive_sample()
    assert sample and len(sample) == len(set(sample))


@pytest.mark.parametrize("name", CI_SETS)
def test_a_ci_client_set_replays_its_version_sensitive_cells_as_expected(name, tmp_path):
    environment = built(load_sets()[name])
    assert environment is not None, f"client set {name} is not built: run scripts/bootstrap (it builds the ci sets)"
    argv = [str(environment.python), "-m", "conformance.cli", "run", "--reports", str(tmp_path)]
    for cell in version_sensitive_sample():
        argv += ["--cell", cell]
    env = {**os.environ, SET_ENV: name, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    document = json.loads((tmp_path / "results.json").read_text())
    assert document["run"]["client_set"] == name
    unexpected = [
        (cell["cell"], cell["verdict"], (cell.get("expected") or {}).get("verdict"), cell["reasons"][:2])
        for cell in document["cells"]
        if cell.get("as_expected") is False or cell.get("harness_error")
    ]
    assert unexpected == [], f"client set {name}: cells not as expected"
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert document["summary"]["cells"] > 0
