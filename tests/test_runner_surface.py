"""The runner on the documented-surface scenarios, replayed from the shipped double cassettes: expected
errors, timeouts replayed without waiting, operations, the request count, limits, and live runs that
must not try to provoke on the real Z.AI what only the double can produce."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.catalogue import load_catalogue
from conformance.runner import CellRunner, RunSettings
from conformance.verdict import Verdict

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "cassettes"


@pytest.fixture(scope="module")
def runner() -> CellRunner:
    return CellRunner(load_catalogue(), RunSettings(cassette_root=CASSETTES))


def _messages(result) -> list[str]:
    return [f.message for f in result.findings]


def test_an_error_surfaced_by_the_openai_sdk_passes_with_its_class_and_code(runner):
    result = runner.run(runner.catalogue.cell("general/glm-4.6/openai-sdk/error-quota"))
    assert result.verdict is Verdict.PASS, result.reasons
    raised = next(m for m in _messages(result) if m.startswith("raised "))
    assert "RateLimitError HTTP 429 code 1308" in raised and raised.endswith("(reads as BLOCKED)")


def test_a_code_lost_by_the_proxy_is_a_deviation_that_says_so(runner):
    result = runner.run(runner.catalogue.cell("general/glm-4.6/proxy-openai-sdk/error-quota"))
    assert result.verdict is Verdict.DEVIATION
    assert any(
        "code 1308 not readable from the exception (Z.AI sent code 1308; the path lost it)" in r for r in result.reasons
    )


def test_a_recorded_timeout_replays_as_hang_without_waiting(runner):
    cell = runner.catalogue.cell("general/glm-4.6/openai-sdk/client-timeout")
    result = runner.run(cell)
    assert result.verdict is Verdict.PASS, result.reasons  # the scenario expects the client's timeout
    assert any("no byte within the idle limit" in m for m in _messages(result))
    # the recording waited 2 s; replay does not: the client's timer is only the stall guard in replay,
    # and a timeout no recording holds would be a harness error, not this pass
    assert result.harness_error is None
    assert result.limits == {"idle_s": 2.0, "connect_s": 10.0}
    (exchange,) = result.observation.exchanges
    assert exchange.transport_fault and exchange.transport_fault["kind"] == "timeout"


def test_the_models_listing_is_an_operation_cell(runner):
    result = runner.run(runner.catalogue.cell("general/glm-4.6/openai-sdk/models-list"))
    assert result.verdict is Verdict.PASS, result.reasons
    assert any("models listed" in m and "glm-4.6" in m for m in _messages(result))
    (exchange,) = result.observation.exchanges
    assert exchange.method == "GET" and exchange.url.endswith("/api/paas/v4/models")


def test_embeddings_dimensions_are_checked(runner):
    result = runner.run(runner.catalogue.cell("coding/glm-4.6/openai-sdk/embeddings"))
    assert result.verdict is Verdict.PASS, result.reasons
    assert any("1 vector(s) of 256 dimensions" in m for m in _messages(result))


def test_a_router_fallback_must_make_its_two_requests(runner, write_catalogue, tmp_path):
    result = runner.run(runner.catalogue.cell("general/glm-4.6/router-fallback/router-fallback"))
    assert result.verdict is Verdict.PASS, result.reasons
    assert "2 request(s) to Z.AI, as the scenario makes" in _messages(result)

    def one_request(data):
        scenario = next(s for s in data["scenarios"] if s["id"] == "router-fallback")
        scenario["requests"] = 1

    edited = CellRunner(load_catalogue(write_catalogue(one_request)), RunSettings(cassette_root=CASSETTES))
    result = edited.run(edited.catalogue.cell("general/glm-4.6/router-fallback/router-fallback"))
    assert result.verdict is Verdict.FAIL
    assert "the path sent 2 request(s) to Z.AI; the scenario makes 1 when it works" in result.reasons


def test_a_live_run_against_zai_skips_what_only_the_double_can_provoke(tmp_path):
    catalogue = load_catalogue()
    live = CellRunner(catalogue, RunSettings(mode="live", cassette_root=tmp_path, api_key="not-a-real-key"))
    for cell_id in ("general/glm-4.6/openai-sdk/error-concurrency", "coding/glm-4.6/openai-sdk/error-wrong-plan"):
        result = live.run(catalogue.cell(cell_id))
        assert result.verdict is Verdict.SKIPPED
        assert "this cell's evidence comes from the Z.AI double" in result.reasons[0]
    assert not any(tmp_path.rglob("*.yaml"))  # nothing was sent, nothing recorded
