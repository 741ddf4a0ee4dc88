"""The report renderers and the results schema, on small hand-made results documents.

Offline and fast: documents come from `gather()` over a few cell records written here, shaped as
CellResult.to_dict() writes them, with evidence of every kind and hostile text in reasons and bodies.
"""

from __future__ import annotations

import base64
import copy
import gzip
import html
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conformance.equivalence import equivalence_summary
from conformance.expectations import Expected
from conformance.observation import Exchange, Observation, Turn
from conformance.report import write_reports
from conformance.report.drilldown import PAGE_BODY_LIMIT
from conformance.report.html import render_html
from conformance.report.junit import render_junit
from conformance.report.summary import endpoint_summaries
from conformance.results import body_text, facts_of, gather
from conformance.verdict import Finding, Severity, Verdict
from tests.support.cells import cell_result
from tests.support.runs import PUBLIC_SOURCE, RUN

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "conformance" / "data" / "results.schema.json"
SCRIPT_BREAK = "</script><script>alert(1)</script>"
IMG_ONERROR = '<img src=x onerror="alert(2)">'


def public_evidence(cell_id: str) -> dict[str, Any]:
    endpoint, model, _, scenario = cell_id.split("/")
    return {
        "kind": "public",
        "cassette": f"cassettes/public/{endpoint}/{model}/{scenario}.yaml",
        "provenance": {
            "kind": "public",
            "source": dict(PUBLIC_SOURCE),
            "recorded": "2025-10-23",
            "client": "OpenAI/Go 2.7.1",
            "endpoint_url": "https://api.z.ai/api/coding/paas/v4",
        },
        "used": True,
    }


def live_evidence(cell_id: str, url: str = "https://api.z.ai/api/coding/paas/v4") -> dict[str, Any]:
    endpoint, model, path, scenario = cell_id.split("/")
    return {
        "kind": "live",
        "cassette": f"cassettes/live/{endpoint}/{model}/{path}/{scenario}.yaml",
        "provenance": {
            "kind": "live",
            "recorded": "2026-01-01T00:00:05Z",
            "recorded_by": "zai-conformance 0.1.0",
            "clients": {"python": "3.11.7", "openai": "2.54.0"},
            "endpoint_url": url,
            "target_is_zai": url.startswith("https://api.z.ai/"),
        },
        "used": True,
    }


def double_evidence(cell_id: str) -> dict[str, Any]:
    endpoint, model, path, scenario = cell_id.split("/")
    return {
        "kind": "double",
        "cassette": f"cassettes/double/{endpoint}/{model}/{path}/{scenario}.yaml",
        "provenance": {"kind": "double", "recorded": "2026-01-01T00:00:06Z"},
        "used": True,
    }


def observation(response_body: str) -> dict[str, Any]:
    request = {"model": "glm-4.5", "messages": [{"role": "user", "content": "Say hi in Portuguese"}]}
    return {
        "turns": [{"index": 0, "text": "Olá!", "finish_reason": "stop", "error": None}],
        "exchanges": [
            {
                "method": "POST",
                "url": "https://api.z.ai/api/coding/paas/v4/chat/completions",
                "request_headers": {
                    "authorization": ["Bearer <redacted>"],
                    "content-type": ["application/json"],
                },
                "request_body": json.dumps(request),
                "outcome": "replayed",
                "status": 200,
                "response_headers": {"Content-Type": ["text/event-stream;charset=UTF-8"]},
                "response_body": response_body,
                "miss": None,
            }
        ],
    }


def cell(
    cell_id: str,
    verdict: str = "PASS",
    *,
    reasons: list[str] | None = None,
    findings: list[dict[str, Any]] | None = None,
    evidence: dict[str, Any] | None = None,
    expected: str | None = "PASS",
    obs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A cell record as CellResult.to_dict() writes it."""
    endpoint, model, path, scenario = cell_id.split("/")
    real = bool(evidence) and evidence["kind"] != "double" and evidence.get("used", False)
    real = real and evidence["provenance"].get("target_is_zai", True)
    judged = expected is not None and verdict not in ("SKIPPED", "NOT_RECORDED")
    record = f"ZAI_API_KEY=… zai-conformance run --live --cell '{cell_id}'"
    return {
        "cell": cell_id,
        "endpoint": endpoint,
        "model": model,
        "path": path,
        "scenario": scenario,
        "verdict": verdict,
        "reasons": reasons or [],
        "findings": findings or [],
        "evidence": evidence,
        "real": real,
        "duration_ms": 12.5,
        "record_command": None if evidence else record,
        "evidence_error": None,
        "harness_error": None,
        "expected": expected and {"verdict": expected, "reason": "", "link": None, "pattern": None},
        "as_expected": (expected == verdict) if judged else None,
        "observation": obs,
    }


def sse_body() -> str:
    """A stream longer than 1 KiB (so gather() moves it to `bodies`) that carries hostile text."""
    chunk = {"choices": [{"index": 0, "delta": {"content": f"{IMG_ONERROR} {SCRIPT_BREAK}"}}]}
    return "".join(f"data: {json.dumps(chunk)}\n\n" for _ in range(20)) + "data: [DONE]\n\n"


def cells() -> list[dict[str, Any]]:
    unexpected = cell(
        "coding/glm-4.5/litellm-zai/chat",
        "DEVIATION",
        reasons=[SCRIPT_BREAK, IMG_ONERROR],
        evidence=live_evidence("coding/glm-4.5/litellm-zai/chat"),
        findings=[{"check": "usage", "severity": "deviation", "message": IMG_ONERROR, "turn": 0, "side": "response"}],
    )
    unexpected["expected"].update(
        reason="known", link="https://github.com/BerriAI/litellm/issues/1", pattern="*/*/litellm-zai/*"
    )
    return [
        cell(
            "coding/glm-4.5/openai-sdk/chat",
            evidence=public_evidence("coding/glm-4.5/openai-sdk/chat"),
            findings=[
                {
                    "check": "finish_reason",
                    "severity": "info",
                    "message": "finish_reason 'stop'",
                    "turn": 0,
                    "side": "response",
                }
            ],
            obs=observation(sse_body()),
        ),
        unexpected,
        cell(
            "coding/glm-4.5/openai-sdk/chat-stream",
            "FAIL",
            reasons=["stream never ended"],
            expected="FAIL",
            evidence=double_evidence("coding/glm-4.5/openai-sdk/chat-stream"),
        ),
        cell("coding/glm-4.5/litellm-zai/chat-stream", "NOT_RECORDED", reasons=["no recording of this cell"]),
        cell("coding/glm-5/openai-sdk/chat", "NOT_RECORDED", reasons=["no recording of this cell"]),
        cell(
            "general/glm-4.6/openai-sdk/chat",
            "SKIPPED",
            reasons=["live mode needs ZAI_API_KEY"],
            expected=None,
        ),
        cell(
            "general/glm-4.6/litellm-zai/chat",
            evidence=live_evidence("general/glm-4.6/litellm-zai/chat", "http://127.0.0.1:8000/v4"),
        ),
    ]


@pytest.fixture
def document() -> dict[str, Any]:
    return gather(copy.deepcopy(RUN), cells())


@pytest.fixture
def page(document: dict[str, Any]) -> str:
    return render_html(document)


def _blob(page: str, element_id: str) -> Any:
    pattern = rf'<script type="application/octet-stream" id="{element_id}" data-encoding="gzip\+base64">(.*?)</script>'
    match = re.search(pattern, page, re.S)
    assert match, f"no embedded data block {element_id}"
    assert re.fullmatch(r"[A-Za-z0-9+/=]*", match.group(1)), "a data block must be pure base64"
    return json.loads(gzip.decompress(base64.b64decode(match.group(1))))


def page_index(page: str) -> dict[str, Any]:
    """The compact index the page draws its matrices from (conformance.report.page_index)."""
    return _blob(page, "report-index")


def cell_ids(index: dict[str, Any]) -> list[str]:
    """Each cell's id, as report.js makes it from the index."""
    cells, blocks = index["cells"], index["blocks"]
    return [
        "/".join(
            (
                index["endpoints"][blocks[b]["endpoint"]],
                index["models"][blocks[b]["model"]],
                index["paths"][p],
                index["scenarios"][s],
            )
        )
        for b, p, s in zip(cells["b"], cells["p"], cells["s"], strict=True)
    ]


def matrix(page: str) -> dict[str, dict[str, Any]]:
    """What report.js draws for each cell: verdict, evidence kind and badge, unexpected mark, reasons."""
    index = page_index(page)
    cells = index["cells"]
    return {
        cell_id: {
            "verdict": index["verdicts"][cells["v"][i]],
            "evidence": index["kinds"][cells["k"][i]],
            "label": index["labels"][cells["l"][i]],
            "note": index["notes"][cells["n"][i]] if cells["n"][i] >= 0 else "",
            "unexpected": cells["a"][i] == 0,
            "expected": index["verdicts"][cells["x"][i]] if cells["x"][i] >= 0 else None,
            "reasons": [index["reasons"][r] for r in cells["r"][i]],
            "block": index["blocks"][cells["b"][i]],
        }
        for i, cell_id in enumerate(cell_ids(index))
    }


def _nested(columns: dict[str, Any]) -> list[list[dict[str, Any]]]:
    items = [
        {key: values[at] for key, values in columns["c"].items() if values[at] is not None}
        for at in range(sum(columns["n"]))
    ]
    out, at = [], 0
    for count in columns["n"]:
        out.append(items[at : at + count])
        at += count
    return out


def drill_down(page: str) -> dict[str, dict[str, Any]]:
    """Every cell's drill-down record, unpacked as report.js unpackBlock does (its Python mirror)."""
    index = page_index(page)
    ids = cell_ids(index)
    records: dict[str, dict[str, Any]] = {}
    shared = _blob(page, "drill-shared")
    for b in range(len(index["blocks"])):
        payload = _blob(page, f"drill-{b}")
        findings, turns, exchanges = (_nested(payload[key]) for key in ("findings", "turns", "exchanges"))
        for j, i in enumerate(payload["cells"]):
            record = {key: column[j] for key, column in payload["fields"].items() if column[j] is not None}
            for key in ("expected", "evidence"):
                if key in record:
                    record[key] = copy.deepcopy(shared[record[key]])
            if (record.get("evidence") or {}).pop("names", None):
                names = dict(zip(("endpoint", "model", "path", "scenario"), ids[i].split("/"), strict=True))
                record["evidence"] = {**record["evidence"], "provenance": {**record["evidence"]["provenance"], **names}}
            for exchange in exchanges[j]:
                for key in ("request_headers", "response_headers"):
                    if key in exchange:
                        exchange[key] = dict(shared[at] for at in exchange[key])
                for key in ("request_body", "response_body"):
                    if f"{key}_at" in exchange:
                        exchange[key] = payload["bodies"][exchange.pop(f"{key}_at")]
            rest = record.get("observation")
            record["observation"] = None if rest is None else {**rest, "turns": turns[j], "exchanges": exchanges[j]}
            record["findings"] = [
                {**finding, "message": shared[finding["message"]]}
                if isinstance(finding.get("message"), int)
                else finding
                for finding in findings[j]
            ]
            records[ids[i]] = record
    return records


def without_nulls(value: Any) -> Any:
    """A record as the page carries it: a key whose value is null is not written."""
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def as_on_page(document: dict[str, Any], cell: dict[str, Any]) -> dict[str, Any]:
    """A document cell as its drill-down record should read: the index carries its names, verdict and
    reasons; each exchange's bodies are resolved to text (conformance.results.unpack_body)."""
    from conformance.report.drilldown import INDEXED

    record = {key: value for key, value in cell.items() if key not in INDEXED}
    observation = copy.deepcopy(record.get("observation"))
    for exchange in (observation or {}).get("exchanges") or []:
        for key in ("request_body", "response_body"):
            if exchange.get(f"{key}_ref"):
                text = body_text(document["bodies"][exchange.pop(f"{key}_ref")])
                exchange[key if len(text) <= PAGE_BODY_LIMIT else f"{key}_left_out"] = (
                    text if len(text) <= PAGE_BODY_LIMIT else len(text)
                )
    return without_nulls({**record, "observation": observation, "findings": cell.get("findings") or []})


# --- HTML -----------------------------------------------------------------------------------------


def test_every_cell_is_in_the_index_with_a_stable_link(document: dict[str, Any], page: str) -> None:
    found = matrix(page)
    assert list(found) == [c["cell"] for c in document["cells"]]
    assert 'return "#cell=" + id.split("/").map(encodeURIComponent).join("/");' in page  # report.js links each


def test_verdict_badges_name_the_verdict(document: dict[str, Any], page: str) -> None:
    found = matrix(page)
    for c in document["cells"]:
        assert found[c["cell"]]["verdict"] == c["verdict"]
    for verdict in Verdict:  # the legend shows each badge as report.js draws it: its text says the verdict
        assert f'<span class="badge v-{verdict.value}">{verdict.value.replace("_", " ")}</span>' in page
    assert 'el("span", { class: "badge v-" + verdict }, String(verdict).replace(/_/g, " "))' in page


def test_every_reason_is_in_the_index_for_the_tooltip_and_the_search(page: str) -> None:
    found = matrix(page)
    assert found["coding/glm-4.5/openai-sdk/chat-stream"]["reasons"] == ["stream never ended"]
    assert found["coding/glm-4.5/litellm-zai/chat"]["reasons"] == [SCRIPT_BREAK, IMG_ONERROR]


def test_unexpected_is_marked_only_where_the_verdict_differs(page: str) -> None:
    found = matrix(page)
    marked = {cell_id for cell_id, cell in found.items() if cell["unexpected"]}
    assert marked == {"coding/glm-4.5/litellm-zai/chat"}
    assert found["coding/glm-4.5/litellm-zai/chat"]["expected"] == "PASS"
    assert "1 unexpected verdict(s)" in page


def test_header_states_where_the_bytes_came_from(page: str) -> None:
    assert (
        "2 of 4 cells with evidence (50%) are backed by real Z.AI bytes "
        "(public recordings: 1, live recordings: 1); 1 by the project&#39;s double; "
        "1 by live recordings made against a base URL that is not Z.AI."
    ) in page
    assert "loopback-only guard on; it refused nothing" in page
    assert "openai&nbsp;2.54.0" in page and "zai-conformance 0.1.0" in page


def test_the_header_counts_evidence_as_the_badges_show_it(document: dict[str, Any], page: str) -> None:
    """The old page said 456 PUBLIC in its header and showed 520 PUBLIC badges: the header counts the
    bytes a verdict rests on, the badges named any cassette. Both now count the bytes."""
    badges = Counter(cell["evidence"] for cell in matrix(page).values())
    assert {kind: badges.get(kind, 0) for kind in ("live", "public", "double", "none")} == document["summary"][
        "evidence"
    ]
    labels = Counter(cell["label"].split(" · ")[0] for cell in matrix(page).values())
    assert labels["PUBLIC"] == document["summary"]["evidence"]["public"]
    assert labels["LIVE"] == document["summary"]["evidence"]["live"]
    assert labels["DOUBLE"] == document["summary"]["evidence"]["double"]


def test_evidence_the_path_never_used_is_not_counted_as_real() -> None:
    cell_id = "coding/glm-4.5/litellm-zai/thinking"
    unused = {**public_evidence(cell_id), "used": False}
    refused = cell(
        cell_id,
        "UNSUPPORTED",
        reasons=["refused by the client before sending"],
        evidence=unused,
        expected="UNSUPPORTED",
    )
    document = gather(copy.deepcopy(RUN), [refused])
    assert document["summary"]["cells_with_evidence"] == 0
    assert document["summary"]["judged_without_bytes"] == 1
    assert document["summary"]["evidence"]["none"] == 1
    page = render_html(document)
    shown = matrix(page)[cell_id]
    assert (shown["evidence"], shown["label"]) == ("none", "no bytes used")  # not a PUBLIC badge
    assert "PUBLIC recording exists for this cell, but the path consumed none of its bytes" in shown["note"]
    assert "nothing in this run is backed by real Z.AI bytes. 1 judged without any bytes" in page
    assert "(of these, 1 have a recording the path consumed no byte of" in page
    assert drill_down(page)[cell_id]["evidence"] == unused  # the drill-down still shows the recording


def test_refused_network_attempts_are_reported() -> None:
    run = {**RUN, "network": {"guard": True, "refused": ["api.z.ai:443"]}}
    page = render_html(gather(run, cells()))
    assert "the network guard refused 1 connection attempt(s)" in page and "api.z.ai:443" in page


def test_the_drill_down_carries_each_kinds_provenance(document: dict[str, Any], page: str) -> None:
    shown = drill_down(page)
    for c in document["cells"]:
        assert shown[c["cell"]].get("evidence") == c["evidence"]
    assert "Real Z.AI bytes, recorded by another project and imported byte for byte." in page  # report.js
    assert "SYNTHETIC: produced by the project&#39;s Z.AI double" not in page  # in the script, not markup
    assert "SYNTHETIC: produced by the project's Z.AI double. These are not real Z.AI bytes." in page


def test_double_evidence_looks_different_from_real_evidence(page: str) -> None:
    found = matrix(page)
    double = found["coding/glm-4.5/openai-sdk/chat-stream"]
    assert (double["evidence"], double["label"]) == ("double", "DOUBLE · synthetic")
    assert found["coding/glm-4.5/openai-sdk/chat"]["label"] == "PUBLIC"
    assert found["general/glm-4.6/litellm-zai/chat"]["label"] == "LIVE · not Z.AI"
    assert "recorded against a base URL that is not Z.AI" in found["general/glm-4.6/litellm-zai/chat"]["note"]


def test_models_without_evidence_are_folded_but_listed(page: str) -> None:
    found = matrix(page)
    assert found["coding/glm-5/openai-sdk/chat"]["block"]["folded"] is True
    assert found["coding/glm-4.5/openai-sdk/chat"]["block"]["folded"] is False
    assert "zai-conformance run --live --cell" in page  # report.js offers the command for a model without evidence


def test_a_model_with_errors_but_no_evidence_stays_in_view() -> None:
    page = render_html(
        gather(
            RUN,
            [
                cell("coding/glm-5/openai-sdk/chat", "TRANSIENT", reasons=["1305: overloaded"]),
                cell("coding/glm-5.1/openai-sdk/chat", "NOT_RECORDED"),
            ],
        )
    )
    found = matrix(page)
    assert found["coding/glm-5/openai-sdk/chat"]["block"]["folded"] is False
    assert found["coding/glm-5.1/openai-sdk/chat"]["block"]["folded"] is True


def test_order_follows_first_appearance(page: str) -> None:
    index = page_index(page)
    assert index["endpoints"] == ["coding", "general"]
    assert index["paths"] == ["openai-sdk", "litellm-zai"] and index["scenarios"] == ["chat", "chat-stream"]
    first = index["blocks"][0]
    assert (index["models"][first["model"]], first["paths"], first["scenarios"]) == ("glm-4.5", [0, 1], [0, 1])


def test_an_endpoint_without_cells_is_said_not_omitted(page: str) -> None:
    said = page[page.index('id="endpoint=anthropic"') :]
    assert "no cells for this endpoint in this run" in said[: said.index("</p>")]


def test_hostile_text_is_escaped_everywhere(page: str) -> None:
    assert SCRIPT_BREAK not in page and "<script>alert" not in page
    assert IMG_ONERROR not in page and "<img" not in page
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts[-1] == "<script>"  # the report's own script; every other one is data, pure base64
    assert all('type="application/octet-stream"' in tag for tag in scripts[:-1])
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the reason, as text (unexpected list)
    assert ".innerHTML" not in page and "insertAdjacentHTML" not in page and "document.write" not in page


def test_nothing_is_loaded_from_outside_the_page(page: str) -> None:
    for tag in re.findall(r"<(?:script|link|img|iframe|object|embed|source|audio|video)\b[^>]*>", page, re.I):
        assert not re.search(r"\b(?:src|href)\s*=", tag), tag
    assert "@import" not in page
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", page)
    assert "default-src &#39;none&#39;" in page  # and the CSP forbids it anyway


def test_the_csp_admits_exactly_the_inline_script_and_style(page: str) -> None:
    import hashlib

    def digest(text: str) -> str:
        return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")

    script = re.search(r"<script>(.*?)</script>", page, re.S)
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    assert script and style
    assert f"script-src &#39;sha256-{digest(script.group(1))}&#39;" in page
    assert f"style-src &#39;sha256-{digest(style.group(1))}&#39;" in page
    assert not re.search(r"<[a-z][^>]*\sstyle=", page)  # the policy would block a style attribute


def test_the_drill_down_data_is_the_document(document: dict[str, Any], page: str) -> None:
    """Index and drill-down together give back every cell as results.json holds it: nothing lost."""
    shown = drill_down(page)
    assert set(shown) == {c["cell"] for c in document["cells"]}
    for c in document["cells"]:
        assert without_nulls(shown[c["cell"]]) == as_on_page(document, c), c["cell"]
    assert document["bodies"], "the long stream should be stored once in bodies"


def test_a_large_body_is_named_on_the_page_and_kept_in_the_results(document: dict[str, Any]) -> None:
    """A recorded agent conversation sends ~50 KB of system prompt and tools per turn, serialised anew by
    each client, and long streams run to many KB: the page leaves such bodies out, request and response
    alike, says which and how large, and keeps the rest."""
    large = copy.deepcopy(document)
    cell_id, exchange = next(
        (c["cell"], e) for c in large["cells"] for e in ((c.get("observation") or {}).get("exchanges") or [])
    )
    prompt = json.dumps({"messages": [{"role": "system", "content": "x" * (PAGE_BODY_LIMIT + 1)}]})
    exchange["request_body_ref"], exchange["request_body"] = "big-request", None
    large["bodies"]["big-request"] = prompt
    answer = "data: " + "y" * PAGE_BODY_LIMIT + "\n\n"
    exchange["response_body_ref"], exchange["response_body"] = "big-answer", None
    large["bodies"]["big-answer"] = answer
    page = render_html(large)
    shown = drill_down(page)[cell_id]["observation"]["exchanges"][0]
    assert shown["request_body_left_out"] == len(prompt) and shown["response_body_left_out"] == len(answer)
    assert "request_body" not in shown and "response_body" not in shown
    assert prompt not in page and "y" * 100 not in json.dumps(drill_down(page))
    assert "2 bodies over 2,048 characters" in page  # said in the page, with where they are
    assert "results.json holds them all" in page and "_ref names it under" in page
    assert large["bodies"]["big-request"] == prompt  # the results document itself is untouched
    small = gather(RUN, [cell("coding/glm-4.5/openai-sdk/chat", obs=observation("data: [DONE]\n\n"))])
    assert "bodies over" not in render_html(small)  # nothing large: nothing said left out


def test_large_bodies_are_kept_compressed_and_read_back_whole(tmp_path: Path) -> None:
    """A body over 16 KiB is compressed in the cell line, in memory and in results.json (an agent's turns
    resend ~50 KB each); every reader gets its text back, and the page names what it leaves out."""
    from conformance.results import LARGE_BODY, ResultsWriter, unpack_body

    prompt = json.dumps({"messages": [{"role": "system", "content": "system prompt " * LARGE_BODY}]})
    answer = "data: " + json.dumps({"choices": [{"delta": {"content": "y" * (LARGE_BODY + 1)}}]}) + "\n\n"
    short = "data: " + json.dumps({"choices": [{"delta": {"content": "z" * 1200}}]}) + "\n\n"
    url = "https://api.z.ai/api/coding/paas/v4/chat/completions"
    sent = Exchange("POST", url, {}, prompt, "replayed", status=200, response_body=answer)
    second = Exchange("POST", url, {}, "{}", "replayed", status=200, response_body=short)
    observation = Observation(turns=[Turn(index=0)], exchanges=[sent, second])
    result = cell_result("coding/glm-4.6/openai-sdk/crush-simple-test", Verdict.PASS, observation=observation)
    results = ResultsWriter(tmp_path / "reports", RUN)
    results.add(result)
    line = json.loads((results.run_dir / "cells.jsonl").read_text())
    kept = line["observation"]["exchanges"][0]
    assert kept["request_body"]["encoding"] == "zlib+base64" and kept["request_body"]["size"] == len(prompt)
    assert len(kept["request_body"]["data"]) < len(prompt) / 20  # a repeated prompt compresses well
    document = results.finish()
    exchange = document["cells"][0]["observation"]["exchanges"][0]
    assert unpack_body(document, exchange, "request_body") == prompt
    assert unpack_body(document, exchange, "response_body") == answer
    assert isinstance(document["bodies"][exchange["request_body_ref"]], dict)
    assert isinstance(document["bodies"][exchange["response_body_ref"]], dict)
    assert json.loads((tmp_path / "reports" / "results.json").read_text())["bodies"] == document["bodies"]
    shown = drill_down(render_html(document))[document["cells"][0]["cell"]]["observation"]["exchanges"]
    assert shown[0]["request_body_left_out"] == len(prompt) and shown[0]["response_body_left_out"] == len(answer)
    assert shown[1]["response_body"] == short  # a body under the limit is on the page, as text
    assert body_text(None) is None and body_text("plain") == "plain"


def test_a_run_gathered_from_its_directory_still_renders() -> None:
    run = {key: value for key, value in RUN.items() if key != "network"} | {"finished_at": None}
    page = render_html(gather(run, cells()))
    assert "no finish recorded" in page and "not recorded (the run's end was not recorded)" in page


def test_no_evidence_at_all_is_said_plainly() -> None:
    page = render_html(gather(RUN, [cell("coding/glm-5/openai-sdk/chat", "NOT_RECORDED")]))
    assert "No cell has evidence: nothing in this run is backed by real Z.AI bytes." in page


# --- JUnit ----------------------------------------------------------------------------------------


def test_junit_counts_and_cases(document: dict[str, Any]) -> None:
    root = ET.fromstring(render_junit(document))
    assert root.tag == "testsuites"
    counts = [root.get(key) for key in ("tests", "failures", "skipped", "errors")]
    assert counts == ["7", "1", "3", "0"]
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert list(suites) == ["coding/glm-4.5", "coding/glm-5", "general/glm-4.6"]
    assert (
        suites["coding/glm-4.5"].get("tests"),
        suites["coding/glm-4.5"].get("failures"),
        suites["coding/glm-4.5"].get("skipped"),
    ) == ("4", "1", "1")
    for suite in suites.values():
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(case.find("failure") is not None for case in cases)
        assert int(suite.get("skipped")) == sum(case.find("skipped") is not None for case in cases)


def test_junit_failure_says_what_was_expected(document: dict[str, Any]) -> None:
    root = ET.fromstring(render_junit(document))
    case = root.find(".//testcase[@classname='zai.coding.glm-4_5.litellm-zai'][@name='chat']")
    assert case is not None and case.get("time") == "0.013"
    failure = case.find("failure")
    message = failure.get("message") if failure is not None else ""
    assert message.startswith("coding/glm-4.5/litellm-zai/chat: unexpected DEVIATION, expected PASS — ")
    assert SCRIPT_BREAK in failure.text and "*/*/litellm-zai/*" in failure.text  # escaped by ET, parsed back
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties["verdict"] == "DEVIATION" and properties["evidence"] == "live"


def test_junit_skips_unrun_cells_and_passes_expected_ones(document: dict[str, Any]) -> None:
    root = ET.fromstring(render_junit(document))
    skipped = root.find(".//testcase[@classname='zai.general.glm-4_6.openai-sdk'][@name='chat']/skipped")
    assert skipped is not None and skipped.get("message").startswith("SKIPPED: live mode needs")
    expected_fail = root.find(".//testcase[@classname='zai.coding.glm-4_5.openai-sdk'][@name='chat-stream']")
    assert expected_fail.find("failure") is None and expected_fail.find("skipped") is None
    properties = {p.get("name"): p.get("value") for p in expected_fail.iter("property")}
    assert properties["evidence"] == "double" and properties["real_zai_bytes"] == "false"


def test_junit_survives_control_characters() -> None:
    hostile = cell("coding/glm-4.5/openai-sdk/chat", "FAIL", reasons=["\x1b[31mboom\x1b[0m \x00"])
    root = ET.fromstring(render_junit(gather(RUN, [hostile])))
    assert "\\x1b[31mboom" in root.find(".//failure").text


def test_write_reports_writes_both(tmp_path: Path, document: dict[str, Any]) -> None:
    written = write_reports(document, tmp_path)
    assert written["html"].read_text(encoding="utf-8").startswith("<!doctype html>")
    ET.parse(written["junit"])


# --- Schema ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_a_gathered_document_is_valid(validator: jsonschema.Draft202012Validator, document: dict[str, Any]) -> None:
    validator.validate(document)


def test_the_record_mode_is_valid_and_in_the_header(validator: jsonschema.Draft202012Validator) -> None:
    document = gather({**RUN, "mode": "live", "record_mode": "once", "block_network": True}, [cell("a/m/p/s")])
    validator.validate(document)
    page = render_html(document)
    assert "<code>--record-mode once</code> · <code>--block-network</code>" in page
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**document, "run": {**document["run"], "record_mode": "sometimes"}})


def test_what_cell_result_writes_is_valid(validator: jsonschema.Draft202012Validator) -> None:
    """The schema agrees with the producer, not only with this file's hand-made records."""
    result = cell_result(
        "coding/glm-4.5/openai-sdk/chat",
        Verdict.DEVIATION,
        ["turn 1: usage late"],
        findings=[Finding("usage", Severity.DEVIATION, "usage late", 0)],
        evidence=public_evidence("coding/glm-4.5/openai-sdk/chat"),
        observation=Observation(
            [Turn(0, text="hi")],
            [
                Exchange(
                    "POST",
                    "https://api.z.ai/x",
                    {"user-agent": ["t"]},
                    "{}",
                    "replayed",
                    status=200,
                    response_body="x" * 2000,
                )
            ],
        ),
        expected=Expected(Verdict.DEVIATION, "known", None, "*/*/openai-sdk/*"),
    )
    validator.validate(gather(RUN, [result.to_dict()]))


@pytest.mark.parametrize(
    "breakage",
    [
        "missing verdict",
        "renamed real_share",
        "bad severity",
        "bad evidence kind",
        "missing provenance source",
        "unknown verdict",
        "renamed cell field",
    ],
)
def test_a_broken_document_is_invalid(
    validator: jsonschema.Draft202012Validator, document: dict[str, Any], breakage: str
) -> None:
    broken = copy.deepcopy(document)
    first = broken["cells"][0]
    if breakage == "missing verdict":
        del first["verdict"]
    elif breakage == "renamed real_share":
        broken["summary"]["real_fraction"] = broken["summary"].pop("real_share")
    elif breakage == "bad severity":
        first["findings"][0]["severity"] = "warning"
    elif breakage == "bad evidence kind":
        first["evidence"]["kind"] = "recorded"
    elif breakage == "missing provenance source":
        del first["evidence"]["provenance"]["source"]
    elif breakage == "unknown verdict":
        first["verdict"] = "OK"
    elif breakage == "renamed cell field":
        first["as_expected_"] = first.pop("as_expected")
    assert not validator.is_valid(broken)


# --- A run directory with torn or corrupt lines ---------------------------------------------------


def _run_dir(tmp_path: Path, lines: list[bytes]) -> Path:
    """runs/<id>/ as the writer leaves it: run.json, and cells.jsonl made of the given raw lines."""
    run_dir = tmp_path / "runs" / RUN["id"]
    run_dir.mkdir(parents=True)
    header = {key: value for key, value in RUN.items() if key not in ("finished_at", "network")}
    (run_dir / "run.json").write_text(json.dumps(header), encoding="utf-8")
    (run_dir / "cells.jsonl").write_bytes(b"".join(lines))
    return run_dir


def _line(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


def test_a_torn_last_line_is_named_and_everything_before_it_renders(tmp_path: Path, capsys) -> None:
    from conformance.cli import main

    records = cells()[:3]
    torn = _line(cells()[3])[:57]  # a run killed mid-write: half a record, no newline
    run_dir = _run_dir(tmp_path, [*map(_line, records), torn])
    out = tmp_path / "out"
    assert main(["report", str(run_dir), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"{run_dir / 'cells.jsonl'}:4: " in err and "torn" in err
    document = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [c["cell"] for c in document["cells"]] == [c["cell"] for c in records]
    (warning,) = document["run"]["warnings"]
    assert warning.startswith(f"{run_dir / 'cells.jsonl'}:4: ") and "killed mid-write" in warning
    assert "cells.jsonl:4" in (out / "index.html").read_text(encoding="utf-8")


def test_a_record_torn_inside_a_multibyte_character_only_loses_that_record(tmp_path: Path) -> None:
    from conformance.results import load_results

    records = cells()[:2]
    last = cell("coding/glm-4.5/openai-sdk/thinking", reasons=["razão: ação"])
    raw = _line(last)
    torn = raw[: raw.index("ã".encode()) + 1]  # the first byte of a two-byte character
    document = load_results(_run_dir(tmp_path, [*map(_line, records), torn]))
    assert [c["cell"] for c in document["cells"]] == [c["cell"] for c in records]
    assert len(document["run"]["warnings"]) == 1 and "cells.jsonl:3" in document["run"]["warnings"][0]


def test_a_bad_line_in_the_middle_is_named_skipped_and_fails_the_command(tmp_path: Path, capsys) -> None:
    from conformance.cli import main

    records = cells()[:4]
    lines = [_line(records[0]), b"{not json\n", _line(records[1]), b'["a list"]\n', *map(_line, records[2:])]
    run_dir = _run_dir(tmp_path, lines)
    out = tmp_path / "out"
    assert main(["report", str(run_dir), "--out", str(out)]) == 1  # the report is written, but incomplete
    err = capsys.readouterr().err
    assert "cells.jsonl:2: " in err and "cells.jsonl:4: " in err
    document = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [c["cell"] for c in document["cells"]] == [c["cell"] for c in records]
    warnings = document["run"]["warnings"]
    assert len(warnings) == 2 and "not a JSON record" in warnings[0] and "not a cell record" in warnings[1]
    assert (out / "index.html").is_file() and (out / "junit.xml").is_file()


def test_a_run_directory_without_bad_lines_has_no_warnings(tmp_path: Path) -> None:
    from conformance.results import load_results

    document = load_results(_run_dir(tmp_path, [_line(c) for c in cells()]))
    assert document["run"].get("warnings", []) == []
    assert len(document["cells"]) == len(cells())


def test_run_warnings_are_valid_and_shown(validator: jsonschema.Draft202012Validator) -> None:
    run = {**RUN, "warnings": ["runs/x/cells.jsonl:9: torn <b>"]}
    document = gather(run, cells())
    validator.validate(document)
    page = render_html(document)
    assert "runs/x/cells.jsonl:9: torn &lt;b&gt;" in page
    broken = copy.deepcopy(document)
    broken["run"]["warnings"] = [{"line": 9}]
    assert not validator.is_valid(broken)


# --- Atomic report files --------------------------------------------------------------------------


def test_a_report_that_fails_to_write_leaves_the_previous_one_whole(
    tmp_path: Path, document: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import conformance.report.html as html
    import conformance.report.junit as junit

    write_reports(document, tmp_path)
    before = {name: (tmp_path / name).read_bytes() for name in ("index.html", "junit.xml")}
    unencodable = "<!doctype html>" + "x" * 100_000 + "\ud800"  # fails mid-write: a lone surrogate
    monkeypatch.setattr(html, "render_html", lambda document, changes=None: unencodable)
    with pytest.raises(UnicodeEncodeError):
        write_reports(document, tmp_path)
    monkeypatch.setattr(junit, "render_junit", lambda document: unencodable)
    monkeypatch.setattr(html, "render_html", lambda document, changes=None: "<!doctype html>new")
    with pytest.raises(UnicodeEncodeError):
        write_reports(document, tmp_path)
    assert (tmp_path / "index.html").read_text(encoding="utf-8") == "<!doctype html>new"
    assert (tmp_path / "junit.xml").read_bytes() == before["junit.xml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html", "junit.xml"]  # no temp file left


def test_every_report_file_is_put_in_place_by_one_rename(
    tmp_path: Path, document: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from conformance.results import write_json

    replaced: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def spy(source: Any, target: Any) -> None:
        replaced.append((Path(source), Path(target)))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", spy)
    write_json(tmp_path / "results.json", document)
    write_reports(document, tmp_path)
    assert sorted(target.name for _, target in replaced) == ["index.html", "junit.xml", "results.json"]
    assert all(source.parent == target.parent == tmp_path for source, target in replaced)
    assert all(oct(p.stat().st_mode & 0o777) == "0o644" for p in tmp_path.iterdir())


# --- Evidence warnings ----------------------------------------------------------------------------


def _with_unused(record: dict[str, Any], unused: int = 1) -> dict[str, Any]:
    record = copy.deepcopy(record)
    record["evidence"]["unused"] = unused
    record["evidence"]["warnings"] = [f"{record['evidence']['cassette']} holds 2 interactions; the path used 1"]
    return record


def test_evidence_warnings_are_counted_valid_and_shown(validator: jsonschema.Draft202012Validator) -> None:
    records = cells()
    records[0] = _with_unused(records[0])
    document = gather(RUN, records)
    assert document["summary"]["evidence_warnings"] == 1
    assert gather(RUN, cells())["summary"]["evidence_warnings"] == 0
    validator.validate(document)
    page = render_html(document)
    shown = drill_down(page)["coding/glm-4.5/openai-sdk/chat"]["evidence"]
    assert "holds 2 interactions; the path used 1" in shown["warnings"][0]
    assert "1 cell(s) with an evidence warning" in page
    assert "evidence.warnings" in page  # the drill-down shows them (report.js)
    broken = copy.deepcopy(document)
    broken["cells"][0]["evidence"]["unused"] = -1
    assert not validator.is_valid(broken)


# --- Streamed vs non-streamed: asked for by the session and by `report`, not by gather() ------------

PAIR = ["coding/glm-4.5/openai-sdk/chat", "coding/glm-4.5/openai-sdk/chat-stream"]


def test_a_finished_session_writes_the_comparison_of_its_streamed_cells(tmp_path: Path) -> None:
    from conformance.session import ConformanceSession

    root = Path(__file__).resolve().parent.parent
    session = ConformanceSession.from_options(
        cassettes=str(root / "cassettes"), reports=str(tmp_path), cells=PAIR, environ={}
    )
    for selected in session.selected_cells():
        session.run(selected)
    document = session.finish()
    assert document is not None
    # two real recordings (separate generations): the same tool calls, finish_reason and usage count
    assert document["equivalence"] == {"pairs": 1, "same": 1, "differing": []}
    assert json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["equivalence"] == document["equivalence"]


def test_a_report_of_a_run_directory_compares_its_streamed_cells_by_the_run_catalogue(tmp_path: Path) -> None:
    from conformance.cli import main

    records = cells()
    out = tmp_path / "out"
    assert main(["report", str(_run_dir(tmp_path, [*map(_line, records)])), "--out", str(out)]) == 0
    document = json.loads((out / "results.json").read_text(encoding="utf-8"))
    expected = equivalence_summary(records, {"chat-stream": "chat"})
    assert document["equivalence"] == expected
    assert (expected["pairs"], expected["same"]) == (1, 0)  # openai-sdk: chat PASS with chat-stream FAIL
    assert [p["stream_cell"] for p in expected["differing"]] == ["coding/glm-4.5/openai-sdk/chat-stream"]
    assert "Streamed vs non-streamed: 1 pair(s) compared" in (out / "index.html").read_text(encoding="utf-8")


# --- the agents' section --------------------------------------------------------------------------


def test_the_agents_section_gives_the_configuration_to_copy_and_what_the_cells_found() -> None:
    sends = {"check": "agent_sends", "severity": "info", "message": "sends 2 request(s): 2× POST /responses"}
    cells = [
        cell("responses/glm-5.3/agent-codex/agent-task", findings=[sends]),
        cell(
            "coding/glm-5.3/agent-crush/agent-task",
            "SKIPPED",
            reasons=["not run on this machine: crush's npm package carries no program"],
            expected=None,
        ),
    ]
    page = render_html(gather(RUN, cells))
    section = page[page.index('<section class="agents"') :]
    section = html.unescape(section[: section.index("</section>")])
    assert 'wire_api = "responses"' in section and 'base_url = "https://api.z.ai/api/v1"' in section
    assert "<strong>What it sends:</strong> 2 request(s): 2× POST /responses" in section
    assert "carries no program" in section and "Claude Code" not in section  # only agents with cells


def test_a_run_without_agent_cells_has_no_agents_section(document: dict[str, Any]) -> None:
    assert '<section class="agents"' not in render_html(document)


# --- the summary: paths × features -------------------------------------------------------------------


def test_the_summary_puts_paths_against_features_per_endpoint() -> None:
    cells = [
        cell("coding/glm-4.6/openai-sdk/chat"),
        cell("coding/glm-4.6/openai-sdk/tool", "FAIL", expected="FAIL"),
        cell("coding/glm-4.6/openai-sdk/tool-stream"),
        cell("coding/glm-4.6/litellm-zai/embeddings", "SKIPPED", expected=None),
        cell("anthropic/glm-4.6/anthropic-sdk/chat"),
    ]
    document = gather(RUN, cells)
    coding, anthropic = endpoint_summaries(document)
    assert [f.id for f in coding.families] == ["chat", "tools", "operations"]
    rows = dict(coding.rows)
    chat, tools, operations = rows["openai-sdk"]
    assert (chat.text, chat.state, tools.text, tools.state, operations) == ("1/1", "all", "1/2", "some", None)
    assert rows["litellm-zai"][2].state == "unjudged" and rows["litellm-zai"][2].text == "–"
    assert tools.title == "PASS 1, FAIL 1; evidence: none 2"
    assert anthropic.endpoint == "anthropic" and dict(anthropic.rows)["anthropic-sdk"][0].text == "1/1"
    page = html.unescape(render_html(document))
    assert (
        '<td class="s" data-state="some"><a href="#view=endpoint=coding&path=openai-sdk&feature=tools" '
        'data-endpoint="coding" data-path="openai-sdk" data-feature="tools" title="PASS 1, FAIL 1; evidence: none 2"'
    ) in page


def test_a_summary_entry_counts_a_deviation_as_working_and_marks_it() -> None:
    """A DEVIATION works with a named difference: a family of them reads "2/2 ≈", not "0/2" (broken)."""
    cells = [
        cell("coding/glm-4.6/openai-sdk/chat-stream", "DEVIATION", expected="DEVIATION"),
        cell("coding/glm-4.7/openai-sdk/chat-stream", "DEVIATION", expected="DEVIATION"),
        cell("coding/glm-4.6/zai-sdk/chat-stream", "DEVIATION", expected="DEVIATION"),
        cell("coding/glm-4.7/zai-sdk/chat-stream", "FAIL", expected="FAIL"),
        cell("coding/glm-4.6/litellm-zai/chat-stream", "FAIL", expected="FAIL"),
    ]
    (coding,) = endpoint_summaries(gather(RUN, cells))
    rows = {path: entries[0] for path, entries in coding.rows}
    assert [(rows[p].text, rows[p].state) for p in ("openai-sdk", "zai-sdk", "litellm-zai")] == [
        ("2/2 ≈", "works"),
        ("1/2 ≈", "some"),
        ("0/1", "none"),
    ]


def test_the_report_says_what_changed_since_the_previous_run(tmp_path: Path) -> None:
    old = gather({**RUN, "id": "20260101T000000Z-replay-0"}, [cell("coding/glm-4.6/openai-sdk/chat")])
    previous = tmp_path / "runs" / "20260101T000000Z-replay-0"
    previous.mkdir(parents=True)
    (previous / "facts.json").write_text(json.dumps(facts_of(old)))
    new = gather(RUN, [cell("coding/glm-4.6/openai-sdk/chat", "FAIL", expected="FAIL")])
    page = html.unescape(write_reports(new, tmp_path)["html"].read_text())
    assert "Against 20260101T000000Z-replay-0: 1 cells compared, 1 changed, 0 new, 0 gone." in re.sub(
        r"<[^>]+>", "", page
    )
    assert "coding/glm-4.6/openai-sdk/chat</a>: PASS → FAIL" in page
    alone = html.unescape(render_html(new))
    assert "No previous run in this reports folder to compare with" in alone
