"""Decisions as steps and guards of processes (issue 21): a transition's `decide` effect
evaluates a published decision table on the case in the transition's transaction, records the
result with its reasons and applies the outputs that name case fields (the routing table's
team); the guard field `case.has_decision` asks for a person's decision in force."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.utils import translation

from leitplanke.accounts.models import Team
from leitplanke.cases import services as case_services
from leitplanke.cases.models import Case, Category, Interaction, InteractionKind
from leitplanke.cases.services import TransitionNotAvailable
from leitplanke.core.models import AuditEvent
from leitplanke.decisions import engine, record_services, shipped
from leitplanke.decisions.models import DecisionRecord, DecisionTable
from leitplanke.decisions.record_selectors import has_decision
from leitplanke.decisions.step_services import DecisionStepFailed, team_for
from leitplanke.processes import selectors as process_selectors
from leitplanke.processes import services as process_services
from leitplanke.processes.models import ProcessDefinition

from .conftest import make_record


def publish_routing() -> DecisionTable:
    """The shipped routing table (the data migration publishes it; made here when it is not)."""
    found = DecisionTable.objects.filter(key="routing", status="published").first()
    if found is not None:
        return found
    return DecisionTable.objects.create(
        key="routing",
        version=1,
        status="published",
        name_de="Zuweisung",
        name_en="Routing",
        decision_kind="none",
        jdm=shipped.jdm("routing"),
        tests=shipped.tests("routing"),
    )


def retire_routing() -> None:
    row = DecisionTable.objects.get(key="routing", status="published")
    row.status = "retired"
    row.save()  # (a save: the cached published keys follow it)


def publish_complaint(owner: Any, change: Any) -> ProcessDefinition:
    data = copy.deepcopy(ProcessDefinition.objects.get(key="complaint", version=1).definition)
    change(data)
    draft = process_services.definition_create(
        actor=owner, key="complaint", name_de="Beschwerden", name_en="Complaints", definition=data
    )
    return process_services.definition_publish(actor=owner, definition=draft)


def start_decides(table: str) -> Any:
    def change(data: dict) -> None:
        next(t for t in data["transitions"] if t["key"] == "start")["effects"] = [{"type": "decide", "table": table}]

    return change


@pytest.fixture
def routed(owner: Any, make_user: Any, team: Team, other_team: Team, make_case: Any, customer: Any) -> dict[str, Any]:
    """The routing table published; the complaint process decides with it when work starts; a
    billing complaint of a private customer, in the team "Cards", taken by an agent of both."""
    publish_routing()
    publish_complaint(owner, start_decides("routing"))
    agent = make_user("agent", teams=[team, other_team])
    category = Category.objects.get(key="billing")
    case = make_case(actor=agent, team=other_team, customer=customer, category=category)
    return {"agent": agent, "case": case, "billing": team, "cards": other_team}


def test_the_routing_step_sets_the_team_and_records_why(routed: Any) -> None:
    agent, case = routed["agent"], routed["case"]
    assert case.team == routed["cards"]
    moved = case_services.case_transition(actor=agent, case=case, transition="start")
    assert moved.status == "in_progress" and moved.team == routed["billing"]
    assert Case.objects.get(pk=case.pk).team_id == routed["billing"].pk

    record = DecisionRecord.objects.get(case=case)
    assert (record.record_kind, record.kind, record.amount, record.status) == ("step", "none", 0, "final")
    assert record.decided_by == agent and record.table.key == "routing"
    assert [rule["id"] for rule in record.matched_rules] == ["billing"]
    assert record.matched_rules[0]["description"] == "Billing and metering"
    assert record.inputs["category"] == "billing" and record.inputs["segment"] == "private"
    assert record.recommendation["team"] == "billing"
    assert record.authority["step"] == {"transition": "start", "applied": {"team": routed["billing"].pk}, "not_applied": {}}

    changed = Interaction.objects.get(case=case, kind=InteractionKind.FIELD_CHANGE)
    assert changed.data["fields"] == ["team"] and changed.data["display_to"] == {"team": "Billing"}
    assert changed.data["by"] == "decision_step"
    step = Interaction.objects.get(case=case, kind=InteractionKind.SYSTEM, data__event="decision_step")
    assert step.data["decision_id"] == record.pk and step.data["rules_en"] == ["Billing and metering"]
    assert step.data["rationale_en"] == "Billing and metering: billing team."

    transition = AuditEvent.objects.get(action="case.transition", object_id=str(case.pk))
    assert transition.before["team"] == routed["cards"].pk and transition.after["team"] == routed["billing"].pk
    assert transition.after["decisions"][0]["decision_id"] == record.pk
    assert transition.after["decisions"][0]["matched_rules"] == ["billing"]
    audit = AuditEvent.objects.get(action="decision.step", object_id=str(record.pk))
    assert audit.after["applied"] == {"team": routed["billing"].pk} and audit.after["matched_rules"] == ["billing"]
    # A step is not a person's decision: the case has none yet, and nobody corrects a step.
    assert has_decision(case) is False


def test_the_case_page_shows_the_step(routed: Any, client_for: Any) -> None:
    case_services.case_transition(actor=routed["agent"], case=routed["case"], transition="start")
    client = client_for(routed["agent"])
    page = client.get(f"/cases/{routed['case'].pk}/").content.decode()
    assert "Decision step: Routing" in page and "Billing and metering" in page
    panel = client.get(f"/cases/{routed['case'].pk}/decisions/").content.decode()
    assert "Decision step: Routing by category and customer segment" in panel
    assert "Billing and metering: billing team." in panel and "Matched rules: Billing and metering" in panel
    assert "Correct this decision" not in panel and "No payment 0.00" not in panel


def test_a_failing_evaluation_rolls_the_transition_back(routed: Any, monkeypatch: Any) -> None:
    agent, case = routed["agent"], routed["case"]
    entries = Interaction.objects.filter(case=case).count()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise engine.EvaluationError("the table broke")

    monkeypatch.setattr(engine, "evaluate", broken)
    with translation.override("en"), pytest.raises(DecisionStepFailed) as refused:  # not the language a test before left
        case_services.case_transition(actor=agent, case=case, transition="start")
    assert refused.value.field_errors == {"transition": ["The decision table routing could not be evaluated: the table broke"]}
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.status, fresh.team_id, fresh.version) == ("new", routed["cards"].pk, case.version)
    assert not DecisionRecord.objects.filter(case=case).exists()
    assert Interaction.objects.filter(case=case).count() == entries
    assert not AuditEvent.objects.filter(action__in=["case.transition", "decision.step"]).exists()


def test_a_table_retired_since_refuses_the_step_in_both_languages(routed: Any) -> None:
    retire_routing()
    for language, text in (
        ("en", "The decision table routing of this step has no published version."),
        ("de", "Die Entscheidungstabelle routing dieses Schritts hat keine veröffentlichte Version."),
    ):
        with translation.override(language), pytest.raises(DecisionStepFailed) as refused:
            case_services.case_transition(actor=routed["agent"], case=routed["case"], transition="start")
        assert refused.value.field_errors == {"transition": [text]}
    assert Case.objects.get(pk=routed["case"].pk).status == "new"


def test_the_system_cannot_take_a_decision_step(routed: Any) -> None:
    with pytest.raises(DecisionStepFailed):
        case_services.case_transition(actor=None, case=routed["case"], transition="start")
    assert not DecisionRecord.objects.exists()


def test_an_output_naming_no_team_leaves_the_team(routed: Any) -> None:
    routed["billing"].name = "Energie-Service"
    routed["billing"].save()
    moved = case_services.case_transition(actor=routed["agent"], case=routed["case"], transition="start")
    assert moved.team == routed["cards"]
    record = DecisionRecord.objects.get(case=moved)
    assert record.authority["step"]["not_applied"] == {"team": "billing"} and record.authority["step"]["applied"] == {}
    assert not Interaction.objects.filter(case=moved, kind=InteractionKind.FIELD_CHANGE).exists()
    step = Interaction.objects.get(case=moved, data__event="decision_step")
    assert step.data["not_applied"] == {"team": "billing"}


def test_team_names_match_routing_keys(db: Any) -> None:
    protection = Team.objects.create(name="Data Protection")
    Team.objects.create(name="first level", is_active=False)
    assert team_for("data_protection") == protection and team_for("Data Protection") == protection
    assert team_for("first_level") is None and team_for("") is None and team_for(3) is None


def test_a_goodwill_table_step_records_the_recommendation_only(
    owner: Any, agent: Any, team: Team, customer: Any, make_case: Any, tables: Any
) -> None:
    """The step does not decide an amount for the agent: kind "no payment", amount 0, the
    recommendation kept; the case's goodwill stays empty until the agent decides."""
    publish_complaint(owner, start_decides("goodwill_energy_billing"))
    complaint = make_case(actor=agent, team=team, customer=customer)
    # The table's input the agent would type, held by the case as a custom field of that name.
    Case.objects.filter(pk=complaint.pk).update(custom_fields={"disputed_amount": {"amount": "300.00", "currency": "EUR"}})
    complaint = Case.objects.get(pk=complaint.pk)
    case_services.case_transition(actor=agent, case=complaint, transition="start")
    record = DecisionRecord.objects.get(case=complaint)
    assert (record.record_kind, record.kind, record.amount) == ("step", "none", 0)
    assert record.inputs["disputed_amount"] == 300 and record.inputs["years_as_customer"] == 12
    assert record.recommendation["kind"] == "goodwill" and record.recommendation["recommended_amount"] > 0
    assert record.recommended_min is not None and record.recommended_max is not None
    step = Interaction.objects.get(case=complaint, data__event="decision_step")
    assert step.data["recommended_amount"] == record.recommendation["amount"]
    assert Case.objects.get(pk=complaint.pk).goodwill_amount is None
    assert has_decision(complaint) is False
    assert not AuditEvent.objects.filter(action="case.decision_amounts").exists()


# --- the guard field case.has_decision -------------------------------------------------------------


CLOSING = {"outcome": "partly_upheld", "root_cause": "billing", "resolution_summary": "Gutschrift erteilt."}


def close_needs_a_decision(data: dict) -> None:
    close = next(t for t in data["transitions"] if t["key"] == "close")
    close.update(
        guard="case.has_decision and not case.decision_pending",
        guard_label_de="eine Entscheidung erfasst, keine wartet auf Freigabe",
        guard_label_en="a decision recorded, none awaiting approval",
    )


def test_closing_can_require_a_decision(owner: Any, setup: Any, make_case: Any) -> None:
    publish_complaint(owner, close_needs_a_decision)
    agent = setup["agent"]
    case = make_case(actor=agent, team=setup["team"], customer=setup["customer"])  # on the new version
    case = case_services.case_transition(actor=agent, case=case, transition="resolve")
    for language, text in (
        ("en", "condition not met: a decision recorded, none awaiting approval"),
        ("de", "Bedingung nicht erfüllt: eine Entscheidung erfasst, keine wartet auf Freigabe"),
    ):
        with translation.override(language), pytest.raises(TransitionNotAvailable) as refused:
            case_services.case_transition(actor=agent, case=case, transition="close", fields=CLOSING)
        assert refused.value.field_errors == {"transition": [text]}
    make_record(case, agent, 0, kind="none", status="superseded")
    assert has_decision(case) is False  # corrected since: not in force
    record_services.decision_record(actor=agent, case=case, kind="goodwill", amount="20.00", currency="EUR")
    assert has_decision(case) is True
    closed = case_services.case_transition(actor=agent, case=Case.objects.get(pk=case.pk), transition="close", fields=CLOSING)
    assert closed.status == "closed"


# --- validation and the API ------------------------------------------------------------------------


def test_publishing_checks_the_table_is_published(owner: Any, db: Any) -> None:
    publish_routing()
    data = copy.deepcopy(ProcessDefinition.objects.get(key="complaint", version=1).definition)
    start_decides("routing")(data)
    assert process_selectors.problems("complaint", data) == []
    retire_routing()
    assert [(p.place, p.code) for p in process_selectors.problems("complaint", data)] == [
        ("transitions.start.effects[0].table", "unknown_table")
    ]


def test_api_imports_the_effect_and_a_transition_runs_it(owner: Any, api_client_for: Any, routed: Any) -> None:
    owner_api = api_client_for(owner)
    data = copy.deepcopy(ProcessDefinition.objects.get(key="complaint", status="published").definition)
    assert next(t for t in data["transitions"] if t["key"] == "start")["effects"] == [{"type": "decide", "table": "routing"}]
    data["transitions"][0]["effects"] = [{"type": "decide", "table": "nope"}, {"type": "decide"}]
    created = owner_api.post(
        "/api/v1/processes",
        json.dumps({"key": "complaint", "name_de": "B", "name_en": "C", "definition": data}),
        content_type="application/json",
    )
    assert created.status_code == 201
    assert [(p["place"], p["code"]) for p in created.json()["problems"]] == [
        ("transitions.acknowledge.effects[0].table", "unknown_table"),
        ("transitions.acknowledge.effects[1].table", "missing"),
    ]
    refused = owner_api.post(created["Location"] + "/publish")
    assert refused.status_code == 422
    assert [e["pointer"] for e in refused.json()["errors"]] == [
        "/definition/transitions.acknowledge.effects[0].table",
        "/definition/transitions.acknowledge.effects[1].table",
    ]

    agent_api = api_client_for(routed["agent"])
    url = f"/api/v1/cases/{routed['case'].pk}/transitions"
    response = agent_api.post(url, json.dumps({"transition": "start"}), content_type="application/json")
    assert response.status_code == 200, response.content
    assert Case.objects.get(pk=routed["case"].pk).team_id == routed["billing"].pk
    decisions = agent_api.get(f"/api/v1/cases/{routed['case'].pk}/decisions")
    assert decisions.status_code == 200
    assert [item["record_kind"] for item in decisions.json()] == ["step"]


def test_a_step_that_routes_the_case_away_leads_to_the_list(
    owner: Any, make_user: Any, team: Team, other_team: Team, make_case: Any, customer: Any, client_for: Any
) -> None:
    """An agent of "Cards" only: the step hands the case to "Billing", which they do not see —
    the page goes to the case list and says so, instead of a 404."""
    publish_routing()
    publish_complaint(owner, start_decides("routing"))
    agent = make_user("agent", teams=[other_team])
    case = make_case(actor=agent, team=other_team, customer=customer, category=Category.objects.get(key="billing"))
    client = client_for(agent)
    response = client.post(f"/cases/{case.pk}/transition/", {"transition": "start", "version": case.version}, follow=True)
    assert response.redirect_chain[-1][0] == "/cases/"
    assert "Status changed. The case was handed to another team." in response.content.decode()
    assert Case.objects.get(pk=case.pk).team_id == team.pk
