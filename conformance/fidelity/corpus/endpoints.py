"""Where a real exchange was sent: the catalogue endpoint of a URL, and an endpoint's base and auth."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from conformance.catalogue import Catalogue, load_catalogue


@cache
def _catalogue() -> Catalogue:
    return load_catalogue()


def _bases() -> list[tuple[str, str, str]]:
    """(base path, endpoint id, protocol), longest base first."""
    catalogue = _catalogue()
    bases = [(re.sub(r"^https?://[^/]+", "", e.base_url), e.id, e.protocol) for e in catalogue.endpoints]
    return sorted(bases, key=lambda base: len(base[0]), reverse=True)


def endpoint_of(url: str) -> tuple[str | None, str]:
    """The catalogue endpoint (id, protocol) a real URL falls under; (None, guess) when none."""
    path = re.sub(r"^https?://[^/]+", "", url).split("?", 1)[0]
    for base, endpoint, protocol in _bases():
        if path.startswith(base + "/"):
            return endpoint, protocol
    return None, "anthropic" if path.startswith("/v1/messages") else "openai"


def base_url(endpoint: str) -> str:
    return next(e.base_url for e in _catalogue().endpoints if e.id == endpoint)


def default_auth(endpoint: str | None) -> str:
    return next((e.auth for e in _catalogue().endpoints if e.id == endpoint), "bearer")


def route(protocol: str) -> str:
    """The chat route below an endpoint's base."""
    return "/v1/messages" if protocol == "anthropic" else "/chat/completions"


def endpoint_from_name(file: Path, protocol: str) -> str:
    """A response file says its endpoint by a prefix naming one (`coding_…`); else the protocol's default."""
    for endpoint in (e.id for e in _catalogue().endpoints):
        if file.name.startswith(endpoint + "_"):
            return endpoint
    return "anthropic" if protocol == "anthropic" else "general"


def chat_url(file: Path, protocol: str) -> str:
    """The real chat URL of a capture that does not state one: by its file name, else the protocol's default."""
    return base_url(endpoint_from_name(file, protocol)) + route(protocol)
