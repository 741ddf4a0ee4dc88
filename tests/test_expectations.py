"""Expectations (web-platform-tests style): default PASS, first match wins, bad entries named."""

from __future__ import annotations

import itertools
import re
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from conformance.catalogue import Catalogue
from conformance.clients.sets import PROJECT_ROOT, load_sets
from conformance.expectations import Entry, Expectations, ExpectationsError, Expected, installed_versions
from conformance.verdict import Verdict

CELL = "coding/glm-4.5/openai-sdk/chat-stream"


def _load(tmp_path: Path, text: str) -> Expectations:
    path = tmp_path / "expectations.yaml"
    path.write_text(text, encoding="utf-8")
    return Expectations.load(path)


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ExpectationsError) as caught:
        _load(tmp_path, text)
    return str(caught.value)


def test_no_entry_means_pass():
    assert Expectations([], "none").for_cell(CELL) == Expected(Verdict.PASS)
    assert Expectations([], "none").for_cell(CELL).pattern is None


def test_empty_file_means_pass(tmp_path):
    expectations = _load(tmp_path, "# nothing known yet\n")
    assert expectations.entries == []
    assert expectations.for_cell(CELL).verdict is Verdict.PASS


def test_first_matching_glob_wins(tmp_path):
    expectations = _load(
        tmp_path,
        """
- cell: "general/*"
  verdict: FAIL
  reason: the general endpoint is broken
- cell: "*/glm-4.5/*/*-stream"
  verdict: DEVIATION
  reason: usage on the finish chunk
  link: https://example.invalid/issue/1
- cell: "coding/*"
  verdict: BLOCKED
  reason: the plan has no quota
""",
    )
    assert expectations.for_cell(CELL) == Expected(
        Verdict.DEVIATION,
        "usage on the finish chunk",
        "https://example.invalid/issue/1",
        "*/glm-4.5/*/*-stream",
    )
    assert expectations.for_cell("coding/glm-4.5/openai-sdk/chat") == Expected(
        Verdict.BLOCKED, "the plan has no quota", None, "coding/*"
    )
    assert expectations.for_cell("general/glm-4.5/openai-sdk/chat-stream").verdict is Verdict.FAIL
    assert expectations.for_cell("anthropic/glm-4.5/x/chat").verdict is Verdict.PASS


def test_patterns_are_case_sensitive():
    expectations = Expectations([Entry(cells=("*/GLM-4.5/*/*",), verdict=Verdict.FAIL, reason="r")], "x")
    assert expectations.for_cell(CELL).verdict is Verdict.PASS


def test_reason_is_stripped_and_folded(tmp_path):
    expectations = _load(tmp_path, "- cell: '*'\n  verdict: HANG\n  reason: >-\n    a long\n    reason\n")
    assert expectations.entries == [Entry(cells=("*",), verdict=Verdict.HANG, reason="a long reason")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "- cell: 'a/*'\n  verdict: MAYBE\n  reason: r\n",
            "entry 1 ('a/*'): field 'verdict': 'MAYBE' is not one of PASS, DEVIATION, FAIL",
            id="invalid-verdict",
        ),
        pytest.param(
            "- cell: 'a/*'\n  verdict: pass\n  reason: r\n",
            "entry 1 ('a/*'): field 'verdict': 'pass' is not one of",
            id="lowercase-verdict",
        ),
        pytest.param(
            "- cell: 'a/*'\n  reason: r\n",
            "entry 1 ('a/*'): field 'verdict': missing; one of PASS, DEVIATION, FAIL",
            id="missing-verdict",
        ),
        pytest.param(
            "- cell: 'a/*'\n  verdict: FAIL\n  reason: r\n- cell: 'b/*'\n  verdict: FAIL\n",
            "entry 2 ('b/*'): field 'reason': say why this verdict is expected",
            id="missing-reason",
        ),
        pytest.param(
            "- cell: 'b/*'\n  verdict: FAIL\n  reason: '   '\n",
            "entry 1 ('b/*'): field 'reason': say why this verdict is expected",
            id="blank-reason",
        ),
        pytest.param(
            "- cell: 'c/*'\n  verdict: FAIL\n  reason: r\n  since: 2026\n  owner: me\n",
            "entry 1 ('c/*'): field 'since': Extra inputs are not permitted (got 2026)\n"
            "  entry 1 ('c/*'): field 'owner': Extra inputs are not permitted (got 'me')",
            id="unknown-field",
        ),
        pytest.param(
            "- verdict: FAIL\n  reason: r\n",
            "entry 1: field 'cell': needs a pattern over endpoint/model/path/scenario, or a list of them",
            id="missing-cell",
        ),
        pytest.param(
            "- cell: 'a/*'\n  verdict: FAIL\n  reason: r\n- just a string\n",
            "entry 2: expected a mapping with cell, verdict, reason (and link) (got 'just a string')",
            id="entry-not-a-mapping",
        ),
        pytest.param("cell: 'a/*'\nverdict: FAIL\n", "expected a list of entries", id="not-a-list"),
        pytest.param(
            "- cell: [unclosed\n",
            ":2:1: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence at 1:9)",
            id="invalid-yaml",
        ),
        pytest.param(
            "- cell: 'a/*'\n  verdict FAIL\n  reason: r\n",
            ":3:3: could not find expected ':' (while scanning a simple key at 2:3)",
            id="invalid-yaml-names-line-and-column",
        ),
    ],
)
def test_invalid_entries_are_named(tmp_path, text, message):
    error = _error(tmp_path, text)
    assert error.startswith(f"{tmp_path / 'expectations.yaml'}")
    assert message in error


def test_every_problem_is_reported_at_once(tmp_path):
    error = _error(tmp_path, "- cell: 'a/*'\n  verdict: MAYBE\n  reason: r\n- cell: 'b/*'\n  verdict: FAIL\n")
    assert error.splitlines() == [
        f"{tmp_path / 'expectations.yaml'}: 2 problem(s)",
        "  entry 1 ('a/*'): field 'verdict': 'MAYBE' is not one of "
        "PASS, DEVIATION, FAIL, UNSUPPORTED, BLOCKED, TRANSIENT, HANG, SKIPPED, NOT_RECORDED",
        "  entry 2 ('b/*'): field 'reason': say why this verdict is expected",
    ]


def test_missing_file_is_an_expectations_error(tmp_path):
    with pytest.raises(ExpectationsError, match=r"absent\.yaml"):
        Expectations.load(tmp_path / "absent.yaml")


# --- the packaged expectations -----------------------------------------------------------------


def test_packaged_expectations_load():
    expectations = Expectations.load()
    assert expectations.source == "conformance/data/expectations.yaml"
    assert len(expectations.entries) >= 1
    for entry in expectations.entries:
        assert entry.reason and entry.verdict is not Verdict.PASS
        assert entry.link is None or entry.link.startswith("https://")


def test_every_packaged_pattern_matches_a_catalogue_cell(catalogue: Catalogue):
    cell_ids = [cell.id for cell in catalogue.cells if cell.not_applicable is None]
    stale = [
        pattern
        for entry in Expectations.load().entries
        for pattern in entry.cells
        if not any(fnmatchcase(c, pattern) for c in cell_ids)
    ]
    assert stale == []


def _lock_pins(lock: Path) -> dict[str, str]:
    """`name==version` lines of a lock file (uv pip compile's format), by canonical name."""
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        name, sep, version = line.split("#", 1)[0].partition("==")
        if sep and name.strip():
            pins[canonicalize_name(name.strip())] = version.split(";", 1)[0].strip()
    return pins


def known_releases(names: set[str]) -> dict[str, set[str]]:
    """Every release of these clients that this environment holds or a client set installs (its pins,
    or the versions its lock pins): the releases an entry's condition can be checked against."""
    known: dict[str, set[str]] = {name: set() for name in names}
    for name, version in installed_versions(names).items():
        known[name].add(version)
    for client_set in load_sets().values():
        pins = _lock_pins(PROJECT_ROOT / client_set.lock) if client_set.lock else client_set.pins
        for name, version in pins.items():
            if canonicalize_name(name) in known:
                known[canonicalize_name(name)].add(version)
    return known


def undecided_entries(
    expectations: Expectations, cell_ids: list[str], installed: dict[str, str], known: dict[str, set[str]]
) -> list[str]:
    """The entries that decide no cell under any client releases they hold for: the installed ones, and
    each combination of known releases that meets a conditional entry's condition (laid over the
    installed ones). An entry that holds only for releases not installed here is still checked — under
    those releases — and one whose condition no known release meets is reported as such."""
    entries = expectations.entries
    releases: list[dict[str, str]] = [dict(installed)]
    unmet = set()
    for index, entry in enumerate(entries):
        choices = [
            [(name, v) for v in sorted(known.get(name, ())) if SpecifierSet(spec).contains(v, prereleases=True)]
            for name, spec in entry.clients.items()
        ]
        combinations = [installed | dict(chosen) for chosen in itertools.product(*choices)] if entry.clients else []
        if entry.clients and not combinations:
            unmet.add(index)
        releases += [r for r in combinations if r not in releases]
    judged = [Expectations(entries, expectations.source, versions) for versions in releases]
    stale = []
    for index, entry in enumerate(entries):
        if index in unmet:
            stale.append(f"{entry.cell}: no known client release meets {entry.clients}")
            continue
        own = Expected(entry.verdict, entry.reason, entry.link, entry.cell)
        matching = [cell for cell in cell_ids if entry.matches(cell)]
        if not any(
            (not entry.clients or entry.holds_for(e.versions)) and any(e.for_cell(c) == own for c in matching)
            for e in judged
        ):
            stale.append(f"{entry.cell} ({entry.clients or 'any clients'}): decides no cell")
    return stale


def test_every_packaged_entry_decides_at_least_one_cell(catalogue: Catalogue):
    """An entry shadowed by an earlier one is as stale as one that matches nothing. An entry that holds
    only for other client releases than the installed ones decides its cells under those releases."""
    expectations = Expectations.load()
    names = {name for entry in expectations.entries for name in entry.clients}
    known = known_releases(names)
    cell_ids = [cell.id for cell in catalogue.cells]
    assert undecided_entries(expectations, cell_ids, installed_versions(names), known) == []


def test_an_entry_for_releases_not_installed_is_checked_under_them(tmp_path):
    path = tmp_path / "expectations.yaml"
    path.write_text(
        """
- cell: "*/*/litellm-zai/thinking"
  clients: {litellm: "<1.107"}
  verdict: UNSUPPORTED
  reason: refused by 1.106
- cell: "*/*/litellm-zai/thinking"
  verdict: DEVIATION
  reason: what later releases do
- cell: "*/*/litellm-zai/chat"
  clients: {litellm: ">=1.108"}
  verdict: FAIL
  reason: a later release
- cell: "*/*/litellm-zai/chat"
  verdict: FAIL
  reason: shadowed from 1.108 on, and decides for 1.106
- cell: "*/*/litellm-zai/tool"
  verdict: FAIL
  reason: first
- cell: "*/*/litellm-zai/tool"
  verdict: FAIL
  reason: always shadowed
- cell: "*/*/litellm-zai/tool"
  clients: {litellm: "<1.0"}
  verdict: FAIL
  reason: no known release
"""
    )
    expectations = Expectations.load(path)
    cells = [
        "coding/glm-4.6/litellm-zai/thinking",
        "coding/glm-4.6/litellm-zai/chat",
        "coding/glm-4.6/litellm-zai/tool",
    ]
    known = {"litellm": {"1.106.2", "1.110.2"}}
    for installed in ("1.106.2", "1.110.2"):
        assert undecided_entries(expectations, cells, {"litellm": installed}, known) == [
            "*/*/litellm-zai/tool (any clients): decides no cell",
            "*/*/litellm-zai/tool: no known client release meets {'litellm': '<1.0'}",
        ]
    # a release no environment or client set installs is never assumed
    assert undecided_entries(expectations, cells, {"litellm": "1.110.2"}, {"litellm": {"1.110.2"}})[0] == (
        "*/*/litellm-zai/thinking: no known client release meets {'litellm': '<1.107'}"
    )


def test_packaged_expectation_for_a_known_cell():
    expected = Expectations.load().for_cell("coding/glm-4.5/openai-sdk/chat-stream")
    assert (expected.verdict, expected.pattern) == (Verdict.DEVIATION, "*/*/openai-sdk/*-stream")
    assert Expectations.load().for_cell("coding/glm-4.5/openai-sdk/chat").verdict is Verdict.PASS


def test_an_entry_may_list_several_patterns(tmp_path):
    path = tmp_path / "expectations.yaml"
    path.write_text(
        "- cell: ['*/*/litellm-zai/thinking', '*/*/litellm-zai/thinking-stream']\n"
        "  verdict: UNSUPPORTED\n  reason: refused\n"
    )
    expectations = Expectations.load(path)
    assert expectations.for_cell("coding/glm-4.6/litellm-zai/thinking-stream").verdict is Verdict.UNSUPPORTED
    assert expectations.for_cell("coding/glm-4.6/litellm-zai/thinking-enabled").verdict is Verdict.PASS
    assert expectations.entries[0].cell == "*/*/litellm-zai/thinking | */*/litellm-zai/thinking-stream"


def test_an_empty_pattern_list_is_refused(tmp_path):
    path = tmp_path / "expectations.yaml"
    path.write_text("- cell: []\n  verdict: FAIL\n  reason: x\n")
    with pytest.raises(ExpectationsError, match="entry 1: field 'cell': needs a pattern"):
        Expectations.load(path)


# --- client-version conditions -----------------------------------------------------------------------


def _conditional(tmp_path, text: str):
    path = tmp_path / "expectations.yaml"
    path.write_text(text)
    return path


def test_an_entry_holds_only_for_the_client_releases_it_names(tmp_path):
    from conformance.expectations import Expectations

    path = _conditional(
        tmp_path,
        """
- cell: "*/*/litellm-zai/thinking-disabled"
  clients: {litellm: "<1.108"}
  verdict: FAIL
  reason: the old release passes thinking as a keyword to the OpenAI SDK
- cell: "*/*/litellm-zai/*"
  clients: {LiteLLM: ">=1.108", openai: ">=3"}
  verdict: DEVIATION
  reason: the newer pair does something else
""",
    )
    cell = "coding/glm-4.6/litellm-zai/thinking-disabled"
    old = Expectations.load(path, versions={"litellm": "1.106.2", "openai": "2.54.0"}).for_cell(cell)
    new = Expectations.load(path, versions={"litellm": "1.110.2", "openai": "3.57.0"}).for_cell(cell)
    mixed = Expectations.load(path, versions={"litellm": "1.110.2", "openai": "2.54.0"}).for_cell(cell)
    absent = Expectations.load(path, versions={}).for_cell(cell)
    assert (old.verdict.value, new.verdict.value, mixed.verdict.value, absent.verdict.value) == (
        "FAIL",
        "DEVIATION",
        "PASS",
        "PASS",
    )


def test_a_bad_client_condition_names_the_entry(tmp_path):
    from conformance.expectations import Expectations, ExpectationsError

    path = _conditional(tmp_path, '- cell: "*"\n  clients: {litellm: "about 1.108"}\n  verdict: FAIL\n  reason: x\n')
    with pytest.raises(ExpectationsError, match=r"entry 1 \('\*'\): field 'clients': .*not a version specifier"):
        Expectations.load(path)


VERSIONED = re.compile(r"\b(LiteLLM|litellm|OpenAI SDK|openai|Anthropic SDK|anthropic|zai-sdk)\s+v?(\d+\.\d+)", re.I)
DISTRIBUTION = {"litellm": "litellm", "openai sdk": "openai", "openai": "openai", "anthropic sdk": "anthropic",
                "anthropic": "anthropic", "zai-sdk": "zai-sdk"}  # fmt: skip


def test_no_reason_names_a_client_release_its_condition_does_not_state():
    from conformance.expectations import Expectations

    for entry in Expectations.load().entries:
        for name, _ in VERSIONED.findall(entry.reason):
            assert DISTRIBUTION[name.lower()] in entry.clients, (
                f"{entry.cell}: the reason names {name} by release but the entry holds for every release; "
                "state it in `clients:`"
            )
