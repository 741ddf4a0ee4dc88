"""Which exchanges of a corpus are Z.AI traffic: only those are measured.

Why: a recording client records everything it sends. crush's cassettes hold the pages its fetch,
download and sourcegraph tools read during the tests (httpbin.org, sourcegraph.com, a file host):
real bytes, but not Z.AI's, and no double of Z.AI should answer them. An exchange is Z.AI traffic
when its URL is on a catalogue endpoint's host and below one of the endpoints' base paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from conformance.catalogue import load_catalogue
from conformance.fidelity.corpus.exchange import RealExchange


@dataclass(frozen=True)
class LeftOut:
    """An exchange not measured, and why."""

    name: str
    url: str
    reason: str


@cache
def zai_hosts() -> frozenset[str]:
    return frozenset(urlsplit(e.base_url).hostname or "" for e in load_catalogue().endpoints)


def left_out_reason(exchange: RealExchange) -> str | None:
    """Why an exchange is not Z.AI traffic; None when it is."""
    host = urlsplit(exchange.url).hostname or ""
    if host not in zai_hosts():
        return f"not Z.AI traffic: a request to {host or '(no host)'}"
    if exchange.endpoint is None:
        return f"on {host} but below no Z.AI endpoint: {urlsplit(exchange.url).path}"
    return None
