"""No secret reaches disk: a complete live run against a loopback server that receives the key in
the auth header and in a URL query parameter, and echoes it back in response bodies and an error
message. Every file the harness wrote is then searched for the key. Credentials in the base URL
(a query parameter, userinfo) go through both front doors, and their output is searched too."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance import secrets
from conformance.catalogue import DEFAULT_CATALOGUE
from conformance.results import ResultsWriter
from conformance.session import ConformanceSession
from conformance.verdict import Verdict
from tests.support.fake_secrets import ZAI_KEY_UNREGISTERED
from tests.support.fake_zai import AUTH_ERROR_MARKER, Received, answer_like_zai, fake_zai

REGISTERED_KEY = "zaiconf-FAKE-KEY-registered-7f3a9c"  # the harness knows it is the key in use
SHAPED_KEY = ZAI_KEY_UNREGISTERED  # Z.AI-shaped, never registered with the scrubber


def _catalogue(tmp_path: Path) -> Path:
    """The packaged catalogue plus a path that sends the key as a query parameter and a scenario
    whose answer is an error echoing the key."""
    data = yaml.safe_load(DEFAULT_CATALOGUE.read_text())
    data.pop("conversations")  # the scenarios below are the whole story
    data["models"] = [m for m in data["models"] if m["id"] == "glm-4.6"]
    data["paths"] = [p for p in data["paths"] if p["id"] in ("openai-sdk", "litellm-zai")] + [
        {
            "id": "query-key",
            "title": "key in URL",
            "adapter": "tests.support.query_key_path:QueryKeyPath",
            "protocols": ["openai"],
        },
    ]
    chat = [s for s in data["scenarios"] if s["id"] == "chat"]  # its `streamed` variant is chat-stream
    error = {
        **chat[0],
        "id": "auth-error",
        "title": "an error that echoes the key",
        "messages": [{"role": "user", "content": AUTH_ERROR_MARKER}],
        "streamed": None,
    }
    data["scenarios"] = [*chat, error]
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _rejection_quoting_the_url(body: dict[str, Any], echo: str) -> tuple[int, str, bytes]:
    """The fake's answers, except that its error is a request rejection (HTTP 400, code 1214) quoting
    the request URL: not a refused key, so the run goes on through every cell."""
    if AUTH_ERROR_MARKER not in json.dumps(body.get("messages")):
        return answer_like_zai(body, echo)
    error = {"error": {"code": "1214", "message": f"Request rejected: {echo}"}}
    return 400, "application/json; charset=UTF-8", json.dumps(error).encode()


def _live_run(tmp_path: Path, key: str) -> tuple[ConformanceSession, list]:
    with fake_zai(_rejection_quoting_the_url) as server:
        session = ConformanceSession.from_options(
            live=True,
            base_urls=[f"coding={server.base_url()}"],
            cassettes=str(tmp_path / "cassettes"),
            reports=str(tmp_path / "reports"),
            cells=["coding/*"],
            catalogue=str(_catalogue(tmp_path)),
            environ={"ZAI_API_KEY": key},
        )
        results = [session.run(cell) for cell in session.selected_cells()]
        session.finish()
    return session, results, server.received


def _files_containing(root: Path, secret: str) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(REGISTERED_KEY, id="registered-key"),
        pytest.param(SHAPED_KEY, id="unregistered-zai-shaped-key"),
    ],
)
def test_key_reaches_no_file(tmp_path, monkeypatch, key):
    if key == SHAPED_KEY:  # prove the shape net alone is enough: the harness is not told the key
        monkeypatch.setattr(secrets.SCRUBBER, "add_secret", lambda value: None)
    _, results, received = _live_run(tmp_path, key)

    # The run really handled the key: the server got it in the header and in the query string...
    assert any(key in r.headers.get("authorization", "") for r in received)
    assert any(key in r.query for r in received)
    # ...and the cells ran: echoed answers were judged, the error cell failed on the echoing 400.
    verdicts = {r.cell: r.verdict for r in results}
    assert verdicts["coding/glm-4.6/openai-sdk/chat"] is Verdict.PASS
    assert verdicts["coding/glm-4.6/openai-sdk/auth-error"] is Verdict.FAIL
    error_reason = next(r for r in results if r.cell == "coding/glm-4.6/openai-sdk/auth-error").reasons[0]
    assert "HTTP 400" in error_reason and "<redacted>" in error_reason
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "catalogue.yaml"]
    kinds = {p.suffix for p in written}
    assert {".yaml", ".json", ".jsonl", ".html", ".xml", ".log"} <= kinds, kinds
    assert any("<redacted>" in p.read_text(errors="replace") for p in written if p.suffix == ".yaml")

    assert _files_containing(tmp_path, key) == []


# --- credentials in the base URL, through both front doors ---------------------------------------

ROOT = Path(__file__).resolve().parents[1]
URL_KEY = "zaiconf-base-url-key-4417"  # ?key= in the base URL: neither registered nor key-shaped
URL_USER, URL_PASSWORD = "zaiuser", "zaiconf-userinfo-pw-6630"  # http://user:password@host/…
URL_TOKEN = "tok3n-plain-value-9281"  # ?token= in the base URL: neither registered nor key-shaped
URL_BASIC = base64.b64encode(f"{URL_USER}:{URL_PASSWORD}".encode()).decode()  # what httpx sends for userinfo


@dataclass(frozen=True)
class UrlSecret:
    """A credential in the base URL: where it goes, how the server receives it, and what the
    harness's redaction of it looks like inside an exception message."""

    aim: Callable[[str], str]  # the fake server's base URL → the base URL the user gives
    secrets: tuple[str, ...]  # every form of it that must not be written or printed
    received: Callable[[Received], bool]  # the server did get it
    redacted: str  # how it reads in a cell's error reason once scrubbed


URL_SECRETS = [
    pytest.param(
        UrlSecret(
            lambda url: f"{url}?key={URL_KEY}", (URL_KEY,), lambda r: URL_KEY in r.query, "paas/v4?key=<redacted>"
        ),
        id="key-in-base-url-query",
    ),
    pytest.param(
        UrlSecret(
            lambda url: url.replace("http://", f"http://{URL_USER}:{URL_PASSWORD}@", 1),
            (URL_PASSWORD, URL_BASIC),
            lambda r: r.headers.get("authorization") == f"Basic {URL_BASIC}",
            "http://<redacted>@127.0.0.1:",
        ),
        id="password-in-base-url-userinfo",
    ),
    pytest.param(
        UrlSecret(
            lambda url: f"{url}?token={URL_TOKEN}", (URL_TOKEN,), lambda r: URL_TOKEN in r.query, "v4?token=<redacted>"
        ),
        id="plain-token-in-base-url-query",
    ),
]


def test_the_run_header_is_scrubbed_in_every_write(tmp_path):
    """run.json is written when the run starts and again when it finishes; results.json carries it, and
    facts.json (what the next run compares with) its id."""
    aimed = f"http://{URL_USER}:{URL_PASSWORD}@127.0.0.1:9/api/coding/paas/v4?key={URL_KEY}&token={URL_TOKEN}"
    writer = ResultsWriter(tmp_path, {"id": "r1", "mode": "live", "base_urls": {"coding": aimed}})
    started = (writer.run_dir / "run.json").read_text(encoding="utf-8")
    document = writer.finish({"network": {"refused": [f"GET {aimed} refused"]}})
    written = [started, *(p.read_text(encoding="utf-8") for p in tmp_path.rglob("*.json"))]

    assert document["run"]["base_urls"]["coding"] == (
        "http://127.0.0.1:9/api/coding/paas/v4?key=<redacted>&token=<redacted>"
    )
    assert document["run"]["network"]["refused"] == [
        "GET http://<redacted>@127.0.0.1:9/api/coding/paas/v4?key=<redacted>&token=<redacted> refused"
    ]
    assert len(written) == 4
    assert [text for text in written for value in (URL_PASSWORD, URL_KEY, URL_TOKEN) if value in text] == []


# The same run through each front door: the option spellings differ only by prefix.
FRONT_DOORS = {
    "cli": ([sys.executable, "-m", "conformance", "run", "--live"], "--"),
    "pytest": ([sys.executable, "-m", "pytest", str(ROOT / "suites"), "--zai-live"], "--zai-"),
}


def _front_door(door: str, tmp_path: Path, base_url: str) -> subprocess.CompletedProcess[str]:
    """Run the live matrix through `zai-conformance run` or `pytest suites` in a child process, so
    that everything it prints is captured, whoever prints it."""
    command, prefix = FRONT_DOORS[door]
    options = {
        "base-url": f"coding={base_url}",
        "cell": "coding/*",
        "catalogue": str(_catalogue(tmp_path)),
        "cassettes": str(tmp_path / "cassettes"),
        "reports": str(tmp_path / "reports"),
    }
    argv = command + [part for name, value in options.items() for part in (prefix + name, value)]
    environ = {name: value for name, value in os.environ.items() if not name.startswith("ZAI_")}
    environ |= {"ZAI_API_KEY": REGISTERED_KEY, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    return subprocess.run(argv, cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("door", FRONT_DOORS)
@pytest.mark.parametrize("secret", URL_SECRETS)
def test_base_url_credentials_reach_no_file_and_no_output(tmp_path, door, secret):
    with fake_zai(_rejection_quoting_the_url) as server:
        run = _front_door(door, tmp_path, secret.aim(server.base_url()))
    output = run.stdout + run.stderr

    # The run really handled the credential: the server got it, and the run wrote every kind of file.
    assert any(secret.received(r) for r in server.received), server.received
    assert run.returncode == 1, output  # some cells differ from their expectation: not a crash
    kinds = {p.suffix for p in tmp_path.rglob("*") if p.is_file()}
    assert {".yaml", ".json", ".jsonl", ".html", ".xml", ".log"} <= kinds, kinds

    # No form of it (nor the run's key) is in any file the harness wrote or in anything it printed...
    for value in (*secret.secrets, REGISTERED_KEY):
        assert _files_containing(tmp_path, value) == [], value
        assert value not in output, value

    # ...though the error that quotes the URL reached the results and the output, redacted.
    document = json.loads((tmp_path / "reports" / "results.json").read_text(encoding="utf-8"))
    errors = [reason for cell in document["cells"] if cell["scenario"] == "auth-error" for reason in cell["reasons"]]
    assert any(secret.redacted in reason for reason in errors), errors
    assert secret.redacted in run.stdout


@pytest.mark.parametrize(
    "pair",
    [
        "nowhere=http://user:pw-9281-secret@host/api/coding/paas/v4",  # unknown endpoint
        "coding=ftp://user:pw-9281-secret@host/x?token=pw-9281-secret",  # not http(s)
    ],
)
def test_a_base_url_usage_error_does_not_print_its_credential(pair):
    from conformance.catalogue import load_catalogue
    from conformance.session import UsageError, parse_base_urls

    with pytest.raises(UsageError) as caught:
        parse_base_urls([pair], load_catalogue(), {})
    assert "pw-9281-secret" not in str(caught.value) and "<redacted>" in str(caught.value)
