"""The double follows Z.AI's wire by era (conformance/double/data/wire_eras.yaml): the newest era by
default, an older one by name or date (`Double(catalogue, era=…)`, `X-Double-Era`, `--era`), an unknown
one refused; every recording the data cites exists; and the fidelity measure asks for each real
exchange's own era."""

from __future__ import annotations

import datetime
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from conformance.catalogue import load_catalogue
from conformance.cli import main as cli_main
from conformance.corpora.archive import archive_members
from conformance.double.eras import UnknownEra, WireShape, era_named, eras, newest
from conformance.double.server import Double, DoubleServer, running
from conformance.fidelity import DEFAULT_CORPUS
from conformance.fidelity.corpus import load_exchanges
from conformance.fidelity.measure import outgoing
from conformance.triggers import ERA_HEADER

KEY = {"Authorization": "Bearer double-test-key"}
ADD = {
    "type": "function",
    "function": {
        "name": "add",
        "description": "Add two numbers",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        },
    },
}
ERAS_FILE = Path(__file__).resolve().parents[1] / "conformance" / "double" / "data" / "wire_eras.yaml"


@pytest.fixture(scope="module")
def double() -> Iterator[DoubleServer]:
    with running() as server:
        yield server


def stream(double: DoubleServer, model: str, text: str, era: str | None = None, **extra: Any) -> list[dict[str, Any]]:
    body = {"model": model, "messages": [{"role": "user", "content": text}], "stream": True, **extra}
    headers = {**KEY, **({ERA_HEADER: era} if era else {})}
    response = httpx.post(double.base_urls["coding"] + "/chat/completions", json=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    payloads = [block[6:] for block in response.text.split("\n\n") if block.startswith("data: ")]
    assert payloads[-1] == "[DONE]"
    return [json.loads(p) for p in payloads[:-1]]


def kind(chunk: dict[str, Any]) -> str:
    """r/R: blank/worded reasoning, c/C: blank/worded content, T: tool call, F: finish."""
    choice = chunk["choices"][0]
    delta = choice["delta"]
    if delta.get("tool_calls"):
        return "T"
    if choice.get("finish_reason"):
        return "F"
    text, letter = (delta["reasoning_content"], "r") if delta.get("reasoning_content") else (delta["content"], "c")
    return letter if not text.strip() else letter.upper()


def folded(chunks: list[dict[str, Any]]) -> str:
    out = ""
    for letter in map(kind, chunks):
        if not out or out[-1] != letter:
            out += letter
    return out


# --- the newest era, by default -------------------------------------------------------------------


def test_the_default_era_is_the_newest_recorded():
    assert Double(load_catalogue()).era == newest() == eras()[-1]
    assert newest().start == max(e.start for e in eras())


def test_the_newest_era_puts_object_on_every_chunk_and_reasoning_tokens_in_usage(double):
    chunks = stream(double, "glm-4.6", "Say hi in Portuguese")
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    usage = chunks[-1]["usage"]
    assert any("reasoning_content" in c["choices"][0]["delta"] for c in chunks)  # it did reason
    assert 0 < usage["completion_tokens_details"]["reasoning_tokens"] <= usage["completion_tokens"]


def test_the_newest_era_opens_with_a_reasoning_word_and_answers_without_a_separator(double):
    chunks = stream(double, "glm-4.6", "Say hi in Portuguese")
    first = chunks[0]["choices"][0]["delta"]
    assert list(first) == ["role", "reasoning_content"] and first["reasoning_content"].strip()
    assert folded(chunks).startswith("R") and "Rc" not in folded(chunks)
    assert folded(chunks).endswith("CF")


def test_a_model_whose_recordings_differ_keeps_its_own_shape_in_an_era(double):
    """glm-4.5-air's 2026 usage never carries completion_tokens_details (crush cassettes)."""
    usage = stream(double, "glm-4.5-air", "Say hi in Portuguese")[-1]["usage"]
    assert "completion_tokens_details" not in usage
    assert newest().shape_for("glm-4.5-air").reasoning_tokens is False


# --- older eras -------------------------------------------------------------------------------------


def expected_opening(shape: WireShape) -> dict[str, str]:
    if shape.opening == "blank_content":
        return {"role": "assistant", "content": "\n"}
    if shape.opening == "word":
        return {"role": "assistant"}  # then the first word of the reasoning
    beside = {"content": ""} if shape.blank_reasoning == "with_empty_content" else {}
    return {"role": "assistant", **beside, "reasoning_content": "\n"}


@pytest.mark.parametrize("name", [e.name for e in eras()])
def test_each_era_opens_and_alternates_as_its_data_says(double, name):
    shape = era_named(name).shape_for("glm-4.6", tools=False)  # "Say hi" sends no tools
    chunks = stream(double, "glm-4.6", "Say hi in Portuguese", era=name)
    first = chunks[0]["choices"][0]["delta"]
    expected = expected_opening(shape)
    if shape.opening == "word":
        assert list(first) == ["role", "reasoning_content"] and first["reasoning_content"].strip()
    else:
        assert first == expected
    sequence = folded(chunks)
    assert ("Rc" in sequence or "rc" in sequence) == shape.answer_separator, sequence
    assert ("object" in chunks[0]) == shape.object
    assert ("completion_tokens_details" in chunks[-1]["usage"]) == shape.reasoning_tokens
    blanks = [c["choices"][0]["delta"] for c in chunks if kind(c) == "r"]
    assert blanks, "the reasoning has blank deltas (its paragraph break)"
    assert all(("content" in d) == (shape.blank_reasoning == "with_empty_content") for d in blanks)


def test_the_2025_09_era_puts_finish_reason_on_the_tool_call_chunk_too(double):
    chunks = stream(double, "glm-4.5", "Add 2 and 3 with add", era="2025-09", tools=[ADD])
    calls = [c for c in chunks if kind(c) == "T"]
    assert [c["choices"][0].get("finish_reason") for c in calls] == ["tool_calls"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls" and "usage" in chunks[-1]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "\n"}
    assert all("object" not in c for c in chunks)


@pytest.mark.parametrize(("era", "model", "separator"), [("2025-09", "glm-4.5", False), ("2025-10", "glm-4.6", True)])
def test_a_2025_request_without_tools_opens_on_reasoning_and_pairs_each_text_with_empty_reasoning(
    double, era, model, separator
):
    """fantasy's simple streams (glm-4.5 2025-09-26, glm-4.6 2025-10-23): no blank opener, and every
    content delta carries `reasoning_content: ""`; a request with tools still opens on blank content."""
    chunks = stream(double, model, "Say hi in Portuguese", era=era)
    first = chunks[0]["choices"][0]["delta"]
    assert list(first) == ["role", "reasoning_content"] and first["reasoning_content"].strip()
    texts = [c["choices"][0]["delta"] for c in chunks[:-1] if c["choices"][0]["delta"].get("content")]
    assert texts and all(d.get("reasoning_content") == "" for d in texts)
    assert ("Rc" in folded(chunks)) == separator
    with_tools = stream(double, model, "Add 2 and 3 with add", era=era, tools=[ADD])
    assert with_tools[0]["choices"][0]["delta"] == {"role": "assistant", "content": "\n"}


def test_the_2025_10_tool_less_shape_is_glm_4_6s_alone():
    """glm-4.5-air's tool-less requests of 2025-10 are crush's /no_think titles, recorded otherwise."""
    era = era_named("2025-10")
    assert era.shape_for("glm-4.6", tools=False).content_with_empty_reasoning
    assert not era.shape_for("glm-4.5-air", tools=False).content_with_empty_reasoning
    assert era.shape_for("glm-4.5-air", tools=False).opening == "blank_content"


def test_later_eras_send_the_tool_call_chunk_without_finish_reason(double):
    for name in ("2025-10", "2025-11", "2026-03"):
        chunks = stream(double, "glm-4.5", "Add 2 and 3 with add", era=name, tools=[ADD])
        calls = [c for c in chunks if kind(c) == "T"]
        assert calls and all("finish_reason" not in c["choices"][0] for c in calls), name


def test_an_older_era_json_body_has_no_object_and_a_blank_line_before_the_reasoning(double):
    body = {"model": "glm-4.5", "messages": [{"role": "user", "content": "Say hi in Portuguese"}]}
    url = double.base_urls["coding"] + "/chat/completions"
    old = httpx.post(url, json=body, headers={**KEY, ERA_HEADER: "2025-11-11"}, timeout=10).json()
    new = httpx.post(url, json=body, headers=KEY, timeout=10).json()
    assert "object" not in old and "completion_tokens_details" not in old["usage"]
    assert old["choices"][0]["message"]["reasoning_content"].startswith("\n")
    assert new["object"] == "chat.completion" and "completion_tokens_details" in new["usage"]
    assert not new["choices"][0]["message"]["reasoning_content"].startswith("\n")


def test_a_double_started_in_an_older_era_answers_in_it():
    with running(era="2025-12") as old:
        assert old.era.name == "2025-12"
        chunks = stream(old, "glm-4.6", "Say hi in Portuguese")
        assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "reasoning_content": "\n"}
        assert all("object" not in c for c in chunks)


def test_a_date_selects_the_era_in_effect_then():
    assert era_named("2025-11-11").name == "2025-11"
    assert era_named("2025-10-27").name == "2025-10"  # before the next era's first recording
    assert era_named("2026-02-15").name == "2026-01"
    assert era_named("2030-01-01") == newest()


# --- unknown eras are refused -----------------------------------------------------------------------


@pytest.mark.parametrize("wanted", ["1999", "2025-13", "newest-please", "2025-08-31"])
def test_an_unknown_era_is_refused_naming_the_known_ones(wanted):
    with pytest.raises(UnknownEra) as refused:
        Double(load_catalogue(), era=wanted)
    message = str(refused.value)
    assert repr(wanted) in message or wanted in message
    assert all(e.name in message for e in eras())


def test_an_unknown_era_in_the_header_is_a_clear_400(double):
    body = {"model": "glm-4.6", "messages": [{"role": "user", "content": "hi"}]}
    response = httpx.post(
        double.base_urls["coding"] + "/chat/completions", json=body, headers={**KEY, ERA_HEADER: "2019"}, timeout=10
    )
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert message.startswith(ERA_HEADER) and "'2019'" in message and newest().name in message


def test_the_cli_refuses_an_unknown_era_in_one_line(capsys):
    assert cli_main(["double", "--port", "0", "--era", "someday"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("zai-conformance double: unknown era 'someday'") and error.count("\n") == 1


# --- the data: evidence that exists, eras in order ----------------------------------------------------


def cited(value: Any) -> Iterator[str]:
    if isinstance(value, list):
        for item in value:
            yield from cited(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from cited(item)
    elif isinstance(value, str):
        yield value


def test_every_recording_the_data_cites_exists():
    document = yaml.safe_load(ERAS_FILE.read_text())
    fantasy = {p.name for p in (DEFAULT_CORPUS / "fantasy").iterdir()}
    curated = {f"curated/{p.name}" for p in (DEFAULT_CORPUS / "curated").iterdir()}
    crush = {f"crush/{m.relative}" for m in archive_members(DEFAULT_CORPUS / "crush" / "crush.tar.xz")}
    citations = [c for e in document["eras"] for c in cited(e.get("evidence"))]
    assert len(citations) >= 20
    assert [c for c in citations if c not in fantasy | curated | crush] == []


def test_eras_are_ordered_and_each_changes_something():
    known = eras()
    assert [e.start for e in known] == sorted(e.start for e in known)
    assert all(a.shape != b.shape for a, b in itertools.pairwise(known))


# --- the fidelity measure asks for each exchange's era --------------------------------------------


def test_the_fidelity_measure_asks_the_double_for_the_recordings_day():
    exchanges = {e.name: e for e in load_exchanges(DEFAULT_CORPUS / "fantasy")}
    name = "TestOpenAICompatibleCommon__zai-glm-4.5__multi_tool_streaming.27a42b46.yaml [interaction 0]"
    request = outgoing(exchanges[name])
    first = json.loads(exchanges[name].response.body.split("data: ", 2)[1].split("\n", 1)[0])
    day = datetime.datetime.fromtimestamp(first["created"], datetime.UTC).date().isoformat()
    assert request.headers[ERA_HEADER] == day == "2025-09-26"
    assert era_named(day).name == "2025-09"
