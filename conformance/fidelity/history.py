"""The wire history of a corpus: per model and per recording date, which envelope fields and stream
patterns Z.AI used, and the first and last date each one was seen.

Why: the double is grounded by model and era, so it needs to know what changed when (`object` on
chunks, `completion_tokens_details` in usage, the stream's opener, finish_reason on the tool-call
chunk) — from the recordings, not from memory. A recording's date is the commit that added it
(corpus/provenance.py); that is an upper bound on when Z.AI sent it — a commit may carry a cassette
recorded weeks before — so each date also shows the span of Z.AI's own `created` stamps in its
responses. Recordings without a date are listed under `unknown`, last.

`wire_history(corpus_dir)` reads the corpus (Z.AI traffic only, features.py per response);
`zai-conformance wire-history [CORPUS_DIR] [--json]` prints it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.fidelity import DEFAULT_CORPUS
from conformance.fidelity.corpus import load_corpus
from conformance.fidelity.corpus.provenance import UNKNOWN, provenance, source_index
from conformance.fidelity.features import Features, created_day, response_features


@dataclass(frozen=True)
class Sighting:
    """One real response's features, with its model and recording date."""

    model: str
    day: str  # YYYY-MM-DD, or "unknown"
    name: str  # the exchange, for finding the bytes
    features: Features
    created: str | None = None  # the UTC day of Z.AI's own `created` stamp


@dataclass(frozen=True)
class Span:
    """When one value of one feature was seen for one model."""

    feature: str
    value: str
    first: str
    last: str
    responses: int


@dataclass
class ModelHistory:
    model: str
    days: dict[str, dict[str, Counter[str]]] = field(default_factory=dict)  # day → feature → value counts
    responses: Counter[str] = field(default_factory=Counter)  # day → responses
    created: dict[str, set[str]] = field(default_factory=dict)  # day → days of Z.AI's `created` stamps

    def spans(self) -> list[Span]:
        """Every (feature, value) with the first and last dated day it was seen, ordered by feature, then
        first day (responses of unknown date place nothing in time)."""
        seen: dict[tuple[str, str], list[Any]] = {}
        for day in _ordered(d for d in self.days if d != UNKNOWN):
            for feature, values in self.days[day].items():
                for value, count in values.items():
                    span = seen.setdefault((feature, value), [day, day, 0])
                    span[1] = day
                    span[2] += count
        return sorted(
            (Span(feature, value, first, last, n) for (feature, value), (first, last, n) in seen.items()),
            key=lambda s: (s.feature, _day_order(s.first), s.value),
        )


@dataclass
class WireHistory:
    corpus: Path
    models: dict[str, ModelHistory]
    left_out: int = 0

    def spans(self, model: str, feature: str) -> list[Span]:
        return [s for s in self.models[model].spans() if s.feature == feature]

    def to_dict(self) -> dict[str, Any]:
        return {
            "corpus": str(self.corpus),
            "left_out": self.left_out,
            "models": {
                name: {
                    "dates": [
                        {
                            "date": day,
                            "responses": history.responses[day],
                            "created": sorted(history.created.get(day, ())),
                            "features": {f: dict(sorted(v.items())) for f, v in sorted(history.days[day].items())},
                        }
                        for day in _ordered(history.days)
                    ],
                    "spans": [vars(span) for span in history.spans()],
                }
                for name, history in sorted(self.models.items())
            },
        }

    def render(self) -> str:
        total = sum(sum(h.responses.values()) for h in self.models.values())
        lines = [
            f"Wire history of {self.corpus}: {total} Z.AI chat responses, by model and recording date "
            f"(the date of the commit that added each recording; {self.left_out} non-Z.AI exchange(s) left out)",
        ]
        for name, history in sorted(self.models.items()):
            days = _ordered(history.days)
            dated = [d for d in days if d != UNKNOWN]
            span = f"{dated[0]} … {dated[-1]}" if dated else "no dated recording"
            undated = f", {history.responses[UNKNOWN]} undated" if UNKNOWN in history.days else ""
            lines += ["", f"{name} ({sum(history.responses.values())} responses, {span}{undated})"]
            previous: dict[str, Counter[str]] = {}
            for day in days:
                features = history.days[day]
                changed = {f: v for f, v in sorted(features.items()) if set(v) != set(previous.get(f, {}))}
                note = "" if changed else "  (no change)"
                stamps = sorted(history.created.get(day, ()))
                created = f", Z.AI's created stamps {stamps[0]} … {stamps[-1]}" if stamps else ""
                lines.append(f"  {day}  {history.responses[day]} response(s){created}{note}")
                for feature, values in changed.items():
                    shown = "; ".join(f"{value} ({count})" for value, count in values.most_common())
                    lines.append(f"      {feature}: {shown}")
                previous = {**previous, **features}
            lines.append("  First and last seen (dated responses):")
            for span in history.spans():
                lines.append(
                    f"    {span.feature} = {span.value}: {span.first} … {span.last} ({span.responses} response(s))"
                )
        return "\n".join(lines)


def _day_order(day: str) -> tuple[bool, str]:
    return (day == UNKNOWN, day)


def _ordered(days: Any) -> list[str]:
    return sorted(days, key=_day_order)


def sightings(corpus_dir: str | Path) -> tuple[list[Sighting], int]:
    """Every Z.AI chat response of the corpus with its features; and how many exchanges were left out."""
    corpus = load_corpus(corpus_dir)
    index = source_index(corpus.path)
    found: list[Sighting] = []
    for exchange in corpus.exchanges:
        features = response_features(exchange.response.body, exchange.response.format)
        if not features:
            continue
        origin = provenance(exchange, index)
        created = created_day(exchange.response.body, exchange.response.format)
        found.append(Sighting(origin.model or UNKNOWN, origin.day, exchange.name, features, created))
    return found, len(corpus.left_out)


def history_of(found: list[Sighting], corpus: Path, left_out: int = 0) -> WireHistory:
    """Group sightings by model and day."""
    models: dict[str, ModelHistory] = {}
    for sighting in found:
        history = models.setdefault(sighting.model, ModelHistory(sighting.model))
        history.responses[sighting.day] += 1
        if sighting.created:
            history.created.setdefault(sighting.day, set()).add(sighting.created)
        day = history.days.setdefault(sighting.day, {})
        for feature, value in sighting.features.items():
            day.setdefault(feature, Counter())[value] += 1
    return WireHistory(corpus, models, left_out)


def wire_history(corpus_dir: str | Path = DEFAULT_CORPUS) -> WireHistory:
    found, left_out = sightings(corpus_dir)
    return history_of(found, Path(corpus_dir).resolve(), left_out)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("corpus", nargs="?", help=f"corpus folder, archives included (default: {DEFAULT_CORPUS})")
    parser.add_argument("--json", action="store_true", help="print the history as JSON")


def run(args: argparse.Namespace) -> int:
    corpus = Path(args.corpus) if args.corpus else DEFAULT_CORPUS
    if not corpus.is_dir():
        print(f"no corpus folder at {corpus}", file=sys.stderr)
        return 2
    history = wire_history(corpus)
    print(json.dumps(history.to_dict(), indent=2, ensure_ascii=False) if args.json else history.render())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.fidelity.history",
        description="When Z.AI's wire changed: features of every real recording, per model and date.",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
