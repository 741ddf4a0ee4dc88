"""`zai-conformance doctor` against the double: each kind of broken setup gets its plain-words fix."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator

import pytest

from conformance.catalogue import load_catalogue
from conformance.doctor import diagnose, model_checks, plan_checks, quota_url, render
from conformance.double.server import DoubleServer, running


@pytest.fixture(scope="module")
def double() -> Iterator[DoubleServer]:
    with running() as server:
        yield server


def _by_subject(checks):
    return {check.subject.split(" (")[0]: check for check in checks}


def test_no_key_says_how_to_set_one(double):
    [check] = diagnose(load_catalogue(), None, "-", double.base_urls)
    assert check.ok is False and "ZAI_API_KEY" in check.fix


def test_a_coding_plan_key_works_on_its_endpoints_and_is_told_about_the_other(double):
    checks = _by_subject(
        diagnose(load_catalogue(), "double-coding-key-1", "env", double.base_urls, path_patterns=["openai-sdk"])
    )
    assert checks["endpoint coding"].ok is True and checks["endpoint anthropic"].ok is True
    general = checks["endpoint general"]
    assert general.ok is None and "code 1113" in general.detail and "plan" in general.fix
    assert checks["openai-sdk on coding"].ok is True
    assert "connection successful" in checks["openai-sdk on coding"].detail
    assert "openai-sdk on general" not in checks  # no round trip where the key does not work


def test_a_wrong_key_fails_everywhere_with_the_fix(double):
    checks = diagnose(load_catalogue(), "invalid-key-123456", "env", double.base_urls, path_patterns=["openai-sdk"])
    endpoints = [c for c in checks if c.subject.startswith("endpoint ")]
    assert len(endpoints) == 4 and all(c.ok is False and "wrong or expired" in c.fix for c in endpoints)
    assert "endpoint responses" in {c.subject.split(" (")[0] for c in endpoints}  # probed with POST /responses
    assert render(checks).endswith("4 problem(s) to fix")


def test_an_unavailable_model_is_named(double):
    checks = _by_subject(
        diagnose(load_catalogue(), "double-key-1", "env", double.base_urls, model="glm-9", endpoints=["coding"])
    )
    coding = checks["endpoint coding"]
    assert coding.ok is False and "code 1211" in coding.detail and "glm-9 is not available here" in coding.fix


def test_a_chosen_model_and_endpoint_limit_the_checks(double):
    checks = _by_subject(
        diagnose(
            load_catalogue(),
            "double-key-1",
            "env",
            double.base_urls,
            model="glm-4.5",
            endpoints=["general"],
            path_patterns=["litellm-zai"],
        )
    )
    assert checks["endpoint general"].ok is True and checks["litellm-zai on general"].ok is True


def test_an_unreachable_endpoint_is_a_connection_problem():
    urls = {"general": "http://127.0.0.1:9/api/paas/v4"}
    checks = _by_subject(diagnose(load_catalogue(), "double-key-1", "env", urls, endpoints=["general"]))
    assert checks["endpoint general"].ok is False and "cannot connect" in checks["endpoint general"].detail


# --- the key's plan, from the quota endpoint (a loopback stand-in: the double does not serve it) ------


class _PlanServer(http.server.ThreadingHTTPServer):
    """Answers the quota endpoint in the shape one public source documents (steipete/CodexBar
    docs/zai.md), and chat requests as a Coding Plan without glm-5 would: synthetic, for these tests only."""

    quota: dict | None = None


class _PlanHandler(http.server.BaseHTTPRequestHandler):
    server: _PlanServer

    def do_GET(self) -> None:
        if self.path == "/api/monitor/usage/quota/limit" and self.server.quota is not None:
            self._json(200, {"code": 200, "msg": "ok", "data": self.server.quota, "success": True})
        else:
            self._json(404, {"error": {"code": "404", "message": "Not Found"}})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
        if body["model"] == "glm-5":
            self._json(429, {"error": {"code": "1311", "message": "plan lacks GLM-5"}})
        elif body["model"] in ("glm-4.6", "glm-4.5-air"):
            self._json(200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}]})
        else:
            self._json(400, {"error": {"code": "1211", "message": "Unknown Model"}})

    def _json(self, status: int, document: dict) -> None:
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def plan_server() -> Iterator[_PlanServer]:
    server = _PlanServer(("127.0.0.1", 0), _PlanHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_coding_plan_key_is_told_where_live_runs_belong(plan_server):
    plan_server.quota = {
        "planName": "GLM Coding Pro",
        "limits": [{"type": "TOKENS_LIMIT", "unit": 3, "number": 5, "percentage": 12, "nextResetTime": 1764547200000}],
    }
    root = f"http://127.0.0.1:{plan_server.server_address[1]}"
    [check] = plan_checks(f"{root}/api/monitor/usage/quota/limit", "double-coding-key-1")
    assert check.ok is None and check.subject.startswith("plan (")
    assert (
        check.detail
        == "a Coding Plan key: GLM Coding Pro; TOKENS_LIMIT per 5 hours, 12% used, resets 2025-12-01 00:00 UTC"
    )
    assert "pay-as-you-go" in check.fix and "officially supported tools" in check.fix


def test_a_key_without_a_plan_is_not_a_problem(plan_server):
    root = f"http://127.0.0.1:{plan_server.server_address[1]}"
    [check] = plan_checks(f"{root}/api/monitor/usage/quota/limit", "double-key-1")
    assert check.ok is None and "names no plan" in check.detail and "pay-as-you-go" in check.fix
    [unreachable] = plan_checks("http://127.0.0.1:9/api/monitor/usage/quota/limit", "double-key-1")
    assert unreachable.ok is None and "cannot be reached" in unreachable.detail  # not read as "no plan"
    assert "plan is unknown" in unreachable.detail and "double-key-1" not in unreachable.detail


def test_every_model_asked_once_names_those_the_plan_leaves_out(plan_server):
    root = f"http://127.0.0.1:{plan_server.server_address[1]}"
    catalogue = load_catalogue()
    coding = next(e for e in catalogue.endpoints if e.id == "coding")
    checks = model_checks(catalogue, coding, f"{root}/api/coding/paas/v4", "double-coding-key-1")
    answered, gated, other = checks
    assert answered.ok is True and answered.detail == "answered: glm-4.6, glm-4.5-air"
    assert gated.ok is None and gated.detail == "not in this key's plan (1311): glm-5" and "answered" in gated.fix
    assert other.ok is None and "glm-5.3 (1211)" in other.detail
    anthropic = next(e for e in catalogue.endpoints if e.id == "anthropic")
    assert model_checks(catalogue, anthropic, root, "k") == []  # asked on the OpenAI-protocol endpoints only


def test_the_plan_is_asked_on_the_api_host_the_run_aims_at():
    catalogue = load_catalogue()
    assert quota_url(catalogue, {}) == "https://api.z.ai/api/monitor/usage/quota/limit"
    assert quota_url(catalogue, {"general": "http://127.0.0.1:8000/api/paas/v4"}) == (
        "http://127.0.0.1:8000/api/monitor/usage/quota/limit"
    )
