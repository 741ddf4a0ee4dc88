"""The fidelity measurement's own data (`data/fidelity.yaml`): per-file exceptions — what not to
compare in a capture, and why — and the triggers that ask the double for each real error."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml


@cache
def fidelity_data() -> dict[str, Any]:
    return yaml.safe_load((resources.files("conformance.fidelity") / "data" / "fidelity.yaml").read_text()) or {}


@dataclass
class Rules:
    """The fidelity.yaml entries that apply to one exchange, merged file → section."""

    ignore: dict[str, str] = field(default_factory=dict)
    # Aspects left out by the lenient measure only: what the strict one demands per era.
    lenient_ignore: dict[str, str] = field(default_factory=dict)
    trust: str | None = None
    endpoint: str | None = None
    keys: list[str] = field(default_factory=list)

    def merge(self, entry: dict[str, Any] | None, key: str) -> None:
        if not entry:
            return
        self.keys.append(key)
        reason = str(entry.get("reason") or "listed in conformance/fidelity/data/fidelity.yaml")
        for aspect in entry.get("ignore") or []:
            self.ignore[str(aspect)] = reason
        for aspect in entry.get("lenient_ignore") or []:
            self.lenient_ignore[str(aspect)] = reason
        self.trust = entry.get("trust") or self.trust
        self.endpoint = entry.get("endpoint") or self.endpoint


def rules_for(corpus: Path, file: Path, section: str | None) -> Rules:
    """The exceptions for a file (by path relative to the corpus, or by name) and one of its sections."""
    files = fidelity_data().get("files") or {}
    relative = file.relative_to(corpus).as_posix()
    key = relative if relative in files else file.name
    rules = Rules()
    entry = files.get(key)
    rules.merge(entry, key)
    if entry and section is not None:
        rules.merge((entry.get("sections") or {}).get(section), f"{key} [{section}]")
    return rules


def error_triggers() -> dict[str, Any]:
    """How to ask the double for each real error code (`default` for the rest)."""
    return fidelity_data().get("error_triggers") or {}


def declared_exceptions() -> list[str]:
    """Every exception key the data declares: file names, and `<file> [<section>]`."""
    declared = []
    for name, entry in (fidelity_data().get("files") or {}).items():
        declared.append(name)
        declared += [f"{name} [{section}]" for section in (entry or {}).get("sections") or {}]
    return declared
