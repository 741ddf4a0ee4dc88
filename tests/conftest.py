"""Shared fixtures for the harness's own tests: the packaged catalogue, the public corpus of real Z.AI
recordings, one fresh import of that corpus, and a helper that writes edited copies of the catalogue."""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis.configuration import set_hypothesis_home_dir

from conformance.catalogue import DEFAULT_CATALOGUE, Catalogue, load_catalogue

# Hypothesis keeps its example database and caches outside the project: the tests write no files there.
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="zai-conformance-hypothesis-"))

ROOT = Path(__file__).resolve().parents[1]
COMMITTED_CASSETTES = ROOT / "cassettes"
# A copy of the public corpus ships with the tests (tests/fixtures/zai-recordings/README.md);
# ZAI_RECORDINGS points elsewhere, e.g. at a newer corpus.
RECORDINGS = Path(os.environ.get("ZAI_RECORDINGS", ROOT / "tests" / "fixtures" / "zai-recordings"))
FANTASY = RECORDINGS / "fantasy"
FANTASY_PROJECT = "charmbracelet/fantasy"
FANTASY_LICENSE = "MIT"


def fantasy_sources() -> list[Path]:
    return sorted(p for p in FANTASY.iterdir() if p.suffix == ".yaml")


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


# The packaged catalogue names its recorded-conversation scenarios by a file beside it; a copy written
# elsewhere names that file by its absolute path, so the copy has the same scenarios.
PACKAGED_CONVERSATIONS = Path(str(DEFAULT_CATALOGUE)).parent / "conversations.yaml"


def packaged_catalogue_text() -> str:
    """The packaged catalogue's text, ready to be edited and written anywhere."""
    text = DEFAULT_CATALOGUE.read_text()
    return text.replace("\nconversations: conversations.yaml\n", f"\nconversations: {PACKAGED_CONVERSATIONS}\n", 1)


@pytest.fixture(scope="session")
def catalogue_data() -> dict[str, Any]:
    """The packaged catalogue as plain data; copy it before changing it (see `write_catalogue`)."""
    return yaml.safe_load(packaged_catalogue_text())


@pytest.fixture
def write_catalogue(tmp_path: Path, catalogue_data: dict[str, Any]) -> Callable[..., Path]:
    """Write an edited copy of the packaged catalogue: `write_catalogue(edit)` calls `edit(data)` on a
    deep copy and returns the file; `write_catalogue(text=...)` writes the given text as it is."""

    def write(edit: Callable[[dict[str, Any]], Any] | None = None, *, text: str | None = None) -> Path:
        path = tmp_path / "catalogue.yaml"
        if text is None:
            data = copy.deepcopy(catalogue_data)
            if edit is not None:
                edit(data)
            text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (FANTASY / "INDEX.tsv").is_file():
        pytest.fail(f"the public corpus is not at {FANTASY} (it ships in tests/fixtures; ZAI_RECORDINGS overrides)")
    return FANTASY


@pytest.fixture(scope="session")
def fresh_import(corpus: Path, catalogue: Catalogue, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One import of the whole fantasy corpus, shared by the importer tests: (report, cassette root)."""
    from conformance.recording.importer import import_recordings, read_index

    root = tmp_path_factory.mktemp("imported")
    report = import_recordings(
        fantasy_sources(),
        catalogue,
        root,
        FANTASY_PROJECT,
        FANTASY_LICENSE,
        read_index(corpus / "INDEX.tsv"),
    )
    return report, root


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (the README's test command runs `-n auto --dist loadgroup`), each module of
    these tests runs whole on one worker: its module-scoped fixtures — a replay, a proxy, a double —
    are built once, not once per worker that happens to get one of its tests. The suites' cells carry
    no group and are spread one by one."""
    tests_dir = Path(__file__).resolve().parent
    for item in items:
        if tests_dir in Path(item.path).parents:
            item.add_marker(pytest.mark.xdist_group(item.path.stem))
