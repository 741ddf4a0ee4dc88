"""What the drill-down shows of each cell (findings, evidence and provenance, exchanges, the client's
turns), packed per endpoint/model matrix so the page unpacks a matrix's data only when one of its
cells is first opened.

Three things keep a full run's drill-down data to a couple of MB where the whole results document
embedded as-is was 7.5 MB:

* Bodies over PAGE_BODY_LIMIT characters are left out, request and response alike, each exchange
  saying the size it left out (`request_body_left_out` / `response_body_left_out`); results.json keeps
  every one (under `bodies`, named by the same exchange's `*_body_ref`). 2 KiB keeps every chat answer,
  error and short stream whole, and leaves out what a person reads in results.json anyway: an agent's
  system prompt and tools resent each turn (about 180 MB of request bodies in a full run) and long
  streams (a 4 KiB limit adds 150 KB to the page, 8 KiB 700 KB).
* Columns instead of records, cells ordered scenario by scenario: the same scenario through every
  path lies side by side, so gzip's 32 KB window finds what repeats (the same answer, the same
  findings) — a third smaller than records in the document's order.
* Values that repeat (each header, expectations, evidence) are stored once for the whole page
  (`SharedValues`, embedded apart and unpacked with the first matrix opened): the same paths send
  the same headers to every model. A double's provenance repeats the cell's own four names; those
  are left out of the shared value (`NAMES`) and put back from the index.

Nothing the index already carries (the cell's names, verdict, reasons, as_expected) is repeated.
report.js `unpackBlock` is this module's inverse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from conformance.report.page_index import PageIndex
from conformance.results import body_size, body_text

PAGE_BODY_LIMIT = 2 * 1024  # characters: a body above it stays in results.json only
INDEXED = frozenset({"cell", "endpoint", "model", "path", "scenario", "verdict", "reasons", "as_expected"})
SHARED_FIELDS = ("expected", "evidence")  # per cell: stored once per matrix, referred to by position
SHARED_EXCHANGE_FIELDS = ("request_headers", "response_headers")  # each header stored once
NAMES = ("endpoint", "model", "path", "scenario")
BODIES = ("request_body", "response_body")


@dataclass(frozen=True)
class LeftOut:
    """The bodies a page leaves out: how many, and their characters."""

    bodies: int = 0
    chars: int = 0

    def __add__(self, other: LeftOut) -> LeftOut:
        return LeftOut(self.bodies + other.bodies, self.chars + other.chars)


@dataclass(frozen=True)
class DrillBlock:
    payload: dict[str, Any]  # what report.js unpacks for one matrix
    left_out: LeftOut


@dataclass(frozen=True)
class DrillDown:
    shared: list[Any]  # the values every matrix's payload refers to by position
    blocks: tuple[DrillBlock, ...]  # in the index's block order

    @property
    def left_out(self) -> LeftOut:
        return sum((block.left_out for block in self.blocks), LeftOut())


def drill_down(document: dict[str, Any], index: PageIndex, limit: int = PAGE_BODY_LIMIT) -> DrillDown:
    """One payload per matrix of the index, and the values they share."""
    shared = _Shared()
    blocks = tuple(_drill_block(document, block.cells, index, shared, limit) for block in index.blocks)
    return DrillDown(shared.values, blocks)


def _drill_block(
    document: dict[str, Any], positions: tuple[int, ...], index: PageIndex, shared: _Shared, limit: int
) -> DrillBlock:
    order = sorted(positions, key=lambda position: (index.cells[position].scenario, index.cells[position].path))
    cells = [document["cells"][position] for position in order]
    bodies = _Bodies(document.get("bodies") or {}, limit)
    fields = _columns(
        [
            {
                key: shared.ref(_without_names(value, cell) if key == "evidence" else value)
                if key in SHARED_FIELDS
                else value
                for key, value in cell.items()
                if key not in INDEXED and key not in ("observation", "findings")
            }
            | {"observation": _observation_rest(cell.get("observation"))}
            for cell in cells
        ]
    )
    observations = [cell.get("observation") or {} for cell in cells]
    exchanges = [
        [_exchange(exchange, shared, bodies) for exchange in observation.get("exchanges") or []]
        for observation in observations
    ]
    payload = {
        "cells": order,
        "fields": fields,
        "findings": _nested([[_finding(finding, shared) for finding in cell.get("findings") or []] for cell in cells]),
        "turns": _nested([observation.get("turns") or [] for observation in observations]),
        "exchanges": _nested(exchanges),
        "bodies": bodies.kept,
    }
    return DrillBlock(payload, bodies.left_out)


def _observation_rest(observation: dict[str, Any] | None) -> dict[str, Any] | None:
    """The observation but its turns and exchanges (which travel as columns of their own)."""
    if observation is None:
        return None
    return {key: value for key, value in observation.items() if key not in ("turns", "exchanges")}


def _without_names(evidence: dict[str, Any] | None, cell: dict[str, Any]) -> dict[str, Any] | None:
    """Evidence whose provenance repeats the cell's four names, without them (`names`: they were there)."""
    provenance = (evidence or {}).get("provenance")
    if not isinstance(provenance, dict) or any(provenance.get(name) != cell.get(name) for name in NAMES):
        return evidence
    rest = {key: value for key, value in provenance.items() if key not in NAMES}
    return {**evidence, "provenance": rest, "names": True}  # type: ignore[dict-item]


def _finding(finding: dict[str, Any], shared: _Shared) -> dict[str, Any]:
    """A finding whose message is stored once per page: the same path says the same thing of the same
    scenario on every model, and each model is a matrix of its own, compressed apart — so gzip could not
    share them (the messages were an eighth of the page)."""
    message = finding.get("message")
    return {**finding, "message": shared.text(message)} if isinstance(message, str) else finding


def _exchange(exchange: dict[str, Any], shared: _Shared, bodies: _Bodies) -> dict[str, Any]:
    out = {}
    for key, value in exchange.items():
        if key in SHARED_EXCHANGE_FIELDS:
            out[key] = None if value is None else [shared.header(name, values) for name, values in value.items()]
        elif key.removesuffix("_ref") in BODIES and key.endswith("_ref") and value:
            out.update(bodies.place(key.removesuffix("_ref"), value))
        else:
            out[key] = value
    return out


class _Shared:
    """Values stored once per page; a cell or exchange holds the position of its value."""

    def __init__(self) -> None:
        self._at: dict[str, int] = {}
        self._headers: dict[tuple[str, tuple[str, ...] | str], int] = {}
        self._texts: dict[str, int] = {}
        self.values: list[Any] = []

    def text(self, value: str) -> int:
        """A string, found again by itself (no JSON text to build)."""
        at = self._texts.get(value)
        if at is None:
            at = self._texts[value] = self.ref(value)  # type: ignore[assignment]
        return at  # type: ignore[return-value]

    def header(self, name: str, values: Any) -> int:
        """A header line, `[name, values]`: the most repeated value of a page (hundreds of thousands in a
        full run), found again by a tuple rather than by its JSON text — a third of the render's time."""
        key = (name, tuple(values) if isinstance(values, list) else values)
        at = self._headers.get(key)
        if at is None:
            at = self._headers[key] = self.ref([name, values])  # type: ignore[assignment]
        return at  # type: ignore[return-value]

    def ref(self, value: Any) -> int | None:
        if value is None:
            return None
        key = json.dumps(value, sort_keys=True, ensure_ascii=False)
        if key not in self._at:
            self._at[key] = len(self.values)
            self.values.append(value)
        return self._at[key]


class _Bodies:
    """The matrix's bodies by position; those over the limit left out, their size said."""

    def __init__(self, bodies: dict[str, Any], limit: int) -> None:
        self._bodies = bodies
        self._limit = limit
        self._at: dict[str, int] = {}
        self.kept: list[str | None] = []
        self.left_out = LeftOut()

    def place(self, key: str, ref: str) -> dict[str, Any]:
        """`<key>_at` (its position among the kept bodies), or `<key>_left_out` (its size)."""
        body = self._bodies.get(ref)
        size = body_size(body)
        if body is None:
            return {f"{key}_missing": ref}
        if size > self._limit:
            self.left_out += LeftOut(1, size)
            return {f"{key}_left_out": size}
        if ref not in self._at:
            self._at[ref] = len(self.kept)
            self.kept.append(body_text(body))
        return {f"{key}_at": self._at[ref]}


def _columns(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Records as one list per key (a key no record holds a value for is not written)."""
    keys = dict.fromkeys(key for record in records for key in record)
    columns = {key: [record.get(key) for record in records] for key in keys}
    return {key: values for key, values in columns.items() if any(value is not None for value in values)}


def _nested(lists: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """Per cell a list of records (turns, findings, exchanges), as counts and the records' columns."""
    return {"n": [len(items) for items in lists], "c": _columns([item for items in lists for item in items])}
