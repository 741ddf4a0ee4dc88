"""The run in Markdown, for where CI users look (`$GITHUB_STEP_SUMMARY`), and unexpected cells as
GitHub annotations.

Pure: a results document (and the previous run's, when there is one) in, text out. What it says, in
order: the counts and where the bytes came from; the unexpected verdicts; what changed since the previous
run; and the paths against the feature families, each entry the share of judged cells that work (PASS or DEVIATION).
"""

from __future__ import annotations

from typing import Any

from conformance.report.changes import changes_since
from conformance.report.summary import path_features

LIMIT = 50  # rows of a list before "and N more"


def render_summary_md(
    document: dict[str, Any], previous: dict[str, Any] | None = None, previous_name: str | None = None
) -> str:
    run, summary = document["run"], document["summary"]
    lines = [f"## zai-conformance: {run.get('mode', 'run')} {run.get('id', '')}", ""]
    verdicts = " · ".join(f"{verdict} {count}" for verdict, count in summary["verdicts"].items() if count)
    evidence = summary["evidence"]
    lines += [
        f"**{summary['cells']} cells**: {verdicts or 'none'}",
        "",
        f"Evidence: {evidence['live']} live, {evidence['public']} public (real Z.AI bytes), {evidence['double']} "
        f"double (synthetic), {evidence['none']} none; real bytes behind {summary['real_share']:.0%} of the cells "
        "with evidence.",
        "",
    ]
    lines += _unexpected(document["cells"])
    lines += _changes(document, previous, previous_name)
    lines += _features(document["cells"])
    return "\n".join(lines).rstrip() + "\n"


def _unexpected(cells: list[dict[str, Any]]) -> list[str]:
    unexpected = [cell for cell in cells if cell.get("as_expected") is False]
    if not unexpected:
        return ["### Unexpected verdicts: none", "", "Every judged cell matches its expectation.", ""]
    lines = [
        f"### Unexpected verdicts: {len(unexpected)}",
        "",
        "| cell | verdict | expected | why |",
        "| --- | --- | --- | --- |",
    ]
    for cell in unexpected[:LIMIT]:
        expected = (cell.get("expected") or {}).get("verdict", "PASS")
        lines.append(f"| `{cell['cell']}` | {cell['verdict']} | {expected} | {_cell_text(_first_reason(cell))} |")
    return [*lines, *_more(len(unexpected)), ""]


def _changes(document: dict[str, Any], previous: dict[str, Any] | None, name: str | None) -> list[str]:
    if previous is None:
        return ["### Changes since the previous run", "", "No previous run to compare with.", ""]
    changes = changes_since(previous, document, name or "previous")
    lines = [
        f"### Changes since the previous run ({changes.previous})",
        "",
        f"{changes.compared} cells compared, {changes.changed} changed, {changes.added} new, {changes.removed} gone.",
        "",
    ]
    for title, items in (
        ("Newly failing", changes.failing),
        ("Newly passing", changes.passing),
        ("Evidence changed", changes.evidence),
    ):
        if items:
            listed = [f"- `{item.cell}`: {item.old} → {item.new}" for item in items[:LIMIT]]
            lines += [f"**{title}** ({len(items)}):", "", *listed, *_more(len(items)), ""]
    return lines


def _features(cells: list[dict[str, Any]]) -> list[str]:
    """Path × feature over every endpoint and model (the report's summary, conformance.report.summary,
    gives it per endpoint): judged cells that work / judged cells, "≈" where some work with a difference."""
    shown, rows = path_features(cells)
    if not rows:
        return []
    lines = [
        "### Paths × features (judged cells that work — PASS or DEVIATION — / judged cells; ≈: some with a difference)",
        "",
        "| path | " + " | ".join(family.title for family in shown) + " |",
        "| --- |" + " --- |" * len(shown),
    ]
    for path, entries in rows:
        lines.append(f"| `{path}` | " + " | ".join(entry.text if entry else "—" for entry in entries) + " |")
    return [*lines, ""]


def annotations(document: dict[str, Any]) -> list[str]:
    """One GitHub Actions workflow command per unexpected cell (shown on the run's page and the PR)."""
    out = []
    for cell in document["cells"]:
        if cell.get("as_expected") is not False:
            continue
        expected = (cell.get("expected") or {}).get("verdict", "PASS")
        title = _property(f"zai-conformance {cell['cell']}")
        message = _data(f"{cell['verdict']}, expected {expected}: {_first_reason(cell)}")
        out.append(f"::error title={title}::{message}")
    return out


def _first_reason(cell: dict[str, Any]) -> str:
    return (cell.get("reasons") or [""])[0]


def _cell_text(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:300]


def _more(count: int) -> list[str]:
    return [f"- … and {count - LIMIT} more (the HTML report lists every one)"] if count > LIMIT else []


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
