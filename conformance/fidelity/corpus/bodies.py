"""What a captured body and its headers say on their own: JSON, SSE or text; which protocol; success
or error; which headers may be replayed."""

from __future__ import annotations

import json

from conformance.wire.sse import read_events

CREDENTIAL_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "cookie", "proxy-authorization"})
# Headers that describe one connection, not the request: never replayed.
HOP_HEADERS = frozenset({"host", "content-length", "connection", "transfer-encoding", "accept-encoding", "keep-alive"})


def clean_headers(headers: dict[str, str]) -> tuple[dict[str, str], str]:
    """Drop credentials and per-connection headers; say how the key travelled."""
    lower = {k.lower(): v for k, v in headers.items()}
    if "x-api-key" in lower:
        auth = "x-api-key"
    elif lower.get("authorization", "").lower().startswith("bearer"):
        auth = "bearer"
    else:
        auth = "none"
    kept = {k: v for k, v in lower.items() if k not in CREDENTIAL_HEADERS and k not in HOP_HEADERS}
    return kept, auth


def body_format(text: str) -> str:
    """sse | json | text (neither)."""
    stripped = text.lstrip()
    if stripped.startswith(("data:", "event:", ":")):
        return "sse"
    try:
        json.loads(text)
    except ValueError:
        return "text"
    return "json"


def protocol_of(text: str, fmt: str) -> str | None:
    """openai | anthropic, from the payloads; None when the body is not a chat response."""
    payloads = [e.data for e in read_events(text)] if fmt == "sse" else [json.loads(text)]
    for payload in payloads:
        if isinstance(payload, dict):
            if "choices" in payload or str(payload.get("object") or "").startswith("chat.completion"):
                return "openai"
            if payload.get("type") in ("message", "message_start") or "content_block" in payload:
                return "anthropic"
    if fmt == "sse" and any(e.name in ("message_start", "message_stop") for e in read_events(text)):
        return "anthropic"
    return None


def success(text: str, fmt: str) -> bool:
    """A success body (every stream counts as one): its status, when not recorded, is 200."""
    if fmt == "sse":
        return True
    payload = json.loads(text)
    return isinstance(payload, dict) and "error" not in payload and payload.get("type") != "error"
