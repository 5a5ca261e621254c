"""Decision records on cases: recommendation snapshot, refusals with nothing saved,
immutability, corrections, reversals (with the decider told), authority → final or pending."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core import mail

from leitplanke.cases.models import Interaction
from leitplanke.core.errors import NotFound, PermissionDenied, ValidationFailed
from leitplanke.core.models import AuditEvent
from leitplanke.decisions import record_selectors, record_services
from leitplanke.decisions.models import DecisionRecord

pytestmark = pytest.mark.django_db

GOODWILL = "goodwill_energy_billing"


def decide(actor: Any, case: Any, **overrides: Any) -> DecisionRecord:
    values: dict[str, Any] = {
        "table_key": GOODWILL,
        "context": {"disputed_amount": 300},
        "kind": "goodwill",
        "amount": "45.00",
        "currency": "EUR",
        "action": "goodwill_credit",
        "message_to_customer": "Wir schreiben Ihnen 45 Euro gut.",
    }
    values.update(overrides)
    return record_services.decision_record(actor=actor, case=case, **values)


def test_recommendation_reads_case_customer_and_context(tables: Any, complaint: Any) -> None:
    recommendation = record_selectors.recommend(tables[0], complaint, {"disputed_amount": "300"})
    assert recommendation.amount == Decimal("45.00")
    assert (recommendation.minimum, recommendation.maximum) == (Decimal("30.00"), Decimal("75.00"))
    assert recommendation.matched[0]["id"] == "loyal"
    assert recommendation.inputs["years_as_customer"] == 12
    assert recommendation.inputs["complaints_12m"] == 1
    assert recommendation.inputs["case"]["type"] == "complaint"
    assert "Long customer relationship" in recommendation.rationale("en")
    assert not DecisionRecord.objects.exists()  # evaluated, nothing saved


def test_context_fields_are_read_from_the_table(tables: Any) -> None:
    goodwill = {f.name: f for f in record_selectors.context_fields(tables[0])}
    assert list(goodwill) == ["disputed_amount"] and goodwill["disputed_amount"].type == "number"
    card = {f.name: f for f in record_selectors.context_fields(tables[1])}
    assert card["fee_type"].type == "choice" and "late_payment" in card["fee_type"].choices
    assert card["bank_error"].type == "boolean"
    assert card["fee_amount"].type == "number"


def test_card_fee_share_gives_an_amount_and_redress(tables: Any, complaint: Any) -> None:
    recommendation = record_selectors.recommend(
        tables[1], complaint, {"fee_type": "annual_fee", "bank_error": True, "fee_amount": "12.50"}
    )
    assert recommendation.amount == Decimal("12.50") and recommendation.kind == "redress"


def test_decision_within_range_and_authority_is_final(tables: Any, complaint: Any, agent: Any) -> None:
    record = decide(agent, complaint)
    assert record.status == "final" and not record.deviates
    assert record.recommended_min == Decimal("30.00") and record.recommended_max == Decimal("75.00")
    assert record.matched_rules[0]["id"] == "loyal"
    assert record.inputs["disputed_amount"] == 300
    assert record.team_id == complaint.team_id
    complaint.refresh_from_db()
    assert complaint.goodwill_amount == Decimal("45.00") and complaint.redress_amount is None
    entry = Interaction.objects.get(case=complaint, data__event="decision")
    assert entry.subject == "Goodwill 45.00 EUR decided (within authority)"
    assert AuditEvent.objects.filter(action="decision.decision", object_id=str(record.pk)).exists()


def test_a_final_decision_writes_the_rows_it_names_in_one_statement_on_postgresql(
    tables: Any, complaint: Any, agent: Any
) -> None:
    """Issue 21: on PostgreSQL a new final decision's record, the case's amounts, its timeline
    entry and its audit events are one statement, the record's id handed to the rows that name
    it (`_write_final`); on SQLite one statement per table. Either way the rows are the same,
    the domain event names the stored record, and the audit chain seals and verifies."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from leitplanke.core import events
    from leitplanke.core.audit import audit_seal_all, audit_verify

    announced: list[dict[str, Any]] = []
    events.subscribe(handler := lambda name, payload: announced.append(payload))
    try:
        version = complaint.version
        with CaptureQueriesContext(connection) as queries:
            record = decide(agent, complaint)
        with CaptureQueriesContext(connection) as nothing_paid:
            none = decide(agent, complaint, table_key=None, context={}, kind="none", amount="0", action="")
    finally:
        events._subscribers.remove(handler)
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(("INSERT", "UPDATE", "WITH"))]
    assert len(writes) == (1 if connection.vendor == "postgresql" else 4), writes
    writes = [q["sql"] for q in nothing_paid.captured_queries if q["sql"].startswith(("INSERT", "UPDATE", "WITH"))]
    assert len(writes) == (1 if connection.vendor == "postgresql" else 4), writes
    assert [p["decision_id"] for p in announced] == [record.pk, none.pk]
    assert DecisionRecord.objects.get(pk=record.pk).status == "final" and none.status == "final"
    entries = Interaction.objects.filter(case=complaint, data__event="decision").order_by("pk")
    assert [e.data for e in entries] == [
        {
            "event": "decision",
            "decision_id": r.pk,
            "record_kind": "decision",
            "refers_to": None,
            "kind": r.kind,
            "amount": str(r.amount),
            "currency": "EUR",
            "status": "final",
            "deviates": False,
            "table": GOODWILL if r.table_id else "",
        }
        for r in (record, none)
    ]
    decision_events = AuditEvent.objects.filter(action="decision.decision").order_by("pk")
    assert [(e.object_type, e.object_id) for e in decision_events] == [
        ("decisions.decisionrecord", str(record.pk)),
        ("decisions.decisionrecord", str(none.pk)),
    ]
    amounts = AuditEvent.objects.get(action="case.decision_amounts")  # the 0 changed no amount
    assert (amounts.object_type, amounts.object_id) == ("cases.case", str(complaint.pk))
    assert amounts.after == {"redress_amount": None, "goodwill_amount": "45.00", "version": version + 1}
    assert decision_events[0].pk < amounts.pk < decision_events[1].pk  # the order they were made
    stored = type(complaint).objects.get(pk=complaint.pk)
    assert (stored.goodwill_amount, stored.redress_amount, stored.version) == (Decimal("45.00"), None, version + 1)
    assert stored.last_activity_at == none.decided_at  # the second decision wrote only its time
    audit_seal_all()
    report = audit_verify()
    assert not report.problems, report.problems


def test_outside_range_without_justification_saves_nothing(tables: Any, complaint: Any, agent: Any) -> None:
    with pytest.raises(record_services.JustificationRequired) as refused:
        decide(agent, complaint, amount="120")
    assert refused.value.code == "justification_required"
    assert "justification" in refused.value.field_errors
    assert not DecisionRecord.objects.exists()
    assert not Interaction.objects.filter(case=complaint, data__event="decision").exists()
    record = decide(agent, complaint, amount="120", justification="Customer was without power for three days.")
    assert record.deviates and record.justification.startswith("Customer")


def test_other_kind_than_recommended_is_a_deviation(tables: Any, complaint: Any, agent: Any) -> None:
    context = {"fee_type": "annual_fee", "bank_error": True, "fee_amount": "12.50"}
    with pytest.raises(record_services.JustificationRequired):
        decide(agent, complaint, table_key="card_fee_refund", context=context, kind="goodwill", amount="12.50")
    record = decide(agent, complaint, table_key="card_fee_refund", context=context, kind="redress", amount="12.50")
    complaint.refresh_from_db()
    assert complaint.redress_amount == Decimal("12.50") and complaint.goodwill_amount is None
    assert not record.deviates


def test_wrong_currency_is_refused(tables: Any, complaint: Any, agent: Any) -> None:
    with pytest.raises(record_services.CurrencyMismatch) as refused:
        decide(agent, complaint, currency="USD")
    assert refused.value.code == "currency_mismatch"
    assert not DecisionRecord.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "-1"),
        ("amount", "1.234"),
        ("amount", "NaN"),
        ("amount", "1e30"),
        ("kind", "bonus"),
        ("currency", "euro"),
        ("action", "x" * 101),
        ("message_to_customer", "a\x00b"),
        ("justification", "x" * 5001),
    ],
)
def test_bad_values_are_field_errors(tables: Any, complaint: Any, agent: Any, field: str, value: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        decide(agent, complaint, **{field: value})
    assert field in refused.value.field_errors
    assert not DecisionRecord.objects.exists()


@pytest.mark.parametrize(
    "context",
    [{"disputed_amount": "abc"}, {"disputed_amount": None}, {"other": 1, "disputed_amount": 1}, ["x"], {"disputed_amount": -5}],
)
def test_bad_context_is_refused(tables: Any, complaint: Any, agent: Any, context: Any) -> None:
    with pytest.raises(ValidationFailed) as refused:
        decide(agent, complaint, context=context)
    assert any(name.startswith("context") for name in refused.value.field_errors)


def test_unknown_table_is_a_field_error(tables: Any, complaint: Any, agent: Any) -> None:
    with pytest.raises(ValidationFailed) as refused:
        decide(agent, complaint, table_key="routing")
    assert "table_key" in refused.value.field_errors


def test_invisible_case_is_not_found_and_read_only_is_refused(
    tables: Any, complaint: Any, make_user: Any, other_team: Any
) -> None:
    stranger = make_user("agent", teams=[other_team])
    with pytest.raises(NotFound):
        decide(stranger, complaint)
    with pytest.raises(PermissionDenied):
        decide(make_user("auditor"), complaint)
    assert not DecisionRecord.objects.exists()


def test_correction_supersedes_and_keeps_the_old_record(tables: Any, complaint: Any, agent: Any) -> None:
    first = decide(agent, complaint)
    second = record_services.decision_correct(
        actor=agent,
        record=first,
        table_key=GOODWILL,
        context={"disputed_amount": 300},
        kind="goodwill",
        amount="60",
        currency="EUR",
        action="goodwill_credit",
        message_to_customer="Korrektur: 60 Euro.",
        justification="Betrag falsch übernommen.",
    )
    first.refresh_from_db()
    assert first.status == "superseded" and first.amount == Decimal("45.00")
    assert second.record_kind == "correction" and second.refers_to_id == first.pk
    complaint.refresh_from_db()
    assert complaint.goodwill_amount == Decimal("60.00")
    with pytest.raises(record_services.RecordNotCurrent):
        record_services.decision_correct(actor=agent, record=first, kind="goodwill", amount="1", currency="EUR")


def test_someone_else_may_not_correct(tables: Any, complaint: Any, agent: Any, make_user: Any, team: Any) -> None:
    first = decide(agent, complaint)
    colleague = make_user("agent", teams=[team])
    with pytest.raises(PermissionDenied):
        record_services.decision_correct(actor=colleague, record=first, kind="goodwill", amount="1", currency="EUR")


def test_lead_reverses_with_justification_and_the_agent_is_told(
    tables: Any, complaint: Any, agent: Any, lead: Any, django_capture_on_commit_callbacks: Any
) -> None:
    first = decide(agent, complaint)
    with pytest.raises(record_services.JustificationRequired):
        record_services.decision_reverse(actor=lead, record=first, justification="  ")
    with django_capture_on_commit_callbacks(execute=True):
        reversal = record_services.decision_reverse(
            actor=lead, record=first, justification="The bill was correct; we explain it instead."
        )
    first.refresh_from_db()
    assert first.status == "reversed"
    assert reversal.record_kind == "reversal" and reversal.kind == "none" and reversal.status == "final"
    complaint.refresh_from_db()
    assert complaint.goodwill_amount is None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [agent.email]
    assert "The bill was correct" in mail.outbox[0].body
    entry = Interaction.objects.get(case=complaint, data__event="decision", data__record_kind="reversal")
    assert entry.body_text == "The bill was correct; we explain it instead."
    with pytest.raises(record_services.NotReversible):
        record_services.decision_reverse(actor=lead, record=first, justification="again")


def test_only_leads_of_the_team_reverse(
    tables: Any, complaint: Any, agent: Any, make_user: Any, team: Any, other_team: Any
) -> None:
    first = decide(agent, complaint)
    for actor in (make_user("agent", teams=[team]), make_user("team_lead", teams=[other_team])):
        with pytest.raises((PermissionDenied, NotFound)):
            record_services.decision_reverse(actor=actor, record=first, justification="no")
    with pytest.raises(PermissionDenied):
        record_services.decision_reverse(actor=agent, record=first, justification="own")
    quality = make_user("quality_manager")
    assert record_services.decision_reverse(actor=quality, record=first, justification="QA review").status == "final"


def test_records_are_listed_for_visible_cases_only(tables: Any, complaint: Any, agent: Any, make_user: Any) -> None:
    decide(agent, complaint)
    assert record_selectors.case_decisions(actor=agent, case=complaint).count() == 1
    with pytest.raises(NotFound):
        record_selectors.case_decisions(actor=make_user("agent"), case=complaint)


def test_above_authority_waits_for_the_lead_and_fills_the_case_on_approval(
    tables: Any, complaint: Any, agent: Any, lead: Any
) -> None:
    from leitplanke.decisions import approval_services

    record = decide(agent, complaint, context={"disputed_amount": 1000}, amount="150")
    assert record.status == "pending" and not record.deviates
    assert record.authority["covered"] is False and record.authority["per_decision"] == "100.00"
    approval = record.approval
    assert approval.reasons == ["above_authority"] and approval.approver_id == lead.pk
    complaint.refresh_from_db()
    assert complaint.goodwill_amount is None  # not effective while it waits
    entry = Interaction.objects.get(case=complaint, data__event="decision")
    assert entry.subject == "Goodwill 150.00 EUR decided (awaiting approval)"
    approval_services.approval_decide(actor=lead, approval=approval, action="approve")
    record.refresh_from_db()
    complaint.refresh_from_db()
    assert record.status == "approved" and complaint.goodwill_amount == Decimal("150.00")


def test_table_marked_approval_makes_it_pending_within_authority(
    tables: Any, complaint: Any, agent: Any, make_case: Any, team: Any, customer: Any
) -> None:
    for _ in range(2):  # the third complaint in 12 months: the table asks for approval
        make_case(team=team, customer=customer)
    record = decide(agent, complaint, context={"disputed_amount": 200}, amount="40")
    assert record.matched_rules[0]["id"] == "repeat"
    assert record.status == "pending" and record.approval.reasons == ["table_requires"]


def test_correcting_a_sent_back_decision(tables: Any, complaint: Any, agent: Any, lead: Any) -> None:
    from leitplanke.decisions import approval_services

    record = decide(agent, complaint, context={"disputed_amount": 1000}, amount="150")
    approval_services.approval_decide(actor=lead, approval=record.approval, action="send_back", comment="Zu hoch.")
    record.refresh_from_db()
    assert record.status == "sent_back"
    correction = record_services.decision_correct(
        actor=agent, record=record, table_key=GOODWILL, context={"disputed_amount": 1000},
        kind="goodwill", amount="100", currency="EUR", justification="Auf 100 gesenkt.",
    )  # fmt: skip
    assert correction.status == "final"
    record.refresh_from_db()
    assert record.status == "superseded"


def test_pending_decision_cannot_be_reversed_or_corrected(tables: Any, complaint: Any, agent: Any, lead: Any) -> None:
    record = decide(agent, complaint, context={"disputed_amount": 1000}, amount="150")
    with pytest.raises(record_services.NotReversible):
        record_services.decision_reverse(actor=lead, record=record, justification="no")
    with pytest.raises(record_services.RecordNotCurrent):
        record_services.decision_correct(actor=agent, record=record, kind="goodwill", amount="1", currency="EUR")


def test_reversal_beyond_the_leads_authority_is_refused(tables: Any, complaint: Any, agent: Any, lead: Any) -> None:
    record = decide(agent, complaint)
    with pytest.raises(record_services.ReversalExceedsAuthority):
        record_services.decision_reverse(actor=lead, record=record, justification="more", amount="5000", kind="goodwill")
    record.refresh_from_db()
    assert record.status == "final"


def test_record_content_is_immutable_through_the_services(tables: Any, complaint: Any, agent: Any, lead: Any) -> None:
    first = decide(agent, complaint)
    before = {f.name: getattr(first, f.name) for f in DecisionRecord._meta.concrete_fields if f.name != "status"}
    record_services.decision_reverse(actor=lead, record=first, justification="nein")
    first.refresh_from_db()
    after = {f.name: getattr(first, f.name) for f in DecisionRecord._meta.concrete_fields if f.name != "status"}
    assert before == after and first.status == "reversed"
