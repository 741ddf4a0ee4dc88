"""The client-set matrix as one self-contained page (reports/matrix.html): which versions each set
holds, how its cells came out, every verdict that changed between adjacent sets, attributed to the
client releases that differ between them, and every cell's verdict per set side by side (identical
rows folded, conformance.report.sets_view). Plain HTML and one hashed <style>: no script, no network."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from conformance.report.html import templates
from conformance.report.page_style import page_style, style_only_policy
from conformance.report.sets_view import set_blocks


def render_matrix(document: dict[str, Any]) -> str:
    style = page_style()
    blocks = set_blocks(document)
    return (
        templates()
        .get_template("matrix.html.j2")
        .render(
            sets=document["sets"],
            adjacent=document["adjacent"],
            changes=document["changes"],
            blocks=blocks,
            differing=sum(len(block.differing) for block in blocks),
            cells=len(document["cells"]),
            set_names=[entry["name"] for entry in document["sets"]],
            generated_at=document.get("generated_at", ""),
            style=Markup(style),
            csp=style_only_policy(style),
        )
    )
