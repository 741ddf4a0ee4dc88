"""go-vcr cassettes (`*.yaml` with `interactions`): every interaction, both turns, as recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import yaml

from conformance.fidelity.corpus.bodies import body_format, clean_headers
from conformance.fidelity.corpus.endpoints import default_auth, endpoint_of
from conformance.fidelity.corpus.exchange import RealExchange, RealRequest, RealResponse, new_exchange

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(corpus: Path, file: Path, text: str | None = None) -> Iterator[RealExchange]:
    """`file`'s interactions; `text` is its content when it was read elsewhere (an archive member,
    whose `file` is its place in the corpus as if unpacked)."""
    try:
        document = yaml.load(file.read_text(encoding="utf-8") if text is None else text, Loader=_Loader)
    except yaml.YAMLError:
        return
    if not isinstance(document, dict) or not isinstance(document.get("interactions"), list):
        return
    for number, interaction in enumerate(document["interactions"]):
        request, response = interaction.get("request") or {}, interaction.get("response") or {}
        first = {k: ", ".join(v) if isinstance(v, list) else str(v) for k, v in (request.get("headers") or {}).items()}
        headers, auth = clean_headers(first)
        url = str(request.get("url") or "")
        if auth == "none":
            auth = default_auth(endpoint_of(url)[0])  # cassettes are scrubbed: the endpoint's own scheme
        body = str(response.get("body") or "")
        received = {
            k.lower(): ", ".join(v) if isinstance(v, list) else str(v)
            for k, v in (response.get("headers") or {}).items()
        }
        yield new_exchange(
            corpus,
            file,
            f"interaction {interaction.get('id', number)}",
            url=url,
            request=RealRequest(
                method=str(request.get("method") or "POST"),
                url=url,
                headers=headers,
                auth=auth,
                body=str(request.get("body") or "").encode("utf-8"),
                origin="recorded",
            ),
            response=RealResponse(status=response.get("code"), headers=received, body=body, format=body_format(body)),
            trust="real: go-vcr cassette, bodies byte-exact, credentials scrubbed",
        )
