"""The Anthropic Python SDK pointed at Z.AI's Anthropic-compatible endpoint (`base_url`), as Z.AI's
Claude setup shows: `anthropic.Anthropic(api_key=…, base_url="https://api.z.ai/api/anthropic")`.

The scenario arrives as an Anthropic Messages body. Parameters `messages.create()` declares are passed
as keywords; the rest (in SDK 2.12 that includes `temperature` and `top_p`) go in `extra_body`, the
SDK's documented way. Retries are off, for the same reasons as the OpenAI SDK path.

Streams are read as the raw event stream `create(stream=True)` hands out — the events a user's loop
sees (the SDK swallows `ping`) — and assembled per content block index: text, thinking, signature and
a tool's input JSON, as Anthropic's streaming guide describes.
"""

from __future__ import annotations

import json
import time
from functools import cache
from typing import Any

import anthropic
import httpx2

from conformance.observation import Envelope, StreamFacts, ToolCall, Turn, Usage, field_of, plain
from conformance.paths.base import ClientPath, models_turn, sdk_arguments


@cache
def _ssl_context() -> Any:
    """One TLS context per process, as for the OpenAI SDK: building one costs more than a replayed cell.
    (SDK 2.x speaks httpx2, not httpx.)"""
    return httpx2.create_ssl_context()


def render(body: dict[str, Any]) -> dict[str, Any]:
    """Anthropic Messages body → keyword arguments of `client.messages.create`."""
    from anthropic.resources.messages import Messages

    return sdk_arguments(Messages.create, body)


def _arguments(value: Any) -> str:
    """A tool_use `input` as the JSON text checks parse (a string input is kept as it came)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def blocks_turn(blocks: list[Any]) -> tuple[str | None, str | None, list[ToolCall], list[str]]:
    """Text, reasoning, tool calls and thinking signatures of a list of content blocks (objects or dicts)."""
    text, thinking, calls, signatures = [], [], [], []
    for block in blocks:
        kind = field_of(block, "type")
        if kind == "text":
            text.append(field_of(block, "text") or "")
        elif kind == "thinking":
            thinking.append(field_of(block, "thinking") or "")
            if field_of(block, "signature"):
                signatures.append(field_of(block, "signature"))
        elif kind == "tool_use":
            calls.append(
                ToolCall.parse(field_of(block, "id"), field_of(block, "name"), _arguments(field_of(block, "input")))
            )
    return ("".join(text) if text else None, "".join(thinking) if thinking else None, calls, signatures)


class AnthropicStreamAssembler:
    """The raw event stream of `messages.create(stream=True)`, as a user's loop reads it, into one Turn.

    Facts are kept in the vocabulary of StreamFacts: `chunks` are events, deltas are counted by kind
    (text_delta → content, thinking_delta → reasoning, input_json_delta → tool_call), and the event
    that carried the stop reason and the final usage (message_delta) is the finish and usage chunk.
    Usage is merged as the SDK's own accumulator does: message_start's, overwritten by every field
    message_delta sends (Z.AI sends zeros first and the real numbers only at the end)."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.started = time.perf_counter()
        self.facts = StreamFacts()
        self.blocks: dict[int, dict[str, Any]] = {}
        self.events: list[str] = []  # run-length order of event types
        self.usage: dict[str, Any] = {}
        self.stop_reason: str | None = None
        self.stop_sequence: str | None = None
        self.message: dict[str, Any] = {}

    def add(self, event: Any) -> None:
        position = self.facts.chunks
        self.facts.chunks += 1
        kind = field_of(event, "type")
        if not self.events or self.events[-1] != kind:
            self.events.append(str(kind))
        if kind == "message_start":
            message = field_of(event, "message")
            self.message = {"id": field_of(message, "id"), "model": field_of(message, "model")}
            self._usage(field_of(message, "usage"))
        elif kind == "content_block_start":
            block = plain(field_of(event, "content_block")) or {}
            self.blocks[field_of(event, "index")] = {**block, "_json": ""}
            if block.get("type") == "tool_use":
                self._saw("tool_call")
        elif kind == "content_block_delta":
            self._delta(self.blocks.setdefault(field_of(event, "index"), {"_json": ""}), field_of(event, "delta"))
        elif kind == "message_delta":
            delta = field_of(event, "delta")
            if field_of(delta, "stop_reason") is not None and self.facts.finish_chunk is None:
                self.facts.finish_chunk = position
                self.stop_reason = field_of(delta, "stop_reason")
                self.stop_sequence = field_of(delta, "stop_sequence")
                self.facts.saw("finish")
            if field_of(event, "usage") is not None:
                self.facts.usage_chunk = position
                self._usage(field_of(event, "usage"))
                self.facts.saw("usage")

    def _usage(self, usage: Any) -> None:
        for name, value in (plain(usage) or {}).items():
            if value is not None:
                self.usage[name] = value

    def _delta(self, block: dict[str, Any], delta: Any) -> None:
        kind = field_of(delta, "type")
        if kind == "text_delta":
            block["text"] = block.get("text", "") + (field_of(delta, "text") or "")
            self.facts.content_deltas += 1
            self._saw("content")
        elif kind == "thinking_delta":
            block["thinking"] = block.get("thinking", "") + (field_of(delta, "thinking") or "")
            self.facts.reasoning_deltas += 1
            self._saw("reasoning")
        elif kind == "signature_delta":
            block["signature"] = block.get("signature", "") + (field_of(delta, "signature") or "")
            self.facts.saw("signature")
        elif kind == "input_json_delta":
            block["_json"] += field_of(delta, "partial_json") or ""
            self.facts.tool_call_deltas += 1
            self._saw("tool_call")

    def _saw(self, kind: str) -> None:
        if self.facts.ttft_ms is None:
            self.facts.ttft_ms = round((time.perf_counter() - self.started) * 1000, 2)
        self.facts.saw(kind)

    def content(self) -> list[dict[str, Any]]:
        """The content blocks, as a user assembling the stream by hand builds them (a tool's input is
        its input_json deltas parsed; an empty input stays the `{}` of content_block_start)."""
        blocks = []
        for _, block in sorted(self.blocks.items()):
            partial = block.pop("_json", "")
            if block.get("type") == "tool_use" and partial:
                try:
                    block["input"] = json.loads(partial)
                except ValueError:
                    block["input"] = partial
            blocks.append(block)
        return blocks

    def turn(self, content: list[dict[str, Any]]) -> Turn:
        self.facts.total_ms = round((time.perf_counter() - self.started) * 1000, 2)
        text, reasoning, calls, signatures = blocks_turn(content)
        return Turn(
            index=self.index,
            text=text,
            reasoning=reasoning,
            reasoning_field="thinking_delta events (content_block_delta)" if reasoning else None,
            tool_calls=calls,
            finish_reason=self.stop_reason,
            usage=Usage.from_anthropic(self.usage) if self.usage else None,
            stream=self.facts,
            envelope=Envelope(model=self.message.get("model"), id=self.message.get("id")) if self.message else None,
            signatures=signatures,
            extras={"stop_sequence": self.stop_sequence, "events": self.events},
        )


class AnthropicSDKPath(ClientPath):
    _client: anthropic.Anthropic | None = None

    @property
    def client(self) -> anthropic.Anthropic:
        if self._client is None:
            timeout = anthropic.Timeout(self.target.idle_timeout, connect=self.target.connect_timeout)
            self._client = anthropic.Anthropic(
                api_key=self.target.api_key,  # SDK 2.x sends it as `Authorization: Bearer`, not x-api-key
                base_url=self.target.base_url,
                max_retries=0,
                timeout=timeout,
                # the SDK's own client settings, with a shared TLS context
                http_client=anthropic.DefaultHttpxClient(verify=_ssl_context(), timeout=timeout),
            )
        return self._client

    def list_models(self) -> Turn:
        return models_turn(self.client.models.list())

    def send(self, index: int, body: dict[str, Any]) -> tuple[Turn, Any]:
        kwargs = render(body)
        if body.get("stream"):
            assembler = AnthropicStreamAssembler(index)
            with self.client.messages.create(**kwargs) as stream:
                for event in stream:
                    assembler.add(event)
            content = assembler.content()
            # Anthropic's contract for tool use with thinking: the assistant turn goes back whole,
            # thinking blocks (with their signatures) included.
            return assembler.turn(content), {"role": "assistant", "content": content}
        message = self.client.messages.create(**kwargs)
        text, reasoning, calls, signatures = blocks_turn(message.content)
        turn = Turn(
            index=index,
            text=text,
            reasoning=reasoning,
            reasoning_field="thinking content blocks" if reasoning else None,
            tool_calls=calls,
            finish_reason=message.stop_reason,
            usage=Usage.from_anthropic(message.usage),
            envelope=Envelope(model=message.model, id=message.id),
            signatures=signatures,
            extras={"stop_sequence": message.stop_sequence},
        )
        # Anthropic's docs' idiom: append `{"role": "assistant", "content": response.content}` — the
        # SDK's block objects as they are, thinking blocks included.
        return turn, {"role": "assistant", "content": message.content}
