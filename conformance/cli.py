"""`zai-conformance`: run the matrix, re-render reports, import public recordings, list cells.

`run` is pytest over the conformance suites with the plugin's options, so `zai-conformance run` and
`pytest suites` are the same run. Exit codes: 0 every cell as expected; 1 some cell differs from
its expectation; 2 a usage error (the message says what to fix), or the reports folder is in use
by another run. `report` exits 1 when a run directory had a corrupt line (the report is written
without it; a torn last line, from a run killed mid-write, is only a warning). `diff` exits 0 when
nothing changed between the two runs, 1 when a cell was added, removed or changed, 2 if one cannot
be read.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from conformance import __version__
from conformance.fidelity.history import add_arguments as history_arguments
from conformance.fidelity.measure import add_arguments as fidelity_arguments
from conformance.options import add_cli_options, pytest_argv
from conformance.recording.modes import RecordMode
from conformance.report.reasoning import add_arguments as reasoning_arguments
from conformance.workflows.conversations import add_arguments as conversations_arguments

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _suites_dir() -> Path:
    for candidate in (Path.cwd() / "suites", PROJECT_ROOT / "suites"):
        if (candidate / "test_matrix.py").is_file():
            return candidate
    raise SystemExit(
        "zai-conformance: cannot find the conformance suites (suites/test_matrix.py). "
        "Run from a checkout of zai-conformance."
    )


def workers_for(given: str | None, live: bool) -> int:
    """How many processes run the cells. Replay: one per core this process may use (each worker
    starts its own proxy, so a one-core machine keeps one). Live: one — Z.AI limits concurrent
    requests per key (HTTP 429, code 1302), and parallel calls would turn verdicts into rate limits."""
    import importlib.util

    if given is None or given == "auto":
        if live or importlib.util.find_spec("xdist") is None:  # an environment without pytest-xdist: one
            return 1
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
    try:
        count = int(given)
    except ValueError:
        count = 0
    if count < 1:
        raise SystemExit(f"zai-conformance run: --workers {given!r}: give a whole number of processes >= 1, or auto")
    if count > 1 and importlib.util.find_spec("xdist") is None:
        raise SystemExit("zai-conformance run: --workers needs pytest-xdist, which this environment lacks")
    return count


def cmd_run(args: argparse.Namespace) -> int:
    import pytest

    # --assert=plain: the suite has no assert to explain, and rewriting every harness module (pytest
    # rewrites a plugin's whole distribution) costs each process a second; hypothesis is for the tests.
    argv = [str(_suites_dir()), "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--assert=plain"]
    argv += ["-q" if not args.verbose else "-v", "-rfE"]
    from conformance.session import UsageError, chosen_record_mode

    try:
        record_mode = chosen_record_mode(args.live, args.record_mode)
    except UsageError as exc:
        print(f"zai-conformance run: {exc}", file=sys.stderr)
        return 2
    workers = workers_for(args.workers, record_mode.records)
    if args.cell and not any(set("*?[") & set(pattern) for pattern in args.cell):
        workers = min(workers, len(args.cell))  # named cells only (a bisect probe): no idle worker to start
    if workers > 1:
        argv += ["-n", str(workers)]
    argv += pytest_argv(args)
    if record_mode.records and not os.environ.get("ZAI_API_KEY"):
        print(f"zai-conformance: ZAI_API_KEY is not set: {_skipped_without_key(record_mode)}.", file=sys.stderr)
    from conformance.progress import Progress

    code = pytest.main(argv + list(args.pytest_args), plugins=[Progress()])
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED):
        return 2  # pytest has printed the reason
    if args.summary_md:
        _summary(Path(args.reports or "reports"), Path(args.summary_md))
    return 0 if code == pytest.ExitCode.OK else 1


def _skipped_without_key(record_mode: RecordMode) -> str:
    """What a recording run without a key does, for the line that says the key is missing."""
    if record_mode is RecordMode.ALL:
        return "every live cell will be SKIPPED"
    if record_mode is RecordMode.ONCE:
        return "--record-mode once records nothing; the cells with no live recording will be SKIPPED, the rest replayed"
    return f"--record-mode {record_mode.value} records nothing; every cell it would record will be SKIPPED"


def _summary(reports: Path, target: Path, document: dict | None = None) -> None:
    """Write the Markdown summary of the run whose results are in `reports` (or of `document`)."""
    from conformance.results import load_results
    from conformance.workflows.summary import write_summary

    try:
        write_summary(document or load_results(reports / "results.json"), reports, target)
    except (OSError, ValueError) as exc:
        print(f"zai-conformance: no summary written to {target}: {exc}", file=sys.stderr)


def cmd_report(args: argparse.Namespace) -> int:
    """Re-render. From a run directory, every good line of its cells files is rendered and each bad
    one named on stderr and in the report's header: a torn last line (a run killed mid-write) exits 0,
    any other bad line exits 1. Several results (the shards of one run, `run --shard I/N`) are combined
    into one document first. The output folder is taken like a run takes it (never two writers)."""
    from conformance.report import write_reports
    from conformance.reports_lock import ReportsBusy, ReportsLock
    from conformance.results import load_results, load_run_dir, write_json
    from conformance.session import UsageError, check_folder

    try:
        check_folder(Path(args.out), "--out")
    except UsageError as exc:
        print(f"zai-conformance report: {exc}", file=sys.stderr)
        return 2
    loaded = []
    bad_lines = []
    for source in map(Path, args.results or ["reports/results.json"]):
        try:
            document, bad = load_run_dir(source) if source.is_dir() else (load_results(source), [])
        except (OSError, ValueError) as exc:
            print(f"zai-conformance report: cannot read {source}: {exc}", file=sys.stderr)
            return 2
        loaded.append((source, document))
        bad_lines += bad
    for bad in bad_lines:
        print(f"zai-conformance report: warning: {bad}", file=sys.stderr)
    combined = len(loaded) > 1
    if combined:
        try:
            document = _combined(loaded)
        except ValueError as exc:
            print(f"zai-conformance report: {exc}", file=sys.stderr)
            return 2
    elif loaded[0][0].is_dir():  # a run that never finished: compare its streamed cells as its session would
        document = _with_equivalence(loaded[0][1])
    else:
        document = loaded[0][1]
    out = Path(args.out)
    try:
        with ReportsLock(out):
            if combined or loaded[0][0].is_dir():
                write_json(out / "results.json", document)
            written = write_reports(document, out)
    except ReportsBusy as exc:
        print(f"zai-conformance report: {exc}", file=sys.stderr)
        return 2
    print(f"report: {written['html']}" + (f" ({len(loaded)} shards combined)" if combined else ""))
    if args.summary_md:
        _summary(out, Path(args.summary_md), document)
    return 1 if any(not bad.torn for bad in bad_lines) else 0


def _combined(loaded: list) -> dict:
    """The shards' documents as one run's, cells in the catalogue's order."""
    from conformance.catalogue import CatalogueError, load_named_catalogue
    from conformance.workflows.shards import combine

    try:
        catalogue = load_named_catalogue(loaded[0][1]["run"].get("catalogue"))
    except CatalogueError as exc:
        raise ValueError(f"cannot order the shards' cells: {exc}") from None
    order = {cell.id: position for position, cell in enumerate(catalogue.cells)}
    document = combine([(str(source), document) for source, document in loaded], order)
    return _with_equivalence(document)


def _with_equivalence(document: dict) -> dict:
    """The document with its streamed vs non-streamed section, paired by the catalogue its run names;
    as it is, with a warning, when that catalogue cannot be loaded any more."""
    from conformance.catalogue import CatalogueError, load_named_catalogue
    from conformance.equivalence import equivalence_summary

    try:
        twins = load_named_catalogue(document["run"].get("catalogue")).stream_twins
    except CatalogueError as exc:
        print(f"zai-conformance report: warning: streamed cells not compared: {exc}", file=sys.stderr)
        return document
    return {**document, "equivalence": equivalence_summary(document["cells"], twins)}


def cmd_import(args: argparse.Namespace) -> int:
    from conformance.catalogue import load_catalogue
    from conformance.recording.importer import import_recordings, read_index

    sources: list[Path] = []
    index_path = Path(args.index) if args.index else None
    for given in map(Path, args.sources):
        if given.is_dir():
            # which files in a folder are candidates goes by name (a folder also holds INDEX.tsv, notes);
            # what each one is goes by content (recording/formats.py)
            sources += sorted(p for p in given.iterdir() if p.is_file() and _cassette_name(p.name))
            if index_path is None and (given / "INDEX.tsv").is_file():
                index_path = given / "INDEX.tsv"
        elif given.is_file():
            sources.append(given)
        else:
            print(f"zai-conformance import: {given}: no such file or directory", file=sys.stderr)
            return 2
    index = read_index(index_path) if index_path else {}
    report = import_recordings(
        sources, load_catalogue(args.catalogue), Path(args.cassettes), args.project, args.license, index
    )
    for line in report.lines():
        print(line)
    return 0


_CASSETTE_SUFFIXES = (".yaml", ".yml", ".json")


def _cassette_name(name: str) -> bool:
    return name.removesuffix(".gz").endswith(_CASSETTE_SUFFIXES)


def cmd_cells(args: argparse.Namespace) -> int:
    from conformance.recording.evidence import EvidenceStore
    from conformance.session import ConformanceSession

    session = ConformanceSession.from_options(cells=args.cell, catalogue=args.catalogue, cassettes=args.cassettes)
    store = EvidenceStore(session.settings.cassette_root)
    for cell in session.selected_cells():
        evidence = store.find(cell)
        state = (
            f"not applicable: {cell.not_applicable}"
            if cell.not_applicable
            else (evidence.kind if evidence else "double (served at run time)")
        )
        print(f"{cell.id}\t{state}")
    return 0


def cmd_double(args: argparse.Namespace) -> int:
    from conformance.double.eras import UnknownEra
    from conformance.double.server import MAX_HANG, ListenError, serve_forever

    try:
        serve_forever(args.port, args.host, max_hang=args.max_hang or MAX_HANG, era=args.era)
    except (ListenError, UnknownEra) as exc:  # a busy port, a bad host, an unknown era: one line, not a traceback
        print(f"zai-conformance double: {exc}", file=sys.stderr)
        return 2
    return 0


def _seconds(text: str) -> float:
    """A positive, finite number of seconds (argparse type): a socket timeout must be one."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return value


def cmd_doctor(args: argparse.Namespace) -> int:
    from conformance.agent_configs import read_configuration
    from conformance.catalogue import load_catalogue
    from conformance.doctor import as_json, config_checks, diagnose, render
    from conformance.envfile import target_from
    from conformance.session import UsageError, parse_base_urls

    catalogue = load_catalogue(args.catalogue)
    variables, agent = read_configuration(args.env_file, catalogue) if args.env_file else ({}, None)
    target = target_from(variables, catalogue) if args.env_file else None
    base_urls = parse_base_urls(args.base_url, catalogue, os.environ)
    if target is not None and target.base_url and target.endpoint not in base_urls:
        base_urls[target.endpoint] = target.base_url
    key, source = os.environ.get("ZAI_API_KEY"), "the environment (ZAI_API_KEY)"
    if target is not None and target.api_key:
        key, source = target.api_key, f"{args.env_file} ({', '.join(v for v in target.used if 'KEY' in v)})"
    model = args.model or (target.model if target else None)
    if model is not None and model not in {m.id for m in catalogue.models}:
        raise UsageError(f"--model {model}: not in the catalogue")
    endpoints = args.endpoint or ([target.endpoint] if target is not None and target.endpoint else None)
    checks = diagnose(catalogue, key, source, base_urls, model, endpoints, args.path, every_model=args.models)
    if agent is not None:
        checks = [*config_checks(agent), *checks]
    print(as_json(checks) if args.json else render(checks))
    return 1 if any(check.ok is False for check in checks) else 0


def cmd_diff(args: argparse.Namespace) -> int:
    import json

    from conformance.comparison import diff_documents
    from conformance.workflows.diff import load_pair, render, write_page

    try:
        old, new = load_pair(Path(args.old), Path(args.new))
        diff = diff_documents(old, new, str(Path(args.old)), str(Path(args.new)))
    except (OSError, ValueError, KeyError) as exc:
        print(f"zai-conformance diff: cannot read the results: {exc}", file=sys.stderr)
        return 2
    if args.html:
        try:
            page = write_page(diff, old, new, Path(args.html))
        except OSError as exc:
            print(f"zai-conformance diff: cannot write the page: {exc}", file=sys.stderr)
            return 2
        print(f"zai-conformance diff: page {page}", file=sys.stderr)
    print(json.dumps(diff.to_dict(), indent=2, ensure_ascii=False) if args.json else render(diff, args.limit))
    return 1 if diff.any else 0


def _write_matrix(document: dict, out: Path) -> Path:
    from conformance.report.matrix import render_matrix
    from conformance.results import write_json, write_text

    write_json(out / "matrix.json", document)
    write_text(out / "matrix.html", render_matrix(document))
    return out / "matrix.html"


def cmd_matrix(args: argparse.Namespace) -> int:
    from conformance.catalogue import load_catalogue
    from conformance.clients.sets import ClientSetError, load_sets, parse_spec
    from conformance.workflows.matrix import merged, run_sets

    def progress(line: str) -> None:
        print(f"matrix: {line}", flush=True)

    try:
        known = load_sets(args.sets)
        sets = [parse_spec(spec, known) for spec in (args.clients or ["default"])]
        outcomes, _ = run_sets(
            sets, Path(args.reports), args.cell, load_catalogue(args.catalogue), args.run_args, progress
        )
    except (ClientSetError, RuntimeError) as exc:
        print(f"zai-conformance matrix: {exc}", file=sys.stderr)
        return 2
    if not outcomes:
        return 0
    document = merged(outcomes)
    html = _write_matrix(document, Path(args.reports))
    print(f"matrix: {len(document['changes'])} verdict change(s) between adjacent sets; report {html}")
    for line in change_summary(document["changes"]):
        print(f"  {line}")
    return 0 if all(o.exit_code in (0, 1) for o in outcomes) else 1


def cmd_clients(args: argparse.Namespace) -> int:
    from conformance.clients.sets import ClientSetError, build, built, load_sets

    sets = load_sets(args.sets)
    wanted = list(sets) if args.all else [name for name, s in sets.items() if s.ci] if args.ci else args.build
    try:
        for name in wanted:
            if name not in sets:
                raise ClientSetError(f"no client set {name!r} (known: {', '.join(sets)})")
            environment = build(sets[name], progress=lambda line: print(f"clients: {line}", flush=True))
            took = f"built in {environment.built_s:.0f} s" if environment.built_s else "cached"
            print(f"clients: {name}: {environment.root} ({took})")
    except ClientSetError as exc:
        print(f"zai-conformance clients: {exc}", file=sys.stderr)
        return 2
    if not wanted:
        for name, client_set in sets.items():
            state = "built" if built(client_set) else "not built"
            print(f"{name}\t{client_set.label}\t{state}{' (ci)' if client_set.ci else ''}\t{client_set.title}")
    return 0


def change_summary(changes: list[dict]) -> list[str]:
    """One line per kind of change (sets, path, verdicts, clients that moved), with a count and an example."""
    groups: dict[tuple, list[dict]] = {}
    for change in changes:
        key = (change["from_set"], change["to_set"], change["cell"].split("/")[2], change["from"], change["to"])
        groups.setdefault(key, []).append(change)
    lines = []
    for (before, after, path, old, new), items in groups.items():
        moved = ", ".join(f"{n} {a} → {b}" for n, (a, b) in items[0]["clients_changed"].items())
        lines.append(
            f"{before} → {after} ({moved}): {path} {old} → {new} in {len(items)} cell(s), e.g. {items[0]['cell']}"
        )
    return lines


def cmd_merge(args: argparse.Namespace) -> int:
    from conformance.workflows.merge import load_set_runs, merge

    try:
        document = merge(load_set_runs([Path(p) for p in args.results], args.name))
    except (OSError, ValueError, KeyError) as exc:
        print(f"zai-conformance merge: {exc}", file=sys.stderr)
        return 2
    html = _write_matrix(document, Path(args.out))
    print(f"merged {len(document['sets'])} client set(s): {len(document['changes'])} verdict change(s); report {html}")
    return 0


def cmd_bisect(args: argparse.Namespace) -> int:
    import json

    from conformance.clients import registry
    from conformance.clients.sets import ClientSetError
    from conformance.workflows.bisect import bisect, cell_runner

    def progress(line: str) -> None:
        print(f"bisect: {line}", file=sys.stderr, flush=True)

    try:
        found = registry.releases(args.package)
        run = cell_runner(args.package, args.cell, progress)
        result = bisect(args.package, args.cell, args.good, args.bad, found, run)
    except (registry.RegistryError, ClientSetError) as exc:
        print(f"zai-conformance bisect: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.render())
    return 0


def cmd_fidelity(args: argparse.Namespace) -> int:
    from conformance.fidelity.measure import run

    return run(args)


def cmd_wire_history(args: argparse.Namespace) -> int:
    from conformance.fidelity.history import run

    return run(args)


def cmd_reasoning(args: argparse.Namespace) -> int:
    from conformance.report.reasoning import run

    return run(args)


def cmd_conversations(args: argparse.Namespace) -> int:
    from conformance.workflows.conversations import main as conversations_main

    return conversations_main([args.corpus, "--per", args.per, *(["--out", args.out] if args.out else [])])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zai-conformance", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"zai-conformance {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the matrix (replay by default) and write reports/index.html")
    add_cli_options(run)
    run.add_argument("-v", "--verbose", action="store_true", help="one line per cell")
    run.add_argument(
        "--workers",
        metavar="N",
        help="processes that run the cells (pytest-xdist): default auto — one per core in replay, 1 when "
        "recording (--live, --record-mode other than none)",
    )
    run.add_argument(
        "--summary-md",
        metavar="FILE",
        help="also write a Markdown summary there (e.g. $GITHUB_STEP_SUMMARY): counts, unexpected cells, changes "
        "since the previous run in the reports folder, paths × features; under GitHub Actions, unexpected cells "
        "as annotations",
    )
    run.add_argument("pytest_args", nargs="*", help="extra pytest arguments, after --")
    run.set_defaults(func=cmd_run)

    report = sub.add_parser("report", help="re-render reports from saved results")
    report.add_argument(
        "results",
        nargs="*",
        help="results.json, or a run directory reports/runs/<id> (default: reports/results.json); "
        "several: the shards of one run (`run --shard I/N`), combined into one report",
    )
    report.add_argument("--out", default="reports", help="output directory (default: reports)")
    report.add_argument(
        "--summary-md",
        metavar="FILE",
        help="also write a Markdown summary there (e.g. $GITHUB_STEP_SUMMARY): counts, unexpected cells, changes "
        "since the previous run in <out>/runs, paths × features; under GitHub Actions, unexpected cells as annotations",
    )
    report.set_defaults(func=cmd_report)

    imp = sub.add_parser(
        "import",
        help="import cassettes of real Z.AI traffic (go-vcr v1/v2, vcrpy / pytest-recording YAML or JSON, "
        "zai-conformance) as public evidence",
        description="Import cassettes of real Z.AI traffic as public evidence. Read: go-vcr v1 and v2, "
        "vcrpy / pytest-recording YAML or JSON (gzip/deflate bodies decoded, !!binary bodies, parsed_body), "
        "and zai-conformance's own format; the format is told by content, never by file name. Each written "
        "cassette's provenance names the source format and whether its bodies are byte-exact, decoded or "
        "re-serialised. A file in no known format is skipped with a message naming it.",
    )
    imp.add_argument(
        "sources",
        nargs="+",
        help="cassette files (any name), or directories (their *.yaml, *.yml, *.json and *.gz files)",
    )
    imp.add_argument("--project", required=True, help="source project, e.g. charmbracelet/fantasy")
    imp.add_argument("--license", help="the source project's license, e.g. MIT")
    imp.add_argument("--index", help="INDEX.tsv naming each file's original path, commit and date")
    imp.add_argument("--cassettes", default="cassettes", help="cassette root (default: cassettes)")
    imp.add_argument("--catalogue", metavar="FILE", help="catalogue file (default: the packaged one)")
    imp.set_defaults(func=cmd_import)

    double = sub.add_parser("double", help="serve the Z.AI double on a loopback port (synthetic answers)")
    double.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    double.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    double.add_argument(
        "--max-hang",
        type=_seconds,
        metavar="SECONDS",
        help="longest a hung or slow request is held for a client that stays connected (default 600)",
    )
    double.add_argument(
        "--era",
        help="answer in Z.AI's wire shapes of an era, by name (e.g. 2025-10) or date (YYYY-MM-DD); "
        "default: the newest recordings' (conformance/double/data/wire_eras.yaml)",
    )
    double.set_defaults(func=cmd_double)

    doctor = sub.add_parser(
        "doctor", help="check a setup end to end: key, endpoint/plan match, model, one round trip per path"
    )
    doctor.add_argument(
        "--env-file",
        metavar="FILE",
        help="a .env with ZAI_API_KEY / ZAI_BASE_URL / GLM_MODEL, or an agent's own file: OpenHands or Codex "
        "config.toml, Claude Code settings.json, a LiteLLM proxy config, Agent Zero model_providers.yaml",
    )
    doctor.add_argument("--base-url", action="append", default=[], metavar="ENDPOINT=URL")
    doctor.add_argument("--model", help="the model to try (default glm-4.5-air, on both plans)")
    doctor.add_argument("--endpoint", action="append", default=[], help="only this endpoint; repeatable")
    doctor.add_argument(
        "--path",
        action="append",
        default=[],
        metavar="PATTERN",
        help="client paths to try (default: all but the proxy)",
    )
    doctor.add_argument(
        "--models",
        action="store_true",
        help="also ask every catalogue model once (one token each) to list those the key's plan leaves out",
    )
    doctor.add_argument("--catalogue", metavar="FILE")
    doctor.add_argument("--json", action="store_true", help="machine-readable output")
    doctor.set_defaults(func=cmd_doctor)

    fidelity = sub.add_parser("fidelity", help="measure the double against every real recording in a corpus")
    fidelity_arguments(fidelity)
    fidelity.set_defaults(func=cmd_fidelity)
    reasoning = sub.add_parser("reasoning", help="the reasoning-control matrix of a run, per path (Markdown)")
    reasoning_arguments(reasoning)
    reasoning.set_defaults(func=cmd_reasoning)
    history = sub.add_parser("wire-history", help="when Z.AI's wire changed, per model and recording date")
    history_arguments(history)
    history.set_defaults(func=cmd_wire_history)

    diff = sub.add_parser(
        "diff", help="what changed between two runs (results.json or run folders); exit 1 if anything did"
    )
    diff.add_argument("old", help="results.json or reports/runs/<id> of the earlier run")
    diff.add_argument("new", help="results.json or reports/runs/<id> of the later run")
    diff.add_argument("--json", action="store_true", help="machine-readable output")
    diff.add_argument("--limit", type=int, default=50, help="cells listed per kind of change (default 50)")
    diff.add_argument("--html", metavar="FILE", help="also write the diff as a self-contained page, by kind of change")
    diff.set_defaults(func=cmd_diff)

    matrix = sub.add_parser(
        "matrix", help="judge the cells under several client sets (environments built with uv) → matrix.html"
    )
    matrix.add_argument(
        "--clients",
        action="append",
        metavar="NAME|PINS",
        help="a client set from conformance/data/client_sets.yaml, or pins like litellm==1.108.7,openai==2.54.0; "
        "repeatable, compared in the order given (default: default)",
    )
    matrix.add_argument(
        "--cell", action="append", default=[], metavar="PATTERN", help="cells to run (default: every cell whose "
        "path uses a client that differs between the sets)",
    )  # fmt: skip
    matrix.add_argument("--reports", default="reports/matrix", help="output folder (default: reports/matrix)")
    matrix.add_argument("--sets", metavar="FILE", help="client sets file (default: the packaged one)")
    matrix.add_argument("--catalogue", metavar="FILE")
    matrix.add_argument("run_args", nargs="*", help="after --: options for each set's `zai-conformance run`")
    matrix.set_defaults(func=cmd_matrix)

    clients = sub.add_parser("clients", help="list the client sets, or build their environments (uv, cached)")
    clients.add_argument("--build", action="append", default=[], metavar="NAME", help="build this set; repeatable")
    clients.add_argument("--ci", action="store_true", help="build the sets marked ci (scripts/bootstrap does)")
    clients.add_argument("--all", action="store_true", help="build every set")
    clients.add_argument("--sets", metavar="FILE", help="client sets file (default: the packaged one)")
    clients.set_defaults(func=cmd_clients)

    merge = sub.add_parser("merge", help="combine per-client-set results (e.g. from a CI job matrix) into one report")
    merge.add_argument("results", nargs="+", help="results.json or run folders, one per client set, in order")
    merge.add_argument("--name", action="append", help="the set name of each input, in order (default: from the run)")
    merge.add_argument("--out", default="reports/matrix", help="output folder (default: reports/matrix)")
    merge.set_defaults(func=cmd_merge)

    bisect = sub.add_parser("bisect", help="find the first release of a package that changed a cell's verdict")
    bisect.add_argument("package", help="a client distribution, e.g. litellm")
    bisect.add_argument("--cell", required=True, help="one cell id, e.g. coding/glm-4.6/litellm-zai/thinking-disabled")
    bisect.add_argument("--good", required=True, help="a release with the old verdict")
    bisect.add_argument("--bad", required=True, help="a release with the new verdict")
    bisect.add_argument("--json", action="store_true", help="machine-readable output")
    bisect.set_defaults(func=cmd_bisect)

    cells = sub.add_parser("cells", help="list cells and the evidence each has")
    cells.add_argument("--cell", action="append", default=[], metavar="PATTERN")
    cells.add_argument("--cassettes", metavar="DIR")
    cells.add_argument("--catalogue", metavar="FILE")
    cells.set_defaults(func=cmd_cells)

    conversations = sub.add_parser(
        "conversations", help="derive recorded-conversation scenarios from a corpus of real agent recordings"
    )
    conversations_arguments(conversations)
    conversations.set_defaults(func=cmd_conversations)
    return parser


def main(argv: list[str] | None = None) -> int:
    from conformance.catalogue import CatalogueError
    from conformance.expectations import ExpectationsError
    from conformance.gc_guard import collect_off_thread
    from conformance.session import USAGE_ERRORS

    args = build_parser().parse_args(argv)
    collect_off_thread()  # see conformance.gc_guard: the clients' finalisers must not run inside a set
    try:
        return args.func(args)
    except (CatalogueError, ExpectationsError, *USAGE_ERRORS) as exc:
        print(f"zai-conformance: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
