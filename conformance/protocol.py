"""Z.AI's documented protocol facts (conformance/data/zai_protocol.yaml), loaded once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class ProtocolFacts:
    name: str
    chat_path: str
    documented_request_fields: frozenset[str]
    observed_accepted_fields: dict[str, str]
    assistant_history_keys: frozenset[str]
    tool_call_history_keys: frozenset[str]
    finish_reasons: frozenset[str]
    neutral_finish: dict[str, str]


@dataclass(frozen=True)
class ErrorClasses:
    blocked: dict[str, str]
    transient: dict[str, str]
    key_refused: dict[str, str]  # the run's key: stop recording on that endpoint
    one_off: dict[str, str]  # one request's content: never replaces a good older recording


@cache
def _raw() -> dict[str, Any]:
    return yaml.safe_load((resources.files("conformance") / "data" / "zai_protocol.yaml").read_text())


@dataclass(frozen=True)
class GenerationRate:
    """How fast GLM generates: the stand-in wire/pacing.py times streams with (data: `generation`)."""

    tokens_per_second: float
    chars_per_token: float
    source: str


@cache
def generation_rate() -> GenerationRate:
    data = _raw()["generation"]
    return GenerationRate(float(data["tokens_per_second"]), float(data["chars_per_token"]), str(data["source"]))


@cache
def protocol_facts(name: str) -> ProtocolFacts:
    raw = _raw()["protocols"][name]
    return ProtocolFacts(
        name=name,
        chat_path=raw["chat_path"],
        documented_request_fields=frozenset(raw["documented_request_fields"]),
        observed_accepted_fields=dict(raw["observed_accepted_fields"]),
        assistant_history_keys=frozenset(raw["assistant_history_keys"]),
        tool_call_history_keys=frozenset(raw["tool_call_history_keys"]),
        finish_reasons=frozenset(raw["finish_reasons"]),
        neutral_finish=dict(raw["neutral_finish"] or {}),
    )


def openai_protocol() -> ProtocolFacts:
    return protocol_facts("openai")


def neutral_finish(value: str | None) -> str | None:
    """A finish or stop reason in the scenarios' (OpenAI) vocabulary, whichever protocol sent it."""
    if value is None:
        return None
    for name in _raw()["protocols"]:
        mapped = protocol_facts(name).neutral_finish.get(value)
        if mapped is not None:
            return mapped
    return value


@cache
def error_classes() -> ErrorClasses:
    raw = _raw()["errors"]
    return ErrorClasses(
        blocked=dict(raw["blocked"]),
        transient=dict(raw["transient"]),
        key_refused=dict(raw["key_refused"]),
        one_off=dict(raw["one_off"]),
    )
