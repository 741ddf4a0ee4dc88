"""Recorded conversations: crush's real agent conversations, kept byte-exact in an archive, become
scenarios that every OpenAI-protocol path replays turn by turn on Z.AI's real answers."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest
import yaml

from conformance.catalogue import CatalogueError, load_catalogue
from conformance.corpora import members
from conformance.corpora.archive import archive_members
from conformance.recording.cassette import CorruptCassette, Persister
from conformance.recording.matching import question_of
from conformance.session import ConformanceSession
from conformance.workflows import conversations
from tests.conftest import PACKAGED_CONVERSATIONS, RECORDINGS, packaged_catalogue_text

CRUSH = RECORDINGS / "crush"
ARCHIVE = CRUSH / "crush.tar.xz"
PARALLEL = "coding/glm-4.6/openai-sdk/crush-parallel-tool-calls"


def _sources() -> list[dict[str, str]]:
    with (CRUSH / "SOURCES.tsv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


# --- the corpus: every generation, byte-exact, with its license ----------------------------------


def test_every_archived_cassette_is_the_source_projects_blob_byte_for_byte():
    """SOURCES.tsv gives each file's git blob id in crush's repository: hashing the archived bytes the
    way git does must give it back, for every one of the 353 files."""
    blobs = {row["local_path"]: row["blob"] for row in _sources()}
    members = {m.relative.as_posix(): m.data for m in archive_members(ARCHIVE, Path("."))}
    assert sorted(members) == sorted(blobs) and len(members) == 353
    for name, data in members.items():
        assert hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == blobs[name], name
    assert (CRUSH / "LICENSE.md").read_text().startswith("# Functional Source License, Version 1.1, MIT Future License")


def test_the_archive_stays_within_its_size_budget():
    assert ARCHIVE.stat().st_size < 1_000_000  # 49 MB of cassettes; the repository grows by ~0.5 MB


# --- deriving the scenarios ----------------------------------------------------------------------


def test_the_committed_conversations_are_what_the_command_derives_from_the_corpus(tmp_path: Path):
    out = tmp_path / "data" / "conversations.yaml"
    out.parent.mkdir()
    assert conversations.main([str(CRUSH), "--out", str(out)]) == 0  # every recording: the default
    mine = yaml.safe_load(out.read_text())["scenarios"]
    committed = yaml.safe_load(PACKAGED_CONVERSATIONS.read_text())["scenarios"]
    # the evidence is named relative to each file's folder; both name the same archive members
    for entry in [*mine, *committed]:
        entry["recorded"]["evidence"] = entry["recorded"]["evidence"].split("crush.tar.xz/", 1)[1]
    assert mine == committed
    # every agent conversation of crush's 13 tests, 2025-10 … 2026-04 (about 27 recordings each); crush's
    # title request once a month; Z.AI's real errors
    assert len(committed) == 352 + 7 + 3
    # several recordings of one test on one day are told apart by their commit
    same_day = sorted(e["id"] for e in committed if e["id"].startswith("crush-bash-tool-251204"))
    assert same_day == [f"crush-bash-tool-251204-{c}" for c in ("1a86559", "3fc6870", "5123b50", "dfe3aa9")]


def test_the_command_refuses_to_write_a_scenario_id_twice(tmp_path: Path):
    entry = {"id": "crush-bash-tool-251204", "title": "t"}
    with pytest.raises(ValueError, match="scenario ids repeated: crush-bash-tool-251204"):
        conversations.write([entry, dict(entry)], tmp_path / "conversations.yaml", "corpus", "all")
    assert not (tmp_path / "conversations.yaml").exists()


def test_a_monthly_selection_keeps_the_newest_of_each_test_in_each_month():
    found = conversations.chosen(conversations.find_conversations(ARCHIVE, ARCHIVE.parent), "month")
    agent = [c for c in found if c.test != conversations.SIDE_REQUEST and not c.is_error]
    assert len(agent) == 91  # 13 tests × 7 months


def test_a_conversation_is_the_agents_requests_to_zai_and_its_turns_expect_what_zai_answered():
    found = {
        c.ref.member: c
        for c in conversations.find_conversations(ARCHIVE, ARCHIVE.parent)
        if c.ref.member.startswith("3d11e4ca8/") and c.test == Path(c.ref.member).stem  # the agent's own
    }
    download = found["3d11e4ca8/internal/agent/testdata/TestCoderAgent/zai-glm4.6/download_tool.yaml"]
    # interaction 1 is the page crush's download tool fetched, 3 is the title request (no tools): not this conversation
    assert download.ref.interactions == (0, 2)
    assert download.expect == (
        {"finish_reason": "tool_calls", "reasoning": True, "tool_calls": ["download"]},
        {"finish_reason": "stop", "text": True, "reasoning": True},
    )
    parallel = found["3d11e4ca8/internal/agent/testdata/TestCoderAgent/zai-glm4.6/parallel_tool_calls.yaml"]
    assert parallel.expect[0]["tool_calls"] == ["glob", "ls"]
    assert (parallel.source.commit[:9], parallel.source.date[:10]) == ("3d11e4ca8", "2026-04-15")


def test_the_agents_side_request_is_kept_once_a_month():
    found = conversations.chosen(conversations.find_conversations(ARCHIVE, ARCHIVE.parent), "month")
    side = [c for c in found if c.test == conversations.SIDE_REQUEST]
    assert [c.month for c in side] == ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04"]
    assert {c.model for c in side} == {"glm-4.5-air"} and all(len(c.expect) == 1 for c in side)
    assert all(c.expect[0]["finish_reason"] == "stop" and c.expect[0]["text"] for c in side)


def test_a_refused_key_is_not_a_conversation_but_each_real_error_is_a_scenario_of_its_own():
    found = conversations.find_conversations(ARCHIVE, ARCHIVE.parent)
    assert not [c for c in found if c.test == "subagent_tool"]  # its answers are 401s: error evidence
    errors = {(c.test, c.model): c.expect for c in conversations.chosen(found, "month") if c.is_error}
    assert errors == {
        ("error_401_1001", "glm-4.5-air"): ({"error": {"status": 401, "code": "1001", "verdict": "FAIL"}},),
        ("error_401_1001", "glm-4.6"): ({"error": {"status": 401, "code": "1001", "verdict": "FAIL"}},),
        ("error_502", "glm-4.5-air"): ({"error": {"status": 502, "verdict": "TRANSIENT"}},),
    }


# --- the catalogue -------------------------------------------------------------------------------


def test_recorded_scenarios_run_on_every_openai_protocol_path_of_their_model(catalogue):
    cells = [c for c in catalogue.cells if c.scenario.recorded is not None and c.scenario.id.startswith("crush-")]
    assert len(cells) == (352 + 7) * 9
    openai = {p.id for p in catalogue.paths if p.api == "openai" and "openai" in p.protocols and p.scenarios is None}
    assert {c.path.id for c in cells} == openai
    assert {(c.endpoint.id, c.model.id) for c in cells} == {("coding", "glm-4.6"), ("coding", "glm-4.5-air")}


def _catalogue_with(tmp_path: Path, entry: dict) -> Path:
    (tmp_path / "conversations.yaml").write_text(yaml.safe_dump({"scenarios": [entry]}))
    text = packaged_catalogue_text().replace(
        f"conversations: {PACKAGED_CONVERSATIONS}", "conversations: conversations.yaml"
    )
    (tmp_path / "catalogue.yaml").write_text(text)
    return tmp_path / "catalogue.yaml"


def _entry(**changes) -> dict:
    entry = yaml.safe_load(PACKAGED_CONVERSATIONS.read_text())["scenarios"][0]
    entry["recorded"]["evidence"] = str(ARCHIVE) + "/" + entry["recorded"]["evidence"].split("crush.tar.xz/", 1)[1]
    entry.update(changes)
    return entry


def test_a_recorded_scenario_with_written_messages_is_refused(tmp_path: Path):
    path = _catalogue_with(tmp_path, _entry(messages=[{"role": "user", "content": "hi"}]))
    with pytest.raises(CatalogueError, match="takes its requests from the recording; remove \\['messages'\\]"):
        load_catalogue(path)


def test_a_recorded_scenario_expecting_another_number_of_turns_is_refused(tmp_path: Path):
    entry = _entry()
    entry["expect"] = entry["expect"][:1]
    with pytest.raises(CatalogueError, match="expect has 1 turn\\(s\\) but the recording holds"):
        load_catalogue(_catalogue_with(tmp_path, entry))


def test_a_missing_conversations_file_is_named(tmp_path: Path):
    (tmp_path / "catalogue.yaml").write_text(
        packaged_catalogue_text().replace(str(PACKAGED_CONVERSATIONS), "nowhere.yaml")
    )
    with pytest.raises(CatalogueError, match=r"nowhere\.yaml: cannot read it"):
        load_catalogue(tmp_path / "catalogue.yaml")


# --- replaying a conversation ---------------------------------------------------------------------


def test_a_missing_archive_member_is_unusable_evidence_naming_it():
    ref = f"{ARCHIVE}/no/such/member.yaml#0"
    with pytest.raises(CorruptCassette, match=r"no member no/such/member\.yaml"):
        Persister.load_cassette(ref)
    with pytest.raises(CorruptCassette, match="no such corpus archive"):
        Persister.load_cassette(f"{CRUSH}/missing.tar.xz/x.yaml#0")


def test_a_path_replays_the_recorded_conversation_turn_by_turn(tmp_path: Path):
    session = ConformanceSession.from_options(reports=str(tmp_path / "reports"), cells=[PARALLEL])
    cell = session.catalogue.cell(PARALLEL)
    result = session.run(cell)
    session.finish()
    assert result.as_expected is not False, result.reasons
    evidence = result.evidence
    assert evidence["kind"] == "public" and evidence["used"] and result.real
    assert evidence["provenance"]["source"]["project"] == "charmbracelet/crush"
    assert evidence["provenance"]["source"]["license"].startswith("FSL-1.1-MIT")
    # each turn sent the request crush sent, and got crush's real answer back
    ref = members.MemberRef.parse(cell.scenario.recorded.evidence)
    recorded = members.selected(ref)
    exchanges = result.observation.exchanges
    assert [e.outcome for e in exchanges] == ["replayed"] * len(recorded) == ["replayed"] * 2
    for exchange, interaction in zip(exchanges, recorded, strict=True):
        sent = question_of("POST", exchange.url, exchange.request_body)
        wanted = question_of("POST", interaction["request"]["url"], interaction["request"]["body"])
        assert sent.differences(wanted) == []
    turns = result.observation.turns
    assert [c.name for c in turns[0].tool_calls] == ["glob", "ls"]  # parallel calls, parsed from real bytes
    assert turns[0].finish_reason == "tool_calls" and turns[1].finish_reason == "stop"
    assert all(turn.reasoning for turn in turns)
    history = json.loads(exchanges[1].request_body)["messages"]
    assert [m["role"] for m in history[-3:]] == ["assistant", "tool", "tool"]


def test_a_gateway_page_backs_the_502_cells_and_its_html_is_not_demanded_from_the_exception(tmp_path: Path):
    cell_id = "coding/glm-4.5-air/openai-sdk/recorded-502-glm-4-5-air"
    session = ConformanceSession.from_options(reports=str(tmp_path / "reports"), cells=[cell_id])
    result = session.run(session.catalogue.cell(cell_id))
    session.finish()
    assert result.real and result.evidence["used"]
    error = result.observation.turns[0].error
    assert error is not None and error.status == 502
    assert result.verdict.value == "PASS", result.reasons  # status and class kept; no message to carry
