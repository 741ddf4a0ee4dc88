"""The agents' own CLIs (Claude Code, Codex CLI, opencode, crush) as client paths: what each is and how it
is launched (specs.py, data/agents.yaml), one run of it on a task (launch.py), the relay its requests
cross into the recording layer (relay.py) and the reading of its output (outputs.py). paths/agent.py
drives them; checks/agent.py judges a run."""
