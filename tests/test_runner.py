"""The runner's outcomes for every kind of bad input: no evidence, a corrupt cassette, a replay miss,
live mode without a key, a live 429 that must not overwrite good evidence — each a verdict with a
clear message, and the run goes on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from conformance.catalogue import load_catalogue
from conformance.recording import cassette
from conformance.results import CellResult
from conformance.runner import CellRunner, RunSettings
from conformance.session import ConformanceSession, outcome_message
from conformance.verdict import Verdict
from tests.conftest import packaged_catalogue_text
from tests.support.cells import cell_result
from tests.support.fake_zai import fake_zai

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = ROOT / "cassettes" / "public"
CELL = "coding/glm-4.6/openai-sdk/chat"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def _runner(catalogue, root: Path, **settings) -> CellRunner:
    return CellRunner(catalogue, RunSettings(cassette_root=root, **settings))


def _with_public(tmp_path: Path, endpoint: str, model: str, scenario: str) -> Path:
    target = tmp_path / "public" / endpoint / model / f"{scenario}.yaml"
    target.parent.mkdir(parents=True)
    shutil.copy(PUBLIC / endpoint / model / f"{scenario}.yaml", target)
    return target


def test_no_recording_means_the_double_serves_the_cell_now(catalogue, tmp_path):
    result = _runner(catalogue, tmp_path).run(catalogue.cell(CELL))
    assert result.verdict is Verdict.PASS, result.reasons
    assert result.evidence["kind"] == "double" and result.evidence["cassette"] is None
    assert result.record_command is None and not result.real


def test_public_evidence_is_replayed_and_used(catalogue, tmp_path):
    _with_public(tmp_path, "coding", "glm-4.6", "chat")
    result = _runner(catalogue, tmp_path).run(catalogue.cell(CELL))
    assert result.verdict is Verdict.PASS, result.reasons
    assert result.evidence["kind"] == "public" and result.evidence["used"] is True
    assert result.real
    assert [e.outcome for e in result.observation.exchanges] == ["replayed"]


def test_corrupt_cassette_names_the_file_and_fails_the_test(catalogue, tmp_path):
    target = _with_public(tmp_path, "coding", "glm-4.6", "chat")
    target.write_text(target.read_text().replace("format: zai-conformance/cassette/1", "format: other"))
    result = _runner(catalogue, tmp_path).run(catalogue.cell(CELL))
    assert result.verdict is Verdict.NOT_RECORDED
    assert str(target) in result.evidence_error and "format" in result.evidence_error
    assert outcome_message(result)[0] == "fail"  # broken evidence must not pass as a quiet skip


def test_replay_miss_names_the_difference(catalogue, tmp_path):
    target = _with_public(tmp_path, "coding", "glm-4.6", "chat")
    document = cassette.read(target)
    request = document["interactions"][0]["request"]
    request["body"] = request["body"].replace("Say hi in Portuguese", "Say hi in Spanish")
    cassette.write(target, document["provenance"], document["interactions"])
    result = _runner(catalogue, tmp_path).run(catalogue.cell(CELL))
    assert result.verdict is Verdict.NOT_RECORDED
    assert "replay miss on turn 1" in result.reasons[0]
    assert "messages[1]" in result.reasons[0] and "Spanish" in result.reasons[0]
    assert result.evidence["used"] is False and not result.real


def test_an_overridden_base_url_misses_in_replay(catalogue, tmp_path):
    _with_public(tmp_path, "coding", "glm-4.6", "chat")
    runner = _runner(catalogue, tmp_path, base_urls={"coding": "http://127.0.0.1:9/api/other/v4"})
    result = runner.run(catalogue.cell(CELL))
    assert result.verdict is Verdict.NOT_RECORDED
    assert "path:" in result.reasons[0]


def test_live_without_a_key_skips_every_cell_and_writes_no_cassette(tmp_path):
    session = ConformanceSession.from_options(
        live=True,
        cassettes=str(tmp_path / "cassettes"),
        reports=str(tmp_path / "reports"),
        cells=["coding/glm-4.6/*"],
        environ={},
    )
    results = [session.run(cell) for cell in session.selected_cells()]
    session.finish()
    assert results and all(r.verdict is Verdict.SKIPPED for r in results)
    applicable = [r for r in results if not r.reasons[0].startswith("not applicable: ")]
    assert applicable and {r.reasons[0] for r in applicable} == {"live mode needs ZAI_API_KEY; it is not set"}
    assert not (tmp_path / "cassettes").exists()
    assert json.loads((tmp_path / "reports" / "results.json").read_text())["summary"]["verdicts"]["SKIPPED"] == len(
        results
    )


def _overloaded(body, echo):
    error = {"error": {"code": "1305", "message": "The service may be temporarily overloaded, please try again later"}}
    return 429, "application/json", json.dumps(error).encode()


def test_a_live_429_is_transient_and_keeps_the_older_recording(catalogue, tmp_path):
    final = tmp_path / "live" / "coding" / "glm-4.6" / "openai-sdk" / "chat.yaml"
    final.parent.mkdir(parents=True)
    shutil.copy(PUBLIC / "coding" / "glm-4.6" / "chat.yaml", final)
    before = final.read_bytes()
    with fake_zai(_overloaded) as server:
        runner = _runner(
            catalogue, tmp_path, mode="live", api_key="zaiconf-test-key-123", base_urls={"coding": server.base_url()}
        )
        result = runner.run(catalogue.cell(CELL))
    assert result.verdict is Verdict.TRANSIENT
    assert "code 1305" in result.reasons[0]
    assert any("previous recording kept" in reason for reason in result.reasons)
    assert final.read_bytes() == before
    assert result.evidence["cassette"] is None and result.evidence["provenance"]["kept"] is False
    assert not result.real  # recorded against a loopback server, not Z.AI
    assert list(final.parent.iterdir()) == [final]  # no scratch file left behind


def test_a_live_recording_is_written_scrubbed_and_replays(catalogue, tmp_path):
    with fake_zai() as server:
        runner = _runner(
            catalogue, tmp_path, mode="live", api_key="zaiconf-test-key-456", base_urls={"coding": server.base_url()}
        )
        recorded = runner.run(catalogue.cell(CELL))
    final = tmp_path / "live" / "coding" / "glm-4.6" / "openai-sdk" / "chat.yaml"
    assert recorded.verdict is Verdict.PASS, recorded.reasons
    assert recorded.evidence["provenance"]["target_is_zai"] is False
    text = final.read_text()
    assert "zaiconf-test-key-456" not in text and "Bearer <redacted>" in text
    replayed = _runner(catalogue, tmp_path, base_urls={"coding": server.base_url()}).run(catalogue.cell(CELL))
    assert replayed.verdict is Verdict.PASS and replayed.evidence["kind"] == "live"


def _first_chunk_then_silence(body, echo):
    chunk = {"id": "x", "created": 1, "model": body["model"], "choices": [{"index": 0, "delta": {"content": "Ol"}}]}
    return 200, "text/event-stream;charset=UTF-8", f"data: {json.dumps(chunk)}\n\n".encode(), 30.0


@pytest.mark.parametrize("path", ["openai-sdk", "litellm-zai"])
def test_a_stream_that_stops_talking_is_a_hang_and_the_run_goes_on(catalogue, tmp_path, path):
    with fake_zai(_first_chunk_then_silence) as server:
        runner = _runner(
            catalogue,
            tmp_path,
            mode="live",
            api_key="zaiconf-test-key-789",
            base_urls={"coding": server.base_url()},
            idle_timeout=1.0,
        )
        result = runner.run(catalogue.cell(f"coding/glm-4.6/{path}/chat-stream"))
    assert result.verdict is Verdict.HANG, result.reasons
    assert "no byte within the idle limit" in result.reasons[0]
    # ended by the 1 s idle limit: had the server's 30 s stall ended first, the answer would be cut short
    # (a broken body), not a timeout
    assert result.observation.turns[0].error.timeout


def test_a_broken_adapter_entry_fails_its_cells_with_a_clear_message(tmp_path):
    text = packaged_catalogue_text()
    broken = text.replace("conformance.paths.openai_sdk:OpenAISDKPath", "conformance.paths.openai_sdk:NoSuchPath")
    (tmp_path / "catalogue.yaml").write_text(broken)
    catalogue = load_catalogue(tmp_path / "catalogue.yaml")
    _with_public(tmp_path, "coding", "glm-4.6", "chat")
    runner = _runner(catalogue, tmp_path)
    result = runner.run(catalogue.cell(CELL))
    assert result.verdict is Verdict.FAIL
    assert "adapter 'conformance.paths.openai_sdk:NoSuchPath' cannot be loaded" in result.harness_error
    assert outcome_message(result)[0] == "fail"
    other = runner.run(catalogue.cell("coding/glm-4.6/litellm-zai/chat"))  # the run goes on
    assert other.verdict is Verdict.PASS


def _with_an_extra_interaction(tmp_path: Path) -> Path:
    """The cell's cassette plus an interaction the path never asks for."""
    target = _with_public(tmp_path, "coding", "glm-4.6", "chat")
    document = cassette.read(target)
    extra = json.loads(json.dumps(document["interactions"][0]))
    extra["request"]["body"] = extra["request"]["body"].replace("Say hi in Portuguese", "Say hi in Spanish")
    cassette.write(target, document["provenance"], [*document["interactions"], extra])
    return target


def test_an_unused_interaction_is_an_evidence_warning(catalogue, tmp_path):
    target = _with_an_extra_interaction(tmp_path)
    result = _runner(catalogue, tmp_path).run(catalogue.cell(CELL))
    assert result.verdict is Verdict.PASS, result.reasons
    assert result.evidence["unused"] == 1
    (warning,) = result.evidence["warnings"]
    assert "holds 2 interactions; the path used 1" in warning and str(target) in warning
    assert outcome_message(result) is None  # a warning, not a failure, unless the run is strict
    assert result.to_dict()["evidence"]["unused"] == 1


def test_strict_cassettes_fails_the_test_but_keeps_the_verdict(catalogue, tmp_path):
    target = _with_an_extra_interaction(tmp_path)
    result = _runner(catalogue, tmp_path, strict_cassettes=True).run(catalogue.cell(CELL))
    assert result.verdict is Verdict.PASS and result.as_expected is None
    kind, message = outcome_message(result)
    assert kind == "fail" and "--strict-cassettes" in message
    assert str(target) in message and "1 recorded interaction" in message


def test_a_cassette_used_whole_has_no_evidence_warning(catalogue, tmp_path):
    _with_public(tmp_path, "coding", "glm-4.6", "chat")
    result = _runner(catalogue, tmp_path, strict_cassettes=True).run(catalogue.cell(CELL))
    assert "unused" not in result.evidence and "warnings" not in result.evidence
    assert outcome_message(result) is None


def test_a_conversation_that_stopped_early_does_not_count_unused_interactions(catalogue, tmp_path):
    target = _with_public(tmp_path, "coding", "glm-4.6", "tool")
    document = cassette.read(target)
    assert len(document["interactions"]) == 2
    second = document["interactions"][1]["request"]
    second["body"] = second["body"].replace('"40 C"', '"39 C"')  # turn 2 misses: the conversation stops
    cassette.write(target, document["provenance"], document["interactions"])
    result = _runner(catalogue, tmp_path, strict_cassettes=True).run(catalogue.cell("coding/glm-4.6/openai-sdk/tool"))
    assert result.verdict is Verdict.NOT_RECORDED and "replay miss on turn 2" in result.reasons[0]
    assert "unused" not in result.evidence
    assert "--strict-cassettes" not in outcome_message(result)[1]


def test_strict_cassettes_reaches_the_runner_from_both_front_doors(tmp_path):
    from conformance.cli import build_parser
    from conformance.options import pytest_argv

    assert pytest_argv(build_parser().parse_args(["run", "--strict-cassettes"])) == ["--zai-strict-cassettes"]
    session = ConformanceSession.from_options(strict_cassettes=True, reports=str(tmp_path), environ={})
    assert session.settings.strict_cassettes is True
    assert ConformanceSession.from_options(reports=str(tmp_path), environ={}).settings.strict_cassettes is False


# --- a failure inside the proxy, retried once in replay ------------------------------------------------


def _proxy_failure(**observation: Any) -> CellResult:
    from conformance.observation import ErrorInfo, Observation, Turn

    error = ErrorInfo(exception="openai.InternalServerError", message="Litellm_proxyException", status=500)
    fields = {"turns": [Turn(index=0, error=error)], "exchanges": [], "local_requests": 1, **observation}
    return cell_result(
        "coding/glm-4.6/proxy-litellm/chat",
        Verdict.FAIL,
        ["the proxy failed before sending anything to Z.AI: InternalServerError HTTP 500"],
        observation=Observation(**fields),
    )


def _error(status: int) -> Any:
    from conformance.observation import ErrorInfo

    return ErrorInfo(exception="openai.InternalServerError", message="Litellm_proxyException", status=status)


def test_only_a_500_from_the_proxy_with_nothing_sent_upstream_is_a_failure_inside_it():
    from conformance.observation import ErrorInfo, Exchange, Turn
    from conformance.runner import failed_inside_proxy

    assert failed_inside_proxy(_proxy_failure())
    assert not failed_inside_proxy(_proxy_failure(local_requests=0))  # no proxy: the client itself
    refused = ErrorInfo(exception="openai.BadRequestError", message="bad", status=400)
    assert not failed_inside_proxy(_proxy_failure(turns=[Turn(index=0, error=refused)]))  # the proxy refused
    upstream = Exchange(
        method="POST", url="https://api.z.ai/x", request_headers={}, request_body="{}", outcome="replayed"
    )
    assert not failed_inside_proxy(_proxy_failure(exchanges=[upstream]))  # Z.AI answered: its verdict
    # a conversation: the first turn went upstream, the second failed inside the proxy
    answered = Turn(index=0)
    assert failed_inside_proxy(_proxy_failure(turns=[answered, Turn(index=1, error=_error(500))], exchanges=[upstream]))
    # …but not where the failed turn's request reached Z.AI (two exchanges for two turns)
    both = [upstream, upstream]
    assert not failed_inside_proxy(_proxy_failure(turns=[answered, Turn(index=1, error=_error(500))], exchanges=both))


@pytest.mark.parametrize("live", [False, True])
def test_a_failure_inside_the_proxy_is_retried_once_in_replay_and_says_so(catalogue, tmp_path, live, monkeypatch):
    runner = _runner(catalogue, tmp_path, mode="live" if live else "replay", api_key="k" if live else None)
    passed = _proxy_failure()
    passed.verdict, passed.reasons = Verdict.PASS, []
    attempts = iter([_proxy_failure(), passed])
    monkeypatch.setattr(runner, "_run", lambda cell: next(attempts))
    result = runner.run(catalogue.cell("coding/glm-4.6/proxy-litellm/chat"))
    if live:  # a live run reports what happened: nothing is retried
        assert result.verdict is Verdict.FAIL
        return
    assert result.verdict is Verdict.PASS
    assert [f.message for f in result.findings if f.check == "harness"] == [
        "retried once: the first attempt failed inside the proxy before anything reached Z.AI "
        "(the proxy failed before sending anything to Z.AI: InternalServerError HTTP 500)"
    ]
