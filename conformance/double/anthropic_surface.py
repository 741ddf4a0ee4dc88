"""The double's Anthropic-protocol surface: `POST {base}/v1/messages` (JSON and SSE), in the shapes the
real captures of `https://api.z.ai/api/anthropic/v1/messages` show (zai-recordings/anthropic_endpoint/).

What the captures settle, and the double copies:
- JSON is printed with Python's default separators `", "` / `": "`, UTF-8 unescaped — in SSE data
  lines and whole bodies alike (go_test glm-5 streams, caveman `zaiNonStreamWarm`). The one exception
  is the `partial_json` *string* of a tool call, which is compact (`{"command":"echo …"}`, go_test stream 1).
- A stream is `message_start` (empty content, `stop_reason` null, usage all zeros), `ping`, then per
  content block `content_block_start` / `content_block_delta`… / `content_block_stop`, then
  `message_delta` carrying the stop reason and the only real usage, then `message_stop`.
- A tool call streams as `content_block_start` with `"input": {}` and ONE `input_json_delta` holding
  the whole JSON. Ids: `msg_` + UTC+8 timestamp + 16 hex (also the `X-LOG-ID` header, without `msg_`),
  tool ids `call_` + 24 hex, thinking signatures 24 hex (echokit glm-4.7 transcript).
- usage: `input_tokens` EXCLUDES cache reads; `cache_read_input_tokens`, `server_tool_use` and
  `service_tier` ride along; there is no `cache_creation_input_tokens`.
- Both `x-api-key` and `Authorization: Bearer` authenticate; `?beta=true`, `anthropic-version` and
  `anthropic-beta` are accepted and change nothing; a Claude model id is answered by a GLM model and
  echoed back as asked (Korean Claude Code proxy capture, `claude-haiku-4-5-20251001`).
- A request without `thinking` gets no thinking block from a hybrid model (Anthropic's default: the
  Korean capture and both glm-5 streams asked for none, and their output token counts leave no room
  for hidden reasoning). Always-thinking models (glm-4.7, glm-5.3) still reason: the planner decides.
- Errors: `{"type":"error","error":{"type":…,"code":"1113","message":"[1113][<text>][<request id>]"},
  "request_id":…}` with the refusal's HTTP status. Error bodies are printed COMPACT: the one real body
  (curl output in zai-org/feedback#789) and every other Anthropic-endpoint line of ERRORS.jsonl are
  compact — they come from another layer than the message printer.

Assumptions (no capture settles them):
- A stream request that is refused gets the same plain JSON error with the refusal's HTTP status and
  `Content-Type: application/json` — the error is decided before any event would be sent, as on the
  OpenAI surfaces. (One report of HTTP 200 + bare JSON concerns a ZCode upstream, not api.z.ai.)
- Stop reasons the Anthropic contract lacks: `sensitive` → `refusal` (Anthropic's name for a safety
  stop); `model_context_window_exceeded` → `model_context_window_exceeded` (Anthropic has the same
  reason); `network_error` → passed through raw, as the OpenAI surface does, so clients meet it.
- A stop sequence that cut the text → `stop_reason: "stop_sequence"` with the sequence, as Anthropic does.
- `thinking.type` `adaptive` counts as enabled; an unknown type → 400/1210 (the always-thinking
  wording for always-thinking models, as measured); `budget_tokens` is ignored.
- An image block sent to a model without vision → 400/1210 (hermes#117208 saw this with Chinese wording).
- A thinking block starts as `{"type": "thinking", "thinking": ""}` (Anthropic's documented shape) and
  ends with one `signature_delta`; `x-process-time` measures the rendering only.
"""

from __future__ import annotations

import json
import time
from typing import Any

from conformance.catalogue import Catalogue, Model
from conformance.double.answers import Answer, PlannedCall, double_data, pieces
from conformance.double.ask import Ask, AskMessage, AskTool, users_words
from conformance.double.ids import call_id_streamed, message_id, request_id, signature
from conformance.double.refusals import Refusal, refusal
from conformance.double.wire import DoubleRequest, Reply
from conformance.triggers import requested_fault

JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream; charset=utf-8"

# Claude ids are served by GLM models (Z.AI's Claude Code setup: Opus/Sonnet → glm-4.7, Haiku → glm-4.5-air).
CLAUDE_FAMILIES = {"haiku": "glm-4.5-air"}
CLAUDE_DEFAULT = "glm-4.7"
TOOL_CHOICES = {"auto": "auto", "any": "required", "none": "none"}
THINKING_TYPES = {"enabled": "enabled", "adaptive": "enabled", "disabled": "disabled"}
STOP_REASONS = {
    "stop": "end_turn",
    "tool_calls": "tool_use",
    "length": "max_tokens",
    "sensitive": "refusal",
    "model_context_window_exceeded": "model_context_window_exceeded",
    "network_error": "network_error",
}


def _printed(value: Any) -> bytes:
    """Z.AI prints this surface's messages with Python's default separators, UTF-8 unescaped."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def models(catalogue: Catalogue) -> Reply:
    """`GET /v1/models` as captured (ZAI-FACTS §4): `display_name`, `type`, and `hasMore` in camel case —
    not Anthropic's `has_more`/`first_id`/`last_id` page."""
    data = [
        {"id": m.id, "display_name": m.id.upper(), "type": "model", "created_at": "2025-07-28T00:00:00Z"}
        for m in catalogue.models
    ]
    return Reply(200, {"Content-Type": JSON_TYPE}, body=_printed({"data": data, "hasMore": False}))


def key(request: DoubleRequest) -> str | None:
    """Either header authenticates (x-api-key for LiteLLM `anthropic/`, Bearer for Claude Code)."""
    return request.headers.get("x-api-key") or request.bearer()


# --- parsing -------------------------------------------------------------------------------------


def parse(request: DoubleRequest, catalogue: Catalogue) -> Ask:
    """An Anthropic Messages body as the protocol-neutral Ask; only malformed input is refused here
    (1210), everything the shared rules decide (1211, 1214, faults…) is left to `check_request`."""
    body = request.chat_body()
    model_name = str(body.get("model") or "")
    model = _model(model_name, catalogue)
    raw_messages = [m for m in body["messages"] if isinstance(m, dict)]
    if model is not None and not model.vision and any(_has_image(m) for m in raw_messages):
        raise refusal("1210-content-type")
    ask = Ask(
        surface="anthropic",
        endpoint=request.endpoint,
        model_name=model_name,
        model=model,
        messages=_system(body.get("system")) + [part for m in raw_messages for part in _messages(m)],
        tools=[_tool(t) for t in body.get("tools") or [] if isinstance(t, dict)],
        tool_choice=_tool_choice(body.get("tool_choice")),
        stream=body.get("stream") is True,
        thinking=_thinking(body.get("thinking"), model),
        max_tokens=_max_tokens(body.get("max_tokens")),
        temperature=body.get("temperature"),
        top_p=body.get("top_p"),
        stop=_stop_sequences(body.get("stop_sequences")),
    )
    ask.fault = requested_fault(ask.last_user_text, request.headers)
    return ask


def _model(name: str, catalogue: Catalogue) -> Model | None:
    """Catalogue ids, case-insensitively; a Claude id is answered by the GLM model Z.AI maps it to."""
    wanted = name.lower()
    if wanted.startswith("claude-"):
        wanted = next((glm for family, glm in CLAUDE_FAMILIES.items() if family in wanted), CLAUDE_DEFAULT)
    return next((m for m in catalogue.models if m.id == wanted), None)


def _blocks(content: Any) -> list[dict[str, Any]]:
    """Content is a string or a list of blocks; a string is one text block."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [block for block in content if isinstance(block, dict)]
    return []


def _text(content: Any) -> str:
    return "\n".join(str(b.get("text", "")) for b in _blocks(content) if b.get("type") == "text")


def _has_image(message: dict[str, Any]) -> bool:
    blocks = _blocks(message.get("content"))
    nested = [inner for b in blocks if b.get("type") == "tool_result" for inner in _blocks(b.get("content"))]
    return any(b.get("type") == "image" for b in blocks + nested)


def _system(system: Any) -> list[AskMessage]:
    text = _text(system)
    return [AskMessage(role="system", text=text)] if text else []


def _messages(message: dict[str, Any]) -> list[AskMessage]:
    """One Anthropic message may hold tool results (each becomes its own tool-result message, as on
    the OpenAI protocol), text, and the assistant's tool_use blocks; thinking blocks carry no text."""
    role = str(message.get("role") or "user")
    blocks = _blocks(message.get("content"))
    results = [
        AskMessage(role="tool", text=_text(b.get("content")), is_tool_result=True)
        for b in blocks
        if b.get("type") == "tool_result"
    ]
    text = users_words(_text(blocks)) if role == "user" else _text(blocks)
    calls = [str(b.get("name") or "") for b in blocks if b.get("type") == "tool_use"]
    if results and not text and not calls:
        return results
    return [*results, AskMessage(role=role, text=text, tool_calls=calls)]


def _tool(tool: dict[str, Any]) -> AskTool:
    return AskTool(
        name=str(tool.get("name") or ""),
        description=str(tool.get("description") or ""),
        schema=tool.get("input_schema") or {"type": "object", "properties": {}},
    )


def _tool_choice(choice: Any) -> str | None:
    """auto / any / tool / none become the planner's auto / required / <name> / none."""
    if not isinstance(choice, dict):
        return None
    if choice.get("type") == "tool":
        return str(choice.get("name") or "")
    return TOOL_CHOICES.get(str(choice.get("type")))


def _thinking(thinking: Any, model: Model | None) -> str:
    """Absent means disabled, as in Anthropic's API and in the captures (see the module docstring)."""
    if thinking is None:
        return "disabled"
    kind = thinking.get("type") if isinstance(thinking, dict) else None
    if kind not in THINKING_TYPES:
        raise refusal("1210-thinking" if model is not None and model.thinking == "always" else "1210")
    return THINKING_TYPES[kind]


def _max_tokens(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise refusal("1210")
    return value


def _stop_sequences(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [s for s in value if isinstance(s, str)] if isinstance(value, list) else []


# --- rendering -----------------------------------------------------------------------------------


def render(ask: Ask, answer: Answer) -> Reply:
    started = time.perf_counter()
    message = _message(ask, answer, message_id())
    if ask.stream:
        events = _stream(message, answer)
        return Reply(200, _headers(SSE_TYPE, message["id"], started, **{"cache-control": "no-cache"}), events=events)
    return Reply(200, _headers(JSON_TYPE, message["id"], started), body=_printed(message))


def _headers(content_type: str, message: str, started: float, **extra: str) -> dict[str, str]:
    """X-LOG-ID is the message id without `msg_` (Korean capture); x-process-time is seconds as a plain
    decimal (Z.AI's `0.03499889373779297`), never in exponent notation."""
    elapsed = time.perf_counter() - started
    headers = {"Content-Type": content_type, "X-LOG-ID": message.removeprefix("msg_"), "x-process-time": f"{elapsed:f}"}
    return headers | extra


def _message(ask: Ask, answer: Answer, message: str) -> dict[str, Any]:
    stop_reason, stop_sequence = _stop(ask, answer)
    return {
        "id": message,
        "type": "message",
        "role": "assistant",
        "model": ask.model_name,
        "content": _content(answer),
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": _usage(answer),
    }


def _content(answer: Answer) -> list[dict[str, Any]]:
    """Thinking, then text when there is any, then one tool_use block per call (the captured order)."""
    blocks: list[dict[str, Any]] = []
    if answer.reasoning:
        blocks.append({"type": "thinking", "thinking": answer.reasoning, "signature": signature()})
    if answer.text:
        blocks.append({"type": "text", "text": answer.text})
    blocks += [
        {"type": "tool_use", "id": call_id_streamed(), "name": call.name, "input": call.arguments}
        for call in answer.calls
    ]
    return blocks


def _usage(answer: Answer) -> dict[str, Any]:
    return {
        "input_tokens": answer.prompt_tokens - answer.cached_tokens,
        "output_tokens": answer.completion_tokens,
        "cache_read_input_tokens": answer.cached_tokens,
        "server_tool_use": {"web_search_requests": 0},
        "service_tier": "standard",
    }


def _stop(ask: Ask, answer: Answer) -> tuple[str, str | None]:
    if answer.finish == "stop" and answer.stop_sequence is not None:
        return "stop_sequence", answer.stop_sequence
    return STOP_REASONS.get(answer.finish, answer.finish), None


def _event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + _printed(data) + b"\n\n"


def _stream(message: dict[str, Any], answer: Answer) -> list[bytes]:
    """The captured order: start (zero usage), ping, the blocks, the delta with the real usage, stop."""
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
    start["usage"] = {"input_tokens": 0, "output_tokens": 0}
    events = [_event("message_start", {"type": "message_start", "message": start}), _event("ping", {"type": "ping"})]
    for index, block in enumerate(message["content"]):
        events += _block_events(index, block)
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]}
    events.append(_event("message_delta", {"type": "message_delta", "delta": delta, "usage": message["usage"]}))
    events.append(_event("message_stop", {"type": "message_stop"}))
    return events


def _block_events(index: int, block: dict[str, Any]) -> list[bytes]:
    opening, deltas = _block_opening(block)
    events = [_event("content_block_start", {"type": "content_block_start", "index": index, "content_block": opening})]
    events += [
        _event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
        for delta in deltas
    ]
    events.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
    return events


def _block_opening(block: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A block's empty start and the deltas that fill it: text and thinking a word or so at a time,
    the signature in one piece, a tool's input as ONE compact JSON string."""
    if block["type"] == "thinking":
        deltas = [{"type": "thinking_delta", "thinking": piece} for piece in pieces(block["thinking"])]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
        return {"type": "thinking", "thinking": ""}, deltas
    if block["type"] == "tool_use":
        arguments = PlannedCall(block["name"], block["input"]).arguments_json
        return {**block, "input": {}}, [{"type": "input_json_delta", "partial_json": arguments}]
    return {"type": "text", "text": ""}, [{"type": "text_delta", "text": piece} for piece in pieces(block["text"])]


# --- errors --------------------------------------------------------------------------------------


def render_refusal(refused: Refusal, stream: bool) -> Reply:
    """The Anthropic error envelope with Z.AI's `[code][text][request id]` message; a refused stream
    request gets the same plain JSON (the refusal comes before any event)."""
    request = request_id()
    error = {
        "type": double_data()["anthropic_error_types"].get(refused.http, "api_error"),
        "code": refused.code,
        "message": f"[{refused.code}][{refused.message}][{request}]",
    }
    body: dict[str, Any] = {"type": "error", "error": error, "request_id": request}
    if refused.bare:  # some validation errors come back in the OpenAI-style envelope (1210, recorded)
        body = {"error": {"code": refused.code, "message": refused.message}}
    compact = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Reply(refused.http, {"Content-Type": JSON_TYPE}, body=compact)
