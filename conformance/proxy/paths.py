"""Client paths through the real LiteLLM proxy: four clients, one proxy, the guide's config.

Each path talks to the in-process proxy (`conformance.proxy.server`) with its master key; the proxy
talks to the cell's endpoint. `target.base_url` is that endpoint's base URL — the proxy's upstream,
set in its config — so the request the runner checks (the one that reached the wire) is the one the
proxy sent: whatever `drop_params` dropped or LiteLLM added shows there. The cell's endpoint picks
the proxy's model name (`glm-4.6` on the Anthropic-compatible endpoint, `coding/glm-4.6` on coding).

The proxy starts with the first proxy cell of a process (in `run`, so a start failure is the
harness's error, not the client's), and never again.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from conformance.catalogue import Catalogue, Endpoint, Scenario, load_catalogue
from conformance.observation import ErrorInfo, Turn
from conformance.paths.anthropic_sdk import AnthropicSDKPath
from conformance.paths.base import NO_CALL_OPTIONS, CallOptions, Target, describe_exception
from conformance.paths.litellm_zai import LiteLLMZaiPath
from conformance.paths.openai_sdk import OpenAISDKPath
from conformance.proxy.config import MASTER_KEY, proxy_model_name
from conformance.proxy.server import ProxyServer, get_proxy

log = logging.getLogger("conformance")

# A Z.AI business code quoted inside an error message: `"code":"1113"` (the Anthropic surface's body,
# which LiteLLM's AnthropicException repeats) or `[1113]` (that body's message).
_QUOTED_CODE = re.compile(r"""["']code["']\s*:\s*["']?(\d{4})|\[(\d{4})\]""")


@cache
def _packaged_catalogue() -> Catalogue:
    return load_catalogue()


def describe_proxy_error(exc: BaseException) -> ErrorInfo:
    """The proxy's error body puts the HTTP status in `code` (`{"error":{"code":"429",…}}`): that is not
    a Z.AI business code. Z.AI's code counts only where the client can still read it — quoted inside
    the message (the anthropic/ routes repeat Z.AI's body); otherwise the client was not told, and the
    error says so by having none."""
    info = describe_exception(exc)
    if info.code is not None and info.status is not None and info.code == str(info.status):
        quoted = [a or b for a, b in _QUOTED_CODE.findall(info.message)]
        info.code = quoted[0] if quoted else None
    return info


class EndpointUnknown(LookupError):
    """A base URL that matches no catalogue endpoint: the proxy cannot tell which route to use."""


def endpoint_for(catalogue: Catalogue, base_url: str) -> Endpoint:
    """The catalogue endpoint a (possibly overridden) base URL stands for: the same URL, or — for a
    double or a gateway on another host — the same URL path (`/api/coding/paas/v4` is coding)."""
    wanted = base_url.rstrip("/")
    for endpoint in catalogue.endpoints:
        if endpoint.base_url == wanted:
            return endpoint
    path = urlsplit(wanted).path.rstrip("/")
    for endpoint in catalogue.endpoints:
        if urlsplit(endpoint.base_url).path.rstrip("/") == path:
            return endpoint
    known = ", ".join(f"{e.id} ({urlsplit(e.base_url).path})" for e in catalogue.endpoints)
    raise EndpointUnknown(
        f"base URL {base_url!r} is none of the catalogue's endpoints and its path matches none of theirs "
        f"({known}); the proxy paths need an override that keeps the endpoint's path"
    )


class _ThroughProxy:
    """What the four proxy paths share: connect to the proxy, route the endpoint, name the model."""

    target: Target
    upstream: Target
    endpoint: Endpoint
    proxy: ProxyServer

    def _connect(self) -> ProxyServer:
        upstream = self.upstream
        self.endpoint = endpoint_for(_packaged_catalogue(), upstream.base_url)
        proxy = get_proxy(_packaged_catalogue(), {self.endpoint.id: upstream.base_url}, upstream.api_key)
        proxy.route(self.endpoint, upstream.base_url, upstream.api_key)
        self.proxy = proxy
        return proxy

    def _through(self, run: Any, scenario: Scenario, first_request: dict[str, Any]) -> list[Turn]:
        try:
            return run(scenario, first_request)
        finally:
            # The proxy may still work on a request whose client gave up (its retries): let it finish
            # while this cell's evidence is in place, so that it never reaches the next cell's.
            if not self.proxy.wait_idle(self.upstream.idle_timeout):
                log.warning("the proxy was still busy %.0f s after the client finished", self.upstream.idle_timeout)
            # a client that gave up (idle timeout) must not leave LiteLLM set as the proxy's
            self.proxy.globals.release()

    def proxy_model(self, model_id: str) -> str:
        return proxy_model_name(self.endpoint, model_id)

    def describe_error(self, exc: BaseException) -> ErrorInfo:
        return describe_proxy_error(exc)


class ProxyOpenAISDKPath(_ThroughProxy, OpenAISDKPath):
    """The OpenAI SDK to the proxy's `/v1/chat/completions`, with the master key."""

    def __init__(self, spec: Any, target: Target, *, options: CallOptions = NO_CALL_OPTIONS) -> None:
        super().__init__(spec, target, options=options)
        self.upstream = target

    def run(self, scenario: Scenario, first_request: dict[str, Any]) -> list[Turn]:
        proxy = self._connect()
        self.target = replace(self.upstream, base_url=proxy.url + "/v1", api_key=MASTER_KEY)
        return self._through(super().run, scenario, first_request)

    def send(self, index: int, body: dict[str, Any]) -> tuple[Turn, Any]:
        return super().send(index, {**body, "model": self.proxy_model(body["model"])})


class ProxyLiteLLMPath(_ThroughProxy, LiteLLMZaiPath):
    """`litellm.completion(model="litellm_proxy/<name>", api_base=<proxy>, api_key=<master key>)`:
    LiteLLM's documented way to call a LiteLLM proxy."""

    prefix = "litellm_proxy/"

    def __init__(self, spec: Any, target: Target, *, options: CallOptions = NO_CALL_OPTIONS) -> None:
        super().__init__(spec, target, options=options)
        self.upstream = target

    def run(self, scenario: Scenario, first_request: dict[str, Any]) -> list[Turn]:
        self._connect()
        return self._through(super().run, scenario, first_request)

    def kwargs(self, body: dict[str, Any]) -> dict[str, Any]:
        kwargs = super().kwargs(body)
        kwargs.update(
            model=self.prefix + self.proxy_model(body["model"]),
            api_base=self.proxy.url,
            api_key=MASTER_KEY,
        )
        return kwargs


class ProxyLiteLLMGuidePath(ProxyLiteLLMPath):
    """`litellm.completion(model="glm-4.6", api_base=<proxy>, api_key=<master key>)`, exactly as the
    Z.AI/LiteLLM guide writes it: the proxy's model name with no provider prefix. LiteLLM's SDK
    needs a provider to pick a transport; what it does without one is this path's verdict."""

    prefix = ""


class ProxyAnthropicSDKPath(_ThroughProxy, AnthropicSDKPath):
    """The Anthropic SDK to the proxy's `/v1/messages` (Anthropic style), with the master key."""

    def __init__(self, spec: Any, target: Target, *, options: CallOptions = NO_CALL_OPTIONS) -> None:
        super().__init__(spec, target, options=options)
        self.upstream = target

    def intended(self, body: dict[str, Any]) -> dict[str, Any]:
        """On an OpenAI-protocol endpoint the scenario's tools carry `strict: false`; the Anthropic
        rendering this client sends has no such flag, so its absence upstream is not the proxy's doing."""
        tools = body.get("tools")
        if not tools or not any(isinstance(t, dict) and "strict" in t.get("function", {}) for t in tools):
            return body
        stripped = [
            {**tool, "function": {k: v for k, v in tool["function"].items() if k != "strict"}}
            if isinstance(tool, dict) and isinstance(tool.get("function"), dict)
            else tool
            for tool in tools
        ]
        return {**body, "tools": stripped}

    def run(self, scenario: Scenario, first_request: dict[str, Any]) -> list[Turn]:
        proxy = self._connect()
        self.target = replace(self.upstream, base_url=proxy.url, api_key=MASTER_KEY)
        return self._through(super().run, scenario, first_request)

    def send(self, index: int, body: dict[str, Any]) -> tuple[Turn, Any]:
        return super().send(index, {**body, "model": self.proxy_model(body["model"])})
