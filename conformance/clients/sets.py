"""Client sets: the versions of the client libraries a cell is judged under, and their environments.

A client set is data (conformance/data/client_sets.yaml): a name and either a lock file (the default
set is requirements.lock, what the README's commands install) or exact pins laid over the project's
own requirements (`litellm: 1.106.2`). Each set gets its own virtual environment, built with uv and
kept in a cache folder keyed by the exact requirements it installs, so a second build is free:

    <cache>/<set name>-<hash of the resolved requirements>/   a venv with the harness installed (editable)

Pins are resolved with `uv pip compile --overrides` against pyproject.toml: the pinned packages take
exactly those versions, everything else the newest versions compatible with them — which may move
another client too (openai 2.x holds LiteLLM below the release that needs openai 3); the matrix
reports every client's version per set, so such a move is visible.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from packaging.utils import canonicalize_name
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from conformance.clients.registry import never
from conformance.yaml_errors import describe_yaml_error

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_SETS = resources.files("conformance") / "data" / "client_sets.yaml"
ENVS_ENV = "ZAI_CONFORMANCE_ENVS"  # where client-set environments are kept (default: <project>/.envs)
SET_ENV = "ZAI_CONFORMANCE_CLIENT_SET"  # a run inside a set's environment records the set's name...
SET_TITLE_ENV = "ZAI_CONFORMANCE_CLIENT_SET_TITLE"  # ...and title in its run header
_NAME = r"^[A-Za-z0-9][A-Za-z0-9._+-]*$"


class ClientSetError(ValueError):
    """A client set cannot be used: unknown name, a bad spec, a pin that cannot be installed."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClientSet(_Entry):
    name: str = Field(pattern=_NAME)
    title: str = ""
    lock: str | None = None  # a lock file, relative to the project root
    pins: dict[str, str] = Field(default_factory=dict)  # distribution → exact version
    ci: bool = False  # built by scripts/bootstrap and replayed by the tests (its version-sensitive cells)

    def model_post_init(self, context: Any) -> None:
        if (self.lock is None) == (not self.pins):
            raise ValueError(f"client set {self.name!r}: give either a lock or pins, not both or neither")
        for package, version in self.pins.items():
            why = never(package, version)
            if why is not None:
                raise ValueError(f"client set {self.name!r}: {package} {version} is never installed: {why}")

    @property
    def label(self) -> str:
        if self.lock:
            return f"{self.name} ({self.lock})"
        return f"{self.name} (" + ", ".join(f"{p} {v}" for p, v in sorted(self.pins.items())) + ")"


class _SetsFile(_Entry):
    sets: tuple[ClientSet, ...]


@cache
def load_sets(path: str | None = None) -> dict[str, ClientSet]:
    source = Path(path) if path else Path(str(DEFAULT_SETS))
    text = source.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ClientSetError(describe_yaml_error(source.name, exc)) from None
    try:
        sets = _SetsFile.model_validate(raw).sets
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ClientSetError(f"{source.name}: {where}: {first['msg']}") from None
    names = [s.name for s in sets]
    if len(names) != len(set(names)):
        raise ClientSetError(f"{source.name}: client set names must be unique")
    return {s.name: s for s in sets}


def parse_spec(spec: str, known: Mapping[str, ClientSet]) -> ClientSet:
    """A set by name, or an ad-hoc one written as pins: `litellm==1.108.7,openai==2.54.0`."""
    if spec in known:
        return known[spec]
    pins = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        package, sep, version = part.partition("==")
        if not sep or not package or not version:
            names = ", ".join(known)
            raise ClientSetError(f"--clients {spec!r}: not a known set ({names}) nor pins like litellm==1.108.7")
        pins[canonicalize_name(package)] = version
    name = "+".join(f"{p}-{v}" for p, v in sorted(pins.items()))
    try:
        return ClientSet(name=name, title="pins given on the command line", pins=pins)
    except ValidationError as exc:
        raise ClientSetError(exc.errors()[0]["msg"]) from None


@dataclass
class Environment:
    """A built client-set environment."""

    client_set: ClientSet
    root: Path
    requirements: str  # what was installed (a lock's text)
    built_s: float = 0.0  # seconds this call spent building (0: it was cached)
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"


def envs_root(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get(ENVS_ENV) or PROJECT_ROOT / ".envs")


def _uv(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "uv", *args], cwd=cwd, capture_output=True, text=True, check=False)


def _resolution_cache(client_set: ClientSet, cache_dir: Path) -> tuple[Path, str]:
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    overrides = "".join(f"{package}=={version}\n" for package, version in sorted(client_set.pins.items()))
    key = hashlib.sha256((pyproject + overrides + sys.version).encode()).hexdigest()[:16]
    return cache_dir / "resolved" / f"{client_set.name}-{key}.txt", overrides


def resolve(client_set: ClientSet, cache_dir: Path, offline: bool = False) -> str:
    """The exact requirements of a set: its lock's text, or its pins resolved over pyproject.toml
    (cached by the pins and pyproject's text: resolving asks the registry, which `offline` forbids)."""
    if client_set.lock:
        return (PROJECT_ROOT / client_set.lock).read_text(encoding="utf-8")
    cached, overrides = _resolution_cache(client_set, cache_dir)
    if cached.is_file():
        return cached.read_text(encoding="utf-8")
    if offline:
        raise ClientSetError(f"client set {client_set.label} was never resolved here (run scripts/bootstrap)")
    cached.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        override_file = Path(scratch) / "overrides.txt"
        override_file.write_text(overrides, encoding="utf-8")
        python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
        done = _uv(
            "pip", "compile", "pyproject.toml", "--extra", "dev", "--overrides", str(override_file),
            "--python-version", python_version, "--no-header", "--quiet",
            cwd=PROJECT_ROOT,
        )  # fmt: skip
    if done.returncode != 0 or not done.stdout.strip():
        raise ClientSetError(f"client set {client_set.label} cannot be resolved: {_last_lines(done.stderr)}")
    cached.write_text(done.stdout, encoding="utf-8")
    return done.stdout


def build(client_set: ClientSet, root: Path | None = None, progress: Any = None) -> Environment:
    """The set's environment, built if it is not in the cache yet."""
    root = root or envs_root()
    requirements = resolve(client_set, root)
    key = hashlib.sha256((requirements + sys.version).encode()).hexdigest()[:16]
    env_dir = root / f"{client_set.name}-{key}"
    environment = Environment(client_set, env_dir, requirements)
    if (env_dir / ".ready").is_file():
        environment.versions = installed_versions(environment.python)
        return environment
    if progress:
        progress(f"building the environment of client set {client_set.label} in {env_dir}")
    started = time.perf_counter()
    shutil.rmtree(env_dir, ignore_errors=True)
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    wanted = env_dir.with_name(f".{env_dir.name}.requirements.txt")
    wanted.write_text(requirements, encoding="utf-8")
    python = str(env_dir / "bin" / "python")
    steps = (
        ("venv", "--quiet", "--python", sys.executable, str(env_dir)),
        # --compile-bytecode: each process imports LiteLLM from here; without .pyc it compiles it again
        ("pip", "install", "--quiet", "--compile-bytecode", "--python", python, "-r", str(wanted)),
        ("pip", "install", "--quiet", "--python", python, "--no-deps", "-e", str(PROJECT_ROOT)),
    )
    try:
        for step in steps:
            done = _uv(*step)
            if done.returncode != 0:
                shutil.rmtree(env_dir, ignore_errors=True)
                raise ClientSetError(f"client set {client_set.label} cannot be installed: {_last_lines(done.stderr)}")
    finally:
        wanted.unlink(missing_ok=True)
    (env_dir / ".ready").write_text(requirements, encoding="utf-8")
    environment.built_s = round(time.perf_counter() - started, 2)
    environment.versions = installed_versions(environment.python)
    return environment


def built(client_set: ClientSet, root: Path | None = None) -> Environment | None:
    """The set's environment if it is built already — without asking the registry (for the tests)."""
    root = root or envs_root()
    try:
        requirements = resolve(client_set, root, offline=True)
    except ClientSetError:
        return None
    key = hashlib.sha256((requirements + sys.version).encode()).hexdigest()[:16]
    env_dir = root / f"{client_set.name}-{key}"
    if not (env_dir / ".ready").is_file():
        return None
    return Environment(client_set, env_dir, requirements)


def installed_versions(python: Path) -> dict[str, str]:
    """The client versions an environment holds, as the harness itself reports them."""
    code = "import json; from conformance.results import client_versions; print(json.dumps(client_versions()))"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ClientSetError(f"{python}: cannot read its client versions: {_last_lines(done.stderr)}")
    import json

    return json.loads(done.stdout)


def _last_lines(text: str, count: int = 6) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:]) or "(no output)"
