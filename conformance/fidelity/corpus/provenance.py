"""When and from what an exchange was recorded: its date (era), the test it records, its model.

Why: Z.AI's wire changed over time (`object` on chunks, usage details, the stream's opener), so a
score means something only per era, and a corpus holding many versions of one test (crush: 27
recordings of each) is judged on the newest of each. The dates are the commits that added each
recording, as the corpus's own index files state them:

- `SOURCES.tsv` (header `repo path commit date license local_path blob`): `local_path` is the
  file's path below the index's folder (for crush, the archive member `<commit>/<original path>`);
- `INDEX.tsv` (no header: local name, original path, `<commit> <date>`, URL), as fantasy's.

A file no index names has an unknown date. The model is the request body's `model`.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from conformance.fidelity.corpus.exchange import RealExchange

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Source:
    """What an index file says of one recording file."""

    date: str  # as the index states it: `2025-10-02T14:47:09+02:00` or `2025-09-26`
    test: str  # the recording's original path: the versions of one test share it
    commit: str


@dataclass(frozen=True)
class Provenance:
    date: str | None  # ISO date or timestamp of the commit that added the recording; None: unknown
    test: str | None
    model: str | None

    @property
    def day(self) -> str:
        return self.date[:10] if self.date else UNKNOWN

    @property
    def month(self) -> str:
        return self.date[:7] if self.date else UNKNOWN

    @property
    def when(self) -> datetime | None:
        """The date as an instant, for ordering versions of one test (timestamps carry their offset)."""
        if not self.date:
            return None
        moment = datetime.fromisoformat(self.date)
        return moment if moment.tzinfo else moment.replace(tzinfo=datetime.now().astimezone().tzinfo)


def source_index(corpus: Path) -> dict[str, Source]:
    """Every recording file the corpus's index files name, by its path relative to the corpus."""
    corpus = corpus.resolve()
    index: dict[str, Source] = {}
    for file in sorted(corpus.rglob("SOURCES.tsv")):
        folder = file.parent.relative_to(corpus)
        with file.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                if row.get("local_path") and row.get("date"):
                    test = "/".join(p for p in (row.get("repo"), row.get("path")) if p)
                    key = (folder / row["local_path"]).as_posix()
                    index[key] = Source(row["date"], test, row.get("commit") or "")
    for file in sorted(corpus.rglob("INDEX.tsv")):
        folder = file.parent.relative_to(corpus)
        for line in file.read_text(encoding="utf-8").splitlines():
            fields = line.split("\t")
            if len(fields) < 3 or len(fields[2].split()) != 2:
                continue
            commit, date = fields[2].split()
            index[(folder / fields[0]).as_posix()] = Source(date, fields[1], commit)
    return index


def model_of(exchange: RealExchange) -> str | None:
    if exchange.request is None:
        return None
    try:
        body = json.loads(exchange.request.body or b"null")
    except ValueError:
        return None
    model = body.get("model") if isinstance(body, dict) else None
    return model if isinstance(model, str) else None


def provenance(exchange: RealExchange, index: dict[str, Source]) -> Provenance:
    source = index.get(exchange.file.relative_to(exchange.corpus).as_posix())
    return Provenance(source.date if source else None, source.test if source else None, model_of(exchange))
