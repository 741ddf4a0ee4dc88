"""Text captures (`*.txt`) of `## section` blocks, a `# Kind:` line in the preamble saying how far
to trust them: each section holding SSE or JSON is one response whose request is reconstructed —
unless one section is a written-out request, and then the file is one exchange (written.py). The
authors' `...` elisions make a data payload unparseable: it is kept as unknown, not guessed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from conformance.fidelity.corpus.bodies import body_format, protocol_of
from conformance.fidelity.corpus.endpoints import chat_url
from conformance.fidelity.corpus.exchange import RealExchange, RealResponse, new_exchange, reconstructed_request
from conformance.fidelity.corpus.written import is_request
from conformance.fidelity.corpus.written import load as load_written


def _sections(text: str) -> tuple[str, list[tuple[str, str]]]:
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return parts[0], [(parts[i].strip(), parts[i + 1].strip("\n")) for i in range(1, len(parts), 2)]


def load(corpus: Path, file: Path) -> Iterator[RealExchange]:
    preamble, sections = _sections(file.read_text(encoding="utf-8"))
    kind = re.search(r"^#\s*Kind:\s*(.+)$", preamble, re.M)
    trust = kind.group(1).strip() if kind else "capture in a text file (no Kind: line)"
    request_section = next((body for _, body in sections if is_request(body)), None)
    if request_section is not None:
        yield load_written(corpus, file, sections, request_section, trust)
        return
    for title, body in sections:
        fmt = body_format(body)
        if fmt == "text":
            continue
        protocol = protocol_of(body, fmt)
        if protocol is None:
            continue
        url = chat_url(file, protocol)
        yield new_exchange(
            corpus,
            file,
            title,
            url=url,
            request=reconstructed_request(protocol, url, body, fmt),
            response=RealResponse(200, None, body, fmt, status_inferred=True),
            trust=trust,
            notes=["status not recorded: 200 implied by a success body", "no response headers in the source"],
        )
