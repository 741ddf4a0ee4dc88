"""The reasoning-control matrix: what of a control reaches Z.AI (checks/control.py), how a cell names it and
Z.AI's answer (judge), where the sources disagree (the catalogue's `unverified`), and the per-path table
`zai-conformance reasoning` prints from a run's results."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.catalogue import Catalogue
from conformance.checks.control import Fate, check_control, control_fate
from conformance.checks.judge import judge
from conformance.observation import ErrorInfo, Exchange, Observation, Turn
from conformance.report.reasoning import outcomes, path_table, render
from conformance.scenario import request_for
from conformance.verdict import Severity
from tests.support.cells import cell_record

EFFORT = {"max_tokens": 4000, "reasoning_effort": "medium"}


@pytest.mark.parametrize(
    ("sent", "fate", "detail"),
    [
        ({"reasoning_effort": "medium"}, Fate.AS_WRITTEN, 'reasoning_effort="medium"'),
        ({"reasoning_effort": "high"}, Fate.CHANGED, 'reasoning_effort="high"'),
        ({"thinking": {"type": "enabled", "budget_tokens": 2048}}, Fate.RENAMED, "thinking="),
        ({"max_tokens": 4000}, Fate.DROPPED, "no reasoning field on the wire"),
        (None, Fate.REFUSED, "no request reached Z.AI"),
    ],
)
def test_the_fate_of_a_control_is_read_from_the_wire(sent, fate, detail):
    outcome = control_fate(("reasoning_effort",), EFFORT, sent)
    assert outcome.fate is fate
    assert outcome.detail.startswith(detail)


def test_a_nested_control_is_followed_by_its_dotted_name():
    written = {"thinking": {"type": "enabled", "effort": "low"}}
    assert control_fate(("thinking.type", "thinking.effort"), written, written).fate is Fate.AS_WRITTEN
    clipped = {"thinking": {"type": "enabled"}}
    changed = control_fate(("thinking.type", "thinking.effort"), written, clipped)
    assert (changed.fate, changed.detail) == (Fate.CHANGED, 'thinking.type="enabled"')


def test_a_control_sent_as_written_and_translated_says_both():
    sent = {"reasoning_effort": "medium", "thinking": {"type": "enabled", "budget_tokens": 4096}}
    (finding,) = check_control(("reasoning_effort",), EFFORT, sent)
    assert finding.severity is Severity.INFO
    assert finding.message == (
        'reasoning control reasoning_effort="medium": as written, and also thinking={"type": "enabled", '
        '"budget_tokens": 4096}'
    )


def test_a_control_dropped_or_changed_silently_is_a_deviation():
    (dropped,) = check_control(("reasoning_effort",), EFFORT, {"max_tokens": 4000})
    (changed,) = check_control(("reasoning_effort",), EFFORT, {"reasoning_effort": "high"})
    assert dropped.severity is changed.severity is Severity.DEVIATION
    assert dropped.message.endswith("dropped — on the wire: no reasoning field on the wire")
    assert check_control((), EFFORT, {}) == []


def _cell_observation(catalogue: Catalogue, cell_id: str, sent: dict[str, Any] | None, turn: Turn):
    cell = catalogue.cell(cell_id)
    exchanges = []
    if sent is not None:
        exchanges.append(
            Exchange(
                method="POST",
                url=cell.endpoint.base_url + "/chat/completions",
                request_headers={"Authorization": ["Bearer <redacted>"]},
                request_body=json.dumps(sent),
                outcome="served",
                status=200,
                response_headers={"Content-Type": ["application/json"]},
                response_body=json.dumps(
                    {
                        "choices": [
                            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Olá"}}
                        ],
                        "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
                    }
                ),
            )
        )
    intended = request_for(catalogue, cell.scenario, cell.model_sent, cell.endpoint.protocol)
    return cell, Observation(turns=[turn], exchanges=exchanges), intended


def test_a_judged_control_cell_names_the_fate_and_the_answer_and_that_it_is_unverified(catalogue):
    cell, observation, intended = _cell_observation(
        catalogue,
        "coding/glm-5.2/openai-sdk/reasoning-nested-effort",
        {"model": "glm-5.2", "messages": [{"role": "user", "content": "Say hi in Portuguese"}], "max_tokens": 4000},
        Turn(index=0, text="Olá", finish_reason="stop"),
    )
    judgement = judge(cell, observation, intended, 0, cell.endpoint.base_url, {})
    by_check = {f.check: f for f in judgement.findings}
    assert by_check["reasoning_control"].severity is Severity.DEVIATION
    assert by_check["reasoning_control"].message.startswith('reasoning control reasoning.effort="low": dropped')
    answer = by_check["reasoning_answer"].message
    assert answer.startswith("reasoning control answered by the double (what Z.AI documents): did not reason")
    assert "Z.AI's real answer is unverified: one source says GLM-5.2/5.3 need it" in answer


def test_a_client_that_refuses_a_control_is_named_in_the_matrix(catalogue):
    refused = ErrorInfo(exception="litellm.UnsupportedParamsError", message="zai does not support reasoning_effort")
    cell, observation, intended = _cell_observation(
        catalogue, "coding/glm-5.3/litellm-zai/reasoning-effort-medium", None, Turn(index=0, error=refused)
    )
    judgement = judge(cell, observation, intended, 0, cell.endpoint.base_url, {})
    (control,) = [f for f in judgement.findings if f.check == "reasoning_control"]
    assert control.message == (
        'reasoning control reasoning_effort="medium": refused by the client (zai does not support reasoning_effort)'
    )
    assert not [f for f in judgement.findings if f.check == "reasoning_answer"]


def test_where_the_sources_disagree_a_case_marks_the_answer_unverified_and_documented_ones_are_not(catalogue):
    medium = catalogue.scenario("reasoning-effort-medium")
    endpoints = {e.id: e for e in catalogue.endpoints}
    glm53 = next(m for m in catalogue.models if m.id == "glm-5.3")
    assert medium.unverified_answer(endpoints["general"], glm53) is None  # documented: 400/1210
    assert "hermes-agent#91789" in (medium.unverified_answer(endpoints["coding"], glm53) or "")
    assert catalogue.scenario("reasoning-enable-thinking-false").unverified_answer(endpoints["general"], glm53)


def _result(cell_id: str, sent: dict[str, Any] | None, verdict: str = "PASS") -> dict[str, Any]:
    exchanges = [{"request_body": json.dumps(sent)}] if sent is not None else []
    observation = {"exchanges": exchanges, "turns": [{"reasoning": "…"}]}
    return cell_record(cell_id, verdict, evidence={"kind": "double"}, observation=observation)


def test_the_path_table_shows_each_paths_fate_and_where_it_differs_by_endpoint(catalogue):
    written = {"model": "glm-5.2", "reasoning_effort": "medium"}
    document = {
        "cells": [
            _result("general/glm-5.2/openai-sdk/reasoning-effort-medium", written),
            _result("general/glm-5.2/proxy-litellm/reasoning-effort-medium", written),
            _result("anthropic/glm-5.2/proxy-litellm/reasoning-effort-medium", {"model": "glm-5.2"}),
            _result("general/glm-5.2/litellm-zai/reasoning-effort-medium", None, "UNSUPPORTED"),
            _result("general/glm-5.2/zai-sdk/reasoning-effort-medium", None, "SKIPPED"),
        ]
    }
    scenarios = {s.id: s for s in catalogue.scenarios}
    table = path_table(outcomes(document, catalogue), scenarios).splitlines()
    assert table[0] == "| control | scenario | openai-sdk | proxy-litellm | litellm-zai |"
    assert table[2] == (
        '| `reasoning_effort="medium"` | reasoning-effort-medium | as written | '
        "as written (general); dropped (anthropic) | refused by the client |"
    )
    assert len(table) == 3


def test_a_request_body_stored_once_in_the_documents_bodies_is_read_from_there(catalogue):
    """gather() keeps a body over 1 KiB once, under `bodies`, and the exchange names it by reference: the
    control is still read from it, not taken for refused by the client."""
    sent = {"model": "glm-5.2", "reasoning_effort": "medium", "messages": [{"role": "user", "content": "x" * 2048}]}
    cell = _result("general/glm-5.2/openai-sdk/reasoning-effort-medium", None)
    cell["observation"]["exchanges"] = [{"request_body_ref": "b1"}]
    document = {"cells": [cell], "bodies": {"b1": json.dumps(sent)}}
    (outcome,) = outcomes(document, catalogue)
    assert outcome.fate is Fate.AS_WRITTEN


def test_the_table_says_when_no_control_cell_ran(catalogue):
    assert render({"cells": []}, catalogue).startswith("No reasoning-control cells ran")


def test_an_openai_only_control_is_no_control_for_an_anthropic_style_client():
    from conformance.checks.control import applies

    assert applies(("reasoning_effort",), "openai")
    assert not applies(("reasoning_effort",), "anthropic")  # the Anthropic SDK writes a thinking budget
    assert not applies(("thinking.type", "thinking.effort"), "anthropic")
    assert applies(("thinking.type", "thinking.budget_tokens"), "anthropic")
    assert applies(("output_config.effort",), "anthropic")
    assert not applies((), "openai")


def test_on_real_evidence_the_answer_is_the_effect_against_the_baseline_dated(catalogue):
    from conformance.report.reasoning import Outcome, answer_table

    def outcome(scenario: str, tokens: int, path: str = "openai-sdk") -> Outcome:
        return Outcome("general", "glm-5.2", path, scenario, Fate.AS_WRITTEN, "reasoned", "live", tokens, "2026-12-01")

    scenarios = {s.id: s for s in catalogue.scenarios}
    found = [
        outcome("thinking-default", 400),
        outcome("reasoning-effort-medium", 410),  # within ±20%: ignored
        outcome("reasoning-effort-xhigh", 900),
        outcome("reasoning-effort-max", 900, path="litellm-zai"),  # not the plain path: not in this table
    ]
    rows = answer_table(found, scenarios, catalogue).splitlines()
    assert rows[0] == "| control | scenario | general/glm-5.2 |"
    dated = "reasoning tokens, live 2026-12-01 |"
    assert rows[2:] == [
        f'| `reasoning_effort="medium"` | reasoning-effort-medium | ignored: 410 vs 400 {dated}',
        f'| `reasoning_effort="xhigh"` | reasoning-effort-xhigh | honoured: 900 vs 400 {dated}',
    ]
