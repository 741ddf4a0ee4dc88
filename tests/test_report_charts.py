"""The report's charts (conformance/report/charts.py) on small hand-made results documents.

Offline: documents are cell records as results.json holds them (tests/support/cells.py), gathered as a run
gathers them. The charts must say the document's numbers, escape what comes from data, use nothing the
page's Content-Security-Policy blocks, and draw the same bytes for the same document.
"""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from markupsafe import Markup

from conformance.report.charts import (
    EVIDENCE_KINDS,
    FATE_KINDS,
    INK,
    MUTED,
    PAGE_WIDTH,
    VERDICT_KINDS,
    PathBar,
    Square,
    charts_section,
    control_grid,
    evidence_per_path,
    time_per_path,
    verdicts_per_path,
)
from conformance.results import gather
from conformance.verdict import Verdict
from tests.support.cells import cell_record

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "</title><script>alert(1)</script><rect style=\"x\" onload='y'>&amp;"
LONG = "a-client-path-whose-name-is-far-too-long-to-draw-whole"
RUN = {"id": "20260101T000000Z-replay-1", "mode": "replay", "paths": [{"id": "openai-sdk"}, {"id": "litellm-zai"}]}
EFFORT = {"model": "glm-5.2", "reasoning_effort": "medium"}


def public() -> dict[str, Any]:
    return {"kind": "public", "used": True, "provenance": {"kind": "public"}}


def live(target_is_zai: bool = True) -> dict[str, Any]:
    return {"kind": "live", "used": True, "provenance": {"kind": "live", "target_is_zai": target_is_zai}}


def double(used: bool = True) -> dict[str, Any]:
    return {"kind": "double", "used": used, "provenance": {"kind": "double"}}


def record(
    cell_id: str,
    verdict: str = "PASS",
    evidence: dict[str, Any] | None = None,
    duration_ms: float = 10.0,
    sent: dict[str, Any] | bool | None = False,
) -> dict[str, Any]:
    """A cell record; `sent` (a reasoning-control cell): the request body the path sent, None for none."""
    real = bool(evidence and evidence["used"] and evidence["kind"] != "double")
    real = real and (evidence or {}).get("provenance", {}).get("target_is_zai", True)
    fields: dict[str, Any] = {"evidence": evidence, "real": real, "duration_ms": duration_ms}
    if sent is not False:
        exchanges = [{"request_body": json.dumps(sent)}] if sent is not None else []
        fields["observation"] = {"exchanges": exchanges, "turns": [{"reasoning": "…"}]}
    return cell_record(cell_id, verdict, **fields)


def cells() -> list[dict[str, Any]]:
    return [
        record("general/glm-5.2/openai-sdk/chat", "FAIL", double(), 200),
        record("general/glm-5.2/openai-sdk/chat-stream", "PASS", public(), 100),
        record("coding/glm-5.2/openai-sdk/chat", "DEVIATION", live(), 300),
        record("coding/glm-5.2/openai-sdk/chat-stream", "SKIPPED", None, 0),
        record("general/glm-5.2/litellm-zai/chat", "PASS", live(target_is_zai=False), 50),
        record("general/glm-5.2/litellm-zai/chat-stream", "UNSUPPORTED", double(used=False), 1000),
        record("general/glm-5.2/openai-sdk/reasoning-effort-medium", "PASS", double(), 10, sent=EFFORT),
        record("coding/glm-5.2/openai-sdk/reasoning-effort-medium", "PASS", double(), 10, sent=EFFORT),
        record("general/glm-5.2/litellm-zai/reasoning-effort-medium", "UNSUPPORTED", None, 10, sent=None),
        record("general/glm-5.2/proxy-litellm/reasoning-effort-medium", "PASS", double(), 5, sent=EFFORT),
        record("anthropic/glm-5.2/proxy-litellm/reasoning-effort-medium", "DEVIATION", double(), 5, sent={}),
        record(
            "general/glm-5.2/proxy-litellm/thinking-enabled",
            "PASS",
            double(),
            5,
            sent={"thinking": {"type": "disabled"}},
        ),
        record("general/glm-5.2/openai-sdk/thinking-default", "PASS", double(), 10, sent={}),  # the baseline
    ]


def on_path(cell: dict[str, Any], path: str) -> dict[str, Any]:
    """A cell record on a path whose name a cell id cannot carry (it holds a "/")."""
    return {**cell, "path": path, "cell": "/".join([cell["endpoint"], cell["model"], path, cell["scenario"]])}


@pytest.fixture
def document() -> dict[str, Any]:
    return gather(copy.deepcopy(RUN), cells())


def parse(section: Markup) -> ET.Element:
    """The section as XML: it must be well-formed for a parser to read it back."""
    return ET.fromstring(str(section))


def figure(root: ET.Element, name: str) -> ET.Element:
    found = root.find(f"figure[@id='chart-{name}']")
    assert found is not None, name
    return found


def tooltips(element: ET.Element) -> list[str]:
    """The tooltip of every shape (bar segment, row, square) in a figure, in drawing order."""
    shapes = (f"{SVG}rect", f"{SVG}g")
    return [
        shape.findtext(f"{SVG}title") or ""
        for shape in element.iter()
        if shape.tag in shapes and shape.find(f"{SVG}title") is not None
    ]


def squares(element: ET.Element) -> dict[str, str]:
    """The heat map's squares: each one's tooltip, and the word drawn on the square it uses."""
    words = {shape.get("id"): "".join(shape.itertext()) for shape in element.iter(f"{SVG}g") if shape.get("id")}
    return {
        group.findtext(f"{SVG}title") or "": words[use.get("href", "").removeprefix("#")]
        for group in element.iter(f"{SVG}g")
        for use in group.findall(f"{SVG}use")
    }


def texts(element: ET.Element) -> list[str]:
    """The words drawn in a figure (a text's tooltip, its <title>, is not drawn)."""
    return [(text.text or "") + "".join(child.tail or "" for child in text) for text in element.iter(f"{SVG}text")]


def test_the_verdict_bars_count_each_paths_cells_in_the_vocabularys_order(document, catalogue):
    assert verdicts_per_path(document) == (
        PathBar("openai-sdk", (("PASS", 4), ("DEVIATION", 1), ("FAIL", 1), ("SKIPPED", 1))),
        PathBar("litellm-zai", (("PASS", 1), ("UNSUPPORTED", 2))),
        PathBar("proxy-litellm", (("PASS", 2), ("DEVIATION", 1))),
    )
    chart = figure(parse(charts_section(document, catalogue)), "verdicts")
    assert tooltips(chart) == [
        "openai-sdk: PASS 4",
        "openai-sdk: DEVIATION 1",
        "openai-sdk: FAIL 1",
        "openai-sdk: SKIPPED 1",
        "litellm-zai: PASS 1",
        "litellm-zai: UNSUPPORTED 2",
        "proxy-litellm: PASS 2",
        "proxy-litellm: DEVIATION 1",
    ]
    drawn = texts(chart)
    # a letter and the count on each segment wide enough, and the path's cells at the bar's end
    assert {"P 4", "D 1", "F 1", "S 1", "U 2", "7 cells", "3 cells"} <= set(drawn)
    segments = [rect for rect in chart.iter(f"{SVG}rect") if rect.find(f"{SVG}title") is not None]
    xs = [float(rect.get("x") or 0) for rect in segments[:4]]
    assert xs == sorted(xs)  # PASS, DEVIATION, FAIL, SKIPPED from the left
    desc = chart.findtext(f".//{SVG}desc") or ""
    assert "openai-sdk: 7 cells, PASS 4, DEVIATION 1, FAIL 1, SKIPPED 1" in desc


def test_the_evidence_bars_count_the_bytes_each_verdict_rests_on(document, catalogue):
    assert evidence_per_path(document) == (
        PathBar("openai-sdk", (("public", 1), ("live", 1), ("double", 4), ("none", 1))),
        # recorded against another server: not Z.AI; a double the client never used: no evidence
        PathBar("litellm-zai", (("not-zai", 1), ("none", 2))),
        PathBar("proxy-litellm", (("double", 3),)),
    )
    chart = figure(parse(charts_section(document, catalogue)), "evidence")
    assert "litellm-zai: recorded, not Z.AI 1" in tooltips(chart)
    assert "openai-sdk: double · synthetic 4" in tooltips(chart)
    assert {"P 1", "L 1", "D 4", "X 1", "– 2"} <= set(texts(chart))
    assert any((rect.get("fill") or "").startswith("url(#charts-hatch-") for rect in chart.iter(f"{SVG}rect"))


def test_the_time_bars_sum_each_paths_cells_slowest_first(document, catalogue):
    times = time_per_path(document)
    assert [(t.path, t.total_ms, t.median_ms, t.cells) for t in times] == [
        ("litellm-zai", 1060.0, 50.0, 3),
        ("openai-sdk", 630.0, 10.0, 7),
        ("proxy-litellm", 15.0, 5.0, 3),
    ]
    chart = figure(parse(charts_section(document, catalogue)), "time")
    assert [line for line in texts(chart) if "median" in line] == [
        "1.1 s · 62% · median 50 ms of 3 cells",
        "630 ms · 37% · median 10 ms of 7 cells",
        "15 ms · 1% · median 5 ms of 3 cells",
    ]


def test_the_heat_map_names_each_paths_fate_and_mixed_where_endpoints_differ(document, catalogue):
    grid = control_grid(document, catalogue)
    assert grid.paths == ("openai-sdk", "litellm-zai", "proxy-litellm")
    assert [sid for sid, _ in grid.scenarios] == ["thinking-enabled", "reasoning-effort-medium"]
    assert dict(grid.scenarios)["reasoning-effort-medium"] == 'reasoning_effort="medium"'
    assert dict(grid.squares) == {
        ("openai-sdk", "reasoning-effort-medium"): Square("as written", "as written (general, coding)"),
        ("litellm-zai", "reasoning-effort-medium"): Square("refused", "refused by the client (general)"),
        ("proxy-litellm", "reasoning-effort-medium"): Square("mixed", "as written (general); dropped (anthropic)"),
        ("proxy-litellm", "thinking-enabled"): Square("changed", "changed (general)"),
    }
    chart = figure(parse(charts_section(document, catalogue)), "controls")
    assert squares(chart) == {
        "openai-sdk · reasoning-effort-medium: as written (general, coding)": "as written",
        "litellm-zai · reasoning-effort-medium: refused by the client (general)": "refused",
        "proxy-litellm · thinking-enabled: changed (general)": "changed",
        "proxy-litellm · reasoning-effort-medium: as written (general); dropped (anthropic)": "mixed",
    }


def test_a_fate_differing_between_models_of_one_endpoint_is_named_per_model(catalogue):
    document = gather(
        copy.deepcopy(RUN),
        [
            record("general/glm-5.2/openai-sdk/reasoning-effort-medium", sent=EFFORT),
            record("general/glm-4.6/openai-sdk/reasoning-effort-medium", sent={}),
            record("coding/glm-5.2/openai-sdk/reasoning-effort-medium", sent=EFFORT),
        ],
    )
    square = control_grid(document, catalogue).squares[("openai-sdk", "reasoning-effort-medium")]
    assert square == Square("mixed", "as written (general/glm-5.2, coding); dropped (general/glm-4.6)")


def test_without_reasoning_control_cells_the_heat_map_says_so_in_one_line(catalogue):
    document = gather(copy.deepcopy(RUN), cells()[:6])
    chart = figure(parse(charts_section(document, catalogue)), "controls")
    assert chart.find(f"{SVG}svg") is None
    assert chart.findtext("p") == "No reasoning-control cells ran in this run."


def test_an_empty_run_draws_no_bars_and_says_so(catalogue):
    root = parse(charts_section(gather(copy.deepcopy(RUN), []), catalogue))
    for name in ("verdicts", "evidence", "time"):
        assert figure(root, name).findtext("p") == "No cells in this run."


def test_names_from_data_are_escaped_and_nothing_the_page_policy_blocks_is_drawn(catalogue):
    hostile = [
        on_path(record("general/glm-5.2/x/chat", "PASS", public(), 5), HOSTILE),
        on_path(record("general/glm-5.2/x/reasoning-effort-medium", "PASS", double(), 5, sent=EFFORT), HOSTILE),
        record(f"general/glm-5.2/{LONG}/chat", HOSTILE.replace("/", ""), live(), 5),
    ]
    section = str(charts_section(gather(copy.deepcopy(RUN), [*cells(), *hostile]), catalogue))
    assert HOSTILE not in section
    lowered = section.lower()
    assert "<script" not in lowered
    tags = re.findall(r"<[^>]*>", lowered)
    assert not [tag for tag in tags if re.search(r"\sstyle=", tag)]  # the page's policy blocks style attributes
    assert not [tag for tag in tags if re.search(r"\son\w+=", tag)]  # and handlers: nothing runs in a chart
    assert not [tag for tag in tags if re.match(r"<(image|foreignobject|a|iframe|link)\b", tag)]
    # the only references are to the charts' own shapes and patterns: nothing outside the page loads
    assert set(re.findall(r'href="([^"]*)"', section)) <= {f"#charts-fate-{n}" for n in range(6)}
    assert set(re.findall(r"url\(([^)]*)\)", section)) == {"#charts-hatch-double"}
    root = ET.fromstring(section)  # well-formed: the escaping closed nothing it should not have
    everything = " ".join(root.itertext())
    assert f"{HOSTILE}: PASS 2" in everything  # the tooltip reads the name back whole
    assert f"{HOSTILE} · reasoning-effort-medium: as written (general)" in everything
    assert f"{LONG}: {HOSTILE.replace('/', '')} 1" in everything  # a verdict outside the vocabulary still counts
    assert LONG[:33] + "…" in texts(figure(root, "verdicts"))  # a long name is clipped; its tooltip has it whole
    assert LONG in [text.findtext(f"{SVG}title") for text in figure(root, "verdicts").iter(f"{SVG}text")]


def test_every_figure_is_an_image_with_a_title_a_description_and_a_caption(document, catalogue):
    root = parse(charts_section(document, catalogue))
    assert root.tag == "section" and root.get("id") == "charts"
    heading = root.find("h2")
    assert heading is not None and heading.get("id") == root.get("aria-labelledby")
    figures = root.findall("figure")
    assert [f.get("id") for f in figures] == ["chart-verdicts", "chart-evidence", "chart-time", "chart-controls"]
    for each in figures:
        svg = each.find(f"{SVG}svg")
        assert svg is not None and svg.get("role") == "img" and svg.get("width") == "100%"
        assert svg.get("viewBox", "").startswith("0 0 ")
        title, desc = list(svg)[:2]
        assert title.tag == f"{SVG}title" and desc.tag == f"{SVG}desc" and title.text and desc.text
        assert (svg.get("aria-labelledby") or "").split() == [title.get("id"), desc.get("id")]
        assert "".join(each.find("figcaption").itertext())  # type: ignore[union-attr]


def test_the_same_document_draws_the_same_bytes(document, catalogue):
    first = charts_section(document, catalogue)
    assert charts_section(copy.deepcopy(document), catalogue) == first
    assert charts_section(json.loads(json.dumps(document)), catalogue) == first


def test_each_verdict_has_its_letter_and_colour_in_the_vocabularys_order():
    assert [kind.key for kind in VERDICT_KINDS] == [verdict.value for verdict in Verdict]
    assert len({kind.letter for kind in VERDICT_KINDS}) == len(VERDICT_KINDS)
    assert len({kind.letter for kind in EVIDENCE_KINDS}) == len(EVIDENCE_KINDS)


def _luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("kind", [*VERDICT_KINDS, *EVIDENCE_KINDS, *FATE_KINDS], ids=lambda kind: kind.key)
def test_text_drawn_on_a_fill_meets_wcag_aa(kind):
    assert contrast(kind.ink, kind.fill) >= 4.5
    if kind.hatch:
        assert contrast(kind.ink, kind.hatch) >= 4.5


def test_text_drawn_on_the_page_meets_wcag_aa():
    assert contrast(INK, "#fff") >= 4.5
    assert contrast(MUTED, "#fff") >= 4.5


def full_run() -> dict[str, Any]:
    """A document shaped as a full run: ~12,250 cells over 30 paths and 36 endpoint/model blocks, 13 of
    the paths given the 17 reasoning controls (as the packaged catalogue has them)."""
    blocks = [(endpoint, f"glm-{n}") for endpoint in ("general", "coding", "anthropic") for n in range(12)]
    paths = [f"client-path-{n:02d}-{'x' * (n % 12)}" for n in range(30)]
    verdicts = [verdict.value for verdict in Verdict]
    evidence = [public(), live(), live(target_is_zai=False), double(), double(used=False), None]
    records = []
    for index in range(12_250 - 13 * 17 * 36):
        endpoint, model = blocks[index % 36]
        cell_id = f"{endpoint}/{model}/{paths[index % 30]}/scenario-{index}"
        records.append(record(cell_id, verdicts[index % 9], evidence[index % 6], float(index % 997)))
    controls = [
        "thinking-enabled",
        "thinking-disabled",
        "thinking-effort-low",
        "thinking-effort-high",
        "thinking-effort-max-stream",
        "reasoning-effort-none",
        "reasoning-effort-minimal",
        "reasoning-effort-medium",
        "reasoning-effort-xhigh",
        "reasoning-effort-max",
        "reasoning-effort-invalid",
        "reasoning-thinking-effort",
        "reasoning-nested-effort",
        "reasoning-enable-thinking-false",
        "reasoning-budget-tokens",
        "reasoning-adaptive",
        "reasoning-output-config-effort",
    ]
    for row, path in enumerate(paths[:13]):
        for scenario in controls:
            for endpoint, model in blocks:
                sent = {} if row % 3 == 0 and endpoint == "anthropic" else {"reasoning_effort": "x"}
                records.append(record(f"{endpoint}/{model}/{path}/{scenario}", sent=sent))
    return {"run": RUN, "cells": records}


def test_a_full_run_draws_well_under_100_kb_with_text_readable_at_1440_px(catalogue):
    section = str(charts_section(full_run(), catalogue))
    assert len(section.encode("utf-8")) < 100_000
    root = ET.fromstring(section)
    assert len(squares(figure(root, "controls"))) == 13 * 17
    for svg in root.iter(f"{SVG}svg"):
        assert float((svg.get("viewBox") or "").split()[2]) <= PAGE_WIDTH
    sizes = [float(size) for size in re.findall(r'font-size="([\d.]+)"', section)]
    assert sizes and min(sizes) >= 11
