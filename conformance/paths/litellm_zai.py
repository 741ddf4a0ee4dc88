"""LiteLLM's native `zai/` provider (`model="zai/<id>"`, `api_base` per endpoint), sync and async.

Every scenario parameter is passed as a keyword, the way LiteLLM's docs write it; whatever LiteLLM
then does with it (maps, drops, refuses) is what this path is tested for. Retries are off.
The import is deferred: `import litellm` costs seconds, paid only when a LiteLLM cell runs.
"""

from __future__ import annotations

import asyncio
import json
from functools import cache
from typing import Any

from conformance.observation import Turn
from conformance.paths.base import AsyncClientPath, ClientPath, embedding_turn
from conformance.paths.streaming import StreamAssembler, message_turn


def _litellm() -> Any:
    import logging

    import litellm

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    # Its logging worker warns whenever a new event loop appears, i.e. on every async cell.
    logging.getLogger("LiteLLM").setLevel(logging.ERROR)
    return litellm


class _LiteLLMZai:
    target: Any
    client_params: dict[str, Any]

    def kwargs(self, body: dict[str, Any]) -> dict[str, Any]:
        kwargs = {key: value for key, value in body.items() if key != "model"}
        kwargs.update(
            model=f"zai/{body['model']}",
            api_base=self.target.base_url,
            api_key=self.target.api_key,
            timeout=self.target.idle_timeout,
            num_retries=0,
            max_retries=0,
        )
        kwargs.update(self.client_params)  # LiteLLM's own arguments (`metadata`): not for the wire
        return kwargs

    @staticmethod
    def non_stream_turn(index: int, response: Any) -> tuple[Turn, Any]:
        choice = response.choices[0]
        message = choice.message
        turn = message_turn(index, message, choice.finish_reason, getattr(response, "usage", None))
        blocks = getattr(message, "thinking_blocks", None)
        turn.extras = {
            "model": response.model,
            "object": response.object,
            "created": response.created,
            "thinking_blocks": len(blocks) if blocks else 0,
            "provider_specific_fields": _plain(getattr(message, "provider_specific_fields", None)),
            **_cost(response),
        }
        # LiteLLM's docs' idiom: append the returned message object to the history as it is.
        return turn, message

    @staticmethod
    def stream_turn(assembler: StreamAssembler, messages: list[Any]) -> tuple[Turn, Any]:
        turn = assembler.turn()
        built = _litellm().stream_chunk_builder(assembler.chunks, messages=messages)
        if built is None or not built.choices:
            turn.extras = {"chunk_builder": None}
            return turn, assembler.history_message()
        message = built.choices[0].message
        turn.extras = {
            "model": assembler.chunks[0].model if assembler.chunks else None,
            "created": assembler.chunks[0].created if assembler.chunks else None,
            "chunk_builder": {
                "content": message.content,
                "reasoning_content": getattr(message, "reasoning_content", None),
                "tool_calls": [
                    {"id": c.id, "name": c.function.name, "arguments": c.function.arguments}
                    for c in message.tool_calls or []
                ],
                "finish_reason": built.choices[0].finish_reason,
                "usage": _plain(getattr(built, "usage", None)),
            },
        }
        # LiteLLM's docs rebuild a streamed answer with stream_chunk_builder and append its message.
        return turn, message


def _cost(response: Any) -> dict[str, Any]:
    """What LiteLLM says the answer cost: `completion_cost(response)`, the documented way — it raises for
    a model its cost map does not know, and that message is the finding. Priced against the cost map
    this LiteLLM release ships: the in-process proxy registers its deployments into `litellm.model_cost`
    (at no cost), and a price must not depend on whether a proxy cell ran first."""
    litellm = _litellm()
    in_use, litellm.model_cost = litellm.model_cost, _shipped_cost_map()
    try:
        return {"cost": float(litellm.completion_cost(completion_response=response))}
    except Exception as exc:  # any failure to price is reported, not raised
        return {"cost_error": " ".join(str(exc).split())[:300]}
    finally:
        litellm.model_cost = in_use


@cache
def _shipped_cost_map() -> dict[str, Any]:
    """The cost map file this LiteLLM release ships (what LITELLM_LOCAL_MODEL_COST_MAP=True loads)."""
    from importlib import resources

    return json.loads((resources.files("litellm") / "model_prices_and_context_window_backup.json").read_text())


def _plain(value: Any) -> Any:
    if value is None:
        return None
    dump = getattr(value, "model_dump", None)
    return dump() if callable(dump) else value


class LiteLLMZaiPath(_LiteLLMZai, ClientPath):
    def embed(self, body: dict[str, Any]) -> Turn:
        """`litellm.embedding()` with the path's provider prefix, endpoint and key."""
        kwargs = self.kwargs(body)
        kwargs.pop("num_retries", None)  # a completion() argument
        return embedding_turn(_litellm().embedding(**kwargs))

    def send(self, index: int, body: dict[str, Any]) -> tuple[Turn, Any]:
        litellm = _litellm()
        kwargs = self.kwargs(body)
        if body.get("stream"):
            assembler = StreamAssembler(index)
            for chunk in litellm.completion(**kwargs):
                assembler.add(chunk)
            return self.stream_turn(assembler, body["messages"])
        return self.non_stream_turn(index, litellm.completion(**kwargs))


class LiteLLMZaiAsyncPath(_LiteLLMZai, AsyncClientPath):
    def embed(self, body: dict[str, Any]) -> Turn:
        """`litellm.aembedding()`, in its own event loop (closing LiteLLM's cached aiohttp sessions)."""

        async def call() -> Any:
            litellm = _litellm()
            kwargs = self.kwargs(body)
            kwargs.pop("num_retries", None)
            try:
                return await litellm.aembedding(**kwargs)
            finally:
                await litellm.close_litellm_async_clients()
                litellm.in_memory_llm_clients_cache.flush_cache()

        return embedding_turn(asyncio.run(call()))

    async def _arun(self, scenario: Any, first_request: dict[str, Any]) -> list[Turn]:
        """Each cell runs in its own event loop; LiteLLM caches aiohttp sessions bound to the loop that
        made them, so close and forget them before the loop ends (else: "Unclosed client session")."""
        try:
            return await super()._arun(scenario, first_request)
        finally:
            litellm = _litellm()
            await litellm.close_litellm_async_clients()
            litellm.in_memory_llm_clients_cache.flush_cache()

    async def asend(self, index: int, body: dict[str, Any]) -> tuple[Turn, Any]:
        litellm = _litellm()
        kwargs = self.kwargs(body)
        if body.get("stream"):
            assembler = StreamAssembler(index)
            async for chunk in await litellm.acompletion(**kwargs):
                assembler.add(chunk)
            return self.stream_turn(assembler, body["messages"])
        return self.non_stream_turn(index, await litellm.acompletion(**kwargs))
