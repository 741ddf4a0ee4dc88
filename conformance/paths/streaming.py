"""Assemble OpenAI-style stream chunks as a client delivered them into one Turn.

Both the OpenAI SDK and LiteLLM hand out chunk objects with `choices[].delta` and `usage`; this reads
them by attribute, exactly as a user's loop would, and notes where each kind of delta arrived.
"""

from __future__ import annotations

import time
from typing import Any

from conformance.observation import StreamFacts, ToolCall, Turn, Usage, field_of


class StreamAssembler:
    def __init__(self, index: int) -> None:
        self.index = index
        self.started = time.perf_counter()
        self.facts = StreamFacts()
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.chunks: list[Any] = []

    def add(self, chunk: Any) -> None:
        position = self.facts.chunks
        self.facts.chunks += 1
        self.chunks.append(chunk)
        usage = field_of(chunk, "usage")
        choices = field_of(chunk, "choices") or []
        if usage is not None:
            self.facts.usage_chunks += 1
            self.facts.usage_chunk = position
            self.facts.usage_chunk_choices = len(choices)
            self.usage = Usage.from_mapping(usage)
            self.facts.saw("usage")
        for choice in choices:
            delta = field_of(choice, "delta")
            if delta is not None:
                self._delta(delta)
            finish = field_of(choice, "finish_reason")
            if finish is not None and self.facts.finish_chunk is None:
                self.facts.finish_chunk = position
                self.finish_reason = finish
                self.facts.saw("finish")

    def _delta(self, delta: Any) -> None:
        content = field_of(delta, "content")
        reasoning = field_of(delta, "reasoning_content")
        tool_calls = field_of(delta, "tool_calls") or []
        if content:
            self.text.append(content)
            self.facts.content_deltas += 1
            self._first_token()
            self.facts.saw("content")
        if reasoning:
            self.reasoning.append(reasoning)
            self.facts.reasoning_deltas += 1
            self._first_token()
            self.facts.saw("reasoning")
        for call in tool_calls:
            self.facts.tool_call_deltas += 1
            self._first_token()
            self.facts.saw("tool_call")
            index = field_of(call, "index")
            slot = self.calls.setdefault(
                index if index is not None else len(self.calls), {"id": None, "name": None, "arguments": ""}
            )
            function = field_of(call, "function")
            slot["id"] = slot["id"] or field_of(call, "id")
            if function is not None:
                slot["name"] = slot["name"] or field_of(function, "name")
                slot["arguments"] += field_of(function, "arguments") or ""

    def _first_token(self) -> None:
        if self.facts.ttft_ms is None:
            self.facts.ttft_ms = round((time.perf_counter() - self.started) * 1000, 2)

    def turn(self) -> Turn:
        self.facts.total_ms = round((time.perf_counter() - self.started) * 1000, 2)
        return Turn(
            index=self.index,
            text="".join(self.text) if self.text else None,
            reasoning="".join(self.reasoning) if self.reasoning else None,
            reasoning_field="delta.reasoning_content" if self.reasoning else None,
            tool_calls=[ToolCall.parse(c["id"], c["name"], c["arguments"]) for _, c in sorted(self.calls.items())],
            finish_reason=self.finish_reason,
            usage=self.usage,
            stream=self.facts,
        )

    def history_message(self) -> dict[str, Any]:
        """The assistant message a user assembling the stream by hand appends to the history."""
        message: dict[str, Any] = {"role": "assistant", "content": "".join(self.text) or None}
        if self.calls:
            message["tool_calls"] = [
                {
                    "id": c["id"],
                    "type": "function",
                    "function": {"name": c["name"], "arguments": c["arguments"]},
                }
                for _, c in sorted(self.calls.items())
            ]
        return message


def message_turn(index: int, message: Any, finish_reason: Any, usage: Any) -> Turn:
    """A Turn from a non-streamed assistant message object (OpenAI SDK or LiteLLM)."""
    reasoning = field_of(message, "reasoning_content")
    calls = field_of(message, "tool_calls") or []
    return Turn(
        index=index,
        text=field_of(message, "content"),
        reasoning=reasoning,
        reasoning_field="message.reasoning_content" if reasoning else None,
        tool_calls=[
            ToolCall.parse(
                field_of(c, "id"),
                field_of(field_of(c, "function"), "name"),
                field_of(field_of(c, "function"), "arguments"),
            )
            for c in calls
        ],
        finish_reason=finish_reason,
        usage=Usage.from_mapping(usage),
    )
