"""OpenAI Responses answers (`POST {base}/responses`, JSON and SSE) read into a WireAnswer.

Z.AI serves the Responses API at `https://api.z.ai/api/v1` (ZAI-FACTS §9.4), and no real recording of it
is known: this reader follows OpenAI's Responses schema, the one the double's synthetic answers follow.
A response's output items become text (message `output_text` parts), reasoning (a reasoning item's
summary, or its `reasoning_text` content when it has no summary) and tool calls (`function_call` items,
identified by `call_id`, the id a client answers with). Its status becomes the chat-completions finish
reason the checks compare: `completed` → `tool_calls` when it called a function, else `stop`;
`incomplete` → `length` for max_output_tokens, else its reason as sent; a `failed` response has no
finish reason and its `error` as the answer's error. Usage is put in chat terms: prompt = input_tokens
(which include cache reads in this schema), completion = output_tokens.

For streams the whole response arrives in the terminal event (`response.completed`, `.incomplete` or
`.failed`) and is read from there; the deltas are assembled only when the stream never got that far.
Stream facts: events counted, `done` when `response.completed` (or another terminal event) arrived, the
event that carried the finish and usage.
"""

from __future__ import annotations

from typing import Any

from conformance.observation import ToolCall, Usage
from conformance.wire.answer import WireAnswer, WireStream, json_object
from conformance.wire.openai import error_answer
from conformance.wire.sse import read_events

TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})
INCOMPLETE_FINISH = {"max_output_tokens": "length"}


def read(status: int, body: str, streamed: bool) -> WireAnswer:
    if status >= 400:
        return error_answer(status, body)
    if streamed:
        return _stream(status, body)
    response = json_object(status, body)
    if isinstance(response, WireAnswer):
        return response
    if isinstance(response.get("error"), dict) and "output" not in response:  # an error envelope sent with 200
        return error_answer(status, body)
    answer = WireAnswer(status=status)
    _response(answer, response)
    return answer


def _response(answer: WireAnswer, response: dict[str, Any]) -> None:
    """Everything a whole response object says (a JSON body, or a stream's terminal event)."""
    answer.top_level_keys = sorted(response)
    answer.id, answer.model = response.get("id"), response.get("model")
    created = response.get("created_at")
    answer.created = int(created) if isinstance(created, int | float) else None
    _items(answer, [item for item in response.get("output") or [] if isinstance(item, dict)])
    answer.finish_reason = _finish(response, bool(answer.tool_calls))
    answer.usage = Usage.from_responses(response.get("usage"))
    error = response.get("error")
    if response.get("status") == "failed" and isinstance(error, dict):
        code = error.get("code")
        answer.error_code = str(code) if code is not None else None
        answer.error_message = error.get("message")


def _items(answer: WireAnswer, items: list[dict[str, Any]]) -> None:
    text, reasoning = [], []
    calls: list[ToolCall] = []
    for item in items:
        kind = item.get("type")
        if kind == "message":
            text += [str(p.get("text") or "") for p in _dicts(item.get("content")) if p.get("type") == "output_text"]
        elif kind == "reasoning":
            parts = _dicts(item.get("summary")) or _dicts(item.get("content"))
            reasoning += [str(p.get("text") or "") for p in parts]
        elif kind == "function_call":
            calls.append(ToolCall.parse(item.get("call_id") or item.get("id"), item.get("name"), item.get("arguments")))
    answer.text = "".join(text) if text else None
    answer.reasoning = "".join(reasoning) if reasoning else None
    answer.tool_calls = calls


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _finish(response: dict[str, Any], called: bool) -> str | None:
    status = response.get("status")
    if status == "completed":
        return "tool_calls" if called else "stop"
    if status == "incomplete":
        reason = (response.get("incomplete_details") or {}).get("reason")
        return INCOMPLETE_FINISH.get(reason, reason) if reason else "length"
    return None


def _stream(status: int, body: str) -> WireAnswer:
    answer = WireAnswer(status=status)
    facts = WireStream()
    answer.stream = facts
    items: dict[int, dict[str, Any]] = {}
    final: dict[str, Any] | None = None
    for index, sse in enumerate(e for e in read_events(body) if e.lines):
        facts.chunks += 1
        event = sse.data if isinstance(sse.data, dict) else None
        kind = event.get("type") if event is not None else None
        if event is None or kind is None:
            facts.malformed.append(sse.raw.strip()[:120])
            continue
        if kind in ("response.created", "response.in_progress") and answer.id is None:
            start = event.get("response") or {}
            answer.id, answer.model = start.get("id"), start.get("model")
        elif kind in TERMINAL and isinstance(event.get("response"), dict):
            final = event["response"]
            facts.done = True
            facts.finish_chunk = facts.usage_chunk = index
        elif kind == "error":  # a mid-stream error event: {type: "error", code, message}
            code = event.get("code") or (event.get("error") or {}).get("code")
            answer.error_code = str(code) if code is not None else None
            answer.error_message = event.get("message") or (event.get("error") or {}).get("message")
            answer.error_envelope = True
        else:
            _delta(items, kind, event)
    if final is not None:
        _response(answer, final)
    else:  # cut short: what the deltas built, without a finish or usage
        _items(answer, [item for _, item in sorted(items.items())])
    return answer


def _delta(items: dict[int, dict[str, Any]], kind: str, event: dict[str, Any]) -> None:
    """Build the output items from their events, for a stream that never reaches its terminal event."""
    index = event.get("output_index", 0)
    if kind in ("response.output_item.added", "response.output_item.done"):
        items[index] = dict(event.get("item") or {})
        return
    item = items.setdefault(index, {})
    if kind == "response.output_text.delta":
        content = item.setdefault("content", [])
        if not content:
            content.append({"type": "output_text", "text": ""})
        content[-1]["text"] = content[-1].get("text", "") + str(event.get("delta") or "")
    elif kind == "response.reasoning_summary_text.delta":
        summary = item.setdefault("summary", [])
        if not summary:
            summary.append({"type": "summary_text", "text": ""})
        summary[-1]["text"] = summary[-1].get("text", "") + str(event.get("delta") or "")
    elif kind == "response.function_call_arguments.delta":
        item["arguments"] = str(item.get("arguments") or "") + str(event.get("delta") or "")
