"""The report's Agents section: per agent CLI, the configuration to copy, what its cells found, and what
the common wrong configurations get.

The configurations and the wrong ones are reference text kept with the agents (data/agents.yaml); the
verdicts, what each agent sent and why a cell did not run come from the run's own cells. An agent's
path in the catalogue is `agent-<its id>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance.agents.specs import agents

SENDS = "agent_sends"


@dataclass(frozen=True)
class AgentCell:
    id: str
    verdict: str
    as_expected: bool | None
    reason: str


@dataclass(frozen=True)
class AgentView:
    id: str
    title: str
    package: str
    version: str
    endpoint: str
    docs: str
    known_good: str
    wrong: tuple[str, ...]
    cells: tuple[AgentCell, ...]
    sends: str | None  # what the agent put on the wire, from its first judged cell


def agent_views(document: dict[str, Any]) -> list[AgentView]:
    """One view per agent that has a cell in this run (none: the selection left the agents out)."""
    views = []
    for spec in agents().values():
        records = [cell for cell in document["cells"] if cell.get("path") == f"agent-{spec.id}"]
        if not records:
            continue
        cells = tuple(
            AgentCell(cell["cell"], cell["verdict"], cell.get("as_expected"), (cell.get("reasons") or [""])[0])
            for cell in records
        )
        sends = next(
            (f["message"] for cell in records for f in cell.get("findings") or [] if f.get("check") == SENDS), None
        )
        sends = sends.removeprefix("sends ") if sends else None
        views.append(
            AgentView(
                id=spec.id,
                title=spec.title,
                package=spec.package,
                version=spec.version,
                endpoint=spec.endpoint,
                docs=spec.docs,
                known_good=spec.known_good.rstrip(),
                wrong=spec.wrong,
                cells=cells,
                sends=sends,
            )
        )
    return views
