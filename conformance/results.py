"""Results: one JSON record per cell per run, written as each cell finishes, then gathered.

`reports/runs/<run id>/cells.jsonl` gets a line the moment a cell has its verdict (a crash or a
Ctrl-C loses nothing already judged); `reports/results.json` gathers the run at the end, with large
bodies stored once and referenced by hash. A section that needs the catalogue (the streamed vs
non-streamed comparison) is computed by the caller and handed in. Schema:
conformance/data/results.schema.json.

A body over 16 KiB is kept compressed — `{"encoding": "zlib+base64", "size": <characters>, "data": …}`
— in the cell lines, in memory and in results.json: a recorded agent's every turn resends its 30 KB
system prompt and tools, one serialisation per path (3,800 such request bodies, 174 MB, in the full
matrix), and compressed they take about a third. `body_text` reads either form.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from conformance.catalogue import Catalogue, load_catalogue
from conformance.expectations import Expected
from conformance.observation import Observation
from conformance.recording.evidence import REAL_KINDS
from conformance.secrets import SCRUBBER, Scrubber
from conformance.verdict import Finding, Verdict

SCHEMA = "zai-conformance/results/1"
KEEP_RUNS = 10  # run directories kept under reports/runs (each holds every cell's bodies)
FACTS_FILE = "facts.json"  # a finished run's verdicts, reasons and evidence kinds: what a later run compares with
# Not clients of Z.AI but the harness's own machinery, recorded with every run whatever the catalogue's
# paths use: the HTTP stacks the recorder hooks (conformance/recording/transport.py) and the replay and
# test machinery, whose versions change what is recorded and how a replay is matched. The clients a
# verdict depends on come from the catalogue: each path's `clients`.
HARNESS_DISTRIBUTIONS = ("httpx", "httpx2", "aiohttp", "vcrpy", "pytest")
RECORD_KEYS = ("cell", "endpoint", "model", "path", "scenario", "verdict")  # what every report reads


def client_distributions(catalogue: Catalogue | None = None) -> tuple[str, ...]:
    """The distributions whose versions a run records: every client the catalogue's paths name (the
    packaged catalogue's when none is given), then the harness's own; each once, in that order."""
    paths = (catalogue or _packaged_catalogue()).paths
    return tuple(dict.fromkeys([*(name for path in paths for name in path.clients), *HARNESS_DISTRIBUTIONS]))


@cache
def _packaged_catalogue() -> Catalogue:
    return load_catalogue()


def client_versions(catalogue: Catalogue | None = None) -> dict[str, str]:
    """Python's version and each installed distribution's (see client_distributions); one not
    installed is left out. Read once per process (reading a distribution's metadata parses a file:
    10 ms a cell, when every served cell records it) — the installed versions cannot change under a run."""
    return dict(_versions(client_distributions(catalogue)))


@cache
def _versions(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    versions = [("python", platform.python_version())]
    for name in names:
        try:
            versions.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            continue
    return tuple(versions)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class CellResult:
    cell: str
    endpoint: str
    model: str
    path: str
    scenario: str
    verdict: Verdict
    reasons: list[str]
    findings: list[Finding] = field(default_factory=list)
    evidence: dict[str, Any] | None = None  # {kind, cassette, provenance}
    observation: Observation | None = None
    duration_ms: float = 0.0
    record_command: str | None = None
    evidence_error: str | None = None
    harness_error: str | None = None  # the harness itself failed on this cell (a defect to fix)
    expected: Expected | None = None
    limits: dict[str, float] | None = None  # seconds: idle (→ HANG) and connect, as the cell ran
    # Not written as such (evidence.unused and evidence.warnings say it): recorded interactions a
    # replay that went to its end never asked for, and whether the run fails the test for that.
    unused_interactions: int = 0
    strict_cassettes: bool = False

    @property
    def as_expected(self) -> bool | None:
        """None when nothing was judged (no expectation, or a SKIPPED / NOT_RECORDED cell)."""
        if self.expected is None or self.verdict in (Verdict.SKIPPED, Verdict.NOT_RECORDED):
            return None
        return self.expected.verdict == self.verdict

    @property
    def evidence_kind(self) -> str | None:
        return self.evidence["kind"] if self.evidence else None

    @property
    def real(self) -> bool:
        """The verdict rests on real Z.AI bytes: a public recording, or a live one made against Z.AI
        itself, that the path actually consumed (a client refusing before sending consumed none)."""
        if not self.evidence or not self.evidence.get("used"):
            return False
        provenance = self.evidence.get("provenance") or {}
        return self.evidence["kind"] in REAL_KINDS and provenance.get("target_is_zai", True) is not False

    def to_dict(self) -> dict[str, Any]:
        data = {
            "cell": self.cell,
            "endpoint": self.endpoint,
            "model": self.model,
            "path": self.path,
            "scenario": self.scenario,
            "verdict": self.verdict.value,
            "reasons": self.reasons,
            "findings": [finding.to_dict() for finding in self.findings],
            "evidence": self.evidence,
            "real": self.real,
            "duration_ms": self.duration_ms,
            "limits": self.limits,
            "record_command": self.record_command,
            "evidence_error": self.evidence_error,
            "harness_error": self.harness_error,
            "expected": None,
            "as_expected": self.as_expected,
            "observation": self.observation.to_dict() if self.observation else None,
        }
        if self.expected is not None:
            data["expected"] = {**asdict(self.expected), "verdict": self.expected.verdict.value}
        return data


def _bytes_behind(cell: dict[str, Any]) -> str:
    """The kind of evidence whose bytes the verdict rests on, or "none"."""
    evidence = cell.get("evidence") or {}
    return evidence["kind"] if evidence.get("used") else "none"


def summarise(cells: list[dict[str, Any]]) -> dict[str, Any]:
    verdicts = Counter(cell["verdict"] for cell in cells)
    evidence = Counter(_bytes_behind(cell) for cell in cells)
    with_evidence = [cell for cell in cells if _bytes_behind(cell) != "none"]
    real = sum(1 for cell in with_evidence if cell.get("real"))
    unjudged = {Verdict.SKIPPED.value, Verdict.NOT_RECORDED.value}
    return {
        "cells": len(cells),
        "verdicts": {verdict.value: verdicts.get(verdict.value, 0) for verdict in Verdict},
        "evidence": {kind: evidence.get(kind, 0) for kind in ("live", "public", "double", "none")},
        "cells_with_evidence": len(with_evidence),
        "real_cells": real,
        "real_share": round(real / len(with_evidence), 4) if with_evidence else 0.0,
        "judged_without_bytes": sum(
            1 for cell in cells if _bytes_behind(cell) == "none" and cell["verdict"] not in unjudged
        ),
        "unexpected": sum(1 for cell in cells if cell.get("as_expected") is False),
        "evidence_warnings": sum(1 for cell in cells if (cell.get("evidence") or {}).get("warnings")),
    }


class ResultsWriter:
    """Appends cell records as they come, and writes the gathered results.json at the end. Every
    record and the run header pass through `scrubber` on their way to disk.

    A run spread over worker processes (pytest-xdist) has one writer per process in the same run
    directory: each worker appends to its own `cells-<worker>.jsonl` and writes nothing else
    (`worker=`); the controller's writer owns run.json, gathers every worker's lines (`gather_workers`)
    and writes results.json. A worker's lines are on disk as each cell ends, so a crashed worker loses
    at most the cell it was writing."""

    def __init__(
        self, reports_dir: Path, run: dict[str, Any], scrubber: Scrubber = SCRUBBER, worker: str | None = None
    ) -> None:
        self._scrubber = scrubber
        run = scrubber.data(run)  # the run header too: a base URL can carry a key or a password
        self.reports_dir = reports_dir
        self.run = run
        self.run_dir = reports_dir / "runs" / run["id"]
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.worker = worker
        if worker is None:
            _prune_runs(self.run_dir.parent, keep=KEEP_RUNS)
            write_text(self.run_dir / "run.json", json.dumps(run, indent=2))
        self._jsonl = (self.run_dir / cells_file_name(worker)).open("a", encoding="utf-8")
        self.cells: list[dict[str, Any]] = []

    def add(self, result: CellResult) -> None:
        record = _compress_bodies(self._scrubber.data(result.to_dict()))  # the one door from memory to disk
        self.cells.append(record)
        self._jsonl.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._jsonl.flush()

    def close(self) -> None:
        """A worker's end: its lines are all on disk; the controller gathers them."""
        self._jsonl.close()

    def gather_workers(self, order: Mapping[str, int]) -> list[BadLine]:
        """The controller takes in every worker's cell lines, then puts all cells in `order` (cell id →
        position; the catalogue's order, whichever worker ran a cell first). Returns the lines that
        were not cell records (named, as a re-render names them)."""
        bad: list[BadLine] = []
        for path in sorted(self.run_dir.glob("cells-*.jsonl")):
            records, problems = read_cells(path)
            self.cells += records
            bad += problems
        self.cells.sort(key=lambda cell: order.get(cell["cell"], len(order)))
        return bad

    def finish(
        self, extra_run: dict[str, Any] | None = None, equivalence: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Write the final run.json and results.json; `equivalence` is the streamed vs non-streamed
        section, computed by whoever knows the catalogue (the session)."""
        self._jsonl.close()
        run = self._scrubber.data({**self.run, **(extra_run or {}), "finished_at": now()})
        write_text(self.run_dir / "run.json", json.dumps(run, indent=2))
        document = gather(run, self.cells, equivalence)
        write_json(self.reports_dir / "results.json", document)
        write_text(self.run_dir / FACTS_FILE, json.dumps(facts_of(document), ensure_ascii=False))
        return document


def cells_file_name(worker: str | None = None) -> str:
    """`cells.jsonl` for a run in one process; `cells-<worker>.jsonl` for each worker of a parallel run."""
    return "cells.jsonl" if worker is None else f"cells-{worker}.jsonl"


def _prune_runs(runs_dir: Path, keep: int) -> None:
    """Keep the newest `keep` run directories (their names start with a UTC timestamp)."""
    runs = sorted(p for p in runs_dir.iterdir() if p.is_dir() and (p / "run.json").is_file())
    for old in runs[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def gather(
    run: dict[str, Any], cells: list[dict[str, Any]], equivalence: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Build the results document; bodies over 1 KiB are stored once under `bodies` and referenced.
    `equivalence` (conformance.equivalence.equivalence_summary) is placed as given: comparing cells
    needs the catalogue, which the caller has; without it the document has no such section."""
    bodies: dict[str, Body] = {}
    packed = [_pack_bodies(cell, bodies) for cell in cells]
    document: dict[str, Any] = {"schema": SCHEMA, "run": run, "summary": summarise(cells)}
    if equivalence is not None:
        document["equivalence"] = equivalence
    return {**document, "cells": packed, "bodies": bodies}


LARGE_BODY = 16 * 1024  # characters: a body above it is kept compressed
ENCODING = "zlib+base64"
Body = str | dict[str, Any]  # text, or a large body compressed


def compressed(text: str) -> dict[str, Any]:
    data = base64.b64encode(zlib.compress(text.encode("utf-8"), 6)).decode("ascii")
    return {"encoding": ENCODING, "size": len(text), "data": data}


def body_text(body: Body | None) -> str | None:
    """A body's text, whichever form it is kept in."""
    if isinstance(body, dict) and body.get("encoding") == ENCODING:
        return zlib.decompress(base64.b64decode(body["data"])).decode("utf-8")
    return body if isinstance(body, str) or body is None else None


def body_size(body: Body | None) -> int:
    """A body's length in characters, without decompressing it."""
    if isinstance(body, dict):
        return int(body.get("size") or 0)
    return len(body or "")


def _compress_bodies(record: dict[str, Any]) -> dict[str, Any]:
    observation = record.get("observation")
    if not observation:
        return record
    for exchange in observation.get("exchanges", []):
        for key in ("request_body", "response_body"):
            body = exchange.get(key)
            if isinstance(body, str) and len(body) > LARGE_BODY:
                exchange[key] = compressed(body)
    return record


def _pack_bodies(cell: dict[str, Any], bodies: dict[str, Body]) -> dict[str, Any]:
    observation = cell.get("observation")
    if not observation:
        return cell
    exchanges = []
    for exchange in observation.get("exchanges", []):
        exchange = dict(exchange)
        for key in ("request_body", "response_body"):
            body = exchange.get(key)
            if isinstance(body, dict) or (isinstance(body, str) and len(body) > 1024):
                text = body_text(body) or ""
                digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]
                bodies[digest] = body if isinstance(body, dict) or len(text) <= LARGE_BODY else compressed(text)
                exchange[key] = None
                exchange[f"{key}_ref"] = digest
        exchanges.append(exchange)
    return {**cell, "observation": {**observation, "exchanges": exchanges}}


def unpack_body(document: dict[str, Any], exchange: dict[str, Any], key: str) -> str | None:
    ref = exchange.get(f"{key}_ref")
    return body_text(document["bodies"].get(ref) if ref else exchange.get(key))


@contextmanager
def atomic_file(path: Path) -> Iterator[IO[str]]:
    """A text file that appears whole or not at all: written to a temporary file in the same folder,
    then renamed over `path` (os.replace is atomic within a filesystem). A browser, a CI job or
    another run reading the folder never sees half a report; a failed write keeps the previous file
    and leaves no temporary one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())  # the bytes are on disk before the name points at them
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is for reading
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    with atomic_file(path) as handle:
        handle.write(text)


def write_json(path: Path, document: dict[str, Any]) -> None:
    with atomic_file(path) as handle:
        json.dump(document, handle, ensure_ascii=False)


@dataclass(frozen=True)
class BadLine:
    """A line of a run's cells.jsonl that is not a cell record: skipped, and named."""

    file: Path
    number: int
    problem: str
    torn: bool  # the file's last line, with no newline after it: the run was killed while writing it

    def __str__(self) -> str:
        where = f"{self.file}:{self.number}"
        if self.torn:
            return f"{where}: skipped a torn last line — the run was killed mid-write ({self.problem})"
        return f"{where}: skipped a corrupt line — {self.problem}; its cell is not in this report"


def read_cells(cells_file: Path) -> tuple[list[dict[str, Any]], list[BadLine]]:
    """The cell records of a cells.jsonl, and every line that is not one. Lines are decoded one by
    one: a record cut inside a multi-byte character spoils that record, not the file."""
    lines = cells_file.read_bytes().split(b"\n")
    cells: list[dict[str, Any]] = []
    bad: list[BadLine] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            cells.append(_cell_record(raw))
        except ValueError as exc:  # the last piece has no newline after it only if the write was cut
            bad.append(BadLine(cells_file, number, str(exc), torn=number == len(lines)))
    return cells, bad


def _cell_record(raw: bytes) -> dict[str, Any]:
    try:
        record = json.loads(raw.decode("utf-8"))
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
        raise ValueError(f"not a JSON record ({exc})") from None
    if not isinstance(record, dict):
        raise ValueError(f"not a cell record (a JSON {type(record).__name__}, not an object)")
    missing = [key for key in RECORD_KEYS if not isinstance(record.get(key), str)]
    if missing:
        raise ValueError(f"not a cell record (no {', '.join(missing)})")
    return record


def load_run_dir(path: Path) -> tuple[dict[str, Any], list[BadLine]]:
    """Gather a run directory (runs/<id>/: run.json and cells.jsonl — or one cells-<worker>.jsonl per
    worker of a parallel run), finished or not.

    A line that is not a cell record does not refuse the run: every other record is gathered, and
    each bad line is returned and named (file:line, and why) in the document's `run.warnings`, which
    the report's header shows. A torn last line (no newline after it) is what a run killed mid-write
    leaves, and loses only the cell it was writing; a bad line anywhere else is corruption
    (`BadLine.torn` is False), which `zai-conformance report` treats as an error. The document has no
    `equivalence` section: pairing streamed cells needs the run's catalogue, which
    `zai-conformance report` loads to add it."""
    run_file = path / "run.json"
    files = sorted(path.glob("cells*.jsonl"))
    if not files:
        raise FileNotFoundError(f"{path}: no cells.jsonl (is this a run directory?)")
    run = json.loads(run_file.read_text(encoding="utf-8")) if run_file.is_file() else {"id": path.name}
    cells: list[dict[str, Any]] = []
    bad: list[BadLine] = []
    for cells_file in files:
        records, problems = read_cells(cells_file)
        cells += records
        bad += problems
    run = {**run, "finished_at": run.get("finished_at")}
    if bad:
        run["warnings"] = [*run.get("warnings", []), *map(str, bad)]
    return gather(run, cells), bad


def facts_of(document: dict[str, Any]) -> dict[str, Any]:
    """What comparing runs needs of one (conformance.workflows.diff): each cell's verdict, reasons and
    evidence kind — a few hundred KB where the run's cells file holds every body."""
    cells = [
        {
            "cell": cell["cell"],
            "verdict": cell["verdict"],
            "reasons": cell.get("reasons") or [],
            "evidence": {"kind": cell["evidence"]["kind"]} if cell.get("evidence") else None,
        }
        for cell in document["cells"]
    ]
    return {"run": {"id": document["run"].get("id")}, "cells": cells}


def previous_run(runs_dir: Path, current: str) -> tuple[dict[str, Any] | None, str | None]:
    """The newest run under `runs_dir` older than `current` (run ids start with their UTC start time), as
    its facts (or its gathered cells, for a run that never finished); one that cannot be read is passed
    over with a warning on stderr."""
    if not runs_dir.is_dir():
        return None, None
    older = sorted((path for path in runs_dir.iterdir() if path.is_dir() and path.name < current), reverse=True)
    for path in older:
        try:
            facts = path / FACTS_FILE
            if facts.is_file():
                return json.loads(facts.read_text(encoding="utf-8")), path.name
            return load_run_dir(path)[0], path.name
        except (OSError, ValueError) as exc:
            print(
                f"zai-conformance: the earlier run {path} cannot be read ({exc}); trying an older one", file=sys.stderr
            )
    return None, None


def load_results(path: Path) -> dict[str, Any]:
    """Read results.json, or gather a run directory's cells.jsonl (a run that never finished; its
    bad lines are skipped and named in `run.warnings`, see load_run_dir)."""
    if path.is_dir():
        return load_run_dir(path)[0]
    document = json.loads(path.read_text(encoding="utf-8"))
    if document.get("schema") != SCHEMA:
        raise ValueError(f"{path}: not a {SCHEMA} document")
    return document
