"""Recorded cassettes (go-vcr, vcrpy YAML or JSON, the project's own; recording/formats.py tells which by
content): every interaction, both turns, as recorded, each trusted no further than its format allows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from conformance.fidelity.corpus.bodies import body_format, clean_headers
from conformance.fidelity.corpus.endpoints import default_auth, endpoint_of
from conformance.fidelity.corpus.exchange import RealExchange, RealRequest, RealResponse, new_exchange
from conformance.recording import formats

# A body written back from a parsed structure keeps the recorded values, not Z.AI's spacing.
_RESERIALISED_IGNORE = {"separators": "body re-serialised from a parsed structure: its spacing is not Z.AI's"}


def load(corpus: Path, file: Path, text: str | None = None) -> Iterator[RealExchange]:
    """`file`'s interactions; `text` is its content when it was read elsewhere (an archive member,
    whose `file` is its place in the corpus as if unpacked). A file that is no cassette formats.py
    reads yields nothing: a corpus folder holds other YAML and JSON too."""
    try:
        recorded = formats.read(file, text)
    except formats.CassetteFormatError:
        return
    for number, interaction in enumerate(recorded.interactions):
        first = {k: ", ".join(v) for k, v in interaction.request_headers.items()}
        headers, auth = clean_headers(first)
        url = interaction.url
        if auth == "none":
            auth = default_auth(endpoint_of(url)[0])  # cassettes are scrubbed: the endpoint's own scheme
        body = interaction.response_body.decode("utf-8", "replace")
        received = {k.lower(): ", ".join(v) for k, v in interaction.response_headers.items()}
        reserialised = interaction.response_fidelity is formats.BodyFidelity.RESERIALISED
        yield new_exchange(
            corpus,
            file,
            f"interaction {interaction.recorded_id if interaction.recorded_id is not None else number}",
            url=url,
            request=RealRequest(
                method=interaction.method,
                url=url,
                headers=headers,
                auth=auth,
                body=interaction.request_body,
                origin="recorded",
            ),
            response=RealResponse(status=interaction.status, headers=received, body=body, format=body_format(body)),
            trust=f"real: {recorded.describe([interaction])}, credentials scrubbed",
            ignore=_RESERIALISED_IGNORE if reserialised else None,
        )
