"""Replay verdicts come from the evidence, never from the clock: a recorded hang replays as a HANG at
once, a client timeout that no recording holds is a stalled replay (a harness failure, not a verdict),
and a request the proxy sends for a cell that has ended never draws on the next cell's evidence."""

from __future__ import annotations

import asyncio
import shutil
import threading
from pathlib import Path

import httpx
import pytest
from vcr.request import Request

from conformance import runner as runner_module
from conformance.catalogue import load_catalogue
from conformance.observation import Turn
from conformance.paths.base import ClientPath, describe_exception
from conformance.proxy.server import _ProxyApp
from conformance.recording import recorder
from conformance.runner import REPLAY_STALL_GUARD, CellRunner, RunSettings
from conformance.verdict import Verdict

ROOT = Path(__file__).resolve().parent.parent
DOUBLE = ROOT / "tests" / "fixtures" / "double-cassettes"  # recorded hangs, kept as fixtures
PUBLIC = ROOT / "cassettes" / "public"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def test_replay_gives_clients_the_stall_guard_not_the_idle_limit():
    replay, live = RunSettings(idle_timeout=1.0), RunSettings(mode="live", idle_timeout=1.0)
    assert replay.client_timeout(1.0) == REPLAY_STALL_GUARD
    assert live.client_timeout(1.0) == 1.0


@pytest.mark.parametrize("path", ["openai-sdk", "litellm-zai", "anthropic-sdk"])
def test_a_recorded_hang_replays_as_a_hang_whatever_the_idle_limit(catalogue, tmp_path, path):
    endpoint = "anthropic" if path == "anthropic-sdk" else "coding"
    cell_id = f"{endpoint}/glm-4.6/{path}/stream-hang"
    source = DOUBLE / endpoint / "glm-4.6" / path / "stream-hang.yaml"
    target = tmp_path / "double" / endpoint / "glm-4.6" / path / "stream-hang.yaml"
    target.parent.mkdir(parents=True)
    shutil.copy(source, target)
    # an idle limit far shorter than any real wait would be: replay must not consult it
    result = CellRunner(catalogue, RunSettings(cassette_root=tmp_path, idle_timeout=0.001)).run(catalogue.cell(cell_id))
    # the scenario expects the client's timeout (a HANG): the path that raises it passes
    assert result.verdict is Verdict.PASS, result.reasons
    assert result.harness_error is None
    assert result.observation.turns[-1].error.timeout
    assert any(e.transport_fault for e in result.observation.exchanges)


class _TimesOut(ClientPath):
    """A client whose call times out although the recording answered: what a starved machine does."""

    def send(self, index, body):
        raise httpx.ReadTimeout("timed out")

    def describe_error(self, exc):
        return describe_exception(exc)


def test_a_timeout_no_recording_holds_is_a_stalled_replay_not_a_hang(catalogue, tmp_path, monkeypatch):
    target = tmp_path / "public" / "coding" / "glm-4.6" / "chat.yaml"
    target.parent.mkdir(parents=True)
    shutil.copy(PUBLIC / "coding" / "glm-4.6" / "chat.yaml", target)
    monkeypatch.setattr(runner_module, "load_adapter", lambda spec: _TimesOut)
    result = CellRunner(catalogue, RunSettings(cassette_root=tmp_path)).run(
        catalogue.cell("coding/glm-4.6/openai-sdk/chat")
    )
    assert result.verdict is Verdict.FAIL
    assert result.harness_error and "replay stalled: turn 1 timed out (ReadTimeout)" in result.harness_error
    assert isinstance(result.observation.turns[0], Turn)


def test_a_request_sent_for_another_cell_is_refused_and_leaves_no_exchange(tmp_path):
    source = PUBLIC / "coding" / "glm-4.6" / "chat.yaml"
    request = Request("POST", "https://api.z.ai/api/coding/paas/v4/chat/completions", b"{}", {})
    with recorder.Recorder().replay(source) as tap:
        assert recorder.active_tap() is tap
        token = recorder.REQUEST_OWNER.set(object())  # an earlier cell's tap
        try:
            with pytest.raises(recorder.StrayRequest, match="sent for a cell that has ended"):
                tap._cassette.can_play_response_for(request)
        finally:
            recorder.REQUEST_OWNER.reset(token)
    assert tap.exchanges == [] and tap.stray_requests == 1
    assert recorder.active_tap() is None


class _Globals:
    def enter(self) -> int:
        return 0

    def leave(self, token: int) -> None:
        pass


def test_the_proxy_tags_each_request_with_its_cell_and_can_be_waited_for():
    seen: list[object] = []
    entered, release = threading.Event(), threading.Event()

    async def inner(scope, receive, send):
        seen.append(recorder.REQUEST_OWNER.get())
        entered.set()
        await asyncio.get_running_loop().run_in_executor(None, release.wait, 30)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def ignore(message):
        pass

    app = _ProxyApp(inner, _Globals())
    with recorder.Recorder().replay(PUBLIC / "coding" / "glm-4.6" / "chat.yaml") as tap:
        worker = threading.Thread(target=asyncio.run, args=(app({"type": "http"}, None, ignore),))
        worker.start()
        assert entered.wait(30)
        assert not app.wait_idle(0.05)  # in flight until released, however long that takes
        assert app.wait_idle(0, owner=object())  # another cell does not wait for this one's request
        release.set()
        assert app.wait_idle(30)
        worker.join(30)
    assert seen == [tap]
    assert recorder.REQUEST_OWNER.get() is None
