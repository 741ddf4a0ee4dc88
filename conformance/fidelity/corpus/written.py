"""One exchange written out in a text capture's `## sections`: the request (request line, headers,
body), the response headers (status line first) and the body. Headers the author elided are noted;
a request body that does not parse is reconstructed from the response."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conformance.fidelity.corpus.bodies import body_format, clean_headers
from conformance.fidelity.corpus.endpoints import base_url, endpoint_of
from conformance.fidelity.corpus.exchange import (
    RealExchange,
    RealRequest,
    RealResponse,
    new_exchange,
    reconstructed_request,
)
from conformance.wire.sse import read_events

_REQUEST_LINE = re.compile(r"^(GET|POST|PUT|DELETE|PATCH) (\S+) HTTP/[\d.]+$")
_STATUS_LINE = re.compile(r"^HTTP/[\d.]+ (\d{3})\b")
_HEADER = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*):\s*(.*)$")


def is_request(section: str) -> bool:
    """Whether a section is a written-out request (it opens with a request line)."""
    return bool(_REQUEST_LINE.match(section.strip().split("\n")[0]))


def load(corpus: Path, file: Path, sections: list[tuple[str, str]], request_text: str, trust: str) -> RealExchange:
    notes: list[str] = []
    lines = request_text.strip().split("\n")
    method, path = _REQUEST_LINE.match(lines[0]).groups()  # type: ignore[union-attr]
    headers: dict[str, str] = {}
    elided_headers = False
    for line in lines[1:]:
        if not line.strip():
            break
        match = _HEADER.match(line.strip())
        if match:
            headers[match.group(1)] = match.group(2)
        else:
            elided_headers = True
    if elided_headers:
        notes.append("request headers partly elided by the source: replayed with the ones shown")
    host = next((v for k, v in headers.items() if k.lower() == "host"), "api.z.ai")
    url = f"https://{host}{path}"
    endpoint, protocol = endpoint_of(url)
    if endpoint is None:
        # A path below no endpoint's base (`/v1/messages?beta=true`): the client-side path, which the
        # proxy forwards below the endpoint base of its protocol.
        endpoint = "anthropic" if protocol == "anthropic" else "general"
        url = base_url(endpoint) + path
        notes.append(f"request path {path} is below no endpoint base: resolved against the {endpoint} base")
    clean, auth = clean_headers(headers)
    body_text = request_text[request_text.find("{") :] if "{" in request_text else ""
    status: int | None = None
    received: dict[str, str] | None = None
    body, fmt = "", "text"
    for _, section in sections:
        first = section.strip().split("\n")[0]
        status_line = _STATUS_LINE.match(first)
        if status_line:
            status = int(status_line.group(1))
            received = {}
            for line in section.strip().split("\n")[1:]:
                match = _HEADER.match(line.strip())
                if match:
                    received[match.group(1).lower()] = match.group(2)
        elif section is not request_text and body_format(section) in ("sse", "json") and not body:
            body, fmt = section, body_format(section)
    try:
        json.loads(body_text)
        request: RealRequest | None = RealRequest(method, url, clean, auth, body_text.encode("utf-8"), "recorded")
    except ValueError:
        request = reconstructed_request(protocol, url, body, fmt)
        notes.append("request body unparseable in the source: reconstructed from the response")
    if fmt == "sse" and any(not e.known and not e.done for e in read_events(body)):
        notes.append("some data payloads elided by the source ('...'): compared as unknown")
    return new_exchange(
        corpus,
        file,
        None,
        url=url,
        request=request,
        response=RealResponse(status, received, body, fmt),
        trust=trust,
        notes=notes,
    )
