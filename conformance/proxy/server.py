"""The real LiteLLM proxy, in-process: its FastAPI app under uvicorn on an ephemeral loopback port.

Started at most once per process, lazily — by the first proxy cell — because importing
`litellm.proxy.proxy_server` costs seconds. It loads its config the way `litellm --config FILE` does
(the CLI puts its options in the `WORKER_CONFIG` environment variable; the app's startup event reads
them and calls `ProxyConfig.load_config`). Its host:port is registered in the recorder's PASSTHROUGH,
so a client's request to the proxy is neither recorded nor replayed, while the proxy's own upstream
requests — the ones that reach Z.AI — are.

Offline by construction: LiteLLM's cost map is local (`conformance` sets LITELLM_LOCAL_MODEL_COST_MAP),
no database is configured (DATABASE_URL is hidden during start-up), no licence is set (its check
would call LiteLLM's API), and the event loop is plain asyncio — not uvloop, whose C sockets would
slip past the replay network guard (`netguard` patches Python's socket layer).

One process, two LiteLLMs: the proxy and the LiteLLM client paths share the `litellm` module, whose
settings are globals. Loading the guide's config sets `litellm.drop_params = True` and registers the
proxy's callbacks; left in place, that would silently change what `litellm.completion(model="zai/…")`
does in every later cell of the run (it would drop `reasoning_effort` instead of refusing it). So the
proxy's changes to LiteLLM's globals apply only while the proxy handles a request (an ASGI wrapper
swaps them in and out with `LiteLLMGlobals`, in conformance/litellm_globals.py with every other
swap of LiteLLM's globals); outside, LiteLLM is as the client paths left it.

Later runs in the same process may aim endpoints elsewhere (a double, then the real API), use a
different key or bring their own catalogue: `ProxyServer.route` rewrites the config and reloads it into
the running proxy (`ProxyConfig.load_config` builds a fresh router); it does not restart it.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import io
import json
import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.catalogue import Catalogue, Endpoint, load_catalogue
from conformance.litellm_globals import LiteLLMGlobals
from conformance.proxy.config import (
    KEY_ENV,
    MASTER_KEY,
    base_urls_for,
    build_config,
    model_list,
    remove_config,
    write_config,
)
from conformance.recording import recorder

START_TIMEOUT = 120.0  # seconds for the app's startup to answer /health/liveliness
LIVENESS = "/health/liveliness"
# What `litellm --config FILE` puts in WORKER_CONFIG (its CLI defaults), with our file as `config`.
_CLI_WORKER_CONFIG: dict[str, Any] = {
    "model": None,
    "alias": None,
    "api_base": None,
    "api_version": None,
    "debug": False,
    "detailed_debug": False,
    "temperature": None,
    "max_tokens": None,
    "request_timeout": None,
    "max_budget": None,
    "drop_params": False,
    "add_function_to_prompt": False,
    "headers": None,
    "save": False,
    "use_queue": False,
}
# Environment the proxy must not see while it starts: a database URL makes it connect and migrate, a
# licence makes it call LiteLLM's licence API, CONFIG_FILE_PATH would override our config.
_HIDDEN_AT_START = ("DATABASE_URL", "DIRECT_URL", "LITELLM_LICENSE", "CONFIG_FILE_PATH")
# "LiteLLM" too: with drop_params the proxy warns on stderr for every parameter it drops, which each
# cell's findings already name (the request the proxy sent is checked against the one intended).
_QUIET_LOGGERS = ("LiteLLM", "LiteLLM Proxy", "LiteLLM Router", "uvicorn", "uvicorn.error", "apscheduler")


class ProxyStartError(RuntimeError):
    """The proxy did not come up; the message says what it answered last."""


@dataclass
class StartTimes:
    """Seconds spent starting the proxy: importing its module, then until it answered liveness."""

    import_s: float
    ready_s: float

    @property
    def total_s(self) -> float:
        return round(self.import_s + self.ready_s, 3)


NO_CELL = object()
"""The owner of a request that reaches the proxy while no cell runs (no tap is active). Its upstream
calls — and the retries the proxy makes of them after its client gave up, whenever those come — belong
to no cell: to every cell's tap they are strays, never recorded into or answered from its evidence."""


def _request_owner() -> object:
    tap = recorder.active_tap()
    return tap if tap is not None else NO_CELL


class _ProxyApp:
    """The proxy's ASGI app with LiteLLM's globals set to the proxy's for each HTTP request — until
    just before the last byte of its response goes out: the client's thread resumes when it has the
    response, and by then LiteLLM must be the client's again (a LiteLLM client path makes its next
    call at once)."""

    def __init__(self, app: Any, globals_: LiteLLMGlobals) -> None:
        self.app = app
        self.globals = globals_
        self._in_flight: Counter[object] = Counter()  # requests in the proxy, per cell (its tap)
        self._idle = threading.Condition()

    def wait_idle(self, timeout: float, owner: object | None = None) -> bool:
        """Wait until no request of this cell (`owner`, default: the cell running now) is in the proxy,
        its upstream retries included; False if one still is after `timeout` seconds. A cell waits for
        this before its cassette closes, so that the proxy never works on one cell's request while the
        next cell's evidence is in place. Requests of earlier cells (a hang left behind) do not count:
        their upstream calls are refused as strays."""
        owner = _request_owner() if owner is None else owner
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight[owner] == 0, timeout=timeout)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        # the cell this request is for: its upstream calls may use that cell's evidence and no other
        owner = _request_owner()
        with self._idle:
            self._in_flight[owner] += 1
        token = recorder.REQUEST_OWNER.set(owner)
        try:
            await self._handle(scope, receive, send)
        finally:
            recorder.REQUEST_OWNER.reset(token)
            with self._idle:
                self._in_flight[owner] -= 1
                if not self._in_flight[owner]:
                    del self._in_flight[owner]
                self._idle.notify_all()

    async def _handle(self, scope: Any, receive: Any, send: Any) -> None:
        engaged = True
        token = self.globals.enter()

        async def send_then_leave(message: Any) -> None:
            nonlocal engaged
            if engaged and message.get("type") == "http.response.body" and not message.get("more_body", False):
                engaged = False
                self.globals.leave(token)
            await send(message)

        try:
            await self.app(scope, receive, send_then_leave)
        finally:
            if engaged:
                self.globals.leave(token)


@dataclass
class ProxyServer:
    """A running proxy. `url` is its root (`http://127.0.0.1:<port>`); clients add `/v1` or not."""

    port: int
    catalogue: Catalogue
    base_urls: dict[str, str]
    api_key: str | None
    config_path: Path
    times: StartTimes
    globals: LiteLLMGlobals = field(default_factory=LiteLLMGlobals)
    app: _ProxyApp | None = None
    startup_output: str = ""
    reloads: int = 0
    _server: Any = None
    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def master_key(self) -> str:
        return MASTER_KEY

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def model_names(self) -> list[str]:
        """The model names the proxy's current config serves."""
        return [route["model_name"] for route in model_list(self.catalogue, self.base_urls)]

    def route(self, endpoint: Endpoint, base_url: str, api_key: str | None, catalogue: Catalogue | None = None) -> None:
        """Make the proxy's routes for `endpoint` reach `base_url` with `api_key` — and serve the routes
        of `catalogue` (a run's own), when given; reload the config when any of them changed. The key
        reaches the proxy the guide's way — `os.environ/ZAI_API_KEY`, which the proxy resolves when it
        loads the config — and the variable is restored after."""
        base_url = base_url.rstrip("/")
        with self._lock:
            catalogue = catalogue or self.catalogue
            base_urls = base_urls_for(catalogue, {**self.base_urls, endpoint.id: base_url})
            same_routes = catalogue is self.catalogue or model_list(catalogue, base_urls) == model_list(
                self.catalogue, base_urls_for(self.catalogue, base_urls)
            )
            if self.base_urls.get(endpoint.id) == base_url and self.api_key == api_key and same_routes:
                return
            self.catalogue = catalogue
            self.base_urls = base_urls
            self.api_key = api_key
            self._reload()

    def _reload(self) -> None:
        import litellm.proxy.proxy_server as proxy_server

        old = self.config_path
        self.config_path = write_config(build_config(self.catalogue, self.base_urls))
        remove_config(old)
        if self._loop is None:
            raise ProxyStartError("the proxy's event loop is not running; cannot reload its config")

        async def load() -> None:
            with self.globals.engaged():
                router, model_list, general_settings = await proxy_server.proxy_config.load_config(
                    router=proxy_server.llm_router, config_file_path=str(self.config_path)
                )
            proxy_server.llm_router = router
            proxy_server.llm_model_list = model_list
            proxy_server.general_settings = general_settings

        with _captured_stdout(), _environment(**_key_environment(self.api_key)):
            asyncio.run_coroutine_threadsafe(load(), self._loop).result(timeout=60)
        _quiet_logs()  # loading a config sets the proxy's log levels again
        self.reloads += 1

    def wait_idle(self, timeout: float) -> bool:
        """True once no request of the running cell is in the proxy; False if one still is after `timeout`."""
        return self.app.wait_idle(timeout) if self.app is not None else True

    def stop(self) -> None:
        """Shut the server down, unregister it from the recorder, remove its config file."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
        recorder.unregister_passthrough(self.host)
        remove_config(self.config_path)


_lock = threading.Lock()
_proxy: ProxyServer | None = None
_starts = 0


def starts() -> int:
    """How many times this process started a proxy (the tests assert: once)."""
    return _starts


def current() -> ProxyServer | None:
    return _proxy


def get_proxy(
    catalogue: Catalogue | None = None, base_urls: Mapping[str, str] | None = None, api_key: str | None = None
) -> ProxyServer:
    """The process's proxy, started on first use (with these settings; later callers change them with
    `route`). Thread-safe; later calls return the same one."""
    global _proxy, _starts
    with _lock:
        if _proxy is None or not _proxy.running:
            _proxy = start(catalogue or load_catalogue(), base_urls, api_key)
            _starts += 1
            atexit.register(_stop_at_exit, _proxy)
        return _proxy


def stop() -> None:
    """Stop the process's proxy, if one runs (a later get_proxy starts a new one)."""
    global _proxy
    with _lock:
        if _proxy is not None:
            _proxy.stop()
            _proxy = None


def _stop_at_exit(proxy: ProxyServer) -> None:
    with contextlib.suppress(Exception):
        proxy.stop()


def start(catalogue: Catalogue, base_urls: Mapping[str, str] | None = None, api_key: str | None = None) -> ProxyServer:
    """Import the proxy, load a config generated from `catalogue`, serve it on 127.0.0.1:<free port>,
    and return once it answers liveness. `api_key` (default: ZAI_API_KEY from the environment) is what
    the routes' `os.environ/ZAI_API_KEY` resolves to. Prefer `get_proxy()`: this always starts one."""
    started = time.perf_counter()
    before = LiteLLMGlobals.snapshot()  # imports litellm: the client side's state, before the proxy's
    import litellm.proxy.proxy_server as proxy_server
    import uvicorn

    imported = time.perf_counter()
    _quiet_logs()
    urls = base_urls_for(catalogue, base_urls)
    config_path = write_config(build_config(catalogue, urls))
    api_key = api_key if api_key is not None else os.environ.get(KEY_ENV)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    proxy = ProxyServer(
        port=port,
        catalogue=catalogue,
        base_urls=urls,
        api_key=api_key,
        config_path=config_path,
        times=StartTimes(round(imported - started, 3), 0.0),
    )
    recorder.register_passthrough(proxy.host)
    proxy.app = _ProxyApp(proxy_server.app, proxy.globals)
    config = uvicorn.Config(
        proxy.app,
        host="127.0.0.1",
        port=port,
        loop="asyncio",
        lifespan="on",
        log_level="critical",
        access_log=False,
        server_header=False,
    )
    server = uvicorn.Server(config)
    loop_ready = threading.Event()

    async def serve() -> None:
        proxy._loop = asyncio.get_running_loop()
        loop_ready.set()
        await server.serve(sockets=[sock])

    thread = threading.Thread(target=asyncio.run, args=(serve(),), name="litellm-proxy", daemon=True)
    proxy._server, proxy._thread = server, thread
    output = io.StringIO()
    worker_config = json.dumps({**_CLI_WORKER_CONFIG, "config": str(config_path)})
    try:
        with _captured_stdout(output), _environment(WORKER_CONFIG=worker_config, **_key_environment(api_key)):
            thread.start()
            loop_ready.wait(timeout=10)
            _wait_until_alive(proxy, thread, server)
        _quiet_logs()  # the proxy's start-up sets its loggers' levels again
    except BaseException:
        proxy.startup_output = output.getvalue()
        proxy.stop()
        sock.close()
        raise
    finally:
        proxy.globals.learn(before)
    proxy.startup_output = output.getvalue()
    proxy.times.ready_s = round(time.perf_counter() - imported, 3)
    return proxy


def _wait_until_alive(proxy: ProxyServer, thread: threading.Thread, server: Any) -> None:
    import httpx

    deadline = time.monotonic() + START_TIMEOUT
    last = "no answer yet"
    with httpx.Client(timeout=2.0, trust_env=False) as client, recorder.harness_own_requests():
        while time.monotonic() < deadline:
            if not thread.is_alive():
                raise ProxyStartError(f"the LiteLLM proxy stopped during start-up ({last})")
            if server.started:
                try:
                    answer = client.get(proxy.url + LIVENESS)
                except httpx.HTTPError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                else:
                    if answer.status_code == 200:
                        return
                    last = f"HTTP {answer.status_code}: {answer.text[:200]}"
            time.sleep(0.02)
    raise ProxyStartError(f"the LiteLLM proxy did not answer {LIVENESS} within {START_TIMEOUT:.0f} s ({last})")


def _key_environment(api_key: str | None) -> dict[str, str]:
    return {KEY_ENV: api_key} if api_key is not None else {}


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set `values` and hide `_HIDDEN_AT_START` for a start-up or a config load, then put everything
    back: the proxy reads them only then."""
    names = (*values, *_HIDDEN_AT_START)
    saved = {name: os.environ.get(name) for name in names}
    for name in _HIDDEN_AT_START:
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _captured_stdout(sink: io.StringIO | None = None) -> Iterator[None]:
    """The proxy prints a banner and its model list on start and on every config load; keep them out
    of the run's output (`startup_output` keeps the start's). stdout is process-wide: the calling
    thread waits meanwhile, so nothing else of ours is printing."""
    with contextlib.redirect_stdout(sink if sink is not None else io.StringIO()):
        yield


def _quiet_logs() -> None:
    """The proxy logs every upstream error it relays, with a traceback; the cell records the error
    already. LITELLM_LOG set in the environment keeps LiteLLM's own levels."""
    if os.environ.get("LITELLM_LOG"):
        return
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
