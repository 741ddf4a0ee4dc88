"""Z.AI's Anthropic Messages answers (`/api/anthropic/v1/messages`, JSON and SSE) read into a WireAnswer.

Text, thinking and tool_use blocks become text, reasoning and tool calls (a tool_use `input` as its
JSON); `stop_reason` stays as sent (checks map it); usage is put in OpenAI terms (prompt = input +
cache reads) so that paths exposing either protocol are compared with the same numbers. For streams
the SSE facts are kept: event count, where the stop reason and usage arrived, `message_stop` last.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.observation import ToolCall, Usage
from conformance.wire.answer import WireAnswer, WireStream, json_object
from conformance.wire.openai import error_answer
from conformance.wire.sse import read_events


def read(status: int, body: str, streamed: bool) -> WireAnswer:
    if status >= 400:
        return error_answer(status, body)
    if streamed:
        return _stream(status, body)
    message = json_object(status, body)
    if isinstance(message, WireAnswer):
        return message
    answer = WireAnswer(status=status, top_level_keys=sorted(message), id=message.get("id"), model=message.get("model"))
    _blocks(answer, message.get("content") or [])
    answer.finish_reason = message.get("stop_reason")
    answer.usage = Usage.from_anthropic(message.get("usage"))
    return answer


def _blocks(answer: WireAnswer, blocks: list[Any]) -> None:
    text, thinking = [], []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            text.append(block.get("text") or "")
        elif kind == "thinking":
            thinking.append(block.get("thinking") or "")
            if block.get("signature"):
                answer.signatures.append(block["signature"])
        elif kind == "tool_use":
            arguments = json.dumps(block.get("input"), ensure_ascii=False)
            answer.tool_calls.append(ToolCall.parse(block.get("id"), block.get("name"), arguments))
    answer.text = "".join(text) if text else None
    answer.reasoning = "".join(thinking) if thinking else None


def _stream(status: int, body: str) -> WireAnswer:
    answer = WireAnswer(status=status)
    facts = WireStream()
    answer.stream = facts
    blocks: dict[int, dict[str, Any]] = {}
    for index, sse in enumerate(e for e in read_events(body) if e.lines):
        facts.chunks += 1
        event = sse.data if isinstance(sse.data, dict) else {}
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message") or {}
            answer.id, answer.model = message.get("id"), message.get("model")
            answer.top_level_keys = sorted(message)
        elif kind == "content_block_start":
            blocks[event.get("index", len(blocks))] = dict(event.get("content_block") or {}, _json="")
        elif kind == "content_block_delta":
            _delta(blocks.setdefault(event.get("index", 0), {}), event.get("delta") or {})
        elif kind == "message_delta":
            answer.finish_reason = (event.get("delta") or {}).get("stop_reason")
            facts.finish_chunk = facts.usage_chunk = index
            answer.usage = Usage.from_anthropic(event.get("usage"))
        elif kind == "message_stop":
            facts.done = True
        elif kind == "error":
            error = event.get("error") or {}
            answer.error_code, answer.error_message = error.get("code"), error.get("message")
            answer.error_envelope = True
        elif kind is None:
            facts.malformed.append("" if isinstance(sse.data, dict) else sse.raw[:120])  # a payload without a type: ""
    _blocks(answer, [_finished(block) for _, block in sorted(blocks.items())])
    return answer


def _delta(block: dict[str, Any], delta: dict[str, Any]) -> None:
    kind = delta.get("type")
    if kind == "text_delta":
        block["text"] = block.get("text", "") + (delta.get("text") or "")
    elif kind == "thinking_delta":
        block["thinking"] = block.get("thinking", "") + (delta.get("thinking") or "")
    elif kind == "signature_delta":
        block["signature"] = block.get("signature", "") + (delta.get("signature") or "")
    elif kind == "input_json_delta":
        block["_json"] = block.get("_json", "") + (delta.get("partial_json") or "")


def _finished(block: dict[str, Any]) -> dict[str, Any]:
    """A streamed tool_use block's input is the concatenation of its input_json deltas."""
    if block.get("type") == "tool_use" and block.get("_json"):
        try:
            block = {**block, "input": json.loads(block["_json"])}
        except ValueError:
            block = {**block, "input": block["_json"]}
    return block
