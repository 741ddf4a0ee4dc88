"""Claude Code session logs (`*.jsonl`, one content block per line): the lines of one assistant
message are joined back into that message, and only message and block shapes are compared."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from conformance.fidelity.corpus.endpoints import base_url
from conformance.fidelity.corpus.exchange import RealExchange, RealResponse, new_exchange, reconstructed_request
from conformance.fidelity.corpus.source_notes import kind_from_source


def is_session_log(rows: list[dict[str, Any]]) -> bool:
    return bool(rows) and all(isinstance(row.get("message"), dict) for row in rows)


def load(corpus: Path, file: Path, rows: list[dict[str, Any]]) -> Iterator[RealExchange]:
    """Claude Code writes one line per content block; lines with one message id are one message."""
    messages: dict[str, dict[str, Any]] = {}
    for row in rows:
        message = row["message"]
        if message.get("role") != "assistant":
            continue
        key = str(message.get("id"))
        joined = messages.setdefault(key, {**message, "content": []})
        joined["content"] = joined["content"] + list(message.get("content") or [])
        joined["stop_reason"] = message.get("stop_reason") or joined.get("stop_reason")
        joined["usage"] = message.get("usage", joined.get("usage"))
    for key, message in messages.items():
        url = base_url("anthropic") + "/v1/messages"
        body = json.dumps(message, ensure_ascii=False)
        ignore = {
            "separators": "session log re-serialised by Claude Code: its JSON printing, not Z.AI's",
        }
        notes = [
            "Claude Code session log: message and content-block shapes only, compared with the double's "
            "non-streamed answer (the log holds the message Claude Code assembled, not the wire events); "
            "block types the double adds are not counted (a log excerpt may skip a block's line)",
        ]
        if message.get("stop_reason") is None:
            ignore["path:stop_reason"] = "logged before message_delta: the stop reason is not in the source"
        yield new_exchange(
            corpus,
            file,
            f"message {key}",
            url=url,
            request=reconstructed_request("anthropic", url, body, "json", stream=False),
            response=RealResponse(200, None, body, "message", status_inferred=True),
            trust=kind_from_source(file) or "session log re-serialised by its client",
            ignore=ignore,
            notes=notes,
        )
