"""What an agent's headless output says: its final answer, and the error it ended on.

Each CLI has its own machine-readable output (Claude Code one JSON result, Codex and opencode one JSON
event per line); this reads only what the harness judges — the last answer the agent gave its user and
whether it reported failing — and keeps the rest out of the verdict. Pure: text in, `AgentOutput` out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AgentOutput:
    answer: str | None  # the agent's last message to its user
    error: str | None  # the failure it reported (its own words, or the API error it passed on)
    steps: int | None = None  # model turns, where the agent counts them


def read_output(kind: str, stdout: str) -> AgentOutput:
    reader = {"claude-json": _claude, "codex-jsonl": _codex, "opencode-jsonl": _opencode}.get(kind, _text)
    return reader(stdout)


def _json_lines(stdout: str) -> Iterator[dict[str, Any]]:
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            yield value


def _claude(stdout: str) -> AgentOutput:
    results = [event for event in _json_lines(stdout) if event.get("type") == "result"]
    if not results:
        return AgentOutput(None, _nothing(stdout))
    result = results[-1]
    text = result.get("result")
    text = text if isinstance(text, str) else None
    error = text if result.get("is_error") else None
    return AgentOutput(None if error else text, error, result.get("num_turns"))


def _codex(stdout: str) -> AgentOutput:
    answer, error, turns = None, None, 0
    for event in _json_lines(stdout):
        kind = event.get("type")
        item = event.get("item") or {}
        if kind == "item.completed" and item.get("type") == "agent_message":
            answer = item.get("text")
        elif kind == "turn.completed":
            turns += 1
        elif kind in ("turn.failed", "error"):
            detail = event.get("error") or event
            error = str(detail.get("message") if isinstance(detail, dict) else detail)
    if answer is None and error is None:
        error = _nothing(stdout)
    return AgentOutput(answer, error, turns or None)


def _opencode(stdout: str) -> AgentOutput:
    answer, error, steps = None, None, 0
    for event in _json_lines(stdout):
        kind = event.get("type")
        part = event.get("part") or {}
        if kind == "text" and isinstance(part.get("text"), str):
            answer = part["text"]
        elif kind == "step_finish":
            steps += 1
        elif kind == "error":
            detail = event.get("error") or {}
            data = detail.get("data") if isinstance(detail, dict) else None
            message = data.get("message") if isinstance(data, dict) else None
            error = str(message or detail)
    if answer is None and error is None:
        error = _nothing(stdout)
    return AgentOutput(answer, error, steps or None)


def _text(stdout: str) -> AgentOutput:
    text = stdout.strip()
    return AgentOutput(text or None, None if text else "the agent printed nothing")


def _nothing(stdout: str) -> str:
    tail = stdout.strip()[-300:]
    return f"the agent printed no answer{': ' + tail if tail else ''}"
