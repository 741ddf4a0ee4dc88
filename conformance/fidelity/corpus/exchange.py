"""A real exchange as the fidelity measurement replays it: the request (recorded, or reconstructed
when the capture has none), the real response, where it came from, how far to trust it, and what not
to compare in it. Every loader builds its exchanges with `new_exchange`, which applies fidelity.yaml."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from conformance.fidelity.corpus.endpoints import base_url, default_auth, endpoint_of, route
from conformance.fidelity.reconstruct import reconstruct
from conformance.fidelity.rules import rules_for


@dataclass(frozen=True)
class RealRequest:
    """A request as Z.AI got it (credentials removed), or as reconstructed from its response."""

    method: str
    url: str  # the real URL, on https://api.z.ai
    headers: dict[str, str]  # lower-cased names, no credentials, no per-connection headers
    auth: str  # how the key travelled: "bearer" | "x-api-key" | "none"
    body: bytes
    origin: str  # "recorded" | "reconstructed"


@dataclass(frozen=True)
class RealResponse:
    status: int | None  # None: not recorded
    headers: dict[str, str] | None  # lower-cased names; None: not recorded
    body: str
    format: str  # "json" | "sse" | "message" (a message joined from a session log) | "text" (no parseable body)
    status_inferred: bool = False  # a success body without a status line: 200 by implication


@dataclass(frozen=True)
class RealExchange:
    """One real request/response pair, with its provenance and what not to compare in it."""

    corpus: Path
    file: Path
    section: str | None  # interaction, `## section`, message id or error line within the file
    url: str
    endpoint: str | None  # catalogue endpoint id, None when the URL is on none of them
    protocol: str  # "openai" | "anthropic"
    request: RealRequest | None  # None for error entries: the double is asked by its own trigger
    response: RealResponse
    trust: str  # how the source came to be, in the source's own words where it gives them
    ignore: dict[str, str] = field(default_factory=dict)  # aspect → why it is not compared
    lenient_ignore: dict[str, str] = field(default_factory=dict)  # not compared by the lenient measure only
    notes: tuple[str, ...] = ()  # other judgement calls made while loading
    error_code: str | None = None  # set for error entries
    exception_keys: tuple[str, ...] = ()  # the fidelity.yaml entries that applied

    @property
    def name(self) -> str:
        relative = self.file.relative_to(self.corpus).as_posix()
        return f"{relative} [{self.section}]" if self.section else relative

    @property
    def folder(self) -> str:
        parts = self.file.relative_to(self.corpus).parts
        return parts[0] if len(parts) > 1 else "."

    @property
    def request_origin(self) -> str:
        return self.request.origin if self.request else "error trigger"


def new_exchange(
    corpus: Path,
    file: Path,
    section: str | None,
    *,
    url: str,
    request: RealRequest | None,
    response: RealResponse,
    trust: str,
    ignore: dict[str, str] | None = None,
    notes: Iterable[str] = (),
    error_code: str | None = None,
) -> RealExchange:
    """An exchange with its fidelity.yaml exceptions applied (an `endpoint:` there moves its URL)."""
    rules = rules_for(corpus, file, section)
    endpoint, protocol = endpoint_of(url)
    if rules.endpoint:
        endpoint = rules.endpoint
        url = base_url(endpoint) + route(protocol)
    return RealExchange(
        corpus=corpus,
        file=file,
        section=section,
        url=url,
        endpoint=endpoint,
        protocol=protocol,
        request=request,
        response=response,
        trust=rules.trust or trust,
        ignore={**(ignore or {}), **rules.ignore},
        lenient_ignore=rules.lenient_ignore,
        notes=tuple(notes),
        error_code=error_code,
        exception_keys=tuple(rules.keys),
    )


def reconstructed_request(protocol: str, url: str, text: str, fmt: str, stream: bool | None = None) -> RealRequest:
    """The minimal request for a captured response, sent to `url` with its endpoint's auth."""
    request = reconstruct(protocol, text, fmt, stream)
    endpoint, _ = endpoint_of(url)
    return RealRequest("POST", url, request.headers, default_auth(endpoint), request.body, "reconstructed")
