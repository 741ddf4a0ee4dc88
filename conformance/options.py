"""The options of a conformance run, declared once for both front doors: `zai-conformance run --cell …`
and `pytest suites --zai-cell …`. The CLI passes its options on to pytest under their `--zai-` names.

`--record-mode` and `--block-network` are pytest-recording's words (conformance/recording/modes.py says
what each means here, and why pytest-recording itself is not used). pytest also takes them bare, as
pytest-recording users type them — unless pytest-recording is installed and enabled: then the bare
spellings are its own (two plugins adding one option stop pytest before it starts, and its
--block-network would also refuse the loopback servers every replay needs), and the suites take
`--zai-record-mode` / `--zai-block-network`.
"""

from __future__ import annotations

import argparse
import importlib.util
from dataclasses import dataclass
from typing import Any

from conformance.recording.modes import RecordMode

# pytest-recording: its module, and the names `-p no:NAME` blocks it by (entry point, then module)
PYTEST_RECORDING = "pytest_recording"
PYTEST_RECORDING_PLUGINS = ("recording", "pytest_recording.plugin")


@dataclass(frozen=True)
class RunOption:
    name: str  # CLI spelling without dashes, e.g. "base-url"; pytest: --zai-base-url
    help: str
    session_kwarg: str  # the ConformanceSession.from_options parameter it feeds
    flag: bool = False
    repeat: bool = False
    metavar: str | None = None
    type: Any = None
    choices: tuple[str, ...] | None = None
    bare_in_pytest: bool = False  # pytest also takes it without `zai-` (see bare_spellings_free)

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    @property
    def pytest_flag(self) -> str:
        return f"--zai-{self.name}"

    @property
    def bare_flag(self) -> str:
        return f"--{self.name}"

    def add_to(self, add_argument: Any, *flags: str, dest: str | None = None) -> None:
        named = {"dest": dest} if dest else {}
        if self.flag:
            add_argument(*flags, action="store_true", help=self.help, **named)
        elif self.repeat:
            add_argument(*flags, action="append", default=[], metavar=self.metavar, help=self.help, **named)
        else:
            typed = {"choices": list(self.choices)} if self.choices else {"type": self.type}
            add_argument(*flags, metavar=self.metavar, help=self.help, **typed, **named)


RECORD_MODES = tuple(mode.value for mode in RecordMode)

RUN_OPTIONS = (
    RunOption(
        "live",
        "call the real endpoints with ZAI_API_KEY and record each cell (the same as --record-mode all)",
        "live",
        flag=True,
    ),
    RunOption(
        "record-mode",
        "pytest-recording's record modes: none (replay only, the default), once (record the cells with no "
        "live recording yet, replay the rest), new_episodes (replay each live cassette, record and append "
        "what it lacks), all (record every cell; --live), rewrite (record every cell, replacing its old "
        "cassette whatever the new one holds); recording needs ZAI_API_KEY",
        "record_mode",
        metavar="{" + ",".join(RECORD_MODES) + "}",
        choices=RECORD_MODES,
        bare_in_pytest=True,
    ),
    RunOption(
        "block-network",
        "refuse every connection outside loopback, in any record mode: a cell that would be recorded from "
        "a host outside loopback is SKIPPED, named, not recorded nor answered by the double",
        "block_network",
        flag=True,
        bare_in_pytest=True,
    ),
    RunOption(
        "cell",
        "run only cells whose id (endpoint/model/path/scenario) matches this glob, "
        "e.g. 'coding/glm-4.6/*/chat*'; repeatable",
        "cells",
        repeat=True,
        metavar="PATTERN",
    ),
    RunOption(
        "base-url",
        "aim an endpoint elsewhere, e.g. coding=http://127.0.0.1:8000/api/coding/paas/v4 "
        "(also ZAI_BASE_URL_<ENDPOINT>); repeatable",
        "base_urls",
        repeat=True,
        metavar="ENDPOINT=URL",
    ),
    RunOption(
        "env-file",
        "read the target from a .env file: ZAI_API_KEY / ZAI_BASE_URL / GLM_MODEL (the LiteLLM guide's "
        "standalone project) or LLM_API_KEY / LLM_BASE_URL / LLM_MODEL (OpenHands)",
        "env_file",
        metavar="FILE",
    ),
    RunOption("cassettes", "cassette root (default: cassettes)", "cassettes", metavar="DIR"),
    RunOption("reports", "where results and reports go (default: reports)", "reports", metavar="DIR"),
    RunOption("catalogue", "catalogue file (default: the packaged one)", "catalogue", metavar="FILE"),
    RunOption("expectations", "expectations file (default: the packaged one)", "expectations", metavar="FILE"),
    RunOption(
        "idle-timeout",
        "seconds without a byte before a cell is a HANG (default 10 replay, 120 live)",
        "idle_timeout",
        metavar="SECONDS",
        type=float,
    ),
    RunOption(
        "shard",
        "run only shard I of N of the selected cells (every N-th, from the I-th), e.g. 1/2 — to split "
        "one run across CI jobs; `zai-conformance report A/results.json B/results.json --out DIR` "
        "combines the shards",
        "shard",
        metavar="I/N",
    ),
    RunOption(
        "strict-cassettes",
        "fail a cell's test when its cassette holds recorded interactions the replay never used "
        "(the verdict stays what the evidence says; without this they are evidence warnings)",
        "strict_cassettes",
        flag=True,
    ),
)


def add_cli_options(parser: argparse.ArgumentParser) -> None:
    for option in RUN_OPTIONS:
        option.add_to(parser.add_argument, f"--{option.name}")


def add_pytest_options(group: Any, bare: bool = True) -> None:
    """The run options as pytest options: `--zai-<name>`, and the bare pytest-recording spellings too
    when `bare` (see bare_spellings_free)."""
    for option in RUN_OPTIONS:
        flags = [option.pytest_flag] + ([option.bare_flag] if bare and option.bare_in_pytest else [])
        option.add_to(group.addoption, *flags, dest=f"zai_{option.dest}")


def bare_spellings_free(pluginmanager: Any) -> bool:
    """Whether pytest can take `--record-mode` and `--block-network` bare: only when pytest-recording
    cannot be loaded in this run — not installed, or blocked with `-p no:recording`. Whether it is
    loaded yet cannot be asked: plugins add their options in the order they load, and the second
    plugin to add an option stops pytest with a conflict."""
    if any(pluginmanager.is_blocked(name) for name in PYTEST_RECORDING_PLUGINS):
        return True
    return importlib.util.find_spec(PYTEST_RECORDING) is None


def pytest_argv(args: argparse.Namespace) -> list[str]:
    """The CLI's run options, spelled as the plugin's pytest options."""
    argv: list[str] = []
    for option in RUN_OPTIONS:
        value = getattr(args, option.dest)
        if option.flag:
            argv += [option.pytest_flag] if value else []
        elif option.repeat:
            for item in value:
                argv += [option.pytest_flag, item]
        elif value is not None:
            argv += [option.pytest_flag, str(value)]
    return argv


def session_kwargs(getoption: Any) -> dict[str, Any]:
    """ConformanceSession.from_options keywords from pytest's parsed options."""
    return {option.session_kwarg: getoption(f"zai_{option.dest}") for option in RUN_OPTIONS}


def any_given(getoption: Any) -> bool:
    """Whether any run option was given. A 0 counts (`--zai-idle-timeout 0` is a value to refuse,
    not an absent one); None, False and [] are the defaults."""
    return any(_given(getoption(f"zai_{option.dest}")) for option in RUN_OPTIONS)


def _given(value: Any) -> bool:
    return value is not None and value is not False and value != []
