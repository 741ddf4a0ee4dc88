"""Identifier formats as Z.AI mints them (all seen in real recordings)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

_UTC8 = timedelta(hours=8)


def request_id() -> str:
    """`YYYYMMDDhhmmss` in UTC+8, then 16 hex: the chat id, echoed as request_id (and X-LOG-ID)."""
    return (datetime.now(UTC) + _UTC8).strftime("%Y%m%d%H%M%S") + secrets.token_hex(8)


def message_id() -> str:
    """The Anthropic surface's message id: `msg_` + the same request id."""
    return "msg_" + request_id()


def call_ids_unstreamed(count: int) -> list[str]:
    """Non-streamed tool-call ids: `call_-<signed 64-bit int>`, consecutive for parallel calls."""
    base = -(secrets.randbits(62) + 2**62)
    return [f"call_{base + i}" for i in range(count)]


def call_id_streamed() -> str:
    """Streamed (and Anthropic tool_use) ids: `call_` + 24 hex."""
    return "call_" + secrets.token_hex(12)


def signature() -> str:
    """A thinking block's signature: 24 hex, not Anthropic's base64."""
    return secrets.token_hex(12)
