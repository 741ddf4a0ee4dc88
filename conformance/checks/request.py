"""Request checks: what the path put on the wire, against the scenario's intent and Z.AI's documented
request. Separate from response checks on purpose — a path can send a wrong request and still get a
good answer, and the report must show both.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from conformance.catalogue import Endpoint
from conformance.observation import Exchange
from conformance.protocol import ProtocolFacts, protocol_facts
from conformance.verdict import Finding, Severity
from conformance.wire import WireAnswer, normal

INFO, DEVIATION, FAIL = Severity.INFO, Severity.DEVIATION, Severity.FAIL


def check_request(
    exchange: Exchange,
    turn: int,
    intended: dict[str, Any],
    endpoint: Endpoint,
    base_url: str,
    previous: WireAnswer | None = None,
    client_only: Iterable[str] = (),
) -> list[Finding]:
    """`intended` is the scenario rendered in the endpoint's protocol; `previous` the answer of the
    turn before (a follow-up must carry back what it requires, e.g. signed thinking blocks);
    `client_only` the arguments the client takes for itself and must not forward (LiteLLM metadata)."""
    facts = protocol_facts(endpoint.protocol)
    findings = _url(exchange, base_url, facts) + _auth(exchange, endpoint) + _extra_headers(exchange)
    try:
        sent = json.loads(exchange.request_body or "")
    except ValueError:
        return [*findings, Finding("request_body", FAIL, "the request body is not JSON", turn, "request")]
    if not isinstance(sent, dict):
        return [
            *findings,
            Finding("request_body", FAIL, "the request body is not a JSON object", turn, "request"),
        ]
    findings += _params(sent, intended, turn, facts) + _kept_reasoning(sent, intended)
    for key in client_only:
        if key in sent:
            findings.append(Finding("request_params", FAIL, f"the client's own argument {key!r} reached Z.AI"))
        elif turn == 0:
            findings.append(Finding("request_params", INFO, f"the client's own argument {key!r} stayed with it"))
    if turn > 0:
        findings += _history(sent, facts) + _history_prefix(sent, intended)
        if endpoint.protocol == "anthropic":
            findings += _thinking_sent_back(sent, previous)
    return [Finding(f.check, f.severity, f.message, turn, "request") for f in findings]


def _url(exchange: Exchange, base_url: str, facts: ProtocolFacts) -> list[Finding]:
    wanted = base_url.rstrip("/") + facts.chat_path
    if exchange.url.split("?")[0] != wanted:
        return [Finding("request_url", FAIL, f"sent to {exchange.url}, expected {wanted}")]
    return []


def _auth(exchange: Exchange, endpoint: Endpoint) -> list[Finding]:
    headers = {name.lower(): values for name, values in exchange.request_headers.items()}
    if endpoint.auth == "bearer":
        value = " ".join(headers.get("authorization", []))
        if not value.lower().startswith("bearer "):
            return [Finding("auth", FAIL, "no 'Authorization: Bearer' header, which Z.AI's OpenAI endpoints require")]
        return []
    if "x-api-key" not in headers and "authorization" not in headers:
        return [Finding("auth", FAIL, "neither x-api-key nor Authorization header sent")]
    if "x-api-key" not in headers:
        return [
            Finding("auth", INFO, "authenticates with Authorization: Bearer (Z.AI accepts it as well as x-api-key)")
        ]
    return []


# Headers any HTTP client or the protocol itself sends; others are the client's own additions.
_ORDINARY_HEADERS = frozenset(
    {
        "host",
        "accept",
        "accept-encoding",
        "connection",
        "content-type",
        "content-length",
        "user-agent",
        "authorization",
        "x-api-key",
        "anthropic-version",
        "anthropic-beta",
    }
)


def _extra_headers(exchange: Exchange) -> list[Finding]:
    """What a client adds on its own (SDK telemetry, language, channel tags): worth seeing, harmless."""
    extra = sorted(
        name.lower()
        for name in exchange.request_headers
        if name.lower() not in _ORDINARY_HEADERS and not name.lower().startswith("x-stainless-")
    )
    if not extra:
        return []
    return [Finding("request_headers", INFO, f"the client adds headers {extra}")]


def _params(sent: dict[str, Any], intended: dict[str, Any], turn: int, protocol: ProtocolFacts) -> list[Finding]:
    findings = []
    for key, value in intended.items():
        if key == "messages":
            if turn == 0 and _messages(sent.get("messages")) != _messages(value):
                findings.append(Finding("request_messages", FAIL, "the messages sent are not the scenario's messages"))
            continue
        if key == "input":  # the Responses API's conversation: input items, compared as sent
            if turn == 0 and sent.get("input") != value:
                findings.append(Finding("request_messages", FAIL, "the input items sent are not the scenario's"))
            continue
        if key not in sent:
            findings.append(Finding("request_params", DEVIATION, f"the path dropped {key}={_short(value)}"))
        elif key == "tools":
            findings += _tool_changes(sent[key], value)
        elif key == "thinking" and isinstance(value, dict):
            findings += _thinking(sent, value)
        elif key == "system":  # a string and a list of text blocks say the same (Anthropic documents both)
            if _system_text(sent[key]) != _system_text(value):
                findings.append(Finding("request_params", DEVIATION, "the path changed the system prompt"))
            elif sent[key] != value:
                findings.append(Finding("request_params", INFO, "the path sends system as a list of text blocks"))
        elif sent[key] != value:
            findings.append(
                Finding(
                    "request_params",
                    DEVIATION,
                    f"the path changed {key}: {_short(value)} → {_short(sent[key])}",
                )
            )
        if key not in protocol.documented_request_fields:
            why = protocol.observed_accepted_fields.get(key)
            note = f"; {why}" if why else ""
            findings.append(
                Finding(
                    "request_documented",
                    INFO,
                    f"{key} is not in Z.AI's documented request (scenario sends it{note})",
                )
            )
    for key in sorted(sent.keys() - intended.keys()):
        documented = key in protocol.documented_request_fields
        seen = protocol.observed_accepted_fields.get(key)
        note = "" if documented else ", which Z.AI's documented request does not have" + (f"; {seen}" if seen else "")
        findings.append(
            Finding(
                "request_params", INFO if documented else DEVIATION, f"the path added {key}={_short(sent[key])}{note}"
            )
        )
    return findings


def _thinking(sent: dict[str, Any], intended: dict[str, Any]) -> list[Finding]:
    """Thinking must stay on (or off) as asked. The budget is the client's to choose — the scenario's
    is only a stand-in for "reasoning" — but Anthropic's contract wants it below max_tokens."""
    thinking = sent.get("thinking")
    if not isinstance(thinking, dict) or thinking.get("type") != intended.get("type"):
        return [
            Finding("request_params", DEVIATION, f"the path changed thinking: {_short(intended)} → {_short(thinking)}")
        ]
    budget, ceiling = thinking.get("budget_tokens"), sent.get("max_tokens")
    if isinstance(budget, int) and isinstance(ceiling, int) and budget >= ceiling:
        return [
            Finding(
                "request_params",
                DEVIATION,
                f"thinking.budget_tokens {budget} is not below max_tokens {ceiling}, as Anthropic's contract requires",
            )
        ]
    if budget != intended.get("budget_tokens"):
        return [
            Finding(
                "request_params",
                INFO,
                f"thinking budget {budget} (the scenario's stand-in was {intended.get('budget_tokens')})",
            )
        ]
    return []


def _tool_changes(sent: Any, intended: list[dict[str, Any]]) -> list[Finding]:
    """Tool definitions must reach the wire as given — including what matching ignores (`strict`).
    A key the path drops or changes is a deviation; one it adds (LiteLLM's `"type": "custom"` on
    Anthropic tools) is reported."""
    if _tools(sent) != _tools(intended):
        return [Finding("request_tools", DEVIATION, "the path changed the tool definitions")]
    if not isinstance(sent, list) or len(sent) != len(intended):
        return []
    findings = []
    for mine, theirs in zip(intended, sent, strict=True):
        wanted, got = _tool_fields(mine), _tool_fields(theirs)
        for key in sorted(set(wanted) | set(got)):
            if wanted.get(key) != got.get(key):
                change = "dropped" if key not in got else ("added" if key not in wanted else "changed")
                severity = INFO if change == "added" else DEVIATION
                message = f"tool {wanted.get('name')!r}: the path {change} {key!r}"
                findings.append(Finding("request_tools", severity, message))
    return findings


def _tool_fields(tool: Any) -> dict[str, Any]:
    """A tool's own fields: OpenAI's `function` object, or the Anthropic tool itself."""
    if not isinstance(tool, dict):
        return {}
    return dict(tool["function"]) if isinstance(tool.get("function"), dict) else dict(tool)


def _kept_reasoning(sent: dict[str, Any], intended: dict[str, Any]) -> list[Finding]:
    """Preserved thinking: an assistant message's reasoning_content in the history is the point of
    `clear_thinking: false`; a client that strips it silently turns the feature off."""
    findings = []
    sent_messages = sent.get("messages") or []
    for index, message in enumerate(intended.get("messages") or []):
        if not (isinstance(message, dict) and message.get("reasoning_content")):
            continue
        echoed = sent_messages[index] if index < len(sent_messages) else None
        kept = isinstance(echoed, dict) and echoed.get("reasoning_content") == message["reasoning_content"]
        findings.append(
            Finding("history_reasoning", INFO, f"messages[{index}] carries its reasoning_content back")
            if kept
            else Finding(
                "history_reasoning",
                FAIL,
                f"messages[{index}]: the path dropped the assistant's reasoning_content from the history "
                "(preserved thinking cannot work)",
            )
        )
    return findings


def _system_text(system: Any) -> str:
    if isinstance(system, list):
        return "\n".join(str(b.get("text", "")) for b in system if isinstance(b, dict) and b.get("type") == "text")
    return str(system or "")


def _history_prefix(sent: dict[str, Any], intended: dict[str, Any]) -> list[Finding]:
    """A follow-up turn must carry the conversation so far unchanged, then the answer and results."""
    if "input" in intended:  # Responses: the input items so far, as sent the first time
        original, history = intended.get("input") or [], sent.get("input") or []
        if not isinstance(original, list) or history[: len(original)] != original:
            return [Finding("history", FAIL, "the follow-up turn does not start with the original input unchanged")]
        return []
    original = intended.get("messages") or []
    history = sent.get("messages") or []
    if _messages(history[: len(original)]) != _messages(original):
        return [Finding("history", FAIL, "the follow-up turn does not start with the original messages unchanged")]
    return []


def _thinking_sent_back(sent: dict[str, Any], previous: WireAnswer | None) -> list[Finding]:
    """With thinking and tool use, the Anthropic contract wants the assistant turn sent back whole —
    its thinking blocks included, signatures unchanged."""
    if previous is None or not previous.signatures:
        return []
    returned = [
        block.get("signature")
        for message in sent.get("messages") or []
        if isinstance(message, dict) and message.get("role") == "assistant" and isinstance(message.get("content"), list)
        for block in message["content"]
        if isinstance(block, dict) and block.get("type") == "thinking"
    ]
    if not returned:
        return [Finding("history_thinking", FAIL, "the follow-up turn drops the assistant's thinking blocks")]
    if returned != previous.signatures:
        return [Finding("history_thinking", FAIL, "thinking blocks sent back with different signatures")]
    return [Finding("history_thinking", INFO, f"{len(returned)} thinking block(s) sent back with their signatures")]


def _history(sent: dict[str, Any], protocol: ProtocolFacts) -> list[Finding]:
    """How the path echoed the assistant turn back: extra keys, list content, null fields."""
    findings = []
    for index, message in enumerate(sent.get("messages") or []):
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        if protocol.name == "openai" and role in ("assistant", "tool") and isinstance(message.get("content"), list):
            findings.append(
                Finding(
                    "history_shape",
                    DEVIATION,
                    f"messages[{index}] ({role}) content is a list of parts; GLM's chat template reads only string "
                    "content there (BerriAI/litellm#25868)",
                )
            )
        if role != "assistant":
            continue
        extra = sorted(message.keys() - protocol.assistant_history_keys)
        if extra:
            findings.append(Finding("history_shape", INFO, f"messages[{index}] (assistant) carries extra keys {extra}"))
        if "reasoning_content" in message:
            findings.append(Finding("history_shape", INFO, f"messages[{index}] sends reasoning_content back"))
        calls = message.get("tool_calls") or [
            b for b in message.get("content") or [] if isinstance(b, dict) and b.get("type") == "tool_use"
        ]
        for call in calls:
            extra_call = sorted(call.keys() - protocol.tool_call_history_keys) if isinstance(call, dict) else []
            if extra_call:
                findings.append(
                    Finding(
                        "history_shape",
                        INFO,
                        f"messages[{index}] tool_calls carry extra keys {extra_call} (Z.AI's acceptance unverified)",
                    )
                )
                break
    return findings


def _messages(messages: Any) -> Any:
    """The conversation as replay matching reads it: what matching ignores, these checks report."""
    return normal.messages(messages)


def _tools(tools: Any) -> Any:
    """The tool definitions as replay matching reads them (`strict` and other extras aside)."""
    return normal.tools(tools)


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"
