"""The pure comparison of a real Z.AI response with the double's answer to the same request.

By *shape*, not content, with no client library in between:

- status; content-type (media type and charset, case and spacing normalised);
- JSON: key paths with their value types (arrays merged over their elements), keys one side lacks,
  the values of enum-like fields (`object`, `role`, `type`, `finish_reason`, `stop_reason`, `index`,
  `service_tier`, error `code`), id formats (`^\\d{14}[0-9a-f]{16}$`, `call_-<int>`, `call_<24 hex>`,
  `msg_<14 digits><16 hex>`, 24-hex signatures) and the JSON separator style;
- OpenAI-style SSE, **strict** (the default): the stream's grammar (grammar.py) compared in order —
  the pattern of chunk kinds, so the order of reasoning, content and tool calls, how often they
  alternate, a blank chunk opening a channel, one tool call or several; the opening chunk's
  signature (which fields it carries and how their values look: `role + content:"" +
  reasoning_content:blank` is not `role + reasoning_content:blank`); which chunks carry a
  finish_reason (a tool-call chunk as well as the last one is a different wire) and which carry
  usage; `[DONE]` last; the role on text deltas; key paths/types/values/ids per chunk kind (so
  `object` on chunks, `usage.completion_tokens_details`), separator style;
- OpenAI-style SSE, **lenient** (`strict=False`, the measure before issue 13): runs of delta kinds
  folded and whitespace-only deltas set apart, so the opener, blank separators and alternation go
  unseen; kept to compare with earlier figures;
- Anthropic-style SSE: the event-name sequence (runs folded), key paths/types/values/ids per event
  (and per block or delta type), separator style. A payload the source elided is unknown: nothing
  is read from it but its event name and separators.

What a double can honestly be asked to reproduce, given that it answers with another generation:
everything the wire decides — envelope keys, the opener, the template's separators, the order and
alternation of channels, where finish_reason and usage arrive, id formats. Not what the model
decides: the text, how many tokens it took (a text run is one grammar element however many chunks
it has), where it put newline tokens inside a channel (a blank chunk inside or closing a run of its
channel is absorbed; only a blank chunk that *opens* a channel is grammar), and a blank delta that
only the double sends is not held against it. A double grounded in recordings by model and era can
meet every strict demand; one that cannot is told exactly where it falls short.

What an exchange's exceptions leave out (fidelity.yaml) is not compared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.fidelity import grammar
from conformance.fidelity.corpus.exchange import RealResponse
from conformance.wire.sse import SseEvent, read_events

# A string the source shortened (`...`, `…`): its format says nothing about Z.AI's.
ELISION = re.compile(r"\.\.\.|…")

ENUM_KEYS = frozenset({"object", "role", "type", "finish_reason", "stop_reason", "index", "service_tier", "code"})
ID_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("<14 digits><16 hex>", re.compile(r"^\d{14}[0-9a-f]{16}$")),
    ("msg_<14 digits><16 hex>", re.compile(r"^msg_\d{14}[0-9a-f]{16}$")),
    ("call_-<int>", re.compile(r"^call_-\d+$")),
    ("call_<24 hex>", re.compile(r"^call_[0-9a-f]{24}$")),
    ("<24 hex>", re.compile(r"^[0-9a-f]{24}$")),
)


# --- differences ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    aspect: str  # status | content-type | body-format | key | type | value | id-format | separators | events | …
    where: str  # a key path, a chunk kind, or "" for the whole response
    real: str
    double: str

    def __str__(self) -> str:
        where = f" {self.where}" if self.where else ""
        return f"{self.aspect}{where}: real {self.real} | double {self.double}"


@dataclass
class Observed:
    """What the double answered."""

    status: int
    headers: dict[str, str]  # lower-cased names
    body: str


# --- shapes --------------------------------------------------------------------------------------


def id_format(value: str) -> str:
    for name, pattern in ID_FORMATS:
        if pattern.match(value):
            return name
    shape = re.sub(r"[0-9]", "9", value)
    shape = re.sub(r"[a-f]", "x", shape) if re.fullmatch(r"[0-9a-f_\-]+", value) else shape
    return f"other ({shape[:40]})"


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "array"
    return "object"


def _id_key(key: str) -> bool:
    return key == "id" or key.endswith("_id") or key == "signature"


@dataclass
class Profile:
    """The shape of one JSON document, or of several merged (chunks of one kind, array elements)."""

    types: dict[str, set[str]] = field(default_factory=dict)
    enums: dict[str, set[str]] = field(default_factory=dict)
    ids: dict[str, set[str]] = field(default_factory=dict)

    def add(self, value: Any, path: str = "", opaque: bool = False) -> Profile:
        if path:
            self.types.setdefault(path, set()).add(_type(value))
        if isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                if not opaque:
                    if key in ENUM_KEYS and (item is None or isinstance(item, str | int | bool)):
                        self.enums.setdefault(child, set()).add(json.dumps(item, ensure_ascii=False))
                    if _id_key(key) and isinstance(item, str) and not elided(item):
                        self.ids.setdefault(child, set()).add(id_format(item))
                # A tool's input is the model's own JSON: its keys are compared, its values are content.
                self.add(item, child, opaque or key == "input")
        elif isinstance(value, list):
            for item in value:
                self.add(item, f"{path}[]", opaque)
        return self


def profile(*values: Any) -> Profile:
    merged = Profile()
    for value in values:
        merged.add(value)
    return merged


class _Ignore:
    """The aspects an exchange's exceptions leave out: a difference's aspect (`delta-kinds`), an
    aspect at one place (`placement:finish_reason`), key paths (`path:<glob>`), events (`event:ping`),
    or `ids`, `separators`, `status`, `content-type`, `body`."""

    def __init__(self, ignore: Mapping[str, str]) -> None:
        self.aspects = set(ignore)
        self.paths = [a.removeprefix("path:") for a in ignore if a.startswith("path:")]
        self.events = {a.removeprefix("event:") for a in ignore if a.startswith("event:")}

    def __contains__(self, aspect: str) -> bool:
        return aspect in self.aspects

    def path(self, path: str, prefix: str = "") -> bool:
        return any(_glob(glob).fullmatch(path) or _glob(glob).fullmatch(prefix + path) for glob in self.paths)

    def keeps(self, difference: Difference) -> bool:
        return not {difference.aspect, f"{difference.aspect}:{difference.where}"} & self.aspects


def _glob(pattern: str) -> re.Pattern[str]:
    """`*` matches anything; every other character, brackets included (`[tool_call]`, `[]`), is literal."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def _topmost(paths: Iterable[str]) -> list[str]:
    ordered = sorted(paths)
    chosen = set(ordered)
    return [p for p in ordered if not any(p.startswith((q + ".", q + "[]")) for q in chosen if q != p)]


def _show(values: set[str]) -> str:
    return ", ".join(sorted(values)) if values else "(none)"


def compare_profiles(
    real: Profile, double: Profile, ignore: _Ignore, prefix: str = "", real_partial: bool = False
) -> list[Difference]:
    """Key paths, value types, enum values and id formats. `real_partial`: some real payloads were
    unknown, so keys the double adds cannot be told apart from keys the source elided."""
    diffs: list[Difference] = []
    real_paths = {p for p in real.types if not ignore.path(p, prefix)}
    double_paths = {p for p in double.types if not ignore.path(p, prefix)}
    for path in _topmost(real_paths - double_paths):
        diffs.append(Difference("key", prefix + path, f"has it ({_show(real.types[path])})", "lacks it"))
    if not real_partial:
        for path in _topmost(double_paths - real_paths):
            diffs.append(Difference("key", prefix + path, "lacks it", f"adds it ({_show(double.types[path])})"))
    common = sorted(real_paths & double_paths)
    for path in common:
        if real.types[path] != double.types[path]:
            diffs.append(Difference("type", prefix + path, _show(real.types[path]), _show(double.types[path])))
    for path in common:
        if path in real.enums and path in double.enums and real.enums[path] != double.enums[path]:
            diffs.append(Difference("value", prefix + path, _show(real.enums[path]), _show(double.enums[path])))
    if "ids" not in ignore:
        for path in common:
            if path in real.ids and path in double.ids and real.ids[path] != double.ids[path]:
                diffs.append(Difference("id-format", prefix + path, _show(real.ids[path]), _show(double.ids[path])))
    return diffs


def separator_style(raw: str) -> str | None:
    """`spaced` (`", "` / `": "`), `compact` (`","` / `":"`), `mixed`, or None when the text has no
    separator outside strings. Tolerates invalid JSON (elided payloads)."""
    spaced: set[bool] = set()
    in_string = escaped = False
    for index, char in enumerate(raw):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in ",:":
            spaced.add(raw[index + 1 : index + 2] == " ")
    if not spaced:
        return None
    return "mixed" if len(spaced) == 2 else "spaced" if True in spaced else "compact"


def _styles(raws: Iterable[str]) -> str | None:
    styles = {s for s in (separator_style(r) for r in raws) if s}
    if not styles:
        return None
    return styles.pop() if len(styles) == 1 else "mixed"


_STYLE_NAMES = {"spaced": '", " / ": "', "compact": '"," / ":" (compact)', "mixed": "mixed"}


def _compare_separators(real_raws: Iterable[str], double_raws: Iterable[str], ignore: _Ignore) -> list[Difference]:
    if "separators" in ignore:
        return []
    real, double = _styles(real_raws), _styles(double_raws)
    if real and double and real != double:
        return [Difference("separators", "", _STYLE_NAMES[real], _STYLE_NAMES[double])]
    return []


# --- streams -------------------------------------------------------------------------------------


def _fold(items: Sequence[str]) -> list[tuple[str, int]]:
    folded: list[tuple[str, int]] = []
    for item in items:
        if folded and folded[-1][0] == item:
            folded[-1] = (item, folded[-1][1] + 1)
        else:
            folded.append((item, 1))
    return folded


def _show_fold(folded: list[tuple[str, int]]) -> str:
    return " → ".join(f"{k}×{n}" if n > 1 else k for k, n in folded) or "(nothing)"


def chunk_kind(chunk: dict[str, Any]) -> str:
    """What an OpenAI-style chunk carries: reasoning, content, tool_call, finish (or usage/role/other)."""
    choices = chunk.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        return "usage" if "usage" in chunk else "other"
    choice = choices[0]
    delta = choice.get("delta") or {}
    if delta.get("tool_calls"):
        return "tool_call"
    if choice.get("finish_reason") is not None:
        return "finish"
    if delta.get("content"):
        return "content"
    if delta.get("reasoning_content"):
        return "reasoning"
    if "content" in delta:
        return "content"
    if "reasoning_content" in delta:
        return "reasoning"
    return "role" if "role" in delta else "other"


BLANK = "whitespace-only"


def chunk_group(chunk: dict[str, Any]) -> str:
    """A chunk's kind, split for text deltas whose text is whitespace only: Z.AI shapes those
    differently for some models (a `content: ""` beside a blank `reasoning_content`)."""
    kind = chunk_kind(chunk)
    if kind in ("content", "reasoning"):
        delta = chunk["choices"][0].get("delta") or {}
        text = delta.get("content" if kind == "content" else "reasoning_content")
        if isinstance(text, str) and not text.strip():
            return f"{kind}, {BLANK}"
    return kind


def _chunk_groups(chunks: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for chunk in chunks:
        groups.setdefault(chunk_group(chunk), []).append(chunk)
    return groups


def _has_finish(chunk: dict[str, Any]) -> bool:
    return any(isinstance(c, dict) and "finish_reason" in c for c in chunk.get("choices") or [])


def _placement(chunks: list[dict[str, Any]], present: Any) -> str:
    """Where a key arrives: on the last data chunk, on earlier ones (by kind), nowhere."""
    if not chunks:
        return "(no chunks)"
    earlier = sorted({chunk_kind(c) for c in chunks[:-1] if present(c)})
    last = f"last data chunk ({chunk_kind(chunks[-1])})" if present(chunks[-1]) else ""
    if not earlier:
        return f"{last} only" if last else "absent"
    where = f"non-final {'/'.join(earlier)} chunks"
    return f"{last} and {where}" if last else where


def _done_state(events: list[SseEvent]) -> str:
    count = sum(e.done for e in events)
    if not count:
        return "absent"
    if count == 1 and events[-1].done:
        return "once, last"
    return f"{count}×, {'last' if events[-1].done else 'not last'}"


def _role_state(chunks: list[dict[str, Any]]) -> str:
    texts = [c for c in chunks if chunk_kind(c) in ("content", "reasoning")]
    if not texts:
        return "(no text deltas)"
    with_role = sum("role" in (c["choices"][0].get("delta") or {}) for c in texts)
    return "on every one" if with_role == len(texts) else "on none" if not with_role else "on some"


def _openai_streams(
    real: list[SseEvent], double: list[SseEvent]
) -> tuple[list[Difference], list[dict[str, Any]], list[dict[str, Any]], bool]:
    """What both OpenAI stream comparisons start from: the `[DONE]` difference (if any), each side's JSON
    chunks, and whether the real stream was elided by its source (then only what it shows is compared)."""
    diffs: list[Difference] = []
    if (r := _done_state(real)) != (d := _done_state(double)):
        diffs.append(Difference("done", "[DONE]", r, d))
    real_chunks = [e.data for e in real if isinstance(e.data, dict)]
    double_chunks = [e.data for e in double if isinstance(e.data, dict)]
    return diffs, real_chunks, double_chunks, any(not e.known and not e.done for e in real)


def _stream_separators(real: list[SseEvent], double: list[SseEvent], ignore: _Ignore) -> list[Difference]:
    return _compare_separators((e.raw for e in real if not e.done), (e.raw for e in double if not e.done), ignore)


def compare_openai_stream(real: list[SseEvent], double: list[SseEvent], ignore: _Ignore) -> list[Difference]:
    """The lenient comparison: delta-kind runs folded, whitespace-only deltas set apart."""
    diffs, real_chunks, double_chunks, partial = _openai_streams(real, double)
    real_kinds, double_kinds = (
        _fold([chunk_kind(c) for c in real_chunks]),
        _fold([chunk_kind(c) for c in double_chunks]),
    )
    if [k for k, _ in real_kinds] != [k for k, _ in double_kinds]:
        diffs.append(Difference("delta-kinds", "", _show_fold(real_kinds), _show_fold(double_kinds)))
    for key, present in (("finish_reason", _has_finish), ("usage", lambda c: "usage" in c)):
        if (r := _placement(real_chunks, present)) != (d := _placement(double_chunks, present)):
            diffs.append(Difference("placement", key, r, d))
    if (r := _role_state(real_chunks)) != (d := _role_state(double_chunks)):
        diffs.append(Difference("role", "on text/reasoning deltas", r, d))
    real_groups, double_groups = _chunk_groups(real_chunks), _chunk_groups(double_chunks)
    for group, chunks in real_groups.items():
        kind = group.split(",", 1)[0]
        # A whitespace-only delta is compared with the double's own, or else with its ordinary deltas of
        # that kind; one only the double sends is not held against it (whether a model emits a blank
        # token is content).
        theirs = double_groups.get(group) or double_groups.get(kind) or double_groups.get(f"{kind}, {BLANK}")
        if theirs:
            diffs += compare_profiles(profile(*chunks), profile(*theirs), ignore, f"[{group}] ", partial)
    return diffs + _stream_separators(real, double, ignore)


def _kind_groups(chunks: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for chunk in chunks:
        groups.setdefault(grammar.chunk_kind(chunk), []).append(chunk)
    return groups


def compare_openai_grammar(real: list[SseEvent], double: list[SseEvent], ignore: _Ignore) -> list[Difference]:
    """The strict comparison of two OpenAI-style streams (the module's docstring says what it demands)."""
    diffs, real_chunks, double_chunks, partial = _openai_streams(real, double)
    real_grammar, double_grammar = grammar.grammar(real_chunks), grammar.grammar(double_chunks)
    if real_grammar != double_grammar:
        diffs.append(
            Difference("grammar", "", grammar.show_grammar(real_grammar), grammar.show_grammar(double_grammar))
        )
    if real_chunks and double_chunks:
        real_opening, double_opening = grammar.signature(real_chunks[0]), grammar.signature(double_chunks[0])
        if real_opening != double_opening:
            diffs.append(Difference("opening", "first chunk", real_opening, double_opening))
    for key, where in (("finish_reason", grammar.finish_placement), ("usage", grammar.usage_placement)):
        if (r := where(real_chunks)) != (d := where(double_chunks)):
            diffs.append(Difference("placement", key, r, d))
    if (r := _role_state(real_chunks)) != (d := _role_state(double_chunks)):
        diffs.append(Difference("role", "on text/reasoning deltas", r, d))
    real_groups, double_groups = _kind_groups(real_chunks), _kind_groups(double_chunks)
    for kind, chunks in real_groups.items():
        # A blank chunk is compared with the double's own blank chunks of its channel, or else with its
        # ordinary chunks of that channel (a blank token is content; its shape, once sent, is not).
        theirs = double_groups.get(kind) or double_groups.get(grammar.BLANK_KINDS.get(kind, ""))
        if theirs:
            diffs += compare_profiles(profile(*chunks), profile(*theirs), ignore, f"[{kind}] ", partial)
    return diffs + _stream_separators(real, double, ignore)


def _group(event: SseEvent) -> str:
    data = event.data if isinstance(event.data, dict) else {}
    kind = event.kind or "(unnamed)"
    sub = (data.get("delta") or {}).get("type") if kind == "content_block_delta" else None
    sub = (data.get("content_block") or {}).get("type") if kind == "content_block_start" else sub
    return f"{kind}/{sub}" if sub else kind


def compare_anthropic_stream(real: list[SseEvent], double: list[SseEvent], ignore: _Ignore) -> list[Difference]:
    diffs: list[Difference] = []
    real = [e for e in real if e.kind not in ignore.events]
    double = [e for e in double if e.kind not in ignore.events]
    real_names, double_names = _fold([e.kind or "?" for e in real]), _fold([e.kind or "?" for e in double])
    if [k for k, _ in real_names] != [k for k, _ in double_names]:
        diffs.append(Difference("events", "", _show_fold(real_names), _show_fold(double_names)))
    real_groups: dict[str, list[SseEvent]] = {}
    double_groups: dict[str, list[SseEvent]] = {}
    for events, groups in ((real, real_groups), (double, double_groups)):
        for event in events:
            groups.setdefault(_group(event), []).append(event)
    real_bases = {e.kind for e in real}
    double_bases = {e.kind for e in double}
    for group in dict.fromkeys([*real_groups, *double_groups]):
        base = group.split("/", 1)[0]
        if base not in real_bases or base not in double_bases:
            continue  # a whole event missing or added: the event sequence says so
        known_real = [e.data for e in real_groups.get(group, []) if e.known]
        unknown_real = any(not e.known for e in real_groups.get(group, []))
        if group not in double_groups:
            if known_real:
                diffs.append(Difference("event", group, "sends it", "never sends it"))
            continue
        if group not in real_groups:
            if not any(not e.known for e in real if e.kind == base):
                diffs.append(Difference("event", group, "never sends it", "sends it"))
            continue
        if not known_real:
            continue  # every real payload of this event was elided: nothing to compare but its name
        diffs += compare_profiles(
            profile(*known_real),
            profile(*[e.data for e in double_groups[group]]),
            ignore,
            prefix=f"[{group}] ",
            real_partial=unknown_real,
        )
    diffs += _compare_separators((e.raw for e in real), (e.raw for e in double), ignore)
    return diffs


# --- one response --------------------------------------------------------------------------------


def _media(value: str | None) -> str:
    return re.sub(r"\s+", "", value.lower()) if value else "(none)"


def _double_format(observed: Observed) -> str:
    if "event-stream" in observed.headers.get("content-type", "").lower():
        return "sse"
    try:
        json.loads(observed.body)
    except ValueError:
        return "sse" if observed.body.lstrip().startswith(("data:", "event:")) else "text"
    return "json"


def compare(
    real: RealResponse, double: Observed, ignore: Mapping[str, str] | None = None, strict: bool = True
) -> list[Difference]:
    """Every shape difference between a real response and the double's answer to the same request;
    `strict=False` compares OpenAI-style streams leniently (the module's docstring says how)."""
    rules = _Ignore(ignore or {})
    diffs: list[Difference] = []
    if real.status is not None and "status" not in rules and real.status != double.status:
        diffs.append(Difference("status", "", str(real.status), str(double.status)))
    if real.headers is not None and "content-type" not in rules:
        real_type, double_type = _media(real.headers.get("content-type")), _media(double.headers.get("content-type"))
        if real_type != double_type:
            diffs.append(Difference("content-type", "", real_type, double_type))
    if "body" in rules or real.format == "text":
        return [d for d in diffs if rules.keeps(d)]
    real_format = "json" if real.format == "message" else real.format
    double_format = _double_format(double)
    if real_format != double_format:
        diffs.append(Difference("body-format", "", real_format, f"{double_format}: {double.body[:160]!r}"))
        return [d for d in diffs if rules.keeps(d)]
    if real.format == "message":
        diffs += compare_message(json.loads(real.body), json.loads(double.body), rules)
    elif real_format == "json":
        diffs += compare_profiles(profile(json.loads(real.body)), profile(json.loads(double.body)), rules)
        diffs += _compare_separators([real.body], [double.body], rules)
    else:
        real_events, double_events = read_events(real.body), read_events(double.body)
        broken = [e.raw for e in double_events if not e.known and not e.done]
        if broken:
            diffs.append(Difference("json", "data payload", "parses", f"{len(broken)} unparseable: {broken[0][:80]!r}"))
        if any(isinstance(e.data, dict) and "choices" in e.data for e in real_events):
            stream = compare_openai_grammar if strict else compare_openai_stream
            diffs += stream(real_events, double_events, rules)
        else:
            diffs += compare_anthropic_stream(real_events, double_events, rules)
    return [d for d in diffs if rules.keeps(d)]


def compare_message(real: Any, double: Any, ignore: _Ignore) -> list[Difference]:
    """A message joined from a session log: the message's own keys, then each block type the log shows
    against the double's blocks of that type. A client logs one line per block and excerpts of a log
    may skip lines, so a block type the double adds is not held against it."""
    if not isinstance(real, dict) or not isinstance(double, dict):
        return compare_profiles(profile(real), profile(double), ignore)
    envelope = [{k: v for k, v in message.items() if k != "content"} for message in (real, double)]
    diffs = compare_profiles(profile(envelope[0]), profile(envelope[1]), ignore)
    real_blocks, double_blocks = real.get("content") or [], double.get("content") or []
    for kind in dict.fromkeys(b.get("type") for b in real_blocks if isinstance(b, dict)):
        theirs = [b for b in double_blocks if isinstance(b, dict) and b.get("type") == kind]
        if not theirs:
            diffs.append(Difference("block", str(kind), "present", "absent"))
            continue
        ours = [b for b in real_blocks if isinstance(b, dict) and b.get("type") == kind]
        diffs += compare_profiles(profile(*ours), profile(*theirs), ignore, prefix=f"[{kind} block] ")
    return diffs


def elided(value: str) -> bool:
    """A string the source shortened (`...`, `…`): its format says nothing about Z.AI's."""
    return bool(ELISION.search(value))
