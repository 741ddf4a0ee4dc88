"""Error lists (`*.jsonl` lines with `code`, `http`, `body`, `kind`): the entries marked REAL or
OFFICIAL become error exchanges. They have no request: the double is asked for the same error by its
own triggers (measure.py, fidelity.yaml `error_triggers`). Bodies here are pasted text, not wire bytes."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from conformance.fidelity.corpus.endpoints import base_url, route
from conformance.fidelity.corpus.exchange import RealExchange, RealResponse, new_exchange


def is_error_list(rows: list[dict[str, Any]]) -> bool:
    return bool(rows) and all({"code", "body", "kind"} <= set(row) for row in rows)


def load(corpus: Path, file: Path, rows: list[tuple[int, dict[str, Any]]]) -> Iterator[RealExchange]:
    """The REAL and OFFICIAL entries of the list, with their line numbers."""
    for number, row in rows:
        kind = str(row.get("kind") or "")
        if not kind.upper().startswith(("REAL", "OFFICIAL")):
            continue
        code = str(row["code"])
        text = str(row.get("body") or "")
        parsed = error_body(text)
        where = str(row.get("endpoint") or "")
        protocol_hint = "anthropic" if "anthropic" in where.lower() else "openai"
        endpoint = "anthropic" if protocol_hint == "anthropic" else "coding" if "/coding/" in where else "general"
        url = base_url(endpoint) + route(protocol_hint)
        notes = [f"endpoint {endpoint} read from the entry's endpoint text: {where!r}"]
        ignore = {"separators": "error bodies here are pasted or quoted text, not wire bytes"}
        if parsed is None:
            ignore["body"] = "the entry gives no parseable body: status only"
        if row.get("http") is None:
            ignore["status"] = "the entry records no HTTP status"
        yield new_exchange(
            corpus,
            file,
            f"line {number} ({code})",
            url=url,
            request=None,
            response=RealResponse(
                row.get("http"),
                None,
                json.dumps(parsed, ensure_ascii=False, separators=(",", ":")) if parsed is not None else text,
                "json" if parsed is not None else "text",
            ),
            trust=f"{kind} — {row.get('source', '')}",
            ignore=ignore,
            notes=notes,
            error_code=code,
        )


def error_body(text: str) -> Any:
    """The JSON body inside a pasted error text: strip a leading `400 - ` / `429 ` status, then JSON,
    or a Python repr of it, or the first JSON object in the text. None when there is none."""
    stripped = re.sub(r"^\d{3}(?:\s+[A-Za-z][A-Za-z ]*?)?\s*[-:]?\s*(?=[{\[])", "", text.strip())
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(stripped)
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, dict):
            return value
    start = stripped.find("{")
    while start != -1:
        try:
            value, _ = json.JSONDecoder().raw_decode(stripped[start:])
            if isinstance(value, dict):
                return value
        except ValueError:
            pass
        start = stripped.find("{", start + 1)
    return None
