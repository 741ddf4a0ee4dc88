"""The report page's structure: the path cards under the summary, the element contract the browser
tests and people's bookmarks rely on, the view links, and the embedded data's encoding.

Offline and fast, on small hand-made documents (tests/test_report.py builds them)."""

from __future__ import annotations

import copy
import re
from typing import Any
from urllib.parse import parse_qs

import pytest

from conformance.report.html import render_html, view_link
from conformance.report.packing import pack, unpack
from conformance.report.path_cards import path_cards
from conformance.report.summary import endpoint_summaries
from conformance.results import gather
from tests.test_report import RUN, cell, cells, drill_down, matrix, page_index


@pytest.fixture
def page() -> str:
    return render_html(gather(copy.deepcopy(RUN), cells()))


def card_document() -> dict[str, Any]:
    """coding: openai-sdk passes chat and fails tools; litellm-zai passes tools; zai-sdk deviates on chat."""
    return gather(
        copy.deepcopy(RUN),
        [
            cell("coding/glm-4.6/openai-sdk/chat"),
            cell("coding/glm-4.6/openai-sdk/tool", "FAIL", expected="FAIL"),
            cell("coding/glm-4.6/openai-sdk/tool-stream", "HANG", expected="HANG"),
            cell("coding/glm-4.6/litellm-zai/chat", "FAIL", expected="FAIL"),
            cell("coding/glm-4.6/litellm-zai/tool"),
            cell("coding/glm-4.6/litellm-zai/tool-stream"),
            cell("coding/glm-4.6/zai-sdk/chat", "DEVIATION", expected="DEVIATION"),
            cell("coding/glm-4.6/zai-sdk/tool", "FAIL", expected="FAIL"),
            cell("coding/glm-4.6/zai-sdk/embeddings", "SKIPPED", expected=None),
        ],
    )


def test_a_card_says_what_works_what_does_not_and_what_to_use_instead() -> None:
    (coding,) = endpoint_summaries(card_document())
    cards = {card.path: card for card in path_cards(coding)}
    assert list(cards) == ["openai-sdk", "litellm-zai", "zai-sdk"]
    sdk = cards["openai-sdk"]
    assert [family.id for family in sdk.works] == ["chat"]
    (tools,) = sdk.failing
    assert (tools.family.id, tools.failed, tools.judged) == ("tools", 2, 2)  # a HANG does not work either
    assert tools.instead is not None and (tools.instead.path, tools.instead.passed, tools.instead.judged) == (
        "litellm-zai",
        2,
        2,
    )
    litellm = cards["litellm-zai"]
    (chat,) = litellm.failing
    # both work 1/1; openai-sdk's PASS beats zai-sdk's DEVIATION
    assert chat.instead is not None and chat.instead.path == "openai-sdk"
    zai = cards["zai-sdk"]
    assert zai.works == () and [item.family.id for item in zai.partial] == ["chat"]
    assert zai.failing[0].instead is not None and zai.failing[0].instead.path == "litellm-zai"
    assert [family.id for family in zai.unjudged] == ["operations"]
    assert zai.anchor == "path=coding/zai-sdk"


def test_the_path_to_use_instead_is_the_one_where_most_works() -> None:
    """Every cell working with a named difference beats half of them passing and half failing."""
    document = gather(
        copy.deepcopy(RUN),
        [
            cell("coding/glm-4.6/openai-sdk/tool"),
            cell("coding/glm-4.6/openai-sdk/tool-stream", "FAIL", expected="FAIL"),
            cell("coding/glm-4.6/zai-sdk/tool", "DEVIATION", expected="DEVIATION"),
            cell("coding/glm-4.6/zai-sdk/tool-stream", "DEVIATION", expected="DEVIATION"),
            cell("coding/glm-4.6/litellm-zai/tool", "FAIL", expected="FAIL"),
        ],
    )
    (coding,) = endpoint_summaries(document)
    cards = {card.path: card for card in path_cards(coding)}
    for path in ("openai-sdk", "litellm-zai"):
        instead = cards[path].failing[0].instead
        assert instead is not None and (instead.path, instead.works, instead.passed) == ("zai-sdk", 2, 0)
    assert cards["zai-sdk"].failing == ()


def test_no_alternative_is_offered_when_no_path_does_better() -> None:
    document = gather(
        copy.deepcopy(RUN),
        [cell("coding/glm-4.6/openai-sdk/tool", "FAIL", expected="FAIL"), cell("coding/glm-4.6/zai-sdk/tool", "FAIL")],
    )
    (coding,) = endpoint_summaries(document)
    for card in path_cards(coding):
        assert card.failing[0].instead is None
    assert "no path on coding does better" in render_html(document)


def test_the_cards_are_on_the_page_and_read_without_the_script() -> None:
    page = render_html(card_document())
    card = page[page.index('id="path=coding/openai-sdk"') :]
    card = re.sub(r"<[^>]+>", "", card[: card.index("</article>")])
    assert "Works: chat" in card
    assert "tools: 2 of 2 judged cells FAIL or HANG —\nuse litellm-zai instead (2/2 work, 2 PASS)" in card
    assert page.count('class="path-card"') == 3


def test_summary_entries_open_the_matrix_of_their_endpoint_path_and_feature() -> None:
    page = render_html(card_document())
    entries = re.findall(
        r'<td class="s" data-state="\w+"><a href="([^"]+)" data-endpoint="([^"]+)" '
        r'data-path="([^"]+)" data-feature="([^"]+)"',
        page,
    )
    assert len(entries) == 7  # every path × family with a cell
    for href, endpoint, path, feature in entries:
        view = parse_qs(href.replace("&amp;", "&").removeprefix("#view="))
        assert view == {"endpoint": [endpoint], "path": [path], "feature": [feature]}


def test_view_links_are_what_the_script_reads_back() -> None:
    assert view_link(endpoint="coding", model="glm-4.6", verdict="FAIL", q="tool calls") == (
        "#view=endpoint=coding&model=glm-4.6&verdict=FAIL&q=tool+calls"
    )
    assert view_link(endpoint="coding", path=None, feature="") == "#view=endpoint=coding"


ELEMENT_CONTRACT = (
    'id="skip-link"',
    'href="#main"',
    '<nav id="toc"',
    '<main id="main"',
    'id="summary"',
    'id="search"',
    'id="pick-endpoint"',
    'id="pick-model"',
    'id="pick-path"',
    'id="pick-feature"',
    'id="f-verdict"',
    'id="f-unexpected"',
    'id="f-evidence"',
    '<table id="matrix"',
    'id="panel"',
    'id="panel-close"',
    'id="panel-body"',
    'id="shown-count"',
    'id="results"',
    "<noscript>",
)


def test_the_page_keeps_its_element_contract(page: str) -> None:
    for needle in ELEMENT_CONTRACT:
        assert needle in page, needle
    assert re.search(r'<div id="panel"[^>]*\shidden>', page)  # hidden until a cell is opened
    assert 'root.dataset.ready = "true"' in page
    for control in ("search", "pick-endpoint", "pick-model", "pick-path", "pick-feature", "f-verdict", "f-evidence"):
        labelled = rf'<label class="field[^"]*"><span>[^<]+</span> <(?:select|input)[^>]*\bid="{control}"'
        assert re.search(labelled, page), f"#{control} has no label"
    options = re.search(r'<select id="f-evidence">(.*?)</select>', page, re.S)
    assert options and re.findall(r'value="(\w*)"', options.group(1)) == ["", "live", "public", "double", "none"]


def test_every_id_on_the_page_is_unique() -> None:
    page = render_html(card_document())
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_nothing_on_the_page_is_faded(page: str) -> None:
    assert "opacity" not in page


def test_the_index_gives_each_scenario_its_feature_family(page: str) -> None:
    index = page_index(page)
    families = {index["scenarios"][s]: index["families"][f][0] for s, f in enumerate(index["scenario_family"])}
    assert families == {"chat": "chat", "chat-stream": "streaming"}


def test_the_drill_down_is_split_per_matrix(page: str) -> None:
    index = page_index(page)
    assert len(re.findall(r'id="drill-\d+"', page)) == len(index["blocks"]) == 3
    assert set(drill_down(page)) == set(matrix(page))


def test_packing_round_trips_and_cannot_end_its_script_element() -> None:
    value = {"reason": "</script><script>alert(1)</script>", "n": [1, 2, 3], "ü": "ação"}
    packed = pack(value)
    assert re.fullmatch(r"[A-Za-z0-9+/=]*", packed) and unpack(packed) == value
    assert pack(value) == packed  # the same value renders to the same bytes
