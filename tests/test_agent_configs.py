"""An agent's own configuration file as the run's target (`--env-file` takes it): OpenHands, Codex, Claude
Code, a LiteLLM proxy and Agent Zero, each read for where it sends, with which model and key — and what is
wrong with it, in words `doctor` prints. Keys are used, never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.agent_configs import AgentConfigError, read_agent_config, read_configuration
from conformance.catalogue import load_catalogue
from conformance.doctor import config_checks
from conformance.envfile import EnvFileError
from conformance.session import ConformanceSession

KEY = "zaiconf-agent-key-0007"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


OPENHANDS = f"""
[llm]
model = "openai/glm-4.6"
base_url = "https://api.z.ai/api/coding/paas/v4"
api_key = "{KEY}"
temperature = 0.0

[llm.troubleshooting]
base_url = "https://api.zai-code.com/v1"
model = "glm-4.32b-0414-128k"
"""


def test_openhands_sections_inherit_and_each_problem_is_named(catalogue, tmp_path):
    config = read_agent_config(_file(tmp_path, "config.toml", OPENHANDS), catalogue)
    assert config.kind == "openhands"
    default, named = config.entries
    assert (default.name, default.base_url, default.model, default.key_from) == (
        "[llm]",
        "https://api.z.ai/api/coding/paas/v4",
        "openai/glm-4.6",
        "the file",
    )
    assert default.problems == []
    assert named.name == "[llm.troubleshooting]" and named.api_key == KEY  # inherited from [llm]
    assert named.problems == [
        "base URL host 'api.zai-code.com' is not Z.AI's (api.z.ai): requests go to a third party — the OpenHands "
        "guide's troubleshooting names api.zai-code.com, which is not Z.AI",
        "model 'glm-4.32b-0414-128k': Z.AI does not serve 'glm-4.32b-0414-128k' (known: see `zai-conformance cells`)",
    ]
    assert config.variables() == {
        "LLM_BASE_URL": "https://api.z.ai/api/coding/paas/v4",
        "LLM_MODEL": "openai/glm-4.6",
        "LLM_API_KEY": KEY,
    }


def test_codex_on_the_responses_api_needs_wire_api_responses(catalogue, tmp_path):
    text = """
model = "glm-5.3"
model_provider = "zai"
[model_providers.zai]
name = "Z.AI"
base_url = "https://api.z.ai/api/v1"
env_key = "ZAI_API_KEY"
"""
    config = read_agent_config(_file(tmp_path, "codex.toml", text), catalogue, environ={"ZAI_API_KEY": KEY})
    (entry,) = config.entries
    assert (config.kind, entry.model, entry.provider, entry.key_from, entry.api_key) == (
        "codex",
        "glm-5.3",
        "chat",
        "ZAI_API_KEY",
        KEY,
    )
    assert entry.problems == [
        "wire_api is 'chat': Z.AI serves /api/v1 as the Responses API; set wire_api = \"responses\" "
        "(or point base_url at /api/coding/paas/v4 for chat completions)"
    ]
    fixed = read_agent_config(
        _file(tmp_path, "codex2.toml", text + 'wire_api = "responses"\n'), catalogue, environ={"ZAI_API_KEY": KEY}
    )
    assert fixed.entries[0].problems == []


def test_claude_code_settings_map_each_model_and_refuse_a_full_messages_url(catalogue, tmp_path):
    text = f"""{{"env": {{"ANTHROPIC_BASE_URL": "https://api.z.ai/api/anthropic/v1/messages",
        "ANTHROPIC_AUTH_TOKEN": "{KEY}", "ANTHROPIC_DEFAULT_OPUS_MODEL": "glm-5.3",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": "glm-4.5-air"}}}}"""
    config = read_agent_config(_file(tmp_path, "settings.json", text), catalogue)
    assert config.kind == "claude-code"
    assert [(e.name, e.model, e.key_from) for e in config.entries] == [
        ("env ANTHROPIC_DEFAULT_OPUS_MODEL", "glm-5.3", "ANTHROPIC_AUTH_TOKEN"),
        ("env ANTHROPIC_DEFAULT_HAIKU_MODEL", "glm-4.5-air", "ANTHROPIC_AUTH_TOKEN"),
    ]
    assert config.entries[0].problems[0].startswith("ANTHROPIC_BASE_URL ends in /v1/messages: Claude Code appends")


def test_a_proxy_config_reads_environment_keys_and_agent_zero_its_zai_providers(catalogue, tmp_path):
    proxy = """
model_list:
  - model_name: glm-4.6
    litellm_params:
      {model: anthropic/glm-4.6, api_base: "https://api.z.ai/api/anthropic", api_key: os.environ/ZAI_API_KEY}
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o}
"""
    config = read_agent_config(_file(tmp_path, "litellm_config.yaml", proxy), catalogue, environ={})
    first, second = config.entries
    assert (config.kind, first.provider, first.key_from, first.api_key) == (
        "litellm-proxy",
        "anthropic",
        "ZAI_API_KEY",
        None,
    )
    assert first.problems == ["no key: ZAI_API_KEY is not set"]
    assert second.problems == [
        "model 'openai/gpt-4o': Z.AI does not serve 'gpt-4o' (known: see `zai-conformance cells`)"
    ]
    agent_zero = """
chat:
  zai_coding:
    name: Z.AI Coding
    litellm_provider: openai
    kwargs: {a0_api_mode: chat, api_base: "https://api.z.ai/api/coding/paas/v4"}
  openai:
    name: OpenAI
    litellm_provider: openai
"""
    env = {"ZAI_CODING_API_KEY": KEY}
    config = read_agent_config(_file(tmp_path, "model_providers.yaml", agent_zero), catalogue, environ=env)
    (entry,) = config.entries
    assert (config.kind, entry.name, entry.provider, entry.key_from, entry.api_key, entry.problems) == (
        "agent-zero",
        "chat.zai_coding",
        "openai",
        "ZAI_CODING_API_KEY",
        KEY,
        [],
    )


def test_an_unknown_or_broken_file_is_named(catalogue, tmp_path):
    with pytest.raises(AgentConfigError, match="none of the configurations this reads"):
        read_agent_config(_file(tmp_path, "other.yaml", "name: x\n"), catalogue)
    with pytest.raises(AgentConfigError, match="not valid TOML"):
        read_agent_config(_file(tmp_path, "bad.toml", "[llm\n"), catalogue)
    with pytest.raises(EnvFileError, match="no such file"):
        read_configuration(tmp_path / "nope.toml", catalogue)


def test_doctor_prints_each_entry_and_its_problems_without_the_key(catalogue, tmp_path):
    config = read_agent_config(_file(tmp_path, "config.toml", OPENHANDS), catalogue)
    checks = config_checks(config)
    assert [(c.subject, c.ok) for c in checks] == [
        ("openhands [llm]", True),
        ("openhands [llm.troubleshooting]", False),
        ("openhands [llm.troubleshooting]", False),
    ]
    assert checks[0].detail == "https://api.z.ai/api/coding/paas/v4, model openai/glm-4.6, key from the file"
    assert all(KEY not in c.detail for c in checks)


def test_a_session_runs_the_files_target_and_refuses_a_file_that_reaches_no_zai(tmp_path):
    session = ConformanceSession.from_options(env_file=str(_file(tmp_path, "config.toml", OPENHANDS)), environ={})
    assert session.settings.api_key == KEY
    assert {(c.endpoint.id, c.model.id) for c in session.selected_cells()} == {("coding", "glm-4.6")}
    assert session.configuration["agent"] == "openhands" and len(session.configuration["problems"]) == 2
    elsewhere = '[llm]\nmodel = "glm-4.6"\nbase_url = "https://api.zai-code.com/v1"\n'
    with pytest.raises(EnvFileError, match=r"no entry of this openhands file reaches Z\.AI"):
        ConformanceSession.from_options(env_file=str(_file(tmp_path, "other.toml", elsewhere)), environ={})
