"""The run in pictures (issue 16 §4): four inline SVG charts for the report's page.

A reader who wants to know where a run stands looks at a picture before reading 36 matrices of
12,000 cells: the verdict mix per client path, how much of it rests on real Z.AI bytes, where the
run's time went, and what each path does to a reasoning control on its way to Z.AI.

Everything is drawn from the results document (and the catalogue, which says which scenarios steer
reasoning) as inline SVG with presentation attributes only: the page's Content-Security-Policy blocks
style attributes and scripts, and the page opens with no network, so nothing here loads a font, an
image or a stylesheet. Colour is never the only cue: a segment carries its letter (and its count when
it fits), a square its word, each has a tooltip, and text drawn on a fill meets WCAG AA contrast.
Path and scenario names come from data, so every text is escaped. The viewBox scales the pictures to
the page's width; at 1440 px their text is drawn at 11 px or more.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from conformance.catalogue import Catalogue, Scenario, load_catalogue
from conformance.checks.control import Fate, lookup
from conformance.report.reasoning import Outcome, outcomes
from conformance.verdict import Verdict

FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
INK = "#1f2328"  # the page's text colour
MUTED = "#59636e"
WIDTH = 960  # the bar charts' viewBox width: at the page's full width on a 1440 px screen, 12 units ≥ 11 px
ROW = 22  # one bar's row
BAR = 16
NAME_LIMIT = 34  # characters of a path or scenario name drawn; the tooltip has it whole
# The page's width for a figure at 1440 px (main's and the figure's margins off): a viewBox no wider keeps
# 11-unit text at 11 px or more there.
PAGE_WIDTH = 1300
SQUARE = 60  # the heat map's column: "as written" at 11 units fits, with room…
NARROWEST_SQUARE = 52  # …and still fits in this, when many controls share the page's width
SQUARE_ROW = 24


@dataclass(frozen=True)
class Kind:
    """One category a chart draws: its key in the data, the letter or word drawn on it, its legend
    name, its fill and the ink of text on that fill (the pair meets WCAG AA, 4.5:1)."""

    key: str
    letter: str
    name: str
    fill: str
    ink: str
    stroke: str | None = None  # an outline, dashed, where the fill is as light as the page
    hatch: str | None = None  # a second stripe colour: synthetic bytes are hatched, as in the matrix badges

    @property
    def paint(self) -> str:
        return f"url(#charts-hatch-{self.key})" if self.hatch else self.fill


@dataclass(frozen=True)
class PathBar:
    """One path's cells, counted per kind (in the kinds' order; kinds with no cell left out)."""

    path: str
    counts: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return sum(count for _, count in self.counts)


@dataclass(frozen=True)
class PathTime:
    """Where a path's share of the run's time went: summed over its cells, and a typical cell."""

    path: str
    total_ms: float
    median_ms: float
    cells: int


@dataclass(frozen=True)
class Square:
    """One path × control: the fate's word (or "mixed") and, for the tooltip, which fate where."""

    label: str
    detail: str


@dataclass(frozen=True)
class ControlGrid:
    """The heat map: paths (rows), control scenarios (columns, with the control as written), squares."""

    paths: tuple[str, ...]
    scenarios: tuple[tuple[str, str], ...]
    squares: Mapping[tuple[str, str], Square]


# The verdict vocabulary's colours are the matrix badges' (report.css); a letter names each one.
VERDICT_KINDS = (
    Kind(Verdict.PASS.value, "P", "PASS", "#1a7f37", "#fff"),
    Kind(Verdict.DEVIATION.value, "D", "DEVIATION", "#f2c744", "#3b2c00"),
    Kind(Verdict.FAIL.value, "F", "FAIL", "#cf222e", "#fff"),
    Kind(Verdict.UNSUPPORTED.value, "U", "UNSUPPORTED", "#6e40c9", "#fff"),
    Kind(Verdict.BLOCKED.value, "B", "BLOCKED", "#953800", "#fff"),
    Kind(Verdict.TRANSIENT.value, "T", "TRANSIENT", "#1b7c83", "#fff"),
    Kind(Verdict.HANG.value, "H", "HANG", "#4c0519", "#fff"),
    Kind(Verdict.SKIPPED.value, "S", "SKIPPED", "#d1d9e0", INK),
    Kind(Verdict.NOT_RECORDED.value, "N", "NOT_RECORDED", "#fff", MUTED, stroke="#8c959f"),
)

NOT_ZAI = "not-zai"
NO_EVIDENCE = "none"
EVIDENCE_KINDS = (
    Kind("public", "P", "public · real", "#0550ae", "#fff"),
    Kind("live", "L", "live · real", "#116329", "#fff"),
    Kind(NOT_ZAI, "X", "recorded, not Z.AI", "#b3261e", "#fff"),
    Kind("double", "D", "double · synthetic", "#ffd8b5", "#7a2e00", hatch="#fff1e5"),
    Kind(NO_EVIDENCE, "–", "no evidence used", "#eaeef2", "#424a53"),
)

MIXED = "mixed"
FATE_KINDS = (
    Kind(Fate.AS_WRITTEN.value, "as written", "as written", "#aceebb", INK),
    Kind(Fate.CHANGED.value, "changed", "changed: same field, another value", "#fae17d", INK),
    Kind(Fate.RENAMED.value, "renamed", "renamed: another reasoning field", "#b6e3ff", INK),
    Kind(Fate.DROPPED.value, "dropped", "dropped: no reasoning field", "#ffaba8", INK),
    Kind(Fate.REFUSED.value, "refused", "refused by the client: nothing sent", "#d8b9ff", INK),
    Kind(MIXED, MIXED, "mixed: differs by endpoint or model", "#fff", INK, stroke="#59636e"),
)
TIME_FILL = "#0969da"


def charts_section(document: dict[str, Any], catalogue: Catalogue | None = None) -> Markup:
    """The page's charts section: four figures drawn from a results document. `catalogue` says which
    scenarios steer reasoning (default: the packaged one)."""
    catalogue = catalogue if catalogue is not None else load_catalogue()
    figures = [
        verdicts_figure(verdicts_per_path(document)),
        evidence_figure(evidence_per_path(document)),
        time_figure(time_per_path(document)),
        controls_figure(control_grid(document, catalogue)),
    ]
    return Markup(
        '<section id="charts" aria-labelledby="charts-heading">'
        '<h2 id="charts-heading">The run in pictures</h2>' + "".join(figures) + "</section>"
    )


# --- the numbers: pure counts from the document ---------------------------------------------------


def path_order(document: dict[str, Any]) -> list[str]:
    """The paths that have cells: in the catalogue's order as the run header lists them, then any other
    in the order its first cell appears."""
    present = dict.fromkeys(cell["path"] for cell in document.get("cells", []))
    listed = [entry["id"] for entry in (document.get("run") or {}).get("paths", []) if isinstance(entry, dict)]
    return [path for path in listed if path in present] + [path for path in present if path not in listed]


def verdicts_per_path(document: dict[str, Any]) -> tuple[PathBar, ...]:
    """Each path's cells per verdict, in the vocabulary's order (a verdict outside it comes last)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for cell in document.get("cells", []):
        counts[cell["path"]][str(cell["verdict"])] += 1
    return tuple(
        PathBar(path, _ordered(counts[path], [kind.key for kind in VERDICT_KINDS])) for path in path_order(document)
    )


def evidence_of(cell: dict[str, Any]) -> str:
    """The bytes a cell's verdict rests on: the kind of the evidence it used (public / live: real Z.AI
    bytes; double: synthetic), `not-zai` for recorded bytes that are not Z.AI's (a live run aimed
    elsewhere), `none` when it used no evidence (none found, or a client refused before sending)."""
    evidence = cell.get("evidence") or {}
    if not evidence.get("used"):
        return NO_EVIDENCE
    if evidence.get("kind") == "double":
        return "double"
    return str(evidence.get("kind")) if cell.get("real") else NOT_ZAI


def evidence_per_path(document: dict[str, Any]) -> tuple[PathBar, ...]:
    """Each path's cells by the bytes behind their verdicts, real first."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for cell in document.get("cells", []):
        counts[cell["path"]][evidence_of(cell)] += 1
    keys = [kind.key for kind in EVIDENCE_KINDS]
    return tuple(PathBar(path, _ordered(counts[path], keys)) for path in path_order(document))


def time_per_path(document: dict[str, Any]) -> tuple[PathTime, ...]:
    """Each path's summed cell time and its median cell, the slowest path first."""
    durations: dict[str, list[float]] = defaultdict(list)
    for cell in document.get("cells", []):
        duration = cell.get("duration_ms")
        durations[cell["path"]].append(float(duration) if isinstance(duration, int | float) else 0.0)
    times = [
        PathTime(path, sum(durations[path]), statistics.median(durations[path]), len(durations[path]))
        for path in path_order(document)
    ]
    return tuple(sorted(times, key=lambda time: -time.total_ms))  # stable: ties keep the paths' order


def control_grid(document: dict[str, Any], catalogue: Catalogue) -> ControlGrid:
    """Each path's fate of each reasoning control, over the endpoints and models it ran on. The columns
    are the control scenarios as `zai-conformance reasoning` lists them: a streamed twin tells its
    scenario's story again, so it is left out."""
    controls = {s.id: s for s in catalogue.scenarios if s.control and s.stream_of is None}
    found: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for outcome in outcomes(document, catalogue):
        if outcome.fate is not None and outcome.scenario in controls:
            found[(outcome.path, outcome.scenario)].append(outcome)
    paths = tuple(path for path in path_order(document) if any(key[0] == path for key in found))
    scenarios = tuple(
        (sid, _control_text(scenario)) for sid, scenario in controls.items() if any(key[1] == sid for key in found)
    )
    return ControlGrid(paths, scenarios, {key: _square(found[key]) for key in sorted(found)})


def _square(found: Sequence[Outcome]) -> Square:
    """One word when every endpoint and model agrees; "mixed" otherwise, the tooltip saying which fate
    where (an endpoint, or endpoint/model where its models differ)."""
    fates = list(dict.fromkeys(outcome.fate for outcome in found if outcome.fate is not None))
    places: dict[Fate, list[str]] = defaultdict(list)
    for endpoint in dict.fromkeys(outcome.endpoint for outcome in found):
        mine = [outcome for outcome in found if outcome.endpoint == endpoint]
        agree = len({outcome.fate for outcome in mine}) == 1
        for outcome in mine:
            place = endpoint if agree else f"{endpoint}/{outcome.model}"
            if outcome.fate is not None and place not in places[outcome.fate]:
                places[outcome.fate].append(place)
    detail = "; ".join(f"{fate.value} ({', '.join(places[fate])})" for fate in fates)
    if len(fates) == 1:
        return Square(_fate_kind(fates[0]).letter, detail)
    return Square(MIXED, detail)


def _control_text(scenario: Scenario) -> str:
    return ", ".join(
        f"{name}={json.dumps(lookup(scenario.params, name), ensure_ascii=False)}" for name in scenario.control
    )


def _ordered(counts: Counter[str], keys: Sequence[str]) -> tuple[tuple[str, int], ...]:
    known = [(key, counts[key]) for key in keys if counts[key]]
    return tuple(known + sorted((key, n) for key, n in counts.items() if key not in keys))


# --- the figures -------------------------------------------------------------------------------------


def verdicts_figure(bars: Sequence[PathBar]) -> str:
    kinds = _present_kinds(bars, VERDICT_KINDS)
    caption = (
        "Verdicts per client path, each bar the path's cells in the verdict vocabulary's order. "
        "A letter names each verdict (" + ", ".join(f"{k.letter} {k.name}" for k in kinds) + "); "
        "a segment shows its count where it fits, and its tooltip always does."
    )
    desc = _bars_desc(bars, {kind.key: kind.name for kind in kinds})
    svg = _stacked_bars("verdicts", bars, kinds, "Verdicts per client path", desc)
    return _figure("verdicts", svg, caption, bars)


def evidence_figure(bars: Sequence[PathBar]) -> str:
    kinds = _present_kinds(bars, EVIDENCE_KINDS)
    caption = (
        "Real against synthetic evidence per client path: the bytes each cell's verdict rests on. "
        "Public and live recordings of Z.AI are real; the double's are synthetic (hatched); "
        "“not Z.AI” is a recording made against another server; “no evidence used” is a cell "
        "with no recording, or whose client refused before sending."
    )
    desc = _bars_desc(bars, {kind.key: kind.name for kind in kinds})
    svg = _stacked_bars("evidence", bars, kinds, "Real and synthetic evidence per client path", desc)
    return _figure("evidence", svg, caption, bars)


def time_figure(times: Sequence[PathTime]) -> str:
    caption = (
        "Time per client path: the summed duration of its cells, slowest first, with its share of the "
        "run's cell time and the median cell."
    )
    run_ms = sum(time.total_ms for time in times)
    lines = [_time_text(time, run_ms) for time in times]
    desc = "; ".join(f"{time.path}: {line}" for time, line in zip(times, lines, strict=True))
    label_width = _label_width(time.path for time in times)
    text_width = max((_text_width(line, 12) for line in lines), default=0) + 12
    scale = max(time.total_ms for time in times) if times else 0
    span = max(WIDTH - label_width - text_width, 120)
    width = label_width + span + text_width
    body = []
    for index, (time, line) in enumerate(zip(times, lines, strict=True)):
        y = index * ROW
        length = span * time.total_ms / scale if scale else 0
        body.append(
            f"<g><title>{escape(time.path)}: {escape(line)}</title>{_path_label(time.path, label_width, y)}"
            f'<rect x="{label_width}" y="{_n(y + 3)}" width="{_n(length)}" height="{BAR}" fill="{TIME_FILL}"/>'
            f'<text x="{_n(label_width + length + 6)}" y="{y + 15}">{escape(line)}</text></g>'
        )
    svg = _svg("time", width, len(times) * ROW + 4, "Time per client path", desc, body)
    return _figure("time", svg, caption, times)


def controls_figure(grid: ControlGrid) -> str:
    caption = Markup(
        "What each client path does to a reasoning control on its way to Z.AI (the request it sends: its "
        "own bytes, real evidence even offline), over every endpoint and model it ran on; “mixed” where "
        "they differ, the tooltip saying which fate where. An empty square: the control is not one the "
        "path can be given, or its cell did not run. <code>zai-conformance reasoning</code> prints it as a table."
    )
    if not grid.squares:
        return (
            '<figure id="chart-controls"><figcaption>What each client path does to a reasoning control'
            "</figcaption><p>No reasoning-control cells ran in this run.</p></figure>"
        )
    labels = {kind.letter: index for index, kind in enumerate(FATE_KINDS)}
    legend, legend_height = _legend(FATE_KINDS, WIDTH, words=True)
    label_width = _label_width(grid.paths)
    header = int(max(_text_width(_clip(sid), 11) for sid, _ in grid.scenarios) * 0.9) + 10
    top = legend_height + header
    column_width = max(NARROWEST_SQUARE, min(SQUARE, (PAGE_WIDTH - label_width - 4) // len(grid.scenarios)))
    width = max(label_width + column_width * len(grid.scenarios) + 4, WIDTH)
    body = [legend]
    for column, (sid, control) in enumerate(grid.scenarios):
        x = label_width + column * column_width + column_width / 2 + 4
        body.append(
            f'<text x="{_n(x)}" y="{top - 6}" font-size="11" transform="rotate(-90 {_n(x)} {top - 6})">'
            f"<title>{escape(sid)}: {escape(control)}</title>{escape(_clip(sid))}</text>"
        )
    body.append(_square_shapes(column_width))
    for row, path in enumerate(grid.paths):
        y = top + row * SQUARE_ROW
        body.append(_path_label(path, label_width, y + 1))
        for column, (sid, _) in enumerate(grid.scenarios):
            square = grid.squares.get((path, sid))
            if square is not None:
                body.append(
                    f"<g><title>{escape(path)} · {escape(sid)}: {escape(square.detail)}</title>"
                    f'<use href="#charts-fate-{labels[square.label]}" x="{label_width + column * column_width}"'
                    f' y="{y}"/></g>'
                )
    tally = Counter(square.label for square in grid.squares.values())
    desc = (
        f"{len(grid.paths)} paths by {len(grid.scenarios)} reasoning controls. Squares per fate: "
        + ", ".join(f"{kind.letter} {tally[kind.letter]}" for kind in FATE_KINDS if tally[kind.letter])
        + ". Per path: "
        + "; ".join(_path_fates(path, grid) for path in grid.paths)
        + "."
    )
    height = top + len(grid.paths) * SQUARE_ROW + 4
    svg = _svg("controls", width, height, "Reasoning controls on the wire, per client path", desc, body)
    return _figure("controls", svg, caption, grid.paths)


def _square_shapes(width: int) -> str:
    """Each fate's square drawn once, its word on it, for every square of that fate to use: a full run
    has hundreds of squares, and each then costs a reference and its tooltip."""
    shapes = "".join(
        f'<g id="charts-fate-{index}"><rect x="1" y="1" width="{width - 2}" height="{SQUARE_ROW - 2}"'
        f' fill="{kind.paint}"{_outline(kind)}/><text x="{_n(width / 2)}" y="16" font-size="11"'
        f' text-anchor="middle"{_ink(kind)}>{escape(kind.letter)}</text></g>'
        for index, kind in enumerate(FATE_KINDS)
    )
    return f"<defs>{shapes}</defs>"


def _path_fates(path: str, grid: ControlGrid) -> str:
    tally = Counter(square.label for (row, _), square in grid.squares.items() if row == path)
    return f"{path}: " + ", ".join(f"{kind.letter} {tally[kind.letter]}" for kind in FATE_KINDS if tally[kind.letter])


def _fate_kind(fate: Fate) -> Kind:
    return next(kind for kind in FATE_KINDS if kind.key == fate.value)


def _stacked_bars(name: str, bars: Sequence[PathBar], kinds: Sequence[Kind], title: str, desc: str) -> str:
    """One bar per path, the full width its cells; segments in the kinds' order, each with its letter
    and count where they fit and its count in a tooltip; the path's cell count at the bar's end."""
    by_key = {kind.key: kind for kind in kinds}
    legend, top = _legend(kinds, WIDTH)
    label_width = _label_width(bar.path for bar in bars)
    total_width = max((_text_width(f"{bar.total} cells", 12) for bar in bars), default=0) + 12
    span = WIDTH - label_width - total_width
    shapes, texts = [], []
    for index, bar in enumerate(bars):
        y = top + index * ROW
        texts.append(_path_label(bar.path, label_width, y))
        start = 0
        for key, count in bar.counts:
            kind = by_key[key]
            x0 = label_width + span * start / bar.total
            x1 = label_width + span * (start + count) / bar.total
            start += count
            shapes.append(
                f'<rect x="{_n(x0)}" y="{y + 3}" width="{_n(x1 - x0)}" height="{BAR}" fill="{kind.paint}"'
                f"{_outline(kind)}><title>{escape(bar.path)}: {escape(kind.name)} {count}</title></rect>"
            )
            texts.append(_segment_text(kind, count, x0, x1, y))
        texts.append(f'<text x="{WIDTH - total_width + 6}" y="{y + 15}" fill="{MUTED}">{_cells(bar.total)}</text>')
    body = [legend, _shapes(shapes, ' stroke="#fff"'), _texts(texts)]
    return _svg(name, WIDTH, top + len(bars) * ROW + 4, title, desc, body)


def _segment_text(kind: Kind, count: int, x0: float, x1: float, y: int) -> str:
    """The letter and count where both fit, the letter alone where only it does, else nothing."""
    for text in (f"{kind.letter} {count}", kind.letter):
        if _text_width(text, 12) + 4 <= x1 - x0:
            return f'<text x="{_n((x0 + x1) / 2)}" y="{y + 15}" text-anchor="middle"{_ink(kind)}>{escape(text)}</text>'
    return ""


def _legend(kinds: Sequence[Kind], width: int, words: bool = False) -> tuple[str, int]:
    """A legend, wrapped to the chart's width: each kind's swatch with its letter (or its word) drawn
    on it, then its name. Returns the markup and the height it takes."""
    items, x, y = [], 0.0, 0
    for kind in kinds:
        swatch = max(_text_width(kind.letter, 11) + 8, 16) if words else 16
        name = "" if words and kind.name == kind.letter else kind.name
        advance = swatch + 6 + (_text_width(name, 12) if name else 0) + 18
        if x and x + advance > width:
            x, y = 0.0, y + ROW
        items.append(
            f'<rect x="{_n(x)}" y="{y + 2}" width="{_n(swatch)}" height="16" fill="{kind.paint}"{_outline(kind)}/>'
            f'<text x="{_n(x + swatch / 2)}" y="{y + 14}" font-size="11" text-anchor="middle" fill="{kind.ink}">'
            f"{escape(kind.letter)}</text>"
            + (f'<text x="{_n(x + swatch + 6)}" y="{y + 15}">{escape(name)}</text>' if name else "")
        )
        x += advance
    patterns = [_hatch(kind) for kind in kinds if kind.hatch]
    defs = f"<defs>{''.join(patterns)}</defs>" if patterns else ""
    return defs + "<g>" + "".join(items) + "</g>", y + ROW + 8


def _hatch(kind: Kind) -> str:
    return (
        f'<pattern id="charts-hatch-{escape(kind.key)}" width="6" height="6" patternUnits="userSpaceOnUse"'
        f' patternTransform="rotate(45)"><rect width="6" height="6" fill="{kind.hatch}"/>'
        f'<rect width="3" height="6" fill="{kind.fill}"/></pattern>'
    )


def _shapes(shapes: Sequence[str], attributes: str = "") -> str:
    return f"<g{attributes}>{''.join(shapes)}</g>"


def _texts(texts: Sequence[str], attributes: str = "") -> str:
    """Texts drawn over shapes let the pointer through, so a shape's tooltip shows over its text too."""
    return f'<g pointer-events="none"{attributes}>{"".join(texts)}</g>'


def _ink(kind: Kind) -> str:
    return "" if kind.ink == INK else f' fill="{kind.ink}"'


def _outline(kind: Kind) -> str:
    return f' stroke="{kind.stroke}" stroke-dasharray="3 2"' if kind.stroke else ""


def _path_label(path: str, label_width: int, y: int) -> str:
    clipped = _clip(path)
    tooltip = f"<title>{escape(path)}</title>" if clipped != path else ""
    return f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end">{tooltip}{escape(clipped)}</text>'


def _label_width(names: Iterable[str]) -> int:
    return int(max((_text_width(_clip(name), 12) for name in names), default=40)) + 16


def _bars_desc(bars: Sequence[PathBar], names: Mapping[str, str]) -> str:
    return "; ".join(
        f"{bar.path}: {_cells(bar.total)}, " + ", ".join(f"{names.get(key, key)} {count}" for key, count in bar.counts)
        for bar in bars
    )


def _time_text(time: PathTime, run_ms: float) -> str:
    share = 100 * time.total_ms / run_ms if run_ms else 0.0
    part = f"{share:.0f}%" if share >= 0.5 or not time.total_ms else "<1%"
    return f"{_duration(time.total_ms)} · {part} · median {_duration(time.median_ms)} of {_cells(time.cells)}"


def _duration(ms: float) -> str:
    seconds = ms / 1000
    if seconds < 1:
        return f"{ms:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"


def _svg(name: str, width: float, height: float, title: str, desc: str, body: Sequence[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(width)} {_n(height)}" width="100%" role="img"'
        f' aria-labelledby="charts-{name}-title charts-{name}-desc" font-family="{FONT}" font-size="12" fill="{INK}">'
        f'<title id="charts-{name}-title">{escape(title)}</title><desc id="charts-{name}-desc">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _cells(count: int) -> str:
    return "1 cell" if count == 1 else f"{count} cells"


def _figure(name: str, svg: str, caption: str | Markup, rows: Sequence[object]) -> str:
    """A figure and its caption (text is escaped, Markup kept); a chart with no rows says so instead."""
    if not rows:
        svg = "<p>No cells in this run.</p>"
    return f'<figure id="chart-{name}">{svg}<figcaption>{escape(caption)}</figcaption></figure>'


def _present_kinds(bars: Sequence[PathBar], known: Sequence[Kind]) -> list[Kind]:
    """The kinds the bars hold, in the known order; a key no kind knows (a verdict or an evidence kind
    of an older or newer harness) is drawn in grey and marked "?", so the counts still add up."""
    present = {key for bar in bars for key, _ in bar.counts}
    kinds = [kind for kind in known if kind.key in present]
    named = {kind.key for kind in known}
    return kinds + [Kind(key, "?", key, "#eaeef2", INK) for key in sorted(present - named)]


def _clip(name: str) -> str:
    return name if len(name) <= NAME_LIMIT else name[: NAME_LIMIT - 1] + "…"


def _text_width(text: str, size: float) -> float:
    """A generous estimate of a text's drawn width (no font is loaded, so the reader's own sans-serif
    draws it): 0.62 em a character covers digits and capitals in the common system fonts."""
    return len(text) * size * 0.62


def _n(value: float) -> str:
    """A coordinate in at most one decimal: the same document gives the same bytes, and fewer of them."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text
