"""Importing real Z.AI recordings (go-vcr cassettes from charmbracelet/fantasy) as public evidence."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.catalogue import Catalogue
from conformance.recording import cassette
from conformance.recording.importer import SourceInfo, import_recordings, read_index
from conformance.secrets import Scrubber
from tests.conftest import COMMITTED_CASSETTES, FANTASY_LICENSE, FANTASY_PROJECT, fantasy_sources
from tests.support.fake_secrets import ZAI_KEY

CHAT_SOURCE = "TestOpenAICompatibleCommon__zai-glm-4.5__simple.1539c15e.yaml"  # coding/glm-4.5/chat, 2025-11-11


def _go_vcr(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _written(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in sorted(root.rglob("*.yaml"))}


def _edited_copy(corpus: Path, tmp_path: Path, name: str, edit, target_name: str | None = None) -> Path:
    data = _go_vcr(corpus / name)
    edit(data)
    target = tmp_path / "sources" / (target_name or name)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return target


def _import_one(source: Path, catalogue: Catalogue, root: Path, **kwargs: Any):
    return import_recordings([source], catalogue, root, FANTASY_PROJECT, FANTASY_LICENSE, **kwargs)


# --- the real corpus ----------------------------------------------------------------------------


def test_index_names_every_corpus_file(corpus: Path):
    index = read_index(corpus / "INDEX.tsv")
    assert set(index) == {p.name for p in fantasy_sources()}
    assert len(index) == 68
    info = index[CHAT_SOURCE]
    assert info == SourceInfo(
        original_path="providertests/testdata/TestOpenAICompatibleCommon/zai-glm-4.5/simple.yaml",
        commit="6d3217e48c7d26918ab2a029e8fe2a316938ac66",
        date="2025-11-11",
    )


def test_read_index_names_a_bad_line(tmp_path: Path):
    index = tmp_path / "INDEX.tsv"
    index.write_text("a.yaml\tpath\tabc 2025-01-01\tu\n\nbroken line\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"INDEX.tsv:3: expected file, original path, 'commit date' columns"):
        read_index(index)


def test_every_corpus_file_is_identified(fresh_import):
    report, root = fresh_import
    assert report.skipped == []
    assert len(report.imported) == 52
    assert len(report.superseded) == 16
    handled = {source.name for source, _ in report.imported} | {source.name for source, _ in report.superseded}
    assert handled == {p.name for p in fantasy_sources()}
    assert len(_written(root)) == 52
    assert report.lines()[-1] == "52 cassette(s) written, 16 superseded, 0 skipped"


def test_real_corpus_needs_no_scrubbing(fresh_import):
    report, _ = fresh_import
    assert report.scrubbed == []


def test_bodies_are_byte_for_byte_the_recorded_ones(fresh_import):
    report, _ = fresh_import
    compared = 0
    for source, target in report.imported:
        original = _go_vcr(source)["interactions"]
        document = cassette.read(target)
        requests, responses = cassette.to_vcr(document, target)
        assert len(requests) == len(original), target
        for ours_request, ours_response, theirs in zip(requests, responses, original, strict=True):
            assert ours_request.body == theirs["request"]["body"].encode("utf-8"), target
            assert ours_response["body"]["string"] == theirs["response"]["body"].encode("utf-8"), target
            assert ours_request.uri == theirs["request"]["url"]
            assert ours_request.method == theirs["request"]["method"]
            assert ours_response["status"]["code"] == theirs["response"]["code"]
            assert ours_response["headers"] == theirs["response"]["headers"]
            compared += 1
    assert compared > 52  # multi-turn recordings contribute two interactions each


def test_provenance_names_the_source(fresh_import, corpus: Path):
    report, _ = fresh_import
    index = read_index(corpus / "INDEX.tsv")
    for source, target in report.imported:
        provenance = cassette.read(target)["provenance"]
        info = index[source.name]
        endpoint, model, scenario = target.parent.parent.name, target.parent.name, target.stem
        assert provenance["kind"] == "public"
        assert provenance["source"] == {
            "project": FANTASY_PROJECT,
            "license": FANTASY_LICENSE,
            "path": info.original_path,
            "commit": info.commit,
            "date": info.date,
            "corpus_file": source.name,
        }
        assert provenance["recorded"] == info.date
        assert (provenance["endpoint"], provenance["model"], provenance["scenario"]) == (
            endpoint,
            model,
            scenario,
        )
        assert provenance["endpoint_url"] in {
            "https://api.z.ai/api/paas/v4",
            "https://api.z.ai/api/coding/paas/v4",
        }
        first = _go_vcr(source)["interactions"][0]["request"]
        assert first["url"] == provenance["endpoint_url"] + "/chat/completions"
        assert provenance["client"] == first["headers"]["User-Agent"][0]
        assert provenance["client"].startswith(("OpenAI/Go ", "Charm-Fantasy/"))
        # Go's transport decompressed some answers before go-vcr saw them: those bodies are not the wire's
        decompressed = any(i["response"].get("uncompressed") for i in _go_vcr(source)["interactions"])
        assert provenance["source_format"] == "go-vcr v2"
        assert provenance["bodies"] == ("decoded" if decompressed else "byte-exact")
        assert ("uncompressed: true" in provenance["bodies_meaning"]) == decompressed


def test_one_known_cassette_is_identified_exactly(fresh_import):
    report, root = fresh_import
    target = dict((s.name, t) for s, t in report.imported)[CHAT_SOURCE]
    assert target == root / "public" / "coding" / "glm-4.5" / "chat.yaml"
    superseded = cassette.read(target)["provenance"]["superseded"]
    assert [entry["corpus_file"] for entry in superseded] == [
        "TestOpenAICompatibleCommon__zai-glm-4.5__simple.b52af4c4.yaml",
        "TestOpenAICompatibleCommon__simple_zai-glm-4.5.7fae50f5.yaml",
    ]
    assert {entry["date"] for entry in superseded} == {"2025-09-26"}


def test_superseded_recordings_are_older_and_listed(fresh_import, corpus: Path):
    report, _ = fresh_import
    index = read_index(corpus / "INDEX.tsv")
    kept_by_source = {source: target for source, target in report.imported}
    listed: set[str] = set()
    for older, newer in report.superseded:
        assert index[older.name].date <= index[newer.name].date
        provenance = cassette.read(kept_by_source[newer])["provenance"]
        entry = next(e for e in provenance["superseded"] if e["corpus_file"] == older.name)
        assert entry == {
            "corpus_file": older.name,
            "path": index[older.name].original_path,
            "commit": index[older.name].commit,
            "date": index[older.name].date,
        }
        listed.add(older.name)
    assert len(listed) == 16


def test_newest_recording_wins(corpus: Path, catalogue: Catalogue, tmp_path: Path):
    marker = '{"marker": "the newer recording"}'

    def newer(data):
        data["interactions"][0]["response"]["body"] = marker

    older_source = corpus / CHAT_SOURCE
    newer_source = _edited_copy(corpus, tmp_path, CHAT_SOURCE, newer, "copy.yaml")
    index = {
        CHAT_SOURCE: SourceInfo("old/path.yaml", "1111", "2025-11-11"),
        "copy.yaml": SourceInfo("new/path.yaml", "2222", "2026-01-02"),
    }
    root = tmp_path / "out"
    report = import_recordings(
        [newer_source, older_source], catalogue, root, FANTASY_PROJECT, FANTASY_LICENSE, index, Scrubber()
    )
    target = root / "public" / "coding" / "glm-4.5" / "chat.yaml"
    assert report.imported == [(newer_source, target)]
    assert report.superseded == [(older_source, newer_source)]
    document = cassette.read(target)
    assert document["interactions"][0]["response"]["body"] == marker
    assert document["provenance"]["source"]["commit"] == "2222"
    assert document["provenance"]["superseded"] == [
        {"corpus_file": CHAT_SOURCE, "path": "old/path.yaml", "commit": "1111", "date": "2025-11-11"}
    ]
    assert report.lines()[1] == f"superseded {CHAT_SOURCE} (a newer recording answers the same cell: copy.yaml)"


# --- recordings that are not evidence ----------------------------------------------------------


def test_request_matching_no_scenario_is_skipped_naming_the_closest(corpus, catalogue, tmp_path):
    def edit(data):
        body = json.loads(data["interactions"][0]["request"]["body"])
        body["messages"][1]["content"] = "Say hi in Spanish"
        data["interactions"][0]["request"]["body"] = json.dumps(body)

    source = _edited_copy(corpus, tmp_path, CHAT_SOURCE, edit)
    report = _import_one(source, catalogue, tmp_path / "out", scrubber=Scrubber())
    assert report.imported == [] and report.superseded == []
    [(skipped, why)] = report.skipped
    assert skipped == source
    assert why.startswith("no catalogue scenario asks this question; closest is 'chat', which differs in messages[1]")
    assert "Say hi in Portuguese" in why and "Say hi in Spanish" in why
    assert not (tmp_path / "out").exists()
    assert report.lines()[0] == f"skipped {CHAT_SOURCE}: {why}"


def test_unknown_model_is_skipped_with_a_clear_message(corpus, catalogue, tmp_path):
    def edit(data):
        data["interactions"][0]["request"]["body"] = data["interactions"][0]["request"]["body"].replace(
            '"model":"glm-4.5"', '"model":"glm-9"'
        )

    source = _edited_copy(corpus, tmp_path, CHAT_SOURCE, edit)
    report = _import_one(source, catalogue, tmp_path / "out", scrubber=Scrubber())
    assert report.skipped == [(source, "model 'glm-9' is not in the catalogue (add it there first)")]


def test_url_under_no_endpoint_is_skipped(corpus, catalogue, tmp_path):
    def edit(data):
        data["interactions"][0]["request"]["url"] = "https://api.example.com/v1/chat/completions"

    source = _edited_copy(corpus, tmp_path, CHAT_SOURCE, edit)
    report = _import_one(source, catalogue, tmp_path / "out", scrubber=Scrubber())
    assert report.skipped == [
        (source, "URL 'https://api.example.com/v1/chat/completions' is under no catalogue endpoint")
    ]


def test_wrong_number_of_turns_is_skipped(corpus, catalogue, tmp_path):
    def edit(data):
        data["interactions"].append(copy.deepcopy(data["interactions"][0]))

    source = _edited_copy(corpus, tmp_path, CHAT_SOURCE, edit)
    report = _import_one(source, catalogue, tmp_path / "out", scrubber=Scrubber())
    assert report.skipped == [(source, "scenario 'chat' makes 1 request(s), the recording has 2")]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("interactions: [unclosed\n", "not valid YAML or JSON"),
        ("version: 2\ninteractions: []\n", "no interactions"),
        ("- a list\n", "not a known cassette format (the file holds a list)"),
    ],
)
def test_unreadable_files_are_skipped(catalogue, tmp_path, text, why):
    source = tmp_path / "broken.yaml"
    source.write_text(text, encoding="utf-8")
    report = _import_one(source, catalogue, tmp_path / "out", scrubber=Scrubber())
    [(skipped, message)] = report.skipped
    assert skipped == source and message.startswith(f"{source}: {why}")


def test_secrets_are_scrubbed_and_counted(corpus, catalogue, tmp_path):
    def edit(data):
        request = data["interactions"][0]["request"]
        request["headers"]["Authorization"] = [f"Bearer {ZAI_KEY}"]
        request["url"] += f"?key={ZAI_KEY}"

    source = _edited_copy(corpus, tmp_path, CHAT_SOURCE, edit)
    report = _import_one(source, catalogue, tmp_path / "out", scrubber=Scrubber())
    assert report.skipped == []
    assert report.scrubbed == [(source, 2)]
    assert "scrubbed 2 secret-shaped value(s) in" in "\n".join(report.lines())
    [(_, target)] = report.imported
    text = target.read_text(encoding="utf-8")
    assert ZAI_KEY not in text
    request = cassette.read(target)["interactions"][0]["request"]
    assert request["headers"]["Authorization"] == ["Bearer <redacted>"]
    assert request["uri"] == "https://api.z.ai/api/coding/paas/v4/chat/completions?key=<redacted>"
    # the bodies stay byte-exact
    original = _go_vcr(corpus / CHAT_SOURCE)["interactions"][0]
    assert request["body"] == original["request"]["body"]


# --- the committed evidence is what a fresh import produces ----------------------------------


def test_committed_public_cassettes_are_a_fresh_import(fresh_import):
    _, root = fresh_import
    fresh = _written(root / "public")
    committed = _written(COMMITTED_CASSETTES / "public")
    assert sorted(committed) == sorted(fresh)
    for name, fresh_path in fresh.items():
        ours, theirs = cassette.read(committed[name]), cassette.read(fresh_path)
        assert ours["interactions"] == theirs["interactions"], name
        mine = {k: v for k, v in ours["provenance"].items() if k != "imported_at"}
        again = {k: v for k, v in theirs["provenance"].items() if k != "imported_at"}
        assert mine == again, name


def test_interaction_that_is_not_a_mapping_is_skipped(corpus, catalogue, tmp_path):
    source = tmp_path / "odd.yaml"
    source.write_text("version: 2\ninteractions: [1]\n", encoding="utf-8")
    report = import_recordings(
        [source, corpus / CHAT_SOURCE], catalogue, tmp_path / "out", FANTASY_PROJECT, scrubber=Scrubber()
    )
    assert [s for s, _ in report.skipped] == [source]
    assert len(report.imported) == 1
