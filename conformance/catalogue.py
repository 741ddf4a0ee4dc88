"""The catalogue: endpoints, models, client paths and scenarios, loaded from one YAML file.

Validation happens once, on load, so that a broken entry stops the run with a message that names
the entry and the field — not with a KeyError deep inside a client path twenty minutes later.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from conformance.corpora.members import MemberRef
from conformance.triggers import FAULT_PATTERN
from conformance.yaml_errors import describe_yaml_error

DEFAULT_CATALOGUE = resources.files("conformance") / "data" / "catalogue.yaml"
DEFAULT_SOURCE = "conformance/data/catalogue.yaml"  # how a run names the packaged catalogue
IMAGES = resources.files("conformance") / "data" / "images"

Protocol = Literal["openai", "anthropic", "responses"]
Capability = Literal["tools", "thinking", "vision", "tool_stream", "reasoning_effort"]
_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class CatalogueError(ValueError):
    """A catalogue entry is missing, malformed or refers to something that does not exist."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Endpoint(_Entry):
    id: str = Field(pattern=_ID)
    title: str
    base_url: str
    protocol: Protocol
    auth: Literal["bearer", "x-api-key"]
    # only these models get cells here (default: all) — a door documented for a few models (Responses)
    models: tuple[str, ...] | None = None

    @field_validator("base_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/]+", value):
            raise ValueError(f"must be an absolute http(s) URL, got {value!r}")
        return value.rstrip("/")


class Price(_Entry):
    """Z.AI's list price, USD per million tokens (cached input is billed at its own rate)."""

    input: float = Field(ge=0)
    cached_input: float = Field(ge=0)
    output: float = Field(ge=0)
    source: str = ""

    def of(self, prompt: int, cached: int, completion: int) -> float:
        return ((prompt - cached) * self.input + cached * self.cached_input + completion * self.output) / 1e6


class Model(_Entry):
    id: str = Field(pattern=_ID)
    envelope: Literal[2025, 2026] = 2026
    thinking: Literal["always", "hybrid", "none"]
    reasoning_effort: tuple[str, ...] = ()
    tools: bool
    tool_stream: bool = False
    vision: bool = False
    context_window: int = Field(gt=0)
    max_output: int = Field(gt=0)
    endpoints: tuple[str, ...] | None = None
    price: Price | None = None
    source: str = ""

    @property
    def capabilities(self) -> frozenset[str]:
        caps = {name for name in ("tools", "tool_stream", "vision") if getattr(self, name)}
        if self.thinking != "none":
            caps.add("thinking")
        if self.reasoning_effort:
            caps.add("reasoning_effort")
        return frozenset(caps)


class ClientPathSpec(_Entry):
    id: str = Field(pattern=_ID)
    title: str
    adapter: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    api: Protocol = "openai"  # the style of the client's own API (what the scenario is rendered in)
    protocols: tuple[Protocol, ...]  # the endpoint protocols it reaches on the wire
    clients: tuple[str, ...] = ()
    scenarios: tuple[str, ...] | None = None
    # How this configuration of the client is set up (a LiteLLM provider route, OpenHands' settings, the
    # client behind the proxy…): the adapter's own options, validated by its `Options` model when the
    # path is built (conformance/paths/base.py), so that one adapter serves several catalogue entries.
    options: dict[str, Any] = Field(default_factory=dict)


class Tool(_Entry):
    description: str
    parameters: dict[str, Any]
    strict: bool | None = None

    @field_validator("parameters")
    @classmethod
    def _object_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        if value.get("type") != "object":
            raise ValueError("must be a JSON schema with type: object")
        return value


class Message(_Entry):
    role: Literal["system", "user", "assistant", "tool"]
    content: str
    # an assistant turn's reasoning, sent back in the history (preserved thinking, `clear_thinking: false`)
    reasoning: str | None = None
    # an image shipped in conformance/data/images/, sent inline as a data URL (never fetched)
    image: str | None = Field(default=None, pattern=r"^[\w.-]+\.(png|jpe?g|gif|webp)$")

    @field_validator("image")
    @classmethod
    def _image_exists(cls, value: str | None) -> str | None:
        if value is not None and not (IMAGES / value).is_file():
            raise ValueError(f"no image {value!r} in conformance/data/images/")
        return value


ErrorClass = Literal["FAIL", "BLOCKED", "TRANSIENT", "HANG"]


class ErrorExpectation(_Entry):
    """The error a scenario provokes, as Z.AI sends it: a user should be able to catch it and read its
    HTTP status and business code from the exception, and it belongs to a verdict class (DESIGN.md)."""

    status: int | None = None  # None: no HTTP answer at all (a timeout)
    code: str | None = None  # Z.AI's business code
    verdict: ErrorClass = "FAIL"  # what the error means for a user: their fault, their account, or retry
    # false: the client itself must refuse, sending nothing (a client-side rate limit)
    sent: bool = True


class TurnExpectation(_Entry):
    finish_reason: str | None = None
    text: bool = False
    reasoning: bool | None = None  # True: must arrive; False: must not (thinking disabled); None: either
    tool_calls: tuple[str, ...] = ()
    json_object: bool = False  # the text is a JSON object
    json_schema: str | None = None  # the text is JSON satisfying this catalogue tool's parameter schema
    text_excludes: tuple[str, ...] = ()  # e.g. the stop word that should have cut the text
    error: ErrorExpectation | None = None  # the turn must fail with this error
    models_listed: tuple[str, ...] = ()  # operation models: ids the listing must contain
    embedding_dimensions: int | None = Field(default=None, gt=0)  # operation embeddings: each vector's length
    cost: bool = False  # the client's cost for the answer matches the catalogue's price for its usage
    cost_map: bool = False  # the client's cost-map entry for the model matches the catalogue's limits and prices

    @model_validator(mode="after")
    def _error_alone(self) -> TurnExpectation:
        answered = self.finish_reason or self.text or self.reasoning or self.tool_calls or self.json_object
        if self.error is not None and (answered or self.json_schema or self.text_excludes):
            raise ValueError("a turn that expects an error expects nothing else of the answer")
        return self


class When(_Entry):
    """Which cells an alternative expectation applies to; every given field must match."""

    endpoint: tuple[str, ...] | None = None
    model: tuple[str, ...] | None = None
    thinking: tuple[Literal["always", "hybrid", "none"], ...] | None = None

    def matches(self, endpoint: Endpoint, model: Model) -> bool:
        return (
            (self.endpoint is None or endpoint.id in self.endpoint)
            and (self.model is None or model.id in self.model)
            and (self.thinking is None or model.thinking in self.thinking)
        )


class Case(_Entry):
    when: When
    why: str = Field(min_length=1)
    expect: tuple[TurnExpectation, ...] = Field(min_length=1)
    # where the sources disagree on Z.AI's answer: why (with the sources); the double answers what Z.AI
    # documents and the cell says the real answer is unverified until a live run
    unverified: str | None = Field(default=None, min_length=1)


class NotFor(_Entry):
    """Cells of the scenario that exist but cannot run, and why (the report shows the reason)."""

    paths: tuple[str, ...] | None = None  # glob patterns over path ids
    api: Protocol | None = None  # paths whose client API is this style
    why: str = Field(min_length=1)


class Provoke(_Entry):
    """How a scenario makes Z.AI fail. `fault` is a double trigger (a `[double:<fault>]` marker added
    to the last user message) and `key: wrong-plan` needs a key of the other plan: both can only be
    provoked in the double; `key: invalid` and a bogus `model` work on the real Z.AI too."""

    fault: str | None = Field(default=None, pattern=FAULT_PATTERN)
    # marker: in the last user message (every path carries it); header: `X-Double-Fault`, sent only where
    # the path's adapter puts it (a Router's primary deployment, so that its fallback answers)
    via: Literal["marker", "header"] = "marker"
    key: Literal["invalid", "wrong-plan"] | None = None

    @property
    def double_only(self) -> str | None:
        if self.fault is not None:
            return f"the fault {self.fault!r} cannot be provoked on the real Z.AI on demand"
        if self.key == "wrong-plan":
            return "a key of the other plan is needed to provoke 1113 on the real Z.AI"
        return None


STREAM_SUFFIX = "-stream"
STREAM_OPTIONS = {"include_usage": True}  # every streamed scenario asks for usage in the stream


class Streamed(_Entry):
    """A scenario's streamed variant: the loader adds the scenario `<id>-stream`, the same in every field
    but these — stream: true, `stream_options: {include_usage: true}` added to params, its own title
    (and source, when the streamed behaviour is documented elsewhere) — and compares the two cells of
    every endpoint, model and path after the run (conformance/equivalence.py)."""

    title: str = Field(min_length=1)
    source: str | None = None  # default: the scenario's


class Recorded(_Entry):
    """A conversation recorded by another client, replayed turn by turn: each turn's request is the
    recorded one (messages, tools, parameters as that client sent them), so every path is judged on a
    real agent's conversation and on Z.AI's real answers to it. `evidence` names the recorded
    interactions in their corpus archive (corpora/members.py), resolved against the catalogue's folder."""

    # `<archive>.tar.xz/<member>#<interaction>,<interaction>…` (corpora/members.py reads it)
    evidence: str = Field(pattern=r"\.tar\.xz/.+#\d+(,\d+)*$")
    source: str = Field(min_length=1)  # who recorded it, where (project, test file, commit)
    recorded: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")  # on or before this date

    @property
    def turns(self) -> int:
        return len(self.reference.interactions)

    @property
    def reference(self) -> MemberRef:
        ref = MemberRef.parse(self.evidence)
        assert ref is not None  # the field's pattern admits nothing else
        return ref


class AgentTask(_Entry):
    """A small task an agent CLI does in a throw-away workspace (paths/agent.py). Only reading the file
    tells the answer, and only calling a tool writes the file, so a finished task proves the tool round
    trips worked through the agent, not just that a request went out."""

    files: dict[str, str] = Field(min_length=1)  # the workspace before the agent starts: name → text
    answer_contains: str = Field(min_length=1)  # the agent's last answer must say it
    creates: tuple[str, ...] = ()  # files the agent must have written


class Scenario(_Entry):
    id: str = Field(pattern=_ID)
    title: str
    # chat: a conversation; models: `GET /models`; embeddings: `POST /embeddings` with `params`
    operation: Literal["chat", "models", "embeddings"] = "chat"
    stream: bool = False
    streamed: Streamed | None = None  # also run it streamed, as `<id>-stream` (see Streamed)
    # a streamed scenario written out in full: the unstreamed scenario it is compared with (set by the
    # loader on a `streamed` variant; written by hand where the two differ in more than streaming)
    stream_of: str | None = None
    requires: tuple[Capability, ...] = ()
    messages: tuple[Message, ...] = ()
    tools: tuple[str, ...] = ()
    tool_choice: str | dict[str, Any] | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    # what the client takes but must not send to Z.AI (LiteLLM's `metadata`)
    client_params: dict[str, Any] = Field(default_factory=dict)
    timeout: float | None = Field(default=None, gt=0)  # the client's timeout (default: the run's idle limit)
    model: str | None = None  # the model name sent, when it is not the cell's (an unknown model)
    provoke: Provoke | None = None
    tool_results: dict[str, str] = Field(default_factory=dict)
    expect: tuple[TurnExpectation, ...] = Field(min_length=1)
    cases: tuple[Case, ...] = ()  # alternative expectations; the first whose `when` matches wins
    # restrict the matrix: only these models / endpoints / paths (globs) get cells (default: all)
    models: tuple[str, ...] | None = None
    endpoints: tuple[str, ...] | None = None
    paths: tuple[str, ...] | None = None
    # the HTTP requests to Z.AI the scenario makes when the path behaves (a cache hit makes none, a
    # fallback one more); default: one per turn, and more is reported as the path retrying
    requests: int | None = Field(default=None, ge=0)
    not_for: tuple[NotFor, ...] = ()
    source: str = ""  # the doc or issue the scenario follows
    recorded: Recorded | None = None  # a recorded conversation: its turns are the recorded requests
    # the request fields (dotted: `thinking.effort`) that carry a reasoning control the scenario steers
    # with: checks/control.py says what of it reaches Z.AI through each path
    control: tuple[str, ...] = ()
    # the verdict rests on how long Z.AI's generation keeps a stream silent: the double plays that silence
    # where it answers in-process (served, replay); live, only Z.AI itself can (SKIPPED against others)
    paced: bool = False
    unverified: str | None = Field(default=None, min_length=1)  # as Case.unverified, for every cell
    agent: AgentTask | None = None  # a task for an agent CLI's path; its prompt is the agent's (data/agents.yaml)

    @field_validator("params")
    @classmethod
    def _no_reserved_params(cls, value: dict[str, Any]) -> dict[str, Any]:
        reserved = {"model", "messages", "tools", "tool_choice", "stream"} & value.keys()
        if reserved:
            raise ValueError(f"{sorted(reserved)} have their own scenario fields; do not put them in params")
        return value

    @model_validator(mode="after")
    def _turns_consistent(self) -> Scenario:
        if self.recorded is not None:
            return self._recorded_consistent(self.recorded)
        if self.operation == "chat" and not any(m.role == "user" for m in self.messages):
            raise ValueError("a chat scenario needs messages, with at least one user message")
        if self.operation != "chat" and (self.messages or self.stream or self.tools):
            raise ValueError(f"a {self.operation} scenario has no messages, stream or tools")
        if self.streamed is not None and (self.stream or self.operation != "chat"):
            raise ValueError("only an unstreamed chat scenario has a streamed variant (field 'streamed')")
        if self.streamed is not None and "stream_options" in self.params:
            raise ValueError("params.stream_options is the streamed variant's to set; remove it here")
        if self.stream_of is not None and not self.stream:
            raise ValueError("stream_of names the unstreamed twin of a streamed scenario: this one has stream: false")
        turns = 2 if self.tool_results else 1
        alternatives = [(f"cases[{i}].expect", case.expect) for i, case in enumerate(self.cases)]
        for where, expect in [("expect", self.expect), *alternatives]:
            if len(expect) != turns:
                raise ValueError(
                    f"{where} has {len(expect)} turn(s) but the scenario makes {turns} "
                    "(a second turn exists exactly when tool_results is given)"
                )
        return self

    def _recorded_consistent(self, recorded: Recorded) -> Scenario:
        """A recorded conversation brings its own messages, tools and parameters, one request per turn."""
        written = [
            name
            for name in ("messages", "tools", "tool_choice", "params", "tool_results", "streamed")
            if getattr(self, name)
        ]
        if written or self.operation != "chat":
            raise ValueError(f"a recorded conversation takes its requests from the recording; remove {written}")
        turns = recorded.turns
        if len(self.expect) != turns or any(len(case.expect) != turns for case in self.cases):
            raise ValueError(f"expect has {len(self.expect)} turn(s) but the recording holds {turns}")
        return self

    @property
    def turns(self) -> int:
        return len(self.expect)

    def streamed_variant(self) -> Scenario | None:
        """The scenario `<id>-stream` its `streamed` declares, or None."""
        if self.streamed is None:
            return None
        fields = self.model_dump(exclude={"streamed"})
        fields.update(
            id=self.id + STREAM_SUFFIX,
            title=self.streamed.title,
            source=self.streamed.source if self.streamed.source is not None else self.source,
            stream=True,
            params={**fields["params"], "stream_options": dict(STREAM_OPTIONS)},
            stream_of=self.id,
        )
        return Scenario.model_validate(fields)

    def case_for(self, endpoint: Endpoint, model: Model) -> Case | None:
        """The first case whose `when` matches the cell, or None (the scenario's own `expect`)."""
        return next((case for case in self.cases if case.when.matches(endpoint, model)), None)

    def expectations(self, endpoint: Endpoint, model: Model) -> tuple[tuple[TurnExpectation, ...], str | None]:
        """The expectation for a cell: the first matching case's (with its why), else `expect`."""
        case = self.case_for(endpoint, model)
        return (case.expect, case.why) if case is not None else (self.expect, None)

    def unverified_answer(self, endpoint: Endpoint, model: Model) -> str | None:
        """Why Z.AI's answer to this cell is unverified (sources disagree), or None: the first matching
        case decides, as for the expectation."""
        case = self.case_for(endpoint, model)
        return case.unverified if case is not None else self.unverified

    def skip_reason(self, path: ClientPathSpec) -> str | None:
        for rule in self.not_for:
            if rule.api is not None and path.api != rule.api:
                continue
            if rule.paths is not None and not any(fnmatchcase(path.id, pattern) for pattern in rule.paths):
                continue
            return rule.why
        return None


class _CatalogueFile(_Entry):
    endpoints: tuple[Endpoint, ...] = Field(min_length=1)
    models: tuple[Model, ...] = Field(min_length=1)
    paths: tuple[ClientPathSpec, ...] = Field(min_length=1)
    tools: dict[str, Tool] = Field(default_factory=dict)
    scenarios: tuple[Scenario, ...] = Field(min_length=1)
    # a file of recorded-conversation scenarios (written by `zai-conformance conversations`), beside this one
    conversations: str | None = None


class _ConversationsFile(_Entry):
    scenarios: tuple[Scenario, ...] = ()


@dataclass(frozen=True)
class Cell:
    """One endpoint × model × client path × scenario: the unit that gets a verdict."""

    endpoint: Endpoint
    model: Model
    path: ClientPathSpec
    scenario: Scenario
    not_applicable: str | None = None

    @property
    def id(self) -> str:
        return f"{self.endpoint.id}/{self.model.id}/{self.path.id}/{self.scenario.id}"

    @property
    def model_sent(self) -> str:
        """The model name the cell's requests carry (a scenario may name a model that does not exist)."""
        return self.scenario.model or self.model.id

    @property
    def expect(self) -> tuple[TurnExpectation, ...]:
        return self.scenario.expectations(self.endpoint, self.model)[0]


class Catalogue:
    """The validated catalogue, with lookups by id and the list of cells it implies."""

    def __init__(self, data: _CatalogueFile, source: str) -> None:
        self._data = data
        self.source = source

    endpoints = property(lambda self: self._data.endpoints)
    models = property(lambda self: self._data.models)
    paths = property(lambda self: self._data.paths)
    tools = property(lambda self: self._data.tools)
    scenarios = property(lambda self: self._data.scenarios)  # with every streamed variant, after its scenario

    @property
    def stream_twins(self) -> dict[str, str]:
        """Streamed scenario id → the unstreamed scenario it is compared with (conformance/equivalence.py)."""
        return {scenario.id: scenario.stream_of for scenario in self.scenarios if scenario.stream_of is not None}

    def endpoint(self, endpoint_id: str) -> Endpoint:
        return _by_id(self.endpoints, endpoint_id, "endpoint")

    def model(self, model_id: str) -> Model:
        return _by_id(self.models, model_id, "model")

    def path(self, path_id: str) -> ClientPathSpec:
        return _by_id(self.paths, path_id, "path")

    def scenario(self, scenario_id: str) -> Scenario:
        return _by_id(self.scenarios, scenario_id, "scenario")

    @cached_property
    def cells(self) -> tuple[Cell, ...]:
        return tuple(self._iter_cells())

    def cell(self, cell_id: str) -> Cell:
        for cell in self.cells:
            if cell.id == cell_id:
                return cell
        raise CatalogueError(f"no cell {cell_id!r} in {self.source}")

    def _iter_cells(self) -> Iterator[Cell]:
        """Every cell a path could run. Paths are only paired with endpoints of their protocol: an
        OpenAI-protocol client aimed at the Anthropic surface is not a cell, it is a category error.
        Capability gaps do make cells — SKIPPED, with the reason — so the matrix shows them."""
        for endpoint in self.endpoints:
            for model in self.models:
                if model.endpoints is not None and endpoint.id not in model.endpoints:
                    continue
                if endpoint.models is not None and model.id not in endpoint.models:
                    continue
                for path in self.paths:
                    if endpoint.protocol not in path.protocols:
                        continue
                    for scenario in self.scenarios:
                        if path.scenarios is not None and scenario.id not in path.scenarios:
                            continue
                        if scenario.models is not None and model.id not in scenario.models:
                            continue
                        if scenario.endpoints is not None and endpoint.id not in scenario.endpoints:
                            continue
                        if scenario.paths is not None and not any(fnmatchcase(path.id, g) for g in scenario.paths):
                            continue
                        yield Cell(endpoint, model, path, scenario, _not_applicable(model, path, scenario))


def _not_applicable(model: Model, path: ClientPathSpec, scenario: Scenario) -> str | None:
    missing = [cap for cap in scenario.requires if cap not in model.capabilities]
    if missing:
        return f"{model.id} does not support {', '.join(missing)} (catalogue); scenario needs it"
    return scenario.skip_reason(path)


def _by_id(entries: tuple[Any, ...], entry_id: str, kind: str) -> Any:
    for entry in entries:
        if entry.id == entry_id:
            return entry
    known = ", ".join(entry.id for entry in entries)
    raise CatalogueError(f"unknown {kind} {entry_id!r} (known: {known})")


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load and validate the catalogue; raise CatalogueError naming the entry and field at fault."""
    source = str(path) if path is not None else DEFAULT_SOURCE
    try:
        text = Path(path).read_text(encoding="utf-8") if path is not None else DEFAULT_CATALOGUE.read_text()
    except OSError as exc:
        raise CatalogueError(f"cannot read catalogue {source}: {exc.strerror}") from exc
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise CatalogueError(describe_yaml_error(source, exc)) from exc
    if not isinstance(raw, dict):
        raise CatalogueError(f"{source}: expected a mapping with endpoints, models, paths, tools, scenarios")
    try:
        data = _CatalogueFile.model_validate(raw)
    except ValidationError as exc:
        raise CatalogueError(_describe(exc, raw, source)) from None
    if data.conversations is not None:
        folder = Path(path).parent if path is not None else Path(str(DEFAULT_CATALOGUE)).parent
        data = data.model_copy(update={"scenarios": data.scenarios + _conversations(folder, data, source)})
    _check_references(data, source)
    return Catalogue(data.model_copy(update={"scenarios": _with_variants(data.scenarios)}), source)


def _conversations(folder: Path, data: _CatalogueFile, source: str) -> tuple[Scenario, ...]:
    """The recorded-conversation scenarios of the catalogue's `conversations` file. Each runs on every
    path that renders OpenAI-protocol requests itself (not Router recipes) unless it names its paths;
    its evidence is resolved against the file's folder, so a run can start anywhere."""
    file = folder / str(data.conversations)
    where = f"{source}: conversations {file}"
    try:
        raw = yaml.load(file.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except OSError as exc:
        raise CatalogueError(f"{where}: cannot read it ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise CatalogueError(describe_yaml_error(str(file), exc)) from exc
    try:
        loaded = _ConversationsFile.model_validate(raw or {})
    except ValidationError as exc:
        raise CatalogueError(_describe(exc, raw, str(file))) from None
    openai_paths = tuple(p.id for p in data.paths if p.api == "openai" and p.scenarios is None)
    scenarios = []
    for scenario in loaded.scenarios:
        assert scenario.recorded is not None  # a conversations file holds recorded conversations only
        ref = scenario.recorded.reference
        evidence = str(replace(ref, archive=(file.parent / ref.archive).resolve()))
        update: dict[str, Any] = {"recorded": scenario.recorded.model_copy(update={"evidence": evidence})}
        if scenario.paths is None:
            update["paths"] = openai_paths
        scenarios.append(scenario.model_copy(update=update))
    return tuple(scenarios)


def load_named_catalogue(source: str | None) -> Catalogue:
    """The catalogue a run names (its header's `catalogue`): the packaged one under its display name."""
    return load_catalogue(None if source in (None, DEFAULT_SOURCE) else source)


def _with_variants(scenarios: tuple[Scenario, ...]) -> tuple[Scenario, ...]:
    """The scenarios as declared, each followed by its streamed variant if it declares one."""
    expanded: list[Scenario] = []
    for scenario in scenarios:
        variant = scenario.streamed_variant()
        expanded += [scenario] if variant is None else [scenario, variant]
    return tuple(expanded)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses duplicate keys: YAML would silently keep the last one, so a
    second `weather:` tool would quietly replace the first."""


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def _describe(exc: ValidationError, raw: dict[str, Any], source: str) -> str:
    lines = [f"{source}: {exc.error_count()} problem(s)"]
    for error in exc.errors():
        loc = list(error["loc"])
        got = "" if error["type"] == "missing" or isinstance(error["input"], dict) else f" (got {error['input']!r})"
        where = _entry_name(raw, loc)
        message = error["msg"].removeprefix("Value error, ")
        field = f"field '{'.'.join(str(part) for part in loc)}': " if loc else ""
        lines.append(f"  {where}{field}{message}{got}")
    return "\n".join(lines)


def _entry_name(raw: dict[str, Any], loc: list[Any]) -> str:
    """Turn a location like ['models', 3, 'thinking'] into "model 'glm-5' " and shorten loc."""
    if len(loc) >= 2 and isinstance(loc[1], int):
        section = loc[0]
        entries = raw.get(section)
        index = loc[1]
        if isinstance(entries, list) and index < len(entries) and isinstance(entries[index], dict):
            entry_id = entries[index].get("id", f"#{index + 1}")
            del loc[:2]
            return f"{str(section).rstrip('s')} {entry_id!r}: "
    if len(loc) >= 2 and loc[0] == "tools":
        name = loc[1]
        del loc[:2]
        return f"tool {name!r}: "
    return ""


def _check_references(data: _CatalogueFile, source: str) -> None:
    """What one entry cannot check alone: ids unique (streamed variants included) and every reference
    known. The scenarios are checked as declared: a streamed variant refers to what its scenario does."""
    problems: list[str] = []
    variants = {scenario.id + STREAM_SUFFIX: scenario.id for scenario in data.scenarios if scenario.streamed}
    expanded = _with_variants(data.scenarios)
    for section in ("endpoints", "models", "paths", "scenarios"):
        seen: set[str] = set()
        for entry in expanded if section == "scenarios" else getattr(data, section):
            if entry.id in seen:
                declared = variants.get(entry.id) if section == "scenarios" else None
                why = f" (scenario {declared!r} declares it as its streamed variant)" if declared else ""
                problems.append(f"{section[:-1]} {entry.id!r}: duplicate id{why}")
            seen.add(entry.id)
    endpoint_ids = {endpoint.id for endpoint in data.endpoints}
    scenario_ids = {scenario.id for scenario in expanded}
    for model in data.models:
        for endpoint_id in model.endpoints or ():
            if endpoint_id not in endpoint_ids:
                problems.append(f"model {model.id!r}: field 'endpoints': unknown endpoint {endpoint_id!r}")
    for path in data.paths:
        for scenario_id in path.scenarios or ():
            if scenario_id not in scenario_ids:
                problems.append(f"path {path.id!r}: field 'scenarios': unknown scenario {scenario_id!r}")
    model_ids = {model.id for model in data.models}
    unstreamed = {scenario.id for scenario in data.scenarios if not scenario.stream}
    for scenario in data.scenarios:
        if scenario.stream_of is not None and scenario.stream_of not in unstreamed:
            known = "a streamed scenario" if scenario.stream_of in scenario_ids else "unknown scenario"
            problems.append(f"scenario {scenario.id!r}: field 'stream_of': {known} {scenario.stream_of!r}")
        for model_id in scenario.models or ():
            if model_id not in model_ids:
                problems.append(f"scenario {scenario.id!r}: field 'models': unknown model {model_id!r}")
        for endpoint_id in scenario.endpoints or ():
            if endpoint_id not in endpoint_ids:
                problems.append(f"scenario {scenario.id!r}: field 'endpoints': unknown endpoint {endpoint_id!r}")
        for number, case in enumerate(scenario.cases):
            for field, known in (("endpoint", endpoint_ids), ("model", model_ids)):
                for value in getattr(case.when, field) or ():
                    if value not in known:
                        problems.append(
                            f"scenario {scenario.id!r}: field 'cases[{number}].when.{field}': unknown {field} {value!r}"
                        )
        problems += _turn_problems(scenario, data.tools)
        forced = (
            scenario.tool_choice.get("function", {}).get("name") if isinstance(scenario.tool_choice, dict) else None
        )
        if forced is not None and forced not in scenario.tools:
            problems.append(f"scenario {scenario.id!r}: field 'tool_choice': forces {forced!r}, not one of its tools")
        for tool in scenario.tools:
            if tool not in data.tools:
                problems.append(f"scenario {scenario.id!r}: field 'tools': unknown tool {tool!r}")
        for tool in scenario.tool_results:
            if tool not in scenario.tools:
                problems.append(f"scenario {scenario.id!r}: field 'tool_results': {tool!r} is not one of its tools")
        if scenario.tools and scenario.tool_results:
            called = {tool for expectation in scenario.expect for tool in expectation.tool_calls}
            unanswered = called - scenario.tool_results.keys()
            if unanswered:
                problems.append(f"scenario {scenario.id!r}: field 'tool_results': no result for {sorted(unanswered)}")
    if problems:
        raise CatalogueError(f"{source}: {len(problems)} problem(s)\n  " + "\n  ".join(problems))


def _turn_problems(scenario: Scenario, tools: Mapping[str, Tool]) -> list[str]:
    """Tools named by the expected turns — `expect` and every case's alternative — that the scenario
    does not offer (tool_calls) or the catalogue does not define (json_schema). A case applies to some
    cells only, so a typo there would otherwise surface as a wrong verdict on those cells alone. A
    recorded conversation's tools are the ones its recording offered, and its expectations were read
    from the answers to that offer."""
    if scenario.recorded is not None:
        return []
    problems = []
    alternatives = [(f"cases[{number}].expect", case.expect) for number, case in enumerate(scenario.cases)]
    for where, expect in [("expect", scenario.expect), *alternatives]:
        for turn, expectation in enumerate(expect, start=1):
            field = f"scenario {scenario.id!r}: field '{where}[{turn}]"
            for tool in expectation.tool_calls:
                if tool not in scenario.tools:
                    problems.append(f"{field}.tool_calls': {tool!r} is not one of its tools")
            if expectation.json_schema is not None and expectation.json_schema not in tools:
                problems.append(f"{field}.json_schema': unknown tool {expectation.json_schema!r}")
    return problems


class EndpointUnknown(LookupError):
    """A base URL that matches no catalogue endpoint: a path that routes by endpoint (the proxy, an
    agent's provider) cannot tell which to use."""


def endpoint_for(catalogue: Catalogue, base_url: str) -> Endpoint:
    """The catalogue endpoint a (possibly overridden) base URL stands for: the same URL, or — for a
    double or a gateway on another host — the same URL path (`/api/coding/paas/v4` is coding)."""
    wanted = base_url.rstrip("/")
    for endpoint in catalogue.endpoints:
        if endpoint.base_url == wanted:
            return endpoint
    path = urlsplit(wanted).path.rstrip("/")
    for endpoint in catalogue.endpoints:
        if urlsplit(endpoint.base_url).path.rstrip("/") == path:
            return endpoint
    known = ", ".join(f"{e.id} ({urlsplit(e.base_url).path})" for e in catalogue.endpoints)
    raise EndpointUnknown(
        f"base URL {base_url!r} is none of the catalogue's endpoints and its path matches none of theirs "
        f"({known}); the proxy and agent paths need an override that keeps the endpoint's path"
    )
