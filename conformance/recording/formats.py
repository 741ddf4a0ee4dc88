"""Recorded-cassette files, whichever recorder wrote them, read into neutral typed values.

Why: evidence is only as good as what it says about itself. A vcrpy file read as go-vcr comes out as
requests without URLs or bodies under a label that claims byte-exact bodies; a gzip body copied as it
stands is no answer a client could be judged on. So a file's format is told by its content (never its
name), each body is read the way its recorder wrote it, and each says how close it is to the bytes the
wire carried (`BodyFidelity`):

- **go-vcr** v1 and v2 (`interactions[].request.{url, method, body, headers}`,
  `response.{code | status, body, headers}`): bodies as recorded. go-vcr v2 marks a response whose
  body Go's HTTP transport decompressed before the recorder saw it (`uncompressed: true`; Go then also
  drops `Content-Encoding`): that body is the decoded one, not the wire's.
- **vcrpy** / pytest-recording, YAML or JSON (`interactions[].request.{uri, method, body, headers}`,
  `response.{status: {code, message}, headers, body: {string}}`): a body is text or bytes (YAML
  `!!binary`). vcrpy saves what the HTTP library handed it: usually the wire bytes, so a body still
  under `Content-Encoding: gzip | deflate` is decompressed here (and said to be); some libraries
  (aiohttp) hand over a decoded body under the unchanged header, which is said too. vcrpy's
  `decode_compressed_response` option decodes before saving and drops the header, leaving no trace a
  reader could see. A `parsed_body` (pydantic-ai's cassette serializer stores JSON bodies as YAML
  structures under that key, sorted) is written back as JSON: its values are the recorded ones, its
  spacing and key order are not.
- **the project's own format** (recording/cassette.py), validated as replay validates it.

Anything else (another format, an empty or undecodable file) raises `CassetteFormatError` naming the
file and what was expected. A whole file compressed with gzip (langchain-tests' cassette serializer) is
unpacked first.

YAML is read with a loader that accepts the tags recorders write for plain data (`!!binary`,
`!!python/str`, `!!python/unicode`, `!!python/bytes`, `!!python/tuple`, and the `BytesIO` / `iter`
request bodies of old vcrpy cassettes, rebuilt from their bytes alone) and refuses every other
`!!python/...` tag: a cassette is data from elsewhere and must never make this process build an object
of its choosing.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import yaml

from conformance.recording import cassette as project_cassette

Headers = Mapping[str, tuple[str, ...]]  # name as recorded → its values, in recorded order

EXPECTED = (
    "expected a go-vcr (v1 or v2), vcrpy (YAML or JSON) or zai-conformance cassette: "
    "a mapping whose `interactions` are each a request and a response"
)


class CassetteFormatError(ValueError):
    """A file that is no cassette this module reads, or one it cannot use; the message names the file."""


class CassetteFormat(Enum):
    GO_VCR_V1 = "go-vcr v1"
    GO_VCR_V2 = "go-vcr v2"
    VCRPY_YAML = "vcrpy YAML"
    VCRPY_JSON = "vcrpy JSON"
    ZAI_CONFORMANCE = project_cassette.FORMAT


class BodyFidelity(Enum):
    """How close a body is to the bytes the wire carried, most exact first."""

    BYTE_EXACT = "byte-exact"  # the bytes as recorded, and nothing says they are not the wire's
    DECODED = "decoded"  # decompressed (by the recording client or here): the wire carried them compressed
    RESERIALISED = "re-serialised"  # rebuilt from a parsed structure: values as recorded, bytes not

    @property
    def rank(self) -> int:
        return list(BodyFidelity).index(self)


@dataclass(frozen=True)
class RecordedInteraction:
    """One recorded request and its answer, as neutral values."""

    method: str
    url: str
    request_headers: Headers
    request_body: bytes  # b"" when none was recorded
    status: int | None  # None: no HTTP answer recorded (a transport fault, or a response without a code)
    reason: str  # the status line's text ("OK"), "" when not recorded
    response_headers: Headers
    response_body: bytes
    request_fidelity: BodyFidelity = BodyFidelity.BYTE_EXACT
    response_fidelity: BodyFidelity = BodyFidelity.BYTE_EXACT
    notes: tuple[str, ...] = ()  # why a body is not byte-exact, in words
    recorded_id: str | None = None  # the recorder's own number for it (go-vcr v2 `id`), if it gives one

    @property
    def fidelity(self) -> BodyFidelity:
        return max(self.request_fidelity, self.response_fidelity, key=lambda f: f.rank)


@dataclass(frozen=True)
class RecordedCassette:
    """A cassette file read: its format, its interactions, and how far its bodies can be trusted."""

    file: Path
    format: CassetteFormat
    interactions: tuple[RecordedInteraction, ...]
    compressed_file: bool = False  # the whole file was gzip-compressed
    recorded_kind: str | None = None  # the project format's provenance kind (live | public | double)

    @property
    def fidelity(self) -> BodyFidelity:
        """The least exact body in the file (a cassette is only as exact as its least exact body)."""
        return _least_exact(self.interactions)

    @property
    def label(self) -> str:
        return self.describe(self.interactions)

    def describe(self, interactions: Iterable[RecordedInteraction]) -> str:
        """The format and how exact the given interactions' bodies are, in words, e.g.
        "vcrpy YAML cassette, bodies not byte-exact: response body decoded here from Content-Encoding: gzip"."""
        chosen = list(interactions)
        name = f"{self.format.value} cassette" + (" (gzip-compressed file)" if self.compressed_file else "")
        if _least_exact(chosen) is BodyFidelity.BYTE_EXACT:
            return f"{name}, bodies byte-exact as recorded"
        notes = list(dict.fromkeys(note for interaction in chosen for note in interaction.notes))
        return f"{name}, bodies not byte-exact: {'; '.join(notes)}"


def _least_exact(interactions: Iterable[RecordedInteraction]) -> BodyFidelity:
    return max((i.fidelity for i in interactions), key=lambda f: f.rank, default=BodyFidelity.BYTE_EXACT)


def read(file: Path, content: bytes | str | None = None) -> RecordedCassette:
    """Read `file` (or `content`, its bytes or text read elsewhere, e.g. an archive member) as a cassette.
    Raises CassetteFormatError naming the file when it is not one this module reads."""
    compressed = False
    if content is None:
        try:
            content = file.read_bytes()
        except OSError as exc:
            raise CassetteFormatError(f"{file}: unreadable ({exc.strerror or exc})") from exc
    if isinstance(content, bytes):
        if content[:2] == b"\x1f\x8b":
            compressed = True
            try:
                content = gzip.decompress(content)
            except (OSError, EOFError, zlib.error) as exc:
                raise CassetteFormatError(f"{file}: a gzip-compressed file that does not decompress ({exc})") from exc
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CassetteFormatError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start}); {EXPECTED}") from exc
    if not content.strip():
        raise CassetteFormatError(f"{file}: empty file; {EXPECTED}")
    document, syntax = _parse(content, file)
    fmt = detect(document, syntax, file)
    if fmt is CassetteFormat.ZAI_CONFORMANCE:
        return _read_project(document, file, compressed)
    reader = _read_go_vcr if fmt in (CassetteFormat.GO_VCR_V1, CassetteFormat.GO_VCR_V2) else _read_vcrpy
    interactions = tuple(reader(item, f"{file}: interactions[{n}]") for n, item in enumerate(document["interactions"]))
    return RecordedCassette(file, fmt, interactions, compressed)


def holds_cassette(file: Path) -> bool:
    """Whether a JSON file is a cassette rather than a bare response body (a corpus holds both)."""
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(document, dict) and isinstance(document.get("interactions"), list)


def detect(document: Any, syntax: str, file: Path) -> CassetteFormat:
    """The format a parsed document is in, told by its shape; `syntax` is "json" or "yaml"."""
    if not isinstance(document, dict):
        holds = _kind(document)
        raise CassetteFormatError(f"{file}: not a known cassette format (the file holds a {holds}); {EXPECTED}")
    declared = document.get("format")
    if declared == project_cassette.FORMAT:
        return CassetteFormat.ZAI_CONFORMANCE
    if isinstance(declared, str) and declared.startswith("zai-conformance/"):
        raise CassetteFormatError(
            f"{file}: format {declared!r} is not one this version reads ({project_cassette.FORMAT})"
        )
    interactions = document.get("interactions")
    if not isinstance(interactions, list):
        hint = " (Ruby VCR's `http_interactions` is not read)" if "http_interactions" in document else ""
        raise CassetteFormatError(f"{file}: not a known cassette format: no `interactions` list{hint}; {EXPECTED}")
    if not interactions:
        raise CassetteFormatError(f"{file}: no interactions: nothing recorded, and no format to tell by; {EXPECTED}")
    first = interactions[0]
    request = first.get("request") if isinstance(first, dict) else None
    if not isinstance(request, dict) or not isinstance(first.get("response"), dict):
        raise CassetteFormatError(f"{file}: interaction 0 is not a request/response mapping; {EXPECTED}")
    if "uri" in request:
        return CassetteFormat.VCRPY_JSON if syntax == "json" else CassetteFormat.VCRPY_YAML
    if "url" in request:
        version = document.get("version")
        if version == 1:
            return CassetteFormat.GO_VCR_V1
        if version == 2:
            return CassetteFormat.GO_VCR_V2
        raise CassetteFormatError(f"{file}: a go-vcr-shaped cassette of version {version!r}; go-vcr writes 1 or 2")
    raise CassetteFormatError(
        f"{file}: not a known cassette format: interaction 0's request has neither `url` (go-vcr) "
        f"nor `uri` (vcrpy); {EXPECTED}"
    )


# --- parsing --------------------------------------------------------------------------------------


class _DataLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader plus the Python tags recorders write for plain data; every other
    `!!python/...` tag stays unknown to it and fails the load."""


def _python_str(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


def _python_bytes(loader: yaml.SafeLoader, node: yaml.Node) -> bytes:
    try:
        return base64.b64decode(str(loader.construct_scalar(node)), validate=False)  # type: ignore[arg-type]
    except binascii.Error as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"!!python/bytes is not base64 ({exc})", node.start_mark
        ) from exc


def _python_tuple(loader: yaml.SafeLoader, node: yaml.Node) -> list[Any]:
    return list(loader.construct_sequence(node, deep=True))  # type: ignore[arg-type]


def _bytes_io(loader: yaml.SafeLoader, node: yaml.Node) -> bytes:
    """An old vcrpy request body pickled as `_io.BytesIO`: its buffer is the first item of `state`."""
    fields = loader.construct_mapping(node, deep=True) if isinstance(node, yaml.MappingNode) else {}  # type: ignore[arg-type]
    state = fields.get("state") or [b""]
    return _joined(state[0] if isinstance(state, list | tuple) and state else b"")


def _iterated(loader: yaml.SafeLoader, node: yaml.Node) -> bytes:
    """An old vcrpy request body saved as `iter(chunks)`: the chunks, joined."""
    fields = loader.construct_mapping(node, deep=True) if isinstance(node, yaml.MappingNode) else {}  # type: ignore[arg-type]
    args = fields.get("args") or [[]]
    return _joined(args[0] if isinstance(args, list | tuple) and args else b"")


def _joined(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, list | tuple):
        return b"".join(_joined(item) for item in value)
    return b""


for _tag, _constructor in (
    ("python/str", _python_str),
    ("python/unicode", _python_str),
    ("python/bytes", _python_bytes),
    ("python/tuple", _python_tuple),
    ("python/object/new:_io.BytesIO", _bytes_io),
    ("python/object/apply:builtins.iter", _iterated),
):
    _DataLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _constructor)


def _parse(text: str, file: Path) -> tuple[Any, str]:
    """The document and its syntax: JSON when the text is JSON, YAML otherwise."""
    if text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text), "json"
        except ValueError:
            pass  # YAML flow style also starts so: let YAML have it
    try:
        return yaml.load(text, Loader=_DataLoader), "yaml"
    except yaml.constructor.ConstructorError as exc:
        raise CassetteFormatError(
            f"{file}: {exc.problem}{_line(exc)}: only plain data tags are read, no Python objects are built; {EXPECTED}"
        ) from exc
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CassetteFormatError(f"{file}: not valid YAML or JSON ({problem}{_line(exc)}); {EXPECTED}") from exc


def _line(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f" at line {mark.line + 1}" if mark is not None else ""


def _kind(value: Any) -> str:
    return "list" if isinstance(value, list) else "mapping" if isinstance(value, dict) else type(value).__name__


# --- the readers ----------------------------------------------------------------------------------


def _parts(item: Any, where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    request = item.get("request") if isinstance(item, dict) else None
    response = item.get("response") if isinstance(item, dict) else None
    if not isinstance(request, dict) or not isinstance(response, dict):
        raise CassetteFormatError(f"{where}: not a request/response mapping")
    return request, response


def _read_go_vcr(item: Any, where: str) -> RecordedInteraction:
    request, response = _parts(item, where)
    status_line = str(response.get("status") or "")
    code = response.get("code")
    if not _is_int(code):
        leading = status_line.split(" ", 1)[0]
        code = int(leading) if leading.isdigit() else None
    headers = _headers(response.get("headers"), f"{where}.response.headers")
    body = _body(response.get("body"), f"{where}.response.body")
    fidelity, notes = BodyFidelity.BYTE_EXACT, []
    if response.get("uncompressed") is True:
        fidelity = BodyFidelity.DECODED
        notes.append("response body decompressed by the recording Go client (go-vcr `uncompressed: true`)")
    body, headers, decoded, note = _decoded(body, headers, f"{where}.response")
    if note:
        fidelity, notes = decoded, [*notes, note]
    return RecordedInteraction(
        method=str(request.get("method") or "POST"),
        url=str(request.get("url") or ""),
        request_headers=_headers(request.get("headers"), f"{where}.request.headers"),
        request_body=_body(request.get("body"), f"{where}.request.body"),
        status=code,
        reason=status_line.split(" ", 1)[1] if " " in status_line else status_line,
        response_headers=headers,
        response_body=body,
        response_fidelity=fidelity,
        notes=tuple(notes),
        recorded_id=str(item["id"]) if item.get("id") is not None else None,
    )


def _read_vcrpy(item: Any, where: str) -> RecordedInteraction:
    request, response = _parts(item, where)
    notes: list[str] = []
    request_fidelity = response_fidelity = BodyFidelity.BYTE_EXACT
    if "parsed_body" in request:
        request_body = _reserialised(request["parsed_body"])
        request_fidelity = BodyFidelity.RESERIALISED
        notes.append("request body written back as JSON from `parsed_body` (values as recorded, bytes not)")
    else:
        request_body = _body(request.get("body"), f"{where}.request.body")
    status = response.get("status")
    if isinstance(status, dict) and _is_int(status.get("code")):
        code, reason = status["code"], str(status.get("message") or "")
    elif _is_int(status):
        code, reason = status, ""
    else:
        raise CassetteFormatError(f"{where}.response.status: needs {{code, message}} (vcrpy), got {status!r}")
    headers = _headers(response.get("headers"), f"{where}.response.headers")
    if "parsed_body" in response:
        body = _reserialised(response["parsed_body"])
        response_fidelity = BodyFidelity.RESERIALISED
        notes.append("response body written back as JSON from `parsed_body` (values as recorded, bytes not)")
    else:
        stored = response.get("body")
        body = _body(stored.get("string") if isinstance(stored, dict) else stored, f"{where}.response.body")
        body, headers, response_fidelity, note = _decoded(body, headers, f"{where}.response")
        notes += [note] if note else []
    return RecordedInteraction(
        method=str(request.get("method") or "GET"),
        url=str(request.get("uri") or ""),
        request_headers=_headers(request.get("headers"), f"{where}.request.headers"),
        request_body=request_body,
        status=code,
        reason=reason,
        response_headers=headers,
        response_body=body,
        request_fidelity=request_fidelity,
        response_fidelity=response_fidelity,
        notes=tuple(notes),
    )


def _read_project(document: Any, file: Path, compressed: bool) -> RecordedCassette:
    try:
        checked = project_cassette.validate(document, file)
    except project_cassette.CorruptCassette as exc:
        raise CassetteFormatError(str(exc)) from exc
    provenance = checked["provenance"]
    # Imported evidence states how exact its bodies were at the source; that stays true of this copy.
    stated = {f.value: f for f in BodyFidelity}.get(str(provenance.get("bodies")), BodyFidelity.BYTE_EXACT)
    said = f"bodies {stated.value} at the source, as its provenance states"
    notes = () if stated is BodyFidelity.BYTE_EXACT else (said,)
    interactions = []
    for index, item in enumerate(checked["interactions"]):
        where = f"{file}: interactions[{index}]"
        request, response = item["request"], item["response"]
        interactions.append(
            RecordedInteraction(
                method=str(request["method"]),
                url=str(request["uri"]),
                request_headers=_headers(request.get("headers"), f"{where}.request.headers"),
                request_body=project_cassette.decode_body(request.get("body"), f"{where}.request") or b"",
                status=response["status"].get("code"),
                reason=str(response["status"].get("message") or ""),
                response_headers=_headers(response.get("headers"), f"{where}.response.headers"),
                response_body=project_cassette.decode_body(response.get("body"), f"{where}.response") or b"",
                response_fidelity=stated,
                notes=notes,
            )
        )
    kind = provenance.get("kind")
    return RecordedCassette(
        file, CassetteFormat.ZAI_CONFORMANCE, tuple(interactions), compressed, str(kind) if kind else None
    )


# --- bodies and headers ---------------------------------------------------------------------------


def _body(value: Any, where: str) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise CassetteFormatError(f"{where}: must be text or bytes, got {_kind(value)}")


def _reserialised(value: Any) -> bytes:
    # json.dumps' default spacing: what pydantic-ai's serializer itself hands its tests on replay.
    return json.dumps(value).encode("utf-8")


def _headers(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CassetteFormatError(f"{where}: must be a mapping of header name to values, got {_kind(value)}")
    return {
        str(name): tuple(str(v) for v in values) if isinstance(values, list | tuple) else (str(values),)
        for name, values in value.items()
    }


def _inflate(body: bytes) -> bytes:
    """HTTP deflate is meant to be zlib-wrapped, but raw deflate is common in the wild: take either."""
    try:
        return zlib.decompress(body)
    except zlib.error:
        return zlib.decompress(body, -zlib.MAX_WBITS)


_DECOMPRESS = {"gzip": gzip.decompress, "x-gzip": gzip.decompress, "deflate": _inflate}


def _decoded(
    body: bytes, headers: dict[str, tuple[str, ...]], where: str
) -> tuple[bytes, dict[str, tuple[str, ...]], BodyFidelity, str | None]:
    """A body under `Content-Encoding: gzip | deflate`, decompressed, with the headers that now describe
    it (no Content-Encoding; Content-Length, if recorded, the decoded length) and a note saying so."""
    names = [name for name in headers if name.lower() == "content-encoding"]
    codings = [c.strip().lower() for name in names for value in headers[name] for c in value.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings or not body:
        return body, headers, BodyFidelity.BYTE_EXACT, None
    if len(codings) > 1 or codings[0] not in _DECOMPRESS:
        raise CassetteFormatError(
            f"{where}.body: Content-Encoding {', '.join(codings)} is not one this reader decodes (gzip, deflate)"
        )
    coding = codings[0]
    try:
        decoded = _DECOMPRESS[coding](body)
        note = f"response body decoded here from Content-Encoding: {coding}"
    except (OSError, EOFError, zlib.error) as exc:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            raise CassetteFormatError(
                f"{where}.body: declared Content-Encoding {coding} but does not decode ({exc})"
            ) from exc
        decoded = body
        note = (
            f"response body already decoded by the recording client (its headers still say Content-Encoding: {coding})"
        )
    kept = {name: values for name, values in headers.items() if name.lower() != "content-encoding"}
    for name in kept:
        if name.lower() == "content-length":
            kept[name] = (str(len(decoded)),)
    return decoded, kept, BodyFidelity.DECODED, note


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
