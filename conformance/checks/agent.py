"""Judge an agent's run (paths/agent.py): did the task get done, what did the agent send, and what
answered it.

Pure: the scenario's task, the cell's one turn and its exchanges in; findings out. The task is the
verdict — its answer must quote what only the file says, and the file it was asked to write must exist,
so a PASS means the agent's tool calls went out, ran and came back through GLM's answers. What the
agent put on the wire is reported as facts (the thinking controls, roles, tools, streaming, side
requests such as titles): they are the agent's choices, not faults, unless the endpoint refused them.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from conformance.catalogue import AgentTask
from conformance.observation import Exchange, Turn
from conformance.verdict import Finding, Severity

_QUOTED_CODE = re.compile(r"\[(\d{4})\]")
_REQUEST_ID = re.compile(r"\[[0-9a-f]{16,}\]")
CONTROLS = ("thinking", "reasoning_effort", "reasoning", "output_config", "context_management", "tool_stream")


def check_agent(task: AgentTask, turn: Turn, exchanges: list[Exchange]) -> list[Finding]:
    findings = [*_task(task, turn), *_refusals(exchanges)]
    summary = sends(exchanges)
    if summary:
        findings.append(Finding("agent_sends", Severity.INFO, summary, side="request"))
    return findings


def _task(task: AgentTask, turn: Turn) -> list[Finding]:
    findings: list[Finding] = []
    answer = turn.text or ""
    if task.answer_contains not in answer:
        said = f": {answer[:160]!r}" if answer else " (no answer)"
        findings.append(
            Finding(
                "agent_task",
                Severity.FAIL,
                f"the answer does not say {task.answer_contains!r}, which only the file tells{said}",
            )
        )
    created = turn.agent.created if turn.agent is not None else []
    missing = [name for name in task.creates if name not in created]
    if missing:
        findings.append(Finding("agent_task", Severity.FAIL, f"the task's file was not written: {', '.join(missing)}"))
    if not findings:
        steps = turn.agent.requests if turn.agent is not None else 0
        findings.append(Finding("agent_task", Severity.INFO, f"task done in {steps} request(s): read, wrote, answered"))
    return findings


def _refusals(exchanges: list[Exchange]) -> list[Finding]:
    """Answers that refused the agent's requests, one finding per kind of refusal with the requests it
    hit. The agent may have gone on (a failed side request): a refusal is still a deviation from a clean
    run. The same refusal again is the agent retrying it, which the finding counts."""
    refused: dict[tuple[int, str, str], list[int]] = {}
    for number, exchange in enumerate(exchanges, 1):
        if exchange.status is None or exchange.status < 400:
            continue
        error = _json(exchange.response_body).get("error")
        detail = error if isinstance(error, dict) else {}
        message = str(detail.get("message") or (exchange.response_body or "")[:160])
        quoted = _QUOTED_CODE.match(message)  # the Anthropic surface puts the code in the message: [1113][…]
        code = str(detail.get("code") or (quoted.group(1) if quoted else ""))
        message = _REQUEST_ID.sub("", message)[:200]  # one request id per answer: not part of the refusal
        refused.setdefault((exchange.status, code, message), []).append(number)
    findings = []
    for (status, code, message), numbers in refused.items():
        which = f"request {numbers[0]}" if len(numbers) == 1 else f"{len(numbers)} requests ({_spans(numbers)})"
        retried = f"; sent {len(numbers)} times, retried as if it could pass" if len(numbers) > 1 else ""
        findings.append(
            Finding(
                "agent_refused",
                Severity.DEVIATION,
                f"{which} refused: HTTP {status}" + (f", code {code}" if code else "") + f": {message}{retried}",
                side="request",
            )
        )
    return findings


def _spans(numbers: list[int]) -> str:
    return (
        f"{numbers[0]}–{numbers[-1]}"
        if numbers == list(range(numbers[0], numbers[-1] + 1))
        else ", ".join(map(str, numbers))
    )


def sends(exchanges: list[Exchange]) -> str:
    """What the agent put on the wire, in one line: where, which models, its reasoning controls, the
    roles and tools it sends, streaming, output limits."""
    bodies = [(exchange, _json(exchange.request_body)) for exchange in exchanges]
    if not bodies:
        return ""
    where = Counter(_where(exchange) for exchange, _ in bodies)
    models = sorted({str(body["model"]) for _, body in bodies if "model" in body})
    controls = sorted(
        {f"{name}={json.dumps(body[name], sort_keys=True)}" for _, body in bodies for name in CONTROLS if name in body}
    )
    roles = sorted({role for _, body in bodies for role in _roles(body)})
    tools = [body.get("tools") or [] for _, body in bodies]
    kinds = sorted(
        {str(tool["type"]) for group in tools for tool in group if isinstance(tool, dict) and tool.get("type")}
    )
    streamed = sum(1 for _, body in bodies if body.get("stream") is True)
    limits = sorted({int(body["max_tokens"]) for _, body in bodies if isinstance(body.get("max_tokens"), int)})
    parts = [
        f"{len(bodies)} request(s): " + ", ".join(f"{count}× {path}" for path, count in where.items()),
        f"models {', '.join(models) or 'none'}",
        f"controls {'; '.join(controls) or 'none'}",
        f"roles {', '.join(roles) or 'none'}",
        f"up to {max((len(group) for group in tools), default=0)} tools" + (f" ({', '.join(kinds)})" if kinds else ""),
        f"{streamed} streamed",
    ]
    if limits:
        parts.append(f"max_tokens {', '.join(map(str, limits))}")
    if any(_where(exchange).endswith("/v1/messages") and "system" in _roles(body) for exchange, body in bodies):
        parts.append("a system-role message inside messages (Anthropic's API documents user and assistant only)")
    return "sends " + "; ".join(parts)


def _roles(body: dict[str, Any]) -> set[str]:
    return {str(item.get("role")) for item in _items(body) if item.get("role")}


def _items(body: dict[str, Any]) -> list[dict[str, Any]]:
    items = body.get("messages") or body.get("input") or []
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _where(exchange: Exchange) -> str:
    parts = urlsplit(exchange.url)
    return f"{exchange.method} {parts.path.rsplit('/v4', 1)[-1] if '/v4/' in parts.path else parts.path}"


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
