"""An agent's own CLI as a client path: Claude Code, Codex CLI, opencode, crush (data/agents.yaml).

Unlike the library paths, the harness does not write the requests: the agent does, from a task given in
its own words. The cell's one turn stands for the agent's whole run — its last answer to its user as
the turn's text, the failure it reported as the turn's error, and `Turn.agent` for what the harness saw
from outside (exit, requests sent, files the task left). Every request it made crossed the cell's relay
(conformance/agents/relay.py) and is in the cell's exchanges, recorded, replayed or served by the double
like any other client's; checks/agent.py judges both.

An agent that cannot run on this machine (not installed, or a package without its program) is SKIPPED
with the reason, before anything starts.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from conformance.agents.launch import run_task
from conformance.agents.relay import Relay
from conformance.agents.specs import AgentSpec, agents, unavailable
from conformance.catalogue import Catalogue, ClientPathSpec, Scenario, endpoint_for
from conformance.observation import ErrorInfo, Turn
from conformance.paths.base import NO_CALL_OPTIONS, CallOptions, ClientPath, PathOptions, Target
from conformance.secrets import SCRUBBER

# An agent's run may last this long before it is stopped as stuck: twenty idle limits, and never under ten
# minutes — agents back off between retries (Claude Code spends three minutes retrying a 429 before it
# gives up), and that is behaviour to observe, not to cut short.
LIMIT_FACTOR = 20
LIMIT_FLOOR_S = 600.0
_STATUS = re.compile(r"\b([45]\d\d)\b")
_CODE = re.compile(r"\b(1[0-9]{3})\b")


class AgentOptions(PathOptions):
    agent: str


class AgentPath(ClientPath):
    Options: ClassVar[type[PathOptions]] = AgentOptions
    replays_evidence: ClassVar[bool] = False

    def __init__(self, spec: ClientPathSpec, target: Target, *, endpoint: str, options: CallOptions) -> None:
        super().__init__(spec, target, options=options)
        self.endpoint = endpoint  # the catalogue endpoint the target stands for: an agent's provider follows it

    @classmethod
    def build(
        cls, spec: ClientPathSpec, target: Target, *, catalogue: Catalogue, options: CallOptions = NO_CALL_OPTIONS
    ) -> AgentPath:
        return cls(spec, target, endpoint=endpoint_for(catalogue, target.base_url).id, options=options)

    @classmethod
    def unavailable(cls, spec: ClientPathSpec) -> str | None:
        return unavailable(_spec(cls.options_of(spec).agent))

    @property
    def agent(self) -> AgentSpec:
        return _spec(self.config.agent)

    def run(self, scenario: Scenario, first_request: dict[str, Any]) -> list[Turn]:
        task = scenario.agent
        if task is None:
            raise ValueError(f"scenario {scenario.id!r} gives an agent no task (`agent:`)")
        relay = Relay(
            self.target.base_url, idle_timeout=self.target.idle_timeout, connect_timeout=self.target.connect_timeout
        )
        with relay:
            provoke = scenario.provoke
            fault = provoke.fault if provoke is not None and provoke.via == "marker" else None
            outcome = run_task(
                self.agent,
                fault=fault,
                relay=relay.base_url,
                endpoint=self.endpoint,
                key=self.target.api_key,
                model=first_request["model"],
                files=dict(task.files),
                creates=task.creates,
                limit_s=max(LIMIT_FLOOR_S, self.target.idle_timeout * LIMIT_FACTOR),
                requests=lambda: relay.requests,
            )
        output, facts = outcome.output, outcome.facts
        error = None
        if output.error is not None or facts.exit_code not in (0, None) or facts.stopped_after_s is not None:
            error = _error(output.error, facts.exit_code, facts.stopped_after_s)
        return [Turn(index=0, text=output.answer, error=error, agent=facts)]

    def send(self, index: int, body: dict[str, Any]) -> tuple[Turn, Any]:
        raise NotImplementedError("an agent writes its own requests: AgentPath.run drives the whole task")


def _spec(agent: str) -> AgentSpec:
    known = agents()
    if agent not in known:
        raise LookupError(f"no agent {agent!r} in conformance/data/agents.yaml (known: {', '.join(known)})")
    return known[agent]


def _error(reported: str | None, exit_code: int | None, stopped_after: float | None) -> ErrorInfo:
    """The agent's failure as an ErrorInfo: its own words, with the HTTP status and Z.AI code they quote."""
    if stopped_after is not None:
        message = f"the agent was still running after {stopped_after:.0f} s and was stopped"
        return ErrorInfo(exception="agent.Stopped", message=message, timeout=True)
    message = SCRUBBER.text(reported or f"the agent exited with status {exit_code} and reported nothing")[:2000]
    status = _STATUS.search(message)
    code = _CODE.search(message)
    return ErrorInfo(
        exception="agent.Failed",
        message=message,
        status=int(status.group(1)) if status else None,
        code=code.group(1) if code else None,
    )
