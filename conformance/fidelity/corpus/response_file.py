"""Response files (`*.json`, `*.sse`): a chat response cut from a recording, with a sibling
`<file>.request.json` holding its request body — or, without one, a capture whose request is
reconstructed. The endpoint comes from the file name (`coding_…`), else the protocol's default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from conformance.fidelity.corpus.bodies import body_format, protocol_of, success
from conformance.fidelity.corpus.endpoints import base_url, chat_url, default_auth, endpoint_from_name, route
from conformance.fidelity.corpus.exchange import (
    RealExchange,
    RealRequest,
    RealResponse,
    new_exchange,
    reconstructed_request,
)
from conformance.fidelity.corpus.source_notes import kind_from_source

REQUEST_SUFFIX = ".request.json"  # the sibling holding a response file's request body


def load(corpus: Path, file: Path) -> Iterator[RealExchange]:
    text = file.read_text(encoding="utf-8")
    fmt = body_format(text)
    if fmt == "text":
        return
    sibling = file.with_name(file.name + REQUEST_SUFFIX)
    protocol = protocol_of(text, fmt)
    if protocol is None:
        return  # not a chat response (e.g. an OpenAPI excerpt)
    inferred = success(text, fmt)
    notes = []
    if inferred:
        notes.append("status not recorded: 200 implied by a success body")
    notes.append("response headers not recorded: content-type not compared")
    if sibling.exists():
        endpoint = endpoint_from_name(file, protocol)
        url = base_url(endpoint) + route(protocol)
        notes.append(f"endpoint {endpoint} from the file name; the request file holds the body only")
        request = RealRequest(
            "POST",
            url,
            {"content-type": "application/json"},
            default_auth(endpoint),
            sibling.read_bytes(),
            "recorded",
        )
        trust = "real: response body cut verbatim from a recording, request body beside it"
    else:
        url = chat_url(file, protocol)
        request = reconstructed_request(protocol, url, text, fmt)
        trust = "real capture without its request"
    yield new_exchange(
        corpus,
        file,
        None,
        url=url,
        request=request,
        response=RealResponse(200 if inferred else None, None, text, fmt, status_inferred=inferred),
        trust=kind_from_source(file) or trust,
        notes=notes,
    )
