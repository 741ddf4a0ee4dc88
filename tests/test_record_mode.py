"""--record-mode (pytest-recording's none / once / new_episodes / all / rewrite) and --block-network, run
against a loopback stand-in for Z.AI: which cells reached it, and what the cassettes hold afterwards.

Two cells keep it small: the coding endpoint's plain chat and streamed chat through the OpenAI SDK. The
stand-in tells them apart by the request's `stream`. An "older" live recording is made first, against a
stand-in answering with a word of its own, so old and new interactions can be told apart.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conformance.cli import build_parser, main
from conformance.options import add_pytest_options, bare_spellings_free, pytest_argv
from conformance.recording.cassette import read
from conformance.recording.modes import CellPlan, RecordMode, plan_for
from conformance.session import ConformanceSession
from conformance.verdict import Verdict
from tests.support.fake_zai import FakeZai, answer_like_zai, fake_zai

ROOT = Path(__file__).resolve().parent.parent
KEY = "zaiconf-record-mode-FAKE-key-77"
CHAT = "coding/glm-4.6/openai-sdk/chat"
STREAM = "coding/glm-4.6/openai-sdk/chat-stream"
OLDER = "older-answer"  # what the stand-in of the older recording says
SCHEMA = ROOT / "conformance" / "data" / "results.schema.json"


def _live(root: Path, cell: str) -> Path:
    endpoint, model, path, scenario = cell.split("/")
    return root / "cassettes" / "live" / endpoint / model / path / f"{scenario}.yaml"


def _run(
    root: Path, mode: str, server: FakeZai | None, *, cells: tuple[str, ...] = (CHAT, STREAM), **options: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One run through the session both front doors build; its results by cell, and results.json."""
    (root / "cassettes").mkdir(parents=True, exist_ok=True)
    session = ConformanceSession.from_options(
        record_mode=mode,
        base_urls=[f"coding={server.base_url()}"] if server is not None else [],
        cassettes=str(root / "cassettes"),
        reports=str(root / "reports"),
        cells=list(cells),
        environ=options.pop("environ", {"ZAI_API_KEY": KEY}),
        **options,
    )
    try:
        results = {cell.id: session.run(cell) for cell in session.selected_cells()}
        session.finish()
    finally:
        session.finish()
    return results, json.loads((root / "reports" / "results.json").read_text())


def _reached(server: FakeZai) -> list[str]:
    """The cells whose requests reached the stand-in, in order."""
    return [STREAM if received.body.get("stream") else CHAT for received in server.received]


def _answers(cassette: Path) -> list[str]:
    """What each recorded interaction's answer says (the body's text, as recorded)."""
    return [str(interaction["response"]["body"]) for interaction in read(cassette)["interactions"]]


@pytest.fixture
def older(tmp_path: Path) -> Callable[[str], Path]:
    """Give a cell an older live recording, made against a stand-in that answers with OLDER."""

    def make(cell: str) -> Path:
        with fake_zai(lambda body, echo: answer_like_zai(body, OLDER)) as server:
            results, _ = _run(tmp_path, "all", server, cells=(cell,))
        assert results[cell].evidence["kind"] == "live", results[cell].reasons
        assert all(OLDER in answer for answer in _answers(_live(tmp_path, cell)))
        return _live(tmp_path, cell)

    return make


def test_none_replays_only_never_records_and_never_reaches_the_stand_in(tmp_path, older) -> None:
    chat = older(CHAT)
    before = chat.read_bytes()
    with fake_zai() as server:
        results, document = _run(tmp_path, "none", server)
    assert _reached(server) == []
    assert chat.read_bytes() == before and not _live(tmp_path, STREAM).exists()
    assert results[CHAT].evidence["kind"] == "live" and results[STREAM].evidence["kind"] == "double"
    assert document["run"]["mode"] == "replay" and document["run"]["record_mode"] == "none"
    assert document["run"]["network"]["guard"] is True


def test_once_records_only_the_cells_without_live_evidence(tmp_path, older) -> None:
    chat = older(CHAT)
    before = chat.read_bytes()
    with fake_zai() as server:
        results, document = _run(tmp_path, "once", server)
    assert _reached(server) == [STREAM]
    assert chat.read_bytes() == before  # replayed, as it was
    assert results[CHAT].verdict is Verdict.PASS and results[CHAT].evidence["kind"] == "live"
    assert [e.outcome for e in results[CHAT].observation.exchanges] == ["replayed"]
    stream = _live(tmp_path, STREAM)
    assert results[STREAM].evidence["cassette"] == str(stream) and len(_answers(stream)) == 1
    assert read(stream)["provenance"]["target_is_zai"] is False
    assert KEY not in stream.read_text()
    run = document["run"]
    assert (run["mode"], run["record_mode"], run["network"]["guard"]) == ("live", "once", False)
    assert "-live-once-" in run["id"]
    assert run["id"] in (tmp_path / "reports" / "index.html").read_text()  # the report's header names the run
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(document)  # mode stays replay | live


def test_new_episodes_keeps_what_the_cassette_holds_and_appends_what_it_lacks(tmp_path, older) -> None:
    chat = older(CHAT)
    before = chat.read_bytes()
    stream = _live(tmp_path, STREAM)
    stream.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(chat, stream)  # a cassette holding the plain request, not the streamed one
    with fake_zai() as server:
        results, document = _run(tmp_path, "new_episodes", server)
    assert _reached(server) == [STREAM]
    assert chat.read_bytes() == before  # everything it was asked was there: unchanged
    answers = _answers(stream)
    assert len(answers) == 2 and OLDER in answers[0] and OLDER not in answers[1]
    assert read(stream)["interactions"][1]["request"]["body"].count('"stream":true') == 1
    provenance = read(stream)["provenance"]
    assert len(provenance["new_episodes"]) == 1 and provenance["target_is_zai"] is False
    assert [e.outcome for e in results[STREAM].observation.exchanges] == ["recorded"]
    assert document["run"]["record_mode"] == "new_episodes"
    first = {cell: r.verdict for cell, r in results.items()}

    with fake_zai() as again:  # now each cassette holds all its cell asks for: nothing more is sent
        results, _ = _run(tmp_path, "new_episodes", again)
    assert _reached(again) == [] and len(_answers(stream)) == 2
    assert [e.outcome for e in results[STREAM].observation.exchanges] == ["replayed"]
    assert {cell: r.verdict for cell, r in results.items()} == first


def test_rewrite_replaces_the_old_interactions(tmp_path, older) -> None:
    chat = older(CHAT)
    with fake_zai() as server:
        results, document = _run(tmp_path, "rewrite", server, cells=(CHAT,))
    assert _reached(server) == [CHAT]
    answers = _answers(chat)
    assert len(answers) == 1 and OLDER not in answers[0]
    assert results[CHAT].evidence["cassette"] == str(chat)
    assert (document["run"]["mode"], document["run"]["record_mode"]) == ("live", "rewrite")


def _overloaded(body: dict[str, Any], echo: str) -> tuple[int, str, bytes]:
    error = {"error": {"code": "1305", "message": "The service may be temporarily overloaded, please try again later"}}
    return 429, "application/json", json.dumps(error).encode()


def test_all_keeps_the_older_recording_over_a_worse_one_and_rewrite_does_not(tmp_path, older) -> None:
    chat = older(CHAT)
    before = chat.read_bytes()
    with fake_zai(_overloaded) as server:
        kept, _ = _run(tmp_path, "all", server, cells=(CHAT,))
        assert chat.read_bytes() == before and any("previous recording kept" in r for r in kept[CHAT].reasons)
        rewritten, _ = _run(tmp_path, "rewrite", server, cells=(CHAT,))
    assert _reached(server) == [CHAT, CHAT]
    assert rewritten[CHAT].verdict is Verdict.TRANSIENT
    answers = _answers(chat)
    assert len(answers) == 1 and "1305" in answers[0] and OLDER not in answers[0]


def test_a_recording_mode_without_a_key_says_so_and_the_run_goes_on(tmp_path, older) -> None:
    chat = older(CHAT)
    with fake_zai() as server:
        results, document = _run(tmp_path, "once", server, environ={})
    assert _reached(server) == []
    assert results[CHAT].verdict is Verdict.PASS and results[CHAT].evidence["cassette"] == str(chat)
    assert results[STREAM].verdict is Verdict.SKIPPED
    assert results[STREAM].reasons == ["--record-mode once needs ZAI_API_KEY to record this cell; it is not set"]
    assert not _live(tmp_path, STREAM).exists() and document["run"]["key_present"] is False


def test_block_network_refuses_a_cell_that_would_record_outside_loopback(tmp_path) -> None:
    """No --base-url: the cell would be recorded from api.z.ai. Refused before anything is tried (and the
    run's loopback-only guard would refuse it at the socket anyway); named in the cell and the run."""
    results, document = _run(tmp_path, "all", None, cells=(CHAT,), block_network=True)
    result = results[CHAT]
    assert result.verdict is Verdict.SKIPPED and result.evidence is None
    assert result.reasons[0].startswith(f"--block-network: {CHAT} would be recorded from api.z.ai")
    assert document["run"]["block_network"] is True
    assert document["run"]["network"] == {"guard": True, "refused": [f"record {CHAT} from api.z.ai (--block-network)"]}
    assert not (tmp_path / "cassettes" / "live").exists()


def test_block_network_lets_a_loopback_stand_in_be_recorded(tmp_path) -> None:
    with fake_zai() as server:
        results, document = _run(tmp_path, "once", server, cells=(CHAT,), block_network=True)
    assert _reached(server) == [CHAT] and _live(tmp_path, CHAT).is_file()
    assert results[CHAT].verdict is Verdict.PASS
    assert document["run"]["network"] == {"guard": True, "refused": []}


# --- the modes' plans, and the two front doors -------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "has_live", "plan"),
    [
        (RecordMode.NONE, True, CellPlan.REPLAY),
        (RecordMode.NONE, False, CellPlan.REPLAY),
        (RecordMode.ONCE, True, CellPlan.REPLAY),
        (RecordMode.ONCE, False, CellPlan.RECORD),
        (RecordMode.NEW_EPISODES, True, CellPlan.EXTEND),
        (RecordMode.NEW_EPISODES, False, CellPlan.RECORD),
        (RecordMode.ALL, True, CellPlan.RECORD),
        (RecordMode.REWRITE, True, CellPlan.REWRITE),
    ],
)
def test_each_mode_plans_each_cell(mode, has_live, plan) -> None:
    assert plan_for(mode, has_live=has_live, replays_evidence=True) is plan
    # an agent's recording is a record, never replayed: there is nothing to extend
    assert plan_for(RecordMode.NEW_EPISODES, has_live=True, replays_evidence=False) is CellPlan.RECORD


def test_the_run_mode_stays_replay_or_live_and_the_run_id_names_the_record_mode() -> None:
    assert [m.run_mode for m in RecordMode] == ["replay", "live", "live", "live", "live"]
    assert [m.run_id_part for m in RecordMode] == ["replay", "live-once", "live-new_episodes", "live", "live-rewrite"]


def test_the_cli_passes_the_record_mode_to_pytest_and_refuses_a_contradiction(tmp_path, capsys) -> None:
    args = build_parser().parse_args(["run", "--record-mode", "new_episodes", "--block-network"])
    assert pytest_argv(args) == ["--zai-record-mode", "new_episodes", "--zai-block-network"]
    assert main(["run", "--live", "--record-mode", "once", "--cell", CHAT, "--reports", str(tmp_path)]) == 2
    assert "--live is --record-mode all; it cannot go with --record-mode once" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--record-mode", "sometimes"])


class _Group:
    def __init__(self) -> None:
        self.flags: list[tuple[str, ...]] = []

    def addoption(self, *flags: str, **kwargs: Any) -> None:
        self.flags.append(flags)


class _Plugins:
    def __init__(self, blocked: tuple[str, ...] = ()) -> None:
        self.blocked = blocked

    def is_blocked(self, name: str) -> bool:
        return name in self.blocked


def test_pytest_takes_the_bare_spellings_only_where_pytest_recording_cannot_take_them(monkeypatch) -> None:
    bare, prefixed = _Group(), _Group()
    add_pytest_options(bare, bare=True)
    add_pytest_options(prefixed, bare=False)
    assert ("--zai-record-mode", "--record-mode") in bare.flags
    assert ("--zai-block-network", "--block-network") in bare.flags
    assert ("--zai-record-mode",) in prefixed.flags and ("--zai-block-network",) in prefixed.flags
    assert ("--zai-cell",) in bare.flags  # only pytest-recording's words go bare

    import importlib.util

    real = importlib.util.find_spec
    assert bare_spellings_free(_Plugins()) is (real("pytest_recording") is None)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "pytest_recording" else None)
    assert bare_spellings_free(_Plugins()) is False  # installed: the bare spellings are its own
    assert bare_spellings_free(_Plugins(blocked=("recording",))) is True  # -p no:recording


def _door(argv: list[str], server: FakeZai, root: Path) -> tuple[subprocess.CompletedProcess, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZAI_API_KEY", "ZAI_BASE_URL_"))}
    env["ZAI_API_KEY"] = KEY
    env["ZAI_BASE_URL_CODING"] = server.base_url()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    return done, json.loads((root / "reports" / "results.json").read_text())


def test_both_front_doors_take_the_record_mode(tmp_path, older) -> None:
    """`zai-conformance run --record-mode once` and `pytest suites --record-mode once --block-network`
    (bare, as pytest-recording users type it; not here if pytest-recording is installed)."""
    older(CHAT)
    cli = [sys.executable, "-m", "conformance", "run", "--record-mode", "once", "--workers", "1"]
    cli += ["--cassettes", str(tmp_path / "cassettes"), "--reports", str(tmp_path / "reports")]
    with fake_zai() as server:
        done, document = _door([*cli, "--cell", CHAT, "--cell", STREAM], server, tmp_path)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert _reached(server) == [STREAM]
    assert (document["run"]["mode"], document["run"]["record_mode"]) == ("live", "once")

    if not bare_spellings_free(_Plugins()):
        pytest.skip("pytest-recording is installed here: the bare spellings are its own")
    shutil.rmtree(tmp_path / "reports")
    _live(tmp_path, STREAM).unlink()
    door = [sys.executable, "-m", "pytest", str(ROOT / "suites"), "-p", "no:cacheprovider", "-q"]
    door += ["--record-mode", "once", "--block-network", "--zai-cell", CHAT, "--zai-cell", STREAM]
    door += ["--zai-cassettes", str(tmp_path / "cassettes"), "--zai-reports", str(tmp_path / "reports")]
    with fake_zai() as server:
        done, document = _door(door, server, tmp_path)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert _reached(server) == [STREAM]
    assert (document["run"]["record_mode"], document["run"]["block_network"]) == ("once", True)


class _Config:
    """What the plugin asks of pytest's config: a plugin manager, and pytest-recording's options."""

    def __init__(self, **options: Any) -> None:
        self.pluginmanager = _Plugins()
        self.options = options

    def getoption(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


def test_a_bare_spelling_pytest_recording_took_is_warned_about(monkeypatch) -> None:
    import importlib.util

    from conformance.plugin import _warn_if_pytest_recording_took_the_spelling

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "pytest_recording" else None)
    with pytest.warns(pytest.PytestConfigWarning, match="--record-mode once and --block-network: pytest-recording"):
        _warn_if_pytest_recording_took_the_spelling(_Config(record_mode="once", block_network=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn_if_pytest_recording_took_the_spelling(_Config(record_mode="none"))  # its default: nothing to say
