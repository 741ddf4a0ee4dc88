"""What Z.AI sent, as facts: the reference a client path's output is judged against."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from conformance.observation import ToolCall, Usage
from conformance.wire.pacing import Pacing


@dataclass
class WireStream:
    chunks: int = 0
    done: bool = False
    finish_chunk: int | None = None
    usage_chunk: int | None = None
    usage_chunk_choices: int | None = None
    finish_key_on_nonfinal: int = 0  # chunks before the finish chunk that carry a finish_reason key
    malformed: list[str] = field(default_factory=list)
    pacing: Pacing | None = None  # when each chunk arrives, modelled from its content (OpenAI protocol)


@dataclass
class WireAnswer:
    status: int
    text: str | None = None
    reasoning: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    top_level_keys: list[str] = field(default_factory=list)
    id: str | None = None
    model: str | None = None
    created: int | None = None
    stream: WireStream | None = None
    error_code: str | None = None
    error_message: str | None = None
    # the error came in a JSON envelope (a message a client can be asked to carry), not a page such as a
    # gateway's HTML 502, whose text no client is expected to repeat
    error_envelope: bool = False
    signatures: list[str] = field(default_factory=list)  # thinking-block signatures (Anthropic protocol)


def json_object(status: int, body: str) -> dict[str, Any] | WireAnswer:
    """A whole answer's body as the JSON object it should be — or the answer that says it is not one."""
    try:
        data = json.loads(body)
    except ValueError:
        return WireAnswer(status=status, error_message=f"response body is not JSON: {body[:200]!r}")
    if not isinstance(data, dict):
        return WireAnswer(status=status, error_message=f"response body is not a JSON object: {body[:200]!r}")
    return data
