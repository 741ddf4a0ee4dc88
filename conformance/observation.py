"""What a client path made of one conversation: the normalised facts checks judge.

A path adapter fills one `Turn` per API call with what *the client exposed* (text, reasoning, tool
calls, finish_reason, usage, stream facts, the exception it raised). The wire side — the exact
request the path sent and the bytes Z.AI answered — is captured separately by the recorder as
`Exchange`s, so checks can compare the two.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Literal


@dataclass
class ToolCall:
    id: str | None
    name: str | None
    arguments_raw: str | None
    arguments: Any = None
    parse_error: str | None = None

    @classmethod
    def parse(cls, id: str | None, name: str | None, arguments_raw: str | None) -> ToolCall:
        if arguments_raw is None:
            return cls(id, name, None, None, "no arguments")
        try:
            return cls(id, name, arguments_raw, json.loads(arguments_raw))
        except ValueError as exc:
            return cls(id, name, arguments_raw, None, f"arguments are not JSON: {exc}")


@dataclass
class Usage:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    reasoning_tokens: int | None = None
    cached_tokens: int | None = None

    @classmethod
    def from_mapping(cls, usage: Any) -> Usage | None:
        """Read usage from a dict or a client object (pydantic models, LiteLLM's Usage)."""
        if usage is None:
            return None
        return cls(
            prompt_tokens=field_of(usage, "prompt_tokens"),
            completion_tokens=field_of(usage, "completion_tokens"),
            total_tokens=field_of(usage, "total_tokens"),
            reasoning_tokens=field_of(field_of(usage, "completion_tokens_details"), "reasoning_tokens"),
            cached_tokens=field_of(field_of(usage, "prompt_tokens_details"), "cached_tokens"),
        )

    @classmethod
    def from_responses(cls, usage: Any) -> Usage | None:
        """OpenAI Responses usage in chat terms: prompt = input, completion = output (reasoning included)."""
        if usage is None:
            return None
        return cls(
            prompt_tokens=field_of(usage, "input_tokens"),
            completion_tokens=field_of(usage, "output_tokens"),
            total_tokens=field_of(usage, "total_tokens"),
            reasoning_tokens=field_of(field_of(usage, "output_tokens_details"), "reasoning_tokens"),
            cached_tokens=field_of(field_of(usage, "input_tokens_details"), "cached_tokens"),
        )

    @classmethod
    def from_anthropic(cls, usage: Any) -> Usage | None:
        """Anthropic usage in OpenAI terms: prompt = input + cache reads (Z.AI's input_tokens exclude
        them, as Anthropic's do), completion = output, and the total both protocols mean."""
        if usage is None:
            return None
        read = field_of(usage, "cache_read_input_tokens") or 0
        created = field_of(usage, "cache_creation_input_tokens") or 0
        prompt = (field_of(usage, "input_tokens") or 0) + read + created
        completion = field_of(usage, "output_tokens") or 0
        return cls(prompt, completion, prompt + completion, None, read)


def field_of(container: Any, key: str) -> Any:
    """A field of a dict or of a client's response object, or None — the one way paths read what a
    client returned. A pydantic object's undeclared field is looked up in its `model_extra` too (some
    SDK objects keep Z.AI's extra fields, `reasoning_content` say, only there)."""
    if container is None:
        return None
    if isinstance(container, dict):
        return container.get(key)
    value = getattr(container, key, None)
    if value is None:
        extra = getattr(container, "model_extra", None) or {}
        value = extra.get(key) if isinstance(extra, dict) else None
    return value


def plain(value: Any) -> Any:
    """A client's value as plain data, for an observation or a history message: a pydantic object as
    its JSON dict (fields left None omitted, as the SDKs serialise them), an enum member as its value,
    anything else as it is."""
    if isinstance(value, Enum):
        return value.value
    dump = getattr(value, "model_dump", None)
    return dump(mode="json", exclude_none=True) if callable(dump) else value


@dataclass
class StreamFacts:
    """How a stream arrived, as the client delivered it."""

    chunks: int = 0
    content_deltas: int = 0
    reasoning_deltas: int = 0
    tool_call_deltas: int = 0
    finish_chunk: int | None = None  # index of the chunk carrying finish_reason
    usage_chunk: int | None = None  # index of the chunk carrying usage
    usage_chunk_choices: int | None = None  # how many choices the usage chunk had
    usage_chunks: int = 0  # how many chunks carried usage (a stream reports it once)
    order: list[str] = field(default_factory=list)  # run-length order of delta kinds
    ttft_ms: float | None = None
    total_ms: float | None = None

    def saw(self, kind: str) -> None:
        if not self.order or self.order[-1] != kind:
            self.order.append(kind)


@dataclass
class ErrorInfo:
    exception: str  # qualified class name of what the client raised
    message: str  # scrubbed
    status: int | None = None
    code: str | None = None  # Z.AI business code, when reachable from the exception
    timeout: bool = False
    network: bool = False


# Where a turn's answer came from, when not from the turn's own request (a Router recipe says so):
# `upstream` — the last request sent (a fallback's backup answered); `cache` — the one request sent,
# replayed by the client's cache; `client` — none: the client refused by itself.
AnsweredFrom = Literal["upstream", "cache", "client"]


@dataclass
class Envelope:
    """The answer's envelope as the client exposed it (model name, creation time, object type, id)."""

    model: str | None = None
    created: int | None = None
    object: str | None = None
    id: str | None = None


@dataclass
class BuiltMessage:
    """The message LiteLLM's `stream_chunk_builder` rebuilt from a stream's chunks — LiteLLM's documented
    way to get a streamed answer whole, and the message its users append to their history."""

    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    signatures: list[str] | None = None  # its thinking blocks' signatures (LiteLLM's anthropic/ route)


@dataclass
class CostClaim:
    """What a client says an answer cost (USD), or why it could not say."""

    amount: float | None = None
    error: str | None = None


@dataclass
class CostMapEntry:
    """What a client's cost map says about the model a path calls, for the route it calls it by — the
    context window, output limit and prices its users' trimming, budgets and spend tracking rest on — or
    why the map has no entry. Read from the map the client release ships, not from an answer."""

    client: str  # whose map, for the finding ("LiteLLM")
    route: str  # the entry looked up, e.g. "zai/glm-5.2"
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    input_cost_per_token: float | None = None  # USD
    output_cost_per_token: float | None = None
    cache_read_input_token_cost: float | None = None  # None: cached input is billed as input
    missing: str | None = None  # the map has no entry for the route: the client's words


@dataclass
class RouterFacts:
    """What a LiteLLM Router says about an answer: the deployment behind it, its model group, the
    fallbacks and retries it took, and whether its cache answered."""

    deployment: str | None = None
    model_group: str | None = None
    attempted_fallbacks: int | None = None
    attempted_retries: int | None = None
    cache_hit: bool | None = None


@dataclass
class AgentRun:
    """An agent CLI's run, seen from outside it: the program, how it ended, how many requests it sent
    through the relay, and what its task left in the workspace. The agent's own answer is the turn's
    `text` and the failure it reported the turn's `error`."""

    agent: str
    version: str | None
    exit_code: int | None  # None: stopped by the harness after `stopped_after_s` (the run's limit)
    requests: int
    steps: int | None = None  # model turns, where the agent counts them
    created: list[str] = field(default_factory=list)  # the task's files that exist afterwards
    stderr: str | None = None  # the end of what it printed on stderr, scrubbed
    stopped_after_s: float | None = None


@dataclass
class Turn:
    """One API call as the client exposed it. Each fact a check reads is a typed field; `None` means the
    client did not expose it (which fact a path must expose is each check's decision, documented there)."""

    index: int
    text: str | None = None
    reasoning: str | None = None
    reasoning_field: str | None = None  # where the client exposed reasoning
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    stream: StreamFacts | None = None
    error: ErrorInfo | None = None
    duration_ms: float | None = None
    answered_from: AnsweredFrom | None = None  # None: the turn's own request answered it
    envelope: Envelope | None = None
    built: BuiltMessage | None = None  # LiteLLM's stream_chunk_builder result (streamed turns)
    thinking_blocks: int | None = None  # how many thinking blocks an OpenAI-style client handed out
    signatures: list[str] | None = None  # the thinking blocks' signatures, as the client exposed them
    cost: CostClaim | None = None
    cost_map: CostMapEntry | None = None  # the client's cost-map entry for the model (LiteLLM paths)
    models: list[str | None] | None = None  # a models listing: the ids the client exposed
    embedding_lengths: list[int] | None = None  # an embeddings answer: each vector's length
    router: RouterFacts | None = None
    agent: AgentRun | None = None  # an agent CLI's whole run (paths/agent.py): one turn stands for it
    extras: dict[str, Any] = field(default_factory=dict)  # more of what the path saw, for display: no check reads it


@dataclass
class Exchange:
    """One HTTP request the path sent, and what answered it (scrubbed)."""

    method: str
    url: str
    request_headers: dict[str, list[str]]
    request_body: str | None
    outcome: str  # replayed | recorded | miss | passthrough
    status: int | None = None
    response_headers: dict[str, list[str]] = field(default_factory=dict)
    response_body: str | None = None
    miss: str | None = None  # why replay had no answer
    transport_fault: dict[str, Any] | None = None  # no HTTP answer: the server timed out (kind, phase, after_seconds…)


@dataclass
class Observation:
    turns: list[Turn]
    exchanges: list[Exchange]
    # requests the path sent to a local server it talks through (the LiteLLM proxy): not Z.AI traffic,
    # but proof that an HTTP answer the client raised on came from a server, not from the client itself
    local_requests: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
