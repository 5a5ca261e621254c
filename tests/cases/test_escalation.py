"""The deadline escalation job: each running clock's warning and breach are handled exactly
once (timeline, audit, e-mail to the responsible person and the team lead), also with two
workers at once and after a worker died mid-run."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from leitplanke.cases import clock_services
from leitplanke.cases.models import CaseClock, Interaction
from leitplanke.core.models import AuditEvent


@pytest.fixture
def setup(make_case, make_user, team_a, complaint_type):
    complaint_type.deadline_rules = ["internal_first_response", "enwg_111a"]
    complaint_type.save()
    lead = make_user("agent", email="lead@example.org", teams=[team_a])
    team_a.lead = lead
    team_a.save()
    agent = make_user("agent", email="agent@example.org", teams=[team_a])
    return {"agent": agent, "lead": lead, "make": lambda **kw: make_case(actor=agent, team=team_a, responsible_user=agent, **kw)}


def entries(case: Any, event: str) -> list[Interaction]:
    return [i for i in Interaction.objects.filter(case=case, kind="system") if i.data.get("event") == event]


def test_warning_and_breach_are_handled_once_each(setup, django_capture_on_commit_callbacks):
    case = setup["make"](received_at=timezone.now() - dt.timedelta(days=10))
    with django_capture_on_commit_callbacks(execute=True):
        handled = clock_services.escalate_due_clocks()
    # the 8-hour first response is past due and past its warning; EnWG (4 weeks) is neither
    assert handled == {"warning": 1, "breach": 1}
    assert len(entries(case, "deadline_warning")) == 1 and len(entries(case, "deadline_breach")) == 1
    assert AuditEvent.objects.filter(action="case.clock_breach").count() == 1
    recipients = sorted(address for message in mail.outbox for address in message.to)
    # the warning to the responsible agent; the breach to the agent and the team lead, who
    # also hears that the case was escalated to level 1, which they handle
    assert recipients == ["agent@example.org", "agent@example.org", "lead@example.org", "lead@example.org"]
    with django_capture_on_commit_callbacks(execute=True):
        assert clock_services.escalate_due_clocks() == {"warning": 0, "breach": 0}
    assert len(mail.outbox) == 4


def test_a_breach_of_a_rule_that_names_the_lead_tells_the_lead_and_makes_them_watch(setup, django_capture_on_commit_callbacks):
    case = setup["make"](received_at=timezone.now() - dt.timedelta(days=40))  # EnWG 4 weeks passed
    with django_capture_on_commit_callbacks(execute=True):
        clock_services.escalate_due_clocks()
    assert any("lead@example.org" in m.to for m in mail.outbox)
    assert case.watchers.filter(pk=setup["lead"].pk).exists()


def test_stopped_and_paused_clocks_are_not_escalated(setup):
    case = setup["make"](received_at=timezone.now() - dt.timedelta(days=10))
    CaseClock.objects.filter(case=case).update(state="met")
    assert clock_services.escalate_due_clocks() == {"warning": 0, "breach": 0}


def test_a_worker_that_dies_mid_run_leaves_the_clock_for_the_next_run(setup, monkeypatch):
    case = setup["make"](received_at=timezone.now() - dt.timedelta(days=10))
    calls = {"n": 0}
    real = clock_services._escalate

    def dying(clock, threshold, now):
        calls["n"] += 1
        if calls["n"] == 1:
            raise SystemExit("killed")  # after the claim, inside its transaction
        return real(clock, threshold, now)

    monkeypatch.setattr(clock_services, "_escalate", dying)
    with pytest.raises(SystemExit):
        clock_services.escalate_due_clocks()
    assert not entries(case, "deadline_warning")
    assert CaseClock.objects.filter(case=case, warned_at__isnull=False).count() == 0  # the claim rolled back
    assert clock_services.escalate_due_clocks() == {"warning": 1, "breach": 1}
    assert len(entries(case, "deadline_warning")) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_handle_each_clock_and_threshold_once(make_case, complaint_type, tmp_path):
    from tests.concurrency import in_parallel, shared_database

    complaint_type.deadline_rules = ["internal_first_response", "internal_resolution"]
    complaint_type.save()
    cases = [make_case(received_at=timezone.now() - dt.timedelta(days=30)) for _ in range(5)]

    def work(index: int) -> dict[str, int]:
        from django.db import connection

        try:
            return clock_services.escalate_due_clocks()
        finally:
            connection.close()

    with shared_database(tmp_path):
        results = in_parallel(work, 2)
        assert sum(r["warning"] for r in results) == 10 and sum(r["breach"] for r in results) == 10
        for case in cases:
            assert len(entries(case, "deadline_warning")) == 2
            assert len(entries(case, "deadline_breach")) == 2


def test_the_timeline_shows_the_escalation(setup, client_for):
    case = setup["make"](received_at=timezone.now() - dt.timedelta(days=10))
    clock_services.escalate_due_clocks()
    html = client_for(setup["agent"]).get(f"/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Deadline passed: internal_first_response is overdue." in html
    assert "Escalated to level 1 (Team lead). Deadline internal_first_response passed." in html


# --- what the process prescribes: the next escalation level ---------------------------------


def test_a_breach_raises_the_case_to_the_next_level_and_tells_its_handlers(setup, django_capture_on_commit_callbacks):
    case = setup["make"](received_at=timezone.now() - dt.timedelta(days=10))  # first response breached
    version = case.version
    with django_capture_on_commit_callbacks(execute=True):
        clock_services.escalate_due_clocks()
    case.refresh_from_db()
    # the complaint process: level 1 is handled by the team lead (the lead of the case's team)
    assert case.escalation_level == 1 and case.version == version + 1
    [entry] = entries(case, "escalated")
    assert entry.data["level"] == 1 and entry.data["cause"] == "deadline_breach"
    assert entry.data["rule"] == "internal_first_response" and entry.data["notified"] == [setup["lead"].pk]
    assert AuditEvent.objects.filter(action="case.escalate", object_id=str(case.pk)).count() == 1
    assert any("escalated to level 1" in m.subject and m.to == ["lead@example.org"] for m in mail.outbox)
    assert case.watchers.filter(pk=setup["lead"].pk).exists()
    # a second run changes nothing; the warning (not in escalate_on) never raised it
    clock_services.escalate_due_clocks()
    case.refresh_from_db()
    assert case.escalation_level == 1 and len(entries(case, "escalated")) == 1


def test_each_breached_clock_raises_one_level_up_to_the_top(setup, make_user):
    quality = make_user("quality_manager", email="qm@example.org")
    case = setup["make"](received_at=timezone.now() - dt.timedelta(days=60))  # both clocks breached
    clock_services.escalate_due_clocks()
    case.refresh_from_db()
    assert case.escalation_level == 2
    levels = sorted(e.data["level"] for e in entries(case, "escalated"))
    assert levels == [1, 2]
    [second] = [e for e in entries(case, "escalated") if e.data["level"] == 2]
    assert second.data["notified"] == [quality.pk]  # the quality manager sees every case
    # at the top: a further breach escalates no further (nothing written)
    clock = CaseClock.objects.filter(case=case).first()
    CaseClock.objects.filter(pk=clock.pk).update(breach_notified_at=None)
    clock_services.escalate_due_clocks()
    case.refresh_from_db()
    assert case.escalation_level == 2 and len(entries(case, "escalated")) == 2


def test_a_definition_may_escalate_on_warning_too(setup, monkeypatch):
    from leitplanke.cases import process as case_process

    real = case_process.process_of

    def with_warning(case):
        running = real(case)
        import dataclasses

        return dataclasses.replace(running, process=dataclasses.replace(running.process, escalate_on=("warning", "breach")))

    monkeypatch.setattr(case_process, "process_of", with_warning)
    case = setup["make"](received_at=timezone.now() - dt.timedelta(days=10))
    clock_services.escalate_due_clocks()
    case.refresh_from_db()
    assert case.escalation_level == 2  # the warning and the breach of the first-response clock
    assert sorted(e.data["cause"] for e in entries(case, "escalated")) == ["deadline_breach", "deadline_warning"]


def test_escalate_on_is_validated():
    from leitplanke.processes import catalogue
    from leitplanke.processes.engine import build
    from leitplanke.processes.engine import validate as engine_validate
    from leitplanke.processes.shipped import SHIPPED

    def validate(definition):
        return engine_validate(definition, catalogue.known_fields([]))

    assert not [p for p in validate({**SHIPPED["complaint"], "escalate_on": ["warning"]}) if p.place == "escalate_on"]
    assert [p for p in validate({**SHIPPED["complaint"], "escalate_on": ["soon"]}) if p.place == "escalate_on"]
    assert build(SHIPPED["complaint"]).escalate_on == ("breach",)
    assert build({**SHIPPED["complaint"], "escalate_on": []}).escalate_on == ()


@pytest.mark.django_db(transaction=True)
def test_two_workers_raise_the_level_once_per_breached_clock(make_case, complaint_type, tmp_path):
    from tests.concurrency import in_parallel, shared_database

    complaint_type.deadline_rules = ["internal_first_response"]
    complaint_type.save()
    cases = [make_case(received_at=timezone.now() - dt.timedelta(days=30)) for _ in range(4)]

    def work(index: int) -> dict[str, int]:
        from django.db import connection

        try:
            return clock_services.escalate_due_clocks()
        finally:
            connection.close()

    with shared_database(tmp_path):
        results = in_parallel(work, 2)
        assert sum(r["breach"] for r in results) == 4
        for case in cases:
            case.refresh_from_db()
            assert case.escalation_level == 1
            assert len(entries(case, "escalated")) == 1
