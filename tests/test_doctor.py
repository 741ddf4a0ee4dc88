"""`zai-conformance doctor` against the double: each kind of broken setup gets its plain-words fix."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.catalogue import load_catalogue
from conformance.doctor import diagnose, render
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
    assert len(endpoints) == 3 and all(c.ok is False and "wrong or expired" in c.fix for c in endpoints)
    assert render(checks).endswith("3 problem(s) to fix")


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
