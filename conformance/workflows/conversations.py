"""Recorded-conversation scenarios, derived from a corpus of real recordings rather than written by hand.

`zai-conformance conversations CORPUS_DIR` reads a corpus folder holding an archive of go-vcr cassettes
and its `SOURCES.tsv` (crush's: tests/fixtures/zai-recordings/crush/) and writes the catalogue's
conversations file (conformance/data/conversations.yaml). Each scenario is one agent conversation as the
recording holds it: the requests to Z.AI that offered tools, in order (a side request such as crush's
title generation is a conversation of its own, and other hosts the agent's tools fetched are not Z.AI
traffic). What each turn must give a client is read from Z.AI's recorded answer with the harness's own
wire reader (conformance/wire), never from a client: its finish reason, the tools it called in order,
whether reasoning and text arrived.

Which recordings become scenarios: every generation (`--per all`, the default and the packaged set:
every cell a real recording can back is backed), the newest of each test in each calendar month
(`--per month`: the eras of Z.AI's wire at a quarter of the cells), or the newest of each test
(`--per newest`). A side request (crush's title) is kept like a test, but at most once per month; an
error Z.AI really sent (a refused key, a gateway's 502) becomes a single-turn scenario expecting that
error, the newest of each kind.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from conformance.checks.errors import classify
from conformance.corpora.archive import archive_members, is_archive
from conformance.corpora.members import MemberRef, Source, member_interactions, sources
from conformance.observation import ErrorInfo
from conformance.wire import read_answer

ZAI_HOST = "api.z.ai"
# The agent's own requests without tools (crush asks a small model for a conversation's title): one
# kind of conversation whatever test made it, kept once per period like a test's.
SIDE_REQUEST = "side_request"
ENDPOINTS = {"/api/coding/paas/v4/": "coding", "/api/paas/v4/": "general"}
# A recorded error is one answer. Behind the proxy it meets the proxy's router, which retries and then
# cools the deployment down for a while: the retries would ask for answers nobody recorded, and the
# cool-down would answer the next cells itself. The double's error cells show what the proxy does.
PROXY_NOT_FOR = {
    "paths": ["proxy-*"],
    "why": "a recorded error is one answer; the proxy's router retries it and cools its deployment down "
    "(the double's error cells show the proxy's behaviour)",
}
HEADER = """\
# Recorded-conversation scenarios: real agent conversations with Z.AI, replayed turn by turn through
# every OpenAI-protocol client path. Written by `zai-conformance conversations {corpus} --per {per}`;
# do not edit by hand — change the corpus or the command. Each turn's expectation is what Z.AI's
# recorded answer holds (finish reason, tools called in order, reasoning and text present).
"""


@dataclass(frozen=True)
class Conversation:
    """One conversation found in a recording: where, when, and what each turn's answer held."""

    ref: MemberRef
    source: Source
    endpoint: str
    model: str
    test: str  # the recording's file name without suffix (crush's test case)
    expect: tuple[dict[str, Any], ...]

    @property
    def month(self) -> str:
        return self.source.date[:7]

    @property
    def is_error(self) -> bool:
        return self.test.startswith("error_")

    @property
    def kind(self) -> str:
        """What `chosen` keeps one of per period: a test's conversation, a side request, an error."""
        return self.test if not self.is_error else f"{self.test} {self.model}"

    def scenario_id(self, dated: bool) -> str:
        """`crush-<test>` for the newest recording of a test, `crush-<test>-<yymmdd>` for older ones;
        a recorded error is `recorded-<status>[-<code>]-<model>` (Z.AI refused each model's request on its
        own), so globs over `crush-*` name the conversations alone."""
        project = self.source.project.rsplit("/", 1)[-1]
        test = f"{project}-{self.test}" if not self.is_error else f"recorded-{self.test[6:]}-{self.model}"
        name = re.sub(r"[^a-z0-9]+", "-", test.lower()).strip("-")
        date = self.source.date
        return f"{name}-{date[2:4]}{date[5:7]}{date[8:10]}" if dated else name

    def title(self) -> str:
        project, date = self.source.project, self.source.date[:10]
        if self.is_error:
            answer = "/".join(self.test.split("_")[1:])
            return f"Z.AI's real {answer} answer to a {project} request ({self.model}), recorded {date}"
        if self.test == SIDE_REQUEST:
            return f"a {project} side request without tools ({self.model}: a title), recorded {date}"
        return f"{self.test.replace('_', ' ')} — a {project} agent conversation recorded {date}"


def find_conversations(archive: Path, relative_to: Path) -> list[Conversation]:
    """Every agent conversation in the archive's cassettes (requests to Z.AI that offer tools, all
    answered), with the archive named relative to `relative_to` (the conversations file's folder)."""
    table = sources(archive)
    found = []
    for member in archive_members(archive, Path(".")):
        name = member.relative.as_posix()
        if not name.endswith((".yaml", ".yml")) or name not in table:
            continue
        interactions = list(enumerate(member_interactions(archive, name)))
        turns = [(i, raw) for i, raw in interactions if _agent_turn(raw)]
        if turns and all(_status(raw) == 200 for _, raw in turns):
            found += _conversation(archive, relative_to, name, table[name], turns, Path(name).stem)
        for i, raw in interactions:
            if _zai_request(raw) is None:
                continue
            if _status(raw) != 200:  # every refusal or failure Z.AI really sent: one error turn each
                found += _conversation(archive, relative_to, name, table[name], [(i, raw)], _error_name(raw))
            elif not _agent_turn(raw):  # a side request of the agent's (crush's title), answered
                found += _conversation(archive, relative_to, name, table[name], [(i, raw)], SIDE_REQUEST)
    return found


def _conversation(
    archive: Path, relative_to: Path, name: str, source: Source, turns: list[tuple[int, Any]], test: str
) -> list[Conversation]:
    first = _zai_request(turns[0][1]) or {}
    url = str(turns[0][1]["request"]["url"])
    endpoint = next((e for marker, e in ENDPOINTS.items() if marker in url), None)
    if endpoint is None:
        return []
    ref = MemberRef(_relative(archive, relative_to), name, tuple(i for i, _ in turns))
    expect = tuple(_expectation(raw) for _, raw in turns)
    return [Conversation(ref, source, endpoint, str(first.get("model")), test, expect)]


def chosen(conversations: Iterable[Conversation], per: str) -> list[Conversation]:
    """Which recordings become scenarios. A test's conversation: the newest (per: newest), the newest in
    each month (per: month), or every recorded generation (per: all). A side request: like a test's,
    but at most one per month whatever test made it. A kind of error: the newest only."""
    best: dict[tuple[str, ...], Conversation] = {}
    every: list[Conversation] = []
    for conversation in conversations:
        if per == "all" and not conversation.is_error and conversation.test != SIDE_REQUEST:
            every.append(conversation)
            continue
        monthly = per != "newest" and not conversation.is_error
        key = (conversation.test, conversation.model) + ((conversation.month,) if monthly else ())
        if key not in best or conversation.source.date > best[key].source.date:
            best[key] = conversation
    return sorted([*every, *best.values()], key=lambda c: (c.test, c.source.date, c.ref.member))


def scenarios(conversations: list[Conversation], per: str) -> list[dict[str, Any]]:
    """The conversations file's entries; the newest of each test carries the plain name, an older one
    its date, and one of several recorded on the same day its commit too (`…-251204-1a86559`)."""
    newest = {(c.test, c.model): c for c in sorted(conversations, key=lambda c: c.source.date)}
    ids = [c.scenario_id(per != "newest" and newest[(c.test, c.model)] is not c) for c in conversations]
    taken = Counter(ids)
    entries = []
    for conversation, scenario_id in zip(conversations, ids, strict=True):
        source = conversation.source
        entries.append(
            {
                "id": scenario_id if taken[scenario_id] == 1 else f"{scenario_id}-{source.commit[:7]}",
                "title": conversation.title(),
                "stream": True,
                "endpoints": [conversation.endpoint],
                "models": [conversation.model],
                "recorded": {
                    "evidence": str(conversation.ref),
                    "source": f"{source.project} {source.path} at {source.commit[:12]} ({source.license})",
                    "recorded": source.date[:10],
                },
                "expect": list(conversation.expect),
                **({"not_for": [PROXY_NOT_FOR]} if conversation.is_error else {}),
                "source": f"https://github.com/{source.project}/blob/{source.commit}/{source.path}",
            }
        )
    return entries


def write(entries: list[dict[str, Any]], out: Path, corpus: str, per: str) -> None:
    repeated = sorted(name for name, count in Counter(e["id"] for e in entries).items() if count > 1)
    if repeated:  # the catalogue would refuse the file: say so before writing it
        raise ValueError(f"scenario ids repeated: {', '.join(repeated)}")
    text = HEADER.format(corpus=corpus, per=per)
    text += yaml.safe_dump({"scenarios": entries}, sort_keys=False, allow_unicode=True, width=120)
    out.write_text(text, encoding="utf-8")


def _zai_request(raw: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON body of a chat request to Z.AI, or None (another host, or no JSON object)."""
    request = raw.get("request") or {}
    if ZAI_HOST not in str(request.get("url") or ""):
        return None
    try:
        body = json.loads(request.get("body") or "")
    except ValueError:
        return None
    return body if isinstance(body, dict) and body.get("messages") else None


def _agent_turn(raw: dict[str, Any]) -> bool:
    body = _zai_request(raw)
    return body is not None and bool(body.get("tools"))


def _error_name(raw: dict[str, Any]) -> str:
    """`error_<status>[_<code>]`: one scenario per kind of error Z.AI really sent."""
    response = raw.get("response") or {}
    answer = read_answer(int(response.get("code") or 0), str(response.get("body") or ""))
    return "_".join(["error", str(response.get("code")), *([answer.error_code] if answer.error_code else [])])


def _status(raw: dict[str, Any]) -> int | None:
    return (raw.get("response") or {}).get("code")


def _expectation(raw: dict[str, Any]) -> dict[str, Any]:
    """What a client must make of this recorded answer, read by the harness's own wire reader: for an
    error, the status and business code a user must be able to read from the exception, and what the
    error means for them (protocol.py's classes: their fault, their account, or retry)."""
    response = raw["response"]
    headers = {str(k): v if isinstance(v, list) else [v] for k, v in (response.get("headers") or {}).items()}
    answer = read_answer(int(response["code"]), str(response.get("body") or ""), headers, str(raw["request"]["url"]))
    if answer.status != 200:
        error: dict[str, Any] = {"status": answer.status}
        if answer.error_code:
            error["code"] = answer.error_code
        info = ErrorInfo(exception="", message="", status=answer.status, code=answer.error_code)
        error["verdict"] = classify(info, sent=True)[0].value
        return {"error": error}
    expect: dict[str, Any] = {"finish_reason": answer.finish_reason}
    if answer.text and answer.text.strip():
        expect["text"] = True
    if answer.reasoning and answer.reasoning.strip():
        expect["reasoning"] = True
    if answer.tool_calls:
        expect["tool_calls"] = [call.name for call in answer.tool_calls]
    return expect


def _relative(archive: Path, folder: Path) -> Path:
    return Path(os.path.relpath(archive.resolve(), folder.resolve()))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's options, shared by `zai-conformance conversations` and this module's `main`."""
    parser.add_argument("corpus", help="a corpus folder: a .tar.xz of go-vcr cassettes and its SOURCES.tsv")
    parser.add_argument(
        "--per",
        choices=("newest", "month", "all"),
        default="all",
        help="which recordings of each test: every one (default), the newest of each month, or the newest",
    )
    parser.add_argument(
        "--out", metavar="FILE", default=None, help="default: the packaged conformance/data/conversations.yaml"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="zai-conformance conversations", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    from conformance.catalogue import DEFAULT_CATALOGUE

    out = Path(args.out) if args.out else Path(str(DEFAULT_CATALOGUE)).parent / "conversations.yaml"
    archives = sorted(p for p in Path(args.corpus).rglob("*") if p.is_file() and is_archive(p))
    if not archives:
        parser.error(f"{args.corpus}: no corpus archive (*.tar.xz) in this folder")
    found = [c for archive in archives for c in find_conversations(archive, out.parent)]
    picked = chosen(found, args.per)
    write(scenarios(picked, args.per), out, args.corpus, args.per)
    print(f"{len(found)} conversations found, {len(picked)} written to {out} (one per test, per {args.per})")
    return 0
