"""Run one agent CLI on one task: a throw-away workspace and home, its configuration written as its
documentation says, its requests through the cell's relay, and nothing else within reach.

The agent gets a fresh HOME (and XDG folders) inside a temporary folder, so neither the user's own
configuration nor earlier runs leak in; telemetry and update checks are off by the agent's own switches
(data/agents.yaml); HTTP(S)_PROXY point at a closed loopback port, so whatever honours them reaches
nothing, with NO_PROXY letting the relay through. This is containment by configuration, not a sandbox:
the relay's record shows every request that reached an endpoint.

The run is bounded (`limit_s`) because an agent can loop: past it the process group is killed and the
run says after how long. The limit is a guard against a stuck program, generous next to the idle limit,
never a measure of speed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from conformance.agents.outputs import AgentOutput, read_output
from conformance.agents.specs import AgentSpec, installed_version, program
from conformance.observation import AgentRun
from conformance.secrets import SCRUBBER
from conformance.triggers import with_marker

CLOSED_PORT_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens there on these machines
STDERR_TAIL = 2000
PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "TERM", "TZ", "SYSTEMROOT")


@dataclass(frozen=True)
class AgentTaskRun:
    """What `run_task` hands back: the agent's own account and the harness's view from outside."""

    output: AgentOutput
    facts: AgentRun


def run_task(
    spec: AgentSpec,
    *,
    relay: str,
    endpoint: str,
    key: str,
    model: str,
    files: dict[str, str],
    creates: tuple[str, ...],
    limit_s: float,
    requests: Callable[[], int],  # the relay's count so far
    fault: str | None = None,
) -> AgentTaskRun:
    """Lay out the workspace (`files`), configure and run the agent, and report. `fault`: a double fault
    the scenario provokes, as a marker at the end of the prompt (the agent carries it to the double as
    any client carries the marker in its last user message)."""
    root = Path(tempfile.mkdtemp(prefix="zai_agent_"))
    workspace, home = root / "workspace", root / "home"
    try:
        workspace.mkdir()
        home.mkdir()
        (root / "tmp").mkdir()
        for name, text in files.items():
            (workspace / name).write_text(text, encoding="utf-8")
        values = {
            "relay": relay,
            "key": key,
            "model": model,
            "workspace": str(workspace),
            "home": str(home),
            "provider": spec.providers.get(endpoint, ""),
        }
        prompt = spec.prompt.format(**values)
        values["prompt"] = with_marker(prompt, fault) if fault else prompt
        for target, template in spec.files.items():
            path = Path(target.format(**values))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(template.format(**values), encoding="utf-8")
        argv = [str(program(spec)), *(part.format(**values) for part in spec.argv)]
        env = _environment(spec, values, home)
        started = time.monotonic()
        stopped_after: float | None = None
        process = subprocess.Popen(
            argv,
            cwd=workspace,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,  # its own process group: the agent's children go when it is stopped
        )
        try:
            stdout, stderr = process.communicate(timeout=limit_s)
        except subprocess.TimeoutExpired:
            stopped_after = round(time.monotonic() - started, 1)
            _stop(process)
            stdout, stderr = process.communicate()
        else:
            _stop(process)  # what it left running in its group (a background helper) goes too
        output = read_output(spec.output, stdout)
        facts = AgentRun(
            agent=spec.id,
            version=installed_version(spec),
            exit_code=None if stopped_after is not None else process.returncode,
            requests=requests(),
            steps=output.steps,
            created=[name for name in creates if (workspace / name).is_file()],
            stderr=SCRUBBER.text(stderr.strip()[-STDERR_TAIL:]) or None,
            stopped_after_s=stopped_after,
        )
        return AgentTaskRun(output, facts)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _environment(spec: AgentSpec, values: dict[str, str], home: Path) -> dict[str, str]:
    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        # the agent's temporary files go with the run: opencode (a Bun program) unpacks a 5.5 MB native
        # library into the temporary folder at every start and never removes it
        TMPDIR=str(home.parent / "tmp"),
        HTTP_PROXY=CLOSED_PORT_PROXY,
        HTTPS_PROXY=CLOSED_PORT_PROXY,
        http_proxy=CLOSED_PORT_PROXY,
        https_proxy=CLOSED_PORT_PROXY,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        CI="true",
        NO_COLOR="1",
    )
    env.update({name: value.format(**values) for name, value in spec.env.items()})
    return env


def _stop(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # it and its group are gone already
        os.killpg(process.pid, signal.SIGKILL)
