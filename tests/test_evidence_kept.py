"""A live run never trades good evidence for worse: a key Z.AI refuses is a property of the run (stop
recording on that endpoint, keep every older recording, say so once), and a one-off content refusal
(1301) does not replace a good recording of a scenario that does not provoke it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conformance.catalogue import load_catalogue
from conformance.runner import CellRunner, RunSettings
from conformance.session import ConformanceSession
from conformance.verdict import Verdict
from tests.support.fake_zai import fake_zai

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = ROOT / "cassettes" / "public"
KEY = "zaiconf-test-key-refused-000"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def _older(tmp_path: Path, path: str, scenario: str) -> Path:
    """A good older live recording of the cell (the public one, copied where live evidence lives)."""
    final = tmp_path / "live" / "coding" / "glm-4.6" / path / f"{scenario}.yaml"
    final.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(PUBLIC / "coding" / "glm-4.6" / f"{scenario}.yaml", final)
    return final


def _refuse_key(body, echo):
    error = {"error": {"code": "1002", "message": "Authorization Token is invalid, please ensure it is correct."}}
    return 401, "application/json", json.dumps(error).encode()


def _sensitive(body, echo):
    error = {"error": {"code": "1301", "message": "系统检测到输入或生成内容可能包含不安全或敏感内容"}}
    return 400, "application/json", json.dumps(error).encode()


def test_a_refused_key_stops_recording_on_the_endpoint_and_keeps_every_older_recording(tmp_path):
    olders = {(p, s): _older(tmp_path, p, s) for p in ("openai-sdk", "litellm-zai") for s in ("chat", "chat-stream")}
    before = {key: final.read_bytes() for key, final in olders.items()}
    with fake_zai(_refuse_key) as server:
        session = ConformanceSession.from_options(
            live=True,
            base_urls=[f"coding={server.base_url()}"],
            cassettes=str(tmp_path),
            reports=str(tmp_path / "reports"),
            cells=["coding/glm-4.6/openai-sdk/chat", "coding/glm-4.6/*/chat-stream", "coding/glm-4.6/litellm-zai/chat"],
            environ={"ZAI_API_KEY": KEY},
        )
        results = [session.run(cell) for cell in session.selected_cells()]
        document = session.finish()
    assert len(server.received) == 1, "after the first refusal nothing more is sent on the endpoint"
    first, *later = results
    assert first.verdict is Verdict.SKIPPED
    assert "Z.AI refused the run's key on the coding endpoint (HTTP 401, code 1002" in first.reasons[0]
    assert later and all(
        r.verdict is Verdict.SKIPPED and r.reasons[0].startswith("not run: Z.AI refused") for r in later
    )
    assert {key: final.read_bytes() for key, final in olders.items()} == before
    leftovers = [p for p in tmp_path.joinpath("live").rglob("*") if p.is_file() and p not in olders.values()]
    assert leftovers == []  # no error recording, no scratch file
    assert list(document["run"]["keys_refused"]) == ["coding"]


def test_the_invalid_key_scenario_still_records_its_401(catalogue, tmp_path):
    """The scenario that provokes a refused key on purpose is evidence like any other."""
    cell = next(
        c
        for c in catalogue.cells
        if c.id.startswith("coding/glm-4.6/openai-sdk/") and c.scenario.provoke and c.scenario.provoke.key == "invalid"
    )
    with fake_zai(_refuse_key) as server:
        runner = CellRunner(
            catalogue,
            RunSettings(mode="live", cassette_root=tmp_path, api_key=KEY, base_urls={"coding": server.base_url()}),
        )
        result = runner.run(cell)
    assert result.verdict is not Verdict.SKIPPED, result.reasons
    assert runner.refused_keys == {}
    assert result.evidence["cassette"] is not None


def test_a_one_off_content_refusal_keeps_the_older_good_recording(catalogue, tmp_path):
    final = _older(tmp_path, "openai-sdk", "chat")
    before = final.read_bytes()
    with fake_zai(_sensitive) as server:
        runner = CellRunner(
            catalogue,
            RunSettings(mode="live", cassette_root=tmp_path, api_key=KEY, base_urls={"coding": server.base_url()}),
        )
        result = runner.run(catalogue.cell("coding/glm-4.6/openai-sdk/chat"))
    assert result.verdict is Verdict.FAIL
    assert any("previous recording kept (a one-off refusal, code 1301, this time)" in r for r in result.reasons)
    assert final.read_bytes() == before
    assert list(final.parent.iterdir()) == [final]


def test_a_one_off_refusal_with_no_older_recording_is_kept(catalogue, tmp_path):
    """Without anything better it is the only evidence there is: it documents what happened."""
    with fake_zai(_sensitive) as server:
        runner = CellRunner(
            catalogue,
            RunSettings(mode="live", cassette_root=tmp_path, api_key=KEY, base_urls={"coding": server.base_url()}),
        )
        result = runner.run(catalogue.cell("coding/glm-4.6/openai-sdk/chat"))
    assert result.evidence["cassette"] is not None
    assert (tmp_path / "live" / "coding" / "glm-4.6" / "openai-sdk" / "chat.yaml").is_file()


def test_a_recording_whose_json_body_is_not_json_is_bad_evidence_not_a_client_failure(catalogue, tmp_path):
    from conformance.recording import cassette
    from conformance.session import outcome_message

    target = tmp_path / "public" / "coding" / "glm-4.6" / "chat.yaml"
    target.parent.mkdir(parents=True)
    document = cassette.read(PUBLIC / "coding" / "glm-4.6" / "chat.yaml")
    document["interactions"][0]["response"]["body"] = '{"choices": [{"message": '  # cut short
    cassette.write(target, document["provenance"], document["interactions"])
    result = CellRunner(catalogue, RunSettings(cassette_root=tmp_path)).run(
        catalogue.cell("coding/glm-4.6/openai-sdk/chat")
    )
    assert result.verdict is Verdict.NOT_RECORDED
    assert str(target) in result.evidence_error and "is not JSON" in result.evidence_error
    assert outcome_message(result)[0] == "fail"
