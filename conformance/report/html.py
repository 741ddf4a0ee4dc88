"""The compatibility report as one self-contained HTML page (reports/index.html).

The page must open from a CI artifact or a laptop with no network, so the CSS, the JS and the data
are inlined, and a Content-Security-Policy pins the inline script and style by hash: nothing outside
the page may load, and markup smuggled in through recorded bytes could not run even if it escaped.
The matrix (verdict badges, evidence badges, reasons in tooltips) is plain HTML and reads without
JS; the drill-down is built by the script from the results document itself, embedded once as JSON
(its `bodies` already store every large body once), so the page carries what results.json says and
nothing else — but for request bodies over 16 KiB. A coding agent's recorded conversation sends its
system prompt and tools on every turn, and each client serialises them its own way, so each path's
copy is a body of its own (about 1,000 of them, 47 MB for crush's conversations) that gzip's 32 KB
window cannot share. The page leaves those out and names each one (`bodies_left_out`: its size),
and results.json keeps them all.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from conformance.report.agents import agent_views
from conformance.report.changes import Changes
from conformance.report.summary import endpoint_summaries
from conformance.results import body_size, body_text
from conformance.verdict import Verdict

HERE = Path(__file__).resolve().parent
SHORT_REASON = 90
EVIDENCE_LABELS = {"public": "PUBLIC", "live": "LIVE", "double": "DOUBLE · synthetic"}
NOT_RUN = (Verdict.SKIPPED.value, Verdict.NOT_RECORDED.value)


@dataclass(frozen=True)
class CellView:
    """What the static matrix shows of one cell."""

    id: str
    verdict: str
    evidence: str | None
    used: bool  # whether the path consumed the evidence's bytes (a client refusing before sending did not)
    real: bool
    as_expected: bool | None
    expected: str | None
    reasons: tuple[str, ...]
    provenance: str
    timing: str = ""  # how long it ran, under which limits
    warnings: tuple[str, ...] = ()  # evidence warnings: recorded interactions the replay never used

    @property
    def not_zai(self) -> bool:
        """Evidence claimed as recorded, but not against Z.AI (a live run aimed at another URL)."""
        return self.evidence is not None and self.used and self.evidence != "double" and not self.real

    @property
    def evidence_label(self) -> str:
        if self.evidence is None:
            return "no evidence"
        label = EVIDENCE_LABELS.get(self.evidence, self.evidence.upper())
        if not self.used:
            return f"{label} · not used"
        return f"{label} · not Z.AI" if self.not_zai else label

    @property
    def title(self) -> str:
        """The tooltip: the verdict and every reason, so the matrix reads without the script."""
        lines = [f"{self.id}: {self.verdict}", *self.reasons]
        if self.as_expected is False:
            lines.append(f"unexpected: expected {self.expected}")
        if self.provenance:
            lines.append(f"evidence: {self.provenance}")
        lines += [f"evidence warning: {warning}" for warning in self.warnings]
        if self.timing:
            lines.append(self.timing)
        return "\n".join(lines)

    @property
    def short_reason(self) -> str:
        """The first reason, clipped, for cells whose verdict needs explaining in the matrix itself."""
        if self.verdict in (Verdict.PASS.value, Verdict.NOT_RECORDED.value) or not self.reasons:
            return ""
        first = self.reasons[0]
        return first if len(first) <= SHORT_REASON else first[: SHORT_REASON - 1] + "…"


@dataclass
class ModelBlock:
    """One endpoint/model matrix: rows are scenarios, columns are client paths."""

    endpoint: str
    model: str
    paths: list[str]
    rows: list[tuple[str, list[CellView | None]]]
    verdicts: list[tuple[str, int]]
    has_evidence: bool

    @property
    def anchor(self) -> str:
        return f"model={self.endpoint}/{self.model}"

    @property
    def folded(self) -> bool:
        """Nothing to look at yet: no evidence, and no verdict beyond SKIPPED / NOT_RECORDED. A model
        whose cells met errors without keeping a recording (live BLOCKED, TRANSIENT…) stays in view."""
        return not self.has_evidence and all(verdict in NOT_RUN for verdict, _ in self.verdicts)


@dataclass
class EndpointView:
    id: str
    base_url: str | None
    blocks: list[ModelBlock]

    @property
    def shown(self) -> list[ModelBlock]:
        return [block for block in self.blocks if not block.folded]

    @property
    def folded(self) -> list[ModelBlock]:
        return [block for block in self.blocks if block.folded]

    @property
    def folded_verdicts(self) -> list[tuple[str, int]]:
        totals: Counter[str] = Counter()
        for block in self.folded:
            totals.update(dict(block.verdicts))
        return _ordered_counts(totals)


def render_html(document: dict[str, Any], changes: Changes | None = None) -> str:
    """reports/index.html for a results document (conformance.results.gather()); `changes`: what changed
    since the previous run (conformance.report.changes), shown under the summary."""
    script, style = static_text("report.js"), static_text("report.css")
    return (
        templates()
        .get_template("index.html.j2")
        .render(
            schema=document["schema"],
            run=document["run"],
            summary=document["summary"],
            honesty=honesty_sentence(document),
            unexpected=[cell_view(cell) for cell in document["cells"] if cell.get("as_expected") is False],
            evidence_warnings=[cell_view(cell) for cell in document["cells"] if _evidence_warnings(cell)],
            equivalence=document.get("equivalence"),
            agents=agent_views(document),
            summaries=endpoint_summaries(document),
            changes=changes,
            endpoints=endpoint_views(document),
            empty_endpoints=empty_endpoints(document),
            verdict_names=[verdict.value for verdict in Verdict],
            data=Markup(embed_json(page_document(document))),
            script=Markup(script),
            style=Markup(style),
            csp=content_security_policy(script, style),
        )
    )


@cache
def templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def static_text(name: str) -> str:
    return (HERE / "static" / name).read_text(encoding="utf-8")


def content_security_policy(script: str, style: str) -> str:
    """Nothing may load from anywhere; only the page's own script and style (by hash) may apply."""
    return (
        "default-src 'none'; "
        f"script-src '{_csp_hash(script)}'; style-src '{_csp_hash(style)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


def _csp_hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


PAGE_REQUEST_BODY_LIMIT = 16 * 1024  # characters: request bodies above it stay in results.json only


def page_document(document: dict[str, Any]) -> dict[str, Any]:
    """The results document as the page embeds it: every body but the large request bodies, which are
    listed with their size in `bodies_left_out` (the module's docstring says why)."""
    bodies = document.get("bodies") or {}
    requests = {
        exchange["request_body_ref"]
        for cell in document["cells"]
        for exchange in ((cell.get("observation") or {}).get("exchanges") or [])
        if exchange.get("request_body_ref")
    }
    left_out = {ref: body_size(bodies[ref]) for ref in requests if body_size(bodies.get(ref)) > PAGE_REQUEST_BODY_LIMIT}
    # the page reads text: a large answer kept compressed in results.json is embedded as its text
    kept = {ref: body_text(body) for ref, body in bodies.items() if ref not in left_out}
    if not left_out:
        return {**document, "bodies": kept}
    return {**document, "bodies": kept, "bodies_left_out": left_out}


def embed_json(value: Any) -> str:
    """The document as gzip + base64: a tenth of the size of the JSON (a full matrix with every body
    is many megabytes), and nothing in it can end its <script> element or open markup — base64 has
    no <, > or &. The page unpacks it with the browser's own DecompressionStream; mtime 0 keeps the
    same document rendering to the same bytes."""
    raw = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")


def honesty_sentence(document: dict[str, Any]) -> str:
    """Where the judged bytes came from, in one plain sentence (DESIGN.md: Evidence and honesty)."""
    summary = document["summary"]
    with_evidence = summary["cells_with_evidence"]
    without = summary.get("judged_without_bytes", 0)
    tail = f" {without} judged without any bytes (the client refused before sending)." if without else ""
    if not with_evidence:
        return "No cell has evidence: nothing in this run is backed by real Z.AI bytes." + tail
    kinds = Counter(
        (cell["evidence"]["kind"], bool(cell.get("real")))
        for cell in document["cells"]
        if (cell.get("evidence") or {}).get("used")
    )
    real_parts = [
        f"{label}: {kinds[(kind, True)]}"
        for kind, label in (("public", "public recordings"), ("live", "live recordings"))
        if kinds[(kind, True)]
    ]
    doubles = sum(count for (kind, _), count in kinds.items() if kind == "double")
    sentence = (
        f"{summary['real_cells']} of {with_evidence} cells with evidence ({summary['real_share']:.0%}) "
        "are backed by real Z.AI bytes"
    )
    if real_parts:
        sentence += f" ({', '.join(real_parts)})"
    sentence += f"; {doubles} by the project's double"
    not_zai = kinds[("live", False)]
    if not_zai:
        sentence += f"; {not_zai} by live recordings made against a base URL that is not Z.AI"
    return sentence + "." + tail.replace(" judged", " more judged", 1)


def cell_view(cell: dict[str, Any]) -> CellView:
    expected = cell.get("expected") or {}
    return CellView(
        id=cell["cell"],
        verdict=cell["verdict"],
        evidence=(cell.get("evidence") or {}).get("kind"),
        used=bool((cell.get("evidence") or {}).get("used")),
        real=bool(cell.get("real")),
        as_expected=cell.get("as_expected"),
        expected=expected.get("verdict"),
        reasons=tuple(cell.get("reasons") or ()),
        provenance=provenance_line(cell.get("evidence")),
        timing=_timing(cell),
        warnings=_evidence_warnings(cell),
    )


def _evidence_warnings(cell: dict[str, Any]) -> tuple[str, ...]:
    return tuple((cell.get("evidence") or {}).get("warnings") or ())


def _timing(cell: dict[str, Any]) -> str:
    limits = cell.get("limits") or {}
    if not limits:
        return ""
    took = cell.get("duration_ms")
    ran = f"ran {took:.0f} ms; " if isinstance(took, int | float) else ""
    return f"{ran}limits: idle {limits.get('idle_s', 0):g} s, connect {limits.get('connect_s', 0):g} s"


def provenance_line(evidence: dict[str, Any] | None) -> str:
    """Where a cell's bytes came from, in one line for the matrix tooltip (the drill-down has it all)."""
    if not evidence:
        return ""
    line = _provenance(evidence)
    if not evidence.get("used"):
        line += "; not used: the path consumed none of these bytes"
    return line


def _provenance(evidence: dict[str, Any]) -> str:
    provenance = evidence.get("provenance") or {}
    kind = evidence["kind"]
    if kind == "public":
        source = provenance.get("source") or {}
        commit = (source.get("commit") or "")[:12]
        where = " @ ".join(filter(None, [source.get("path"), commit]))
        return _join(
            f"public recording by {source.get('project', 'another project')}",
            where,
            source.get("date"),
            provenance.get("client") and f"client {provenance['client']}",
        )
    if kind == "live":
        not_zai = "NOT Z.AI" if provenance.get("target_is_zai") is False else None
        return _join(
            "recorded live by this harness",
            provenance.get("recorded"),
            provenance.get("endpoint_url") and f"against {provenance['endpoint_url']}",
            not_zai,
        )
    if kind == "double":
        return _join(
            "SYNTHETIC: produced by the project's Z.AI double, not real Z.AI bytes",
            provenance.get("recorded"),
        )
    return kind


def _join(*parts: str | None) -> str:
    return "; ".join(part for part in parts if part)


def endpoint_views(document: dict[str, Any]) -> list[EndpointView]:
    """Endpoints, models, paths and scenarios in the order they first appear among the cells."""
    cells = document["cells"]
    base_urls = document["run"].get("base_urls") or {}
    paths = _first_seen(cell["path"] for cell in cells)
    scenarios = _first_seen(cell["scenario"] for cell in cells)
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for cell in cells:
        grouped.setdefault(cell["endpoint"], {}).setdefault(cell["model"], []).append(cell)
    return [
        EndpointView(
            endpoint,
            base_urls.get(endpoint),
            [model_block(endpoint, model, in_model, paths, scenarios) for model, in_model in models.items()],
        )
        for endpoint, models in grouped.items()
    ]


def model_block(
    endpoint: str, model: str, cells: list[dict[str, Any]], paths: list[str], scenarios: list[str]
) -> ModelBlock:
    by_place = {(cell["scenario"], cell["path"]): cell_view(cell) for cell in cells}
    used_paths = [path for path in paths if any(place[1] == path for place in by_place)]
    used_scenarios = [scenario for scenario in scenarios if any(place[0] == scenario for place in by_place)]
    rows = [(scenario, [by_place.get((scenario, path)) for path in used_paths]) for scenario in used_scenarios]
    return ModelBlock(
        endpoint=endpoint,
        model=model,
        paths=used_paths,
        rows=rows,
        verdicts=_ordered_counts(Counter(cell["verdict"] for cell in cells)),
        has_evidence=any(cell.get("evidence") for cell in cells),
    )


def empty_endpoints(document: dict[str, Any]) -> list[tuple[str, str]]:
    """Endpoints the run knows (it has their base URL) but that got no cell: said, not omitted."""
    present = {cell["endpoint"] for cell in document["cells"]}
    base_urls = document["run"].get("base_urls") or {}
    return [(endpoint, url) for endpoint, url in base_urls.items() if endpoint not in present]


def _first_seen(values: Any) -> list[str]:
    return list(dict.fromkeys(values))


def _ordered_counts(counts: Counter[str]) -> list[tuple[str, int]]:
    """Non-zero counts in the verdict vocabulary's order (unknown verdicts last, never dropped)."""
    known = [verdict.value for verdict in Verdict]
    order = known + sorted(name for name in counts if name not in known)
    return [(name, counts[name]) for name in order if counts.get(name)]
