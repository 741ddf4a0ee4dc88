"""Expectations, in the manner of web-platform-tests: known incompatibilities are data, with a
reason and an upstream link, so that the suite fails only when a verdict *changes* — a regression,
or an unexpected fix — and not every time a known deviation shows up.

A cell with no matching entry is expected to PASS. An entry's `cell` is an fnmatch pattern over cell
ids (`endpoint/model/path/scenario`), or a list of them; the first entry that matches wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from importlib import resources
from pathlib import Path

import yaml

from conformance.results import Expected
from conformance.verdict import Verdict
from conformance.yaml_errors import describe_yaml_error

DEFAULT_EXPECTATIONS = resources.files("conformance") / "data" / "expectations.yaml"


class ExpectationsError(ValueError):
    pass


@dataclass(frozen=True)
class Entry:
    cells: tuple[str, ...]  # patterns; the entry decides a cell that matches any of them
    verdict: Verdict
    reason: str
    link: str | None

    @property
    def cell(self) -> str:
        return " | ".join(self.cells)

    def matches(self, cell_id: str) -> bool:
        return any(fnmatchcase(cell_id, pattern) for pattern in self.cells)


class Expectations:
    def __init__(self, entries: list[Entry], source: str) -> None:
        self.entries = entries
        self.source = source

    def for_cell(self, cell_id: str) -> Expected:
        for entry in self.entries:
            if entry.matches(cell_id):
                return Expected(entry.verdict, entry.reason, entry.link, entry.cell)
        return Expected(Verdict.PASS)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Expectations:
        source = str(path) if path else "conformance/data/expectations.yaml"
        try:
            text = Path(path).read_text(encoding="utf-8") if path else DEFAULT_EXPECTATIONS.read_text()
        except OSError as exc:
            raise ExpectationsError(f"cannot read expectations {source}: {exc.strerror or exc}") from exc
        try:
            raw = yaml.safe_load(text) or []
        except yaml.YAMLError as exc:
            raise ExpectationsError(describe_yaml_error(source, exc)) from exc
        if not isinstance(raw, list):
            raise ExpectationsError(f"{source}: expected a list of entries")
        entries = []
        for number, item in enumerate(raw, start=1):
            where = f"{source}: entry {number}"
            patterns = item.get("cell") if isinstance(item, dict) else None
            if isinstance(patterns, str):
                patterns = [patterns]
            if not (isinstance(patterns, list) and patterns and all(isinstance(p, str) and p for p in patterns)):
                raise ExpectationsError(
                    f"{where}: needs 'cell' (a pattern over endpoint/model/path/scenario, or a list of them)"
                )
            where = f"{where} ({' | '.join(patterns)!r})"
            try:
                verdict = Verdict(item.get("verdict"))
            except ValueError:
                known = ", ".join(v.value for v in Verdict)
                raise ExpectationsError(
                    f"{where}: field 'verdict': {item.get('verdict')!r} is not one of {known}"
                ) from None
            if not str(item.get("reason") or "").strip():
                raise ExpectationsError(f"{where}: field 'reason': say why this verdict is expected")
            unknown = set(item) - {"cell", "verdict", "reason", "link"}
            if unknown:
                raise ExpectationsError(f"{where}: unknown field(s) {sorted(unknown)}")
            entries.append(Entry(tuple(patterns), verdict, str(item["reason"]).strip(), item.get("link")))
        return cls(entries, source)
