"""The client-set matrix as one self-contained page (reports/matrix.html): which versions each set
holds, how its cells came out, and every verdict that changed between adjacent sets, attributed to
the client releases that differ between them. Plain HTML and inline CSS: no script, no network."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from conformance.report.html import static_text, templates


def render_matrix(document: dict[str, Any]) -> str:
    style = static_text("report.css")
    digest = base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode("ascii")
    csp = f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:"
    changed_cells = [
        cell for cell in document["cells"] if len({v for v in cell["verdicts"].values() if v is not None}) > 1
    ]
    return (
        templates()
        .get_template("matrix.html.j2")
        .render(
            sets=document["sets"],
            adjacent=document["adjacent"],
            changes=document["changes"],
            changed_cells=changed_cells,
            cells=len(document["cells"]),
            set_names=[entry["name"] for entry in document["sets"]],
            generated_at=document.get("generated_at", ""),
            style=style,
            csp=csp,
        )
    )
