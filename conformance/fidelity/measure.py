"""How faithful the double is, measured: every real exchange of a corpus asked of the running double.

Each exchange's request goes to the double as Z.AI got it — same method, path and query on the
double's host, same headers without credentials (the key `fidelity-key` travels as the original's
did, Bearer or x-api-key), same body; error entries ask the double for the same error by its own
triggers (conformance/triggers.py, as data/fidelity.yaml says per code). The double's answer is
compared with the real one by shape (compare.py).

`measure(corpus_dir, double)` scores matching exchanges over all; `zai-conformance fidelity
[CORPUS_DIR]` (or `python -m conformance.fidelity.measure`) prints the score and every difference,
and exits 0 only at 100%.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.fidelity import DEFAULT_CORPUS
from conformance.fidelity.compare import Difference, Observed, compare
from conformance.fidelity.corpus import RealExchange, load_exchanges
from conformance.fidelity.rules import declared_exceptions, error_triggers
from conformance.triggers import ERA_HEADER, with_marker
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


def outgoing(exchange: RealExchange) -> Outgoing:
    """The request the double gets for an exchange: the real one on the double's host, or a trigger."""
    if exchange.request is None:
        return trigger(exchange)
    request = exchange.request
    parts = urlsplit(request.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {**request.headers, **_auth(request.auth, KEY), **_era(exchange)}
    return Outgoing(request.method, path, headers, request.body)


def _era(exchange: RealExchange) -> dict[str, str]:
    """Ask the double for Z.AI's wire as of the day the response was recorded (its `created`, UTC)."""
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
        return {}
    return {ERA_HEADER: datetime.datetime.fromtimestamp(created, datetime.UTC).date().isoformat()}


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

    @property
    def matches(self) -> bool:
        return self.error is None and not self.differences


@dataclass
class FidelityReport:
    corpus: Path
    results: list[ExchangeResult]
    stale_exceptions: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def matching(self) -> int:
        return sum(r.matches for r in self.results)

    @property
    def score(self) -> float:
        return self.matching / self.total if self.total else 0.0

    def by_folder(self) -> dict[str, tuple[int, int]]:
        folders: dict[str, list[int]] = {}
        for result in self.results:
            counts = folders.setdefault(result.exchange.folder, [0, 0])
            counts[0] += result.matches
            counts[1] += 1
        return {folder: (m, t) for folder, (m, t) in sorted(folders.items())}

    def result(self, name: str) -> ExchangeResult:
        return next(r for r in self.results if r.exchange.name == name)

    def render(self, verbose: bool = False) -> str:
        lines = [
            f"Fidelity of the Z.AI double against {self.corpus}: {self.matching}/{self.total} real exchanges match "
            f"({self.score:.1%})",
        ]
        for folder, (matching, total) in self.by_folder().items():
            lines.append(f"  {folder:<20} {matching}/{total}")
        failing = [r for r in self.results if not r.matches]
        if failing:
            lines += ["", f"Differences ({len(failing)} exchange(s)):"]
        for result in failing:
            exchange = result.exchange
            lines.append(f"- {exchange.name}  (request: {exchange.request_origin}; source: {exchange.trust})")
            if result.error:
                lines.append(f"    error: {result.error}")
            lines += [f"    {difference}" for difference in result.differences]
        excepted: dict[str, dict[str, list[str]]] = {}
        for result in self.results:
            for aspect, reason in result.exchange.ignore.items():
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
        if self.stale_exceptions:
            lines += ["", "Exceptions in fidelity.yaml that matched no exchange (stale?):"]
            lines += [f"- {key}" for key in self.stale_exceptions]
        return "\n".join(lines)


def measure_exchange(exchange: RealExchange, double_root: str) -> ExchangeResult:
    try:
        observed = send(double_root, outgoing(exchange))
    except (OSError, http.client.HTTPException) as exc:
        return ExchangeResult(exchange, error=f"the double gave no answer: {type(exc).__name__}: {exc}")
    try:
        return ExchangeResult(exchange, compare(exchange.response, observed, exchange.ignore))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return ExchangeResult(exchange, error=f"cannot compare: {type(exc).__name__}: {exc}")


def measure(corpus_dir: str | Path, double: Any) -> FidelityReport:
    """Replay every exchange of the corpus against a running double (`double.root_url`) and compare."""
    exchanges = load_exchanges(corpus_dir)
    results = [measure_exchange(exchange, double.root_url) for exchange in exchanges]
    return FidelityReport(Path(corpus_dir).resolve(), results, _stale(exchanges))


def _stale(exchanges: list[RealExchange]) -> list[str]:
    used = {key for exchange in exchanges for key in exchange.exception_keys}
    declared = declared_exceptions()
    files_present = {exchange.file.name for exchange in exchanges} | {
        exchange.file.relative_to(exchange.corpus).as_posix() for exchange in exchanges
    }
    # Only entries for files in this corpus can be stale here; another corpus may hold the rest.
    return [key for key in declared if key.split(" [", 1)[0] in files_present and key not in used]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.fidelity.measure",
        description="Measure the Z.AI double against every real recording in a corpus (shapes, not content).",
    )
    parser.add_argument("corpus", nargs="?", help=f"corpus folder (default: {DEFAULT_CORPUS})")
    parser.add_argument("-v", "--verbose", action="store_true", help="also list the judgement calls made on loading")
    args = parser.parse_args(argv)
    corpus = Path(args.corpus) if args.corpus else DEFAULT_CORPUS
    if not corpus.is_dir():
        print(f"no corpus folder at {corpus}", file=sys.stderr)
        return 2
    from conformance.double.server import running

    with running() as double:
        report = measure(corpus, double)
    print(report.render(verbose=args.verbose))
    return 0 if report.total and report.matching == report.total else 1


if __name__ == "__main__":
    sys.exit(main())
