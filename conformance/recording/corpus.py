"""A recorded conversation's evidence, read in place from its corpus archive (corpora/): the named
interactions handed to the cassette persister as a project-format document with the provenance of a
public recording — real Z.AI bytes, recorded by the source project."""

from __future__ import annotations

from typing import Any

from conformance.corpora.members import SOURCES, CorpusError, MemberRef, selected, sources

__all__ = ["CorpusError", "document"]


def document(ref: MemberRef, *, endpoint_url: str | None = None) -> dict[str, Any]:
    """The referenced interactions as a project-format cassette document (cassette.py), with the
    provenance of a public recording: real Z.AI bytes, recorded by the source project."""
    interactions = [_interaction(raw) for raw in selected(ref)]
    source = sources(ref.archive).get(ref.member)
    if source is None:
        raise CorpusError(f"{ref}: {ref.archive.parent / SOURCES} does not list {ref.member}")
    agent = next(iter(interactions[0]["request"]["headers"].get("User-Agent") or [None]), None)
    provenance: dict[str, Any] = {
        "kind": "public",
        "source": {
            "project": source.project,
            "license": source.license,
            "path": source.path,
            "commit": source.commit,
            "date": source.date[:10],
            "corpus_file": f"{ref.archive.name}/{ref.member}",
            "interactions": list(ref.interactions),
        },
        "recorded": source.date[:10],
        "recorded_meaning": "commit date of the recording in the source project (recorded on or before)",
        "client": agent,
        "endpoint_url": endpoint_url,
        "source_format": "go-vcr v2",
        "bodies": "byte-exact",  # crush's cassettes carry no `uncompressed: true`: the bytes as they arrived
        "bodies_meaning": "go-vcr v2 cassette read in place from the corpus archive, bodies byte-exact as recorded",
    }
    return {"format": "zai-conformance/cassette/1", "provenance": provenance, "interactions": interactions}


def _interaction(raw: dict[str, Any]) -> dict[str, Any]:
    """A go-vcr interaction in the project format (cassette.py): the same bytes, vcrpy's field names."""
    request, response = raw.get("request") or {}, raw.get("response") or {}
    code = response.get("code")
    status_text = str(response.get("status") or "")
    return {
        "request": {
            "method": str(request.get("method") or "POST"),
            "uri": str(request.get("url") or ""),
            "headers": _headers(request.get("headers")),
            "body": str(request.get("body") or ""),
        },
        "response": {
            "status": {"code": code, "message": status_text.split(" ", 1)[1] if " " in status_text else ""},
            "headers": _headers(response.get("headers")),
            "body": str(response.get("body") or ""),
        },
    }


def _headers(headers: Any) -> dict[str, list[str]]:
    if not isinstance(headers, dict):
        return {}
    return {
        str(k): [str(v) for v in (values if isinstance(values, list) else [values])] for k, values in headers.items()
    }
