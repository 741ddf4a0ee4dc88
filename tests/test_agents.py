"""The agent paths' parts that run without an agent: the relay, the readers of each CLI's output, the
judging of a run, the pins and the reasons an agent cannot run. The agents themselves run as cells of
the matrix (suites/, `*/agent-*/agent-task`) against the double."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from conformance.agents.outputs import read_output
from conformance.agents.relay import Relay
from conformance.agents.specs import agents, unavailable
from conformance.catalogue import AgentTask
from conformance.checks.agent import check_agent, sends
from conformance.double.answers import spelled_out
from conformance.double.ask import users_words
from conformance.observation import AgentRun, Exchange, Turn
from conformance.verdict import Severity

ROOT = Path(__file__).resolve().parents[1]
TASK = AgentTask(
    files={"notes.txt": "The code word is ZEBRA-42.\n"}, answer_contains="ZEBRA-42", creates=("answer.txt",)
)


# --- the relay --------------------------------------------------------------------------------------


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[dict[str, object]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Upstream.seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        events = [b"data: one\n\n", b"data: two\n\n"]
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(sum(map(len, events))))
        self.end_headers()
        for event in events:
            self.wfile.write(event)
            self.wfile.flush()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Upstream.seen = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/coding/paas/v4"
    finally:
        server.shutdown()
        server.server_close()


def test_the_relay_passes_a_request_on_below_the_base_and_streams_the_answer_back(upstream: str) -> None:
    with Relay(upstream, idle_timeout=10, connect_timeout=5) as relay:
        answer = httpx.post(
            relay.base_url + "/chat/completions?x=1",
            content=b'{"model": "glm-5.3"}',
            headers={"Authorization": "Bearer k"},
        )
        assert relay.requests == 1 and relay.failures == []
    assert answer.status_code == 200 and answer.text == "data: one\n\ndata: two\n\n"
    assert answer.headers["content-type"] == "text/event-stream"
    assert _Upstream.seen == [
        {"path": "/api/coding/paas/v4/chat/completions?x=1", "auth": "Bearer k", "body": b'{"model": "glm-5.3"}'}
    ]


def test_an_upstream_the_relay_cannot_reach_is_a_502_naming_it() -> None:
    with Relay("http://127.0.0.1:9/api", idle_timeout=5, connect_timeout=2) as relay:
        answer = httpx.post(relay.base_url + "/v1/messages", content=b"{}")
        assert answer.status_code == 502
        assert "the upstream call failed: ConnectError" in answer.json()["error"]["message"]
        assert relay.failures and relay.failures[0].startswith("POST /v1/messages: ConnectError")


# --- the agents' outputs ------------------------------------------------------------------------------


def test_claude_codes_result_gives_the_answer_or_the_error() -> None:
    done = read_output("claude-json", json.dumps({"type": "result", "result": "ZEBRA-42", "num_turns": 3}))
    assert (done.answer, done.error, done.steps) == ("ZEBRA-42", None, 3)
    failed = read_output(
        "claude-json", "noise\n" + json.dumps({"type": "result", "is_error": True, "result": "API Error: 400 [1214]"})
    )
    assert (failed.answer, failed.error) == (None, "API Error: 400 [1214]")
    assert read_output("claude-json", "").error == "the agent printed no answer"


def test_codex_and_opencode_give_their_last_message_and_their_failures() -> None:
    codex = "\n".join(
        json.dumps(e)
        for e in (
            {"type": "item.completed", "item": {"type": "agent_message", "text": "first"}},
            {"type": "item.completed", "item": {"type": "agent_message", "text": "last"}},
            {"type": "turn.completed"},
        )
    )
    assert (read_output("codex-jsonl", codex).answer, read_output("codex-jsonl", codex).steps) == ("last", 1)
    assert read_output("codex-jsonl", json.dumps({"type": "turn.failed", "error": {"message": "429"}})).error == "429"
    opencode = "\n".join(
        json.dumps(e)
        for e in (
            {"type": "text", "part": {"text": "done"}},
            {"type": "step_finish", "part": {}},
        )
    )
    assert read_output("opencode-jsonl", opencode).answer == "done"
    error = {"type": "error", "error": {"name": "APIError", "data": {"message": "Insufficient balance"}}}
    assert read_output("opencode-jsonl", json.dumps(error)).error == "Insufficient balance"


# --- judging a run --------------------------------------------------------------------------------


def _exchange(body: dict[str, object], status: int = 200, answer: str = "") -> Exchange:
    return Exchange(
        method="POST",
        url="https://api.z.ai/api/anthropic/v1/messages?beta=true",
        request_headers={},
        request_body=json.dumps(body),
        outcome="served",
        status=status,
        response_body=answer,
    )


def _turn(text: str | None, created: list[str]) -> Turn:
    return Turn(
        index=0, text=text, agent=AgentRun(agent="claude-code", version="x", exit_code=0, requests=2, created=created)
    )


def test_a_finished_task_is_only_information() -> None:
    findings = check_agent(TASK, _turn("It says ZEBRA-42.", ["answer.txt"]), [_exchange({"model": "glm-5.3"})])
    assert {f.severity for f in findings} == {Severity.INFO}


def test_an_answer_without_the_files_word_or_a_missing_file_fails_the_task() -> None:
    findings = check_agent(TASK, _turn("I could not read it.", []), [])
    messages = [f.message for f in findings if f.severity is Severity.FAIL]
    assert len(messages) == 2
    assert "does not say 'ZEBRA-42'" in messages[0] and "answer.txt" in messages[1]


def test_a_refused_request_is_a_deviation_even_when_the_agent_went_on() -> None:
    refused = _exchange({"model": "glm-5.3"}, 400, json.dumps({"error": {"code": "1214", "message": "bad role"}}))
    findings = check_agent(TASK, _turn("ZEBRA-42", ["answer.txt"]), [refused, _exchange({"model": "glm-5.3"})])
    deviations = [f.message for f in findings if f.severity is Severity.DEVIATION]
    assert deviations == ["request 1 refused: HTTP 400, code 1214: bad role"]


def test_a_refusal_sent_again_and_again_is_counted_as_retried() -> None:
    refused = _exchange({"model": "glm-5.3"}, 429, json.dumps({"error": {"code": "1113", "message": "no plan"}}))
    findings = check_agent(TASK, _turn(None, []), [refused] * 3)
    deviations = [f.message for f in findings if f.severity is Severity.DEVIATION]
    assert deviations == [
        "3 requests (1–3) refused: HTTP 429, code 1113: no plan; sent 3 times, retried as if it could pass"
    ]


def test_what_an_agent_sends_is_summed_up_from_its_requests() -> None:
    body = {
        "model": "glm-5.3",
        "stream": True,
        "max_tokens": 32000,
        "thinking": {"type": "adaptive"},
        "messages": [{"role": "user", "content": "x"}, {"role": "system", "content": "y"}],
        "tools": [{"name": "Read"}, {"name": "Write"}],
    }
    line = sends([_exchange(body)])
    assert line.startswith("sends 1 request(s): 1× POST /api/anthropic/v1/messages; models glm-5.3")
    assert 'thinking={"type": "adaptive"}' in line and "roles system, user" in line and "up to 2 tools" in line
    assert "1 streamed" in line and "max_tokens 32000" in line
    assert "a system-role message inside messages" in line


# --- pins and availability -----------------------------------------------------------------------------


def test_the_npm_pins_are_the_catalogues() -> None:
    pinned = json.loads((ROOT / "agents" / "package.json").read_text())["dependencies"]
    assert pinned == {spec.package: spec.version for spec in agents().values()}
    lock = json.loads((ROOT / "agents" / "package-lock.json").read_text())["packages"]
    for spec in agents().values():
        assert lock[f"node_modules/{spec.package}"]["version"] == spec.version


def test_an_agent_that_is_not_installed_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZAI_AGENTS_DIR", str(tmp_path))
    why = unavailable(agents()["codex"])
    assert why is not None and "@openai/codex 0.171.0" in why and "scripts/bootstrap" in why


def test_an_agent_package_without_its_program_says_where_the_program_would_come_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = agents()["crush"]
    package = tmp_path / "node_modules" / spec.package
    package.mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"version": spec.version}))
    monkeypatch.setenv("ZAI_AGENTS_DIR", str(tmp_path))
    why = unavailable(spec)
    assert why is not None and "carries no program" in why and str(spec.binary_from) in why


# --- what the double takes from an agent's request -----------------------------------------------------


def test_the_double_takes_paths_and_commands_the_user_spelled_out() -> None:
    asked = "Use the Read tool to read /w/notes.txt and the Write tool to write /w/answer.txt."
    assert spelled_out(asked, "Read")["file_path"] == "/w/notes.txt"
    assert spelled_out(asked, "Write")["filePath"] == "/w/answer.txt"
    assert spelled_out("Use exec_command to run `cat notes.txt | tee a.txt`", "exec_command")["cmd"] == (
        "cat notes.txt | tee a.txt"
    )
    assert spelled_out("Say hi", "Read") == {}


def test_an_agents_reminders_are_not_the_users_words() -> None:
    text = "<system-reminder>\nUse the Agent tool when…\n</system-reminder>\nRead the file"
    assert users_words(text) == "Read the file"
    assert users_words("plain words") == "plain words"
