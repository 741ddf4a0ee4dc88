"""Which differences a path is allowed, which are known client bugs, and which are new.

Both lists are data (conformance/data/translations.yaml): a path's *translations* are the changes its
protocol or its documented configuration makes (LiteLLM answers in OpenAI's finish reasons, whatever
the provider; OpenHands sends its own top_p default), each with its source; *known findings* are real
bugs the fuzzing found, each with the shrunk case that shows it, so CI stays green on them, fails on
anything new, and can tell when one no longer reproduces (`reproduces`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from conformance.fuzz.case import FuzzCase
from conformance.fuzz.properties import Change, Difference, Property

TRANSLATIONS = resources.files("conformance") / "data" / "translations.yaml"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Translation(_Entry):
    """A change a path is documented to make. `unset`: only where the case leaves that parameter to the
    client; `to`: the value the path sends; `mapping`: wire value → the value the path exposes."""

    paths: tuple[str, ...] = Field(min_length=1)  # globs over path ids
    property: Property
    subject: str
    change: Change
    unset: bool = False
    to: Any = None
    mapping: dict[str, str] | None = None
    why: str = Field(min_length=1)
    source: str = Field(min_length=1)

    def allows(self, path: str, difference: Difference, case: FuzzCase) -> bool:
        if not _same(self, path, difference):
            return False
        if self.unset and getattr(case, difference.subject, None) not in (None, ()):
            return False
        if self.to is not None and difference.got != self.to:
            return False
        return self.mapping is None or self.mapping.get(str(difference.expected)) == difference.got


class KnownFinding(_Entry):
    """A client bug the fuzzing found. `got`: the only values the path is known to send or expose
    instead (a different one is a new finding); `case`: the shrunk case, as one line of JSON."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    paths: tuple[str, ...] = Field(min_length=1)  # path ids, each of which reproduces it with `case`
    property: Property
    subject: str
    change: Change
    got: tuple[Any, ...] | None = None
    culprit: str = Field(min_length=1)  # the client (and version) or the harness module at fault
    reason: str = Field(min_length=1)
    case: str = Field(min_length=1)

    def covers(self, path: str, difference: Difference) -> bool:
        return _same(self, path, difference) and (self.got is None or difference.got in self.got)

    def reproducer(self, path: str) -> str:
        return reproducer(path, FuzzCase.from_json(self.case))


def _same(entry: Translation | KnownFinding, path: str, difference: Difference) -> bool:
    return (
        any(fnmatchcase(path, pattern) for pattern in entry.paths)
        and entry.property == difference.property
        and entry.subject == difference.subject
        and entry.change == difference.change
    )


class _File(_Entry):
    translations: tuple[Translation, ...] = ()
    known_findings: tuple[KnownFinding, ...] = ()


@dataclass(frozen=True)
class Ledger:
    translations: tuple[Translation, ...]
    known: tuple[KnownFinding, ...]

    def classify(self, path: str, case: FuzzCase, differences: Iterable[Difference]) -> Verdicts:
        verdicts = Verdicts([], [], [])
        for difference in differences:
            known = next((k for k in self.known if k.covers(path, difference)), None)
            if any(t.allows(path, difference, case) for t in self.translations):
                verdicts.translated.append(difference)
            elif known is not None:
                verdicts.known.append((known, difference))
            else:
                verdicts.new.append(difference)
        return verdicts


@dataclass
class Verdicts:
    translated: list[Difference]
    known: list[tuple[KnownFinding, Difference]]
    new: list[Difference]


@cache
def ledger(path: str | None = None) -> Ledger:
    text = Path(path).read_text(encoding="utf-8") if path is not None else TRANSLATIONS.read_text(encoding="utf-8")
    data = _File.model_validate(yaml.safe_load(text) or {})
    return Ledger(data.translations, data.known_findings)


def reproducer(path: str, case: FuzzCase) -> str:
    """One shell line that replays `case` through `path` and prints every difference."""
    return f"python -m conformance.fuzz --path {path} --case '{case.to_json()}'"


def report(path: str, case: FuzzCase, new: list[Difference]) -> str:
    """A new finding, as the failure message of a fuzz test: the path, each property that broke, and the
    line that replays the shrunk case."""
    lines = [f"translation fuzzing: {len(new)} new difference(s) on path {path!r}"]
    lines += [f"  - {difference.describe()}" for difference in new]
    lines.append(f"  reproduce: LITELLM_LOCAL_MODEL_COST_MAP=True {reproducer(path, case)}")
    lines.append(
        "  a documented translation goes in conformance/data/translations.yaml (translations); "
        "a real client bug in known_findings, with this case"
    )
    return "\n".join(lines)
