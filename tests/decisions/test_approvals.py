"""Authority for a decision (selectors) and four-eyes approvals (services): routing, stand-in,
decisions, refusals, reminders, and two approvers at once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from leitplanke.accounts.models import Absence, Skill, UserSkill
from leitplanke.cases.models import Interaction
from leitplanke.core.models import AuditEvent
from leitplanke.decisions import approval_services as services
from leitplanke.decisions.authority_selectors import authority_for, my_authority
from leitplanke.decisions.errors import (
    ApprovalAlreadyDecided,
    AuthorityInsufficient,
    CommentRequired,
    NotApprover,
    SelfApprovalRefused,
)
from leitplanke.decisions.models import ApprovalRequest, ApprovalStatus, DecisionRecord, RecordStatus

from .conftest import make_record, role_limit, user_limit

D = Decimal


def _open(setup, amount=250, decider=None):
    record = make_record(setup["case"], decider or setup["agent"], amount, status=RecordStatus.PENDING)
    approval = services.approval_request_open(record=record, reasons=["above_authority"], actor=decider or setup["agent"])
    return record, approval


# --- authority_for -------------------------------------------------------------------------


def test_authority_counts_the_customers_year(setup):
    agent, case = setup["agent"], setup["case"]
    view = authority_for(user=agent, kind="goodwill", currency="EUR", case_type=case.case_type, customer=case.customer)
    assert (view.per_decision, view.per_customer_year, view.used_this_year) == (D(100), D(300), D(0))
    make_record(case, agent, 90)
    make_record(case, agent, 90, status=RecordStatus.APPROVED)
    make_record(case, agent, 500, status=RecordStatus.REJECTED)  # not given: does not count
    make_record(case, agent, 50, kind="redress")  # another kind
    make_record(case, agent, 60, decided_at=timezone.now() - dt.timedelta(days=366))  # too old
    view = authority_for(user=agent, kind="goodwill", currency="EUR", case_type=case.case_type, customer=case.customer)
    assert view.used_this_year == D(180) and view.remaining == D(120)
    assert view.covers(100) and not view.covers(121)
    assert view.reason_codes(121) == ["over_per_decision", "over_per_customer_year"]
    assert "above your limit of 100.00 EUR per decision" in view.reasons(121)[0]
    assert view.as_dict()["sources"][0]["role"] == "agent"


def test_person_limit_overrides_and_qualification_raises(setup):
    agent, case = setup["agent"], setup["case"]
    user_limit(agent, 40)
    view = authority_for(user=agent, kind="goodwill", currency="EUR", customer=case.customer)
    assert view.per_decision == 40 and view.level == "person" and view.per_customer_year is None
    skill = Skill.objects.create(key="goodwill-expert", name_de="Kulanz", name_en="Goodwill")
    user_limit(agent, 400, skill=skill, min_level=2)
    holding = UserSkill.objects.create(user=agent, skill=skill, level=2, valid_until=timezone.localdate())
    assert authority_for(user=agent, kind="goodwill", currency="eur").per_decision == 400
    holding.valid_until = timezone.localdate() - dt.timedelta(days=1)
    holding.save()
    assert authority_for(user=agent, kind="goodwill", currency="EUR").per_decision == 40


def test_no_row_means_nothing_alone_in_german(setup, make_user):
    german = make_user(None, language="de")
    view = authority_for(user=german, kind="redress", currency="EUR")
    assert view.per_decision == 0 and not view.covers("0.01") and view.covers(0)
    assert "keine Befugnis" in view.reasons(5)[0]


def test_my_authority_lists_every_limit(setup, complaint_type):
    role_limit("agent", 50, kind="redress")
    role_limit("agent", 30, case_type=complaint_type)
    lines = my_authority(setup["agent"])
    summary = [(line.view.kind, line.view.currency, line.case_type_id, line.view.per_decision) for line in lines]
    assert summary == [
        ("goodwill", "EUR", None, D(100)),
        ("goodwill", "EUR", complaint_type.pk, D(30)),
        ("redress", "EUR", None, D(50)),
    ]


# --- opening and routing -------------------------------------------------------------------


def test_open_routes_to_the_team_lead_with_timeline_audit_and_mail(setup, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record, approval = _open(setup)
    assert approval.approver == setup["lead"] and approval.status == ApprovalStatus.PENDING
    assert approval.due_at > approval.requested_at + dt.timedelta(hours=47)
    record.refresh_from_db()
    assert record.status == RecordStatus.PENDING
    entry = Interaction.objects.get(case=setup["case"], data__event="approval_requested")
    assert entry.data["approver"] == setup["lead"].pk
    assert AuditEvent.objects.filter(action="decision.approval_request", object_id=str(approval.pk)).exists()


def test_due_time_skips_the_weekend(db):
    friday = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)
    due = services.due_after(friday)
    assert due.date() == dt.date(2026, 12, 8)  # Friday + 2 business days = Tuesday


def test_routing_skips_an_absent_lead_and_a_lead_without_enough_authority(setup, make_user):
    lead = setup["lead"]
    other_lead = make_user("team_lead")
    Absence.objects.create(user=lead, starts_on=timezone.localdate(), ends_on=timezone.localdate())
    _, approval = _open(setup)
    assert approval.approver == other_lead  # the stand-in
    admin = make_user("administrator")
    role_limit("administrator", 5000)
    _, big = _open(setup, amount=2000)
    assert big.approver == admin  # no lead covers 2,000


def test_the_decider_is_never_the_approver(setup):
    lead = setup["lead"]
    _record, approval = _open(setup, amount=500, decider=lead)
    assert approval.approver is None or approval.approver != lead


def test_nobody_covers_leaves_it_unrouted(setup):
    _, approval = _open(setup, amount=50_000)
    assert approval.approver is None


# --- deciding ------------------------------------------------------------------------------


def test_approve_sets_the_record_status_and_tells_the_decider(setup, django_capture_on_commit_callbacks):
    record, approval = _open(setup)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.approval_decide(actor=setup["lead"], approval=approval, action="approve", comment="")
    record.refresh_from_db()
    approval.refresh_from_db()
    assert record.status == RecordStatus.APPROVED and approval.status == ApprovalStatus.APPROVED
    assert approval.decided_by == setup["lead"]
    assert [m.to for m in mail.outbox] == [[setup["agent"].email]]
    event = AuditEvent.objects.get(action="decision.approval_decide", object_id=str(approval.pk))
    assert event.after["status"] == "approved"


@pytest.mark.parametrize(("action", "status"), [("reject", RecordStatus.REJECTED), ("send_back", RecordStatus.SENT_BACK)])
def test_reject_and_send_back_need_a_comment(setup, action, status):
    record, approval = _open(setup)
    with pytest.raises(CommentRequired):
        services.approval_decide(actor=setup["lead"], approval=approval, action=action, comment="  ")
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING
    services.approval_decide(actor=setup["lead"], approval=approval, action=action, comment="Bitte Beleg anfügen")
    record.refresh_from_db()
    assert record.status == status


def test_refusals(setup, make_user):
    _record, approval = _open(setup)
    with pytest.raises(SelfApprovalRefused):
        services.approval_decide(actor=setup["agent"], approval=approval, action="approve")
    other_agent = make_user("agent")
    with pytest.raises(NotApprover):
        services.approval_decide(actor=other_agent, approval=approval, action="approve")
    weak_lead = make_user("team_lead")
    user_limit(weak_lead, 10)
    with pytest.raises(AuthorityInsufficient):
        services.approval_decide(actor=weak_lead, approval=approval, action="approve")
    services.approval_decide(actor=setup["lead"], approval=approval, action="approve")
    with pytest.raises(ApprovalAlreadyDecided):
        services.approval_decide(actor=setup["lead"], approval=approval, action="reject", comment="zu spät")
    with pytest.raises(services.ValidationFailed):
        services.approval_decide(actor=setup["lead"], approval=approval, action="delete")
    assert ApprovalRequest.objects.get(pk=approval.pk).status == ApprovalStatus.APPROVED


def test_a_lead_standing_in_may_decide(setup, make_user):
    _, approval = _open(setup)
    stand_in = make_user("team_lead")
    services.approval_decide(actor=stand_in, approval=approval, action="approve")
    assert ApprovalRequest.objects.get(pk=approval.pk).decided_by == stand_in


# --- reminders -----------------------------------------------------------------------------


def test_overdue_is_reminded_once(setup, django_capture_on_commit_callbacks):
    _, approval = _open(setup)
    later = approval.due_at + dt.timedelta(minutes=1)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.approvals_remind(now=later) == {"reminded": 1, "rerouted": 0}
        assert services.approvals_remind(now=later + dt.timedelta(minutes=15)) == {"reminded": 0, "rerouted": 0}
    assert [m.to for m in mail.outbox] == [[setup["lead"].email]]
    assert "overdue" in mail.outbox[0].subject.lower()
    # a day later, a second reminder
    assert services.approvals_remind(now=later + dt.timedelta(hours=25))["reminded"] == 1


def test_overdue_with_an_absent_approver_is_rerouted(setup, make_user):
    _, approval = _open(setup)
    stand_in = make_user("team_lead")
    later = approval.due_at + dt.timedelta(minutes=1)
    day = timezone.localdate(later)
    Absence.objects.create(user=setup["lead"], starts_on=day, ends_on=day)
    assert services.approvals_remind(now=later) == {"reminded": 0, "rerouted": 1}
    approval.refresh_from_db()
    assert approval.approver == stand_in and approval.due_at > later
    assert Interaction.objects.filter(data__event="approval_rerouted").count() == 1


# --- two approvers at once -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_once_one_wins(make_user, team, make_case, tmp_path):
    from leitplanke.accounts.models import Team
    from tests.concurrency import in_parallel, shared_database
    from tests.conftest import ensure_default_roles

    ensure_default_roles()
    agent = make_user("agent", teams=[team])
    lead_a, lead_b = make_user("team_lead"), make_user("team_lead")
    Team.objects.filter(pk=team.pk).update(lead=lead_a)
    role_limit("team_lead", 1000)
    case = make_case(actor=agent, team=team)
    record = make_record(case, agent, 250, status=RecordStatus.PENDING)
    approval = services.approval_request_open(record=record, reasons=["above_authority"], actor=agent)

    def work(index: int) -> str:
        from django.db import connection

        try:
            actor = (lead_a, lead_b)[index]
            action, comment = ("approve", "") if index == 0 else ("reject", "Nein")
            services.approval_decide(
                actor=actor, approval=ApprovalRequest.objects.get(pk=approval.pk), action=action, comment=comment
            )
            return "won"
        except ApprovalAlreadyDecided:
            return "lost"
        finally:
            connection.close()

    with shared_database(tmp_path):
        outcomes = in_parallel(work, 2)
        assert sorted(outcomes) == ["lost", "won"]
        final = ApprovalRequest.objects.get(pk=approval.pk)
        record_status = DecisionRecord.objects.get(pk=record.pk).status
        assert final.status in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED)
        assert (
            record_status
            == {ApprovalStatus.APPROVED: RecordStatus.APPROVED, ApprovalStatus.REJECTED: RecordStatus.REJECTED}[final.status]
        )
        assert AuditEvent.objects.filter(action="decision.approval_decide").count() == 1


def test_the_reminder_job_is_registered_with_the_scheduler():
    from leitplanke.core.scheduler import REGISTRY

    assert any(name.endswith("approval_tasks.remind_overdue_approvals") for name in REGISTRY)


@pytest.mark.django_db(transaction=True)
def test_two_workers_remind_exactly_once(make_user, team, make_case, tmp_path):
    from leitplanke.accounts.models import Team
    from tests.concurrency import in_parallel, shared_database
    from tests.conftest import ensure_default_roles

    ensure_default_roles()
    agent, lead = make_user("agent", teams=[team]), make_user("team_lead")
    Team.objects.filter(pk=team.pk).update(lead=lead)
    role_limit("team_lead", 1000)
    case = make_case(actor=agent, team=team)
    approval = services.approval_request_open(
        record=make_record(case, agent, 250, status=RecordStatus.PENDING), reasons=["above_authority"], actor=agent
    )
    later = approval.due_at + dt.timedelta(minutes=1)

    def work(index: int) -> int:
        from django.db import connection

        try:
            return services.approvals_remind(now=later)["reminded"]
        finally:
            connection.close()

    with shared_database(tmp_path):
        assert sum(in_parallel(work, 2)) == 1
        assert AuditEvent.objects.filter(action="decision.approval_remind").count() == 1
