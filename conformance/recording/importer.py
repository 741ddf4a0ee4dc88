"""Import real Z.AI recordings made by other projects as public evidence.

A recording is any cassette recording/formats.py reads (go-vcr v1/v2, vcrpy / pytest-recording YAML
or JSON, the project's own format), told by its content. Nothing is inferred from file names: each
recording is identified by what it asked. Its URL names the endpoint, its body the model, and its
first request must be *the same question* as one catalogue scenario (the matcher replay uses) with the
scenario's number of turns. Bodies are copied as the reader gives them, byte-for-byte; headers, URLs
and bodies pass the scrubber (and any change is reported). Each cassette's provenance names the source
format and how exact its bodies are (byte-exact, decoded, re-serialised), so evidence never claims more
than its source holds. When several recordings answer the same cell, the newest is kept and the others
are named in its provenance.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance import __version__
from conformance.catalogue import Catalogue, Endpoint, Scenario
from conformance.recording import cassette, formats
from conformance.recording.matching import question_of
from conformance.scenario import openai_request
from conformance.secrets import SCRUBBER, Scrubber

# Provenance kinds of the project's own cassettes that hold real Z.AI bytes (a double's are synthetic).
_REAL_KINDS = frozenset({"live", "public"})


@dataclass(frozen=True)
class SourceInfo:
    """Where a recording came from, as the corpus index states it."""

    original_path: str | None = None
    commit: str | None = None
    date: str | None = None


@dataclass
class Recording:
    source: Path
    endpoint: Endpoint
    model: str
    scenario: Scenario
    info: SourceInfo
    interactions: list[dict[str, Any]]
    client: str | None
    recorded: formats.RecordedCassette
    scrubbed: int = 0


@dataclass
class ImportReport:
    imported: list[tuple[Path, Path]] = field(default_factory=list)  # (source, cassette written)
    superseded: list[tuple[Path, Path]] = field(default_factory=list)  # (older source, the newer kept)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (source, why)
    scrubbed: list[tuple[Path, int]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"imported {source.name} -> {target}" for source, target in self.imported]
        out += [
            f"superseded {source.name} (a newer recording answers the same cell: {kept.name})"
            for source, kept in self.superseded
        ]
        out += [f"skipped {source.name}: {why}" for source, why in self.skipped]
        out += [f"scrubbed {count} secret-shaped value(s) in {source.name}" for source, count in self.scrubbed]
        out.append(
            f"{len(self.imported)} cassette(s) written, {len(self.superseded)} superseded, {len(self.skipped)} skipped"
        )
        return out


def read_index(path: Path) -> dict[str, SourceInfo]:
    """The corpus INDEX.tsv: file, original path, 'commit date', endpoint URL (tab-separated)."""
    index: dict[str, SourceInfo] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        columns = line.split("\t")
        if len(columns) < 3:
            raise ValueError(f"{path}:{number}: expected file, original path, 'commit date' columns")
        commit, _, date = columns[2].partition(" ")
        index[columns[0]] = SourceInfo(original_path=columns[1], commit=commit or None, date=date or None)
    return index


def import_recordings(
    sources: list[Path],
    catalogue: Catalogue,
    cassette_root: Path,
    project: str,
    license: str | None = None,
    index: dict[str, SourceInfo] | None = None,
    scrubber: Scrubber = SCRUBBER,
) -> ImportReport:
    report = ImportReport()
    by_cell: dict[tuple[str, str, str], list[Recording]] = {}
    for source in sorted(sources):
        try:
            recording = identify(source, catalogue, (index or {}).get(source.name, SourceInfo()), scrubber)
        except ValueError as exc:
            report.skipped.append((source, str(exc)))
            continue
        if recording.scrubbed:
            report.scrubbed.append((source, recording.scrubbed))
        by_cell.setdefault((recording.endpoint.id, recording.model, recording.scenario.id), []).append(recording)
    imported_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for (endpoint, model, scenario), recordings in sorted(by_cell.items()):
        recordings.sort(key=lambda r: (r.info.date or "", r.source.name), reverse=True)
        newest, older = recordings[0], recordings[1:]
        target = cassette_root / "public" / endpoint / model / f"{scenario}.yaml"
        provenance = {
            "kind": "public",
            "source": {
                "project": project,
                "license": license,
                "path": newest.info.original_path,
                "commit": newest.info.commit,
                "date": newest.info.date,
                "corpus_file": newest.source.name,
            },
            "recorded": newest.info.date,
            "recorded_meaning": "commit date of the recording in the source project (recorded on or before)",
            "client": newest.client,
            "source_format": newest.recorded.format.value,
            "bodies": newest.recorded.fidelity.value,
            "bodies_meaning": newest.recorded.label,
            "endpoint": endpoint,
            "endpoint_url": newest.endpoint.base_url,
            "model": model,
            "scenario": scenario,
            "imported_at": imported_at,
            "imported_by": f"zai-conformance {__version__}",
            "superseded": [
                {
                    "corpus_file": r.source.name,
                    "path": r.info.original_path,
                    "commit": r.info.commit,
                    "date": r.info.date,
                }
                for r in older
            ],
        }
        cassette.write(target, provenance, newest.interactions)
        report.imported.append((newest.source, target))
        report.superseded.extend((r.source, newest.source) for r in older)
    return report


def identify(source: Path, catalogue: Catalogue, info: SourceInfo, scrubber: Scrubber = SCRUBBER) -> Recording:
    """Read one cassette (any format formats.py reads) and say which endpoint, model and scenario it is
    evidence for. A ValueError names why it is none."""
    recorded = formats.read(source)
    if recorded.recorded_kind is not None and recorded.recorded_kind not in _REAL_KINDS:
        raise ValueError(
            f"{source}: a {recorded.format.value} cassette of kind {recorded.recorded_kind!r}: "
            "only live or public cassettes hold real Z.AI bytes"
        )
    raw = recorded.interactions
    first = raw[0]
    url, body = first.url, first.request_body
    endpoint = _endpoint_of(url, catalogue)
    try:
        asked_body = json.loads(body)
        model = asked_body.get("model")
    except (ValueError, AttributeError) as exc:
        raise ValueError(f"first request body is not a JSON object ({exc})") from exc
    if model not in {m.id for m in catalogue.models}:
        raise ValueError(f"model {model!r} is not in the catalogue (add it there first)")
    asked = question_of(first.method, url, body)
    scenario = _scenario_asking(asked, asked_body, endpoint, model, catalogue)
    if len(raw) != scenario.turns:
        raise ValueError(f"scenario {scenario.id!r} makes {scenario.turns} request(s), the recording has {len(raw)}")
    counter = _ScrubCounter(scrubber)
    interactions = [_convert(interaction, counter, i) for i, interaction in enumerate(raw)]
    client = _header(first.request_headers, "User-Agent")
    return Recording(source, endpoint, model, scenario, info, interactions, client, recorded, counter.changes)


def _endpoint_of(url: str, catalogue: Catalogue) -> Endpoint:
    for endpoint in sorted(catalogue.endpoints, key=lambda e: len(e.base_url), reverse=True):
        if url.startswith(endpoint.base_url + "/"):
            return endpoint
    raise ValueError(f"URL {url!r} is under no catalogue endpoint")


def _scenario_asking(
    asked: Any, recorded: dict[str, Any], endpoint: Endpoint, model: str, catalogue: Catalogue
) -> Scenario:
    """The scenario asking the recorded question. Several scenarios may ask the same question with
    different parameters (thinking on/off, say): then the one whose parameters were recorded wins."""
    closest: tuple[int, str, list[str]] | None = None
    url = f"{endpoint.base_url}/chat/completions"
    asking = []
    for scenario in catalogue.scenarios:
        body = openai_request(catalogue, scenario, model)
        differences = question_of("POST", url, json.dumps(body)).differences(asked)
        if not differences:
            asking.append((scenario, body))
        elif closest is None or len(differences) < closest[0]:
            closest = (len(differences), scenario.id, differences)
    if len(asking) > 1:
        asking = [(s, body) for s, body in asking if _same_params(body, recorded)]
    if len(asking) == 1:
        return asking[0][0]
    if asking:
        raise ValueError(
            f"ambiguous: scenarios {[s.id for s, _ in asking]} all ask this question with these parameters"
        )
    detail = f"; closest is {closest[1]!r}, which differs in {'; '.join(closest[2])}" if closest else ""
    raise ValueError(f"no catalogue scenario asks this question{detail}")


def _same_params(body: dict[str, Any], recorded: dict[str, Any]) -> bool:
    question_keys = {"model", "messages", "tools", "stream"}
    return {k: v for k, v in body.items() if k not in question_keys} == {
        k: v for k, v in recorded.items() if k not in question_keys
    }


class _ScrubCounter:
    def __init__(self, scrubber: Scrubber) -> None:
        self.scrubber = scrubber
        self.changes = 0

    def __call__(self, value: Any, kind: str) -> Any:
        clean = getattr(self.scrubber, kind)(value)
        if clean != value:
            self.changes += 1
        return clean


def _convert(interaction: formats.RecordedInteraction, scrub: _ScrubCounter, index: int) -> dict[str, Any]:
    """One interaction in the project format, every part through the scrubber before it can be written."""
    if interaction.status is None:
        raise ValueError(f"interaction {index}: response has no status code (no HTTP answer was recorded)")
    request_body = scrub(interaction.request_body, "body")
    return {
        "request": {
            "method": interaction.method,
            "uri": scrub(interaction.url, "url"),
            "headers": scrub(_lists(interaction.request_headers), "headers"),
            "body": cassette.encode_body(request_body) if request_body else None,
        },
        "response": {
            "status": {"code": interaction.status, "message": interaction.reason},
            "headers": scrub(_lists(interaction.response_headers), "headers"),
            "body": cassette.encode_body(scrub(interaction.response_body, "body")),
        },
    }


def _lists(headers: formats.Headers) -> dict[str, list[str]]:
    return {name: list(values) for name, values in headers.items()}


def _header(headers: formats.Headers, name: str) -> str | None:
    for key, values in headers.items():
        if key.lower() == name.lower():
            return values[0] if values else None
    return None
