"""Feature families: the groups of scenarios a user asks about ("does streaming work?", "which path for
tools?"), for the summaries that put paths against features (data/features.yaml).

A scenario is in the first family one of whose globs matches its id; the streamed variant of plain chat
counts as streaming, the streamed variant of anything else stays in that thing's family.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class Family:
    id: str
    title: str
    scenarios: tuple[str, ...]  # globs over scenario ids


OTHER = Family("other", "other", ())


@cache
def families() -> tuple[Family, ...]:
    raw = yaml.safe_load((resources.files("conformance") / "data" / "features.yaml").read_text(encoding="utf-8"))
    return tuple(Family(entry["id"], entry["title"], tuple(entry["scenarios"])) for entry in raw["families"])


@cache
def family_of(scenario: str) -> Family:
    for family in families():
        if any(fnmatchcase(scenario, glob) for glob in family.scenarios):
            return family
    return OTHER
