"""Recording files of a corpus folder, reading into compressed archives as if they were unpacked.

Why: a corpus with many versions of the same conversations (crush's 353 cassettes, 49 MB, each
repeating a 50 KB system prompt) compresses about 130:1 as one `.tar.xz` and 3:1 file by file. Keeping
the archive in the repository keeps every recorded generation byte-exact within the size budget; every
reader of a corpus goes through `corpus_files`, so an archived corpus and an unpacked one read alike.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ARCHIVE_SUFFIXES = (".tar.xz", ".tar.gz", ".tgz", ".tar")


@dataclass(frozen=True)
class CorpusFile:
    """One recording file: its path relative to the corpus (inside an archive: the archive's folder,
    then the member's own path) and its bytes, exactly as stored."""

    relative: Path
    data: bytes
    archive: Path | None = None  # the archive it was read from, relative to the corpus

    @property
    def name(self) -> str:
        return self.relative.name

    @property
    def suffix(self) -> str:
        return self.relative.suffix

    def text(self) -> str:
        return self.data.decode("utf-8")


def is_archive(path: Path) -> bool:
    return path.name.endswith(ARCHIVE_SUFFIXES)


def corpus_files(corpus: Path) -> Iterator[CorpusFile]:
    """Every file of the corpus folder in a stable order (by path); an archive yields its members in
    their place, under the archive's folder. A damaged archive raises ValueError naming it."""
    corpus = corpus.resolve()
    entries: list[tuple[Path, Path]] = sorted((p.relative_to(corpus), p) for p in corpus.rglob("*") if p.is_file())
    for relative, path in entries:
        if is_archive(path):
            yield from archive_members(path, relative)
        else:
            yield CorpusFile(relative, path.read_bytes())


def archive_members(path: Path, relative: Path | None = None) -> Iterator[CorpusFile]:
    """The regular files of one archive, sorted by member path, bytes as stored."""
    where = relative if relative is not None else Path(path.name)
    try:
        with tarfile.open(path) as archive:
            members = sorted((m for m in archive.getmembers() if m.isfile()), key=lambda m: m.name)
            for member in members:
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                member_path = Path(member.name)
                if member_path.is_absolute() or ".." in member_path.parts:
                    raise ValueError(f"{path}: member {member.name!r} leaves the archive's folder")
                yield CorpusFile(where.parent / member_path, handle.read(), archive=where)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ValueError(f"{path}: not a readable archive: {exc}") from exc
