"""The double's trigger protocol, spoken by both sides: what README "The Z.AI double" documents is
what conformance/triggers.py writes and reads, and the keys the harness provokes errors with are
refused by the double as the scenarios expect."""

from __future__ import annotations

import httpx
import pytest

from conformance.double.server import running
from conformance.triggers import (
    FAULT_HEADER,
    INVALID_KEY,
    WRONG_PLAN_KEY,
    invalid_key,
    is_invalid,
    marker,
    marker_in,
    requested_fault,
    with_marker,
    wrong_plan,
    wrong_plan_key,
)


def test_the_documented_forms():
    assert marker("1302") == "[double:1302]"
    assert with_marker("Say hi", "slow=2.5") == "Say hi [double:slow=2.5]"
    assert with_marker("", "hang") == "[double:hang]"
    assert FAULT_HEADER == "X-Double-Fault"
    assert wrong_plan_key("general", "x") == "double-coding-x"
    assert wrong_plan_key("coding", "x") == wrong_plan_key("anthropic", "x") == "double-payg-x"
    assert is_invalid(invalid_key("x"))


def test_the_harness_keys_are_unchanged():
    """Cassettes were recorded with these keys (scrubbed); the runner imports them from here."""
    assert INVALID_KEY == "zai-conformance-invalid-key"
    assert WRONG_PLAN_KEY == {"general": "double-coding-zai-conformance", "coding": "double-payg-zai-conformance"}


def test_a_marker_is_read_back_and_the_header_wins():
    text = with_marker("Tell me something", "network_error")
    assert marker_in(text) == "network_error" and marker_in("no marker [double:UPPER]") is None
    assert requested_fault(text, {}) == "network_error"
    assert requested_fault(text, {FAULT_HEADER.lower(): " 1305 "}) == "1305"
    assert requested_fault("plain", {}) is None


@pytest.mark.parametrize(
    ("endpoint", "refused"),
    [("general", {"double-coding-k"}), ("coding", {"double-payg-k"}), ("anthropic", {"double-payg-k"})],
)
def test_a_key_of_the_other_plan_is_refused_only_there(endpoint, refused):
    for key in ("double-coding-k", "double-payg-k", "ordinary-key"):
        assert wrong_plan(key, endpoint) == (key in refused)


def test_the_double_refuses_the_harness_keys_as_the_scenarios_expect():
    chat = {"model": "glm-4.6", "messages": [{"role": "user", "content": "hi"}]}
    with running() as double:

        def code(endpoint: str, key: str, body: dict = chat, headers: dict | None = None) -> tuple[int, str | None]:
            response = httpx.post(
                double.base_urls[endpoint] + "/chat/completions",
                json=body,
                headers={"Authorization": f"Bearer {key}", **(headers or {})},
                timeout=10,
            )
            return response.status_code, (response.json().get("error") or {}).get("code")

        assert code("coding", INVALID_KEY) == (401, "1002")
        assert code("general", WRONG_PLAN_KEY["general"]) == (429, "1113")
        assert code("coding", WRONG_PLAN_KEY["coding"]) == (429, "1113")
        marked = {**chat, "messages": [{"role": "user", "content": with_marker("hi", "1302")}]}
        assert code("coding", "k", marked) == (429, "1302")
        assert code("coding", "k", chat, {FAULT_HEADER: "1305"}) == (429, "1305")
