"""The project's cassette file format, and the vcrpy persister that reads and writes it.

Why not vcrpy's own YAML: bodies must survive byte-for-byte (SSE streams, UTF-8 text, the odd binary
body), cassettes must be readable in review (SSE as literal blocks, not `!!binary`), every cassette
carries its provenance, and a corrupt file must fail loudly — vcrpy treats an undecodable cassette as
empty and would silently re-record over it.

Format (YAML):
    format: zai-conformance/cassette/1
    provenance: {kind: public|live|double, ...}
    interactions:
      - request:  {method, uri, headers: {name: [values]}, body: <text> | {base64: ...} | null}
        response: {status: {code, message}, headers: {name: [values]}, body: <text> | {base64: ...}}

A request the server never answered in full — it timed out before or during the answer — is kept as a
transport fault, so replay can show the client its timeout again (conformance/recording/transport.py):
        response: {status: {code: null, message}, headers: <what arrived>, body: <bytes before the hang>,
                   transport_fault: {kind: timeout, phase: connect|send|first byte|mid-body, after_seconds,
                                     exception, message, received_status: {code, message} (mid-body only),
                                     note (why bytes that arrived are not kept, if they are not)}}
A null status code is allowed only there: it is no HTTP answer, and no reader may take it for one.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.request import Request

from conformance.corpora.members import MemberRef
from conformance.recording import corpus

FORMAT = "zai-conformance/cassette/1"

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CorruptCassette(ValueError):
    """A cassette file exists but cannot be used; the message names the file and the fault."""


class _Dumper(yaml.SafeDumper):
    pass


# Characters YAML folds into plain line breaks or spaces when it reads them back unquoted: a body
# holding one must be written double-quoted (escaped), or it stops being byte-exact.
_YAML_LINE_BREAKS = ("\x85", "\u2028", "\u2029")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if any(ch in value for ch in _YAML_LINE_BREAKS):
        style = '"'
    elif "\n" in value:
        style = "|"
    else:
        style = None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def encode_body(body: bytes | str | None) -> str | dict[str, str] | None:
    if body is None:
        return None
    if isinstance(body, str):
        return body
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(body).decode("ascii")}


def decode_body(value: Any, where: str) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict) and isinstance(value.get("base64"), str):
        try:
            return base64.b64decode(value["base64"], validate=True)
        except binascii.Error as exc:
            raise CorruptCassette(f"{where}: body is not valid base64 ({exc})") from exc
    raise CorruptCassette(f"{where}: body must be text, {{base64: ...}} or null")


def dump(provenance: dict[str, Any], interactions: list[dict[str, Any]]) -> str:
    document = {"format": FORMAT, "provenance": provenance, "interactions": interactions}
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100_000)


def write(path: Path, provenance: dict[str, Any], interactions: list[dict[str, Any]]) -> None:
    """Write atomically: a crash mid-write never leaves a half cassette where a good one was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = dump(provenance, interactions)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; cassettes are committed and shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read(path: Path) -> dict[str, Any]:
    """Read and validate a cassette file; raise CorruptCassette naming what is wrong and where."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise CorruptCassette(f"{path}: unreadable ({exc})") from exc
    try:
        document = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise CorruptCassette(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    return validate(document, path)


def validate(document: Any, path: Path) -> dict[str, Any]:
    """Check a parsed cassette document (read from `path`); raise CorruptCassette naming what is wrong.
    Separate from `read` so a reader that has already parsed the file (recording/formats.py, which
    must look at a file's content to tell its format) need not parse it twice."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CorruptCassette(f"{path}: not a {FORMAT} file (missing or wrong 'format')")
    interactions = document.get("interactions")
    if not isinstance(interactions, list):
        raise CorruptCassette(f"{path}: 'interactions' must be a list")
    for index, interaction in enumerate(interactions):
        where = f"{path}: interactions[{index}]"
        if not isinstance(interaction, dict):
            raise CorruptCassette(f"{where}: must be a mapping")
        request, response = interaction.get("request"), interaction.get("response")
        if not isinstance(request, dict) or not {"method", "uri"} <= request.keys():
            raise CorruptCassette(f"{where}.request: needs method and uri")
        if not isinstance(response, dict) or not isinstance(response.get("status"), dict):
            raise CorruptCassette(f"{where}.response: needs status {{code, message}}")
        if "transport_fault" in response:
            _check_fault(response["transport_fault"], response["status"].get("code"), f"{where}.response")
        elif not isinstance(response["status"].get("code"), int):
            raise CorruptCassette(f"{where}.response.status.code: must be an integer")
        for side, part in (("request", request), ("response", response)):
            _check_headers(part.get("headers"), f"{where}.{side}.headers")
            decode_body(part.get("body"), f"{where}.{side}")
    if not isinstance(document.get("provenance"), dict):
        raise CorruptCassette(f"{path}: 'provenance' must be a mapping (where did these bytes come from?)")
    return document


FAULT_PHASES = ("connect", "send", "first byte", "mid-body")


def _check_fault(fault: Any, code: Any, where: str) -> None:
    if code is not None:
        raise CorruptCassette(f"{where}.status.code: must be null for a transport fault (it is no HTTP answer)")
    if not isinstance(fault, dict) or not isinstance(fault.get("kind"), str) or not fault["kind"]:
        raise CorruptCassette(f"{where}.transport_fault: must be a mapping with a kind")
    if fault.get("phase") not in FAULT_PHASES:
        raise CorruptCassette(f"{where}.transport_fault.phase: must be one of {', '.join(FAULT_PHASES)}")
    after = fault.get("after_seconds")
    if after is not None and (isinstance(after, bool) or not isinstance(after, int | float) or after < 0):
        raise CorruptCassette(f"{where}.transport_fault.after_seconds: must be a number of seconds or null")
    for key in ("exception", "message"):
        if not isinstance(fault.get(key, ""), str):
            raise CorruptCassette(f"{where}.transport_fault.{key}: must be text")
    received = fault.get("received_status")
    if received is not None and not (isinstance(received, dict) and isinstance(received.get("code"), int)):
        raise CorruptCassette(f"{where}.transport_fault.received_status: must be {{code, message}}")


def check_bodies(document: dict[str, Any], path: Path) -> None:
    """Evidence, not just a well-formed file: every body its own headers declare JSON (or SSE of JSON
    events) must be that. Otherwise replay would feed a client bytes that were never an answer, and
    its parse error would read as the client's fault. (The format itself stores any bytes.)"""
    for index, interaction in enumerate(document["interactions"]):
        response = interaction["response"]
        if "transport_fault" in response:  # a body cut short by a fault is partial by nature
            continue
        for side in ("request", "response"):
            part = interaction[side]
            where = f"{path}: interactions[{index}].{side}"
            body = decode_body(part.get("body"), where)
            if body:
                _check_json(body, part.get("headers"), f"{where}.body")


def _check_json(body: bytes, headers: dict[str, Any] | None, where: str) -> None:
    """A body its own headers declare JSON (or SSE of JSON events) must be that: otherwise a client
    would be judged on bytes that were never an answer, and its parse error would read as its fault."""
    content_type = " ".join(str(v) for k, vs in (headers or {}).items() if k.lower() == "content-type" for v in vs)
    content_type = content_type.lower()
    if "json" in content_type:
        try:
            json.loads(body)
        except ValueError as exc:
            raise CorruptCassette(f"{where}: declared {content_type.split(';')[0]} but is not JSON ({exc})") from exc
    elif "text/event-stream" in content_type:
        for number, line in enumerate(body.decode("utf-8", "replace").splitlines(), start=1):
            payload = line[5:].strip() if line.startswith("data:") else None
            if payload and payload != "[DONE]":
                try:
                    json.loads(payload)
                except ValueError as exc:
                    raise CorruptCassette(f"{where}: SSE line {number} is not a JSON event ({exc})") from exc


def _check_headers(headers: Any, where: str) -> None:
    if headers is None:
        return
    if not isinstance(headers, dict):
        raise CorruptCassette(f"{where}: must be a mapping of header name to a list of values")
    for name, values in headers.items():
        if not isinstance(values, list) or not all(isinstance(v, str | int | float) for v in values):
            raise CorruptCassette(f"{where}.{name}: must be a list of values, got {values!r}")


def to_vcr(document: dict[str, Any], path: Path) -> tuple[list[Request], list[dict[str, Any]]]:
    requests, responses = [], []
    for index, interaction in enumerate(document["interactions"]):
        where = f"{path}: interactions[{index}]"
        request = interaction["request"]
        requests.append(
            Request(
                request["method"],
                request["uri"],
                decode_body(request.get("body"), f"{where}.request"),
                request.get("headers") or {},
            )
        )
        response = interaction["response"]
        responses.append(
            {
                "status": dict(response["status"]),
                "headers": {k: list(v) for k, v in (response.get("headers") or {}).items()},
                "body": {"string": decode_body(response.get("body"), f"{where}.response") or b""},
            }
        )
        if "transport_fault" in response:
            responses[-1]["transport_fault"] = dict(response["transport_fault"])
    return requests, responses


def from_vcr(request: Request, response: dict[str, Any]) -> dict[str, Any]:
    body = response.get("body") or {}
    interaction = {
        "request": {
            "method": request.method,
            "uri": request.uri,
            "headers": {name: _as_list(value) for name, value in request.headers.items()},
            "body": encode_body(request.body),
        },
        "response": {
            "status": {"code": response["status"]["code"], "message": response["status"].get("message", "")},
            "headers": {name: _as_list(value) for name, value in (response.get("headers") or {}).items()},
            "body": encode_body(body.get("string")),
        },
    }
    if response.get("transport_fault"):
        interaction["response"]["transport_fault"] = dict(response["transport_fault"])
    return interaction


def _as_list(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list | tuple) else [str(value)]


# Parsed cassettes, by path and a digest of the file's bytes: a public recording backs a cell on every
# path (a dozen cells), and parsing its YAML is most of what loading costs (reading and hashing the bytes
# is cheap, and unlike a modification time cannot miss an edit made within the clock's tick). vcrpy
# deep-copies each request and our response filter each response as it loads them, so the parsed
# objects are never handed out to be changed. A bad file is never kept.
_PARSED: dict[Path, tuple[str, tuple[list[Any], list[Any], dict[str, Any]]]] = {}
_PARSED_MAX = 256


class Persister:
    """vcrpy persister for the project format. Provenance travels as vcrpy cassette metadata."""

    @classmethod
    def load_cassette(cls, cassette_path: str | Path, serializer: Any = None) -> tuple[Any, ...]:
        ref = MemberRef.parse(cassette_path)
        if ref is not None:
            return _load_member(ref)
        path = Path(cassette_path)
        if not path.is_file():
            raise CassetteNotFoundError()
        try:
            version = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            version = ""  # unreadable: `read` says why
        known = _PARSED.get(path)
        if known is None or known[0] != version:
            document = read(path)
            check_bodies(document, path)
            requests, responses = to_vcr(document, path)
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.pop(next(iter(_PARSED)))
            known = _PARSED[path] = (version, (requests, responses, {"provenance": document["provenance"]}))
        requests, responses, metadata = known[1]
        return list(requests), list(responses), copy.deepcopy(metadata)

    @staticmethod
    def save_cassette(cassette_path: str | Path, cassette_dict: dict[str, Any], serializer: Any = None) -> None:
        metadata = cassette_dict.get("metadata") or {}
        interactions = [
            from_vcr(request, response)
            for request, response in zip(cassette_dict["requests"], cassette_dict["responses"], strict=True)
        ]
        write(Path(cassette_path), metadata.get("provenance") or {"kind": "unknown"}, interactions)


def _load_member(ref: MemberRef) -> tuple[Any, ...]:
    """Interactions read in place from a corpus archive (corpus.py), checked like a cassette file. The
    archive is immutable within a run, so its parse is kept by reference alone."""
    key = Path(str(ref))
    known = _PARSED.get(key)
    if known is None:
        try:
            document = corpus.document(ref)
        except corpus.CorpusError as exc:
            raise CorruptCassette(str(exc)) from None
        check_bodies(document, key)
        requests, responses = to_vcr(document, key)
        known = _PARSED[key] = ("corpus", (requests, responses, {"provenance": document["provenance"]}))
    requests, responses, metadata = known[1]
    return list(requests), list(responses), copy.deepcopy(metadata)
