"""The version axis without a network: which releases a bisect may try (and which it must skip, and
why), the binary search itself against a fake cell runner, client sets as data, and merging per-set
results into one document where every verdict change is attributed to the releases that differ."""

from __future__ import annotations

import json

import pytest
from packaging.version import Version

from conformance.catalogue import load_catalogue
from conformance.cli import main
from conformance.clients import registry
from conformance.clients.sets import ClientSet, ClientSetError, load_sets, parse_spec
from conformance.report.matrix import render_matrix
from conformance.results import gather
from conformance.workflows.bisect import Probe, bisect
from conformance.workflows.matrix import sensitive_patterns
from conformance.workflows.merge import SetRun, merge
from tests.support.pages import assert_script_free_and_pinned


def _page(*files: tuple[str, object]) -> dict:
    return {"name": "litellm", "files": [{"filename": name, "yanked": yanked} for name, yanked in files]}


PAGE = _page(
    ("litellm-1.106.2-py3-none-any.whl", False),
    ("litellm-1.106.2.tar.gz", False),
    ("litellm-1.107.0-py3-none-any.whl", False),  # compromised: never, even if served
    ("litellm-1.107.0.dev1-cp310-abi3-manylinux_2_28_x86_64.whl", False),
    ("litellm-1.108.0-py3-none-any.whl", False),
    ("litellm-1.108.1-py3-none-any.whl", "broken metadata"),
    ("litellm-1.108.1.tar.gz", "broken metadata"),
    ("litellm-1.108.2rc1-py3-none-any.whl", False),
    ("litellm-1.108.2-py3-none-any.whl", False),
    ("litellm-1.109.0-py3-none-any.whl", True),
    ("litellm-1.109.0.tar.gz", False),  # one file still served: the release is not yanked
    ("litellm-1.110.2-py3-none-any.whl", False),
    ("not-a-distribution.txt", False),
)


def test_releases_are_read_from_a_pep_691_page_with_their_yank_state():
    found = registry.releases_from(PAGE)
    assert [r.text for r in found] == [
        "1.106.2",
        "1.107.0.dev1",
        "1.107.0",
        "1.108.0",
        "1.108.1",
        "1.108.2rc1",
        "1.108.2",
        "1.109.0",
        "1.110.2",
    ]
    yanked = {r.text: r.yanked for r in found if r.yanked is not None}
    assert yanked == {"1.108.1": "broken metadata"}


def test_candidates_skip_never_yanked_and_pre_releases_with_the_reason():
    tried, skipped = registry.candidates("litellm", registry.releases_from(PAGE), "1.106.2", "1.110.2")
    assert tried == ["1.108.0", "1.108.2", "1.109.0"]
    assert {s.version: s.why for s in skipped} == {
        "1.107.0.dev1": "a compromised release line (pulled from PyPI)",
        "1.107.0": "a compromised release line (pulled from PyPI)",
        "1.108.1": "yanked: broken metadata",
        "1.108.2rc1": "a pre-release",
    }
    reverse, _ = registry.candidates("litellm", registry.releases_from(PAGE), "1.110.2", "1.106.2")
    assert reverse == list(reversed(tried))  # from good towards bad, whichever is newer


def test_the_index_follows_the_users_configuration():
    assert registry.index_url({}) == "https://pypi.org/simple"
    assert registry.index_url({"PIP_INDEX_URL": "https://mirror.example/simple/"}) == "https://mirror.example/simple"
    assert (
        registry.index_url({"UV_DEFAULT_INDEX": "https://a/simple", "PIP_INDEX_URL": "https://b"}) == "https://a/simple"
    )


def _releases(*versions: str) -> list[registry.Release]:
    return [registry.Release(Version(v)) for v in versions]


def _runner(first_bad: str, uninstallable: tuple[str, ...] = ()):
    probed: list[str] = []

    def run(version: str) -> Probe:
        probed.append(version)
        if version in uninstallable:
            raise ClientSetError(f"litellm {version}: no wheel for this platform")
        verdict = "PASS" if Version(version) < Version(first_bad) else "FAIL"
        return Probe(version, verdict, [f"under {version}"])

    return run, probed


@pytest.mark.parametrize("first_bad", ["1.101", "1.102", "1.105", "1.108", "1.110"])
def test_bisect_finds_the_first_release_whose_verdict_differs(first_bad):
    versions = ("1.100", "1.101", "1.102", "1.103", "1.104", "1.105", "1.106", "1.108", "1.109", "1.110")
    run, probed = _runner(first_bad)
    result = bisect("litellm", "coding/glm-4.6/litellm-zai/chat", "1.100", "1.110", _releases(*versions), run)
    assert result.first_changed == first_bad
    assert len(probed) <= 2 + 4  # good, bad and a binary search over 8 candidates
    assert result.to_dict()["verdicts"]["1.100"] == "PASS"


def test_bisect_skips_an_uninstallable_release_and_goes_on_around_it():
    versions = ("1.100", "1.101", "1.102", "1.103", "1.104", "1.105")
    run, _ = _runner("1.103", uninstallable=("1.102", "1.103"))
    result = bisect("litellm", "c", "1.100", "1.105", _releases(*versions), run)
    assert result.first_changed == "1.104"  # 1.103 could not be tried: the first *tried* release that differs
    assert {s.version for s in result.skipped} == {"1.102", "1.103"}
    assert all("cannot be installed" in s.why for s in result.skipped)


def test_bisect_says_when_there_is_nothing_to_bisect():
    run, _ = _runner("9.0")
    result = bisect("litellm", "c", "1.100", "1.105", _releases("1.100", "1.102", "1.105"), run)
    assert result.first_changed is None and "same verdict (PASS)" in result.note


def test_bisect_refuses_a_compromised_endpoint():
    run, probed = _runner("1.108")
    with pytest.raises(ClientSetError, match="never installed"):
        bisect("litellm", "c", "1.106.2", "1.107.1", _releases("1.106.2", "1.108.0"), run)
    assert probed == []


def test_the_shipped_client_sets_are_valid_and_refuse_compromised_pins():
    sets = load_sets()
    assert sets["default"].lock == "requirements.lock"
    assert any(s.ci for s in sets.values()), "CI replays at least one other set"
    litellm_pins = sorted((s.pins.get("litellm") for s in sets.values() if "litellm" in s.pins), key=Version)
    assert len(litellm_pins) >= 4  # with the default's, five LiteLLM releases from 1.106 on
    with pytest.raises(ValueError, match="compromised"):
        ClientSet(name="bad", pins={"litellm": "1.107.2"})


def test_an_ad_hoc_set_is_written_as_pins():
    adhoc = parse_spec("LiteLLM==1.108.7, openai==2.54.0", load_sets())
    assert adhoc.pins == {"litellm": "1.108.7", "openai": "2.54.0"}
    assert adhoc.name == "litellm-1.108.7+openai-2.54.0"
    with pytest.raises(ClientSetError, match="not a known set"):
        parse_spec("litellm>=1.108", load_sets())


def test_only_paths_that_use_a_differing_client_are_rerun():
    catalogue = load_catalogue()
    patterns = sensitive_patterns(catalogue, {"zai-sdk"})
    assert patterns == ["*/zai-sdk/*"]
    litellm = sensitive_patterns(catalogue, {"litellm"})
    assert "*/litellm-zai/*" in litellm and "*/proxy-openai-sdk/*" in litellm and "*/openai-sdk/*" not in litellm


def _set_document(versions: dict[str, str], verdicts: dict[str, str]) -> dict:
    cells = []
    for cell, verdict in verdicts.items():
        endpoint, model, path, scenario = cell.split("/")
        cells.append(
            {
                "cell": cell,
                "endpoint": endpoint,
                "model": model,
                "path": path,
                "scenario": scenario,
                "verdict": verdict,
                "reasons": [f"{verdict} because"],
            }
        )
    return gather({"id": "r", "clients": {"python": "3.11", **versions}}, cells)


def test_merge_puts_sets_side_by_side_and_attributes_each_change():
    a, b = "coding/glm-4.6/litellm-zai/thinking-disabled", "coding/glm-4.6/openai-sdk/chat"
    runs = [
        SetRun("litellm-1.106", _set_document({"litellm": "1.106.2", "openai": "2.54.0"}, {a: "FAIL", b: "PASS"})),
        SetRun("default", _set_document({"litellm": "1.110.2", "openai": "3.57.0"}, {a: "PASS", b: "PASS"})),
    ]
    document = merge(runs)
    assert document["adjacent"] == [
        {
            "from": "litellm-1.106",
            "to": "default",
            "clients_changed": {"litellm": ["1.106.2", "1.110.2"], "openai": ["2.54.0", "3.57.0"]},
        }
    ]
    (change,) = document["changes"]
    assert (change["cell"], change["from"], change["to"]) == (a, "FAIL", "PASS")
    assert change["clients_changed"]["litellm"] == ["1.106.2", "1.110.2"]
    assert {c["cell"]: c["verdicts"] for c in document["cells"]}[b] == {"litellm-1.106": "PASS", "default": "PASS"}


def test_the_merge_command_writes_one_report(tmp_path, capsys):
    cell = "coding/glm-4.6/litellm-zai/chat"
    inputs = []
    for name, version, verdict in (("old", "1.106.2", "FAIL"), ("new", "1.110.2", "PASS")):
        path = tmp_path / name / "results.json"
        path.parent.mkdir()
        path.write_text(json.dumps(_set_document({"litellm": version}, {cell: verdict})))
        inputs.append(str(path))
    assert main(["merge", *inputs, "--out", str(tmp_path / "out")]) == 0
    html = (tmp_path / "out" / "matrix.html").read_text()
    assert "litellm</strong> 1.106.2 → 1.110.2" in html and cell in html
    assert json.loads((tmp_path / "out" / "matrix.json").read_text())["changes"][0]["to"] == "PASS"
    assert "1 verdict change(s)" in capsys.readouterr().out


def _three_sets(verdicts: list[dict[str, str]]) -> dict:
    names = ("litellm-1.106", "litellm-1.108", "default")
    versions = ("1.106.2", "1.108.0", "1.110.2")
    return merge(
        [
            SetRun(name, _set_document({"litellm": version}, cells))
            for name, version, cells in zip(names, versions, verdicts, strict=True)
        ]
    )


def test_the_sets_page_shows_each_cells_verdict_per_set_side_by_side():
    moved, gone, steady = (
        "coding/glm-4.6/litellm-zai/thinking-disabled",
        "coding/glm-4.6/litellm-zai/tools",
        "coding/glm-4.6/openai-sdk/chat",
    )
    other = "general/glm-5.3/litellm-zai/chat"
    document = _three_sets(
        [
            {moved: "FAIL", gone: "PASS", steady: "PASS", other: "DEVIATION"},
            {moved: "DEVIATION", gone: "PASS", steady: "PASS", other: "PASS"},
            {moved: "PASS", steady: "PASS", other: "PASS"},
        ]
    )
    text = render_matrix(document)
    page = assert_script_free_and_pinned(text)
    assert page.cells_in("block") == [moved, gone, other]  # one row each, in its endpoint/model block
    assert page.row_text(moved) == "litellm-zai thinking-disabled FAIL DEVIATION PASS"  # set by set, in order
    assert page.row_text(gone) == "litellm-zai tools PASS PASS —"  # not run under one set: said, not folded
    assert page.row_text(other) == "litellm-zai chat DEVIATION PASS PASS"
    assert "coding / glm-4.6 — 3 cell(s): 2 differ across the sets, 1 the same under every set" in text
    assert "general / glm-5.3 — 1 cell(s): 1 differ across the sets, 0 the same under every set" in text
    assert "litellm</strong> 1.106.2 → 1.108.0" in text  # what changed between adjacent sets stays
    assert text.count('<tr data-cell="') == 3


def test_the_sets_page_folds_the_cells_that_are_the_same_under_every_set():
    """Several sets × 12,000 cells: the cells that do not move fold into one line per path and verdict
    inside a closed <details>, so the page holds a few rows, not one per cell."""
    same = {
        f"coding/glm-4.6/path-{p}/scenario-{s}": "FAIL" if s % 10 == 0 else "PASS" for p in range(6) for s in range(300)
    }
    moved = "coding/glm-4.6/path-0/thinking"
    document = _three_sets([{**same, moved: "FAIL"}, {**same, moved: "FAIL"}, {**same, moved: "PASS"}])
    text = render_matrix(document)
    page = assert_script_free_and_pinned(text)
    assert page.cells_in("block") == [moved]
    assert "1800 cell(s) with the same verdict under every set" in text
    same_details = [attrs for tag, attrs in page.attributes if tag == "details" and attrs.get("class") == "same"]
    assert len(same_details) == 1 and "open" not in same_details[0]
    side_by_side = text[text.index("<h2>Every cell, set by set</h2>") :]
    assert side_by_side.count("<tr") == 2 + 13  # the moved cell (and a head), 6 paths × PASS / FAIL (and a head)
    assert "<code>scenario-299</code>" in text  # folded, not dropped
    assert text.count("<code>path-3</code>") == 2  # path-3: one line for PASS, one for FAIL


def test_the_sets_page_keeps_hostile_names_as_text():
    hostile = 'coding/<img src=x onerror=alert(1)>/openai-sdk/"><script>alert(2)'
    document = _three_sets([{hostile: "PASS"}, {hostile: "FAIL"}, {hostile: "FAIL"}])
    document["sets"][0]["name"] = "<b>set</b>"
    text = render_matrix(document)
    page = assert_script_free_and_pinned(text)
    for markup in ("<img", "<script", "<b>"):
        assert markup not in text, markup
    assert page.cells_in("block") == [hostile]
