"""The compatibility report as one self-contained HTML page (reports/index.html).

The page must open from a CI artifact or a laptop with no network, so the CSS, the JS and the data
are inlined, and a Content-Security-Policy pins the inline script and style by hash: nothing outside
the page may load, and markup smuggled in through recorded bytes could not run even if it escaped.

What reads without the script is rendered here: the header, the summary (paths × feature families)
with its path cards, the changes, the agents, the legend. The matrices and the drill-down are drawn by
report.js from two kinds of embedded data (conformance.report.packing): the compact index of every
cell (conformance.report.page_index), from which it draws the one matrix being viewed, and per
matrix the drill-down data (conformance.report.drilldown), unpacked when a cell of that matrix is
first opened. A full run of 12,000 cells renders to under 3 MB this way, where server-rendered
matrices and the embedded results document made 16.5 MB. Bodies over drilldown.PAGE_BODY_LIMIT are
left out of the page, each named with its size; results.json keeps everything.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from conformance.catalogue import Catalogue, load_catalogue
from conformance.report.agents import agent_views
from conformance.report.changes import Changes
from conformance.report.charts import charts_section
from conformance.report.drilldown import PAGE_BODY_LIMIT, drill_down
from conformance.report.packing import pack
from conformance.report.page_index import KINDS, page_index, verdict_names
from conformance.report.path_cards import path_cards
from conformance.report.summary import endpoint_summaries

HERE = Path(__file__).resolve().parent
LISTED = 200  # cells listed by name in the header's lists; the filters find the rest
EVIDENCE_CHOICES = (("", "any"), *((kind, kind) for kind in KINDS))


@dataclass(frozen=True)
class ListedCell:
    """A cell named in one of the page's lists (unexpected verdicts, evidence warnings)."""

    id: str
    verdict: str
    expected: str | None
    reason: str
    warnings: tuple[str, ...]


def render_html(document: dict[str, Any], changes: Changes | None = None) -> str:
    """reports/index.html for a results document (conformance.results.gather()); `changes`: what changed
    since the previous run (conformance.report.changes), shown under the summary."""
    script, style = static_text("report.js"), static_text("report.css")
    index = page_index(document)
    drill = drill_down(document, index)
    summaries = endpoint_summaries(document)
    return (
        templates()
        .get_template("index.html.j2")
        .render(
            schema=document["schema"],
            run=document["run"],
            summary=document["summary"],
            honesty=honesty_sentence(document),
            unused_evidence=sum(1 for cell in document["cells"] if _unused(cell)),
            unexpected=[listed(cell) for cell in document["cells"] if cell.get("as_expected") is False],
            evidence_warnings=[listed(cell) for cell in document["cells"] if _evidence_warnings(cell)],
            listed_limit=LISTED,
            equivalence=document.get("equivalence"),
            agents=agent_views(document),
            summaries=[(table, path_cards(table)) for table in summaries],
            charts=charts_section(document, packaged_catalogue()),
            changes=changes,
            empty_endpoints=empty_endpoints(document),
            endpoints=index.endpoints,
            paths=index.paths,
            families=index.families,
            verdict_names=verdict_names(document["cells"]),
            evidence_choices=EVIDENCE_CHOICES,
            view_link=view_link,
            body_limit=PAGE_BODY_LIMIT,
            left_out=drill.left_out,
            index=Markup(pack(index.as_json())),
            shared=Markup(pack(drill.shared)),
            drill=[Markup(pack(block.payload)) for block in drill.blocks],
            script=Markup(script),
            style=Markup(style),
            csp=content_security_policy(script, style),
        )
    )


@cache
def packaged_catalogue() -> Catalogue:
    """Which scenarios steer reasoning (the charts' heat map): the packaged catalogue, read once per process."""
    return load_catalogue()


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


def view_link(**view: str | None) -> str:
    """A link to a view of the matrices (report.js reads the same `#view=` form back from the URL):
    `endpoint`, `model`, `path`, `feature`, `verdict`, `evidence`, `unexpected`, `q`."""
    return "#view=" + urlencode({key: value for key, value in view.items() if value})


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


def listed(cell: dict[str, Any]) -> ListedCell:
    reasons = cell.get("reasons") or ()
    return ListedCell(
        id=cell["cell"],
        verdict=cell["verdict"],
        expected=(cell.get("expected") or {}).get("verdict"),
        reason=str(reasons[0]) if reasons else "",
        warnings=_evidence_warnings(cell),
    )


def _unused(cell: dict[str, Any]) -> bool:
    """The cell has a cassette, but its path consumed none of its bytes (the header counts it as none)."""
    evidence = cell.get("evidence")
    return bool(evidence) and not evidence.get("used")


def _evidence_warnings(cell: dict[str, Any]) -> tuple[str, ...]:
    return tuple((cell.get("evidence") or {}).get("warnings") or ())


def empty_endpoints(document: dict[str, Any]) -> list[tuple[str, str]]:
    """Endpoints the run knows (it has their base URL) but that got no cell: said, not omitted."""
    present = {cell["endpoint"] for cell in document["cells"]}
    base_urls = document["run"].get("base_urls") or {}
    return [(endpoint, url) for endpoint, url in base_urls.items() if endpoint not in present]
