"""LiteLLM's SDK as a client path — `litellm.completion` (or `acompletion`) — configured by its catalogue
entry's `options`, so that each way people set LiteLLM up is one entry of this one adapter:

- `provider`: the route, as the model's prefix. `zai` — LiteLLM's native `zai/` provider; `openai` — the
  recipe for any OpenAI-compatible server (`openai/<id>` + `api_base`), under which LiteLLM treats GLM as
  an unknown OpenAI model; `anthropic` — `anthropic/<id>` + `api_base` at Z.AI's Anthropic-compatible
  endpoint (LiteLLM translates the OpenAI-style call into a Messages request and the answer back, and
  hands out thinking blocks with their signatures); `litellm_proxy` — a LiteLLM proxy; none — the model
  name as it is (the proxy's own name, as the Z.AI/LiteLLM guide writes it).
- `call`: `completion` (default) or `acompletion` (each cell in its own event loop).
- `allowed_openai_params`: parameters LiteLLM may pass although it does not know the model supports
  them — the remedy its own UnsupportedParamsError names (docs.litellm.ai/docs/completion/drop_params);
  each is allowed on a request that has it.
- `max_tokens`: sent when the scenario gives none (instead of LiteLLM's default for the route).
- `openhands`: OpenHands' `LLM_*` settings — LiteLLM called the way OpenHands' LLM wrapper calls it
  (conformance/paths/openhands.py); the route then comes from those settings.

Every scenario parameter is passed as a keyword, the way LiteLLM's docs write it; whatever LiteLLM then
does with it (maps, drops, refuses) is what the path is tested for. Retries are off. The returned
message is appended to the history as LiteLLM's docs do (a stream's, as `stream_chunk_builder` rebuilds
it), so what LiteLLM sends back to Z.AI on the next turn shows on the wire. `litellm.register_model`
would lift some refusals too, but it changes process-wide state: every other entry in the same process
would silently stop being its configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import Field, model_validator

from conformance.catalogue import ClientPathSpec, Scenario
from conformance.litellm_globals import import_litellm, shipped_prices
from conformance.observation import (
    BuiltMessage,
    CostClaim,
    CostMapEntry,
    Envelope,
    ToolCall,
    Turn,
    Usage,
    field_of,
    plain,
)
from conformance.paths.base import NO_CALL_OPTIONS, CallOptions, ClientPath, PathOptions, Target, embedding_turn
from conformance.paths.openhands import OpenHandsSetup
from conformance.paths.streaming import StreamAssembler, message_turn

Provider = Literal["zai", "openai", "anthropic", "litellm_proxy"]
THINKING_BLOCK_ROUTES = frozenset({"anthropic"})  # routes whose messages carry Anthropic thinking blocks


class LiteLLMOptions(PathOptions):
    provider: Provider | None = None
    call: Literal["completion", "acompletion"] = "completion"
    allowed_openai_params: tuple[str, ...] = ()
    max_tokens: int | None = Field(default=None, gt=0)
    openhands: dict[str, str] | None = None

    @model_validator(mode="after")
    def _openhands_sets_its_own_route(self) -> LiteLLMOptions:
        if self.openhands is not None and (self.provider or self.allowed_openai_params or self.max_tokens):
            raise ValueError(
                "openhands configures LiteLLM from its LLM_* settings: no provider, "
                "allowed_openai_params or max_tokens beside it"
            )
        return self


class LiteLLMSetup(Protocol):
    """How an entry sets LiteLLM up for each call: the keywords, process-wide settings around the
    call, the request it means to send, and the history message its users keep."""

    def kwargs(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def around(self, body: dict[str, Any]) -> contextlib.AbstractContextManager[Any]: ...

    def intended(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def history(self, message: Any) -> Any: ...


@dataclass(frozen=True)
class ProviderRoute:
    """`litellm.completion(model="<provider>/<id>", api_base=<endpoint>, api_key=…, **scenario)`."""

    options: LiteLLMOptions
    target: Target
    client_params: Mapping[str, Any]

    def kwargs(self, body: dict[str, Any]) -> dict[str, Any]:
        provider = self.options.provider
        kwargs = {key: value for key, value in body.items() if key != "model"}
        kwargs.update(
            model=f"{provider}/{body['model']}" if provider else body["model"],
            api_base=self.target.base_url,
            api_key=self.target.api_key,
            timeout=self.target.idle_timeout,
            num_retries=0,
            max_retries=0,
        )
        kwargs.update(self.client_params)  # LiteLLM's own arguments (`metadata`): not for the wire
        if self.options.max_tokens is not None:
            kwargs.setdefault("max_tokens", self.options.max_tokens)
        allowed = [name for name in self.options.allowed_openai_params if name in body]
        if allowed:
            kwargs["allowed_openai_params"] = allowed
        return kwargs

    def around(self, body: dict[str, Any]) -> contextlib.AbstractContextManager[Any]:
        return contextlib.nullcontext()

    def intended(self, body: dict[str, Any]) -> dict[str, Any]:
        return body

    def history(self, message: Any) -> Any:
        return message  # LiteLLM's docs' idiom: append the returned message object as it is


class LiteLLMPath(ClientPath):
    """LiteLLM's SDK, set up as the catalogue entry says (`LiteLLMOptions`)."""

    Options = LiteLLMOptions
    config: LiteLLMOptions

    def __init__(self, spec: ClientPathSpec, target: Target, *, options: CallOptions = NO_CALL_OPTIONS) -> None:
        super().__init__(spec, target, options=options)
        settings = self.config.openhands
        self.setup: LiteLLMSetup = (
            OpenHandsSetup(settings, target, self.client_params)
            if settings is not None
            else ProviderRoute(self.config, target, self.client_params)
        )
        self.thinking_blocks = self.config.provider in THINKING_BLOCK_ROUTES

    @property
    def asynchronous(self) -> bool:
        return self.config.call == "acompletion"

    def intended(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.setup.intended(body)

    def kwargs(self, body: dict[str, Any]) -> dict[str, Any]:
        """The keywords of `litellm.completion` for a request body."""
        return self.setup.kwargs(body)

    def run(self, scenario: Scenario, first_request: dict[str, Any]) -> list[Turn]:
        if self.asynchronous and scenario.operation == "chat":
            return asyncio.run(self._arun_in_own_loop(scenario, first_request))
        return super().run(scenario, first_request)

    async def _arun_in_own_loop(self, scenario: Scenario, first_request: dict[str, Any]) -> list[Turn]:
        """Each cell runs in its own event loop; LiteLLM caches aiohttp sessions bound to the loop that
        made them, so close and forget them before the loop ends (else: "Unclosed client session")."""
        try:
            return await self.arun(scenario, first_request)
        finally:
            await _forget_async_clients()

    def embed(self, body: dict[str, Any]) -> Turn:
        """`litellm.embedding()` (or `aembedding()` in its own event loop) with the entry's route."""
        kwargs = self.kwargs(body)
        kwargs.pop("num_retries", None)  # a completion() argument
        if not self.asynchronous:
            return embedding_turn(import_litellm().embedding(**kwargs))

        async def call() -> Any:
            try:
                return await import_litellm().aembedding(**kwargs)
            finally:
                await _forget_async_clients()

        return embedding_turn(asyncio.run(call()))

    def send(self, index: int, body: dict[str, Any]) -> tuple[Turn, Any]:
        litellm = import_litellm()
        with self.setup.around(body):
            kwargs = self.kwargs(body)
            if body.get("stream"):
                assembler = StreamAssembler(index)
                for chunk in litellm.completion(**kwargs):
                    assembler.add(chunk)
                turn, message = stream_turn(assembler, body["messages"], thinking_blocks=self.thinking_blocks)
            else:
                turn, message = answer_turn(index, litellm.completion(**kwargs), thinking_blocks=self.thinking_blocks)
        turn.cost_map = cost_map_of(kwargs["model"], kwargs.get("custom_llm_provider"))
        return turn, self.setup.history(message)

    async def asend(self, index: int, body: dict[str, Any]) -> tuple[Turn, Any]:
        litellm = import_litellm()
        with self.setup.around(body):
            kwargs = self.kwargs(body)
            if body.get("stream"):
                assembler = StreamAssembler(index)
                async for chunk in await litellm.acompletion(**kwargs):
                    assembler.add(chunk)
                turn, message = stream_turn(assembler, body["messages"], thinking_blocks=self.thinking_blocks)
            else:
                response = await litellm.acompletion(**kwargs)
                turn, message = answer_turn(index, response, thinking_blocks=self.thinking_blocks)
        turn.cost_map = cost_map_of(kwargs["model"], kwargs.get("custom_llm_provider"))
        return turn, self.setup.history(message)


async def _forget_async_clients() -> None:
    litellm = import_litellm()
    await litellm.close_litellm_async_clients()
    litellm.in_memory_llm_clients_cache.flush_cache()


# --- what LiteLLM hands back, as a Turn (also the Router recipes') ----------------------------------


def answer_turn(index: int, response: Any, *, thinking_blocks: bool = False) -> tuple[Turn, Any]:
    """A non-streamed `ModelResponse` as a Turn — with its envelope, its thinking blocks (and their
    signatures, on a route that hands them out) and what LiteLLM says it cost — and the message."""
    choice = response.choices[0]
    message = choice.message
    turn = message_turn(index, message, choice.finish_reason, field_of(response, "usage"))
    blocks = field_of(message, "thinking_blocks")
    turn.envelope = Envelope(model=response.model, created=response.created, object=response.object)
    turn.thinking_blocks = len(blocks) if blocks else 0
    if thinking_blocks:
        turn.signatures = signatures_of(blocks)
    turn.cost = cost_of(response)
    turn.extras = {"provider_specific_fields": plain(field_of(message, "provider_specific_fields"))}
    return turn, message


def stream_turn(assembler: StreamAssembler, messages: list[Any], *, thinking_blocks: bool = False) -> tuple[Turn, Any]:
    """A stream as the chunks delivered it, plus the message `stream_chunk_builder` rebuilds from them
    (LiteLLM's documented way to get the whole answer, and the history message its users keep). On a
    route with thinking blocks, the signatures are read from the blocks the deltas handed out."""
    turn = assembler.turn()
    streamed = [
        block
        for chunk in assembler.chunks
        for choice in field_of(chunk, "choices") or []
        for block in field_of(field_of(choice, "delta"), "thinking_blocks") or []
    ]
    rebuilt = import_litellm().stream_chunk_builder(assembler.chunks, messages=messages)
    if thinking_blocks:
        turn.signatures = signatures_of(streamed)
        turn.thinking_blocks = 0
    if rebuilt is None or not rebuilt.choices:  # nothing to rebuild (no chunks): the deltas' message
        return turn, assembler.history_message()
    message = rebuilt.choices[0].message
    first = assembler.chunks[0]
    turn.envelope = Envelope(model=field_of(first, "model"), created=field_of(first, "created"))
    turn.built = BuiltMessage(
        content=message.content,
        reasoning_content=field_of(message, "reasoning_content"),
        tool_calls=[ToolCall.parse(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []],
        finish_reason=rebuilt.choices[0].finish_reason,
        usage=Usage.from_mapping(field_of(rebuilt, "usage")),
    )
    if thinking_blocks:
        blocks = field_of(message, "thinking_blocks")
        turn.thinking_blocks = len(blocks or [])
        turn.built.signatures = signatures_of(blocks)
    return turn, message


def signatures_of(blocks: Any) -> list[str]:
    """The signatures of thinking blocks (objects or dicts), in order."""
    return [signature for block in blocks or [] if (signature := field_of(block, "signature"))]


def cost_of(response: Any) -> CostClaim:
    """What LiteLLM says the answer cost: `completion_cost(response)`, the documented way, priced against
    the cost map this release ships. It raises for a model its cost map does not know, and that message
    is the finding."""
    with shipped_prices() as litellm:
        try:
            return CostClaim(amount=float(litellm.completion_cost(completion_response=response)))
        except Exception as exc:  # any failure to price is reported, not raised
            return CostClaim(error=" ".join(str(exc).split())[:300])


def cost_map_of(model: str, provider: str | None) -> CostMapEntry:
    """LiteLLM's cost-map entry for the model as this entry calls it (`get_model_info`, the documented
    lookup, with the call's own model and custom_llm_provider), from the map this release ships. Its
    limits and prices are what LiteLLM trims, caps and bills by; a route it does not know raises, and
    that message is the finding."""
    route = model if provider is None or model.startswith(f"{provider}/") else f"{provider}/{model}"
    with shipped_prices() as litellm:
        try:
            info = litellm.get_model_info(model=model, custom_llm_provider=provider)
        except Exception as exc:  # an unmapped route is reported, not raised
            return CostMapEntry("LiteLLM", route, missing=" ".join(str(exc).split())[:200])
    return CostMapEntry(
        "LiteLLM",
        route,
        max_input_tokens=info.get("max_input_tokens"),
        max_output_tokens=info.get("max_output_tokens") or info.get("max_tokens"),
        input_cost_per_token=info.get("input_cost_per_token"),
        output_cost_per_token=info.get("output_cost_per_token"),
        cache_read_input_token_cost=info.get("cache_read_input_token_cost"),
    )
