"""The trust a capture's own notes state: the `Kind:` line of a `*.SOURCE.md` beside it."""

from __future__ import annotations

import re
from pathlib import Path


def kind_from_source(file: Path) -> str | None:
    """The `Kind:` of the `*.SOURCE.md` beside a capture that names it (same stem, or the longest
    shared prefix covering most of the note's name); None when no note names it."""
    best: tuple[int, str] | None = None
    stem = _squash(file.name)
    for note in file.parent.glob("*.SOURCE.md"):
        label = _squash(note.name[: -len(".SOURCE.md")])
        shared = len(_common_prefix(stem, label))
        if shared >= 0.8 * len(label) and (best is None or shared > best[0]):
            kind = re.search(r"^Kind:\s*(.+)$", note.read_text(encoding="utf-8"), re.M)
            if kind:
                best = (shared, kind.group(1).strip())
    return best[1] if best else None


def _squash(name: str) -> str:
    return re.sub(r"_+", "_", name.lower())


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]
