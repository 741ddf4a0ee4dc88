"""How faithful the double is, measured: every real exchange of a corpus asked of the running double.

Each exchange's request goes to the double as Z.AI got it — same method, path and query on the
double's host, same headers without credentials (the key `fidelity-key` travels as the original's
did, Bearer or x-api-key), same body; error entries ask the double for the same error by its own
triggers (conformance/triggers.py, as data/fidelity.yaml says per code). The recording's date, when
its corpus states one, travels as `X-Double-Era` so that a double grounded by era can answer as Z.AI
did then; a double that ignores it is measured all the same. The double's answer is compared with
the real one by shape (compare.py), strictly unless asked to be lenient.

Only Z.AI traffic is measured (corpus/scope.py); the report says what it left out and why. Each
exchange has a provenance (corpus/provenance.py: date, test, model), so the score is given per
corpus folder, per era (month × model), and for the newest recording of each test — the headline
for a corpus holding many versions of one test (crush), since a double answers as Z.AI does now.

`measure(corpus_dir, double)` scores matching exchanges over all; `zai-conformance fidelity
[CORPUS_DIR] [--lenient] [--newest] [--min PERCENT]` (or `python -m conformance.fidelity.measure`)
prints the scores and every difference, and exits 0 only at 100% (or at `--min`).
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.fidelity import DEFAULT_CORPUS
from conformance.fidelity.compare import Difference, Observed, compare
from conformance.fidelity.corpus import LeftOut, RealExchange, RealRequest, load_corpus
from conformance.fidelity.corpus.provenance import Provenance, provenance, source_index
from conformance.fidelity.rules import declared_exceptions, error_triggers
from conformance.triggers import CALLS_HEADER, ERA_HEADER, calls_header, with_marker
from conformance.wire import read_answer
from conformance.wire.sse import read_events

KEY = "fidelity-key"
TIMEOUT = 30.0


# --- asking the double ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    method: str
    path: str  # path and query
    headers: dict[str, str]
    body: bytes


def _auth(auth: str, key: str | None) -> dict[str, str]:
    if not key or auth == "none":
        return {}
    return {"x-api-key": key} if auth == "x-api-key" else {"authorization": f"Bearer {key}"}


def outgoing(exchange: RealExchange, era: str | None = None, model_choices: bool = True) -> Outgoing:
    """The request the double gets for an exchange: the real one on the double's host, or a trigger.
    The day the response was recorded travels in the `X-Double-Era` header: Z.AI's own `created` stamp
    when the response has one (a commit can add a recording weeks after it was made), else `era`, the
    date the corpus states. With `model_choices`, the tools the real model called (or none) travel in
    `X-Double-Calls`: which tools a model picks is content, not wire, and the measure is of the wire."""
    if exchange.request is None:
        sent = trigger(exchange)
    else:
        sent = _replayed(exchange.request, None if _token_missing(exchange) else KEY)
    extra: dict[str, str] = {}
    day = _recorded_day(exchange) or (era[:10] if era else None)
    if day:
        extra[ERA_HEADER] = day
    called = model_choice(exchange) if model_choices else None
    if called is not None:
        extra[CALLS_HEADER] = calls_header(called)
    return Outgoing(sent.method, sent.path, {**sent.headers, **extra}, sent.body) if extra else sent


def model_choice(exchange: RealExchange) -> list[str] | None:
    """The tools the real model called, in order (empty: it called none), for a recorded request that
    offered tools and got a readable answer; None otherwise (nothing to give the double)."""
    response = exchange.response
    if exchange.request is None or response.status != 200 or response.format not in ("json", "sse"):
        return None
    try:
        offered = json.loads(exchange.request.body).get("tools")
    except (ValueError, AttributeError):
        return None
    if not offered:
        return None
    headers = {name: [value] for name, value in (response.headers or {}).items()}
    answer = read_answer(200, response.body, headers, exchange.url)
    return [call.name for call in answer.tool_calls if call.name]


def _replayed(request: RealRequest, key: str | None) -> Outgoing:
    parts = urlsplit(request.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {**request.headers, **_auth(request.auth, key)}
    return Outgoing(request.method, path, headers, request.body)


def _token_missing(exchange: RealExchange) -> bool:
    """Z.AI answered 401/1001 ("Authorization Token Missing"): the recorded request carried no key, though
    a scrubbed cassette cannot show it (crush recorded such requests in a test run without one)."""
    response = exchange.response
    if response.status != 401:
        return False
    try:
        error = json.loads(response.body).get("error") or {}
    except (ValueError, AttributeError):
        return False
    return isinstance(error, dict) and str(error.get("code")) == "1001"


def _recorded_day(exchange: RealExchange) -> str | None:
    """The day Z.AI made the response (its `created`, UTC), when the response says."""
    body = exchange.response.body
    if exchange.response.format == "sse":
        first = next((e.data for e in read_events(body) if isinstance(e.data, dict)), None)
    else:
        try:
            first = json.loads(body)
        except ValueError:
            first = None
    created = first.get("created") if isinstance(first, dict) else None
    if not isinstance(created, int) or isinstance(created, bool):
        return None
    return datetime.fromtimestamp(created, UTC).date().isoformat()


_IMAGE = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAcCBlCwAAAABJRU5ErkJggg=="


def _trigger_spec(exchange: RealExchange) -> dict[str, Any]:
    triggers = error_triggers()
    spec = triggers.get(exchange.error_code, triggers.get("default") or {"marker": True})
    if isinstance(spec, list):
        text = f"{exchange.url} {exchange.response.body} {exchange.trust}".lower()
        spec = next((s for s in spec if not s.get("when") or s["when"].lower() in text), spec[-1])
    return spec


def trigger(exchange: RealExchange) -> Outgoing:
    """A request that makes the double refuse with the exchange's error code, on the same surface."""
    spec = _trigger_spec(exchange)
    endpoint = exchange.endpoint or "general"
    key = spec.get("key_by_endpoint", {}).get(endpoint, spec.get("key", KEY))
    text = with_marker("Hello.", exchange.error_code) if spec.get("marker") and exchange.error_code else "Hello."
    anthropic = exchange.protocol == "anthropic"
    content: Any = text
    if spec.get("image"):
        image = (
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": _IMAGE}}
            if anthropic
            else {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{_IMAGE}"}}
        )
        content = [{"type": "text", "text": text}, image]
    body: dict[str, Any] = {"model": spec.get("model", "glm-4.6"), "messages": [{"role": "user", "content": content}]}
    if anthropic:
        body["max_tokens"] = 64
    body.update(spec.get("body") or {})
    headers = {"content-type": "application/json", **_auth("x-api-key" if anthropic else "bearer", key)}
    if anthropic:
        headers["anthropic-version"] = "2023-06-01"
    path = urlsplit(exchange.url).path
    return Outgoing("POST", path, headers, json.dumps(body, ensure_ascii=False).encode())


def send(double_root: str, request: Outgoing, timeout: float = TIMEOUT) -> Observed:
    parts = urlsplit(double_root)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        connection.request(request.method, request.path, body=request.body or None, headers=request.headers)
        response = connection.getresponse()
        body = response.read()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return Observed(response.status, headers, body.decode("utf-8", errors="replace"))
    finally:
        connection.close()


# --- the measurement -----------------------------------------------------------------------------


@dataclass
class ExchangeResult:
    exchange: RealExchange
    differences: list[Difference] = field(default_factory=list)
    error: str | None = None
    provenance: Provenance = field(default_factory=lambda: Provenance(None, None, None))
    choice_given: bool = False  # the real model's choice of tool calls went to the double (X-Double-Calls)

    @property
    def matches(self) -> bool:
        return self.error is None and not self.differences

    @property
    def era(self) -> tuple[str, str]:
        """(month, model) — the era an exchange is scored in."""
        return self.provenance.month, self.provenance.model or "unknown"


Tally = tuple[int, int]  # (matching, total)


def _tally(results: list[ExchangeResult], key: Any) -> dict[Any, Tally]:
    counts: dict[Any, list[int]] = {}
    for result in results:
        entry = counts.setdefault(key(result), [0, 0])
        entry[0] += result.matches
        entry[1] += 1
    return {k: (m, t) for k, (m, t) in sorted(counts.items())}


def superseded(recordings: Sequence[tuple[Path, Provenance]]) -> set[Path]:
    """The recording files that a newer recording of the same test replaces (by commit date); a file
    of no known test or date is never superseded (it is the only version there is)."""
    newest: dict[str, tuple[datetime, str]] = {}
    for file, origin in recordings:
        when = origin.when
        if origin.test is not None and when is not None:
            candidate = (when, file.as_posix())
            newest[origin.test] = max(newest.get(origin.test, candidate), candidate)
    return {
        file
        for file, origin in recordings
        if origin.test is not None and origin.when is not None and newest[origin.test][1] != file.as_posix()
    }


def newest_per_test(results: list[ExchangeResult]) -> list[ExchangeResult]:
    """The results of the newest recording of each test (and of every exchange of no known test)."""
    old = superseded([(r.exchange.file, r.provenance) for r in results])
    return [r for r in results if r.exchange.file not in old]


def difference_kind(difference: Difference) -> str:
    """A difference's kind for counting: aspect and place, and for the wire's shape (opening,
    placement) the two values too — those take few values, and each pair is one defect."""
    kind = f"{difference.aspect} {difference.where}".strip()
    if difference.aspect in ("opening", "placement", "done", "status", "content-type"):
        kind += f": real {difference.real} | double {difference.double}"
    return kind


@dataclass
class FidelityReport:
    corpus: Path
    results: list[ExchangeResult]
    stale_exceptions: list[str] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    strict: bool = True

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def choices_given(self) -> int:
        """Exchanges whose real choice of tool calls the double was given (X-Double-Calls)."""
        return sum(r.choice_given for r in self.results)

    @property
    def matching(self) -> int:
        return sum(r.matches for r in self.results)

    @property
    def score(self) -> float:
        return self.matching / self.total if self.total else 0.0

    def by_folder(self) -> dict[str, Tally]:
        return _tally(self.results, lambda r: r.exchange.folder)

    def by_era(self) -> dict[tuple[str, str, str], Tally]:
        """(folder, month, model) → tally: an era is scored within its corpus folder."""
        return _tally(self.results, lambda r: (r.exchange.folder, *r.era))

    def newest(self) -> FidelityReport:
        """The same report over the newest recording of each test only."""
        return FidelityReport(self.corpus, newest_per_test(self.results), [], [], self.strict)

    def difference_kinds(self) -> Counter[str]:
        """How many exchanges show each kind of difference (an exchange counts once per kind)."""
        kinds: Counter[str] = Counter()
        for result in self.results:
            kinds.update({difference_kind(d) for d in result.differences})
            if result.error:
                kinds["error"] += 1
        return kinds

    def result(self, name: str) -> ExchangeResult:
        return next(r for r in self.results if r.exchange.name == name)

    def render(self, verbose: bool = False) -> str:
        mode = "strict" if self.strict else "lenient"
        lines = [
            f"Fidelity of the Z.AI double against {self.corpus} ({mode}): {self.matching}/{self.total} real "
            f"exchanges match ({self.score:.1%})",
        ]
        lines += [f"  {folder:<20} {_show_tally(tally)}" for folder, tally in self.by_folder().items()]
        if self.choices_given:
            lines += [
                "",
                f"The real model's choice of tool calls (which, or none) was given to the double on "
                f"{self.choices_given} exchange(s) offering tools ({CALLS_HEADER}): a model's choice is "
                "content, the measure is of the wire. `--own-choices` lets the double's own rule choose.",
            ]
        newest = self.newest()
        if newest.total != self.total:
            lines += ["", f"Newest recording of each test: {newest.matching}/{newest.total} ({newest.score:.1%})"]
            lines += [f"  {folder:<20} {_show_tally(tally)}" for folder, tally in newest.by_folder().items()]
        lines += ["", "Per era (corpus folder, month of the recording's commit, model):"]
        lines += [
            f"  {folder:<20} {month:<8} {model:<28} {_show_tally(tally)}"
            for (folder, month, model), tally in self.by_era().items()
        ]
        if self.left_out:
            lines += ["", f"Left out ({len(self.left_out)} exchange(s), not Z.AI traffic):"]
            reasons = Counter(item.reason for item in self.left_out)
            lines += [f"  {count:>5}  {reason}" for reason, count in sorted(reasons.items())]
        kinds = self.difference_kinds()
        if kinds:
            lines += ["", "Kinds of difference (exchanges showing each):"]
            lines += [f"  {count:>5}  {kind}" for kind, count in sorted(kinds.items(), key=lambda i: (-i[1], i[0]))]
            if newest.total != self.total and (newest_kinds := newest.difference_kinds()):
                lines += ["", "Kinds of difference on the newest recording of each test:"]
                ordered = sorted(newest_kinds.items(), key=lambda i: (-i[1], i[0]))
                lines += [f"  {count:>5}  {kind}" for kind, count in ordered]
        failing = [r for r in self.results if not r.matches]
        if failing:
            lines += ["", f"Differences ({len(failing)} exchange(s)):"]
        for result in failing:
            exchange = result.exchange
            era = f"{result.provenance.day}, {result.era[1]}"
            lines.append(f"- {exchange.name}  ({era}; request: {exchange.request_origin}; source: {exchange.trust})")
            if result.error:
                lines.append(f"    error: {result.error}")
            lines += [f"    {difference}" for difference in result.differences]
        excepted: dict[str, dict[str, list[str]]] = {}
        for result in self.results:
            for aspect, reason in _ignored(result.exchange, self.strict).items():
                names = excepted.setdefault(reason, {}).setdefault(result.exchange.name, [])
                names.append(aspect)
        if excepted:
            lines += ["", "Not compared (exceptions from data/fidelity.yaml and from the kind of source):"]
            for reason, exchanges in excepted.items():
                lines.append(f"- {reason}")
                for name, aspects in exchanges.items():
                    lines.append(f"    {name}: {', '.join(aspects)}")
        if verbose:
            lines += ["", "Judgement calls made while loading:"]
            for result in self.results:
                for note in result.exchange.notes:
                    lines.append(f"- {result.exchange.name}: {note}")
            if self.left_out:
                lines += ["", "Left out, one by one:"]
                lines += [f"- {item.name}: {item.url}" for item in self.left_out]
        if self.stale_exceptions:
            lines += ["", "Exceptions in fidelity.yaml that matched no exchange (stale?):"]
            lines += [f"- {key}" for key in self.stale_exceptions]
        return "\n".join(lines)


def _show_tally(tally: Tally) -> str:
    matching, total = tally
    return f"{matching}/{total} ({matching / total:.1%})" if total else "0/0"


def _ignored(exchange: RealExchange, strict: bool) -> dict[str, str]:
    """What an exchange's exceptions leave out in this mode."""
    return exchange.ignore if strict else {**exchange.ignore, **exchange.lenient_ignore}


def measure_exchange(
    exchange: RealExchange,
    double_root: str,
    origin: Provenance | None = None,
    strict: bool = True,
    model_choices: bool = True,
) -> ExchangeResult:
    origin = origin or Provenance(None, None, None)
    request = outgoing(exchange, origin.date, model_choices)
    given = CALLS_HEADER in request.headers
    try:
        observed = send(double_root, request)
    except (OSError, http.client.HTTPException) as exc:
        return ExchangeResult(
            exchange,
            error=f"the double gave no answer: {type(exc).__name__}: {exc}",
            provenance=origin,
            choice_given=given,
        )
    try:
        differences = compare(exchange.response, observed, _ignored(exchange, strict), strict=strict)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        error = f"cannot compare: {type(exc).__name__}: {exc}"
        return ExchangeResult(exchange, error=error, provenance=origin, choice_given=given)
    return ExchangeResult(exchange, differences, provenance=origin, choice_given=given)


def measure(
    corpus_dir: str | Path, double: Any, strict: bool = True, newest: bool = False, model_choices: bool = True
) -> FidelityReport:
    """Replay every Z.AI exchange of the corpus against a running double (`double.root_url`) and
    compare; `newest`: only the newest recording of each test; `model_choices`: give the double the
    real model's choice of tool calls (False: the double's own rule chooses, and is measured too)."""
    corpus = load_corpus(corpus_dir)
    index = source_index(corpus.path)
    pairs = [(exchange, provenance(exchange, index)) for exchange in corpus.exchanges]
    if newest:
        old = superseded([(exchange.file, origin) for exchange, origin in pairs])
        pairs = [(exchange, origin) for exchange, origin in pairs if exchange.file not in old]
    results = [measure_exchange(exchange, double.root_url, origin, strict, model_choices) for exchange, origin in pairs]
    return FidelityReport(corpus.path, results, _stale(corpus.exchanges), corpus.left_out, strict)


def _stale(exchanges: list[RealExchange]) -> list[str]:
    used = {key for exchange in exchanges for key in exchange.exception_keys}
    declared = declared_exceptions()
    files_present = {exchange.file.name for exchange in exchanges} | {
        exchange.file.relative_to(exchange.corpus).as_posix() for exchange in exchanges
    }
    # Only entries for files in this corpus can be stale here; another corpus may hold the rest.
    return [key for key in declared if key.split(" [", 1)[0] in files_present and key not in used]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's options, shared by `python -m conformance.fidelity.measure` and `zai-conformance fidelity`."""
    parser.add_argument("corpus", nargs="?", help=f"corpus folder, archives included (default: {DEFAULT_CORPUS})")
    parser.add_argument("-v", "--verbose", action="store_true", help="also list the judgement calls made on loading")
    parser.add_argument(
        "--lenient", action="store_true", help="the measure before issue 13: stream kinds folded, blank deltas apart"
    )
    parser.add_argument("--newest", action="store_true", help="measure only the newest recording of each test")
    parser.add_argument(
        "--own-choices",
        action="store_true",
        help="let the double's own rule choose tool calls, instead of giving it the real model's choice",
    )
    parser.add_argument(
        "--min", type=float, default=100.0, metavar="PERCENT", help="exit 0 at or above this score (default: 100)"
    )


def run(args: argparse.Namespace) -> int:
    corpus = Path(args.corpus) if args.corpus else DEFAULT_CORPUS
    if not corpus.is_dir():
        print(f"no corpus folder at {corpus}", file=sys.stderr)
        return 2
    from conformance.double.server import running

    with running() as double:
        report = measure(
            corpus, double, strict=not args.lenient, newest=args.newest, model_choices=not args.own_choices
        )
    print(report.render(verbose=args.verbose))
    print(f"\nScore {report.score:.1%}, threshold {args.min:g}%: {'met' if _meets(report, args.min) else 'not met'}")
    return 0 if _meets(report, args.min) else 1


def _meets(report: FidelityReport, minimum: float) -> bool:
    # Counts, not floats: 100% means every exchange, not 99.99…% rounded up.
    return bool(report.total) and report.matching * 100 >= minimum * report.total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.fidelity.measure",
        description="Measure the Z.AI double against every real recording in a corpus (shapes, not content).",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
