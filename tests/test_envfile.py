"""--env-file: the guides' configuration files become a run's target (key, endpoint, model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.catalogue import load_catalogue
from conformance.envfile import EnvFileError, read_env_file, target_from
from conformance.session import ConformanceSession


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def _env(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text)
    return path


def test_the_litellm_guides_standalone_project(catalogue, tmp_path):
    text = "ZAI_API_KEY=zaiconf-env-key-0001\nZAI_BASE_URL=https://api.z.ai/api/anthropic\nGLM_MODEL=glm-4.6\n"
    target = target_from(read_env_file(_env(tmp_path, text)), catalogue)
    assert (target.api_key, target.endpoint, target.base_url, target.model) == (
        "zaiconf-env-key-0001",
        "anthropic",
        None,
        "glm-4.6",
    )
    assert target.cell_patterns() == ["anthropic/glm-4.6/*"]
    assert "zaiconf-env-key-0001" not in json.dumps(target.used)


def test_openhands_variables_with_a_provider_prefix_and_another_host(catalogue, tmp_path):
    text = (
        "LLM_API_KEY=zaiconf-env-key-0002\nLLM_BASE_URL=http://127.0.0.1:4000/api/coding/paas/v4/\n"
        "LLM_MODEL=zai/GLM-4.7\nLLM_CUSTOM_LLM_PROVIDER=zai\n"
    )
    target = target_from(read_env_file(_env(tmp_path, text)), catalogue)
    assert (target.endpoint, target.base_url, target.model, target.provider) == (
        "coding",
        "http://127.0.0.1:4000/api/coding/paas/v4",
        "glm-4.7",
        "zai",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ZAI_BASE_URL=https://api.z.ai/v1\n", "ZAI_BASE_URL=https://api.z.ai/v1: its path matches no endpoint"),
        ("GLM_MODEL=gpt-4o\n", "GLM_MODEL=gpt-4o: 'gpt-4o' is not in the catalogue"),
    ],
)
def test_what_the_catalogue_does_not_know_is_named(catalogue, tmp_path, text, message):
    with pytest.raises(EnvFileError, match=message.replace(".", r"\.")):
        target_from(read_env_file(_env(tmp_path, text)), catalogue)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(EnvFileError, match="no such file"):
        read_env_file(tmp_path / "nope.env")


def test_a_session_takes_key_endpoint_and_cells_from_the_file(tmp_path):
    text = "ZAI_API_KEY=zaiconf-env-key-0003\nZAI_BASE_URL=http://127.0.0.1:5555/api/paas/v4\nGLM_MODEL=glm-4.5\n"
    session = ConformanceSession.from_options(env_file=str(_env(tmp_path, text)), environ={})
    assert session.settings.api_key == "zaiconf-env-key-0003"
    assert session.settings.base_urls == {"general": "http://127.0.0.1:5555/api/paas/v4"}
    assert {c.id.split("/")[0] for c in session.selected_cells()} == {"general"}
    assert {c.model.id for c in session.selected_cells()} == {"glm-4.5"}
    assert session.configuration["used"]["ZAI_API_KEY"] == "the API key"
