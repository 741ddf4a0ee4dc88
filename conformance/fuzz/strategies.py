"""Hypothesis strategies for fuzz cases: what users actually put in a chat request, and the corners
clients translate badly — astral characters, combining marks, right-to-left and bidi controls, C0/C1
controls (not NUL), very long texts, system prompts, histories with tool calls and their results,
nested tool schemas, and every sampling parameter across Z.AI's documented range.

Only cases the real Z.AI accepts are generated (no blank message, no double fault marker, a prompt
inside the context window), so any difference is the client's doing, not a refusal.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance.fuzz.case import Call, FuzzCase, FuzzTool, Msg

# Characters worth a client's trouble, mixed into otherwise arbitrary text: an astral emoji and a ZWJ
# sequence, combining marks, RTL text and bidi overrides, a BOM, a line/paragraph separator, C1 and C0
# controls, and characters JSON or a template engine treat specially.
AWKWARD = (
    "😀",
    "👩\u200d💻",
    "e\u0301",
    "\u0915\u094d\u0937",
    "שלום",
    "مرحبا",
    "\u202e",
    "\u2066",
    "\ufeff",
    "\u2028",
    "\u2029",
    "\x85",
    "\x1b[0m",
    "\t",
    "\r\n",
    "\\",
    '"',
    "{{",
    "}}",
    "</s>",
    "<|im_end|>",
    "\U0001d54f",
    "\U000e0041",
    "\ufffd",
)
_CHARS = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
_PIECE = st.one_of(st.text(_CHARS, min_size=1, max_size=12), st.sampled_from(AWKWARD))


def _clean(text: str) -> str:
    """Never a double fault marker (`[double:…]`), never blank: the double would refuse the request."""
    text = text.replace("[double:", "[double ")
    return text if text.strip() else text + "x"


@st.composite
def texts(draw: st.DrawFn, min_size: int = 1) -> str:
    """Mostly short mixed text; sometimes very long (up to ~50k characters, by repetition: generating
    that many characters one by one would cost more than the clients do)."""
    text = "".join(draw(st.lists(_PIECE, min_size=min_size, max_size=8)))
    if draw(st.integers(0, 9)) == 0:
        text = text * draw(st.integers(1, max(1, 50_000 // max(1, len(text)))))
    return _clean(text)


_KEYS = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=10)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(_CHARS, max_size=20),
)
JSON_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=3)),
    max_leaves=8,
)


def schemas(depth: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON schema of one property: scalars (enums of awkward strings included), arrays, and nested
    objects `depth` levels deep."""
    scalar = st.one_of(
        st.builds(lambda t: {"type": t}, st.sampled_from(["string", "integer", "number", "boolean"])),
        st.builds(
            lambda values: {"type": "string", "enum": values}, st.lists(texts(), min_size=1, max_size=3, unique=True)
        ),
        st.builds(lambda d: {"type": "string", "description": d}, texts()),
    )
    if depth == 0:
        return scalar
    inner = schemas(depth - 1)
    return st.one_of(
        scalar,
        st.builds(lambda items: {"type": "array", "items": items}, inner),
        object_schemas(inner),
    )


def object_schemas(properties: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        props = draw(st.dictionaries(_KEYS, properties, min_size=1, max_size=3))
        schema: dict[str, Any] = {"type": "object", "properties": props}
        required = draw(st.lists(st.sampled_from(sorted(props)), unique=True))
        if required:
            schema["required"] = required
        if draw(st.booleans()):
            schema["additionalProperties"] = False
        return schema

    return build()


_TOOL_NAMES = st.from_regex(r"\Atool_[a-z][a-zA-Z0-9_]{0,20}\Z")


@st.composite
def tools(draw: st.DrawFn) -> tuple[FuzzTool, ...]:
    names = draw(st.lists(_TOOL_NAMES, min_size=1, max_size=3, unique=True))
    # half the properties at least are objects themselves: nesting is what clients rewrite
    properties = st.one_of(object_schemas(schemas(1)), schemas())
    return tuple(FuzzTool(name, draw(texts()), draw(object_schemas(properties))) for name in names)


@st.composite
def histories(draw: st.DrawFn, offered: tuple[FuzzTool, ...]) -> list[Msg]:
    """Earlier rounds: a user message, then the assistant's text or its tool calls with their results."""
    messages: list[Msg] = []
    for round_ in range(draw(st.integers(0, 3))):
        messages.append(Msg("user", draw(texts())))
        if offered and draw(st.booleans()):
            called = draw(st.lists(st.sampled_from(offered), min_size=1, max_size=2))
            calls = tuple(
                Call(f"call_{round_}_{i}", tool.name, draw(st.dictionaries(_KEYS, JSON_VALUES, max_size=3)))
                for i, tool in enumerate(called)
            )
            text = draw(st.one_of(st.just(""), texts()))
            messages.append(Msg("assistant", text, calls))
            messages += [Msg("tool", draw(texts()), call_id=call.id) for call in calls]
        else:
            messages.append(Msg("assistant", draw(texts())))
    return messages


@st.composite
def cases(draw: st.DrawFn, stream: bool | None = None) -> FuzzCase:
    offered = draw(st.one_of(st.just(()), tools()))
    messages = [Msg("system", draw(texts()))] if draw(st.booleans()) else []
    messages += draw(histories(offered))
    last = draw(texts())
    result = None
    if offered and draw(st.booleans()):  # name the first tool: the double calls it, the path answers it
        last = f"{last} {offered[0].name}"
        result = draw(texts())
    messages.append(Msg("user", last))
    return FuzzCase(
        messages=tuple(messages),
        tools=offered,
        temperature=draw(st.none() | st.floats(0.0, 1.0)),
        top_p=draw(st.none() | st.floats(0.01, 1.0)),
        max_tokens=draw(st.none() | st.integers(1, 131_072)),
        stop=tuple(draw(st.lists(texts(), max_size=3))),
        stream=draw(st.booleans()) if stream is None else stream,
        result=result,
    )
