"""The agents' CLIs as data (conformance/data/agents.yaml) and where their pinned installs live.

The project pins each agent in `agents/package.json` and `agents/package-lock.json`; `scripts/bootstrap`
installs them with npm (install scripts off) into `.agents/node_modules`. `ZAI_AGENTS_DIR` points at
another such folder. An agent that is not there, or whose package carries no program, is not an error:
its cells are SKIPPED with the reason `unavailable()` gives.
"""

from __future__ import annotations

import json
import os
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

ROOT = Path(__file__).resolve().parents[2]
AGENTS_DIR_ENV = "ZAI_AGENTS_DIR"
Output = Literal["claude-json", "codex-jsonl", "opencode-jsonl", "text"]


class AgentSpec(BaseModel):
    """One agent CLI: its npm package and pinned version, how it is launched headless and configured
    for Z.AI, the task's prompt in its own tool names, and the configuration the report recommends."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    package: str
    version: str
    bin: str
    endpoint: str
    argv: tuple[str, ...]
    output: Output
    env: dict[str, str]
    files: dict[str, str]
    prompt: str
    docs: str
    known_good: str
    wrong: tuple[str, ...] = ()  # common wrong configurations and what they get (the report's words)
    binary_from: str | None = None  # the package downloads its program from here at install time
    providers: dict[str, str] = Field(default_factory=dict)  # the agent's provider name per endpoint


@cache
def agents() -> dict[str, AgentSpec]:
    raw = yaml.safe_load((resources.files("conformance") / "data" / "agents.yaml").read_text(encoding="utf-8"))
    return {key: AgentSpec(id=key, **value) for key, value in raw["agents"].items()}


def agents_dir() -> Path:
    return Path(os.environ.get(AGENTS_DIR_ENV) or ROOT / ".agents")


def program(spec: AgentSpec) -> Path:
    return agents_dir() / "node_modules" / ".bin" / spec.bin


def installed_version(spec: AgentSpec) -> str | None:
    manifest = agents_dir() / "node_modules" / spec.package / "package.json"
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def unavailable(spec: AgentSpec) -> str | None:
    """Why this agent cannot run here, in words a user can act on; None when it can."""
    version = installed_version(spec)
    if version is None:
        return (
            f"{spec.title} ({spec.package} {spec.version}) is not installed in {agents_dir()}/node_modules: "
            "scripts/bootstrap installs it with npm (needs Node.js and the npm registry)"
        )
    if version != spec.version:
        pinned = f"the catalogue pins {spec.version}"
        return f"{spec.title}: {spec.package} {version} is installed, {pinned}; run scripts/bootstrap"
    if spec.binary_from is not None and not _has_program(spec):
        return (
            f"{spec.title}'s npm package ({spec.package} {spec.version}) carries no program: its install "
            f"script downloads it from {spec.binary_from}, outside the npm registry — not run by "
            "scripts/bootstrap (npm install --ignore-scripts) and unreachable from a machine that reaches "
            "only package registries"
        )
    if not program(spec).exists():
        return f"{spec.title}: {program(spec)} is missing although {spec.package} {version} is installed"
    return None


def _has_program(spec: AgentSpec) -> bool:
    """Whether the package's own program is in place (crush's launcher looks for it next to itself)."""
    package = agents_dir() / "node_modules" / spec.package
    return program(spec).exists() and any((package / name).is_file() for name in (spec.bin, "bin/" + spec.bin))
