"""What every client path adapter does: render the scenario in its client's API, call it, and
normalise what came back into `Turn`s. No verdict logic lives in a path.

A conversation is driven here, not in the adapters: turn 1 is the scenario's request; if the
scenario answers tool calls, turn 2 is the history *as this client would build it* (the adapter
returns the assistant message in its client's idiomatic form) plus the tool results. A recorded
conversation's turns are the recorded requests, one after the other: the agent that recorded it built
each history, and every path is judged on sending it and on what it makes of each answer.
"""

from __future__ import annotations

import importlib
import inspect
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from conformance.catalogue import Catalogue, ClientPathSpec, Scenario
from conformance.observation import ErrorInfo, Turn, Usage, field_of
from conformance.scenario import recorded_request, tool_result_messages
from conformance.secrets import SCRUBBER


@dataclass(frozen=True)
class Target:
    """Where and how a path calls: the endpoint's (possibly overridden) base URL and the key."""

    base_url: str
    api_key: str
    idle_timeout: float  # seconds without a byte before the client gives up (→ HANG)
    connect_timeout: float = 10.0


@dataclass(frozen=True)
class CallOptions:
    """What a cell asks of its client beyond the request body, given to the path when it is built.

    `client_params`: arguments a scenario gives the client itself, never meant for the wire (LiteLLM's
    `metadata`); only paths whose client takes them run such scenarios (the catalogue's `not_for`).
    `fault_header`: a double fault to send as the `X-Double-Fault` header, where the adapter chooses
    (the scenario's `provoke.via: header`)."""

    client_params: Mapping[str, Any] = field(default_factory=dict)
    fault_header: str | None = None


NO_CALL_OPTIONS = CallOptions()  # a cell that asks nothing of its client beyond the request body


class Conversation:
    """The turns of one scenario: hands out each request body, takes back each answer."""

    def __init__(self, scenario: Scenario, first_request: dict[str, Any], api: str = "openai") -> None:
        self.scenario = scenario
        self.api = api
        self._body = first_request
        self.turns: list[Turn] = []

    @property
    def body(self) -> dict[str, Any]:
        return self._body

    def answered(self, turn: Turn, assistant_message: Any) -> bool:
        """Record a turn; return True when another turn follows."""
        self.turns.append(turn)
        if turn.error is not None or len(self.turns) >= self.scenario.turns:
            return False
        if self.scenario.recorded is not None:  # the recorded client's next request, whatever this one parsed
            self._body = recorded_request(self.scenario, len(self.turns), self._body["model"])
            return True
        calls = [{"id": c.id, "function": {"name": c.name}} for c in turn.tool_calls]
        if not calls:
            return False  # nothing to answer: the checks will say the tool call is missing
        results = tool_result_messages(self.scenario, calls, self.api)
        if self.api == "responses":  # input items: the answer's own output items, then the results
            self._body = {**self._body, "input": [*self._body["input"], *assistant_message, *results]}
            return True
        history = [*self._body["messages"], assistant_message, *results]
        self._body = {**self._body, "messages": history}
        return True


class PathOptions(BaseModel):
    """A path's `options` from its catalogue entry, validated by its adapter. This base takes none:
    an adapter with settings declares its own subclass as `Options`."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PathOptionsError(ValueError):
    """A catalogue entry's `options` do not fit its adapter."""


class ClientPath(ABC):
    """A client path. Subclasses implement `send` (one API call → Turn + history message).

    Built for one cell (`build`): aimed at its target, with the cell's call options and the path's
    own configuration (`config`, the catalogue entry's `options` read by the adapter's `Options`)."""

    Options: ClassVar[type[PathOptions]] = PathOptions
    # Whether a recording of this path can be replayed: its requests come out the same for the same cell.
    # An agent's carry its own session ids and temporary paths, so its cells are served by the double
    # offline and their live recordings stay a record (paths/agent.py).
    replays_evidence: ClassVar[bool] = True

    def __init__(self, spec: ClientPathSpec, target: Target, *, options: CallOptions = NO_CALL_OPTIONS) -> None:
        self.spec = spec
        self.target = target
        self.config = self.options_of(spec)
        # the cell's call options (CallOptions), kept as attributes: the adapters read them from here
        self.client_params: dict[str, Any] = dict(options.client_params)
        self.fault_header: str | None = options.fault_header

    @classmethod
    def options_of(cls, spec: ClientPathSpec) -> Any:
        """The catalogue entry's `options`, read by this adapter (a clear error naming the entry if they
        do not fit)."""
        try:
            return cls.Options.model_validate(spec.options)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or 'options'}: {error['msg']}" for error in exc.errors()
            )
            raise PathOptionsError(f"path {spec.id!r}: options do not fit {spec.adapter}: {problems}") from None

    @classmethod
    def unavailable(cls, spec: ClientPathSpec) -> str | None:
        """Why this path cannot run on this machine at all (a program that is not installed), or None.
        Library paths are installed with the harness; an agent's CLI may not be (paths/agent.py)."""
        return None

    @classmethod
    def build(
        cls,
        spec: ClientPathSpec,
        target: Target,
        *,
        catalogue: Catalogue,
        options: CallOptions = NO_CALL_OPTIONS,
    ) -> Self:
        """The path for one cell, as the runner makes it. Most paths need only their entry and the
        endpoint they call; one that reaches the endpoint through something else (the LiteLLM proxy)
        sets that up here, from the run's catalogue, and aims its client at it."""
        return cls(spec, target, options=options)

    def intended(self, body: dict[str, Any]) -> dict[str, Any]:
        """The first request as this path is configured to send it: the scenario's, plus whatever the
        path's documented configuration sets (a fixed temperature, say). Request checks compare the
        wire with this, so a configured setting is not reported as the client changing the request."""
        return body

    def run(self, scenario: Scenario, first_request: dict[str, Any]) -> list[Turn]:
        if scenario.operation != "chat":
            return [self.operate(scenario.operation, first_request)]
        conversation = Conversation(scenario, first_request, self.spec.api)
        while True:
            started = time.perf_counter()
            turn, message = self._guarded(len(conversation.turns), conversation.body)
            turn.duration_ms = round((time.perf_counter() - started) * 1000, 2)
            if not conversation.answered(turn, message):
                return conversation.turns

    async def arun(self, scenario: Scenario, first_request: dict[str, Any]) -> list[Turn]:
        """The conversation of `run` through an async client (`asend`), in the caller's event loop."""
        conversation = Conversation(scenario, first_request, self.spec.api)
        while True:
            started = time.perf_counter()
            index = len(conversation.turns)
            try:
                turn, message = await self.asend(index, conversation.body)
            except Exception as exc:  # the client raised: that is an observation, not a crash
                turn, message = Turn(index=index, error=self.describe_error(exc)), None
            turn.duration_ms = round((time.perf_counter() - started) * 1000, 2)
            if not conversation.answered(turn, message):
                return conversation.turns

    def operate(self, operation: str, body: dict[str, Any]) -> Turn:
        """One call of a non-chat operation (`GET /models`, `POST /embeddings`), as a Turn holding what
        the client exposed (`models`: the ids; `embedding_lengths`: each vector's length)."""
        started = time.perf_counter()
        try:
            turn = self.list_models() if operation == "models" else self.embed(body)
        except Exception as exc:
            turn = Turn(index=0, error=self.describe_error(exc))
        turn.duration_ms = round((time.perf_counter() - started) * 1000, 2)
        return turn

    def list_models(self) -> Turn:
        raise NotOffered(f"{self.spec.title} has no API to list models")

    def embed(self, body: dict[str, Any]) -> Turn:
        raise NotOffered(f"{self.spec.title} has no embeddings API")

    def _guarded(self, index: int, body: dict[str, Any]) -> tuple[Turn, Any]:
        try:
            return self.send(index, body)
        except Exception as exc:  # the client raised: that is an observation, not a crash
            return Turn(index=index, error=self.describe_error(exc)), None

    def close(self) -> None:
        """Release the client's connections (called once the cell is done). An adapter that keeps its
        SDK client in `_client` gets it closed here."""
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()

    @abstractmethod
    def send(self, index: int, body: dict[str, Any]) -> tuple[Turn, Any]:
        """Make one API call for `body` (OpenAI-protocol request); return the Turn and the assistant
        message as this client's users append it to their history."""

    async def asend(self, index: int, body: dict[str, Any]) -> tuple[Turn, Any]:
        """The async counterpart of `send`, for a path that drives an async client (`arun`)."""
        raise NotImplementedError(f"{self.spec.title} has no async client")

    def describe_error(self, exc: BaseException) -> ErrorInfo:
        return describe_exception(exc)


class NotOffered(NotImplementedError):
    """The client has no API for this operation (the catalogue's `not_for` should say so first)."""


def embedding_turn(response: Any) -> Turn:
    """An embeddings response (any client's object or dict) as a Turn: vector lengths and usage."""
    data = field_of(response, "data") or []
    lengths = [len(field_of(item, "embedding") or []) for item in data]
    return Turn(index=0, usage=Usage.from_mapping(field_of(response, "usage")), embedding_lengths=lengths)


def models_turn(page: Any) -> Turn:
    """A models listing (an SDK page object, or a list) as a Turn holding the ids."""
    items = list(field_of(page, "data") or []) if not isinstance(page, list) else page
    return Turn(index=0, models=[field_of(item, "id") for item in items])


_CODE_IN_TEXT = re.compile(r"""["']code["']\s*:\s*["']?(\d{3,4})""")
_TIMEOUT_NAMES = ("timeout", "timedout")
_NETWORK_NAMES = ("connection", "connecterror", "network", "remoteprotocol", "readerror")


def describe_exception(exc: BaseException) -> ErrorInfo:
    """Normalise any client exception: class, HTTP status, Z.AI business code, scrubbed message."""
    chain = _chain(exc)
    names = " ".join(type(e).__name__.lower() for e in chain)
    status = next((s for e in chain if isinstance(s := _status(e), int)), None)
    # The process-wide scrubber, not a parameter: every adapter (and the proxy's paths) reach this through
    # `describe_error`, so a parameter would be threaded through every path for the one instance the run
    # registered its key with; and an ErrorInfo message is scrubbed again wherever it is written.
    message = SCRUBBER.text(str(exc))[:2000]
    code = _business_code(exc)
    return ErrorInfo(
        exception=f"{type(exc).__module__}.{type(exc).__qualname__}",
        message=message,
        status=status,
        code=code,
        timeout=any(n in names for n in _TIMEOUT_NAMES),
        network=any(n in names for n in _NETWORK_NAMES),
    )


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def _business_code(exc: BaseException) -> str | None:
    """Z.AI's code, wherever the client kept it: a parsed body, the HTTP response it holds on to
    (LiteLLM keeps only Z.AI's message in its own), or the exception text."""
    for error in _chain(exc):
        body = getattr(error, "body", None)
        if not isinstance(body, dict):
            body = _response_json(getattr(error, "response", None))
        if isinstance(body, dict):
            inner = body.get("error", body)
            if isinstance(inner, dict) and inner.get("code") is not None:
                return str(inner["code"])
    match = _CODE_IN_TEXT.search(str(exc))
    return match.group(1) if match else None


def _response_json(response: Any) -> Any:
    try:
        return response.json() if response is not None else None
    except Exception:  # not JSON, not read, not a response: no code there
        return None


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


# Keyword arguments of an SDK's create() that are call options, not fields of the request body.
CALL_OPTIONS = frozenset({"self", "extra_headers", "extra_query", "extra_body", "timeout"})


@cache
def _body_parameters(create: Callable[..., Any]) -> frozenset[str]:
    return frozenset(inspect.signature(create).parameters) - CALL_OPTIONS


def sdk_arguments(create: Callable[..., Any], body: dict[str, Any]) -> dict[str, Any]:
    """A request body as an SDK's `create()` takes it: the fields it declares as keywords, the others
    (Z.AI-only ones, say) in `extra_body` — every SDK's documented way to send what it does not model."""
    declared = _body_parameters(create)
    kwargs = {key: value for key, value in body.items() if key in declared}
    extra = {key: value for key, value in body.items() if key not in declared}
    if extra:
        kwargs["extra_body"] = extra
    return kwargs


def load_adapter(spec: ClientPathSpec) -> type[ClientPath]:
    module_name, _, class_name = spec.adapter.partition(":")
    try:
        adapter = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise LookupError(f"path {spec.id!r}: adapter {spec.adapter!r} cannot be loaded: {exc}") from exc
    if not (isinstance(adapter, type) and issubclass(adapter, ClientPath)):
        raise LookupError(f"path {spec.id!r}: adapter {spec.adapter!r} is not a ClientPath")
    return adapter


def build_path(
    spec: ClientPathSpec, target: Target, *, catalogue: Catalogue, options: CallOptions = NO_CALL_OPTIONS
) -> ClientPath:
    """A catalogue entry's path built for one cell: its adapter loaded and built (`ClientPath.build`)."""
    return load_adapter(spec).build(spec, target, catalogue=catalogue, options=options)
