"""The wire features of one real OpenAI-style chat response: what Z.AI's envelope and stream looked
like, named so that the wire history (history.py) can say when each one came and went.

Pure: a response body in, `{feature: value}` out, read with the same grammar (grammar.py) the strict
comparison demands of the double. Stream features are prefixed `stream:`, non-streamed ones `json:`.
Error bodies and bodies without choices have no features (they say nothing of the chat wire).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from conformance.fidelity import grammar
from conformance.fidelity.compare import id_format
from conformance.wire.sse import read_events

Features = dict[str, str]


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _ids(calls: Sequence[dict[str, Any]]) -> str:
    formats = sorted({id_format(c["id"]) for c in calls if isinstance(c.get("id"), str)})
    return ", ".join(formats) or "(no tool calls)"


def _usage_keys(usage: Any) -> str:
    return ", ".join(sorted(grammar.key_paths(usage))) if isinstance(usage, dict) else "(no usage)"


def _uncounted(placement: str) -> str:
    """`tool_call×2 + last (finish)` → `tool_call + last (finish)`: how many calls is content."""
    return re.sub(r"×\d+", "", placement)


def stream_features(chunks: Sequence[dict[str, Any]]) -> Features:
    """The features of an OpenAI-style stream's chunks (see the module's docstring)."""
    if not chunks:
        return {}
    with_object = sum("object" in c for c in chunks)
    elements = grammar.grammar(chunks)
    blank_openers = [e.kind for e in elements if e.kind in grammar.BLANK_KINDS]
    blank_reasoning = [c for c in chunks if grammar.chunk_kind(c) == grammar.REASONING_BLANK]
    texts = [c for c in chunks if grammar.chunk_kind(c) == grammar.CONTENT]
    usage = next((c["usage"] for c in reversed(chunks) if isinstance(c.get("usage"), dict)), None)
    calls = [call for c in chunks for call in grammar.tool_calls(c)]
    return {
        "stream: object on chunks": "every chunk"
        if with_object == len(chunks)
        else "none"
        if not with_object
        else "some",
        "stream: chunk keys": ", ".join(sorted({k for c in chunks for k in c})),
        "stream: opening chunk": grammar.signature(chunks[0]),
        "stream: channels": " → ".join(grammar.channels(chunks)) or "(none)",
        "stream: blank chunks opening a channel": ", ".join(dict.fromkeys(blank_openers)) or "none",
        'stream: content "" beside blank reasoning': _yes(any("content" in _delta(c) for c in blank_reasoning))
        if blank_reasoning
        else "(no blank reasoning)",
        'stream: reasoning_content "" beside content': _yes(
            any(_delta(c).get("reasoning_content") == "" for c in texts)
        )
        if texts
        else "(no content)",
        "stream: finish_reason on": _uncounted(grammar.finish_placement(chunks)),
        "stream: usage on": _uncounted(grammar.usage_placement(chunks)),
        "stream: usage keys": _usage_keys(usage),
        "stream: tool-call id format": _ids(calls),
    }


def _delta(chunk: dict[str, Any]) -> dict[str, Any]:
    choices = chunk.get("choices") or [{}]
    delta = choices[0].get("delta") if isinstance(choices[0], dict) else None
    return delta if isinstance(delta, dict) else {}


def json_features(body: dict[str, Any]) -> Features:
    """The features of a non-streamed chat completion."""
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return {}
    message = choices[0].get("message") if isinstance(choices[0].get("message"), dict) else {}
    calls = [c for c in message.get("tool_calls") or [] if isinstance(c, dict)]
    return {
        "json: object": str(body.get("object", "(absent)")),
        "json: keys": ", ".join(sorted(body)),
        "json: message keys": ", ".join(sorted(message)),
        "json: usage keys": _usage_keys(body.get("usage")),
        "json: tool-call id format": _ids(calls),
    }


def response_features(body: str, fmt: str) -> Features:
    """The features of a response body (`fmt`: sse | json); {} when it is no OpenAI-style chat answer."""
    if fmt == "sse":
        chunks = [e.data for e in read_events(body) if isinstance(e.data, dict)]
        if not any("choices" in c for c in chunks):
            return {}
        return stream_features(chunks)
    if fmt == "json":
        try:
            document = json.loads(body)
        except ValueError:
            return {}
        return json_features(document) if isinstance(document, dict) else {}
    return {}


def created_day(body: str, fmt: str) -> str | None:
    """The UTC day of Z.AI's own `created` stamp in a response (first chunk of a stream): when Z.AI
    sent it, which a recording's commit date only bounds from above."""
    if fmt == "sse":
        stamps = [e.data.get("created") for e in read_events(body) if isinstance(e.data, dict)]
    elif fmt == "json":
        try:
            document = json.loads(body)
        except ValueError:
            return None
        stamps = [document.get("created")] if isinstance(document, dict) else []
    else:
        return None
    stamp = next((s for s in stamps if isinstance(s, int) and not isinstance(s, bool)), None)
    return datetime.fromtimestamp(stamp, UTC).date().isoformat() if stamp is not None else None
