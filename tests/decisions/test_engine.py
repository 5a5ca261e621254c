"""The pure decision engine: checking a JDM table (every problem with its place), both hit
policies, the matched rules and the trace, test cases, the JDM round trip, hostile inputs."""

from __future__ import annotations

import copy
import datetime as dt
import json
import pickle
from decimal import Decimal
from typing import Any

import pytest
import zen

from leitplanke.decisions import shipped
from leitplanke.decisions.engine import (
    EvaluationError,
    InvalidTable,
    TestCase,
    cases_to_json,
    evaluate,
    evaluate_many,
    load,
    run_tests,
    to_jdm,
)


def jdm(hit_policy: str = "first", rules: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A small table: amount and segment in, action and share out."""
    if rules is None:
        rules = [
            {
                "_id": "big",
                "_description": "More than 100",
                "amount": "> 100",
                "segment": "",
                "action": '"escalate"',
                "share": "0",
            },
            {
                "_id": "vip",
                "_description": "Premium",
                "amount": "",
                "segment": '"premium"',
                "action": '"refund"',
                "share": "amount * 0.5",
            },
            {"_id": "rest", "_description": "Everyone", "amount": "", "segment": "", "action": '"explain"', "share": ""},
        ]
    return {
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "Request", "position": {"x": 0, "y": 0}},
            {
                "id": "t",
                "type": "decisionTableNode",
                "name": "Small",
                "position": {"x": 300, "y": 0},
                "content": {
                    "hitPolicy": hit_policy,
                    "inputs": [
                        {"id": "amount", "name": "Amount", "field": "amount"},
                        {"id": "segment", "name": "Segment", "field": "customer.segment"},
                    ],
                    "outputs": [
                        {"id": "action", "name": "Action", "field": "action"},
                        {"id": "share", "name": "Share", "field": "share"},
                    ],
                    "rules": rules,
                },
            },
            {"id": "out", "type": "outputNode", "name": "Response", "position": {"x": 600, "y": 0}},
        ],
        "edges": [
            {"id": "e1", "sourceId": "in", "targetId": "t", "type": "edge"},
            {"id": "e2", "sourceId": "t", "targetId": "out", "type": "edge"},
        ],
    }


def places(error: pytest.ExceptionInfo[InvalidTable]) -> dict[str, str]:
    return {problem.place: problem.code for problem in error.value.problems}


# --- checking -------------------------------------------------------------------------------


def test_every_broken_cell_is_reported_with_rule_and_column() -> None:
    document = jdm()
    rules = document["nodes"][1]["content"]["rules"]
    rules[0]["amount"] = "> >"  # input cell: not a unary test
    rules[1]["share"] = "amount *"  # output cell: not an expression
    rules[2]["action"] = '"unclosed'
    with pytest.raises(InvalidTable) as error:
        load(document)
    assert places(error) == {
        "rules[0] (big).amount": "cell_syntax",
        "rules[1] (vip).share": "cell_syntax",
        "rules[2] (rest).action": "cell_syntax",
    }
    messages = [str(problem) for problem in error.value.problems]
    assert all("the cell does not compile" in message for message in messages)


def test_valid_unary_tests_and_empty_cells_compile() -> None:
    rules = [
        {"_id": "a", "amount": ">= 3", "segment": '"premium", "business"', "action": '"x"', "share": ""},
        {"_id": "b", "amount": "[1..5]", "segment": "", "action": '"y"', "share": "round(amount * 0.15, 2)"},
        {"_id": "c", "amount": "< 0.5", "segment": None, "action": '"z"'},
    ]
    table = load(jdm(rules=rules))
    assert [rule.id for rule in table.rules] == ["a", "b", "c"]
    assert table.rules[2].cells == {"amount": "< 0.5", "segment": "", "action": '"z"', "share": ""}


def test_structure_problems_are_all_reported_at_once() -> None:
    document = jdm()
    content = document["nodes"][1]["content"]
    content["hitPolicy"] = "any"
    content["inputs"][1]["field"] = "customer segment"
    content["outputs"].append({"id": "action2", "name": "Again", "field": "action"})
    content["rules"][1]["_id"] = "big"
    content["rules"][2]["ghost"] = "1"
    content["rules"][2]["amount"] = 5
    with pytest.raises(InvalidTable) as error:
        load(document)
    assert places(error) == {
        "hitPolicy": "bad_hit_policy",
        "inputs[1].field": "bad_input_field",
        "outputs[2].field": "duplicate_field",
        "rules[1] (big)._id": "duplicate_rule_id",
        "rules[2] (rest).ghost": "unknown_column",
        "rules[2] (rest).amount": "not_text",
    }


@pytest.mark.parametrize(
    ("change", "place", "code"),
    [
        (lambda d: d["nodes"].append({"id": "x", "type": "functionNode"}), "nodes[3].type", "unsupported_node"),
        (lambda d: d["nodes"].pop(2), "nodes", "node_count"),
        (lambda d: d["edges"].pop(), "edges", "bad_edges"),
        (lambda d: d["edges"][0].update(targetId="out"), "edges", "bad_edges"),
        (lambda d: d["nodes"][1]["content"].update(rules=[]), "rules", "no_rules"),
        (lambda d: d["nodes"][1]["content"].update(outputs=[]), "outputs", "no_outputs"),
        (lambda d: d.update(contentType="text/plain"), "contentType", "bad_content_type"),
    ],
)
def test_the_graph_is_one_table_between_input_and_output(change: Any, place: str, code: str) -> None:
    document = jdm()
    change(document)
    with pytest.raises(InvalidTable) as error:
        load(document)
    assert places(error).get(place) == code


@pytest.mark.parametrize("document", [None, [], "{}", {"nodes": "x"}, {"nodes": [1]}])
def test_not_a_document_is_refused_not_crashed(document: Any) -> None:
    with pytest.raises(InvalidTable):
        load(document)


def test_bad_test_cases_are_reported_with_the_table() -> None:
    with pytest.raises(InvalidTable) as error:
        load(
            jdm(),
            [{"name": "ok", "inputs": {}, "expected": {"action": "x"}}, {"inputs": []}, {"inputs": {}, "expected": {"nope": 1}}],
        )
    assert places(error) == {"tests[1]": "bad_test", "tests[2].expected.nope": "unknown_output"}


# --- evaluating -----------------------------------------------------------------------------


def test_first_hit_policy_returns_the_first_matching_rule_with_its_id() -> None:
    table = load(jdm())
    result = evaluate(table, {"amount": 150, "customer": {"segment": "premium"}})
    assert result.outputs == {"action": "escalate", "share": 0}
    assert result.rule_ids == ["big"]
    assert result.matches[0].description == "More than 100"
    premium = evaluate(table, {"amount": 40, "customer": {"segment": "premium"}})
    assert premium.outputs == {"action": "refund", "share": 20}
    assert premium.rule_ids == ["vip"]
    # An empty output cell leaves the output unset.
    assert evaluate(table, {"amount": 1, "customer": {"segment": "private"}}).outputs == {"action": "explain"}


def test_first_hit_policy_without_a_match_gives_empty_outputs() -> None:
    rules = [{"_id": "only", "amount": "> 100", "segment": "", "action": '"escalate"', "share": ""}]
    result = evaluate(load(jdm(rules=rules)), {"amount": 5})
    assert result.outputs == {}
    assert result.matches == ()


def test_collect_hit_policy_returns_every_matching_rule_in_order() -> None:
    table = load(jdm("collect"))
    result = evaluate(table, {"amount": 150, "customer": {"segment": "premium"}})
    assert result.rule_ids == ["big", "vip", "rest"]
    assert result.outputs == [{"action": "escalate", "share": 0}, {"action": "refund", "share": 75}, {"action": "explain"}]
    assert evaluate(table, {"amount": 1, "customer": {"segment": "x"}}).rule_ids == ["rest"]


def test_trace_names_the_matched_rules_and_the_values_they_saw() -> None:
    table = load(jdm("collect"))
    result = evaluate(table, {"amount": 150, "customer": {"segment": "premium"}}, trace=True)
    assert [(m.rule_id, m.seen) for m in result.matches][:2] == [
        ("big", {"amount": 150, "customer.segment": "premium"}),
        ("vip", {"amount": 150, "customer.segment": "premium"}),
    ]
    # Without the trace the matched rules are still known, only the seen values are not.
    plain = evaluate(table, {"amount": 150, "customer": {"segment": "premium"}})
    assert plain.rule_ids == result.rule_ids
    assert plain.matches[0].seen is None


def test_evaluate_many_agrees_with_evaluate() -> None:
    table = load(jdm())
    many = [{"amount": n * 13, "customer": {"segment": ["premium", "private"][n % 2]}} for n in range(40)]
    batch = evaluate_many(table, many)
    assert [r.outputs for r in batch if not isinstance(r, EvaluationError)] == [evaluate(table, i).outputs for i in many]


HOSTILE = [
    "' OR 1=1 --",
    '"; drop table x; "',
    "<script>alert(1)</script>",
    "\u0000\u202e\ufeff",
    "{{ 7*7 }} ${7*7}",
    "x" * 100_000,
    "premium\n",
    "😀" * 50,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_in_inputs_evaluate_like_any_other_value(text: str) -> None:
    table = load(jdm())
    result = evaluate(table, {"amount": text, "customer": {"segment": text}}, trace=True)
    assert result.rule_ids == ["rest"]
    assert evaluate(table, {text: text, "customer": text}).rule_ids == ["rest"]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_in_the_table_are_refused_or_kept_never_crash(text: str) -> None:
    document = jdm()
    content = document["nodes"][1]["content"]
    content["rules"][0]["amount"] = text
    content["rules"][1]["_description"] = text
    content["inputs"][0]["name"] = text
    try:
        table = load(document)
    except InvalidTable as error:
        assert {p.place for p in error.problems} <= {"rules[0] (big).amount"}
        return
    assert table.rules[1].description == text
    assert load(to_jdm(table)) == table


@pytest.mark.parametrize("inputs", [{"amount": float("nan")}, {"amount": 10**40}, {"amount": object()}, "amount", None])
def test_values_the_engine_cannot_take_raise_an_evaluation_error(inputs: Any) -> None:
    table = load(jdm())
    with pytest.raises(EvaluationError):
        evaluate(table, inputs)
    # The batch keeps going: a non-object is an error in its place, the rest is evaluated.
    results = evaluate_many(table, [inputs, {"amount": 500}])
    assert isinstance(results[0], EvaluationError)
    assert not isinstance(results[1], EvaluationError)
    assert results[1].rule_ids == ["big"]


def test_decimals_and_dates_are_read_as_numbers_and_iso_text() -> None:
    table = load(jdm())
    assert evaluate(table, {"amount": Decimal("40.50"), "customer": {"segment": "premium"}}).outputs == {
        "action": "refund",
        "share": 20.25,
    }
    assert evaluate(table, {"amount": Decimal("101"), "when": dt.date(2026, 12, 3)}).rule_ids == ["big"]
    [many] = evaluate_many(table, [{"amount": Decimal("40.50"), "customer": {"segment": "premium"}}])
    assert not isinstance(many, EvaluationError)
    assert many.outputs["share"] == 20.25


# --- test cases -----------------------------------------------------------------------------


def test_the_test_runner_reports_a_wrong_expectation_with_expected_and_actual() -> None:
    cases = [
        {"name": "big escalates", "inputs": {"amount": 500}, "expected": {"action": "escalate"}},
        {"name": "wrong on purpose", "inputs": {"amount": 40, "customer": {"segment": "premium"}}, "expected": {"share": 30}},
        {"name": "cannot run", "inputs": {"amount": float("nan")}, "expected": {"action": "x"}},
    ]
    table = load(jdm(), cases)
    failures = run_tests(table)
    assert [f.name for f in failures] == ["wrong on purpose", "cannot run"]
    assert failures[0].expected == {"share": 30}
    assert failures[0].actual == {"action": "refund", "share": 20}
    assert failures[1].error
    # Correct the expectation: nothing fails.
    assert run_tests(table, [TestCase("fixed", {"amount": 40, "customer": {"segment": "premium"}}, {"share": 20})]) == []


def test_collect_test_cases_compare_every_row() -> None:
    table = load(jdm("collect"))
    good = TestCase("rows", {"amount": 150}, ({"action": "escalate"}, {"action": "explain"}))
    missing_row = TestCase("one row short", {"amount": 150}, ({"action": "escalate"},))
    wrong_order = TestCase("order", {"amount": 150}, ({"action": "explain"}, {"action": "escalate"}))
    assert [f.name for f in run_tests(table, [good, missing_row, wrong_order])] == ["one row short", "order"]


# --- export ---------------------------------------------------------------------------------


def test_round_trip_gives_the_same_table_and_results() -> None:
    cases = [{"name": "big", "inputs": {"amount": 500}, "expected": [{"action": "escalate"}, {"action": "explain"}]}]
    table = load(jdm("collect"), cases)
    exported = json.loads(json.dumps(to_jdm(table)))
    zen.ZenEngine().create_decision(json.dumps(exported)).validate()  # zen's own check of the graph
    again = load(exported, cases_to_json(table))
    assert again == table
    for inputs in ({"amount": 150, "customer": {"segment": "premium"}}, {"amount": 3}):
        assert evaluate(again, inputs).outputs == evaluate(table, inputs).outputs


def test_export_is_plain_jdm_without_the_engine_column() -> None:
    exported = to_jdm(load(jdm()))
    content = exported["nodes"][1]["content"]
    assert [o["field"] for o in content["outputs"]] == ["action", "share"]
    assert all(not key.startswith("_leitplanke") for rule in content["rules"] for key in rule)
    assert exported["contentType"] == "application/vnd.gorules.decision"
    assert {e["sourceId"] + ">" + e["targetId"] for e in exported["edges"]} == {"in>t", "t>out"}


def test_a_compiled_table_can_be_pickled_and_copied() -> None:
    table = shipped.table("routing")
    evaluate(table, {"category": "meter"})  # compiles and keeps the zen decision with the table
    for again in (pickle.loads(pickle.dumps(table)), copy.deepcopy(table)):  # noqa: S301 (our own bytes)
        assert again == table
        assert evaluate(again, {"category": "meter", "segment": "private"}).outputs["team"] == "billing"


def test_the_input_document_is_not_changed() -> None:
    document = jdm()
    before = copy.deepcopy(document)
    evaluate(load(document), {"amount": 1})
    assert document == before


# --- shipped tables ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", shipped.KEYS)
def test_every_shipped_table_loads_and_passes_its_tests(key: str) -> None:
    table = shipped.table(key)
    assert len(table.tests) >= 4
    assert run_tests(table) == []
    # The file is what the export writes (so it opens in the GoRules editor and round-trips).
    assert load(to_jdm(table), cases_to_json(table)) == table


@pytest.mark.parametrize("key", ["goodwill_energy_billing", "card_fee_refund", "routing"])
def test_shipped_first_tables_give_rationales_in_both_languages(key: str) -> None:
    table = shipped.table(key)
    fields = {column.field for column in table.outputs}
    assert {"rationale_de", "rationale_en"} <= fields
    for case in table.tests:
        outputs = evaluate(table, case.inputs).outputs
        assert outputs["rationale_de"] and outputs["rationale_en"]
        assert outputs["rationale_de"] != outputs["rationale_en"]


def test_a_shipped_table_test_can_fail() -> None:
    table = shipped.table("goodwill_energy_billing")
    case = table.tests[2]
    wrong = TestCase(case.name, case.inputs, {**case.expected, "recommended_amount": 999})  # type: ignore[dict-item]
    failures = run_tests(table, [wrong])
    assert len(failures) == 1
    assert failures[0].actual["recommended_amount"] == 40
