"""The OpenAI Python SDK's Responses API (`client.responses.create`) pointed at Z.AI's `/api/v1`, as Codex
and other coding tools reach GLM (ZAI-FACTS §9.4: `base_url = "https://api.z.ai/api/v1"`).

The scenario arrives as a Responses body (scenario.responses_request). What the user sees is the SDK's
typed `Response`: its output items — reasoning (summary text), message (output_text parts), function calls
(call_id, name, arguments) — its status and usage. A stream is read as the typed events a user's loop gets,
counted into StreamFacts, and the answer taken from the terminal event's response (`response.completed`),
as the SDK's own `responses.stream()` helper does. The next turn's input is the answer's output items
followed by the function call outputs, the Responses API's documented multi-turn form. Retries are off.
"""

from __future__ import annotations

import time
from typing import Any

from conformance.observation import Envelope, StreamFacts, ToolCall, Turn, Usage, field_of
from conformance.paths.base import sdk_arguments
from conformance.paths.openai_sdk import OpenAISDKPath

# The Responses status in the scenarios' (chat) vocabulary: what a user's code branches on.
TERMINAL_EVENTS = ("response.completed", "response.incomplete", "response.failed")


def render(body: dict[str, Any]) -> dict[str, Any]:
    """Responses body → keyword arguments of `client.responses.create` (the rest in extra_body)."""
    from openai.resources.responses import Responses

    return sdk_arguments(Responses.create, body)


def finish_of(response: Any) -> str | None:
    """A response's status as a finish reason: completed with calls → tool_calls, completed → stop, an
    output limit → length, another incomplete reason as it is; a failed response has none."""
    status = field_of(response, "status")
    if status == "completed":
        called = any(field_of(item, "type") == "function_call" for item in field_of(response, "output") or [])
        return "tool_calls" if called else "stop"
    if status == "incomplete":
        reason = field_of(field_of(response, "incomplete_details"), "reason")
        return "length" if reason in (None, "max_output_tokens") else reason
    return None


def response_turn(index: int, response: Any, stream: StreamFacts | None = None) -> Turn:
    """What the SDK's Response shows a user: text, reasoning summary, function calls, status, usage."""
    text, reasoning, calls = [], [], []
    for item in field_of(response, "output") or []:
        kind = field_of(item, "type")
        if kind == "message":
            text += [
                field_of(p, "text") or ""
                for p in field_of(item, "content") or []
                if field_of(p, "type") == "output_text"
            ]
        elif kind == "reasoning":
            reasoning += [field_of(p, "text") or "" for p in field_of(item, "summary") or []]
        elif kind == "function_call":
            calls.append(ToolCall.parse(field_of(item, "call_id"), field_of(item, "name"), field_of(item, "arguments")))
    return Turn(
        index=index,
        text="".join(text) if text else None,
        reasoning="".join(reasoning) if reasoning else None,
        reasoning_field="reasoning output items (summary_text)" if reasoning else None,
        tool_calls=calls,
        finish_reason=finish_of(response),
        usage=Usage.from_responses(field_of(response, "usage")),
        stream=stream,
        envelope=Envelope(
            model=field_of(response, "model"), id=field_of(response, "id"), object=field_of(response, "object")
        ),
    )


def next_input(response: Any) -> list[dict[str, Any]]:
    """The answer's output items as the next request's input: the documented way to continue a
    conversation without `previous_response_id` (the double, like a stateless gateway, keeps nothing)."""
    items = []
    for item in field_of(response, "output") or []:
        dumped = item.model_dump(exclude_none=True) if hasattr(item, "model_dump") else dict(item)
        items.append(dumped)
    return items


class ResponsesStreamReader:
    """The typed events of `responses.create(stream=True)`, counted as StreamFacts; the answer is the
    terminal event's response."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.started = time.perf_counter()
        self.facts = StreamFacts()
        self.response: Any = None

    def add(self, event: Any) -> None:
        kind = field_of(event, "type") or ""
        self.facts.chunks += 1
        if self.facts.ttft_ms is None and kind.endswith(".delta"):
            self.facts.ttft_ms = round((time.perf_counter() - self.started) * 1000, 2)
        if kind == "response.output_text.delta":
            self.facts.content_deltas += 1
            self.facts.saw("content")
        elif kind.startswith("response.reasoning") and kind.endswith(".delta"):
            self.facts.reasoning_deltas += 1
            self.facts.saw("reasoning")
        elif kind == "response.function_call_arguments.delta":
            self.facts.tool_call_deltas += 1
            self.facts.saw("tool_calls")
        elif kind in TERMINAL_EVENTS:
            self.response = field_of(event, "response")
            self.facts.finish_chunk = self.facts.usage_chunk = self.facts.chunks - 1
            self.facts.usage_chunks += 1

    def turn(self) -> Turn:
        self.facts.total_ms = round((time.perf_counter() - self.started) * 1000, 2)
        if self.response is None:
            return Turn(index=self.index, stream=self.facts)
        return response_turn(self.index, self.response, self.facts)


class OpenAIResponsesPath(OpenAISDKPath):
    """The same client as the chat path (no retries, the run's timeouts); its Responses resource."""

    def send(self, index: int, body: dict[str, Any]) -> tuple[Turn, Any]:
        kwargs = render(body)
        if body.get("stream"):
            reader = ResponsesStreamReader(index)
            for event in self.client.responses.create(**kwargs):
                reader.add(event)
            return reader.turn(), next_input(reader.response) if reader.response is not None else []
        response = self.client.responses.create(**kwargs)
        return response_turn(index, response), next_input(response)
