"""The real Z.AI corpus as exchanges the fidelity measurement can replay against the double.

`load_exchanges(corpus_dir)` walks a folder shaped like `zai-recordings/` and turns every real
capture it understands into a `RealExchange` — the request (recorded, or reconstructed when the
capture has none), the real response, where it came from and how far to trust it:

- go-vcr cassettes (`*.yaml` with `interactions`): every interaction, both turns, as recorded;
- response files `*.json` / `*.sse` with a sibling `<file>.request.json` (a request body only);
- Anthropic captures without a request: `*.sse`, `*.json`, and `*.txt` files of `## section` blocks
  holding SSE or JSON (or one exchange written out as request, response headers and body). The
  authors' `...` elisions make a data payload unparseable: it is kept as *unknown*, not guessed;
- Claude Code session logs (`*.jsonl`, one content block per line): lines of one message are joined
  back into that message, and only message and block shapes are compared;
- error lists (`*.jsonl` lines with `code`, `http`, `body`, `kind`): the entries marked REAL or
  OFFICIAL become error exchanges; the double is asked for the same error by its own triggers.

For a capture without a request, the request is reconstructed — the minimal one asking for what the
capture shows (model, stream, a tool per tool_use block with a schema inferred from its input,
thinking if a thinking block is there, `max_tokens: 1` if it stopped on `max_tokens`, a user
message naming the tools) — and the exchange says `request: reconstructed`.

Per-file exceptions (what not to compare, and why) live in `data/fidelity.yaml`; a file not listed
there is compared in full.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from conformance.catalogue import Catalogue, load_catalogue

REAL_ROOT = "https://api.z.ai"
CREDENTIAL_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "cookie", "proxy-authorization"})
# Headers that describe one connection, not the request: never replayed.
HOP_HEADERS = frozenset({"host", "content-length", "connection", "transfer-encoding", "accept-encoding", "keep-alive"})
ELISION = re.compile(r"\.\.\.|…")


# --- data ----------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class SseEvent:
    name: str | None  # the `event:` line, if any
    raw: str  # the data lines joined, exactly as sent
    data: Any = None  # the parsed payload; None when unknown (unparseable, e.g. elided with `...`)

    @property
    def done(self) -> bool:
        return self.raw.strip() == "[DONE]"

    @property
    def known(self) -> bool:
        return self.data is not None

    @property
    def kind(self) -> str | None:
        """The event's name, or its payload's `type` when there is no `event:` line."""
        if self.name:
            return self.name
        return self.data.get("type") if isinstance(self.data, dict) else None


def parse_sse(text: str) -> list[SseEvent]:
    """Split an SSE body into events (blank-line separated; `event:` and `data:` fields; comments dropped)."""
    events: list[SseEvent] = []
    name: str | None = None
    data: list[str] = []
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if name is not None or data:
                events.append(_event(name, data))
            name, data = None, []
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if key == "event":
            name = value.strip()
        elif key == "data":
            data.append(value)
    return events


def _event(name: str | None, data: list[str]) -> SseEvent:
    raw = "\n".join(data)
    if raw.strip() == "[DONE]":
        return SseEvent(name, raw)
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = None
    return SseEvent(name, raw, payload)


# --- exceptions (data/fidelity.yaml) -------------------------------------------------------------


@cache
def fidelity_data() -> dict[str, Any]:
    return yaml.safe_load((resources.files("conformance.double") / "data" / "fidelity.yaml").read_text()) or {}


@dataclass
class _Rules:
    """The fidelity.yaml entries that apply to one exchange, merged file → section."""

    ignore: dict[str, str] = field(default_factory=dict)
    trust: str | None = None
    endpoint: str | None = None
    keys: list[str] = field(default_factory=list)

    def merge(self, entry: dict[str, Any] | None, key: str) -> None:
        if not entry:
            return
        self.keys.append(key)
        reason = str(entry.get("reason") or "listed in conformance/double/data/fidelity.yaml")
        for aspect in entry.get("ignore") or []:
            self.ignore[str(aspect)] = reason
        self.trust = entry.get("trust") or self.trust
        self.endpoint = entry.get("endpoint") or self.endpoint


def _rules(corpus: Path, file: Path, section: str | None) -> _Rules:
    files = fidelity_data().get("files") or {}
    relative = file.relative_to(corpus).as_posix()
    key = relative if relative in files else file.name
    rules = _Rules()
    entry = files.get(key)
    rules.merge(entry, key)
    if entry and section is not None:
        rules.merge((entry.get("sections") or {}).get(section), f"{key} [{section}]")
    return rules


# --- endpoints -----------------------------------------------------------------------------------


@cache
def _catalogue() -> Catalogue:
    return load_catalogue()


def _bases() -> list[tuple[str, str, str]]:
    """(base path, endpoint id, protocol), longest base first."""
    catalogue = _catalogue()
    bases = [(re.sub(r"^https?://[^/]+", "", e.base_url), e.id, e.protocol) for e in catalogue.endpoints]
    return sorted(bases, key=lambda base: len(base[0]), reverse=True)


def endpoint_of(url: str) -> tuple[str | None, str]:
    """The catalogue endpoint (id, protocol) a real URL falls under; (None, guess) when none."""
    path = re.sub(r"^https?://[^/]+", "", url).split("?", 1)[0]
    for base, endpoint, protocol in _bases():
        if path.startswith(base + "/"):
            return endpoint, protocol
    return None, "anthropic" if path.startswith("/v1/messages") else "openai"


def base_url(endpoint: str) -> str:
    return next(e.base_url for e in _catalogue().endpoints if e.id == endpoint)


def default_auth(endpoint: str | None) -> str:
    return next((e.auth for e in _catalogue().endpoints if e.id == endpoint), "bearer")


def _route(protocol: str) -> str:
    return "/v1/messages" if protocol == "anthropic" else "/chat/completions"


def _endpoint_from_name(file: Path, protocol: str) -> str:
    """A response file says its endpoint by a prefix naming one (`coding_…`); else the protocol's default."""
    for endpoint in (e.id for e in _catalogue().endpoints):
        if file.name.startswith(endpoint + "_"):
            return endpoint
    return "anthropic" if protocol == "anthropic" else "general"


# --- loading -------------------------------------------------------------------------------------


def load_exchanges(corpus_dir: str | Path) -> list[RealExchange]:
    """Every exchange in the corpus, in a stable order (by file, then position in the file)."""
    corpus = Path(corpus_dir).resolve()
    if not corpus.is_dir():
        raise FileNotFoundError(f"no corpus folder at {corpus}")
    exchanges: list[RealExchange] = []
    for file in sorted(p for p in corpus.rglob("*") if p.is_file()):
        exchanges.extend(_load_file(corpus, file))
    return exchanges


def _load_file(corpus: Path, file: Path) -> Iterator[RealExchange]:
    name = file.name
    if name.endswith(".request.json") or name.endswith(".md"):
        return
    if file.suffix in (".yaml", ".yml"):
        yield from _cassette(corpus, file)
    elif file.suffix in (".json", ".sse"):
        yield from _response_file(corpus, file)
    elif file.suffix == ".txt":
        yield from _sectioned(corpus, file)
    elif file.suffix == ".jsonl":
        yield from _jsonl(corpus, file)


def _exchange(
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
    rules = _rules(corpus, file, section)
    endpoint, protocol = endpoint_of(url)
    if rules.endpoint:
        endpoint = rules.endpoint
        url = base_url(endpoint) + _route(protocol)
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
        notes=tuple(notes),
        error_code=error_code,
        exception_keys=tuple(rules.keys),
    )


def _clean_headers(headers: dict[str, str]) -> tuple[dict[str, str], str]:
    """Drop credentials and per-connection headers; say how the key travelled."""
    lower = {k.lower(): v for k, v in headers.items()}
    if "x-api-key" in lower:
        auth = "x-api-key"
    elif lower.get("authorization", "").lower().startswith("bearer"):
        auth = "bearer"
    else:
        auth = "none"
    kept = {k: v for k, v in lower.items() if k not in CREDENTIAL_HEADERS and k not in HOP_HEADERS}
    return kept, auth


def _body_format(text: str) -> str:
    stripped = text.lstrip()
    if stripped.startswith(("data:", "event:", ":")):
        return "sse"
    try:
        json.loads(text)
    except ValueError:
        return "text"
    return "json"


# go-vcr cassettes ---------------------------------------------------------------------------------


def _cassette(corpus: Path, file: Path) -> Iterator[RealExchange]:
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return
    if not isinstance(document, dict) or not isinstance(document.get("interactions"), list):
        return
    for number, interaction in enumerate(document["interactions"]):
        request, response = interaction.get("request") or {}, interaction.get("response") or {}
        first = {k: ", ".join(v) if isinstance(v, list) else str(v) for k, v in (request.get("headers") or {}).items()}
        headers, auth = _clean_headers(first)
        url = str(request.get("url") or "")
        if auth == "none":
            auth = default_auth(endpoint_of(url)[0])  # cassettes are scrubbed: the endpoint's own scheme
        body = str(response.get("body") or "")
        received = {
            k.lower(): ", ".join(v) if isinstance(v, list) else str(v)
            for k, v in (response.get("headers") or {}).items()
        }
        yield _exchange(
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
            response=RealResponse(status=response.get("code"), headers=received, body=body, format=_body_format(body)),
            trust="real: go-vcr cassette, bodies byte-exact, credentials scrubbed",
        )


# response files with or without a sibling request --------------------------------------------------


def _response_file(corpus: Path, file: Path) -> Iterator[RealExchange]:
    text = file.read_text(encoding="utf-8")
    fmt = _body_format(text)
    if fmt == "text":
        return
    sibling = file.with_name(file.name + ".request.json")
    protocol = _protocol_of(text, fmt)
    if protocol is None:
        return  # not a chat response (e.g. an OpenAPI excerpt)
    inferred = _success(text, fmt)
    notes = []
    if inferred:
        notes.append("status not recorded: 200 implied by a success body")
    notes.append("response headers not recorded: content-type not compared")
    if sibling.exists():
        endpoint = _endpoint_from_name(file, protocol)
        url = base_url(endpoint) + _route(protocol)
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
        url = base_url(_endpoint_from_name(file, protocol)) + _route(protocol)
        request = _reconstruct(protocol, url, text, fmt)
        trust = "real capture without its request"
    yield _exchange(
        corpus,
        file,
        None,
        url=url,
        request=request,
        response=RealResponse(200 if inferred else None, None, text, fmt, status_inferred=inferred),
        trust=_kind_from_source(file) or trust,
        notes=notes,
    )


def _protocol_of(text: str, fmt: str) -> str | None:
    payloads = [e.data for e in parse_sse(text)] if fmt == "sse" else [json.loads(text)]
    for payload in payloads:
        if isinstance(payload, dict):
            if "choices" in payload or str(payload.get("object") or "").startswith("chat.completion"):
                return "openai"
            if payload.get("type") in ("message", "message_start") or "content_block" in payload:
                return "anthropic"
    if fmt == "sse" and any(e.name in ("message_start", "message_stop") for e in parse_sse(text)):
        return "anthropic"
    return None


def _success(text: str, fmt: str) -> bool:
    if fmt == "sse":
        return True
    payload = json.loads(text)
    return isinstance(payload, dict) and "error" not in payload and payload.get("type") != "error"


def _kind_from_source(file: Path) -> str | None:
    """The trust a capture's own notes state: a `Kind:` line in a `*.SOURCE.md` beside it that names it
    (same stem, or the longest shared prefix covering most of the note's name)."""
    best: tuple[int, str] | None = None
    stem = _squash(file.name)
    for note in file.parent.glob("*.SOURCE.md"):
        label = _squash(note.name[: -len(".SOURCE.md")])
        shared = len(_common_prefix(stem, label))
        if shared >= 0.8 * len(label) and (best is None or shared > best[0]):
            kind = re.search(r"^Kind:\s*(.+)$", note.read_text(encoding="utf-8"), re.M)
            if kind:
                best = (shared, kind.group(1).strip())
    return best[1] if best else None


def _squash(name: str) -> str:
    return re.sub(r"_+", "_", name.lower())


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


# `## section` text captures ----------------------------------------------------------------------

_REQUEST_LINE = re.compile(r"^(GET|POST|PUT|DELETE|PATCH) (\S+) HTTP/[\d.]+$")
_STATUS_LINE = re.compile(r"^HTTP/[\d.]+ (\d{3})\b")
_HEADER = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*):\s*(.*)$")


def _sections(text: str) -> tuple[str, list[tuple[str, str]]]:
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return parts[0], [(parts[i].strip(), parts[i + 1].strip("\n")) for i in range(1, len(parts), 2)]


def _sectioned(corpus: Path, file: Path) -> Iterator[RealExchange]:
    preamble, sections = _sections(file.read_text(encoding="utf-8"))
    kind = re.search(r"^#\s*Kind:\s*(.+)$", preamble, re.M)
    trust = kind.group(1).strip() if kind else "capture in a text file (no Kind: line)"
    request_section = next((body for _, body in sections if _REQUEST_LINE.match(body.strip().split("\n")[0])), None)
    if request_section is not None:
        yield _written_exchange(corpus, file, sections, request_section, trust)
        return
    for title, body in sections:
        fmt = _body_format(body)
        if fmt == "text":
            continue
        protocol = _protocol_of(body, fmt)
        if protocol is None:
            continue
        url = base_url(_endpoint_from_name(file, protocol)) + _route(protocol)
        yield _exchange(
            corpus,
            file,
            title,
            url=url,
            request=_reconstruct(protocol, url, body, fmt),
            response=RealResponse(200, None, body, fmt, status_inferred=True),
            trust=trust,
            notes=["status not recorded: 200 implied by a success body", "no response headers in the source"],
        )


def _written_exchange(
    corpus: Path, file: Path, sections: list[tuple[str, str]], request_text: str, trust: str
) -> RealExchange:
    """One exchange written out as request (line, headers, body), response headers and body."""
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
    clean, auth = _clean_headers(headers)
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
        elif section is not request_text and _body_format(section) in ("sse", "json") and not body:
            body, fmt = section, _body_format(section)
    try:
        json.loads(body_text)
        request: RealRequest | None = RealRequest(method, url, clean, auth, body_text.encode("utf-8"), "recorded")
    except ValueError:
        request = _reconstruct(protocol, url, body, fmt)
        notes.append("request body unparseable in the source: reconstructed from the response")
    if fmt == "sse" and any(not e.known and not e.done for e in parse_sse(body)):
        notes.append("some data payloads elided by the source ('...'): compared as unknown")
    return _exchange(
        corpus,
        file,
        None,
        url=url,
        request=request,
        response=RealResponse(status, received, body, fmt),
        trust=trust,
        notes=notes,
    )


# jsonl: Claude Code session logs and error lists ---------------------------------------------------


def _jsonl(corpus: Path, file: Path) -> Iterator[RealExchange]:
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict):
                rows.append((number, row))
    if rows and all({"code", "body", "kind"} <= set(row) for _, row in rows):
        yield from _errors(corpus, file, rows)
    elif rows and all(isinstance(row.get("message"), dict) for _, row in rows):
        yield from _session_log(corpus, file, [row for _, row in rows])


def _session_log(corpus: Path, file: Path, rows: list[dict[str, Any]]) -> Iterator[RealExchange]:
    """Claude Code writes one line per content block; lines with one message id are one message."""
    messages: dict[str, dict[str, Any]] = {}
    for row in rows:
        message = row["message"]
        if message.get("role") != "assistant":
            continue
        key = str(message.get("id"))
        joined = messages.setdefault(key, {**message, "content": []})
        joined["content"] = joined["content"] + list(message.get("content") or [])
        joined["stop_reason"] = message.get("stop_reason") or joined.get("stop_reason")
        joined["usage"] = message.get("usage", joined.get("usage"))
    for key, message in messages.items():
        url = base_url("anthropic") + "/v1/messages"
        body = json.dumps(message, ensure_ascii=False)
        ignore = {
            "separators": "session log re-serialised by Claude Code: its JSON printing, not Z.AI's",
        }
        notes = [
            "Claude Code session log: message and content-block shapes only, compared with the double's "
            "non-streamed answer (the log holds the message Claude Code assembled, not the wire events); "
            "block types the double adds are not counted (a log excerpt may skip a block's line)",
        ]
        if message.get("stop_reason") is None:
            ignore["path:stop_reason"] = "logged before message_delta: the stop reason is not in the source"
        yield _exchange(
            corpus,
            file,
            f"message {key}",
            url=url,
            request=_reconstruct("anthropic", url, body, "json", stream=False),
            response=RealResponse(200, None, body, "message", status_inferred=True),
            trust=_kind_from_source(file) or "session log re-serialised by its client",
            ignore=ignore,
            notes=notes,
        )


def _errors(corpus: Path, file: Path, rows: list[tuple[int, dict[str, Any]]]) -> Iterator[RealExchange]:
    for number, row in rows:
        kind = str(row.get("kind") or "")
        if not kind.upper().startswith(("REAL", "OFFICIAL")):
            continue
        code = str(row["code"])
        text = str(row.get("body") or "")
        parsed = error_body(text)
        where = str(row.get("endpoint") or "")
        protocol_hint = "anthropic" if "anthropic" in where.lower() else "openai"
        endpoint = "anthropic" if protocol_hint == "anthropic" else "coding" if "/coding/" in where else "general"
        url = base_url(endpoint) + _route(protocol_hint)
        notes = [f"endpoint {endpoint} read from the entry's endpoint text: {where!r}"]
        ignore = {"separators": "error bodies here are pasted or quoted text, not wire bytes"}
        if parsed is None:
            ignore["body"] = "the entry gives no parseable body: status only"
        if row.get("http") is None:
            ignore["status"] = "the entry records no HTTP status"
        yield _exchange(
            corpus,
            file,
            f"line {number} ({code})",
            url=url,
            request=None,
            response=RealResponse(
                row.get("http"),
                None,
                json.dumps(parsed, ensure_ascii=False, separators=(",", ":")) if parsed is not None else text,
                "json" if parsed is not None else "text",
            ),
            trust=f"{kind} — {row.get('source', '')}",
            ignore=ignore,
            notes=notes,
            error_code=code,
        )


def error_body(text: str) -> Any:
    """The JSON body inside a pasted error text: strip a leading `400 - ` / `429 ` status, then JSON,
    or a Python repr of it, or the first JSON object in the text. None when there is none."""
    stripped = re.sub(r"^\d{3}(?:\s+[A-Za-z][A-Za-z ]*?)?\s*[-:]?\s*(?=[{\[])", "", text.strip())
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(stripped)
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, dict):
            return value
    start = stripped.find("{")
    while start != -1:
        try:
            value, _ = json.JSONDecoder().raw_decode(stripped[start:])
            if isinstance(value, dict):
                return value
        except ValueError:
            pass
        start = stripped.find("{", start + 1)
    return None


# --- reconstruction ------------------------------------------------------------------------------


def infer_schema(value: Any) -> dict[str, Any]:
    """A JSON schema a value satisfies, as a client would have declared it for a tool's input."""
    if isinstance(value, dict):
        return {
            "type": "object",
            "properties": {key: infer_schema(item) for key, item in value.items()},
            "required": list(value),
        }
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, list):
        return {"type": "array", "items": infer_schema(value[0]) if value else {"type": "string"}}
    return {"type": "string"}


@dataclass
class _Shown:
    """What a response shows about the request that produced it."""

    model: str = "glm-4.7"
    stream: bool = False
    tools: list[tuple[str, Any]] = field(default_factory=list)  # (name, input/arguments)
    thinking: bool = False
    stop: str | None = None
    output_tokens: int | None = None
    usage_in_stream: bool = False


def _shown_anthropic(text: str, fmt: str) -> _Shown:
    shown = _Shown(stream=fmt == "sse")
    if fmt == "sse":
        inputs: dict[int, list[str]] = {}
        names: dict[int, str] = {}
        for event in parse_sse(text):
            data = event.data if isinstance(event.data, dict) else {}
            kind = event.kind
            if kind == "message_start":
                shown.model = (data.get("message") or {}).get("model") or shown.model
            elif kind == "content_block_start":
                block = data.get("content_block") or {}
                if block.get("type") == "tool_use":
                    names[data.get("index", len(names))] = block.get("name", "tool")
                shown.thinking = shown.thinking or block.get("type") == "thinking"
            elif kind == "content_block_delta":
                delta = data.get("delta") or {}
                if delta.get("type") == "input_json_delta":
                    inputs.setdefault(data.get("index", 0), []).append(delta.get("partial_json", ""))
            elif kind == "message_delta":
                shown.stop = (data.get("delta") or {}).get("stop_reason")
                shown.output_tokens = (data.get("usage") or {}).get("output_tokens")
        for index, name in names.items():
            try:
                arguments = json.loads("".join(inputs.get(index, [])) or "{}")
            except ValueError:
                arguments = {}
            shown.tools.append((name, arguments))
        return shown
    message = json.loads(text)
    shown.model = message.get("model") or shown.model
    for block in message.get("content") or []:
        if block.get("type") == "tool_use":
            shown.tools.append((block.get("name", "tool"), block.get("input") or {}))
        shown.thinking = shown.thinking or block.get("type") == "thinking"
    shown.stop = message.get("stop_reason")
    shown.output_tokens = (message.get("usage") or {}).get("output_tokens")
    return shown


def _shown_openai(text: str, fmt: str) -> _Shown:
    shown = _Shown(stream=fmt == "sse")
    payloads = [e.data for e in parse_sse(text) if isinstance(e.data, dict)] if fmt == "sse" else [json.loads(text)]
    for payload in payloads:
        shown.model = payload.get("model") or shown.model
        shown.usage_in_stream = shown.usage_in_stream or (fmt == "sse" and "usage" in payload)
        for choice in payload.get("choices") or []:
            part = choice.get("delta") or choice.get("message") or {}
            shown.thinking = shown.thinking or bool(part.get("reasoning_content"))
            for call in part.get("tool_calls") or []:
                function = call.get("function") or {}
                if function.get("name"):
                    try:
                        arguments = json.loads(function.get("arguments") or "{}")
                    except ValueError:
                        arguments = {}
                    shown.tools.append((function["name"], arguments))
            shown.stop = choice.get("finish_reason") or shown.stop
        shown.output_tokens = (payload.get("usage") or {}).get("completion_tokens", shown.output_tokens)
    return shown


def _ask_text(tools: list[tuple[str, Any]]) -> str:
    names = [name for name, _ in tools]
    if not names:
        return "Hello."
    if len(names) == 1:
        return f"Use the {names[0]} tool."
    return f"Use the {', '.join(names[:-1])} and {names[-1]} tools."


def _reconstruct(protocol: str, url: str, text: str, fmt: str, stream: bool | None = None) -> RealRequest:
    """The minimal request that asks for what a captured response shows."""
    shown = _shown_anthropic(text, fmt) if protocol == "anthropic" else _shown_openai(text, fmt)
    if stream is not None:
        shown.stream = stream
    tiny = shown.stop in ("max_tokens", "length")
    # A capture cut by its budget: ask with the smallest budget, so that any answer is cut (the
    # capture's own output count says what *its* answer needed, not what the double's needs).
    budget = 1 if tiny else 1024
    body: dict[str, Any] = {"model": shown.model}
    if protocol == "anthropic":
        body["max_tokens"] = budget if tiny or not shown.thinking else 2048
        body["messages"] = [{"role": "user", "content": _ask_text(shown.tools)}]
        if shown.tools:
            body["tools"] = [
                {"name": name, "description": f"The {name} tool.", "input_schema": infer_schema(arguments)}
                for name, arguments in shown.tools
            ]
        if shown.thinking:
            body["thinking"] = {"type": "enabled", "budget_tokens": 1024}
    else:
        body["max_tokens"] = budget
        body["messages"] = [{"role": "user", "content": _ask_text(shown.tools)}]
        if shown.tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {"name": name, "description": f"The {name} tool.", "parameters": infer_schema(args)},
                }
                for name, args in shown.tools
            ]
        if shown.usage_in_stream:
            body["stream_options"] = {"include_usage": True}
    if shown.stream:
        body["stream"] = True
    endpoint, _ = endpoint_of(url)
    headers = {"content-type": "application/json"}
    if protocol == "anthropic":
        headers["anthropic-version"] = "2023-06-01"
    return RealRequest(
        "POST", url, headers, default_auth(endpoint), json.dumps(body, ensure_ascii=False).encode(), "reconstructed"
    )


def elided(value: str) -> bool:
    """A string the source shortened (`...`, `…`): its format says nothing about Z.AI's."""
    return bool(ELISION.search(value))
