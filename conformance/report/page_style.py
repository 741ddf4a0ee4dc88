"""The one stylesheet of the script-free pages (the diff page, the client-sets page) and the
Content-Security-Policy that pins it: report.css, so badges look as they do in the report, plus
pages.css for their tables and folds. The pages carry no script, so the policy allows none; the
style applies only by its hash, and nothing may load from anywhere."""

from __future__ import annotations

import base64
import hashlib

from conformance.report.html import static_text


def page_style() -> str:
    return static_text("report.css") + "\n" + static_text("pages.css")


def style_only_policy(style: str) -> str:
    digest = base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode("ascii")
    return f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; base-uri 'none'; form-action 'none'"
