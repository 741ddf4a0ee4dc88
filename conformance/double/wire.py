"""What the double's HTTP layer hands a surface, and what a surface hands back."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from conformance.double.faults import Transport
from conformance.double.refusals import refusal


@dataclass
class DoubleRequest:
    method: str
    endpoint: str  # catalogue endpoint id the path falls under
    route: str  # the path below the endpoint's base, e.g. /chat/completions or /v1/messages
    query: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def chat_body(self) -> dict[str, Any]:
        """The JSON object of a chat request, which must carry a `messages` list; else 400/1210."""
        try:
            body = json.loads(self.body or b"{}")
        except ValueError:
            raise refusal("1210") from None
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            raise refusal("1210")
        return body

    def bearer(self) -> str | None:
        value = self.headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes | None = None  # a whole answer
    events: list[bytes] | None = None  # a stream: each item one framed SSE event
    transport: Transport = field(default_factory=Transport)
