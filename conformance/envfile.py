"""Build a run's target from the configuration files the integration guides document.

(An agent's own file — OpenHands' config.toml, Codex's, Claude Code's settings.json, a LiteLLM proxy
config, Agent Zero's model_providers.yaml — is read by agent_configs.py into the same variables:
agent_configs.read_configuration takes either.)

Two shapes are read, from a `.env` file (python-dotenv, as the LiteLLM guide's standalone project
does) or from the environment:
- the guide's standalone project: `ZAI_API_KEY`, `ZAI_BASE_URL`, `GLM_MODEL`;
- OpenHands: `LLM_API_KEY`, `LLM_BASE_URL`, `LLM_MODEL` (a provider prefix such as `zai/` or
  `openai/` is allowed), `LLM_CUSTOM_LLM_PROVIDER`.
The base URL names the endpoint (by its path: `/api/paas/v4`, `/api/coding/paas/v4`,
`/api/anthropic`) and, when its host is not Z.AI's, aims that endpoint there; the model selects the
cells. The key is used, never written anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from conformance.catalogue import Catalogue, Endpoint

PROVIDER_PREFIXES = ("zai/", "openai/", "anthropic/", "litellm_proxy/", "hosted_vllm/")


class EnvFileError(ValueError):
    """The configuration names something the catalogue does not know, or cannot be read."""


@dataclass
class EnvTarget:
    api_key: str | None = None
    endpoint: str | None = None
    base_url: str | None = None  # set only when it differs from the catalogue's
    model: str | None = None
    provider: str | None = None
    used: dict[str, str] = field(default_factory=dict)  # variable → what it set (never the key itself)

    def cell_patterns(self) -> list[str]:
        if self.model is None and self.endpoint is None:
            return []
        return [f"{self.endpoint or '*'}/{self.model or '*'}/*"]


def read_env_file(path: str | Path) -> dict[str, str]:
    file = Path(path)
    if not file.is_file():
        raise EnvFileError(f"--env-file {file}: no such file")
    return {key: value for key, value in dotenv_values(file).items() if value is not None}


def target_from(variables: Mapping[str, str], catalogue: Catalogue) -> EnvTarget:
    target = EnvTarget()
    for name in ("ZAI_API_KEY", "LLM_API_KEY"):
        if variables.get(name):
            target.api_key = variables[name]
            target.used[name] = "the API key"
            break
    for name in ("ZAI_BASE_URL", "LLM_BASE_URL"):
        if variables.get(name):
            endpoint = endpoint_of(variables[name], catalogue, name)
            target.endpoint = endpoint.id
            url = variables[name].rstrip("/")
            if url != endpoint.base_url:
                target.base_url = url
            target.used[name] = f"endpoint {endpoint.id}" + (f" at {url}" if target.base_url else "")
            break
    for name in ("GLM_MODEL", "LLM_MODEL"):
        if variables.get(name):
            target.model = model_of(variables[name], catalogue, name)
            target.used[name] = f"model {target.model}"
            break
    if variables.get("LLM_CUSTOM_LLM_PROVIDER"):
        target.provider = variables["LLM_CUSTOM_LLM_PROVIDER"]
        target.used["LLM_CUSTOM_LLM_PROVIDER"] = f"provider {target.provider}"
    return target


def endpoint_of(url: str, catalogue: Catalogue, variable: str) -> Endpoint:
    path = urlsplit(url).path.rstrip("/")
    for endpoint in sorted(catalogue.endpoints, key=lambda e: len(urlsplit(e.base_url).path), reverse=True):
        if path.endswith(urlsplit(endpoint.base_url).path.rstrip("/")):
            return endpoint
    known = ", ".join(f"{e.id} ({urlsplit(e.base_url).path})" for e in catalogue.endpoints)
    raise EnvFileError(f"{variable}={url}: its path matches no endpoint (known: {known})")


def model_of(value: str, catalogue: Catalogue, variable: str) -> str:
    name = value.strip()
    for prefix in PROVIDER_PREFIXES:
        name = name.removeprefix(prefix)
    if name.lower() not in {m.id for m in catalogue.models}:
        raise EnvFileError(f"{variable}={value}: {name!r} is not in the catalogue (add it there first)")
    return name.lower()
