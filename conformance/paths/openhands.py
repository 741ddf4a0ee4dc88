"""LiteLLM configured the way OpenHands configures it from its `LLM_*` variables
(`openhands/llm/llm.py`, `openhands/core/config/llm_config.py`, `openhands/llm/model_features.py`) —
the setup of a LiteLLM path whose catalogue entry has `options: {openhands: {LLM_…: …}}` (the settings
its user makes; the model, key and base URL come from the cell):

    LLM_MODEL=glm-4.6  LLM_CUSTOM_LLM_PROVIDER=zai  LLM_BASE_URL=<endpoint>  LLM_API_KEY=…
    LLM_TEMPERATURE=0.6  LLM_MAX_OUTPUT_TOKENS=4096  LLM_NATIVE_TOOL_CALLING=true

* The model is Z.AI's own id: the provider comes separately (`custom_llm_provider`), and LiteLLM strips
  a matching `zai/` prefix anyway, so `LLM_MODEL=zai/glm-4.6` puts the same request on the wire.
* OpenHands builds one `functools.partial(litellm.completion, …)` from its config: model, api_key,
  base_url, api_version, custom_llm_provider, timeout, drop_params (default True), seed, plus
  `temperature`, `max_completion_tokens=max_output_tokens` and `top_p` (default 1.0). GLM matches
  none of OpenHands' reasoning-effort patterns, so temperature and top_p stay and no
  `reasoning_effort` is configured. Callers add messages, tools and per-call options; the scenario's
  own `max_tokens` gives way to the configured maximum output (OpenHands has no per-call knob for it).
* `litellm.modify_params` is set from the config (default True) before each call, as OpenHands does;
  here only for the duration of the call, because it is process-global.
* GLM matches none of OpenHands' function-calling patterns: without `LLM_NATIVE_TOOL_CALLING=true`
  OpenHands would rewrite tools into prompt text (its fn_call_converter) — a different request that
  no Z.AI recording answers. With it, OpenHands serialises every message with list content
  (`[{"type": "text", "text": …}]`), tool results with their tool `name`, and an assistant turn
  built from the response: its text only when non-blank, its tool calls as
  `{id, type, function{name, arguments}}`, no reasoning_content.
* OpenHands streams through its StreamingLLM (`acompletion` with the same partial and `stream=True`);
  this path streams with `completion(stream=True)` and the same configuration.
The harness's own settings override OpenHands' on purpose: retries off (OpenHands retries in its
wrapper) and the idle timeout (OpenHands' default is none).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from conformance.litellm_globals import modify_params
from conformance.observation import field_of
from conformance.paths.base import Target


@dataclass(frozen=True)
class OpenHandsLLMConfig:
    """The part of OpenHands' LLMConfig that shapes the LiteLLM call, with OpenHands' defaults."""

    model: str
    api_key: str | None = None
    base_url: str | None = None
    api_version: str | None = None
    custom_llm_provider: str | None = None
    timeout: int | None = None
    temperature: float = 0.0
    top_p: float | None = 1.0
    top_k: float | None = None
    max_output_tokens: int | None = None
    drop_params: bool = True
    modify_params: bool = True
    native_tool_calling: bool | None = None
    seed: int | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> OpenHandsLLMConfig:
        """`LLM_<FIELD>` variables, cast to each field's type, as OpenHands loads them."""
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = environ.get(f"LLM_{field.name.upper()}")
            if raw is not None:
                values[field.name] = _cast(raw, str(field.type))
        if values.get("max_output_tokens") is None:
            values["max_output_tokens"] = 4096  # OpenHands' fallback when neither config nor model info has one
        return cls(**values)

    @property
    def function_calling_active(self) -> bool:
        # OpenHands' model_features has no GLM pattern: only the explicit setting turns native tools on.
        return bool(self.native_tool_calling)

    def completion_partial(self) -> dict[str, Any]:
        """The keyword arguments OpenHands binds into its `partial(litellm.completion, …)`."""
        kwargs: dict[str, Any] = {"temperature": self.temperature, "max_completion_tokens": self.max_output_tokens}
        if self.top_k is not None:
            kwargs["top_k"] = self.top_k
        if self.top_p is not None:
            kwargs["top_p"] = self.top_p
        return {
            "model": self.model,
            "api_key": self.api_key,
            "base_url": self.base_url,
            "api_version": self.api_version,
            "custom_llm_provider": self.custom_llm_provider,
            "timeout": self.timeout,
            "drop_params": self.drop_params,
            "seed": self.seed,
            **kwargs,
        }


def _cast(raw: str, annotation: str) -> Any:
    if "bool" in annotation:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if "int" in annotation:
        return int(raw)
    if "float" in annotation:
        return float(raw)
    return raw


def _text_parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, list):
        return content
    return [{"type": "text", "text": content}] if content else []


def openhands_messages(messages: list[Any]) -> list[dict[str, Any]]:
    """Messages as OpenHands' `Message` list serializer writes them when function calling is active."""
    names: dict[str, str] = {}
    serialised = []
    for message in messages:
        message = dict(message)
        role = message["role"]
        out: dict[str, Any] = {"content": _text_parts(message.get("content")), "role": role}
        if role == "assistant" and message.get("tool_calls") is not None:
            out["tool_calls"] = message["tool_calls"]
            names.update({c["id"]: c["function"]["name"] for c in message["tool_calls"]})
        if role == "tool":
            out["tool_call_id"] = message["tool_call_id"]
            out["name"] = message.get("name") or names.get(message["tool_call_id"])
        serialised.append(out)
    return serialised


def openhands_assistant_message(message: Any) -> dict[str, Any]:
    """The assistant turn as OpenHands' conversation memory rebuilds it from a LiteLLM message."""
    content = field_of(message, "content")
    calls = field_of(message, "tool_calls")
    out: dict[str, Any] = {
        "content": [{"type": "text", "text": content}] if content and content.strip() else [],
        "role": "assistant",
    }
    if calls is not None:
        out["tool_calls"] = [
            {
                "id": field_of(call, "id"),
                "type": "function",
                "function": {
                    "name": field_of(field_of(call, "function"), "name"),
                    "arguments": field_of(field_of(call, "function"), "arguments"),
                },
            }
            for call in calls
        ]
    return out


@dataclass(frozen=True)
class OpenHandsSetup:
    """LiteLLM called the way OpenHands' LLM wrapper calls it, configured from `LLM_*` settings (the
    catalogue entry's) plus the model, key and base URL of the cell."""

    settings: Mapping[str, str]
    target: Target
    client_params: Mapping[str, Any]

    def config(self, model: str) -> OpenHandsLLMConfig:
        environment = {
            "LLM_MODEL": model,
            "LLM_API_KEY": self.target.api_key,
            "LLM_BASE_URL": self.target.base_url,
            **self.settings,
        }
        return OpenHandsLLMConfig.from_environment(environment)

    def intended(self, body: dict[str, Any]) -> dict[str, Any]:
        """The scenario with the configured maximum output, and the configured temperature where the
        scenario sets none. A scenario's own temperature stays the intent: OpenHands' agent cannot pass one
        per call, so the request checks report its replacement by LLM_TEMPERATURE (OpenHands' own
        defaults, such as top_p 1.0, are reported the same way)."""
        config = self.config(body["model"])
        return {"temperature": config.temperature, **body, "max_tokens": config.max_output_tokens}

    def kwargs(self, body: dict[str, Any]) -> dict[str, Any]:
        config = self.config(body["model"])
        # what OpenHands' agent passes per call: the conversation and tools, never its configured settings
        configured = ("model", "max_tokens", "temperature")
        per_call = {key: copy.deepcopy(value) for key, value in body.items() if key not in configured}
        if config.function_calling_active:
            per_call["messages"] = openhands_messages(body["messages"])
        # The harness's settings win: no retries, the run's idle timeout.
        return {
            **config.completion_partial(),
            **per_call,
            "timeout": self.target.idle_timeout,
            "num_retries": 0,
            "max_retries": 0,
            **self.client_params,
        }

    def around(self, body: dict[str, Any]) -> contextlib.AbstractContextManager[Any]:
        """`litellm.modify_params` as the config sets it, for the call (OpenHands sets it before each)."""
        return modify_params(self.config(body["model"]).modify_params)

    def history(self, message: Any) -> dict[str, Any]:
        return openhands_assistant_message(message)
