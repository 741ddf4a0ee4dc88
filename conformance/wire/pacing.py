"""When each chunk of a stream arrives, modelled from the stream's own content.

A model generates tokens at a steady rate, and a chunk leaves the server once what it carries has been
generated. So the content of an OpenAI-protocol stream alone says how long a client waits for each chunk:
a word of text follows the one before within a fraction of a second, while a tool call's arguments
without `tool_stream` arrive in one chunk only after the whole of them was generated — the minutes of
silence ZAI-FACTS §9.2 reports for a 40 KB `write_file` argument, which a client's idle timer turns into
a failed, retried call. The same model, applied to the same bytes, decides a served cell's HANG (the
double's answer) and gives every streamed tool call its figures: time to the first argument byte and
the longest silence. No clock is read: the figures are the model's, and say so; a busy machine cannot
change them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from conformance.protocol import GenerationRate, generation_rate
from conformance.wire.sse import read_events


@dataclass(frozen=True)
class Pacing:
    """A stream's timeline under the model: seconds from the request."""

    arrivals: tuple[float, ...]  # when each chunk arrives
    first_argument_s: float | None  # when the first byte of a tool call's arguments arrives (None: no call)
    argument_chunks: int  # chunks that carry argument bytes
    longest_silence_s: float  # the longest wait between chunks (or before the first)
    silence_before: int  # the index of the chunk that ends the longest wait

    def first_silence_over(self, limit_s: float) -> tuple[int, float] | None:
        """The first chunk a client with this idle limit never sees, and the silence before it; or None."""
        previous = 0.0
        for index, arrival in enumerate(self.arrivals):
            if arrival - previous >= limit_s:
                return index, arrival - previous
            previous = arrival
        return None


def pace_chunks(chunks: list[Any], rate: GenerationRate | None = None) -> Pacing:
    """The timeline of parsed OpenAI-protocol chunks (a non-dict chunk carries nothing)."""
    rate = rate or generation_rate()
    generated = 0.0
    arrivals: list[float] = []
    first_argument: float | None = None
    argument_chunks = 0
    for chunk in chunks:
        chars, arguments = _generated(chunk)
        generated += math.ceil(chars / rate.chars_per_token) if chars else 0
        arrival = generated / rate.tokens_per_second
        arrivals.append(arrival)
        if arguments:
            argument_chunks += 1
            if first_argument is None:
                first_argument = arrival
    gaps = [later - earlier for earlier, later in zip([0.0, *arrivals], arrivals, strict=False)]
    longest = max(gaps, default=0.0)
    return Pacing(tuple(arrivals), first_argument, argument_chunks, longest, gaps.index(longest) if gaps else 0)


def pace_stream(body: str, rate: GenerationRate | None = None) -> Pacing:
    """The timeline of an SSE body as sent (`[DONE]` and unparseable events carry nothing)."""
    return pace_chunks([event.data for event in read_events(body) if not event.done], rate)


def _generated(chunk: Any) -> tuple[int, bool]:
    """The characters a chunk carries (reasoning, text, a call's name and arguments), and whether any of
    them are argument bytes."""
    if not isinstance(chunk, dict):
        return 0, False
    chars, arguments = 0, False
    for choice in chunk.get("choices") or []:
        delta = (choice or {}).get("delta") or {}
        chars += len(delta.get("content") or "") + len(delta.get("reasoning_content") or "")
        for call in delta.get("tool_calls") or []:
            function = (call or {}).get("function") or {}
            piece = function.get("arguments") or ""
            chars += len(function.get("name") or "") + len(piece)
            arguments = arguments or bool(piece)
    return chars, arguments
