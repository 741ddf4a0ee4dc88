"""The real LiteLLM proxy as client paths: its config, its lifecycle, its contract, and its cells.

The proxy runs in this process (one start per test session), with the Z.AI double as its upstream
and a fake ZAI_API_KEY. A record-mode cassette taps the proxy's upstream requests: what the proxy
sent is what these tests assert on, and a client's request to the proxy itself must never show up
there (the proxy is a registered pass-through host).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
import yaml
from vcr.request import Request

from conformance.catalogue import Catalogue, EndpointUnknown, endpoint_for, load_catalogue
from conformance.double.server import DoubleServer, running
from conformance.paths.proxy import describe_proxy_error
from conformance.proxy import server
from conformance.proxy.config import KEY_ENV, MASTER_KEY, build_config, proxy_model_name, write_config
from conformance.recording import netguard, recorder
from conformance.recording.recorder import Recorder, WireTap
from conformance.runner import CellRunner, RunSettings
from conformance.verdict import Verdict
from tests.support.fake_secrets import ZAI_KEY_UPPER
from tests.support.recorded import RECORDED_SCENARIOS
from tests.support.releases import before

# The proxy's Anthropic routes build LiteLLM's token-count types (plural form of the pyproject filter).
pytestmark = pytest.mark.filterwarnings("ignore:Items .* are using the `ReadOnly` qualifier:UserWarning")

ROOT = Path(__file__).resolve().parents[1]
FAKE_KEY = "proxy-test-fake-zai-key"  # the double accepts any key without "invalid" in it
WRONG_MASTER_KEY = "sk-not-the-master-key"
# One model per endpoint, every scenario, every proxy path.
CELL_SETS = ["general/glm-4.5-air", "coding/glm-4.6", "anthropic/glm-4.6"]
# The recorded scenarios and the guides' connection test (the documented-surface scenarios run through the
# proxy in the matrix suite; recording their error cells live here would wait out the proxy's retry back-off).
RECORDED_SHAPES = {*RECORDED_SCENARIOS, "connection"}


@pytest.fixture(scope="module")
def double() -> Iterator[DoubleServer]:
    with running() as started:
        yield started


@pytest.fixture(scope="module")
def proxy(double: DoubleServer, catalogue: Catalogue) -> server.ProxyServer:
    """The session's proxy, routed to the double with the fake key (started here if nothing did yet)."""
    started = server.get_proxy(catalogue, double.base_urls, FAKE_KEY)
    for endpoint in catalogue.endpoints:
        started.route(endpoint, double.base_urls[endpoint.id], FAKE_KEY)
    return started


PROXY_PATHS = {"proxy-openai-sdk", "proxy-litellm", "proxy-litellm-guide", "proxy-anthropic-sdk"}


@pytest.fixture(scope="module")
def proxy_catalogue() -> Catalogue:
    """The packaged catalogue: its proxy paths are the ones under test."""
    catalogue = load_catalogue()
    assert {p.id for p in catalogue.paths} >= PROXY_PATHS
    return catalogue


@contextmanager
def upstream_tap(tmp_path: Path) -> Iterator[WireTap]:
    """Record (from the double) every request the proxy sends upstream while the block runs."""
    with Recorder().record(tmp_path / "tap.yaml", {"kind": "test"}) as tap:
        yield tap


def only_upstream(tap: WireTap, double: DoubleServer) -> list[dict[str, Any]]:
    """The tapped requests as JSON bodies; every one must have gone to the double, none to the proxy."""
    for exchange in tap.exchanges:
        assert exchange.url.startswith(double.root_url), f"not an upstream request: {exchange.url}"
    return [json.loads(exchange.request_body or "{}") for exchange in tap.exchanges]


# --- config -----------------------------------------------------------------------------------------


def test_config_mirrors_the_guide(catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(KEY_ENV, ZAI_KEY_UPPER)
    base_urls = {"coding": "http://127.0.0.1:9/api/coding/paas/v4"}
    config = build_config(catalogue, base_urls)
    routes = {route["model_name"]: route["litellm_params"] for route in config["model_list"]}

    assert routes["glm-4.6"] == {
        "model": "anthropic/glm-4.6",
        "api_base": "https://api.z.ai/api/anthropic",
        "api_key": "os.environ/ZAI_API_KEY",
    }
    assert routes["coding/glm-4.6"] == {
        "model": "zai/glm-4.6",
        "api_base": "http://127.0.0.1:9/api/coding/paas/v4",
        "api_key": "os.environ/ZAI_API_KEY",
    }
    assert routes["general/glm-4.5-air"]["model"] == "zai/glm-4.5-air"
    assert routes["general/glm-4.5-air"]["api_base"] == "https://api.z.ai/api/paas/v4"
    expected = {proxy_model_name(c.endpoint, c.model.id) for c in catalogue.cells}  # every pair the cells use
    assert set(routes) == expected and len(config["model_list"]) == len(expected)
    assert routes["responses/glm-5.3"] == {  # the Responses API: LiteLLM's openai/ route posts to /responses
        "model": "openai/glm-5.3",
        "api_base": "https://api.z.ai/api/v1",
        "api_key": "os.environ/ZAI_API_KEY",
    }
    assert config["general_settings"] == {"master_key": MASTER_KEY, "disable_model_info_refresh": True}
    assert config["litellm_settings"] == {"drop_params": True}

    written = write_config(config, tmp_path)
    text = written.read_text()
    assert yaml.safe_load(text) == config
    assert "0123456789abcdef" not in text, "the key must be read from the environment, never written"


WRITES_CONFIGS = textwrap.dedent(
    """
    import sys
    from conformance.proxy.config import remove_config, write_config

    removed = write_config({"model_list": []})
    remove_config(removed)
    remove_config(removed)  # gone already: nothing to do
    print(removed, write_config({"model_list": []}), write_config({"model_list": []}, sys.argv[1]))
    """
)


def test_config_files_do_not_outlive_the_process(tmp_path: Path) -> None:
    """The proxy lives as long as the process: whatever stops it, or nothing does, the config files
    written for it are gone once the interpreter exits — none is left in the temporary folder."""
    temporary, given = tmp_path / "tmp", tmp_path / "given"
    temporary.mkdir()
    given.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", WRITES_CONFIGS, str(given)],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(temporary)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    written = [Path(name) for name in done.stdout.split()]
    assert [path.parent for path in written] == [temporary, temporary, given]
    assert [path for path in written if path.exists()] == []
    assert list(temporary.iterdir()) == [] and list(given.iterdir()) == []


def test_endpoint_for_matches_base_url_or_its_path(catalogue: Catalogue) -> None:
    assert endpoint_for(catalogue, "https://api.z.ai/api/coding/paas/v4/").id == "coding"
    assert endpoint_for(catalogue, "http://127.0.0.1:8000/api/paas/v4").id == "general"
    assert endpoint_for(catalogue, "http://127.0.0.1:8000/api/anthropic").id == "anthropic"
    with pytest.raises(EndpointUnknown, match="keeps the endpoint's path"):
        endpoint_for(catalogue, "https://gateway.example/zai")


# --- contract ---------------------------------------------------------------------------------------


def openai_client(proxy: server.ProxyServer, key: str = MASTER_KEY) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=proxy.url + "/v1", max_retries=0)


def test_master_key_is_accepted_and_only_the_upstream_request_is_recorded(
    proxy: server.ProxyServer, double: DoubleServer, tmp_path: Path
) -> None:
    with upstream_tap(tmp_path) as tap:
        answer = openai_client(proxy).chat.completions.create(
            model="coding/glm-4.6", messages=[{"role": "user", "content": "Say hi"}]
        )
    assert answer.choices[0].finish_reason == "stop" and answer.choices[0].message.content
    assert answer.model == "coding/glm-4.6"  # the proxy's model name, not Z.AI's
    assert [e.url for e in tap.exchanges] == [double.base_urls["coding"] + "/chat/completions"]
    upstream = tap.exchanges[0]
    assert upstream.request_headers["authorization"] == [f"Bearer {FAKE_KEY}"]  # ZAI_API_KEY, not the master key
    assert json.loads(upstream.request_body or "")["model"] == "glm-4.6"


def _wrong_key_openai(proxy: server.ProxyServer) -> None:
    openai_client(proxy, WRONG_MASTER_KEY).chat.completions.create(
        model="coding/glm-4.6", messages=[{"role": "user", "content": "Say hi"}]
    )


def _wrong_key_anthropic(proxy: server.ProxyServer) -> None:
    client = anthropic.Anthropic(api_key=WRONG_MASTER_KEY, base_url=proxy.url, max_retries=0)
    client.messages.create(model="glm-4.6", max_tokens=100, messages=[{"role": "user", "content": "Say hi"}])


def _wrong_key_litellm(proxy: server.ProxyServer) -> None:
    import litellm

    litellm.completion(
        model="litellm_proxy/coding/glm-4.6",
        api_base=proxy.url,
        api_key=WRONG_MASTER_KEY,
        messages=[{"role": "user", "content": "Say hi"}],
        num_retries=0,
    )


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (_wrong_key_openai, openai.BadRequestError),
        (_wrong_key_anthropic, anthropic.BadRequestError),
        (_wrong_key_litellm, "litellm.BadRequestError"),
    ],
    ids=["openai-sdk", "anthropic-sdk", "litellm"],
)
def test_wrong_master_key_is_refused_before_anything_goes_upstream(
    proxy: server.ProxyServer, double: DoubleServer, tmp_path: Path, call: Any, error: Any
) -> None:
    """Refused — but not as an authentication error: without a database the proxy cannot look up a key
    that is not the master key, and says so: HTTP 400 `no_db_connection`, "No connected db." (1.106.2)."""
    if isinstance(error, str):
        import litellm

        error = litellm.BadRequestError
    with upstream_tap(tmp_path) as tap, pytest.raises(error) as raised:
        call(proxy)
    assert raised.value.status_code == 400
    assert "No connected db." in str(raised.value)
    assert tap.exchanges == []


def test_no_key_at_all_is_a_bare_500_up_to_1_108_and_a_401_from_1_109(proxy: server.ProxyServer) -> None:
    """Without an Authorization header, LiteLLM's proxy up to 1.108 fails in its auth error handler (which
    imports `prisma`, not installed) and answers a bare 500: the client learns nothing about the key. From
    1.109 it answers 401 with an auth_error that says no key was passed (measured: 1.108.7 gives the 500,
    1.109.3 the 401; prisma is installed in neither)."""
    answer = httpx.post(
        proxy.url + "/v1/chat/completions",
        json={"model": "coding/glm-4.6", "messages": [{"role": "user", "content": "Say hi"}]},
    )
    if before("litellm", "1.109"):
        assert answer.status_code == 500
        assert answer.headers["content-type"].startswith("text/plain")
        assert answer.text == "Internal Server Error"
    else:
        assert answer.status_code == 401
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.json() == {
            "error": {
                "message": "Authentication Error, No api key passed in.",
                "type": "auth_error",
                "param": None,
                "code": "401",
            }
        }


def test_drop_params_drops_reasoning_effort_on_zai_routes(
    proxy: server.ProxyServer, double: DoubleServer, tmp_path: Path
) -> None:
    """`zai/` takes no reasoning_effort; the guide's `drop_params: true` drops it and the call succeeds.
    The same parameter through LiteLLM's SDK in this process is still refused: the proxy's settings do
    not leak into the client paths."""
    import litellm

    with upstream_tap(tmp_path) as tap:
        answer = openai_client(proxy).chat.completions.create(
            model="coding/glm-4.6", messages=[{"role": "user", "content": "Say hi"}], reasoning_effort="high"
        )
    assert answer.choices[0].message.content
    (sent,) = only_upstream(tap, double)
    assert "reasoning_effort" not in sent and "thinking" not in sent

    assert litellm.drop_params is not True
    with pytest.raises(litellm.UnsupportedParamsError, match="reasoning_effort"):
        litellm.completion(
            model="zai/glm-4.6",
            api_base=double.base_urls["coding"],
            api_key=FAKE_KEY,
            messages=[{"role": "user", "content": "Say hi"}],
            reasoning_effort="high",
            num_retries=0,
        )


def test_drop_params_drops_reasoning_effort_on_the_anthropic_route(
    proxy: server.ProxyServer, double: DoubleServer, tmp_path: Path
) -> None:
    """The guide registers `anthropic/glm-4.6` with no `supports_reasoning`: reasoning_effort is dropped
    rather than turned into Anthropic `thinking`, and LiteLLM fills in max_tokens and system blocks —
    max_tokens being its DEFAULT_ANTHROPIC_CHAT_MAX_TOKENS, 4096 up to 1.108 and 128000 from 1.109
    (measured: 1.108.7 and 1.109.3; glm-4.6's maximum output is 131072, so Z.AI takes either)."""
    with upstream_tap(tmp_path) as tap:
        openai_client(proxy).chat.completions.create(
            model="glm-4.6",
            messages=[{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Say hi"}],
            reasoning_effort="high",
        )
    assert [e.url for e in tap.exchanges] == [double.base_urls["anthropic"] + "/v1/messages"]
    (sent,) = only_upstream(tap, double)
    assert "thinking" not in sent and "reasoning_effort" not in sent
    assert sent["max_tokens"] == (4096 if before("litellm", "1.109") else 128000)
    assert sent["system"] == [{"type": "text", "text": "Be brief"}]


def test_models_lists_the_configured_names(proxy: server.ProxyServer, catalogue: Catalogue) -> None:
    listed = [model.id for model in openai_client(proxy).models.list()]
    assert sorted(listed) == sorted(proxy.model_names())
    assert {"glm-4.6", "coding/glm-4.6", "general/glm-4.5-air"} <= set(listed)
    assert len(listed) == len({(c.endpoint.id, c.model.id) for c in catalogue.cells})


def test_upstream_error_is_relayed_without_its_business_code(
    proxy: server.ProxyServer, double: DoubleServer, tmp_path: Path
) -> None:
    """Z.AI's 400/1214 reaches the client as the proxy's own error body: status and message survive,
    the business code does not (`code` is the HTTP status). A 400 is not retried."""
    with upstream_tap(tmp_path) as tap, pytest.raises(openai.BadRequestError) as raised:
        openai_client(proxy).chat.completions.create(
            model="coding/glm-4.6", messages=[{"role": "user", "content": "Say hi [double:1214]"}]
        )
    assert raised.value.status_code == 400
    body = raised.value.body
    assert isinstance(body, dict) and body["code"] == "400" and body["type"] == "invalid_request_error"
    assert "ZaiException" in body["message"] and "1214" not in json.dumps(body)
    assert len(only_upstream(tap, double)) == 1
    assert tap.exchanges[0].status == 400 and '"1214"' in (tap.exchanges[0].response_body or "")


@pytest.mark.parametrize(
    ("model", "upstream_requests", "code"),
    [("coding/glm-4.6", 9, None), ("glm-4.6", 3, "1302")],
    ids=["zai-route", "anthropic-route"],
)
def test_upstream_rate_limit_is_retried_by_the_proxy(
    proxy: server.ProxyServer,
    double: DoubleServer,
    tmp_path: Path,
    model: str,
    upstream_requests: int,
    code: str | None,
) -> None:
    """The proxy's router retries a 429 twice (its default num_retries, with back-off) before relaying
    it; on a `zai/` route each attempt is an OpenAI SDK call that retries twice more itself
    (x-stainless-retry-count 0, 1, 2): one client call, nine requests to Z.AI. Z.AI's 1302 reaches the
    client only inside the message of an anthropic/ route's error."""
    with upstream_tap(tmp_path) as tap, pytest.raises(openai.RateLimitError) as raised:
        openai_client(proxy).chat.completions.create(
            model=model, messages=[{"role": "user", "content": "Say hi [double:1302]"}]
        )
    assert raised.value.status_code == 429
    assert isinstance(raised.value.body, dict) and raised.value.body["code"] == "429"
    assert len(only_upstream(tap, double)) == upstream_requests
    assert all(e.status == 429 for e in tap.exchanges)
    assert describe_proxy_error(raised.value).code == code


def test_a_client_that_gives_up_on_a_hang_gets_litellm_back(
    proxy: server.ProxyServer, double: DoubleServer, catalogue: Catalogue
) -> None:
    """Z.AI never answers; the client's idle limit ends the turn (a HANG) while the proxy still waits
    upstream. From then on LiteLLM's globals are the client side's again, and the proxy serves on."""
    import litellm

    from conformance.catalogue import Message, Scenario, TurnExpectation
    from conformance.checks.errors import classify
    from conformance.paths.base import Target, build_path

    scenario = Scenario(
        id="hang",
        title="hang",
        messages=(Message(role="user", content="Say hi [double:hang]"),),
        expect=(TurnExpectation(),),
    )
    target = Target(double.base_urls["coding"], FAKE_KEY, idle_timeout=1.0)
    path = build_path(catalogue.path("proxy-openai-sdk"), target, catalogue=catalogue)
    assert (path.target.base_url, path.target.api_key) == (proxy.url + "/v1", MASTER_KEY)  # aimed at the proxy
    try:
        (turn,) = path.run(
            scenario, {"model": "glm-4.6", "messages": [{"role": "user", "content": "Say hi [double:hang]"}]}
        )
    finally:
        path.close()
    assert turn.error is not None and turn.error.timeout
    assert classify(turn.error, sent=True)[0] is Verdict.HANG
    assert litellm.drop_params is not True
    answer = openai_client(proxy).chat.completions.create(
        model="coding/glm-4.6", messages=[{"role": "user", "content": "Say hi"}]
    )
    assert answer.choices[0].message.content


def test_a_request_that_arrives_while_no_cell_runs_belongs_to_no_cell(tmp_path: Path) -> None:
    """Such a request (the hang above: the proxy retries it upstream after its client gave up, whenever
    the double lets go) is tagged as no cell's: a cell recording by then refuses its upstream calls as
    strays instead of recording them into its own evidence."""
    seen: list[object] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(recorder.REQUEST_OWNER.get())

    class Globals:
        def enter(self) -> int:
            return 0

        def leave(self, token: int) -> None:
            pass

    assert recorder.active_tap() is None
    asyncio.run(server._ProxyApp(inner, Globals())({"type": "http"}, None, None))
    assert seen == [server.NO_CELL]
    retry = Request("POST", "http://127.0.0.1:9/api/coding/paas/v4/chat/completions", b"{}", {})
    with Recorder().record(tmp_path / "later-cell.yaml", {"kind": "test"}) as tap:
        token = recorder.REQUEST_OWNER.set(seen[0])  # the retry runs in the request's context
        try:
            with pytest.raises(recorder.StrayRequest, match="sent for a cell that has ended"):
                tap._cassette.can_play_response_for(retry)
        finally:
            recorder.REQUEST_OWNER.reset(token)
    assert tap.exchanges == [] and tap.stray_requests == 1


# --- cells through the real runner ------------------------------------------------------------------


@pytest.mark.parametrize("cell_set", CELL_SETS)
def test_cells_record_against_the_double_and_replay_offline_with_the_same_verdicts(
    proxy: server.ProxyServer,
    double: DoubleServer,
    proxy_catalogue: Catalogue,
    tmp_path: Path,
    cell_set: str,
) -> None:
    cells = [
        c for c in proxy_catalogue.cells if c.id.startswith(cell_set + "/proxy-") and c.scenario.id in RECORDED_SHAPES
    ]
    paths = {c.path.id for c in cells}
    assert paths == PROXY_PATHS
    assert {c.scenario.id for c in cells} == RECORDED_SHAPES
    assert not [c for c in cells if c.not_applicable]

    live = CellRunner(
        proxy_catalogue,
        RunSettings(
            mode="live",
            cassette_root=tmp_path,
            base_urls=dict(double.base_urls),
            api_key=FAKE_KEY,
        ),
    )
    recorded = {cell.id: live.run(cell) for cell in cells}
    assert not [r.cell for r in recorded.values() if r.harness_error], "the harness could not run a cell"

    # Replay against the catalogue's own base URLs (api.z.ai): the proxy is re-routed there, and every
    # upstream request is answered from the cassettes — nothing may leave the machine.
    replay = CellRunner(proxy_catalogue, RunSettings(mode="replay", cassette_root=tmp_path))
    with netguard.loopback_only() as refused:
        replayed = {cell.id: replay.run(cell) for cell in cells}
    assert refused.list() == []
    assert proxy.base_urls[cell_set.split("/")[0]].startswith("https://api.z.ai/")

    differences = {
        cell: (recorded[cell].verdict.value, result.verdict.value, result.reasons[:3])
        for cell, result in replayed.items()
        if result.verdict != recorded[cell].verdict
    }
    assert differences == {}
    for cell, result in replayed.items():
        assert result.verdict is not Verdict.NOT_RECORDED, (cell, result.reasons)
        assert result.evidence is not None and result.evidence["kind"] == "live"  # recorded against the double
        sent = result.observation.exchanges if result.observation else []
        assert all(e.outcome == "replayed" for e in sent), cell
        assert not any(e.url.startswith(proxy.url) for e in sent), "the client→proxy request was recorded"

    endpoint = cell_set.split("/")[0]
    for cell, result in replayed.items():
        path, scenario = cell.split("/")[2:]
        if path == "proxy-litellm-guide":  # a bare model name: LiteLLM's SDK cannot pick a provider
            assert result.verdict is Verdict.FAIL
            assert "before sending anything" in result.reasons[0] and "LLM Provider NOT provided" in result.reasons[0]
            assert result.observation is not None and result.observation.exchanges == []
            continue
        assert result.observation is not None and result.observation.exchanges, cell
        if scenario.startswith("thinking") and endpoint != "anthropic":
            assert any('dropped reasoning_effort="high"' in reason for reason in result.reasons), cell
        if scenario in ("chat", "connection") and path == "proxy-openai-sdk" and endpoint != "anthropic":
            assert result.verdict is Verdict.PASS, (cell, result.reasons)


def test_the_proxy_started_once_in_this_session(proxy: server.ProxyServer) -> None:
    assert server.starts() == 1
    assert server.current() is proxy and proxy.running
    assert proxy.host in recorder.passthrough_hosts()
    assert proxy.times.import_s > 0 and proxy.times.ready_s > 0


# --- a fresh process ------------------------------------------------------------------------------------

FRESH_PROCESS = textwrap.dedent(
    """
    import json, httpx
    from conformance.recording import netguard, recorder
    from conformance.proxy import server

    with netguard.loopback_only() as refused:
        first = server.get_proxy(api_key="proxy-test-fake-zai-key")
        again = server.get_proxy()
        alive = httpx.get(first.url + "/health/liveliness").status_code
        registered = first.host in recorder.passthrough_hosts()
        loaded = first.config_path
        first.route(first.catalogue.endpoint("coding"), "http://127.0.0.1:9/api/coding/paas/v4", None)
        reload_removed = not loaded.exists() and first.config_path.exists()
        server.stop()
        print(json.dumps({
            "refused": refused.list(), "same": first is again, "starts": server.starts(), "alive": alive,
            "registered": registered, "unregistered": first.host not in recorder.passthrough_hosts(),
            "config_removed": not first.config_path.exists(), "reload_removed": reload_removed,
            "times": [first.times.import_s, first.times.ready_s],
        }))
    """
)


def test_a_fresh_process_imports_and_starts_the_proxy_offline_once_and_stops_it(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(tmp_path)},  # its own temporary folder: what it leaves is visible
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    assert facts["refused"] == []
    assert facts["same"] and facts["starts"] == 1 and facts["alive"] == 200
    assert facts["registered"] and facts["unregistered"] and facts["config_removed"] and facts["reload_removed"]
    assert list(tmp_path.glob("zai-conformance-proxy-*")) == [], "a config file outlived the proxy"
    assert all(seconds > 0 for seconds in facts["times"])
