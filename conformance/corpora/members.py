"""Interactions of a cassette inside a corpus archive, named, read and dated.

Why: crush's corpus is 353 go-vcr cassettes that compress 130:1 together (archive.py). Copying the
conversations the matrix replays into `cassettes/public/` would add tens of MB of repeated system
prompts; reading them in place keeps one byte-exact copy, whose provenance (project, commit, date,
license) comes from the corpus's `SOURCES.tsv`.

A member is named like a file inside the archive, with the interactions a conversation uses:

    tests/fixtures/zai-recordings/crush/crush.tar.xz/<commit>/<path>.yaml#1,2,3

That text is a recorded scenario's `evidence` (the catalogue), the request of each of its turns
(scenario.py), and what the cassette persister loads as evidence (recording/corpus.py).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from conformance.corpora.archive import archive_members

ARCHIVE_MARK = ".tar.xz/"
SOURCES = "SOURCES.tsv"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CorpusError(ValueError):
    """A corpus reference that does not resolve: no archive, no member, no such interaction."""


@dataclass(frozen=True)
class MemberRef:
    """Some interactions of one cassette inside a corpus archive."""

    archive: Path
    member: str  # the member's path inside the archive
    interactions: tuple[int, ...]  # positions in the member's `interactions`, in conversation order

    def __str__(self) -> str:
        return f"{self.archive.as_posix()}/{self.member}#{','.join(map(str, self.interactions))}"

    @classmethod
    def parse(cls, text: str | Path) -> MemberRef | None:
        """The reference `text` names, or None when it names an ordinary file."""
        text = str(text)
        if ARCHIVE_MARK not in text or "#" not in text:
            return None
        archive, rest = text.split(ARCHIVE_MARK, 1)
        member, selection = rest.rsplit("#", 1)
        try:
            interactions = tuple(int(part) for part in selection.split(","))
        except ValueError:
            raise CorpusError(f"{text}: after '#' come interaction numbers, comma-separated") from None
        return cls(Path(archive + ARCHIVE_MARK.rstrip("/")), member, interactions)


@dataclass(frozen=True)
class Source:
    """One corpus file's origin, as the corpus's SOURCES.tsv states it."""

    project: str
    path: str
    commit: str
    date: str  # the commit's date: recorded on or before it
    license: str


@cache
def sources(archive: Path) -> dict[str, Source]:
    """SOURCES.tsv beside the archive, by the file's path inside the archive (`local_path`)."""
    table = archive.parent / SOURCES
    try:
        with table.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
    except OSError as exc:
        raise CorpusError(f"{table}: cannot read the corpus's sources ({exc.strerror})") from exc
    try:
        return {
            row["local_path"]: Source(row["repo"], row["path"], row["commit"], row["date"], row["license"])
            for row in rows
        }
    except KeyError as exc:
        raise CorpusError(f"{table}: missing column {exc}") from None


@cache
def _members(archive: Path) -> dict[str, bytes]:
    if not archive.is_file():
        raise CorpusError(f"{archive}: no such corpus archive")
    try:
        return {member.relative.as_posix(): member.data for member in archive_members(archive, Path("."))}
    except ValueError as exc:
        raise CorpusError(str(exc)) from None


@cache
def member_interactions(archive: Path, member: str) -> tuple[dict[str, Any], ...]:
    """A go-vcr member's interactions, parsed once per process."""
    try:
        data = _members(archive)[member]
    except KeyError:
        raise CorpusError(f"{archive}: no member {member}") from None
    try:
        document = yaml.load(data.decode("utf-8"), Loader=_Loader)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CorpusError(f"{archive}/{member}: not a readable cassette ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("interactions"), list):
        raise CorpusError(f"{archive}/{member}: not a go-vcr cassette (no interactions)")
    return tuple(document["interactions"])


def selected(ref: MemberRef) -> list[dict[str, Any]]:
    """The referenced interactions, in the reference's order."""
    interactions = member_interactions(ref.archive, ref.member)
    missing = [i for i in ref.interactions if not 0 <= i < len(interactions)]
    if missing:
        raise CorpusError(f"{ref}: the member has {len(interactions)} interactions, not {missing}")
    return [interactions[i] for i in ref.interactions]


def request_body(ref: MemberRef, turn: int) -> dict[str, Any]:
    """The request body of the reference's `turn`-th interaction, freshly parsed (a caller may change it)."""
    index, interaction = ref.interactions[turn], selected(ref)[turn]
    try:
        body = json.loads((interaction.get("request") or {}).get("body") or "")
    except ValueError:
        raise CorpusError(f"{ref}: interaction {index}'s request body is not JSON") from None
    if not isinstance(body, dict):
        raise CorpusError(f"{ref}: interaction {index}'s request body is not a JSON object")
    return body
