"""How the page carries data: JSON, gzip, base64, inside a <script type="application/octet-stream">.

base64 has no <, > or &, so nothing in the data can end its <script> element or open markup, and
gzip makes it a fraction of the JSON. The page unpacks it with the browser's own DecompressionStream
(report.js `unpack`); mtime 0 keeps the same value rendering to the same bytes.
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any


def pack(value: Any) -> str:
    """`value` as gzip + base64 of its compact JSON."""
    raw = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")


def unpack(text: str) -> Any:
    """The inverse of `pack`, for tests and tools that read a rendered page."""
    return json.loads(gzip.decompress(base64.b64decode(text)))
