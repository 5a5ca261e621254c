"""An escalation level's `assign_to` (docs/processes.md, "Escalation"): raising a case to the
level — by the deadline job or by hand — hands it to the lead of its team ("team_lead") or to
the first of the level's handlers ("handler"), in the same transaction, recorded on the
timeline and in the audit event; by default, or when nobody qualifies, the responsible
person stays."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from leitplanke.cases import clock_services, services
from leitplanke.cases.models import Case, Interaction
from leitplanke.core.models import AuditEvent
from leitplanke.processes.models import ProcessDefinition
from leitplanke.processes.shipped import SHIPPED


def on_levels(case: Case, *levels: dict[str, Any]) -> Case:
    """Puts the case on a published process version (the complaint process with these
    escalation levels), as a process owner would have published it."""
    definition = copy.deepcopy(SHIPPED["complaint"])
    definition["escalation_levels"] = [
        {"label_de": f"Stufe {n}", "label_en": f"Level {n}", "level": n, **level} for n, level in enumerate(levels, start=1)
    ]
    version = ProcessDefinition.objects.create(
        key=f"complaint_assign_{case.pk}", version=1, status="published", name_de="Test", name_en="Test", definition=definition
    )
    Case.objects.filter(pk=case.pk).update(process_version=version)
    case.refresh_from_db()
    return case


def escalations(case: Case) -> list[Interaction]:
    return [i for i in Interaction.objects.filter(case=case, kind="system") if i.data.get("event") == "escalated"]


@pytest.fixture
def setup(make_case, make_user, team_a, complaint_type):
    complaint_type.deadline_rules = ["internal_first_response"]
    complaint_type.save()
    lead = make_user("team_lead", email="lead@example.org", teams=[team_a], name="Lena Lead")
    team_a.lead = lead
    team_a.save()
    agent = make_user("agent", email="agent@example.org", teams=[team_a], name="Arne Agent")

    def make(*levels: dict[str, Any], **kwargs: Any) -> Case:
        kwargs.setdefault("team", team_a)
        kwargs.setdefault("responsible_user", agent)
        case = make_case(actor=agent, received_at=timezone.now() - dt.timedelta(days=10), **kwargs)
        return on_levels(case, *levels)

    return {"agent": agent, "lead": lead, "team": team_a, "make": make}


def test_a_breach_hands_the_case_to_the_team_lead(setup, django_capture_on_commit_callbacks, client_for, make_user):
    case = setup["make"]({"handled_by": "team_lead", "assign_to": "team_lead"})
    with django_capture_on_commit_callbacks(execute=True):
        clock_services.escalate_due_clocks()
    case.refresh_from_db()
    lead, agent = setup["lead"], setup["agent"]
    assert case.escalation_level == 1 and case.responsible_user == lead and case.team == setup["team"]
    [entry] = escalations(case)
    assert entry.data["reassigned_to"] == lead.pk and entry.data["previous_responsible"] == agent.pk
    assert entry.data["reassigned_to_name"] == "Lena Lead" and entry.data["notified"] == [lead.pk]
    event = AuditEvent.objects.get(action="case.escalate", object_id=str(case.pk))
    assert event.before["responsible_user"] == agent.pk and event.after["responsible_user"] == lead.pk
    [told] = [m for m in mail.outbox if "escalated" in m.subject]
    assert told.to == ["lead@example.org"] and "You are now responsible for the case." in told.body
    html = client_for(agent).get(f"/cases/{case.pk}/").content.decode()
    assert "Escalated to level 1 (Level 1). Deadline internal_first_response passed. Reassigned to Lena Lead." in html
    german = make_user("agent", teams=[setup["team"]], language="de")
    html = client_for(german).get(f"/cases/{case.pk}/").content.decode()
    assert "Neu zugewiesen an Lena Lead." in html


def test_a_breach_hands_the_case_to_the_first_handler(setup, make_user, django_capture_on_commit_callbacks):
    quality = make_user("quality_manager", email="qm@example.org", name="Quirin Quality")
    make_user("quality_manager", email="qm2@example.org")  # the second handler is told, not made responsible
    case = setup["make"]({"handled_by": "quality_manager", "assign_to": "handler"})
    with django_capture_on_commit_callbacks(execute=True):
        clock_services.escalate_due_clocks()
    case.refresh_from_db()
    assert case.responsible_user == quality and case.team == setup["team"]
    assert case.watchers.filter(pk=quality.pk).exists()
    [entry] = escalations(case)
    assert entry.data["reassigned_to"] == quality.pk and entry.data["previous_responsible"] == setup["agent"].pk
    bodies = {m.to[0]: m.body for m in mail.outbox if "escalated" in m.subject}
    assert "You are now responsible" in bodies["qm@example.org"] and "You are now responsible" not in bodies["qm2@example.org"]


def test_by_default_the_responsible_person_stays(setup):
    case = setup["make"]({"handled_by": "team_lead"}, {"handled_by": "quality_manager", "assign_to": ""})
    services.case_escalate(actor=setup["agent"], case=case, reason="Bitte ansehen.")
    services.case_escalate(actor=setup["agent"], case=case, reason="Weiter.")
    case.refresh_from_db()
    assert case.escalation_level == 2 and case.responsible_user == setup["agent"]
    assert all("reassigned_to" not in e.data and "not_reassigned" not in e.data for e in escalations(case))
    assert all("responsible_user" not in e.before for e in AuditEvent.objects.filter(action="case.escalate"))


def test_a_lead_who_does_not_handle_the_level_is_told_they_are_responsible(setup, make_user, django_capture_on_commit_callbacks):
    quality = make_user("quality_manager", email="qm@example.org")
    case = setup["make"]({"handled_by": "quality_manager", "assign_to": "team_lead"})
    with django_capture_on_commit_callbacks(execute=True):
        clock_services.escalate_due_clocks()
    case.refresh_from_db()
    assert case.responsible_user == setup["lead"]
    [entry] = escalations(case)
    assert entry.data["notified"] == [quality.pk, setup["lead"].pk]
    [to_lead] = [m for m in mail.outbox if "escalated" in m.subject and m.to == ["lead@example.org"]]
    assert "and assigned to you" in to_lead.body


def test_nobody_qualifies_and_the_responsible_person_stays(setup, make_user, client_for, team_b):
    no_lead = setup["make"]({"handled_by": "team_lead", "assign_to": "team_lead"}, team=team_b)
    no_handler = setup["make"]({"handled_by": "quality_manager", "assign_to": "handler"})  # nobody holds the role
    clock_services.escalate_due_clocks()
    for case, why in ((no_lead, "no_team_lead"), (no_handler, "no_handler")):
        case.refresh_from_db()
        assert case.escalation_level == 1 and case.responsible_user == setup["agent"]
        [entry] = escalations(case)
        assert entry.data["not_reassigned"] == why and "reassigned_to" not in entry.data
        event = AuditEvent.objects.get(action="case.escalate", object_id=str(case.pk))
        assert "responsible_user" not in event.before and event.after["not_reassigned"] == why
    html = client_for(setup["agent"]).get(f"/cases/{no_lead.pk}/").content.decode()
    assert "Not reassigned: the case's team has no lead who can work on cases." in html


def test_the_responsible_lead_stays_responsible_without_a_reassignment(setup):
    case = setup["make"]({"handled_by": "team_lead", "assign_to": "team_lead"}, responsible_user=None)
    case_lead = setup["make"]({"handled_by": "team_lead", "assign_to": "team_lead"}, responsible_user=setup["lead"])
    clock_services.escalate_due_clocks()
    case.refresh_from_db()
    case_lead.refresh_from_db()
    assert case.responsible_user == setup["lead"]  # nobody was responsible: now the lead is
    [entry] = escalations(case)
    assert entry.data["previous_responsible"] is None and entry.data["previous_responsible_name"] == ""
    [same] = escalations(case_lead)
    assert case_lead.responsible_user == setup["lead"] and "reassigned_to" not in same.data


def test_escalating_by_hand_reassigns_too(setup, monkeypatch, django_capture_on_commit_callbacks):
    from leitplanke.core import events

    seen: list[tuple[str, dict]] = []
    monkeypatch.setattr(events, "_subscribers", [lambda name, payload: seen.append((name, payload))])
    case = setup["make"]({"handled_by": "team_lead", "assign_to": "team_lead"})
    version = case.version
    with django_capture_on_commit_callbacks(execute=True):
        services.case_escalate(actor=setup["agent"], case=case, reason="Kunde droht mit BaFin.", expected_version=version)
    case.refresh_from_db()
    assert case.responsible_user == setup["lead"] and case.version == version + 1
    [entry] = escalations(case)
    assert entry.author == setup["agent"] and entry.data["cause"] == "manual"
    assert entry.data["reassigned_to"] == setup["lead"].pk
    event = AuditEvent.objects.get(action="case.escalate", object_id=str(case.pk))
    assert event.before["responsible_user"] == setup["agent"].pk and event.after["responsible_user"] == setup["lead"].pk
    assigned = [p for n, p in seen if n == "case.assigned"]
    assert [p["responsible_user_id"] for p in assigned] == [setup["lead"].pk]
    assert [m.to for m in mail.outbox if "escalated" in m.subject] == [["lead@example.org"]]


def test_a_steps_escalation_effect_hands_the_case_on_as_the_job_does(setup, django_capture_on_commit_callbacks):
    """The complaint process's "escalate" step raises the level; the level's `assign_to`
    applies as it does for the job and a manual escalation."""
    case = setup["make"]({"handled_by": "team_lead", "assign_to": "team_lead"}, {"handled_by": "quality_manager"})
    lead, agent = setup["lead"], setup["agent"]
    with django_capture_on_commit_callbacks(execute=True):
        services.case_transition(actor=agent, case=case, transition="escalate")
    case.refresh_from_db()
    assert case.escalation_level == 1 and case.responsible_user == lead and case.status == "in_progress"
    [entry] = escalations(case)
    assert entry.data["cause"] == "transition" and entry.data["transition"] == "escalate"
    assert entry.data["reassigned_to"] == lead.pk and entry.data["previous_responsible"] == agent.pk
    transition = AuditEvent.objects.get(action="case.transition", object_id=str(case.pk))
    assert transition.before["escalation_level"] == 0 and transition.after["escalation_level"] == 1
    assert [m.to for m in mail.outbox if "escalated" in m.subject] == [["lead@example.org"]]


def test_a_steps_escalation_effect_at_the_top_level_changes_nothing_more(setup):
    case = setup["make"]({"handled_by": "team_lead", "assign_to": "team_lead"})
    services.case_transition(actor=setup["agent"], case=case, transition="escalate")
    case.refresh_from_db()
    services.case_transition(actor=case.responsible_user, case=case, transition="escalate")
    case.refresh_from_db()
    assert case.escalation_level == 1 and len(escalations(case)) == 1
