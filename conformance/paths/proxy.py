"""Client paths through the real LiteLLM proxy: a client aimed at the in-process proxy with its master
key, the proxy aimed at the cell's endpoint — the Z.AI/LiteLLM guide's setup.

One adapter, `ThroughProxy`, composed with the client that calls the proxy; each catalogue entry names
that client and its options:

    options:
      client: conformance.paths.openai_sdk:OpenAISDKPath   # any client path adapter
      client_options: {}                                   # that adapter's own options
      base_path: /v1                                       # where on the proxy the client's base URL points

The path is built (`ThroughProxy.build`) with the run's catalogue: it finds the catalogue endpoint the
cell's base URL stands for, starts the proxy if this process has none yet (its module costs seconds to
import; a start failure is the harness's error, not the client's), routes that endpoint to the cell's
base URL and key, and builds the client with the proxy's URL and master key as its target. The cell's
endpoint picks the proxy's model name (`glm-4.6` on the Anthropic-compatible endpoint, `coding/glm-4.6`
on coding). The request the runner checks is the one the proxy sent upstream: whatever `drop_params`
dropped or LiteLLM added shows there.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

from pydantic import Field

from conformance.catalogue import Catalogue, ClientPathSpec, Endpoint, Scenario, endpoint_for
from conformance.observation import ErrorInfo, Turn
from conformance.paths.base import (
    NO_CALL_OPTIONS,
    CallOptions,
    ClientPath,
    PathOptions,
    Target,
    build_path,
    describe_exception,
    load_adapter,
)
from conformance.proxy.config import MASTER_KEY, proxy_model_name
from conformance.proxy.server import ProxyServer, get_proxy

log = logging.getLogger("conformance")

# A Z.AI business code quoted inside an error message: `"code":"1113"` (the Anthropic surface's body,
# which LiteLLM's AnthropicException repeats) or `[1113]` (that body's message).
_QUOTED_CODE = re.compile(r"""["']code["']\s*:\s*["']?(\d{4})|\[(\d{4})\]""")


class ProxyOptions(PathOptions):
    client: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")  # the client path adapter
    client_options: dict[str, Any] = Field(default_factory=dict)
    base_path: str = ""


def relayed_error(info: ErrorInfo) -> ErrorInfo:
    """An error the proxy relayed, as its client can read it. The proxy's error body puts the HTTP status
    in `code` (`{"error":{"code":"429",…}}`): that is not a Z.AI business code. Z.AI's code counts only
    where the client can still read it — quoted inside the message (the anthropic/ routes repeat Z.AI's
    body); otherwise the client was not told, and the error says so by having none."""
    if info.code is not None and info.status is not None and info.code == str(info.status):
        quoted = [a or b for a, b in _QUOTED_CODE.findall(info.message)]
        return replace(info, code=quoted[0] if quoted else None)
    return info


def describe_proxy_error(exc: BaseException) -> ErrorInfo:
    """A client exception raised on an answer of the proxy (see `relayed_error`)."""
    return relayed_error(describe_exception(exc))


def _without_strict(body: dict[str, Any]) -> dict[str, Any]:
    """The body without the tools' `strict` flag (OpenAI-protocol tools carry `strict: false`)."""
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


def _client_spec(spec: ClientPathSpec, config: ProxyOptions) -> ClientPathSpec:
    """The entry as the client's own: its adapter and options in place of the proxy path's."""
    return spec.model_copy(update={"adapter": config.client, "options": config.client_options})


class ThroughProxy(ClientPath):
    """A client path whose client calls the LiteLLM proxy; `target` is the proxy (URL, master key),
    `upstream` the cell's endpoint behind it."""

    Options = ProxyOptions

    def __init__(
        self,
        spec: ClientPathSpec,
        target: Target,
        *,
        client: ClientPath,
        proxy: ProxyServer,
        endpoint: Endpoint,
        upstream: Target,
        options: CallOptions = NO_CALL_OPTIONS,
    ) -> None:
        super().__init__(spec, target, options=options)
        self.client = client
        self.proxy = proxy
        self.endpoint = endpoint
        self.upstream = upstream

    @classmethod
    def options_of(cls, spec: ClientPathSpec) -> ProxyOptions:
        """The entry's options, the client's included (read by the client's adapter)."""
        config: ProxyOptions = super().options_of(spec)
        client_spec = _client_spec(spec, config)
        load_adapter(client_spec).options_of(client_spec)
        return config

    @classmethod
    def build(
        cls,
        spec: ClientPathSpec,
        target: Target,
        *,
        catalogue: Catalogue,
        options: CallOptions = NO_CALL_OPTIONS,
    ) -> ThroughProxy:
        """Route the proxy to the cell's endpoint (starting it if needed) and aim the client at it."""
        config = cls.options_of(spec)
        endpoint = endpoint_for(catalogue, target.base_url)
        proxy = get_proxy(catalogue, {endpoint.id: target.base_url}, target.api_key)
        proxy.route(endpoint, target.base_url, target.api_key, catalogue=catalogue)
        at_proxy = replace(target, base_url=proxy.url + config.base_path, api_key=MASTER_KEY)
        client = build_path(_client_spec(spec, config), at_proxy, catalogue=catalogue, options=options)
        return cls(spec, at_proxy, client=client, proxy=proxy, endpoint=endpoint, upstream=target, options=options)

    def proxy_model(self, model_id: str) -> str:
        return proxy_model_name(self.endpoint, model_id)

    def intended(self, body: dict[str, Any]) -> dict[str, Any]:
        """The client's intent; a client whose own API is Anthropic's renders the scenario's tools
        without OpenAI's `strict` flag, so its absence upstream is not the proxy's doing."""
        intended = self.client.intended(body)
        return _without_strict(intended) if self.spec.api == "anthropic" else intended

    def run(self, scenario: Scenario, first_request: dict[str, Any]) -> list[Turn]:
        if scenario.operation == "chat":  # a chat names the proxy's model; other operations go as they are
            first_request = {**first_request, "model": self.proxy_model(first_request["model"])}
        try:
            turns = self.client.run(scenario, first_request)
        finally:
            # The proxy may still work on a request whose client gave up (its retries): let it finish
            # while this cell's evidence is in place, so that it never reaches the next cell's.
            if not self.proxy.wait_idle(self.upstream.idle_timeout):
                log.warning("the proxy was still busy %.0f s after the client finished", self.upstream.idle_timeout)
            # a client that gave up (idle timeout) must not leave LiteLLM set as the proxy's
            self.proxy.globals.release()
        for turn in turns:
            if turn.error is not None:
                turn.error = relayed_error(turn.error)
        return turns

    def send(self, index: int, body: dict[str, Any]) -> tuple[Turn, Any]:
        return self.client.send(index, {**body, "model": self.proxy_model(body["model"])})

    def describe_error(self, exc: BaseException) -> ErrorInfo:
        return describe_proxy_error(exc)

    def close(self) -> None:
        self.client.close()
