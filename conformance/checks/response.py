"""Response checks: what the path made of Z.AI's bytes, judged against those bytes and the scenario.

Each check compares three things: what the scenario expects, what Z.AI sent (parsed independently
in `conformance.wire`), and what the client exposed. That separation is what lets a verdict say
*who* is at fault: "Z.AI sent no reasoning" and "the path dropped the reasoning Z.AI sent" are
different findings.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

import jsonschema

from conformance.catalogue import Tool, TurnExpectation
from conformance.observation import BuiltMessage, ToolCall, Turn
from conformance.protocol import generation_rate, neutral_finish
from conformance.verdict import Finding, Severity
from conformance.wire import WireAnswer
from conformance.wire.pacing import Pacing

INFO, DEVIATION, FAIL = Severity.INFO, Severity.DEVIATION, Severity.FAIL


def check_turn(
    expect: TurnExpectation,
    turn: Turn,
    wire: WireAnswer | None,
    tools: Mapping[str, Tool],
    streamed: bool,
    api: str = "openai",
) -> list[Finding]:
    """`api` is the style of the client's own API: the OpenAI stream contract (usage in its own
    last chunk) only binds a client that hands out OpenAI-style chunks."""
    findings: list[Finding] = []
    workaround = _json_tool_workaround(expect, turn, wire)
    if workaround:
        # the client asked for a forced tool call and turned it back into text: the answer's shape on
        # the wire is the client's doing, so finish_reason and tool calls are judged on the text alone
        findings.append(_f("json", INFO, workaround))
    answer_wire = None if workaround else wire
    for check in (_finish_reason, _tool_calls):
        findings += check(expect, turn, answer_wire, tools)
    for check in (_text, _reasoning, _usage, _json_text, _stop_words):
        findings += check(expect, turn, wire, tools)
    if streamed:
        findings += _stream(turn, wire, api)
    findings += _signatures(turn, wire, api) + _identity(turn, wire)
    return [Finding(f.check, f.severity, f.message, turn.index, "response") for f in findings]


def _f(check: str, severity: Severity, message: str) -> Finding:
    return Finding(check, severity, message)


def _finish_reason(expect: TurnExpectation, turn: Turn, wire: WireAnswer | None, _: Any) -> list[Finding]:
    """Compared in the scenarios' vocabulary: Anthropic's end_turn is OpenAI's stop, and a client
    that translates one into the other has not changed the answer."""
    exposed, sent, wanted = turn.finish_reason, wire.finish_reason if wire else None, expect.finish_reason
    if wire is not None and neutral_finish(exposed) != neutral_finish(sent):
        return [_f("finish_reason", FAIL, f"the path exposes finish_reason {exposed!r}; Z.AI sent {sent!r}")]
    if wanted is None:
        return []
    if neutral_finish(exposed) != wanted:
        sent_note = f" (Z.AI sent {sent!r})" if wire is not None else ""
        return [_f("finish_reason", FAIL, f"finish_reason {exposed!r}; the scenario expects {wanted!r}{sent_note}")]
    translated = f" (Z.AI sent {sent!r})" if wire is not None and exposed != sent else ""
    return [_f("finish_reason", INFO, f"finish_reason {exposed!r} as expected{translated}")]


def _same_text(a: str | None, b: str | None) -> bool:
    return (a or "") == (b or "")


def _text(expect: TurnExpectation, turn: Turn, wire: WireAnswer | None, _: Any) -> list[Finding]:
    findings = []
    if expect.text and not (turn.text or "").strip():
        sent = (wire.text or "").strip() if wire else ""
        who = "the path exposed none of the text Z.AI sent" if sent else "Z.AI sent no text"
        findings.append(_f("text", FAIL, f"no answer text: {who}"))
    if wire is not None and not _same_text(turn.text, wire.text):
        if (turn.text or "").strip() == (wire.text or "").strip():
            findings.append(_f("text", DEVIATION, "the path changed whitespace around the text Z.AI sent"))
        elif (wire.text or "").strip():
            findings.append(
                _f(
                    "text",
                    FAIL,
                    f"text differs from Z.AI's: exposed {_clip(turn.text)}, sent {_clip(wire.text)}",
                )
            )
    return findings


def _reasoning(expect: TurnExpectation, turn: Turn, wire: WireAnswer | None, _: Any) -> list[Finding]:
    sent = wire.reasoning if wire else None
    if expect.reasoning is False and (sent or turn.reasoning):
        who = "Z.AI sent" if sent else "the path exposed"
        size = len(sent or turn.reasoning or "")
        return [_f("reasoning", FAIL, f"no reasoning expected (thinking off for this request), yet {who} {size} chars")]
    if not sent:
        if expect.reasoning:
            return [_f("reasoning", FAIL, "the scenario expects reasoning; Z.AI sent none")]
        return []
    if _same_text(turn.reasoning, sent):
        return [_f("reasoning", INFO, f"reasoning ({len(sent)} chars) surfaced as {turn.reasoning_field}")]
    if (turn.reasoning or "").strip() == sent.strip():
        return [_f("reasoning", DEVIATION, "the path changed whitespace around Z.AI's reasoning_content")]
    if turn.reasoning:
        return [_f("reasoning", FAIL, f"reasoning differs from Z.AI's reasoning_content: {_clip(turn.reasoning)}")]
    severity = FAIL if expect.reasoning else DEVIATION
    return [_f("reasoning", severity, f"Z.AI sent {len(sent)} chars of reasoning_content; the path exposed none")]


def _tool_calls(
    expect: TurnExpectation, turn: Turn, wire: WireAnswer | None, tools: Mapping[str, Tool]
) -> list[Finding]:
    findings = []
    names = [call.name for call in turn.tool_calls]
    if sorted(names, key=str) != sorted(expect.tool_calls):
        sent = [c.name for c in wire.tool_calls] if wire else None
        findings.append(
            _f(
                "tool_calls",
                FAIL,
                f"tool calls {names}; the scenario expects {list(expect.tool_calls)} (Z.AI sent {sent})",
            )
        )
    for call in turn.tool_calls:
        findings += _tool_arguments(call, tools)
    if wire is not None:
        exposed = [(c.id, c.name, c.arguments) for c in turn.tool_calls]
        sent = [(c.id, c.name, c.arguments) for c in wire.tool_calls]
        if exposed != sent:
            findings.append(_f("tool_calls", FAIL, f"tool calls differ from Z.AI's: exposed {exposed}, sent {sent}"))
    return findings


def _tool_arguments(call: ToolCall, tools: Mapping[str, Tool]) -> list[Finding]:
    if call.parse_error:
        return [_f("tool_arguments", FAIL, f"{call.name}: {call.parse_error}")]
    tool = tools.get(call.name or "")
    if tool is None:
        return [_f("tool_arguments", FAIL, f"call to {call.name!r}, which the request did not offer")]
    try:
        _validate(call.arguments, tool.parameters)
    except jsonschema.ValidationError as exc:
        return [_f("tool_arguments", FAIL, f"{call.name} arguments break its schema: {exc.message}")]
    return [_f("tool_arguments", INFO, f"{call.name} arguments are JSON and satisfy its schema")]


def _validate(instance: Any, schema: dict[str, Any]) -> None:
    """`jsonschema.validate`, with each schema checked and compiled once per process: an agent offers
    the same dozen tools on every turn of every path, and checking a schema costs more than using it."""
    error = jsonschema.exceptions.best_match(_validator(json.dumps(schema, sort_keys=True)).iter_errors(instance))
    if error is not None:
        raise error


@functools.lru_cache(maxsize=512)
def _validator(schema_text: str) -> Any:
    schema = json.loads(schema_text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _json_text(
    expect: TurnExpectation, turn: Turn, wire: WireAnswer | None, tools: Mapping[str, Tool]
) -> list[Finding]:
    """JSON mode: the answer text is one JSON object (and, for json_schema, satisfies the schema).
    Z.AI documents response_format text|json_object only: an answer that ignores a json_schema is a
    named DEVIATION of Z.AI's; a path that breaks JSON Z.AI sent, or a client workaround that fails,
    is the path's FAIL."""
    schema_name = expect.json_schema
    if not (expect.json_object or schema_name):
        return []
    schema = tools[schema_name].parameters if schema_name and schema_name in tools else None
    problem = _json_problem(turn.text, schema)
    if problem is None:
        what = f"satisfies the {schema_name} schema" if schema_name else "is a JSON object"
        return [_f("json", INFO, f"the answer text {what}")]
    wire_problem = _json_problem(wire.text, schema) if wire is not None and not wire.tool_calls else "—"
    if schema_name and wire_problem is not None:
        return [
            _f(
                "json",
                DEVIATION,
                f"the answer {problem}: GLM ignores response_format json_schema (Z.AI documents text and "
                "json_object only) and nothing on this path made up for it",
            )
        ]
    if wire_problem is None:
        return [_f("json", FAIL, f"Z.AI sent valid JSON but the path's answer {problem}")]
    return [_f("json", FAIL, f"the answer {problem}")]


def _json_tool_workaround(expect: TurnExpectation, turn: Turn, wire: WireAnswer | None) -> str | None:
    """LiteLLM's json_schema workaround for providers without it: a forced tool call whose arguments
    become the message text. Recognised when Z.AI answered one tool call, the client exposes none,
    and its text is exactly that call's arguments."""
    if not expect.json_schema or wire is None or len(wire.tool_calls) != 1 or turn.tool_calls:
        return None
    call = wire.tool_calls[0]
    try:
        exposed = json.loads(turn.text or "")
    except ValueError:
        return None
    if exposed != call.arguments:
        return None
    return f"json_schema sent as a forced tool call ({call.name}) and its arguments returned as the text"


def _json_problem(text: str | None, schema: dict[str, Any] | None) -> str | None:
    candidate = (text or "").strip()
    if candidate.startswith("```"):
        return f"is JSON in a Markdown fence, not JSON: {_clip(candidate, 60)}"
    try:
        value = json.loads(candidate)
    except ValueError:
        return f"is not JSON: {_clip(candidate, 60)}"
    if not isinstance(value, dict):
        return f"is JSON but not an object: {_clip(candidate, 60)}"
    if schema is not None:
        try:
            _validate(value, schema)
        except jsonschema.ValidationError as exc:
            return f"breaks the schema: {exc.message}"
    return None


def _stop_words(expect: TurnExpectation, turn: Turn, wire: WireAnswer | None, _: Any) -> list[Finding]:
    found = [word for word in expect.text_excludes if word in (turn.text or "")]
    if not found:
        return [_f("stop", INFO, f"the text stops before {list(expect.text_excludes)}")] if expect.text_excludes else []
    sent = [word for word in found if wire is not None and word in (wire.text or "")]
    who = "Z.AI did not stop there" if sent else "the path added it"
    return [_f("stop", FAIL, f"the text contains {found}, which should have stopped it ({who})")]


def _usage(expect: TurnExpectation, turn: Turn, wire: WireAnswer | None, _: Any) -> list[Finding]:
    sent = wire.usage if wire else None
    usage = turn.usage
    if usage is None:
        if sent is not None:
            return [_f("usage", FAIL, "Z.AI sent usage; the path exposed none")]
        if wire is not None:
            return [_f("usage", DEVIATION, "no usage: Z.AI sent none (and the path exposed none)")]
        return [_f("usage", FAIL, "the path exposed no usage")]
    findings = []
    parts = (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
    if None in parts:
        findings.append(_f("usage", FAIL, f"usage incomplete: prompt/completion/total = {parts}"))
    elif usage.total_tokens != usage.prompt_tokens + usage.completion_tokens:
        findings.append(
            _f(
                "usage",
                FAIL,
                f"total_tokens {usage.total_tokens} ≠ prompt + completion {parts[0]}+{parts[1]}",
            )
        )
    if (
        None not in (usage.reasoning_tokens, usage.completion_tokens)
        and usage.reasoning_tokens > usage.completion_tokens
    ):
        findings.append(_f("usage", FAIL, "reasoning_tokens exceed completion_tokens"))
    if sent is not None:
        exposed = (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
        wire_parts = (sent.prompt_tokens, sent.completion_tokens, sent.total_tokens)
        if exposed != wire_parts:
            findings.append(_f("usage", FAIL, f"usage {exposed} differs from Z.AI's {wire_parts}"))
        for name in ("reasoning_tokens", "cached_tokens"):
            if getattr(sent, name) is not None and getattr(usage, name) != getattr(sent, name):
                findings.append(
                    _f(
                        "usage",
                        DEVIATION,
                        f"{name}: Z.AI sent {getattr(sent, name)}, the path exposes {getattr(usage, name)}",
                    )
                )
    if not findings:
        findings.append(_f("usage", INFO, f"usage present and consistent ({parts[0]}+{parts[1]}={parts[2]})"))
    return findings


def _argument_pacing(turn: Turn, pacing: Pacing, calls: int) -> list[Finding]:
    """A streamed tool call's timing, from what Z.AI sent (wire/pacing.py models it: no clock is read),
    and whether the path hands the arguments out as they come. `tool_stream` exists so that a client
    sees a long argument grow; a path that gathers a call's fragments into one delta brings the silence
    back. (`calls` is how many calls Z.AI sent: parallel calls sent whole are one chunk each.)"""
    rate = generation_rate()
    first = f"{pacing.first_argument_s:.1f} s" if pacing.first_argument_s is not None else "never"
    facts = (
        f"tool-call arguments: first byte at {first}, longest silence {pacing.longest_silence_s:.1f} s, "
        f"in {pacing.argument_chunks} chunk(s) (modelled at {rate.tokens_per_second:g} tokens/s from the "
        f"stream's own content)"
    )
    findings = [_f("tool_stream", INFO, facts)]
    exposed = turn.stream.tool_call_deltas if turn.stream is not None else 0
    if pacing.argument_chunks > calls and exposed <= len(turn.tool_calls):  # fragments, gathered into one
        findings.append(
            _f(
                "tool_stream",
                DEVIATION,
                f"Z.AI streamed the arguments in {pacing.argument_chunks} chunks; the path handed out "
                f"{exposed} tool-call delta(s): it buffers what tool_stream streams",
            )
        )
    return findings


def _stream(turn: Turn, wire: WireAnswer | None, api: str) -> list[Finding]:
    findings: list[Finding] = []
    facts = turn.stream
    if facts is None:
        return [_f("stream", FAIL, "a streamed request, but the path delivered no stream")]
    order = " → ".join(facts.order) or "—"
    where = (
        f"the path delivered {facts.chunks} chunks ({facts.reasoning_deltas} reasoning, "
        f"{facts.content_deltas} content, {facts.tool_call_deltas} tool-call deltas); order {order}"
    )
    findings.append(_f("stream", INFO, where))
    if facts.usage_chunks > 1:
        findings.append(
            _f("stream_usage", DEVIATION, f"usage arrives in {facts.usage_chunks} chunks; a stream reports it once")
        )
    if api == "openai":
        findings += _usage_position(facts)
    if wire is not None and wire.stream is not None and wire.stream.pacing is not None:
        findings += _argument_pacing(turn, wire.stream.pacing, len(wire.tool_calls))
    if wire is not None and wire.stream is not None:
        sse = wire.stream
        if not sse.done:
            findings.append(_f("stream_done", DEVIATION, "Z.AI's stream did not end with its end marker"))
        if sse.malformed:
            findings.append(
                _f(
                    "stream_sse",
                    FAIL,
                    f"{len(sse.malformed)} SSE event(s) are not JSON: {sse.malformed[0]!r}",
                )
            )
        findings.append(
            _f(
                "stream_wire",
                INFO,
                f"Z.AI sent {sse.chunks} chunks; finish_reason on chunk {_nth(sse.finish_chunk)}, usage on chunk "
                f"{_nth(sse.usage_chunk)}; {'end marker last' if sse.done else 'no end marker'}"
                " ([DONE], or message_stop on the Anthropic endpoint)",
            )
        )
    # Only LiteLLM rebuilds a stream (`stream_chunk_builder`, its documented way to get the whole answer);
    # no other client has a rebuilt message to compare, and LiteLLM has none when there was no chunk to
    # rebuild from (the stream check above reports such a stream).
    if turn.built is not None:
        findings += _chunk_builder(turn, turn.built)
    return findings


def _usage_position(facts: Any) -> list[Finding]:
    """OpenAI's include_usage contract: usage comes in an extra chunk after the one with finish_reason.
    Sharing the finish chunk is the deviation (a consumer that waits for that extra chunk, or reads
    choices[0] only before it, mis-handles it); a separate chunk is fine even if the client gives it
    an empty-delta choice, as LiteLLM does."""
    if facts.usage_chunk is None:
        return []
    position = f"chunk {facts.usage_chunk + 1} of {facts.chunks}"
    if facts.usage_chunk == facts.finish_chunk:
        return [
            _f(
                "stream_usage",
                DEVIATION,
                f"usage arrives on the finish_reason chunk ({position}); OpenAI's include_usage contract sends "
                "it in a separate last chunk with empty choices",
            )
        ]
    if facts.finish_chunk is None or facts.usage_chunk < facts.finish_chunk:
        finish = (
            "no finish_reason at all"
            if facts.finish_chunk is None
            else f"finish_reason on chunk {facts.finish_chunk + 1}"
        )
        return [
            _f(
                "stream_usage",
                DEVIATION,
                f"usage arrives on {position}, before the end of the answer ({finish})",
            )
        ]
    shape = "no choices" if not facts.usage_chunk_choices else f"with {facts.usage_chunk_choices} choice(s)"
    return [_f("stream_usage", INFO, f"usage arrives in its own chunk after finish_reason ({position}, {shape})")]


def _chunk_builder(turn: Turn, built: BuiltMessage) -> list[Finding]:
    """LiteLLM's stream_chunk_builder must rebuild exactly what the deltas said."""
    problems = []
    if not _same_text(built.content, turn.text):
        problems.append(f"content {_clip(built.content)} vs deltas {_clip(turn.text)}")
    if not _same_text(built.reasoning_content, turn.reasoning):
        problems.append("reasoning_content differs from the reasoning deltas")
    deltas = [(c.id, c.name, c.arguments_raw) for c in turn.tool_calls]
    rebuilt = [(c.id, c.name, c.arguments_raw) for c in built.tool_calls]
    if deltas != rebuilt:
        problems.append(f"tool calls {rebuilt} vs deltas {deltas}")
    if built.finish_reason != turn.finish_reason:
        problems.append(f"finish_reason {built.finish_reason!r} vs {turn.finish_reason!r}")
    if problems:
        return [
            _f(
                "chunk_builder",
                FAIL,
                "stream_chunk_builder disagrees with the stream: " + "; ".join(problems),
            )
        ]
    return [_f("chunk_builder", INFO, "stream_chunk_builder rebuilds the same message as the deltas")]


def _signatures(turn: Turn, wire: WireAnswer | None, api: str) -> list[Finding]:
    """Thinking blocks carry a signature the client must keep (and send back with the next turn); a
    path that exposes thinking blocks must expose the signatures Z.AI sent. Required of a client whose
    own API is Anthropic's (its thinking comes as blocks) and of one that handed out thinking blocks;
    an OpenAI-style client that exposed none (reasoning as `reasoning_content` only) has no place for
    them, and is not judged on them."""
    if wire is None or not wire.signatures:
        return []
    exposed = turn.signatures
    if exposed is None:
        if api == "anthropic" or turn.thinking_blocks:
            sent = len(wire.signatures)
            return [_f("signatures", FAIL, f"Z.AI sent {sent} thinking signature(s); the path exposed none")]
        return []
    if list(exposed) != wire.signatures:
        return [_f("signatures", FAIL, f"thinking signatures {exposed} differ from Z.AI's {wire.signatures}")]
    return [_f("signatures", INFO, f"{len(exposed)} thinking block signature(s) kept as sent")]


def _identity(turn: Turn, wire: WireAnswer | None) -> list[Finding]:
    """A note (never a verdict) where the client reports another model name or creation time than Z.AI
    sent. Informational, so a client that does not expose the envelope (the OpenAI SDK's streamed
    chunks, which its path does not keep) is simply not noted."""
    envelope = turn.envelope
    if wire is None or envelope is None:
        return []
    notes = []
    model = envelope.model
    if model is not None and wire.model is not None and model != wire.model:
        notes.append(f"model reported as {model!r} (Z.AI sent {wire.model!r})")
    created = envelope.created
    if isinstance(created, int) and isinstance(wire.created, int) and created != wire.created:
        notes.append(f"created reported as {created} (Z.AI sent {wire.created}: the client restamped it)")
    return [_f("identity", INFO, "; ".join(notes))] if notes else []


def _nth(index: int | None) -> str:
    return "—" if index is None else str(index + 1)


def _clip(text: str | None, limit: int = 80) -> str:
    if text is None:
        return "None"
    return repr(text) if len(text) <= limit else repr(text[: limit - 1] + "…")
