"""Read the configuration files agents keep, so that a user tests *their* setup (`--env-file` takes them).

The files people point GLM with, each read for what it sends where:
- OpenHands `config.toml`: `[llm]` and named `[llm.<name>]` sections (model, base_url, api_key,
  custom_llm_provider, temperature, max_output_tokens);
- Agent Zero `model_providers.yaml`: chat providers with a LiteLLM provider and `kwargs.api_base` (its native
  "Z.AI" and "Z.AI Coding" providers take `ZAI_API_KEY` / `ZAI_CODING_API_KEY`, the provider id's variable);
- a LiteLLM proxy `litellm_config.yaml`: its `model_list` (`litellm_params.model`, `api_base`, `api_key`,
  `os.environ/NAME` read from the environment);
- a Claude Code `settings.json`: its `env` block (ANTHROPIC_BASE_URL, ANTHROPIC_AUTH_TOKEN, ANTHROPIC_MODEL and
  the ANTHROPIC_DEFAULT_{OPUS,SONNET,HAIKU}_MODEL mappings);
- a Codex `config.toml`: `model`, `model_provider` and `[model_providers.<id>]` (base_url, env_key, wire_api).

Each file becomes entries — where a client would send, with which model and key — and the problems a user
can fix, in plain words: a host that is not Z.AI's, a base URL that is no Z.AI endpoint, a model Z.AI does
not serve, Codex on the Responses API without `wire_api = "responses"`. The first usable entry is the run's
target. Keys are used, never written: an entry keeps where its key came from, and the key itself only in
memory.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from conformance.catalogue import Catalogue
from conformance.envfile import PROVIDER_PREFIXES, EnvFileError, read_env_file

ZAI_HOSTS = ("api.z.ai",)  # Z.AI's API host (ZAI-FACTS §1); anything else is someone else's server
CLAUDE_MODEL_VARIABLES = (
    "ANTHROPIC_MODEL",
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
)


class AgentConfigError(ValueError):
    """The file cannot be read as any configuration this module knows."""


@dataclass
class ConfigEntry:
    """One place a configured client sends GLM requests to."""

    name: str  # where in the file: `[llm.fast]`, `model_list[0] glm-4.6`, `env`
    base_url: str | None
    model: str | None  # as written (a provider prefix included)
    provider: str | None = None  # the LiteLLM provider or the agent's wire protocol, as configured
    key_from: str | None = None  # where the key comes from (a variable name, or "the file"): printable
    api_key: str | None = field(default=None, repr=False)  # never printed, never written
    problems: list[str] = field(default_factory=list)


@dataclass
class AgentConfig:
    kind: str  # openhands | agent-zero | litellm-proxy | claude-code | codex
    path: str
    entries: list[ConfigEntry]

    @property
    def problems(self) -> list[str]:
        return [f"{entry.name}: {problem}" for entry in self.entries for problem in entry.problems]

    def variables(self) -> dict[str, str]:
        """The first entry that reaches Z.AI as the run's target, in the variables `--env-file` reads."""
        for entry in self.entries:
            if entry.base_url and _is_zai(entry.base_url):
                chosen = {"LLM_BASE_URL": entry.base_url}
                if entry.model:
                    chosen["LLM_MODEL"] = entry.model
                if entry.api_key:
                    chosen["LLM_API_KEY"] = entry.api_key
                return chosen
        return {}


def is_agent_config(path: str | Path) -> bool:
    """Whether `path` looks like an agent's file rather than a `.env` (by its extension)."""
    return Path(path).suffix.lower() in (".toml", ".yaml", ".yml", ".json")


def read_agent_config(path: str | Path, catalogue: Catalogue, environ: Mapping[str, str] | None = None) -> AgentConfig:
    environ = os.environ if environ is None else environ
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise AgentConfigError(f"{file}: cannot read it ({exc.strerror})") from None
    try:
        data = _parse(file, text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError, json.JSONDecodeError) as exc:
        raise AgentConfigError(f"{file}: not valid {file.suffix.lstrip('.').upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise AgentConfigError(f"{file}: expected a mapping at the top, got {type(data).__name__}")
    kind, entries = _entries(file, data, environ)
    for entry in entries:
        entry.problems += problems_of(entry, catalogue)
    return AgentConfig(kind, str(file), entries)


def read_configuration(path: str | Path, catalogue: Catalogue) -> tuple[dict[str, str], AgentConfig | None]:
    """The variables of a `.env` (envfile.py), or of an agent's own file (OpenHands, Codex, Claude
    Code, a LiteLLM proxy, Agent Zero) with what it reads there, problems included."""
    if not is_agent_config(path):
        return read_env_file(path), None
    if not Path(path).is_file():
        raise EnvFileError(f"--env-file {path}: no such file")
    try:
        config = read_agent_config(path, catalogue)
    except AgentConfigError as exc:
        raise EnvFileError(f"--env-file {exc}") from None
    return config.variables(), config


def _parse(file: Path, text: str) -> Any:
    suffix = file.suffix.lower()
    if suffix == ".toml":
        return tomllib.loads(text)
    if suffix == ".json":
        return json.loads(text)
    return yaml.safe_load(text)


def _entries(file: Path, data: dict[str, Any], environ: Mapping[str, str]) -> tuple[str, list[ConfigEntry]]:
    if isinstance(data.get("llm"), dict):
        return "openhands", _openhands(data["llm"])
    if isinstance(data.get("model_providers"), dict) or "model_provider" in data:
        return "codex", _codex(data, environ)
    if isinstance(data.get("model_list"), list):
        return "litellm-proxy", _proxy(data["model_list"], environ)
    if isinstance(data.get("env"), dict):
        return "claude-code", _claude_code(data["env"])
    if isinstance(data.get("chat"), dict):
        return "agent-zero", _agent_zero(data["chat"], environ)
    known = "an OpenHands config.toml ([llm]), a Codex config.toml ([model_providers]), a LiteLLM proxy config "
    known += "(model_list), a Claude Code settings.json (env) or an Agent Zero model_providers.yaml (chat)"
    raise AgentConfigError(f"{file}: none of the configurations this reads: {known}")


def _openhands(llm: dict[str, Any]) -> list[ConfigEntry]:
    """`[llm]` and each `[llm.<name>]` (a named section inherits what it does not set)."""
    base = {key: value for key, value in llm.items() if not isinstance(value, dict)}
    sections = [("[llm]", base)] + [
        (f"[llm.{name}]", {**base, **value}) for name, value in llm.items() if isinstance(value, dict)
    ]
    return [
        ConfigEntry(
            name,
            _text(section.get("base_url")),
            _text(section.get("model")),
            _text(section.get("custom_llm_provider")),
            "the file" if section.get("api_key") else None,
            _text(section.get("api_key")),
        )
        for name, section in sections
    ]


def _codex(data: dict[str, Any], environ: Mapping[str, str]) -> list[ConfigEntry]:
    providers = data.get("model_providers") or {}
    chosen = data.get("model_provider")
    entries = []
    for provider_id, provider in providers.items():
        if not isinstance(provider, dict):
            continue
        env_key = _text(provider.get("env_key"))
        entry = ConfigEntry(
            f"[model_providers.{provider_id}]",
            _text(provider.get("base_url")),
            _text(data.get("model")) if provider_id == chosen else None,
            _text(provider.get("wire_api")) or "chat",
            env_key,
            environ.get(env_key) if env_key else None,
        )
        on_responses = entry.base_url and urlsplit(entry.base_url).path.rstrip("/") == "/api/v1"
        if on_responses and entry.provider != "responses":
            entry.problems.append(
                f"wire_api is {entry.provider!r}: Z.AI serves /api/v1 as the Responses API; set "
                'wire_api = "responses" (or point base_url at /api/coding/paas/v4 for chat completions)'
            )
        entries.append(entry)
    if chosen and chosen not in providers:
        entries.append(ConfigEntry(f"model_provider = {chosen!r}", None, _text(data.get("model")), None))
    return entries


def _proxy(model_list: list[Any], environ: Mapping[str, str]) -> list[ConfigEntry]:
    entries = []
    for index, route in enumerate(model_list):
        params = route.get("litellm_params") if isinstance(route, dict) else None
        if not isinstance(params, dict):
            continue
        key_from, key = _secret(params.get("api_key"), environ)
        model = _text(params.get("model"))
        provider = model.split("/", 1)[0] if model and "/" in model else None
        entries.append(
            ConfigEntry(
                f"model_list[{index}] {route.get('model_name')}",
                _text(params.get("api_base")),
                model,
                provider,
                key_from,
                key,
            )
        )
    return entries


def _claude_code(env: dict[str, Any]) -> list[ConfigEntry]:
    base_url = _text(env.get("ANTHROPIC_BASE_URL"))
    token = next((name for name in ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY") if env.get(name)), None)
    models = [(name, _text(env.get(name))) for name in CLAUDE_MODEL_VARIABLES if env.get(name)]
    entries = [
        ConfigEntry(f"env {name}", base_url, model, "anthropic", token, _text(env.get(token)) if token else None)
        for name, model in models
    ] or [ConfigEntry("env", base_url, None, "anthropic", token, _text(env.get(token)) if token else None)]
    if base_url and base_url.rstrip("/").endswith("/v1/messages"):
        entries[0].problems.append(
            "ANTHROPIC_BASE_URL ends in /v1/messages: Claude Code appends that itself; use "
            "https://api.z.ai/api/anthropic (claude-code-router is the one that wants the full /v1/messages URL)"
        )
    return entries


def _agent_zero(chat: dict[str, Any], environ: Mapping[str, str]) -> list[ConfigEntry]:
    """Chat providers whose api_base is an HTTP URL (Agent Zero takes the key from `<ID>_API_KEY`)."""
    entries = []
    for provider_id, provider in chat.items():
        if not isinstance(provider, dict):
            continue
        base_url = _text((provider.get("kwargs") or {}).get("api_base"))
        if not base_url or ("z.ai" not in base_url and "zai" not in provider_id):
            continue  # another vendor's provider: not this harness's business
        variable = f"{provider_id.upper()}_API_KEY"
        entries.append(
            ConfigEntry(
                f"chat.{provider_id}",
                base_url,
                None,  # Agent Zero picks the model in its settings, not here
                _text(provider.get("litellm_provider")),
                variable,
                environ.get(variable),
            )
        )
    return entries


def problems_of(entry: ConfigEntry, catalogue: Catalogue) -> list[str]:
    """What is wrong with an entry, in words a user can act on (pure)."""
    problems = []
    if entry.base_url:
        host = urlsplit(entry.base_url).hostname or ""
        if not _is_zai(entry.base_url):
            guide = " — the OpenHands guide's troubleshooting names api.zai-code.com, which is not Z.AI"
            third_party = f"base URL host {host!r} is not Z.AI's (api.z.ai): requests go to a third party"
            problems.append(third_party + (guide if "zai-code" in host else ""))
        elif not _endpoint_path(entry.base_url, catalogue):
            paths = ", ".join(urlsplit(e.base_url).path for e in catalogue.endpoints)
            problems.append(f"base URL path {urlsplit(entry.base_url).path!r} is none of Z.AI's endpoints ({paths})")
    if entry.model:
        name = entry.model
        for prefix in PROVIDER_PREFIXES:
            name = name.removeprefix(prefix)
        if name.lower() not in {m.id for m in catalogue.models}:
            problems.append(f"model {entry.model!r}: Z.AI does not serve {name!r} (known: see `zai-conformance cells`)")
    if entry.key_from and not entry.api_key:
        problems.append(f"no key: {entry.key_from} is not set")
    return problems


def _endpoint_path(url: str, catalogue: Catalogue) -> bool:
    path = urlsplit(url).path.rstrip("/")
    return any(path.endswith(urlsplit(e.base_url).path.rstrip("/")) for e in catalogue.endpoints)


def _is_zai(url: str) -> bool:
    return (urlsplit(url).hostname or "") in ZAI_HOSTS


def _secret(value: Any, environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """A LiteLLM config value: `os.environ/NAME` read from the environment, or the literal."""
    text = _text(value)
    if text is None:
        return None, None
    if text.startswith("os.environ/"):
        name = text.removeprefix("os.environ/")
        return name, environ.get(name)
    return "the file", text


def _text(value: Any) -> str | None:
    return str(value).strip() if value not in (None, "") else None
