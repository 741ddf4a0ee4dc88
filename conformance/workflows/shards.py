"""One run split across machines (`zai-conformance run --shard I/N` in each job of a CI matrix), put
back together: the shards' results documents become the document one unsplit run would have written.

Shards of one run share everything but their cells: the mode, the client versions, the catalogue and
the expectations. Combining shards that differ there would present verdicts obtained under different
conditions as one run, so it is refused with the field that differs; so is a cell present in two
shards (two answers for one cell). Cells come out in the catalogue's order; the summary and the
streamed vs non-streamed comparison are computed again over the whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from conformance.results import gather

# What every shard of one run must agree on (each is a key of the results document's `run`).
SAME_RUN = (
    "mode",
    "record_mode",
    "block_network",
    "clients",
    "catalogue",
    "expectations",
    "strict_cassettes",
    "base_urls",
    "selection",
)


class ShardsError(ValueError):
    """The documents are not shards of one run; the message says which field or cell and where."""


def combine(documents: Sequence[tuple[str, Mapping[str, Any]]], order: Mapping[str, int]) -> dict[str, Any]:
    """The single results document of (source, document) shards. `order`: cell id → position (the
    catalogue's); the `equivalence` section is left to the caller, who has the catalogue's twins."""
    if not documents:
        raise ShardsError("no results to combine")
    first_source, first = documents[0]
    seen: dict[str, str] = {}
    cells: list[dict[str, Any]] = []
    # large bodies stay where each shard put them: referenced by a digest of their content, so the
    # same body has the same key in every shard and the union serves every cell's references
    bodies: dict[str, str] = {}
    for source, document in documents:
        for field in SAME_RUN:
            if document["run"].get(field) != first["run"].get(field):
                raise ShardsError(
                    f"{source}: not a shard of the same run as {first_source} — `run.{field}` differs "
                    f"({document['run'].get(field)!r} vs {first['run'].get(field)!r})"
                )
        for cell in document["cells"]:
            if cell["cell"] in seen:
                raise ShardsError(f"{cell['cell']} is in both {seen[cell['cell']]} and {source}: shards overlap")
            seen[cell["cell"]] = source
            cells.append(cell)
        bodies.update(document.get("bodies") or {})
    cells.sort(key=lambda cell: order.get(cell["cell"], len(order)))
    run = dict(first["run"])
    run["shards"] = [
        {"source": source, "id": document["run"].get("id"), "shard": document["run"].get("shard")}
        for source, document in documents
    ]
    run["shard"] = None
    run["started_at"] = min(document["run"].get("started_at") or "" for _, document in documents) or None
    run["finished_at"] = max(document["run"].get("finished_at") or "" for _, document in documents) or None
    runs = [document["run"] for _, document in documents]
    run["network"] = {
        "guard": all((each.get("network") or {}).get("guard", False) for each in runs),
        "refused": [attempt for each in runs for attempt in (each.get("network") or {}).get("refused", [])],
    }
    run["keys_refused"] = {endpoint: why for each in runs for endpoint, why in (each.get("keys_refused") or {}).items()}
    document = gather(run, cells)
    document["bodies"].update(bodies)
    return document
