"""Z.AI's documented protocol facts (conformance/data/zai_protocol.yaml), loaded once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class OpenAIProtocol:
    chat_path: str
    documented_request_fields: frozenset[str]
    observed_accepted_fields: dict[str, str]
    assistant_history_keys: frozenset[str]
    tool_call_history_keys: frozenset[str]
    finish_reasons: frozenset[str]


@dataclass(frozen=True)
class ErrorClasses:
    blocked: dict[str, str]
    transient: dict[str, str]


@cache
def _raw() -> dict:
    return yaml.safe_load((resources.files("conformance") / "data" / "zai_protocol.yaml").read_text())


@cache
def openai_protocol() -> OpenAIProtocol:
    raw = _raw()["openai"]
    return OpenAIProtocol(
        chat_path=raw["chat_path"],
        documented_request_fields=frozenset(raw["documented_request_fields"]),
        observed_accepted_fields=dict(raw["observed_accepted_fields"]),
        assistant_history_keys=frozenset(raw["assistant_history_keys"]),
        tool_call_history_keys=frozenset(raw["tool_call_history_keys"]),
        finish_reasons=frozenset(raw["finish_reasons"]),
    )


@cache
def error_classes() -> ErrorClasses:
    raw = _raw()["errors"]
    return ErrorClasses(blocked=dict(raw["blocked"]), transient=dict(raw["transient"]))
