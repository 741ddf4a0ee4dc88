"""The LiteLLM proxy's config, generated from the catalogue as Z.AI's LiteLLM guide writes it.

The guide's `litellm_config.yaml` names Anthropic-compatible routes by the plain model id
(`glm-4.6` → `anthropic/glm-4.6` at the Anthropic endpoint). The OpenAI-protocol endpoints get
`<endpoint>/<id>` names (`coding/glm-4.6` → `zai/glm-4.6` at the coding base URL), so one proxy serves
every cell. Keys are never written: each route reads `os.environ/ZAI_API_KEY`, the proxy's own
indirection, and the master key is a fixed, documented fake (a loopback test proxy, not a secret).
`drop_params: true` is the guide's setting — what it makes the proxy drop is reported per cell.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from conformance.catalogue import Catalogue, Endpoint

# The proxy's admin key for the in-process test proxy. Fake and public on purpose: the proxy listens
# on 127.0.0.1 only, for the life of one process. Not `sk-1234` (LiteLLM refuses to boot with that
# publicly known key) and key-shaped, so the scrubber redacts it like any `sk-…` string anyway.
MASTER_KEY = "sk-zai-conformance-fake-mk"  # LiteLLM wants master keys to start with sk-
# The environment variable every route's `api_key` points at (`os.environ/ZAI_API_KEY`).
KEY_ENV = "ZAI_API_KEY"


def proxy_model_name(endpoint: Endpoint, model_id: str) -> str:
    """The proxy's name for a model on an endpoint: the guide's plain id on the Anthropic-compatible
    endpoint, `<endpoint>/<id>` on the OpenAI-protocol ones."""
    return model_id if endpoint.protocol == "anthropic" else f"{endpoint.id}/{model_id}"


def upstream_model(endpoint: Endpoint, model_id: str) -> str:
    """The LiteLLM model string a route calls upstream with: anthropic/ on the Anthropic endpoint, zai/ on
    the chat endpoints, and openai/ on the Responses API (zai/ has no Responses transformation; openai/
    posts to `<api_base>/responses`)."""
    prefix = {"anthropic": "anthropic", "responses": "openai"}.get(endpoint.protocol, "zai")
    return f"{prefix}/{model_id}"


def base_urls_for(catalogue: Catalogue, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each endpoint's base URL: the run's override (the double's, a gateway's) or the catalogue's."""
    overrides = overrides or {}
    return {e.id: overrides.get(e.id, e.base_url).rstrip("/") for e in catalogue.endpoints}


def model_list(catalogue: Catalogue, base_urls: Mapping[str, str]) -> list[dict[str, Any]]:
    """One route per endpoint × model the catalogue pairs (a model restricted to some endpoints, or an
    endpoint to some models, gets routes on those only)."""
    routes = []
    for endpoint in catalogue.endpoints:
        for model in catalogue.models:
            if model.endpoints is not None and endpoint.id not in model.endpoints:
                continue
            if endpoint.models is not None and model.id not in endpoint.models:
                continue
            routes.append(
                {
                    "model_name": proxy_model_name(endpoint, model.id),
                    "litellm_params": {
                        "model": upstream_model(endpoint, model.id),
                        "api_base": base_urls[endpoint.id],
                        "api_key": f"os.environ/{KEY_ENV}",
                    },
                }
            )
    return routes


def build_config(catalogue: Catalogue, base_urls: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The whole config document: routes, the master key, `drop_params` (the guide's three parts)."""
    return {
        "model_list": model_list(catalogue, base_urls_for(catalogue, base_urls)),
        # The proxy also schedules a model-info refresh job at start, which queries OpenAI-like providers'
        # GET /models — the Responses API's openai/ routes included: a request no cell made, recorded into
        # whichever cell ran first. Off (`disable_model_info_refresh`, read by LiteLLM from 1.108).
        "general_settings": {"master_key": MASTER_KEY, "disable_model_info_refresh": True},
        "litellm_settings": {"drop_params": True},
    }


def write_config(config: Mapping[str, Any], directory: str | Path | None = None) -> Path:
    """Write the config to a new temporary YAML file and return its path. The proxy removes it with
    `remove_config` when it loads another or stops; whatever is left — a proxy nobody stopped, a
    start that failed half-way — is removed at interpreter exit, so no run leaves configs behind."""
    text = yaml.safe_dump(dict(config), sort_keys=False)
    descriptor, name = tempfile.mkstemp(suffix=".yaml", prefix="zai-conformance-proxy-", dir=directory)
    path = Path(name)
    _WRITTEN.add(path)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def remove_config(path: Path) -> None:
    """Remove a config file `write_config` wrote (one already gone is fine)."""
    path.unlink(missing_ok=True)
    _WRITTEN.discard(path)


def remove_written_configs() -> None:
    """Remove every config file this process wrote and has not removed yet (runs at exit)."""
    for path in list(_WRITTEN):
        with contextlib.suppress(OSError):
            remove_config(path)


_WRITTEN: set[Path] = set()  # the config files of this process still on disk
atexit.register(remove_written_configs)  # after the proxy's own stop, which atexit runs first (LIFO)
