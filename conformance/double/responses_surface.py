"""The double's Responses surface: `POST https://api.z.ai/api/v1/responses` (JSON and SSE).

NO REAL RECORDING OF THIS SURFACE EXISTS. Z.AI documents the Responses API for coding tools
(docs.z.ai/devpack/tool/others; Codex CLI with `wire_api = "responses"`, ZAI-FACTS §9.4), but no public
capture of its traffic is known. Every shape here is OpenAI's Responses schema as the openai Python SDK
types it (openai/types/responses/), and every answer is synthetic — the same planner (answers.plan) as
the other surfaces decides it, so the three surfaces agree on what a request gets. When a real
recording appears, this module is what the fidelity measurement must correct first.

Assumptions, each OpenAI's documented behaviour rather than Z.AI's observed one:
- A body is `{"id": "resp_…", "object": "response", "status", "output": [reasoning?, message?,
  function_call*], "usage": {input_tokens (cache reads included), input_tokens_details, output_tokens,
  output_tokens_details, total_tokens}}`; `input_tokens_details.cache_write_tokens` is sent as 0 because
  the SDK's type requires it. GLM's reasoning is sent as a reasoning item's `summary_text`.
- A stream is `event: <type>` + `data: <json>` events, each with `type` and a `sequence_number` from 0:
  response.created, response.in_progress, the items' events, then response.completed (or
  response.incomplete / response.failed) carrying the whole response — and no `[DONE]`.
- Finishes: stop and tool calls → `completed`; `length` → `incomplete` (max_output_tokens); Z.AI's
  `sensitive` → `incomplete` (content_filter); `network_error` and `model_context_window_exceeded` →
  `failed` with `error: {code: "server_error", message: <Z.AI's finish reason>}`.
- Refusals come in Z.AI's envelope `{"error": {"code": "1211", "message": …}}` with the refusal's HTTP
  status, as on the chat-completions surface; an image to a model without vision is refused as that
  surface refuses it (1210). Ids: `resp_` + Z.AI's request id; item ids `rs_`/`msg_`/`fc_` + 24 hex;
  call ids as Z.AI's streamed tool calls (`call_` + 24 hex).
"""

from __future__ import annotations

import json
import math
import secrets
import time
from typing import Any

from conformance.catalogue import Catalogue
from conformance.double.answers import Answer, pieces
from conformance.double.ask import Ask, AskMessage, AskTool
from conformance.double.ids import call_id_streamed, request_id
from conformance.double.refusals import Refusal, refusal
from conformance.double.wire import DoubleRequest, Reply
from conformance.triggers import requested_fault

JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream; charset=utf-8"
ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
TEXT_PARTS = frozenset({"input_text", "output_text", "text"})
# Z.AI's finish reasons the Responses schema has no `completed` for: (status, incomplete reason or error code)
UNFINISHED = {
    "length": ("incomplete", "max_output_tokens"),
    "sensitive": ("incomplete", "content_filter"),
    "network_error": ("failed", "server_error"),
    "model_context_window_exceeded": ("failed", "server_error"),
}
TERMINAL_EVENTS = {"completed": "response.completed", "incomplete": "response.incomplete", "failed": "response.failed"}
ARGUMENT_FRAGMENTS = 4  # a call's arguments stream in about this many deltas (capped by the chunk size below)
ARGUMENT_FRAGMENT_CHARS = 64


def _printed(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def key(request: DoubleRequest) -> str | None:
    """Bearer only, as on the chat-completions surfaces (Codex CLI sends `Authorization: Bearer`)."""
    return request.bearer()


# --- parsing -------------------------------------------------------------------------------------


def parse(request: DoubleRequest, catalogue: Catalogue) -> Ask:
    """A Responses body as the protocol-neutral Ask. Only malformed input is refused here (1210);
    unknown models, empty messages and faults are the shared rules' business (`check_request`)."""
    body = _body(request)
    model_name = str(body.get("model") or "")
    model = next((m for m in catalogue.models if m.id == model_name.lower()), None)
    items = _items(body["input"])
    if model is not None and not model.vision and any(_has_image(item) for item in items):
        raise refusal("1210-content-type-en")
    instructions = body.get("instructions")
    system = [AskMessage("system", instructions)] if isinstance(instructions, str) and instructions else []
    reasoning = body.get("reasoning")
    ask = Ask(
        surface="responses",
        endpoint=request.endpoint,
        model_name=model_name,
        model=model,
        messages=system + _messages(items),
        tools=[_tool(t) for t in body.get("tools") or [] if isinstance(t, dict) and t.get("type") == "function"],
        tool_choice=_tool_choice(body.get("tool_choice")),
        stream=body.get("stream") is True,
        reasoning_effort=reasoning.get("effort") if isinstance(reasoning, dict) else None,
        max_tokens=body.get("max_output_tokens"),
        temperature=body.get("temperature"),
        top_p=body.get("top_p"),
    )
    ask.fault = requested_fault(ask.last_user_text, request.headers)
    return ask


def _body(request: DoubleRequest) -> dict[str, Any]:
    """The JSON object of a Responses request, whose `input` is a string or a list of items; else 400/1210."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise refusal("1210") from None
    if not isinstance(body, dict) or not isinstance(body.get("input"), str | list):
        raise refusal("1210")
    return body


def _items(value: str | list[Any]) -> list[dict[str, Any]]:
    """`input` as a list of items: a string is one user message."""
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    return [item for item in value if isinstance(item, dict)]


def _parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "input_text", "text": content}]
    return [part for part in content if isinstance(part, dict)] if isinstance(content, list) else []


def _text(content: Any) -> str:
    return "".join(str(p.get("text") or "") for p in _parts(content) if p.get("type") in TEXT_PARTS)


def _has_image(item: dict[str, Any]) -> bool:
    return any(part.get("type") == "input_image" for part in _parts(item.get("content")))


def _messages(items: list[dict[str, Any]]) -> list[AskMessage]:
    """Messages (developer counts as system), function calls (joined to the assistant turn they follow)
    and their outputs (tool results). Reasoning items sent back carry nothing the planner reads."""
    messages: list[AskMessage] = []
    for item in items:
        kind = item.get("type", "message")
        if kind == "message":
            role = ROLES.get(str(item.get("role")), "user")
            messages.append(AskMessage(role, _text(item.get("content"))))
        elif kind == "function_call":
            name = str(item.get("name") or "")
            last = messages[-1] if messages else None
            if last is not None and last.role == "assistant" and not last.is_tool_result:
                last.tool_calls.append(name)
            else:
                messages.append(AskMessage("assistant", "", tool_calls=[name]))
        elif kind == "function_call_output":
            output = item.get("output")
            text = output if isinstance(output, str) else _text(output)
            messages.append(AskMessage("tool", text, is_tool_result=True))
    return messages


def _tool(tool: dict[str, Any]) -> AskTool:
    """A Responses function tool is flat: `{type, name, description, parameters, strict}`."""
    return AskTool(
        name=str(tool.get("name") or ""),
        description=str(tool.get("description") or ""),
        schema=tool.get("parameters") or {"type": "object", "properties": {}},
    )


def _tool_choice(choice: Any) -> str | None:
    """auto / none / required as the planner's; `{type: "function", name}` forces that tool."""
    if isinstance(choice, str):
        return choice
    if isinstance(choice, dict) and choice.get("type") == "function":
        return str(choice.get("name") or "")
    return None


# --- rendering -----------------------------------------------------------------------------------


def render(ask: Ask, answer: Answer) -> Reply:
    response = _response(ask, answer)
    if ask.stream:
        return Reply(200, {"Content-Type": SSE_TYPE, "Cache-Control": "no-cache"}, events=_stream(response, answer))
    return Reply(200, {"Content-Type": JSON_TYPE}, body=_printed(response))


def _item_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _response(ask: Ask, answer: Answer) -> dict[str, Any]:
    """The whole response, as response.completed carries it and a non-streamed request gets it."""
    status, detail = UNFINISHED.get(answer.finish, ("completed", None))
    response: dict[str, Any] = {
        "id": "resp_" + request_id(),
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "error": {"code": detail, "message": answer.finish} if status == "failed" else None,
        "incomplete_details": {"reason": detail} if status == "incomplete" else None,
        "model": ask.model_name,
        "output": _output(answer, status),
        "parallel_tool_calls": True,
        "tool_choice": _echo_tool_choice(ask.tool_choice),
        "tools": [
            {"type": "function", "name": t.name, "description": t.description, "parameters": t.schema, "strict": None}
            for t in ask.tools
        ],
        "temperature": ask.temperature,
        "top_p": ask.top_p,
        "max_output_tokens": ask.max_tokens,
        "reasoning": {"effort": ask.reasoning_effort, "summary": None},
        "usage": _usage(answer),
    }
    return response


def _echo_tool_choice(choice: str | None) -> Any:
    if choice is None or choice in ("auto", "none", "required"):
        return choice or "auto"
    return {"type": "function", "name": choice}


def _output(answer: Answer, status: str) -> list[dict[str, Any]]:
    """Reasoning first (when the model reasoned), then the message (when there is text), then the calls."""
    items: list[dict[str, Any]] = []
    if answer.reasoning:
        summary = [{"type": "summary_text", "text": answer.reasoning}]
        items.append({"type": "reasoning", "id": _item_id("rs"), "summary": summary})
    if answer.text:
        part = {"type": "output_text", "text": answer.text, "annotations": []}
        message_status = "incomplete" if status == "incomplete" else "completed"
        items.append(
            {"type": "message", "id": _item_id("msg"), "status": message_status, "role": "assistant", "content": [part]}
        )
    items += [
        {
            "type": "function_call",
            "id": _item_id("fc"),
            "call_id": call_id_streamed(),
            "name": call.name,
            "arguments": call.arguments_json,
            "status": "completed",
        }
        for call in answer.calls
    ]
    return items


def _usage(answer: Answer) -> dict[str, Any]:
    return {
        "input_tokens": answer.prompt_tokens,
        "input_tokens_details": {"cached_tokens": answer.cached_tokens, "cache_write_tokens": 0},
        "output_tokens": answer.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": answer.reasoning_tokens},
        "total_tokens": answer.total_tokens,
    }


class _Events:
    """SSE events numbered as they are written: `sequence_number` counts every event from 0."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def add(self, kind: str, **fields: Any) -> None:
        data = {"type": kind, "sequence_number": len(self.frames), **fields}
        self.frames.append(b"event: " + kind.encode() + b"\ndata: " + _printed(data) + b"\n\n")


def _stream(response: dict[str, Any], answer: Answer) -> list[bytes]:
    """created and in_progress (an empty, unfinished response), each output item's events, then the
    terminal event with the whole response."""
    events = _Events()
    opening = {**response, "status": "in_progress", "output": [], "usage": None, "error": None}
    opening["incomplete_details"] = None
    events.add("response.created", response=opening)
    events.add("response.in_progress", response=opening)
    for index, item in enumerate(response["output"]):
        _item_events(events, index, item)
    events.add(TERMINAL_EVENTS[response["status"]], response=response)
    return events.frames


def _item_events(events: _Events, index: int, item: dict[str, Any]) -> None:
    where = {"item_id": item["id"], "output_index": index}
    if item["type"] == "reasoning":
        text = item["summary"][0]["text"]
        events.add("response.output_item.added", output_index=index, item={**item, "summary": []})
        empty = {"type": "summary_text", "text": ""}
        events.add("response.reasoning_summary_part.added", **where, summary_index=0, part=empty)
        for piece in pieces(text):
            events.add("response.reasoning_summary_text.delta", **where, summary_index=0, delta=piece)
        events.add("response.reasoning_summary_text.done", **where, summary_index=0, text=text)
        events.add("response.reasoning_summary_part.done", **where, summary_index=0, part=item["summary"][0])
    elif item["type"] == "message":
        part = item["content"][0]
        events.add(
            "response.output_item.added", output_index=index, item={**item, "status": "in_progress", "content": []}
        )
        events.add("response.content_part.added", **where, content_index=0, part={**part, "text": ""})
        for piece in pieces(part["text"]):
            events.add("response.output_text.delta", **where, content_index=0, delta=piece, logprobs=[])
        events.add("response.output_text.done", **where, content_index=0, text=part["text"], logprobs=[])
        events.add("response.content_part.done", **where, content_index=0, part=part)
    else:
        arguments = item["arguments"]
        events.add(
            "response.output_item.added", output_index=index, item={**item, "arguments": "", "status": "in_progress"}
        )
        size = min(max(1, math.ceil(len(arguments) / ARGUMENT_FRAGMENTS)), ARGUMENT_FRAGMENT_CHARS)
        for start in range(0, len(arguments), size):
            events.add("response.function_call_arguments.delta", **where, delta=arguments[start : start + size])
        events.add("response.function_call_arguments.done", **where, arguments=arguments)
    events.add("response.output_item.done", output_index=index, item=item)


# --- errors --------------------------------------------------------------------------------------


def render_refusal(refused: Refusal, stream: bool) -> Reply:
    """Z.AI's envelope with the refusal's HTTP status, streamed request or not: the refusal is decided
    before any event would be sent (as on the other surfaces). `stream` changes nothing here."""
    document: dict[str, Any] = {"error": {"code": refused.code, "message": refused.message}}
    if refused.request_id:
        document["request_id"] = request_id()
    return Reply(refused.http, {"Content-Type": JSON_TYPE}, body=_printed(document))
