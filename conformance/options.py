"""The options of a conformance run, declared once for both front doors: `zai-conformance run --cell …`
and `pytest suites --zai-cell …`. The CLI passes its options on to pytest under their `--zai-` names."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunOption:
    name: str  # CLI spelling without dashes, e.g. "base-url"; pytest: --zai-base-url
    help: str
    session_kwarg: str  # the ConformanceSession.from_options parameter it feeds
    flag: bool = False
    repeat: bool = False
    metavar: str | None = None
    type: Any = None

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    @property
    def pytest_flag(self) -> str:
        return f"--zai-{self.name}"

    def add_to(self, add_argument: Any, flag: str) -> None:
        if self.flag:
            add_argument(flag, action="store_true", help=self.help)
        elif self.repeat:
            add_argument(flag, action="append", default=[], metavar=self.metavar, help=self.help)
        else:
            add_argument(flag, metavar=self.metavar, type=self.type, help=self.help)


RUN_OPTIONS = (
    RunOption("live", "call the real endpoints with ZAI_API_KEY and record each cell", "live", flag=True),
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


def add_pytest_options(group: Any) -> None:
    for option in RUN_OPTIONS:
        option.add_to(group.addoption, option.pytest_flag)


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
