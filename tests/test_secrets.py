"""No secret reaches disk: a complete live run against a loopback server that receives the key in
the auth header and in a URL query parameter, and echoes it back in response bodies and an error
message. Every file the harness wrote is then searched for the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conformance.catalogue import DEFAULT_CATALOGUE
from conformance.recording import scrub
from conformance.session import ConformanceSession
from conformance.verdict import Verdict
from tests.support.fake_secrets import ZAI_KEY_UNREGISTERED
from tests.support.fake_zai import AUTH_ERROR_MARKER, fake_zai

REGISTERED_KEY = "zaiconf-FAKE-KEY-registered-7f3a9c"  # the harness knows it is the key in use
SHAPED_KEY = ZAI_KEY_UNREGISTERED  # Z.AI-shaped, never registered with the scrubber


def _catalogue(tmp_path: Path) -> Path:
    """The packaged catalogue plus a path that sends the key as a query parameter and a scenario
    whose answer is an authentication error echoing the key."""
    data = yaml.safe_load(DEFAULT_CATALOGUE.read_text())
    data["models"] = [m for m in data["models"] if m["id"] == "glm-4.6"]
    data["paths"] = [p for p in data["paths"] if p["id"] in ("openai-sdk", "litellm-zai")] + [
        {
            "id": "query-key",
            "title": "key in URL",
            "adapter": "tests.support.query_key_path:QueryKeyPath",
            "protocols": ["openai"],
        },
    ]
    chat = [s for s in data["scenarios"] if s["id"] in ("chat", "chat-stream")]
    error = {
        **chat[0],
        "id": "auth-error",
        "title": "an error that echoes the key",
        "messages": [{"role": "user", "content": AUTH_ERROR_MARKER}],
    }
    data["scenarios"] = [*chat, error]
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _live_run(tmp_path: Path, key: str) -> tuple[ConformanceSession, list]:
    with fake_zai() as server:
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
        monkeypatch.setattr(scrub.SCRUBBER, "add_secret", lambda value: None)
    _, results, received = _live_run(tmp_path, key)

    # The run really handled the key: the server got it in the header and in the query string...
    assert any(key in r.headers.get("authorization", "") for r in received)
    assert any(key in r.query for r in received)
    # ...and the cells ran: echoed answers were judged, the error cell failed on the echoing 401.
    verdicts = {r.cell: r.verdict for r in results}
    assert verdicts["coding/glm-4.6/openai-sdk/chat"] is Verdict.PASS
    assert verdicts["coding/glm-4.6/openai-sdk/auth-error"] is Verdict.FAIL
    error_reason = next(r for r in results if r.cell == "coding/glm-4.6/openai-sdk/auth-error").reasons[0]
    assert "HTTP 401" in error_reason and "<redacted>" in error_reason
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "catalogue.yaml"]
    kinds = {p.suffix for p in written}
    assert {".yaml", ".json", ".jsonl", ".html", ".xml", ".log"} <= kinds, kinds
    assert any("<redacted>" in p.read_text(errors="replace") for p in written if p.suffix == ".yaml")

    assert _files_containing(tmp_path, key) == []
