"""A server that times out — says nothing, or stops after the first SSE chunk — is evidence too.

Recording keeps the timeout as a transport fault in the cassette (no HTTP status, no secret, the bytes
that did arrive), the client sees its timeout as it would live, and replay shows the same client the
same exception offline, at once, through whichever transport asks: httpx (OpenAI SDK 2.x, LiteLLM sync),
httpx2 (OpenAI SDK 3.x, Anthropic SDK 2.x), aiohttp (LiteLLM async), http.client (requests). Everything
here talks to a loopback server started by the test.

Two client sets are replayed (the default lock, and the older ones `scripts/bootstrap` builds into
.envs/): which transport and exception to expect is read from the installed clients, and a behaviour
that changed between releases is asserted per release, with the release condition stated.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.metadata
import json
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anthropic
import httpx
import httpx2
import openai
import pytest
import requests
from packaging.version import Version

from conformance.recording import cassette, transport
from conformance.recording.cassette import CorruptCassette, Persister
from conformance.recording.recorder import Recorder
from conformance.secrets import REDACTED
from tests.support.fake_zai import fake_zai

KEY = "zaiconf-test-key-transport-9f2c"
PROVENANCE = {"kind": "double", "note": "a loopback server that hangs"}
MESSAGES = [{"role": "user", "content": "Say hi in Portuguese"}]
CHUNK = {
    "id": "20261121000000abcdef0123456789ab",
    "created": 1,
    "object": "chat.completion.chunk",
    "model": "glm-4.6",
    "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Ol"}}],
}
SSE_CHUNK = f"data: {json.dumps(CHUNK)}\n\n"
MESSAGE_START = {
    "type": "message_start",
    "message": {
        "id": "msg_20261121000000abcdef",
        "type": "message",
        "role": "assistant",
        "model": "glm-4.6",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 8, "output_tokens": 0},
    },
}
SSE_EVENT = f"event: message_start\ndata: {json.dumps(MESSAGE_START)}\n\n"  # Anthropic's first event
TIMEOUT = 1.0


# --- a server that hangs -------------------------------------------------------------------------


@dataclass
class HangingServer:
    """Reads each request, then says nothing ("silent") or sends SSE headers and one chunk ("first-chunk",
    "first-chunk-gzip"; "first-event" is Anthropic's message_start), and hangs until the test ends."""

    behaviour: str
    received: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/coding/paas/v4"


@pytest.fixture(params=["silent", "first-chunk"])
def hanging(request: pytest.FixtureRequest) -> Iterator[HangingServer]:
    state = HangingServer(request.param)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            state.received.append(self.path)
            if state.behaviour.startswith("first-"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream;charset=UTF-8")
                self.send_header("Transfer-Encoding", "chunked")
                data = (SSE_EVENT if state.behaviour == "first-event" else SSE_CHUNK).encode()
                if state.behaviour == "first-chunk-gzip":  # a compressed stream, cut after its first chunk
                    self.send_header("Content-Encoding", "gzip")
                    gzip = zlib.compressobj(wbits=zlib.MAX_WBITS | 16)
                    data = gzip.compress(data) + gzip.flush(zlib.Z_SYNC_FLUSH)
                self.end_headers()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
            state.release.wait(30)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the clients ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    error: type[BaseException] | None
    chunks: list[str | None]
    replayed: bool = False  # the error came from a replayed fault: no timer fired, nothing was waited for


def _openai_sdk(base_url: str, stream: bool, chunks: list[str | None]) -> None:
    client = openai.OpenAI(base_url=base_url, api_key=KEY, max_retries=0, timeout=TIMEOUT)
    try:
        response = client.chat.completions.create(model="glm-4.6", messages=MESSAGES, stream=stream)
        if stream:
            chunks.extend(chunk.choices[0].delta.content for chunk in response)
    finally:
        client.close()


def _openai_sdk_async(base_url: str, stream: bool, chunks: list[str | None]) -> None:
    async def ask() -> None:
        client = openai.AsyncOpenAI(base_url=base_url, api_key=KEY, max_retries=0, timeout=TIMEOUT)
        try:
            response = await client.chat.completions.create(model="glm-4.6", messages=MESSAGES, stream=stream)
            if stream:
                async for chunk in response:
                    chunks.append(chunk.choices[0].delta.content)
        finally:
            await client.close()

    asyncio.run(ask())


def _anthropic_sdk(base_url: str, stream: bool, chunks: list[str | None]) -> None:
    client = anthropic.Anthropic(base_url=base_url, api_key=KEY, max_retries=0, timeout=TIMEOUT)
    try:
        response = client.messages.create(model="glm-4.6", max_tokens=10, messages=MESSAGES, stream=stream)
        if stream:
            chunks.extend(event.type for event in response)
    finally:
        client.close()


def _litellm_kwargs(base_url: str, stream: bool) -> dict[str, Any]:
    return {
        "model": "openai/glm-4.6",
        "api_base": base_url,
        "api_key": KEY,
        "timeout": TIMEOUT,
        "num_retries": 0,
        "messages": MESSAGES,
        "stream": stream,
    }


def _litellm(base_url: str, stream: bool, chunks: list[str | None]) -> None:
    import litellm

    response = litellm.completion(**_litellm_kwargs(base_url, stream))
    if stream:
        chunks.extend(chunk.choices[0].delta.content for chunk in response)


def _litellm_async(base_url: str, stream: bool, chunks: list[str | None]) -> None:
    import litellm

    async def ask() -> None:
        try:
            response = await litellm.acompletion(**_litellm_kwargs(base_url, stream))
            if stream:
                async for chunk in response:
                    chunks.append(chunk.choices[0].delta.content)
        finally:  # its aiohttp sessions are bound to this loop (see conformance/paths/litellm.py)
            await litellm.close_litellm_async_clients()
            litellm.in_memory_llm_clients_cache.flush_cache()

    asyncio.run(ask())


def _requests(base_url: str, stream: bool, chunks: list[str | None]) -> None:
    body = {"model": "glm-4.6", "messages": MESSAGES, "stream": stream}
    response = requests.post(f"{base_url}/chat/completions", json=body, timeout=TIMEOUT)
    chunks.append(response.text)


CLIENTS: dict[str, Callable[[str, bool, list[str | None]], None]] = {
    "openai-sdk": _openai_sdk,
    "openai-sdk-async": _openai_sdk_async,
    "anthropic-sdk": _anthropic_sdk,
    "litellm": _litellm,
    "litellm-async": _litellm_async,
    "requests": _requests,
}

# --- what the installed clients raise ------------------------------------------------------------


def _release(distribution: str) -> Version:
    return Version(importlib.metadata.version(distribution))


# openai 3.14 (#3827, "normalize errors raised while reading streams"): a timeout while reading a stream
# is raised as openai.APITimeoutError (the transport's timeout as its __cause__); before, the transport's
# own timeout escaped the stream bare. Measured: 2.54 and 3.13 bare, 3.57 wrapped.
OPENAI_WRAPS_STREAM_TIMEOUTS = _release("openai") >= Version("3.14")
READ_TIMEOUT = {  # a transport's read timeout, named as the cassette names it
    "httpx": "httpx.ReadTimeout",
    "httpx2": "httpx2.ReadTimeout",
    "aiohttp": "aiohttp.SocketTimeoutError",
}


def _httpx_family(client: Any) -> str:
    """httpx or httpx2: the library an HTTP client object is from (its class or a base class)."""
    for kind in type(client).__mro__:
        top = kind.__module__.split(".")[0]
        if top in transport.HTTPX_FAMILIES:
            return top
    raise AssertionError(f"{type(client).__qualname__} is neither an httpx nor an httpx2 client")


@functools.cache
def _transport_of(client: str) -> str:
    """The transport a client sends through, as the installed release builds it (no request is sent):
    the OpenAI SDK's default HTTP client is httpx's in 2.x, httpx2's in 3.x; LiteLLM hands the SDK an
    HTTP client of its own (sync: httpx; async: httpx over its aiohttp transport), or none (then the SDK's)."""
    if client == "openai-sdk":
        sdk = openai.OpenAI(api_key=KEY)
        try:
            return _httpx_family(sdk._client)  # the HTTP client every request of this SDK goes through
        finally:
            sdk.close()
    if client == "openai-sdk-async":
        async_sdk = openai.AsyncOpenAI(api_key=KEY)
        try:
            return _httpx_family(async_sdk._client)
        finally:
            asyncio.run(async_sdk.close())
    from litellm.llms.openai.common_utils import BaseOpenAILLM

    if client == "litellm":
        http = BaseOpenAILLM._get_sync_http_client()
        return _httpx_family(http) if http is not None else _transport_of("openai-sdk")
    assert client == "litellm-async", client
    http = BaseOpenAILLM._get_async_http_client()  # its aiohttp session is made on first use: nothing to close
    if http is None:
        return _transport_of("openai-sdk")
    return "aiohttp" if "aiohttp" in type(http._transport).__module__ else _httpx_family(http)


def _transport_exception(client: str) -> str:
    """The exception the client's transport raises for a read timeout, named as the cassette names it."""
    return READ_TIMEOUT[_transport_of(client)]


def _timeout_error(client: str, mid_stream: bool) -> type[BaseException]:
    """What the client raises when the server goes silent: before the answer, or after its first chunk."""
    import litellm

    sdk = client.startswith("openai-sdk")
    if not mid_stream:
        return openai.APITimeoutError if sdk else litellm.Timeout
    if sdk:  # the stream raises the transport's own timeout, or (openai >= 3.14) wraps it
        if OPENAI_WRAPS_STREAM_TIMEOUTS:
            return openai.APITimeoutError
        family: Any = importlib.import_module(_transport_of(client))
        return family.ReadTimeout
    if not OPENAI_WRAPS_STREAM_TIMEOUTS:
        # LiteLLM's stream gets the bare transport timeout and wraps it for the Router's fallback.
        # Measured: LiteLLM 1.106.2 with openai 2.54, LiteLLM 1.110.2 with openai 3.13.
        return litellm.exceptions.MidStreamFallbackError
    if _release("litellm") >= Version("1.110"):
        # LiteLLM's stream gets openai.APITimeoutError and maps it to litellm.Timeout (408); its
        # _is_transport_timeout knows only a bare httpx timeout (or a litellm.Timeout caused by one), so
        # the 4xx rule raises the 408 as it is, not as MidStreamFallbackError. Measured: 1.110.2, openai 3.57.
        return litellm.Timeout
    pytest.fail(
        f"LiteLLM {_release('litellm')} with openai {_release('openai')} (>= 3.14): not measured; measure and add it"
    )


def _ask(client: str, base_url: str, stream: bool) -> Outcome:
    chunks: list[str | None] = []
    try:
        CLIENTS[client](base_url, stream, chunks)
    except Exception as exc:
        return Outcome(type(exc), chunks, transport.is_replayed_fault(exc))
    return Outcome(None, chunks)


def _redacted(text: str | None) -> str | None:
    return text.replace(KEY, REDACTED) if text else text


def _only_interaction(path: Path) -> dict[str, Any]:
    [interaction] = cassette.read(path)["interactions"]
    return interaction


# --- record, then replay -------------------------------------------------------------------------


@pytest.mark.parametrize("client", ["openai-sdk", "openai-sdk-async", "litellm", "litellm-async"])
def test_a_timeout_is_recorded_as_a_fault_and_replays_offline_as_it_happened_live(
    hanging: HangingServer, client: str, tmp_path: Path
) -> None:
    stream = hanging.behaviour == "first-chunk"
    live = _ask(client, hanging.base_url, stream)  # no cassette: what the client does with this server
    assert live.error is _timeout_error(client, mid_stream=stream), "the server hangs: the client must time out"
    assert live.chunks == (["Ol"] if stream else [])

    path = tmp_path / "hang.yaml"
    with Recorder().record(path, PROVENANCE) as tap:
        recorded = _ask(client, hanging.base_url, stream)
    assert (recorded.error, recorded.chunks) == (live.error, live.chunks)  # recording changes nothing for the client
    [exchange] = tap.exchanges
    assert (exchange.outcome, exchange.status) == ("recorded", None)
    assert exchange.transport_fault is not None and exchange.transport_fault["kind"] == "timeout"

    text = path.read_text()
    assert KEY not in text
    response = _only_interaction(path)["response"]
    fault = response["transport_fault"]
    assert response["status"]["code"] is None  # no HTTP answer, whatever arrived before the hang
    assert fault["exception"] == _transport_exception(client)  # what the installed client sends through
    assert fault["after_seconds"] >= TIMEOUT * 0.8  # measured live (a busy machine may take longer)
    if stream:
        assert fault["phase"] == "mid-body"
        assert fault["received_status"] == {"code": 200, "message": "OK"}
        assert response["body"] == SSE_CHUNK  # the bytes that arrived before the hang, kept
        assert response["headers"]["Content-Type"] == ["text/event-stream;charset=UTF-8"]
    else:
        assert fault["phase"] == "first byte"
        assert "received_status" not in fault and response["body"] == "" and response["headers"] == {}
    assert exchange.transport_fault == fault

    asked = len(hanging.received)
    with Recorder().replay(path) as tap:
        replayed = _ask(client, hanging.base_url, stream)
    assert len(hanging.received) == asked  # served from the cassette, not the server
    assert (replayed.error, replayed.chunks) == (live.error, live.chunks)
    assert replayed.replayed  # the recorded wait is reported, not waited again
    [exchange] = tap.exchanges
    assert (exchange.outcome, exchange.status, exchange.miss) == ("replayed", None, None)
    assert exchange.transport_fault == fault
    assert exchange.response_body == (SSE_CHUNK if stream else None)


@pytest.mark.parametrize("hanging", ["first-chunk-gzip"], indirect=True)
@pytest.mark.parametrize("client", ["openai-sdk", "litellm-async"])
def test_a_compressed_stream_keeps_its_first_chunk_decoded(hanging: HangingServer, client: str, tmp_path: Path) -> None:
    path = tmp_path / "hang.yaml"
    with Recorder().record(path, PROVENANCE):
        recorded = _ask(client, hanging.base_url, True)
    assert recorded.error is not None and recorded.chunks == ["Ol"]
    response = _only_interaction(path)["response"]
    assert response["body"] == SSE_CHUNK and "Content-Encoding" not in response["headers"]  # plain, like any body
    with Recorder().replay(path):
        replayed = _ask(client, hanging.base_url, True)
    assert (replayed.error, replayed.chunks) == (recorded.error, recorded.chunks)


@pytest.mark.parametrize("hanging", ["silent", "first-event"], indirect=True)
def test_the_anthropic_sdk_through_httpx2_records_and_replays_its_timeout(
    hanging: HangingServer, tmp_path: Path
) -> None:
    stream = hanging.behaviour == "first-event"
    live = _ask("anthropic-sdk", hanging.base_url, stream)
    # before the answer the SDK wraps the timeout; mid-stream it lets httpx2's through, as the OpenAI SDK does httpx's
    assert live.error is (httpx2.ReadTimeout if stream else anthropic.APITimeoutError)
    assert live.chunks == (["message_start"] if stream else [])
    path = tmp_path / "hang.yaml"
    with Recorder().record(path, PROVENANCE) as tap:
        recorded = _ask("anthropic-sdk", hanging.base_url, stream)
    assert (recorded.error, recorded.chunks) == (live.error, live.chunks)
    [exchange] = tap.exchanges
    assert (exchange.outcome, exchange.status) == ("recorded", None)

    assert KEY not in path.read_text()
    response = _only_interaction(path)["response"]
    fault = response["transport_fault"]
    assert response["status"]["code"] is None and fault["exception"] == "httpx2.ReadTimeout"
    assert fault["after_seconds"] >= TIMEOUT * 0.8  # measured live (a busy machine may take longer)
    if stream:  # httpx2 pools through httpcore2: the tee there keeps the event that arrived
        assert fault["phase"] == "mid-body" and fault["received_status"] == {"code": 200, "message": "OK"}
        assert response["body"] == SSE_EVENT
    else:
        assert fault["phase"] == "first byte" and response["body"] == ""
    assert exchange.transport_fault == fault

    asked = len(hanging.received)
    with Recorder().replay(path) as tap:
        replayed = _ask("anthropic-sdk", hanging.base_url, stream)
    assert len(hanging.received) == asked
    assert (replayed.error, replayed.chunks) == (recorded.error, recorded.chunks)
    assert replayed.replayed
    [exchange] = tap.exchanges
    assert (exchange.outcome, exchange.transport_fault) == ("replayed", fault)


def test_a_replayed_httpx2_fault_is_httpx2s_own_timeout(tmp_path: Path) -> None:
    """Recorded through httpx, asked through httpx2 (or the reverse): each gets its own class."""
    path = tmp_path / "fault.yaml"
    _fault_cassette(path, "first byte", "httpx.ReadTimeout", stream=False)
    body = {"model": "glm-4.6", "messages": MESSAGES, "stream": False}
    with (
        Recorder().replay(path),
        httpx2.Client(timeout=TIMEOUT) as client,
        pytest.raises(httpx2.ReadTimeout, match="timed out"),
    ):
        client.post(f"{BASE_URL}/chat/completions", json=body)


def test_requests_records_and_replays_its_read_timeout(hanging: HangingServer, tmp_path: Path) -> None:
    path = tmp_path / "hang.yaml"
    with Recorder().record(path, PROVENANCE) as tap:
        recorded = _ask("requests", hanging.base_url, False)
    assert recorded.error is requests.exceptions.ReadTimeout
    fault = _only_interaction(path)["response"]["transport_fault"]
    # urllib3 reads the body inside the real connection: the phase is known, the bytes are not kept
    assert fault["phase"] == ("mid-body" if hanging.behaviour == "first-chunk" else "first byte")
    assert tap.exchanges[0].transport_fault == fault
    with Recorder().replay(path) as tap:
        replayed = _ask("requests", hanging.base_url, False)
    assert replayed.error is requests.exceptions.ReadTimeout and replayed.replayed
    assert tap.exchanges[0].outcome == "replayed" and tap.exchanges[0].transport_fault == fault


# --- one recording, every transport --------------------------------------------------------------

BASE_URL = "http://127.0.0.1:9/api/coding/paas/v4"  # nothing listens: replay must not need it


def _fault_cassette(path: Path, phase: str, exception: str, stream: bool) -> dict[str, Any]:
    fault: dict[str, Any] = {
        "kind": "timeout",
        "phase": phase,
        "after_seconds": 120.0,
        "exception": exception,
        "message": "timed out",
    }
    response: dict[str, Any] = {"status": {"code": None, "message": "no complete HTTP answer"}, "headers": {}}
    response["body"], response["transport_fault"] = "", fault
    if phase == "mid-body":
        fault["received_status"] = {"code": 200, "message": "OK"}
        response["headers"] = {"Content-Type": ["text/event-stream;charset=UTF-8"]}
        response["body"] = SSE_CHUNK
    body = {"model": "glm-4.6", "messages": MESSAGES, "stream": stream}
    request = {
        "method": "POST",
        "uri": f"{BASE_URL}/chat/completions",
        "headers": {"Content-Type": ["application/json"]},
        "body": json.dumps(body),
    }
    cassette.write(path, PROVENANCE, [{"request": request, "response": response}])
    return fault


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        ("openai-sdk", openai.APITimeoutError),
        ("openai-sdk-async", openai.APITimeoutError),
        ("litellm", "litellm.Timeout"),
        ("litellm-async", "litellm.Timeout"),
        ("requests", requests.exceptions.ReadTimeout),
    ],
)
@pytest.mark.parametrize(
    "recorded_by", ["httpx.ReadTimeout", "httpx2.ReadTimeout", "aiohttp.SocketTimeoutError", "TimeoutError"]
)
def test_a_fault_before_the_first_byte_replays_as_the_asking_transports_timeout(
    client: str, expected: Any, recorded_by: str, tmp_path: Path
) -> None:
    if isinstance(expected, str):
        import litellm

        expected = litellm.Timeout
    path = tmp_path / "fault.yaml"
    fault = _fault_cassette(path, "first byte", recorded_by, stream=False)
    with Recorder().replay(path) as tap:
        outcome = _ask(client, BASE_URL, False)
    assert outcome.error is expected and outcome.replayed  # raised from the recording: not the recorded 120 s
    assert tap.exchanges[0].transport_fault == fault and tap.exchanges[0].status is None


@pytest.mark.parametrize("client", ["openai-sdk", "openai-sdk-async", "litellm", "litellm-async"])
@pytest.mark.parametrize(
    "recorded_by", ["httpx.ReadTimeout", "httpx2.ReadTimeout", "aiohttp.SocketTimeoutError", "TimeoutError"]
)
def test_a_fault_mid_stream_replays_the_first_chunk_then_the_timeout(
    client: str, recorded_by: str, tmp_path: Path
) -> None:
    """Whoever recorded it, the asking client gets the first chunk, then what its own transport's
    timeout becomes in it (per release: see _timeout_error) — raised from the recording, not waited."""
    path = tmp_path / "fault.yaml"
    _fault_cassette(path, "mid-body", recorded_by, stream=True)
    with Recorder().replay(path):
        outcome = _ask(client, BASE_URL, True)
    assert (outcome.error, outcome.chunks) == (_timeout_error(client, mid_stream=True), ["Ol"])
    assert outcome.replayed


# --- what is not a fault, and what the recorder leaves behind ------------------------------------


def test_a_refused_connection_is_not_recorded_as_a_timeout(tmp_path: Path) -> None:
    path = tmp_path / "refused.yaml"
    with Recorder().record(path, PROVENANCE) as tap:
        outcome = _ask("openai-sdk", BASE_URL, False)
    assert outcome.error is openai.APIConnectionError
    assert cassette.read(path)["interactions"] == []
    assert tap.exchanges[0].outcome == "pending" and tap.exchanges[0].transport_fault is None


@pytest.mark.parametrize("client", ["openai-sdk", "litellm-async", "requests"])
def test_an_ordinary_answer_records_and_replays_as_before(client: str, tmp_path: Path) -> None:
    path = tmp_path / "answer.yaml"
    stream = client != "requests"
    with fake_zai() as server, Recorder().record(path, PROVENANCE) as tap:
        recorded = _ask(client, server.base_url(), stream)
    assert recorded.error is None and recorded.chunks
    assert [(e.outcome, e.status, e.transport_fault) for e in tap.exchanges] == [("recorded", 200, None)]
    assert "transport_fault" not in _only_interaction(path)["response"]
    with Recorder().replay(path) as tap:
        replayed = _ask(client, server.base_url(), stream)
    # the double echoes the key it was sent; the cassette holds it redacted
    assert (replayed.error, replayed.chunks) == (None, [_redacted(c) for c in recorded.chunks])
    assert [(e.outcome, e.status, e.transport_fault) for e in tap.exchanges] == [("replayed", 200, None)]


def test_the_stubs_are_vcrpys_again_after_the_cassette(tmp_path: Path) -> None:
    import aiohttp

    stubs = (httpx.HTTPTransport.handle_request, httpx2.HTTPTransport.handle_request, aiohttp.ClientSession._request)
    _fault_cassette(tmp_path / "fault.yaml", "first byte", "httpx.ReadTimeout", stream=False)
    with Recorder().replay(tmp_path / "fault.yaml"):
        assert httpx.HTTPTransport.handle_request is not stubs[0]
        assert httpx2.HTTPTransport.handle_request is not stubs[1]
    assert (httpx.HTTPTransport.handle_request, httpx2.HTTPTransport.handle_request) == stubs[:2]
    assert aiohttp.ClientSession._request is stubs[2]


# --- the cassette format -------------------------------------------------------------------------


def test_a_fault_round_trips_through_the_persister(tmp_path: Path) -> None:
    path = tmp_path / "fault.yaml"
    fault = _fault_cassette(path, "mid-body", "httpx.ReadTimeout", stream=True)
    requests_, responses, metadata = Persister.load_cassette(path)
    assert responses[0]["transport_fault"] == fault and responses[0]["body"]["string"] == SSE_CHUNK.encode()
    again = tmp_path / "again.yaml"
    Persister.save_cassette(again, {"requests": requests_, "responses": responses, "metadata": metadata})
    assert again.read_text() == path.read_text()


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda r: r.pop("transport_fault"), "status.code: must be an integer"),
        (lambda r: r["status"].update(code=200), "must be null for a transport fault"),
        (lambda r: r["transport_fault"].update(phase="later"), "transport_fault.phase"),
        (lambda r: r.update(transport_fault="timeout"), "transport_fault: must be a mapping"),
        (lambda r: r["transport_fault"].update(after_seconds=-1), "after_seconds"),
        (lambda r: r["transport_fault"].update(received_status=200), "received_status"),
    ],
)
def test_a_malformed_fault_is_a_corrupt_cassette(
    tmp_path: Path, edit: Callable[[dict[str, Any]], Any], problem: str
) -> None:
    path = tmp_path / "fault.yaml"
    _fault_cassette(path, "mid-body", "httpx.ReadTimeout", stream=True)
    document = cassette.read(path)
    edit(document["interactions"][0]["response"])
    cassette.write(path, document["provenance"], document["interactions"])
    with pytest.raises(CorruptCassette, match=problem):
        cassette.read(path)
