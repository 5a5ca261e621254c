"""The pure process engine: guard language, validation (all problems at once, with their
place), availability with reasons, apply with effects."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from leitplanke.processes.catalogue import STANDARD_FIELDS, known_fields
from leitplanke.processes.engine import (
    GuardSyntaxError,
    InvalidDefinition,
    TransitionRefused,
    apply,
    available_transitions,
    compile_guard,
    compile_process,
    validate,
)
from leitplanke.processes.shipped import SHIPPED

FIELDS = known_fields([{"key": "disputed", "label_de": "Strittig", "label_en": "Disputed", "kind": "boolean"}])


# --- guard language ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("guard", "context", "expected"),
    [
        ('customer.segment == "business" and case.priority >= 3', {"customer.segment": "business", "case.priority": 3}, True),
        ('customer.segment == "business" and case.priority >= 3', {"customer.segment": "business", "case.priority": 2}, False),
        ('customer.segment == "business" and case.priority >= 3', {}, False),
        ("case.priority > 2 or case.severity == 'critical'", {"case.priority": 1, "case.severity": "critical"}, True),
        ('case.channel in ["email", "letter"]', {"case.channel": "letter"}, True),
        ('case.channel not in ["email", "letter"]', {"case.channel": "letter"}, False),
        ("not case.custom.disputed", {"case.custom.disputed": False}, True),
        ("not (case.priority < 2)", {"case.priority": 4}, True),
        ("case.redress_amount > 100.50", {"case.redress_amount": {"amount": "120.00", "currency": "EUR"}}, True),
        ("case.redress_amount > 100.50", {"case.redress_amount": Decimal("99")}, False),
        ("case.root_cause", {"case.root_cause": ""}, False),
        ("case.root_cause == null", {}, True),
        ("case.root_cause != null", {"case.root_cause": "billing"}, True),
        # Ordering across types or with null is never met (and never raises).
        ('case.priority > "high"', {"case.priority": 3}, False),
        ("case.priority < 5", {"case.priority": None}, False),
        ("true and not false", {}, True),
        ('case.subject == "a \\"quoted\\" word"', {"case.subject": 'a "quoted" word'}, True),
    ],
)
def test_guards_evaluate(guard: str, context: dict, expected: bool) -> None:
    assert compile_guard(guard)(context) is expected


def test_guard_lists_the_fields_it_reads() -> None:
    guard = compile_guard('customer.segment == "business" and (case.priority >= 3 or customer.segment == "premium")')
    assert guard.fields == ("customer.segment", "case.priority")


@pytest.mark.parametrize(
    ("guard", "position"),
    [
        ("case.priority >=", 16),
        ("case.priority = 3", 14),
        ("(case.priority > 3", 18),
        ("case.priority > 3 case", 18),
        ("__import__('os')", 10),
        ("", 0),
        ("case.", 5),
        ("case.priority @ 3", 14),
    ],
)
def test_guard_syntax_errors_name_the_position(guard: str, position: int) -> None:
    with pytest.raises(GuardSyntaxError) as caught:
        compile_guard(guard)
    assert caught.value.position == position


def test_guard_refuses_deep_nesting_and_length() -> None:
    with pytest.raises(GuardSyntaxError):
        compile_guard("(" * 100 + "true" + ")" * 100)
    with pytest.raises(GuardSyntaxError):
        compile_guard("not " * 100 + "true")
    with pytest.raises(GuardSyntaxError):
        compile_guard("true or " * 500 + "true")


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(SHIPPED))
def test_shipped_definitions_are_valid(key: str) -> None:
    assert validate(SHIPPED[key], STANDARD_FIELDS, known_roles=["agent", "team_lead", "quality_manager"]) == []


def test_validation_reports_every_problem_with_its_place() -> None:
    broken = copy.deepcopy(SHIPPED["complaint"])
    states = {s["key"]: s for s in broken["states"]}
    states["assessment"]["label_en"] = ""
    states["closed"]["label_de"] = "  "
    states["resolved"]["kind"] = "done"
    broken["states"].append({"key": "orphan", "kind": "open", "label_de": "Waise", "label_en": "Orphan"})
    broken["states"].append({"key": "limbo", "kind": "open", "label_de": "Limbo", "label_en": "Limbo"})
    steps = {t["key"]: t for t in broken["transitions"]}
    steps["close"]["guard"] = 'customer.segment == "business" and'
    steps["close"]["requires"].append("shoe_size")
    steps["close"]["requires"].append("case.channel")
    steps["resolve"]["guard"] = "case.nonsense > 3"
    steps["acknowledge"]["to"] = "nowhere"
    steps["reopen"]["effects"] = [
        {"type": "teleport"},
        {"type": "set_field", "field": "outcome", "value": "maybe"},
        {"type": "clock", "action": "rewind", "clock": "fca_final"},
    ]
    broken["transitions"].append({"key": "to_limbo", "from": ["in_progress"], "to": "limbo", "label_de": "x", "label_en": "x"})
    broken["transitions"].append({"key": "start", "from": ["new"], "to": "closed", "label_de": "x", "label_en": "x"})

    problems = {(p.place, p.code) for p in validate(broken, STANDARD_FIELDS, known_roles=["agent"])}

    assert problems == {
        ("states.assessment.label_en", "empty_text"),
        ("states.closed.label_de", "empty_text"),
        ("states.resolved.kind", "unknown_kind"),
        ("transitions.close.guard", "guard_syntax"),
        ("transitions.close.requires", "unknown_field"),
        ("transitions.close.requires", "not_settable"),
        ("transitions.resolve.guard", "unknown_field"),
        ("transitions.acknowledge.to", "unknown_state"),
        ("transitions.reopen.effects[0].type", "unknown_effect"),
        ("transitions.reopen.effects[1].value", "bad_choice"),
        ("transitions.reopen.effects[2].action", "unknown_action"),
        ("transitions[10].key", "duplicate_key"),
        ("escalation_levels[0].handled_by", "unknown_role"),
        ("escalation_levels[1].handled_by", "unknown_role"),
        ("states.acknowledged", "unreachable"),
        ("states.orphan", "unreachable"),
        ("states.orphan", "dead_end"),
        ("states.limbo", "dead_end"),
    }


def test_an_escalation_levels_assign_to_is_checked_and_compiled() -> None:
    from leitplanke.processes.engine import build

    definition = copy.deepcopy(SHIPPED["complaint"])
    levels = definition["escalation_levels"]
    levels[0]["assign_to"] = "team_lead"
    levels[1]["assign_to"] = "handler"
    assert not validate(definition, STANDARD_FIELDS)
    assert [(lv.level, lv.assign_to) for lv in build(definition).escalation_levels] == [(1, "team_lead"), (2, "handler")]
    assert build(SHIPPED["complaint"]).escalation_levels[0].assign_to == ""  # absent: keep the responsible person
    levels[0]["assign_to"] = "boss"
    levels[1]["assign_to"] = ["handler"]
    definition["escalation_levels"].append({"level": 3, "label_de": "C", "label_en": "C", "assign_to": "handler"})
    problems = validate(definition, STANDARD_FIELDS)
    assert {(p.place, p.code) for p in problems} == {
        ("escalation_levels[0].assign_to", "bad_assign_to"),
        ("escalation_levels[1].assign_to", "bad_assign_to"),
        ("escalation_levels[2].assign_to", "assign_to_without_handler"),
    }
    assert 'assign_to is "team_lead", "handler" or empty' in problems[0].message
    with pytest.raises(InvalidDefinition):
        compile_process(definition, STANDARD_FIELDS)


def test_every_problem_code_has_a_translated_text() -> None:
    from django.utils import translation

    from leitplanke.processes.engine.validate import MESSAGES, Problem
    from leitplanke.processes.texts import PROBLEMS, problem_text

    assert set(MESSAGES) == set(PROBLEMS)
    problem = Problem("escalation_levels[0].assign_to", "bad_assign_to", {"value": "boss"})
    with translation.override("de"):
        assert "assign_to" in problem_text(problem) and problem_text(problem) != problem.message


def test_validation_of_rubbish_does_not_raise() -> None:
    for rubbish in (None, [], "x", {"states": "x", "transitions": 3}, {"states": [1, None], "transitions": [[]]}):
        assert validate(rubbish, STANDARD_FIELDS)
    problems = validate({"states": [], "transitions": []}, STANDARD_FIELDS)
    assert ("states", "no_states") in {(p.place, p.code) for p in problems}
    assert ("initial", "missing") in {(p.place, p.code) for p in problems}


def test_messages_are_readable() -> None:
    problem = validate({"initial": "a", "states": [{"key": "a", "kind": "open", "label_de": "A"}], "transitions": []}, {})
    assert "states.a.label_en: the English text is missing" in [f"{p.place}: {p.message}" for p in problem]


def test_compile_refuses_an_invalid_definition() -> None:
    broken = copy.deepcopy(SHIPPED["inquiry"])
    broken["initial"] = "nope"
    with pytest.raises(InvalidDefinition) as caught:
        compile_process(broken, STANDARD_FIELDS)
    assert caught.value.problems[0].place == "initial"


# --- availability and apply ------------------------------------------------------------------


def guarded() -> dict:
    definition = copy.deepcopy(SHIPPED["complaint"])
    steps = {t["key"]: t for t in definition["transitions"]}
    steps["escalate"]["roles"] = ["team_lead"]
    steps["escalate"]["guard"] = 'customer.segment == "business" and case.priority >= 3'
    steps["escalate"]["guard_label_en"] = "business customers with high priority"
    steps["close"]["checklist"] = [{"key": "informed", "label_de": "Kunde informiert", "label_en": "Customer informed"}]
    steps["close"]["effects"] = [
        {"type": "set_field", "field": "priority", "value": 1},
        {"type": "clock", "action": "stop", "clock": "fca_final"},
        {"type": "send_template", "template": "closing"},
        {"type": "webhook", "endpoint": "crm"},
    ]
    return definition


def test_unavailable_transitions_say_why() -> None:
    process = compile_process(guarded(), FIELDS)
    context = {"case.priority": 2, "customer.segment": "private", "case.outcome": "upheld"}
    offered = {a.transition.key: a for a in available_transitions(process, "in_progress", context, ["agent"], fields=FIELDS)}
    assert list(offered) == ["wait", "resolve", "escalate"]
    assert offered["resolve"].available
    escalate = offered["escalate"]
    assert not escalate.available and escalate.blocked
    assert [r.text("en") for r in escalate.reasons] == [
        "only for: team_lead",
        "condition: business customers with high priority",
    ]

    closing = {a.transition.key: a for a in available_transitions(process, "resolved", context, ["agent"], fields=FIELDS)}
    close = closing["close"]
    assert not close.available and not close.blocked
    assert close.missing_fields == ("root_cause", "resolution_summary")
    assert [r.text("en") for r in close.reasons] == [
        "requires: Root cause",
        "requires: Resolution summary",
        "to confirm: Customer informed",
    ]
    assert close.reasons[0].text("de") == "erfordert: Ursachenkategorie"


def test_apply_returns_target_and_effects() -> None:
    process = compile_process(guarded(), FIELDS)
    context = {"case.outcome": "partly_upheld", "case.root_cause": "billing", "case.resolution_summary": "Refunded."}
    outcome = apply(process, "resolved", "close", context, ["agent"], confirmed={"informed"})
    assert (outcome.source.key, outcome.target.key, outcome.target.kind) == ("resolved", "closed", "closed")
    assert [e.as_dict() for e in outcome.effects] == [
        {"type": "set_field", "field": "priority", "value": 1},
        {"type": "clock", "action": "stop", "clock": "fca_final"},
        {"type": "send_template", "template": "closing"},
        {"type": "webhook", "endpoint": "crm"},
    ]


def test_apply_refuses_with_reasons() -> None:
    process = compile_process(guarded(), FIELDS)
    with pytest.raises(TransitionRefused) as caught:
        apply(process, "resolved", "close", {"case.outcome": "upheld"}, ["agent"], fields=FIELDS)
    assert caught.value.code == "not_available"
    assert [r.subject for r in caught.value.reasons] == ["root_cause", "resolution_summary", "informed"]
    with pytest.raises(TransitionRefused) as caught:
        apply(process, "new", "close", {}, ["agent"])
    assert caught.value.code == "not_from_here"
    with pytest.raises(TransitionRefused) as caught:
        apply(process, "new", "fly", {}, ["agent"])
    assert caught.value.code == "unknown_transition"


def test_escalation_effects_resolve_the_level() -> None:
    process = compile_process(guarded(), FIELDS)
    context = {"customer.segment": "business", "case.priority": 3, "case.escalation_level": 0}
    outcome = apply(process, "in_progress", "escalate", context, ["team_lead"])
    assert outcome.effects[0].as_dict() == {"type": "escalation", "action": "raise", "level": 1}
    outcome = apply(process, "in_progress", "escalate", {**context, "case.escalation_level": 2}, ["team_lead"])
    assert outcome.effects[0].params["level"] == 2  # the highest level the process defines


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("priority", 3, True),
        ("priority", 7, False),
        ("priority", None, False),
        ("severity", "major", True),
        ("outcome", "upheld", True),
        ("outcome", None, True),
        ("redress_amount", "12.50", True),
        ("redress_amount", "-1", False),
        ("redress_amount", "1.234", False),
        ("redress_amount", "abc", False),
        ("redress_amount", None, True),
        ("resolution_summary", "Standard", True),
        ("currency", None, False),
    ],
)
def test_set_field_values_are_checked(field: str, value: object, ok: bool) -> None:
    definition = copy.deepcopy(SHIPPED["inquiry"])
    definition["transitions"][0]["effects"] = [{"type": "set_field", "field": field, "value": value}]
    problems = {(p.place, p.code) for p in validate(definition, STANDARD_FIELDS)}
    assert (("transitions.start.effects[0].value", "bad_choice") not in problems) is ok


# --- the decision guard ------------------------------------------------------------------------


def test_the_shipped_complaint_is_not_closed_while_a_decision_awaits_approval() -> None:
    process = compile_process(SHIPPED["complaint"], STANDARD_FIELDS)
    closing = {"case.outcome": "upheld", "case.root_cause": "billing", "case.resolution_summary": "Refunded."}
    with pytest.raises(TransitionRefused) as caught:
        apply(process, "resolved", "close", {**closing, "case.decision_pending": True}, ["agent"], fields=STANDARD_FIELDS)
    (reason,) = caught.value.reasons
    assert (reason.code, reason.subject) == ("guard", "not case.decision_pending")
    assert reason.text("en") == "condition: no decision awaiting approval"
    assert reason.text("de") == "Bedingung: keine Entscheidung wartet auf Freigabe"
    for pending in (False, None):  # None: no decisions app to ask, nothing blocks
        outcome = apply(process, "resolved", "close", {**closing, "case.decision_pending": pending}, ["agent"])
        assert outcome.target.key == "closed"


def test_validation_knows_the_decision_pending_field_and_that_it_cannot_be_set() -> None:
    definition = copy.deepcopy(SHIPPED["inquiry"])
    close = next(t for t in definition["transitions"] if t["key"] == "close")
    close["guard"] = "case.decision_pending == false"
    assert validate(definition, STANDARD_FIELDS) == []
    close["requires"] = ["decision_pending"]
    close["effects"] = [{"type": "set_field", "field": "decision_pending", "value": True}]
    problems = {(p.place, p.code) for p in validate(definition, STANDARD_FIELDS)}
    assert ("transitions.close.requires", "not_settable") in problems
    assert ("transitions.close.effects[0].field", "not_settable") in problems


# --- decision steps and the has_decision guard ------------------------------------------------


def test_a_decide_effect_names_a_known_published_table() -> None:
    definition = copy.deepcopy(SHIPPED["inquiry"])
    start = next(t for t in definition["transitions"] if t["key"] == "start")
    start["effects"] = [{"type": "decide", "table": "routing"}]
    assert validate(definition, STANDARD_FIELDS) == []  # tables not known: only that one is named
    assert validate(definition, STANDARD_FIELDS, known_tables=["routing"]) == []
    start["effects"] = [
        {"type": "decide", "table": "routing"},
        {"type": "decide", "table": "nope"},
        {"type": "decide"},
        {"type": "decide", "table": 7},
        {"type": "decide", "table": "bad key!"},
    ]
    problems = validate(definition, STANDARD_FIELDS, known_tables=["routing"])
    assert {(p.place, p.code) for p in problems} == {
        ("transitions.start.effects[1].table", "unknown_table"),
        ("transitions.start.effects[2].table", "missing"),
        ("transitions.start.effects[3].table", "missing"),
        ("transitions.start.effects[4].table", "unknown_table"),
    }
    assert "there is no published decision table nope" in [p.message for p in problems]
    with pytest.raises(InvalidDefinition):
        compile_process(definition, STANDARD_FIELDS, known_tables=["routing"])


def test_the_unknown_table_problem_reads_in_both_languages() -> None:
    from django.utils import translation

    from leitplanke.processes.engine.validate import Problem
    from leitplanke.processes.texts import problem_text

    problem = Problem("transitions.start.effects[0].table", "unknown_table", {"table": "nope"})
    with translation.override("en"):
        assert problem_text(problem) == "there is no published decision table nope"
    with translation.override("de"):
        assert problem_text(problem) == "es gibt keine veröffentlichte Entscheidungstabelle nope"


def test_apply_hands_the_decide_effect_to_the_caller() -> None:
    definition = copy.deepcopy(SHIPPED["inquiry"])
    next(t for t in definition["transitions"] if t["key"] == "start")["effects"] = [{"type": "decide", "table": "routing"}]
    process = compile_process(definition, STANDARD_FIELDS)
    outcome = apply(process, "new", "start", {}, ["agent"])
    assert [effect.as_dict() for effect in outcome.effects] == [{"type": "decide", "table": "routing"}]


def test_has_decision_is_a_guard_field_that_cannot_be_set() -> None:
    definition = copy.deepcopy(SHIPPED["inquiry"])
    close = next(t for t in definition["transitions"] if t["key"] == "close")
    close.update(guard="case.has_decision", guard_label_de="eine Entscheidung erfasst", guard_label_en="a decision recorded")
    assert validate(definition, STANDARD_FIELDS) == []
    process = compile_process(definition, STANDARD_FIELDS)
    source = close["from"][0] if isinstance(close["from"], list) else close["from"]
    with pytest.raises(TransitionRefused) as caught:
        apply(process, source, "close", {"case.has_decision": False}, ["agent"])
    assert caught.value.reasons[0].text("en") == "condition: a decision recorded"
    assert apply(process, source, "close", {"case.has_decision": True}, ["agent"]).target.key == "closed"
    close["effects"] = [{"type": "set_field", "field": "has_decision", "value": True}]
    assert ("transitions.close.effects[0].field", "not_settable") in {
        (p.place, p.code) for p in validate(definition, STANDARD_FIELDS)
    }
