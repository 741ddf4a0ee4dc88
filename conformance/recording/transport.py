"""Transport faults — a server that times out before or during its answer — recorded and replayed.

Why this exists: vcrpy appends an interaction only once it has read a whole response. When the server
hangs, the client's timeout escapes vcrpy's stub and the cassette stays empty, so replay could never
show the hang again and the cell stayed NOT_RECORDED. While a cassette is in use this module sits on
top of vcrpy's stubs (httpx sync and async — the OpenAI SDK 2.x, LiteLLM's sync client, zai-sdk — and
httpx2 — the httpx fork the OpenAI SDK 3.x and the Anthropic SDK 2.x use, handled exactly like httpx —
aiohttp — LiteLLM's async transport — and http.client, which `requests` goes through) and:

* while recording, sees a timeout escape the stub for a request the cassette saw, and has the tap
  append a *fault interaction* (`fault_response`) — status code null, the fault's kind, phase,
  measured `after_seconds`, the exception — before the exception goes on to the client;
* while replaying, turns a fault interaction back into the timeout exception of the transport that
  asks (`replay_error`), raised from inside the cassette playback so the client library wraps it as
  it wraps a real one (httpx.ReadTimeout → openai.APITimeoutError on OpenAI SDK 2.x, httpx2.ReadTimeout →
  openai.APITimeoutError on 3.x and anthropic.APITimeoutError, aiohttp's SocketTimeoutError →
  litellm.Timeout, a socket timeout → requests.exceptions.ReadTimeout). A fault is recorded under the
  name of the transport that met it and replays through any: the asking transport gets its own class.
  Nothing sleeps: the recorded `after_seconds` is reported, not waited again.

A hang after the answer began (status, headers and a first SSE chunk, then silence) — phase
"mid-body" — is played the way the live server played it, in both modes: the client gets the status,
headers and the bytes that arrived, then its timeout while reading on. vcrpy alone would show the
client something else: its stubs read the whole body before handing the response over, so the client
saw the timeout before any byte (httpx), or a 200 whose stream was already broken, recorded as a
complete empty 200 (aiohttp). To keep the bytes that arrived, recording tees the body as vcrpy reads
it: at httpcore's connection pool for httpx (httpcore2's for httpx2), at the response's StreamReader
for aiohttp. http.client (requests) reads its body inside the real connection, out of reach: there
the phase is known (the status line had arrived or not) but the bytes before the hang are not kept,
and a mid-body fault replays as a timeout at the status line (vcrpy's http.client stub holds whole
bodies).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import http.client
import importlib
import sys
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol
from unittest import mock

from vcr.request import Request
from vcr.stubs import VCRConnection

from conformance.observation import Exchange

KIND = "timeout"
HTTPX_MESSAGE = "timed out"  # what httpx says for a socket timeout (httpcore passes on the socket's words)
AIOHTTP_MESSAGE = "Timeout on reading data from socket"  # aiohttp's words for a sock_read timeout


@dataclass
class Call:
    """One request a client sends through a wrapped stub: what the fault machinery learns about it."""

    transport: str  # httpx | httpx2 | aiohttp | http.client: whose exception a replayed fault must be
    recording: bool
    request: Any = None  # the client's own request object (httpx.Request, httpx2.Request), handed to its exception
    started: float = field(default_factory=time.monotonic)
    vcr_request: Request | None = None  # set by the tap when the request reaches the cassette
    exchange: Exchange | None = None
    head: dict[str, Any] | None = None  # {code, message, headers} once the status line and headers arrived
    body: bytearray = field(default_factory=bytearray)  # bytes read before a fault
    read_error: BaseException | None = None  # what broke the body read vcrpy did (and swallowed, for aiohttp)
    failed_at: float | None = None
    body_then: BaseException | None = None  # the response's body ends in this exception (mid-body faults)

    @property
    def tracked(self) -> bool:
        """The cassette saw this request and it is being recorded: its bytes are worth keeping."""
        return self.recording and self.exchange is not None


_CALL: contextvars.ContextVar[Call | None] = contextvars.ContextVar("zai_conformance_transport_call", default=None)


def current_call() -> Call | None:
    """The request the current thread or task is sending through a wrapped stub, if any."""
    return _CALL.get()


class FaultSink(Protocol):
    """What the wrappers report to: the WireTap, which appends through the cassette."""

    @property
    def recording(self) -> bool: ...

    def record_fault(self, call: Call, error: BaseException) -> None: ...


# --- what a fault is ---------------------------------------------------------------------------------

# httpx and its fork httpx2 (same API, its own classes), each paired with the httpcore it pools through.
HTTPX_FAMILIES = {"httpx": "httpcore", "httpx2": "httpcore2"}


def _httpx_modules() -> Iterator[Any]:
    """The httpx-like modules loaded (one not imported raised nothing this process could record)."""
    for name in HTTPX_FAMILIES:
        module = sys.modules.get(name)
        if module is not None:
            yield module


def _httpx_family(error: BaseException) -> Any:
    """The httpx-like module whose timeout this is, or None."""
    return next((m for m in _httpx_modules() if isinstance(error, m.TimeoutException)), None)


def is_timeout(error: BaseException | None) -> bool:
    """A timeout the server caused: httpx's and httpx2's (not PoolTimeout, a local queue), aiohttp's and
    asyncio's, the socket's, urllib3's. aiohttp.ServerTimeoutError and socket.timeout are builtin
    TimeoutErrors."""
    if error is None:
        return False
    family = _httpx_family(error)
    if family is not None:
        return not isinstance(error, family.PoolTimeout)
    if isinstance(error, TimeoutError):
        return True
    urllib3 = sys.modules.get("urllib3.exceptions")
    return urllib3 is not None and isinstance(error, urllib3.TimeoutError)


def is_fault(response: dict[str, Any]) -> bool:
    return bool(response.get("transport_fault"))


def public_name(kind: type[BaseException]) -> str:
    """`httpx.ReadTimeout`, not `httpx._exceptions.ReadTimeout`: the name users know and catch."""
    top = kind.__module__.split(".")[0]
    if kind.__module__ == "builtins":
        return kind.__qualname__
    module = sys.modules.get(top)
    if module is not None and getattr(module, kind.__qualname__, None) is kind:
        return f"{top}.{kind.__qualname__}"
    return f"{kind.__module__}.{kind.__qualname__}"


_CONNECT_TIMEOUTS = ("ConnectTimeout", "ConnectionTimeoutError", "ConnectTimeoutError")  # httpx, aiohttp, urllib3


def _phase(call: Call, error: BaseException) -> str:
    if type(error).__name__ in _CONNECT_TIMEOUTS:
        return "connect"
    family = _httpx_family(error)
    if family is not None and isinstance(error, family.WriteTimeout):
        return "send"
    return "mid-body" if call.head is not None else "first byte"


def fault_response(call: Call, error: BaseException) -> dict[str, Any]:
    """The vcrpy response recorded for a fault: clearly no HTTP answer (status code null), with what did
    arrive — the status line and headers, and the bytes before the hang — kept under the fault."""
    phase = _phase(call, error)
    fault: dict[str, Any] = {
        "kind": KIND,
        "phase": phase,
        "after_seconds": round((call.failed_at or time.monotonic()) - call.started, 3),
        "exception": public_name(type(error)),
        "message": str(error),
    }
    headers: dict[str, list[str]] = {}
    body = b""
    if phase == "mid-body" and call.head is not None:
        fault["received_status"] = {"code": call.head["code"], "message": call.head["message"]}
        body, headers, note = _plain_body(bytes(call.body), call.head["headers"])
        if note:
            fault["note"] = note
    return {
        "status": {"code": None, "message": f"no complete HTTP answer: {KIND} ({phase})"},
        "headers": headers,
        "body": {"string": body},
        "transport_fault": fault,
    }


def _plain_body(body: bytes, headers: dict[str, list[str]]) -> tuple[bytes, dict[str, list[str]], str | None]:
    """The bytes before the hang, decompressed as far as they go, and the headers without
    Content-Encoding: cassettes hold plain bodies (vcrpy decodes whole ones, and would fail on a
    truncated one). Bytes a transport already decoded (aiohttp by default) are kept as they are."""
    encodings = [v.strip().lower() for k, vs in headers.items() if k.lower() == "content-encoding" for v in vs]
    if not encodings:
        return body, headers, None
    headers = {k: v for k, v in headers.items() if k.lower() != "content-encoding"}
    wbits = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}
    if len(encodings) != 1 or encodings[0] not in wbits or not body:
        note = f"the {', '.join(encodings)} body that arrived is not kept" if body else None
        return b"", headers, note
    try:
        return zlib.decompressobj(wbits[encodings[0]]).decompress(body), headers, None
    except zlib.error:
        return body, headers, None  # not compressed after all: decoded by the transport already


def _same_family(recorded: str, module: Any, base: type[BaseException]) -> type[BaseException] | None:
    """The recorded exception class, when the transport asking now is the one that raised it."""
    prefix = module.__name__ + "."
    if not recorded.startswith(prefix):
        return None
    kind = getattr(module, recorded[len(prefix) :], None)
    return kind if isinstance(kind, type) and issubclass(kind, base) else None


def replay_error(fault: dict[str, Any], call: Call | None) -> BaseException:
    """The exception the asking transport raises for this fault. The same transport gets the recorded
    class and message; another one gets its own equivalent for the phase (a cassette recorded through
    httpx also feeds LiteLLM's aiohttp transport)."""
    phase, recorded, message = fault.get("phase"), str(fault.get("exception") or ""), fault.get("message")
    transport = call.transport if call is not None else None
    if transport in HTTPX_FAMILIES:
        module = importlib.import_module(transport)  # httpx or httpx2: the asking client catches its own
        kind = _same_family(recorded, module, module.TimeoutException)
        if kind is None:
            kind = {"connect": module.ConnectTimeout, "send": module.WriteTimeout}.get(phase, module.ReadTimeout)
            message = HTTPX_MESSAGE
        return kind(message or HTTPX_MESSAGE, request=call.request if call is not None else None)
    if transport == "aiohttp":
        import aiohttp

        kind = _same_family(recorded, aiohttp, aiohttp.ServerTimeoutError)
        if kind is None:
            kind = aiohttp.ConnectionTimeoutError if phase == "connect" else aiohttp.SocketTimeoutError
            message = AIOHTTP_MESSAGE
        return kind(message or AIOHTTP_MESSAGE)
    # http.client (requests, urllib3) or a stub this module does not wrap: what a socket raises.
    return TimeoutError(message if recorded == "TimeoutError" and message else "timed out")


REPLAYED = "zai_conformance_replayed_fault"  # set on every exception a replayed fault raises


def is_replayed_fault(error: BaseException | None) -> bool:
    """The exception (or one it wraps) was raised by replaying a recorded fault — no client timer
    fired and nothing was waited for. Lets tests prove "replay does not wait" without a clock."""
    seen = 0
    while error is not None and seen < 10:
        if getattr(error, REPLAYED, False):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def replay_fault(response: dict[str, Any], call: Call | None) -> dict[str, Any]:
    """Play a fault interaction: raise the timeout now, or — mid-body, for a transport whose response
    this module can finish — hand vcrpy the status, headers and bytes that arrived, and leave the
    timeout for the wrapper to put at the end of the body."""
    fault = response["transport_fault"]
    error = replay_error(fault, call)
    setattr(error, REPLAYED, True)
    received = fault.get("received_status")
    finishable = ("aiohttp", *HTTPX_FAMILIES)  # transports whose response this module can end in the fault
    if fault.get("phase") == "mid-body" and received and call is not None and call.transport in finishable:
        call.body_then = error
        call.body = bytearray(response["body"].get("string") or b"")
        status = {"code": received["code"], "message": received.get("message") or ""}
        return {"status": status, "headers": response.get("headers") or {}, "body": {"string": bytes(call.body)}}
    raise error


# --- bodies that end in a timeout --------------------------------------------------------------------


@functools.cache
def _fault_streams(module: Any) -> tuple[type, type]:
    """(sync, async) byte streams of this httpx-like module (its Response checks for its own classes)
    that yield the bytes that arrived, then raise the timeout."""

    class SyncFaultStream(module.SyncByteStream):  # type: ignore[misc,name-defined]
        def __init__(self, body: bytes, error: BaseException) -> None:
            self._body, self._error = body, error

        def __iter__(self) -> Iterator[bytes]:
            if self._body:
                yield self._body
            raise self._error

    class AsyncFaultStream(module.AsyncByteStream):  # type: ignore[misc,name-defined]
        def __init__(self, body: bytes, error: BaseException) -> None:
            self._body, self._error = body, error

        async def __aiter__(self) -> AsyncIterator[bytes]:
            if self._body:
                yield self._body
            raise self._error

    return SyncFaultStream, AsyncFaultStream


def _fault_reader(body: bytes, error: BaseException) -> Any:
    """An aiohttp StreamReader holding the bytes that arrived; reading past them raises the timeout
    (where a live reader would have waited for more and timed out)."""
    from aiohttp import streams

    class NoConnection:  # the protocol a StreamReader expects; nothing to pause or resume
        _reading_paused = False
        connected = True

        def pause_reading(self) -> None:
            pass

        def resume_reading(self, resume_parser: bool = True) -> None:
            pass

    class FaultReader(streams.StreamReader):
        async def _wait(self, func_name: str) -> None:
            raise error

    reader = FaultReader(NoConnection(), max(len(body), 2**16), loop=asyncio.get_running_loop())  # type: ignore[arg-type]
    if body:
        reader.feed_data(body)
    return reader


class _TeeStream:
    """httpcore's response stream, keeping a copy of each chunk in the call (the bytes before a hang)."""

    def __init__(self, inner: Any, call: Call) -> None:
        self._inner, self._call = inner, call

    def __iter__(self) -> Iterator[bytes]:
        for part in self._inner:
            self._call.body += part
            yield part

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self._inner:
            self._call.body += part
            yield part

    def close(self) -> None:
        self._inner.close()

    async def aclose(self) -> None:
        await self._inner.aclose()


class _TeeReader:
    """Stands in for a live aiohttp response's StreamReader while vcrpy reads the body into the
    cassette: the bytes before a fault stay in the call, and so does the fault (vcrpy swallows it)."""

    def __init__(self, inner: Any, call: Call) -> None:
        self._inner, self._call = inner, call

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def read(self, n: int = -1) -> bytes:
        start = len(self._call.body)
        try:
            if n >= 0:
                self._call.body += await self._inner.read(n)
            else:
                while block := await self._inner.readany():
                    self._call.body += block
        except BaseException as exc:
            self._call.read_error, self._call.failed_at = exc, time.monotonic()
            raise
        return bytes(self._call.body[start:])


def _head(code: int, message: str, pairs: Any) -> dict[str, Any]:
    headers: dict[str, list[str]] = {}
    for name, value in pairs:
        name = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        headers.setdefault(name, []).append(value.decode("latin-1") if isinstance(value, bytes) else str(value))
    return {"code": code, "message": message, "headers": headers}


# --- wrappers over vcrpy's stubs ---------------------------------------------------------------------


def _httpx_response(response: Any, call: Call, sync: bool) -> Any:
    """A response (httpx's or httpx2's, as the call's) whose body is the bytes that arrived, then the
    call's timeout."""
    error, body = call.body_then, bytes(call.body)
    assert error is not None
    module = importlib.import_module(call.transport)
    sync_stream, async_stream = _fault_streams(module)
    stream = sync_stream(body, error) if sync else async_stream(body, error)
    if response is not None:  # replay: vcrpy built it from the head the tap handed over
        response.stream = stream
        return response
    head = call.head or {"code": 200, "message": "", "headers": {}}
    return module.Response(
        head["code"],
        headers=[(name, value) for name, values in head["headers"].items() for value in values],
        stream=stream,
        extensions={"reason_phrase": head["message"].encode("latin-1", "replace")},
        request=call.request,
    )


def _failed(call: Call, error: BaseException, sink: FaultSink) -> bool:
    """Record a timeout escaping the stub; True if the client should get the head, the bytes and
    then the timeout (mid-body) rather than the exception right away."""
    if not (call.recording and is_timeout(error)):
        return False
    call.failed_at = call.failed_at or time.monotonic()
    sink.record_fault(call, error)
    if call.tracked and call.head is not None and _phase(call, error) == "mid-body":
        call.body_then = error
        return True
    return False


def _wrap_httpx_sync(stub: Any, sink: FaultSink, family: str = "httpx") -> Any:
    @functools.wraps(stub)
    def handle_request(transport: Any, request: Any) -> Any:
        call = Call(family, sink.recording, request)
        token = _CALL.set(call)
        try:
            response = stub(transport, request)
        except Exception as exc:
            if _failed(call, exc, sink):
                return _httpx_response(None, call, sync=True)
            raise
        finally:
            _CALL.reset(token)
        return _httpx_response(response, call, sync=True) if call.body_then is not None else response

    return handle_request


def _wrap_httpx_async(stub: Any, sink: FaultSink, family: str = "httpx") -> Any:
    @functools.wraps(stub)
    async def handle_async_request(transport: Any, request: Any) -> Any:
        call = Call(family, sink.recording, request)
        token = _CALL.set(call)
        try:
            response = await stub(transport, request)
        except Exception as exc:
            if _failed(call, exc, sink):
                return _httpx_response(None, call, sync=False)
            raise
        finally:
            _CALL.reset(token)
        return _httpx_response(response, call, sync=False) if call.body_then is not None else response

    return handle_async_request


def _wrap_aiohttp(stub: Any, sink: FaultSink) -> Any:
    @functools.wraps(stub)
    async def _request(session: Any, method: str, url: Any, **kwargs: Any) -> Any:
        call = Call("aiohttp", sink.recording)
        token = _CALL.set(call)
        try:
            response = await stub(session, method, url, **kwargs)
        except Exception as exc:
            # Before the head (a sock_read timeout in the body is swallowed by vcrpy, see below), or a
            # total timeout mid-body, which vcrpy lets through: recorded either way, raised at once.
            _failed(call, exc, sink)
            raise
        finally:
            _CALL.reset(token)
        if call.tracked and is_timeout(call.read_error):
            # vcrpy's body read timed out and it swallowed that (the tap recorded the fault instead of
            # vcrpy's empty 200): the client reads the bytes that arrived, then the timeout, as live.
            call.body_then = call.read_error
        if call.body_then is not None:
            response.content = _fault_reader(bytes(call.body), call.body_then)
            if not call.recording:  # a live response's read() goes to its content; vcrpy's does not
                _fail_whole_reads(response, call.body_then)
        return response

    return _request


def _fail_whole_reads(response: Any, error: BaseException) -> None:
    """vcrpy's replayed aiohttp response answers read/text/json from the whole body it holds."""

    async def fail(*args: Any, **kwargs: Any) -> Any:
        raise error

    for name in ("read", "text", "json"):
        setattr(response, name, fail)


def _wrap_http_client(stub: Any, sink: FaultSink) -> Any:
    @functools.wraps(stub)
    def getresponse(connection: Any, *args: Any, **kwargs: Any) -> Any:
        call = Call("http.client", sink.recording)
        token = _CALL.set(call)
        try:
            return stub(connection, *args, **kwargs)
        except Exception as exc:
            _failed(call, exc, sink)
            raise
        finally:
            _CALL.reset(token)

    return getresponse


def _note_http_client_head(original: Any) -> Any:
    """http.client parsed a status line and headers (urllib3 reads on into the body before vcrpy sees
    the response): the phase of a later timeout is mid-body. The bytes are not teed here."""

    @functools.wraps(original)
    def begin(response: Any) -> None:
        original(response)
        call = current_call()
        if call is not None and call.tracked and call.head is None:
            call.head = _head(response.status, response.reason or "", response.headers.items())

    return begin


def _tee_httpcore_response(response: Any) -> Any:
    """Note the head of an httpcore response and copy its body bytes as they pass (sync or async)."""
    call = current_call()
    if call is not None and call.tracked and call.head is None:
        reason = response.extensions.get("reason_phrase", b"").decode("latin-1", "replace")
        call.head = _head(response.status, reason, response.headers)
        response.stream = _TeeStream(response.stream, call)
    return response


def _tee_httpcore_sync(original: Any) -> Any:
    @functools.wraps(original)
    def handle_request(pool: Any, request: Any) -> Any:
        return _tee_httpcore_response(original(pool, request))

    return handle_request


def _tee_httpcore_async(original: Any) -> Any:
    @functools.wraps(original)
    async def handle_async_request(pool: Any, request: Any) -> Any:
        return _tee_httpcore_response(await original(pool, request))

    return handle_async_request


def _tee_aiohttp_start(original: Any) -> Any:
    @functools.wraps(original)
    async def start(response: Any, connection: Any) -> Any:
        started = await original(response, connection)
        call = current_call()
        if call is not None and call.tracked and call.head is None:
            call.head = _head(response.status, response.reason or "", response.raw_headers)
            response.content = _TeeReader(response.content, call)
        return started

    return start


def _targets(recording: bool) -> list[tuple[Any, str, Any]]:
    """(owner, attribute, wrapper factory) for every stub to wrap; libraries not installed are skipped."""
    targets: list[tuple[Any, str, Any]] = []
    for family, core in HTTPX_FAMILIES.items():
        with contextlib.suppress(ImportError):
            module = importlib.import_module(family)
            sync, async_ = (functools.partial(wrap, family=family) for wrap in (_wrap_httpx_sync, _wrap_httpx_async))
            targets.append((module.HTTPTransport, "handle_request", sync))
            targets.append((module.AsyncHTTPTransport, "handle_async_request", async_))
            if recording:  # the tee sits at the connection pool the transport hands each request to
                pool = importlib.import_module(core)
                targets.append((pool.ConnectionPool, "handle_request", lambda o, _s: _tee_httpcore_sync(o)))
                targets.append((pool.AsyncConnectionPool, "handle_async_request", lambda o, _s: _tee_httpcore_async(o)))
    with contextlib.suppress(ImportError):
        import aiohttp

        targets.append((aiohttp.ClientSession, "_request", _wrap_aiohttp))
        if recording:
            targets.append((aiohttp.ClientResponse, "start", lambda original, _sink: _tee_aiohttp_start(original)))
    targets.append((VCRConnection, "getresponse", _wrap_http_client))
    if recording:
        targets.append((http.client.HTTPResponse, "begin", lambda o, _s: _note_http_client_head(o)))
    return targets


@contextlib.contextmanager
def intercepting(sink: FaultSink) -> Iterator[None]:
    """Wrap vcrpy's stubs (enter inside `use_cassette`, so they are vcrpy's) for the block."""
    with contextlib.ExitStack() as stack:
        for owner, name, wrap in _targets(sink.recording):
            stack.enter_context(mock.patch.object(owner, name, wrap(getattr(owner, name), sink)))
        yield
