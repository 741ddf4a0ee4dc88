"""LiteLLM's `anthropic/` provider aimed at Z.AI's Anthropic-compatible endpoint with `api_base`.

OpenAI-style input (`litellm.completion(model="anthropic/<id>", api_base=…, api_key=…, messages=…)`);
LiteLLM translates it into an Anthropic Messages request to `<api_base>/v1/messages` and the answer
back into an OpenAI-style response. Two configurations, both reported:

- `LiteLLMAnthropicGuidePath`: the LiteLLM / Agent Zero guide exactly as written — model, api_base and
  the Z.AI key, nothing else. LiteLLM does not know `anthropic/glm-*`, so it refuses `reasoning_effort`
  and `thinking` (UnsupportedParamsError, before sending) and, without `max_tokens`, sends its default.
  That is what the path is tested for; nothing here works around it.
- `LiteLLMAnthropicPath`: the configuration that works. `allowed_openai_params=["reasoning_effort",
  "thinking"]` on each request — the remedy LiteLLM's own UnsupportedParamsError names, documented in
  https://docs.litellm.ai/docs/completion/drop_params — and an explicit `max_tokens` (4096, the
  Anthropic rendering's default) when the scenario has none. `litellm.register_model(...
  supports_reasoning ...)` would also lift the refusal, but it changes process-wide state: the guide
  path, run in the same process (every run does), would silently stop being the guide's configuration.

Thinking comes back as `reasoning_content` and as `thinking_blocks` (with their signatures): both are
exposed, and the returned message is appended to the history as LiteLLM's docs do, so whether LiteLLM
sends the thinking blocks back to Z.AI on the next turn shows on the wire.
"""

from __future__ import annotations

from typing import Any

from conformance.observation import Turn
from conformance.paths.base import ClientPath
from conformance.paths.litellm_zai import _litellm, _LiteLLMZai
from conformance.paths.streaming import StreamAssembler, _get
from conformance.scenario import ANTHROPIC_DEFAULT_MAX_TOKENS

REASONING_PARAMS = ("reasoning_effort", "thinking")


def _signatures(blocks: Any) -> list[str]:
    return [signature for block in blocks or [] if (signature := _get(block, "signature"))]


class _LiteLLMAnthropic(_LiteLLMZai, ClientPath):
    """What both configurations share: the `anthropic/` model prefix and api_base, LiteLLM's turn
    normalisation (`_LiteLLMZai`), and the thinking blocks read from the message or the deltas."""

    def kwargs(self, body: dict[str, Any]) -> dict[str, Any]:
        kwargs = super().kwargs(body)
        kwargs["model"] = f"anthropic/{body['model']}"
        return kwargs

    def send(self, index: int, body: dict[str, Any]) -> tuple[Turn, Any]:
        litellm = _litellm()
        kwargs = self.kwargs(body)
        if body.get("stream"):
            assembler = StreamAssembler(index)
            streamed: list[Any] = []  # thinking blocks handed out in the deltas
            for chunk in litellm.completion(**kwargs):
                assembler.add(chunk)
                for choice in _get(chunk, "choices") or []:
                    streamed += _get(_get(choice, "delta"), "thinking_blocks") or []
            turn, message = self.stream_turn(assembler, body["messages"])
            built = getattr(message, "thinking_blocks", None)  # None when the chunk builder gave up
            turn.extras["thinking_blocks"] = len(built or [])
            turn.extras["signatures"] = _signatures(streamed)
            if isinstance(turn.extras.get("chunk_builder"), dict):
                turn.extras["chunk_builder"]["signatures"] = _signatures(built)
            return turn, message
        turn, message = self.non_stream_turn(index, litellm.completion(**kwargs))
        turn.extras["signatures"] = _signatures(getattr(message, "thinking_blocks", None))
        return turn, message


class LiteLLMAnthropicGuidePath(_LiteLLMAnthropic):
    """The guide's call as written: `completion(model="anthropic/glm-4.6", api_base=…, api_key=…)`."""


class LiteLLMAnthropicPath(_LiteLLMAnthropic):
    """The working configuration: reasoning parameters allowed per request, max_tokens always given."""

    def kwargs(self, body: dict[str, Any]) -> dict[str, Any]:
        kwargs = super().kwargs(body)
        kwargs.setdefault("max_tokens", ANTHROPIC_DEFAULT_MAX_TOKENS)
        allowed = [name for name in REASONING_PARAMS if name in body]
        if allowed:
            kwargs["allowed_openai_params"] = allowed
        return kwargs
