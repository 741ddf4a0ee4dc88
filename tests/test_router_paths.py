"""The LiteLLM guide's Router recipes — fallback, response cache, client-side rate limit — as client paths.

Each adapter is driven against the Z.AI double on loopback inside a recording, so the wire tap counts
what really reached "Z.AI" (a fallback is two requests, a cache hit none, a refused request none);
the cassette is then replayed offline and must give the same outcome. Also tested: the catalogue
entries that wire the paths in make exactly their cells, a recipe leaves LiteLLM's
process-wide state (response cache, callback lists) as it found it, and two cells in a row do not
share a Router's memory (cooldowns, rpm counts).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conformance import litellm_globals
from conformance.catalogue import Catalogue, load_catalogue
from conformance.double.server import DoubleServer
from conformance.observation import Exchange, RouterFacts, Turn
from conformance.paths import litellm_router
from conformance.paths.base import CallOptions, ClientPath, Target, load_adapter
from conformance.recording.recorder import Recorder
from conformance.scenario import request_for

KEY = "double-test-key"
MODEL = "glm-4.6"
# The Router columns: every path the catalogue wires to this module.
ROUTER_PATHS = tuple(
    path.id for path in load_catalogue().paths if path.adapter.startswith("conformance.paths.litellm_router:")
)


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def router_catalogue() -> Catalogue:
    """The packaged catalogue: the tests drive the entries that ship."""
    return load_catalogue()


def make_path(catalogue: Catalogue, path_id: str, double: DoubleServer) -> ClientPath:
    """The adapter as the runner builds it: loaded from its catalogue entry, aimed at the double's
    general endpoint, with the scenario's header fault (the runner's `provoke.via: header`)."""
    spec = catalogue.path(path_id)
    provoke = catalogue.scenario(path_id).provoke
    options = CallOptions(fault_header=provoke.fault if provoke and provoke.via == "header" else None)
    target = Target(base_url=double.base_urls["general"], api_key=KEY, idle_timeout=10.0)
    return load_adapter(spec)(spec, target, options=options)


def drive(catalogue: Catalogue, path: ClientPath, scenario_id: str) -> list[Turn]:
    scenario = catalogue.scenario(scenario_id)
    try:
        return path.run(scenario, request_for(catalogue, scenario, MODEL, "openai"))
    finally:
        path.close()


Run = tuple[list[Turn], list[Exchange]]


def record(cassette: Path, act: Callable[[], list[Turn]]) -> Run:
    with Recorder().record(cassette, {"kind": "double", "synthetic": "tests/test_router_paths.py"}) as tap:
        turns = act()
    return turns, list(tap.exchanges)


def replay(cassette: Path, act: Callable[[], list[Turn]]) -> Run:
    with Recorder().replay(cassette) as tap:
        turns = act()
    return turns, list(tap.exchanges)


def record_cell(cassette: Path, catalogue: Catalogue, path_id: str, double: DoubleServer) -> Run:
    """One cell of `path_id` (its scenario has the same id), recorded live against the double."""
    return record(cassette, lambda: drive(catalogue, make_path(catalogue, path_id, double), path_id))


def record_and_replay(tmp_path: Path, catalogue: Catalogue, path_id: str, double: DoubleServer) -> tuple[Run, Run]:
    """One cell of `path_id` (its scenario has the same id) recorded live against the double, then replayed."""
    cassette = tmp_path / f"{path_id}.yaml"
    recorded = record_cell(cassette, catalogue, path_id, double)
    replayed = replay(cassette, lambda: drive(catalogue, make_path(catalogue, path_id, double), path_id))
    assert {e.outcome for e in recorded[1]} == {"recorded"}
    assert {e.outcome for e in replayed[1]} == {"replayed"}, [e.miss for e in replayed[1]]
    return recorded, replayed


def header(exchange: Exchange, name: str) -> str | None:
    values = {k.lower(): v for k, v in exchange.request_headers.items()}.get(name.lower())
    return values[0] if values else None


def body(exchange: Exchange) -> dict[str, Any]:
    return json.loads(exchange.request_body or "{}")


# --- the catalogue entries ---------------------------------------------------------------------------


def test_each_router_path_runs_only_its_own_scenario(router_catalogue: Catalogue) -> None:
    cells = [c for c in router_catalogue.cells if c.path.id in ROUTER_PATHS or c.scenario.id in ROUTER_PATHS]
    expected = {f"{endpoint}/{MODEL}/{path}/{path}" for endpoint in ("general", "coding") for path in ROUTER_PATHS}
    assert {c.id for c in cells} == expected  # no anthropic endpoint, no other model, no other pairing
    assert all(c.not_applicable is None for c in cells)
    requests = {s: router_catalogue.scenario(s).requests for s in ROUTER_PATHS}
    assert requests == {"router-fallback": 2, "router-cache": 1, "router-rate-limit": 1}
    assert set(ROUTER_PATHS) == {"router-fallback", "router-cache", "router-rate-limit"}


# --- fallback --------------------------------------------------------------------------------------


def test_fallback_sends_the_failing_primary_then_the_backup_which_answers(
    tmp_path: Path, router_catalogue: Catalogue, zai_double: DoubleServer
) -> None:
    for turns, exchanges in record_and_replay(tmp_path, router_catalogue, "router-fallback", zai_double):
        assert [e.status for e in exchanges] == [429, 200]  # one request each: no retry of the 429
        assert [header(e, "X-Double-Fault") for e in exchanges] == ["1305", None]  # the fault is the primary's
        assert json.loads(exchanges[0].response_body or "{}")["error"]["code"] == "1305"
        assert (
            body(exchanges[0])
            == body(exchanges[1])
            == {
                "model": MODEL,
                "messages": [{"role": "user", "content": "Say hi in Portuguese"}],
                "max_tokens": 4000,
            }
        )  # max_retries, rpm and the Router's own settings stay off the wire
        (turn,) = turns
        assert turn.error is None and (turn.text or "").strip() and turn.finish_reason == "stop"
        assert turn.extras["answered_by"] == "glm-backup" and turn.extras["deployments_tried"] == 2
        assert turn.answered_from == "upstream"
        assert turn.router == RouterFacts(
            deployment="glm-backup",
            model_group="glm-backup",
            attempted_fallbacks=1,
            attempted_retries=0,
            cache_hit=None,
        )


def test_without_the_fault_the_primary_answers_alone(
    tmp_path: Path, router_catalogue: Catalogue, zai_double: DoubleServer
) -> None:
    """The header is what fails the primary: without it, one request, and no fallback taken."""
    path = make_path(router_catalogue, "router-fallback", zai_double)
    path.fault_header = None
    (turn,), exchanges = record(tmp_path / "x.yaml", lambda: drive(router_catalogue, path, "router-fallback"))
    assert [e.status for e in exchanges] == [200] and header(exchanges[0], "X-Double-Fault") is None
    assert turn.extras["answered_by"] == "glm" and turn.extras["deployments_tried"] == 1


def test_zai_does_not_pass_max_retries_which_is_why_the_paths_allow_it() -> None:
    """LiteLLM 1.106's `zai/` config leaves `max_retries` out of its supported parameters, so
    `max_retries=0` (and `Router(num_retries=0)`) never reaches the OpenAI SDK, which then retries a
    429 twice. The paths add `allowed_openai_params: ["max_retries"]`; the fallback test above shows it
    works (exactly two requests). When this fails, LiteLLM passes it by itself and the workaround can go."""
    from litellm.llms.zai.chat.transformation import ZAIChatConfig

    assert "max_retries" not in ZAIChatConfig().get_supported_openai_params(MODEL)
    assert litellm_router.NO_SDK_RETRIES == {"max_retries": 0, "allowed_openai_params": ["max_retries"]}


# --- response cache --------------------------------------------------------------------------------


def test_cache_answers_the_second_call_without_a_request(
    tmp_path: Path, router_catalogue: Catalogue, zai_double: DoubleServer
) -> None:
    for turns, exchanges in record_and_replay(tmp_path, router_catalogue, "router-cache", zai_double):
        assert [e.status for e in exchanges] == [200]  # the first call; the second never left the client
        (turn,) = turns
        assert turn.error is None and (turn.text or "").strip() and turn.finish_reason == "stop"
        assert turn.extras["cache_hit"] is True and turn.extras["calls"] == 2
        assert turn.answered_from == "cache" and turn.router.cache_hit is True
        assert turn.extras["first_call"]["cache_hit"] is False and turn.extras["first_call"]["same_answer"] is True
        assert turn.text == json.loads(exchanges[0].response_body or "{}")["choices"][0]["message"]["content"]


# --- client-side rate limit ------------------------------------------------------------------------


def test_rate_limit_refuses_the_second_call_before_sending_it(
    tmp_path: Path, router_catalogue: Catalogue, zai_double: DoubleServer
) -> None:
    for turns, exchanges in record_and_replay(tmp_path, router_catalogue, "router-rate-limit", zai_double):
        assert [e.status for e in exchanges] == [200]  # only the first call reached the wire
        (turn,) = turns
        assert turn.error is not None
        assert (turn.error.exception, turn.error.status, turn.error.code) == (
            "litellm.exceptions.RateLimitError",
            429,
            None,
        )
        assert "RPM limit=1" in turn.error.message
        assert turn.answered_from == "client"
        assert turn.extras["first_call"]["finish_reason"] == "stop"
        second = turn.extras["second_call"]
        assert second["outcome"] == "refused" and second["refused_by_client"] is True
        assert second["retry_after"] == "60" and second["waited_ms"] < 1000  # refused at once, not queued
        # LiteLLM files its own refusal under the vendor's category: only the missing provider tells
        assert second["category"] == "vendor_rate_limit"
        windows = turn.extras["rpm_windows"]
        assert len(windows) == 2 and windows[0] == windows[1]


class _RpmOnly(litellm_router.RouterRateLimitPath):
    """The limit as a deployment setting alone, without the pre-call check that enforces it."""

    def router_settings(self, model: str) -> dict[str, Any]:
        settings = super().router_settings(model)
        del settings["optional_pre_call_checks"]
        return settings


def test_an_rpm_without_the_pre_call_check_limits_nothing(
    tmp_path: Path, router_catalogue: Catalogue, zai_double: DoubleServer
) -> None:
    """Why the path enables `enforce_model_rate_limits`: a deployment's rpm alone only weighs routing."""
    spec = router_catalogue.path("router-rate-limit")
    path = _RpmOnly(spec, Target(base_url=zai_double.base_urls["general"], api_key=KEY, idle_timeout=10.0))
    (turn,), exchanges = record(tmp_path / "x.yaml", lambda: drive(router_catalogue, path, "router-rate-limit"))
    assert [e.status for e in exchanges] == [200, 200]
    assert turn.error is None and turn.extras["second_call"]["outcome"] == "answered"


def test_the_rate_limit_pair_starts_inside_one_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """LiteLLM counts rpm per UTC minute; a pair started in the last second of one would be counted in
    two windows, so the path waits (at most the margin) for the next minute first."""
    slept: list[float] = []
    monkeypatch.setattr(litellm_router.time, "sleep", slept.append)
    for second, micro, expected in ((59, 950_000, 0.06), (10, 0, 0.0), (58, 999_999, 0.0)):
        now = datetime(2026, 1, 1, 12, 0, second, micro, tzinfo=UTC)
        monkeypatch.setattr(litellm_router, "datetime", _frozen(now))
        assert litellm_router._wait_for_fresh_window(1.0) == pytest.approx(expected, abs=1e-6)
    assert slept == [pytest.approx(0.06, abs=1e-6)]


def _frozen(now: datetime) -> type[datetime]:
    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return now

    return Frozen


# --- isolation -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path_id", ROUTER_PATHS)
def test_a_recipe_leaves_litellm_as_it_found_it(
    tmp_path: Path, router_catalogue: Catalogue, zai_double: DoubleServer, path_id: str
) -> None:
    """A Router registers callbacks in LiteLLM's module-level lists and `cache_responses` installs a
    process-wide cache; after the cell, each list holds exactly its former entries (the same list
    objects) and `litellm.cache` is what it was — here a stand-in the Router must neither use nor keep."""
    import litellm

    lists = {name: getattr(litellm, name) for name in litellm_globals.CALLBACK_LISTS if hasattr(litellm, name)}
    entries = {name: list(value) for name, value in lists.items()}
    previous, stand_in = litellm.cache, object()
    litellm.cache = stand_in
    try:
        (turn,), _ = record_cell(tmp_path / "x.yaml", router_catalogue, path_id, zai_double)
        assert litellm.cache is stand_in
    finally:
        litellm.cache = previous
    assert turn.extras.get("cache_hit", False) is (path_id == "router-cache")  # its own cache, not the stand-in
    for name, value in lists.items():
        assert getattr(litellm, name) is value and value == entries[name], name


@pytest.mark.parametrize(
    ("path_id", "statuses"),
    [("router-fallback", [429, 200]), ("router-cache", [200]), ("router-rate-limit", [200])],
)
def test_two_cells_in_a_row_do_not_share_a_router(
    tmp_path: Path, router_catalogue: Catalogue, zai_double: DoubleServer, path_id: str, statuses: list[int]
) -> None:
    """Cooldowns, cached answers and rpm counts live in each cell's own Router: the second cell (same
    deployment, same question, same minute) starts afresh — its primary is tried, its first call is not
    answered from the previous cell's cache, its first request is not refused."""
    for run in ("first", "second"):
        _, exchanges = record_cell(tmp_path / f"{run}.yaml", router_catalogue, path_id, zai_double)
        assert [e.status for e in exchanges] == statuses, run
