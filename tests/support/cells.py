"""A CellResult for a cell id, as the runner would build it: the id's four parts fill its fields."""

from __future__ import annotations

from typing import Any

from conformance.results import CellResult
from conformance.verdict import Verdict


def cell_result(cell_id: str, verdict: Verdict, reasons: list[str] | None = None, **fields: Any) -> CellResult:
    endpoint, model, path, scenario = cell_id.split("/")
    return CellResult(
        cell=cell_id,
        endpoint=endpoint,
        model=model,
        path=path,
        scenario=scenario,
        verdict=verdict,
        reasons=reasons or [],
        **fields,
    )


def cell_record(cell_id: str, verdict: str = "PASS", **fields: Any) -> dict[str, Any]:
    """A cell as results.json holds it: the id's four parts, the verdict, and whatever the test adds."""
    endpoint, model, path, scenario = cell_id.split("/")
    return {
        "cell": cell_id,
        "endpoint": endpoint,
        "model": model,
        "path": path,
        "scenario": scenario,
        "verdict": verdict,
        **fields,
    }
