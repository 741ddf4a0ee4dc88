"""The double's OpenAI-protocol surface: `/chat/completions` (JSON and SSE), `/models`, `/embeddings`,
on both the general and the coding endpoint — in the shapes the real recordings show.

Non-streamed bodies: keys sorted, compact separators, UTF-8 unescaped; `request_id` beside `id`.
Streams: `id, created, [object,] model, choices`; every text or reasoning delta repeats the role;
non-final chunks have no `finish_reason` key; a tool call arrives whole in one chunk (no role) unless
`tool_stream`; the last chunk carries finish_reason, an empty-content delta and usage together; then
`data: [DONE]`. What changed over time — `object`, `completion_tokens_details`, the opening delta, blank
reasoning deltas, the separator before the answer, finish_reason on the tool-call chunk — follows the
request's era (eras.py, data/wire_eras.yaml).
Assumption (no recording settles it): usage is sent whether or not `stream_options` asks for it.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from typing import Any

from conformance.catalogue import Catalogue
from conformance.double.answers import Answer, PlannedCall, double_data, pieces
from conformance.double.ask import Ask, AskMessage, AskTool
from conformance.double.eras import WireShape
from conformance.double.ids import call_id_streamed, call_ids_unstreamed, request_id
from conformance.double.refusals import Refusal, refusal
from conformance.double.wire import DoubleRequest, Reply
from conformance.triggers import requested_fault

JSON_TYPE = "application/json; charset=UTF-8"
SSE_TYPE = "text/event-stream;charset=UTF-8"


def _compact(value: Any, sort: bool) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort).encode("utf-8")


# --- parsing -------------------------------------------------------------------------------------


def parse(request: DoubleRequest, catalogue: Catalogue) -> Ask:
    body = request.chat_body()
    messages = [_message(m) for m in body["messages"] if isinstance(m, dict)]
    model_name = str(body.get("model") or "")
    model = next((m for m in catalogue.models if m.id == model_name.lower()), None)
    if model is not None and not model.vision and any(_has_image(m) for m in body["messages"]):
        raise refusal("1210-content-type-en")
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        choice = (choice.get("function") or {}).get("name")
    stop = body.get("stop")
    ask = Ask(
        surface="openai",
        endpoint=request.endpoint,
        model_name=model_name,
        model=model,
        messages=messages,
        tools=[_tool(t) for t in body.get("tools") or [] if isinstance(t, dict)],
        tool_choice=choice,
        stream=bool(body.get("stream")),
        thinking=(body.get("thinking") or {}).get("type") if isinstance(body.get("thinking"), dict) else None,
        reasoning_effort=body.get("reasoning_effort"),
        max_tokens=body.get("max_tokens") or body.get("max_completion_tokens"),
        stop=[stop] if isinstance(stop, str) else list(stop or []),
        response_format=(body.get("response_format") or {}).get("type"),
        tool_stream=bool(body.get("tool_stream")),
        request_id=body.get("request_id"),
        temperature=body.get("temperature"),
        top_p=body.get("top_p"),
    )
    ask.fault = requested_fault(ask.last_user_text, request.headers)
    return ask


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def _has_image(message: Any) -> bool:
    content = message.get("content") if isinstance(message, dict) else None
    return isinstance(content, list) and any(isinstance(p, dict) and p.get("type") != "text" for p in content)


def _message(message: dict[str, Any]) -> AskMessage:
    role = str(message.get("role") or "user")
    calls = [str((c.get("function") or {}).get("name")) for c in message.get("tool_calls") or [] if isinstance(c, dict)]
    return AskMessage(role=role, text=_text(message.get("content")), tool_calls=calls, is_tool_result=role == "tool")


def _tool(tool: dict[str, Any]) -> AskTool:
    function = tool.get("function") or {}
    return AskTool(
        name=str(function.get("name") or ""),
        description=str(function.get("description") or ""),
        schema=function.get("parameters") or {"type": "object", "properties": {}},
    )


# --- rendering -----------------------------------------------------------------------------------


def render(ask: Ask, answer: Answer) -> Reply:
    if ask.stream:
        return Reply(200, {"Content-Type": SSE_TYPE}, events=_stream(ask, answer))
    return Reply(200, {"Content-Type": JSON_TYPE}, body=_compact(_message_body(ask, answer), sort=True))


def _shape(ask: Ask) -> WireShape:
    return ask.era.shape_for(ask.model_name, tools=bool(ask.tools))


def _reasoning_text(ask: Ask, answer: Answer) -> str | None:
    """The reasoning as sent, led by the era's blank line. Planned-but-empty reasoning (thinking declined,
    answers.declines_thinking) is sent as that lead alone — or not at all in eras without one."""
    if answer.reasoning is None:
        return None
    return (_shape(ask).reasoning_lead + answer.reasoning) or None


def _usage(ask: Ask, answer: Answer) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": answer.completion_tokens,
        "total_tokens": answer.total_tokens,
        "prompt_tokens_details": {"cached_tokens": answer.cached_tokens},
    }
    if _shape(ask).reasoning_tokens:
        usage["completion_tokens_details"] = {"reasoning_tokens": answer.reasoning_tokens}
    return usage


def _message_body(ask: Ask, answer: Answer) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant"}
    quirk = ask.model is not None and ask.model.id in double_data()["quirks"]["no_content_key_with_tool_calls"]
    if not (answer.calls and quirk):
        message["content"] = answer.text
    reasoning = _reasoning_text(ask, answer)
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    if answer.calls:
        ids = call_ids_unstreamed(len(answer.calls))
        message["tool_calls"] = [
            {"function": {"arguments": c.arguments_json, "name": c.name}, "id": i, "index": n, "type": "function"}
            for n, (c, i) in enumerate(zip(answer.calls, ids, strict=True))
        ]
    chat_id = request_id()
    body: dict[str, Any] = {
        "choices": [{"finish_reason": answer.finish, "index": 0, "message": message}],
        "created": int(time.time()),
        "id": chat_id,
        "model": ask.model_name,
        "request_id": ask.request_id or chat_id,
        "usage": _usage(ask, answer),
    }
    if _shape(ask).object:
        body["object"] = "chat.completion"
    return body


BLANK_CONTENT = {"role": "assistant", "content": "\n"}  # the opening and separator deltas of older eras


def _stream(ask: Ask, answer: Answer) -> list[bytes]:
    shape = _shape(ask)
    chat_id, created = request_id(), int(time.time())
    head: dict[str, Any] = {"id": chat_id, "created": created}
    if shape.object:
        head["object"] = "chat.completion.chunk"
    head["model"] = ask.model_name

    def chunk(choice: dict[str, Any], **extra: Any) -> bytes:
        return b"data: " + _compact({**head, "choices": [choice], **extra}, sort=False) + b"\n\n"

    reasoning = _reasoning_text(ask, answer)
    events = [chunk({"index": 0, "delta": dict(BLANK_CONTENT)})] if shape.opening == "blank_content" else []
    events += [chunk({"index": 0, "delta": _reasoning_delta(shape, piece)}) for piece in pieces(reasoning or "")]
    if reasoning and shape.answer_separator and answer.text:  # a forced call, without text, has none
        events.append(chunk({"index": 0, "delta": _content_delta(shape, BLANK_CONTENT["content"])}))
    events += [chunk({"index": 0, "delta": _content_delta(shape, piece)}) for piece in pieces(answer.text)]
    finish_on_call = shape.tool_call_finish_reason and answer.finish == "tool_calls"
    for index, call in enumerate(answer.calls):
        events += _call_chunks(chunk, index, call, ask.tool_stream, finish_on_call)
    last = {"index": 0, "finish_reason": answer.finish, "delta": {"role": "assistant", "content": ""}}
    events.append(chunk(last, usage=_usage(ask, answer)))
    events.append(b"data: [DONE]\n\n")
    return events


def _content_delta(shape: WireShape, piece: str) -> dict[str, Any]:
    """A text delta; in the eras that did so (2025-09/10 requests without tools), with an empty
    `reasoning_content` beside it (data/wire_eras.yaml)."""
    if shape.content_with_empty_reasoning:
        return {"role": "assistant", "content": piece, "reasoning_content": ""}
    return {"role": "assistant", "content": piece}


def _reasoning_delta(shape: WireShape, piece: str) -> dict[str, Any]:
    """A whitespace-only reasoning delta came with an empty `content` beside it until 2025-11 and alone
    since 2025-12 (data/wire_eras.yaml)."""
    if shape.blank_reasoning == "with_empty_content" and not piece.strip():
        return {"role": "assistant", "content": "", "reasoning_content": piece}
    return {"role": "assistant", "reasoning_content": piece}


# A streamed argument's fragments: a short one in four, a long one (a file an agent writes) a few tokens at
# a time, as the text streams — no recording shows a long argument under tool_stream (ZAI-FACTS §2.3).
ARGUMENT_FRAGMENT_CHARS = 64


def _call_chunks(chunk: Any, index: int, call: PlannedCall, fragments: bool, finish: bool) -> list[bytes]:
    """One whole call per chunk (with `finish_reason: "tool_calls"` on it when the era did that), or,
    with `tool_stream`, the call's name first and its arguments in fragments."""
    whole = {"id": call_id_streamed(), "index": index, "type": "function"}
    if not fragments:
        function = {"name": call.name, "arguments": call.arguments_json}
        choice: dict[str, Any] = {"index": 0}
        if finish:
            choice["finish_reason"] = "tool_calls"
        choice["delta"] = {"tool_calls": [{**whole, "function": function}]}
        return [chunk(choice)]
    arguments = call.arguments_json
    size = min(max(1, math.ceil(len(arguments) / 4)), ARGUMENT_FRAGMENT_CHARS)
    first = chunk({"index": 0, "delta": {"tool_calls": [{**whole, "function": {"name": call.name, "arguments": ""}}]}})
    rest = [
        chunk(
            {
                "index": 0,
                "delta": {"tool_calls": [{"index": index, "function": {"arguments": arguments[i : i + size]}}]},
            }
        )
        for i in range(0, len(arguments), size)
    ]
    return [first, *rest]


def render_refusal(refused: Refusal, stream: bool) -> Reply:
    document: dict[str, Any] = {"error": {"code": refused.code, "message": refused.message}}
    if refused.request_id:
        document["request_id"] = request_id()  # quota refusals carry one beside `error` (1308, recorded)
    body = _compact(document, sort=False)
    # Before a stream starts, Z.AI answers errors as plain JSON — with no content-type (recorded, 1305) —
    # except a refused key, which the gateway answers as `application/json`, no charset, streamed or not
    # (crush's 401/1001 to three requests, 2026-01-13).
    if refused.http == 401:
        headers = {"Content-Type": "application/json"}
    else:
        headers = {} if stream else {"Content-Type": JSON_TYPE}
    return Reply(refused.http, headers, body=body)


# --- models and embeddings ---------------------------------------------------------------------


def models(catalogue: Catalogue) -> Reply:
    data = [{"id": m.id, "object": "model", "created": 1753632000, "owned_by": "z-ai"} for m in catalogue.models]
    return Reply(200, {"Content-Type": JSON_TYPE}, body=_compact({"object": "list", "data": data}, sort=False))


EMBEDDING_MODELS = {"embedding-3": 2048, "embedding-2": 1024}


def embeddings(request: DoubleRequest) -> Reply:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return render_refusal(refusal("1210"), stream=False)
    model = body.get("model")
    if model not in EMBEDDING_MODELS:
        return render_refusal(refusal("1211"), stream=False)
    dimensions = int(body.get("dimensions") or EMBEDDING_MODELS[model])
    if not 1 <= dimensions <= EMBEDDING_MODELS[model]:
        return render_refusal(refusal("1210"), stream=False)
    inputs = body.get("input")
    texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
    if not texts or not all(isinstance(t, str) and t for t in texts):
        return render_refusal(refusal("1214", index="0"), stream=False)
    data = [{"embedding": _vector(t, dimensions), "index": i, "object": "embedding"} for i, t in enumerate(texts)]
    used = sum(max(1, len(t) // 4) for t in texts)
    usage = {"completion_tokens": 0, "prompt_tokens": used, "total_tokens": used}
    document = {"data": data, "model": model, "object": "list", "usage": usage}
    return Reply(200, {"Content-Type": JSON_TYPE}, body=_compact(document, sort=True))


def _vector(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector derived from the text: equal inputs, equal embeddings."""
    seed = hashlib.sha256(text.encode()).digest()
    raw = [((seed[i % 32] ^ (i * 31 % 256)) - 127.5) / 127.5 for i in range(dimensions)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [round(x / norm, 6) for x in raw]


def key(request: DoubleRequest) -> str | None:
    """The OpenAI surfaces take the key as a bearer token only."""
    return request.bearer()
