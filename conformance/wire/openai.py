"""Z.AI's OpenAI-protocol answers (chat completions, JSON and SSE) read into a WireAnswer.

For streams it also records the SSE facts the contract is about: where finish_reason and usage
arrived, whether `[DONE]` closed the stream, whether non-final chunks carry a finish_reason key.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.observation import ToolCall, Usage
from conformance.wire.answer import WireAnswer, WireStream, json_object
from conformance.wire.pacing import pace_chunks
from conformance.wire.sse import read_events


def error_answer(status: int, body: str) -> WireAnswer:
    answer = WireAnswer(status=status)
    try:
        data = json.loads(body)
    except ValueError:
        answer.error_message = body[:2000]
        return answer
    error = data.get("error", data) if isinstance(data, dict) else {}
    if isinstance(error, dict):  # {"error": {code, message}}, and Anthropic's {"type": "error", "error": {…}}
        answer.error_envelope = True
        code = error.get("code")
        answer.error_code = str(code) if code is not None else None
        answer.error_message = error.get("message")
    return answer


def read_json(status: int, body: str) -> WireAnswer:
    data = json_object(status, body)
    if isinstance(data, WireAnswer):
        return data
    answer = WireAnswer(status=status)
    answer.top_level_keys = sorted(data)
    _identity(answer, data)
    choice = (data.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    answer.text = message.get("content")
    answer.reasoning = message.get("reasoning_content")
    answer.finish_reason = choice.get("finish_reason")
    answer.tool_calls = [
        ToolCall.parse(
            call.get("id"),
            (call.get("function") or {}).get("name"),
            (call.get("function") or {}).get("arguments"),
        )
        for call in message.get("tool_calls") or []
    ]
    answer.usage = Usage.from_mapping(data.get("usage"))
    return answer


def _identity(answer: WireAnswer, data: dict[str, Any]) -> None:
    answer.id = data.get("id")
    answer.model = data.get("model")
    answer.created = data.get("created")


def read_stream(status: int, body: str) -> WireAnswer:
    answer = WireAnswer(status=status)
    facts = WireStream()
    answer.stream = facts
    text: list[str] = []
    reasoning: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    chunks: list[Any] = []
    for event in read_events(body):
        if not event.lines:
            continue  # an `event:` line without data carries no chunk
        if event.done:
            facts.done = True
            continue
        chunk = event.data
        if not isinstance(chunk, dict):
            facts.malformed.append(event.raw.strip()[:120])
            continue
        chunks.append(chunk)
        index = facts.chunks
        facts.chunks += 1
        if index == 0:
            answer.top_level_keys = sorted(chunk)
            _identity(answer, chunk)
        if isinstance(chunk.get("error"), dict):
            code = chunk["error"].get("code")
            answer.error_code = str(code) if code is not None else None
            answer.error_message = chunk["error"].get("message")
            answer.error_envelope = True
        choices = chunk.get("choices") or []
        if chunk.get("usage") is not None:
            facts.usage_chunk = index
            facts.usage_chunk_choices = len(choices)
            answer.usage = Usage.from_mapping(chunk["usage"])
        for choice in choices:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                text.append(delta["content"])
            if delta.get("reasoning_content"):
                reasoning.append(delta["reasoning_content"])
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(call.get("index", len(calls)), {"id": None, "name": None, "arguments": ""})
                function = call.get("function") or {}
                slot["id"] = slot["id"] or call.get("id")
                slot["name"] = slot["name"] or function.get("name")
                slot["arguments"] += function.get("arguments") or ""
            if "finish_reason" in choice:
                if choice["finish_reason"] is not None and facts.finish_chunk is None:
                    facts.finish_chunk = index
                    answer.finish_reason = choice["finish_reason"]
                elif facts.finish_chunk is None:
                    facts.finish_key_on_nonfinal += 1
    answer.text = "".join(text) if text else None
    answer.reasoning = "".join(reasoning) if reasoning else None
    answer.tool_calls = [ToolCall.parse(c["id"], c["name"], c["arguments"]) for _, c in sorted(calls.items())]
    if answer.tool_calls:  # the figures a streamed call is judged on (checks/response.py)
        facts.pacing = pace_chunks(chunks)
    return answer
