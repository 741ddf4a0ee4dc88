"""Expectations, in the manner of web-platform-tests: known incompatibilities are data, with a
reason and an upstream link, so that the suite fails only when a verdict *changes* — a regression,
or an unexpected fix — and not every time a known deviation shows up.

A cell with no matching entry is expected to PASS. An entry's `cell` is an fnmatch pattern over cell
ids (`endpoint/model/path/scenario`), or a list of them; the first entry that matches wins. An entry
may hold only for some client releases — `clients: {litellm: "<1.108"}`, PEP 440 specifiers over the
installed distributions — so the suite is green on every client set, and a verdict that moves with a
release is an expectation with a condition and a reason, never a silent change.

The file is validated once, on load, the way the catalogue is (conformance/catalogue.py): every entry
against a strict model, every problem reported at once, each naming the entry and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from conformance.verdict import Verdict
from conformance.yaml_errors import describe_yaml_error

DEFAULT_EXPECTATIONS = resources.files("conformance") / "data" / "expectations.yaml"
DEFAULT_SOURCE = "conformance/data/expectations.yaml"
CELL_PATTERN = "a pattern over endpoint/model/path/scenario, or a list of them"
VERDICTS = ", ".join(verdict.value for verdict in Verdict)


class ExpectationsError(ValueError):
    """The expectations file cannot be read, or an entry is malformed; the message names the entry."""


@dataclass(frozen=True)
class Expected:
    """What a cell is expected to give: a verdict and, when an entry decided it, why and where from."""

    verdict: Verdict
    reason: str = ""
    link: str | None = None
    pattern: str | None = None  # the expectations entry that matched (None: the default, PASS)


class Entry(BaseModel):
    """One known incompatibility: the cells it decides, the verdict they are expected to give, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True)

    # patterns; the entry decides a cell that matches any of them (the file's `cell`: one, or a list)
    cells: tuple[str, ...] = Field(default=(), alias="cell", validate_default=True)
    verdict: Verdict
    reason: str = Field(default="", validate_default=True)
    link: str | None = None
    # distribution → PEP 440 specifier: the entry holds only where every installed version satisfies it
    clients: dict[str, str] = Field(default_factory=dict)

    @field_validator("clients")
    @classmethod
    def _specifiers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, spec in value.items():
            try:
                SpecifierSet(spec)
            except InvalidSpecifier:
                raise ValueError(f"{name}: {spec!r} is not a version specifier like '<1.108' or '>=3,<4'") from None
        return {canonicalize_name(name): spec for name, spec in value.items()}

    def holds_for(self, versions: Mapping[str, str]) -> bool:
        """The entry's client condition is met by these installed versions (a missing client never is)."""
        for name, spec in self.clients.items():
            version = versions.get(name)
            if version is None or not SpecifierSet(spec).contains(version, prereleases=True):
                return False
        return True

    @field_validator("cells", mode="before")
    @classmethod
    def _one_or_more_patterns(cls, value: Any) -> Any:
        patterns = [value] if isinstance(value, str) else value
        if not (isinstance(patterns, list | tuple) and patterns and all(isinstance(p, str) and p for p in patterns)):
            raise ValueError(f"needs {CELL_PATTERN}")
        return tuple(patterns)

    @field_validator("verdict", mode="before")
    @classmethod
    def _known_verdict(cls, value: Any) -> Any:
        if not isinstance(value, Verdict) and value not in [verdict.value for verdict in Verdict]:
            raise ValueError(f"{value!r} is not one of {VERDICTS}")
        return value

    @field_validator("reason")
    @classmethod
    def _says_why(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("say why this verdict is expected")
        return value.strip()

    @property
    def cell(self) -> str:
        return " | ".join(self.cells)

    def matches(self, cell_id: str) -> bool:
        return any(fnmatchcase(cell_id, pattern) for pattern in self.cells)


_ENTRIES = TypeAdapter(list[Entry])
_KEYS = {name: info.alias for name, info in Entry.model_fields.items() if info.alias}  # attribute → file key


class Expectations:
    def __init__(self, entries: list[Entry], source: str, versions: Mapping[str, str] | None = None) -> None:
        self.entries = entries
        self.source = source
        self._versions = dict(versions) if versions is not None else None

    @property
    def versions(self) -> dict[str, str]:
        """The installed client versions the entries' conditions are read against (read once)."""
        if self._versions is None:
            self._versions = installed_versions({name for entry in self.entries for name in entry.clients})
        return self._versions

    def for_cell(self, cell_id: str) -> Expected:
        for entry in self.entries:
            if entry.matches(cell_id) and (not entry.clients or entry.holds_for(self.versions)):
                return Expected(entry.verdict, entry.reason, entry.link, entry.cell)
        return Expected(Verdict.PASS)

    @classmethod
    def load(cls, path: str | Path | None = None, versions: Mapping[str, str] | None = None) -> Expectations:
        """Load and validate; raise ExpectationsError naming every entry and field at fault. `versions`:
        the client versions the conditions are read against (default: the installed ones)."""
        source = str(path) if path else DEFAULT_SOURCE
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
        try:
            entries = _ENTRIES.validate_python(raw)
        except ValidationError as exc:
            raise ExpectationsError(_describe(exc, raw, source)) from None
        return cls(entries, source, versions)


def installed_versions(names: set[str]) -> dict[str, str]:
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _describe(exc: ValidationError, raw: list[Any], source: str) -> str:
    """`<file>: 2 problem(s)` and a line per problem: `entry 3 ('*/*/zai-sdk/*'): field 'verdict': …`."""
    lines = [f"{source}: {exc.error_count()} problem(s)"]
    for error in exc.errors():
        index, *loc = error["loc"]
        where = _entry_name(raw, int(index))
        if error["type"] == "model_type":  # the entry is not a mapping at all
            lines.append(
                f"  {where}: expected a mapping with cell, verdict, reason (and link) (got {error['input']!r})"
            )
            continue
        message = error["msg"].removeprefix("Value error, ")
        # the harness's own messages say what was given; pydantic's do not
        got = "" if error["type"] in ("missing", "value_error") else f" (got {error['input']!r})"
        # as the file spells it (a missing field is reported under its attribute name, not its key)
        loc = [_KEYS.get(part, part) if isinstance(part, str) else part for part in loc]
        field = f"field '{'.'.join(str(part) for part in loc)}': " if loc else ""
        if error["type"] == "missing" and loc == ["verdict"]:
            message = f"missing; one of {VERDICTS}"
        lines.append(f"  {where}: {field}{message}{got}")
    return "\n".join(lines)


def _entry_name(raw: list[Any], index: int) -> str:
    """`entry 3 ('*/*/zai-sdk/*')`: numbered from 1, as a reader counts, with its patterns when it has any."""
    item = raw[index] if index < len(raw) else None
    patterns = item.get("cell") if isinstance(item, dict) else None
    if isinstance(patterns, str):
        patterns = [patterns]
    if isinstance(patterns, list) and patterns and all(isinstance(p, str) for p in patterns):
        return f"entry {index + 1} ({' | '.join(patterns)!r})"
    return f"entry {index + 1}"
