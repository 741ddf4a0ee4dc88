"""The real Z.AI corpus as exchanges the fidelity measurement can replay against the double.

`load_exchanges(corpus_dir)` walks a folder shaped like `zai-recordings/` and turns every real
capture it understands into a `RealExchange` (exchange.py), one loader per capture format:

- cassette.py: recorded cassettes (go-vcr, vcrpy YAML or JSON, the project's own; told by content in
  recording/formats.py), every interaction as recorded;
- response_file.py: `*.json` / `*.sse` responses, with a sibling `<file>.request.json` or without
  (a `*.json` that holds a cassette goes to cassette.py);
- sections.py and written.py: `*.txt` captures of `## section` blocks holding SSE or JSON, or one
  exchange written out as request, response headers and body;
- session_log.py: Claude Code session logs (`*.jsonl`, one content block per line);
- error_list.py: error lists (`*.jsonl` lines with `code`, `http`, `body`, `kind`).

Archives (`*.tar.xz`, corpora/archive.py) are read in place: each cassette member is loaded as if
the archive were unpacked in its folder.

Only Z.AI traffic is measured (scope.py): `load_corpus` says which exchanges it left out and why;
`load_exchanges` returns the rest.

A capture without a request gets a reconstructed one (../reconstruct.py) and says so. Per-file
exceptions (what not to compare, and why) live in ../data/fidelity.yaml; a file not listed there is
compared in full.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.corpora.archive import archive_members, is_archive
from conformance.fidelity import DEFAULT_CORPUS
from conformance.fidelity.corpus import cassette, error_list, response_file, sections, session_log
from conformance.fidelity.corpus.exchange import RealExchange, RealRequest, RealResponse
from conformance.fidelity.corpus.scope import LeftOut, left_out_reason
from conformance.recording import formats

__all__ = ["Corpus", "LeftOut", "RealExchange", "RealRequest", "RealResponse", "load_corpus", "load_exchanges"]


@dataclass(frozen=True)
class Corpus:
    """A corpus folder's Z.AI exchanges, and the exchanges it holds that are not Z.AI traffic."""

    path: Path
    exchanges: list[RealExchange]
    left_out: list[LeftOut] = field(default_factory=list)


def load_corpus(corpus_dir: str | Path = DEFAULT_CORPUS) -> Corpus:
    """The corpus's exchanges split into the Z.AI traffic measured and the rest, left out with a reason."""
    kept: list[RealExchange] = []
    left_out: list[LeftOut] = []
    for exchange in _all_exchanges(corpus_dir):
        reason = left_out_reason(exchange)
        if reason is None:
            kept.append(exchange)
        else:
            left_out.append(LeftOut(exchange.name, exchange.url, reason))
    return Corpus(Path(corpus_dir).resolve(), kept, left_out)


def load_exchanges(corpus_dir: str | Path = DEFAULT_CORPUS) -> list[RealExchange]:
    """Every Z.AI exchange in the corpus, in a stable order (by file, then position in the file)."""
    return load_corpus(corpus_dir).exchanges


def _all_exchanges(corpus_dir: str | Path) -> list[RealExchange]:
    """Every exchange in the corpus, Z.AI's or not, in a stable order."""
    corpus = Path(corpus_dir).resolve()
    if not corpus.is_dir():
        raise FileNotFoundError(f"no corpus folder at {corpus}")
    exchanges: list[RealExchange] = []
    for file in sorted(p for p in corpus.rglob("*") if p.is_file()):
        if is_archive(file):
            for member in archive_members(file, file.relative_to(corpus)):
                if member.suffix in (".yaml", ".yml"):
                    exchanges.extend(cassette.load(corpus, corpus / member.relative, member.text()))
            continue
        exchanges.extend(_load_file(corpus, file))
    return exchanges


def _load_file(corpus: Path, file: Path) -> Iterator[RealExchange]:
    name = file.name
    if name.endswith(response_file.REQUEST_SUFFIX) or name.endswith(".md"):
        return
    if file.suffix in (".yaml", ".yml") or (file.suffix == ".json" and formats.holds_cassette(file)):
        yield from cassette.load(corpus, file)
    elif file.suffix in (".json", ".sse"):
        yield from response_file.load(corpus, file)
    elif file.suffix == ".txt":
        yield from sections.load(corpus, file)
    elif file.suffix == ".jsonl":
        rows = _rows(file)
        if error_list.is_error_list([row for _, row in rows]):
            yield from error_list.load(corpus, file, rows)
        elif session_log.is_session_log([row for _, row in rows]):
            yield from session_log.load(corpus, file, [row for _, row in rows])


def _rows(file: Path) -> list[tuple[int, dict[str, Any]]]:
    """A JSON-lines file's objects with their line numbers; lines that are not JSON objects are skipped."""
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict):
                rows.append((number, row))
    return rows
