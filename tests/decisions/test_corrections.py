"""Corrections of decision records: the service (who, which records, measured like a new
decision, a reason always), the API operation and the case page's form."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from leitplanke.cases.models import Case, Interaction
from leitplanke.core.errors import NotFound, PermissionDenied, ValidationFailed
from leitplanke.core.models import AuditEvent
from leitplanke.decisions import approval_services, record_services
from leitplanke.decisions.models import DecisionRecord

pytestmark = pytest.mark.django_db

GOODWILL = "goodwill_energy_billing"


def decide(actor: Any, case: Any, amount: str = "45.00", disputed: int = 300) -> DecisionRecord:
    return record_services.decision_record(
        actor=actor, case=case, table_key=GOODWILL, context={"disputed_amount": disputed},
        kind="goodwill", amount=amount, currency="EUR", action="goodwill_credit",
    )  # fmt: skip


def correct(actor: Any, record: Any, amount: str = "60.00", **overrides: Any) -> DecisionRecord:
    values: dict[str, Any] = {
        "kind": "goodwill",
        "amount": amount,
        "currency": "EUR",
        "action": "goodwill_credit",
        "message_to_customer": "Korrektur: Wir schreiben Ihnen 60 Euro gut.",
        "justification": "Den Betrag aus der falschen Zeile übernommen.",
    }
    values.update(overrides)
    return record_services.decision_correct(actor=actor, record=record, **values)


# --- the service ------------------------------------------------------------------------------


def test_a_correction_without_a_table_keeps_the_old_snapshot_and_range(tables: Any, complaint: Any, agent: Any) -> None:
    first = decide(agent, complaint)
    second = correct(agent, first)
    first.refresh_from_db()
    assert first.status == "superseded" and first.amount == Decimal("45.00")
    assert second.record_kind == "correction" and second.refers_to_id == first.pk and second.status == "final"
    assert second.table_id == first.table_id and second.inputs == first.inputs
    assert (second.recommended_min, second.recommended_max) == (Decimal("30.00"), Decimal("75.00"))
    assert not second.deviates
    complaint.refresh_from_db()
    assert complaint.goodwill_amount == Decimal("60.00")
    entry = Interaction.objects.get(case=complaint, data__event="decision", data__record_kind="correction")
    assert entry.subject == "Goodwill 60.00 EUR corrected (within authority)"
    assert AuditEvent.objects.filter(action="decision.correction", object_id=str(second.pk)).exists()
    outside = correct(agent, second, amount="90.00")
    assert outside.deviates and outside.status == "final"


def test_a_correction_always_says_why(tables: Any, complaint: Any, agent: Any) -> None:
    first = decide(agent, complaint)
    for reason in ("", "   "):
        with pytest.raises(record_services.JustificationRequired) as refused:
            correct(agent, first, justification=reason)
        assert "justification" in refused.value.field_errors
    first.refresh_from_db()
    assert first.status == "final" and DecisionRecord.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("justification", "a\x00b"), ("message_to_customer", "\ud800"), ("action", "x" * 101), ("amount", "1.234")],
)
def test_bad_values_are_field_errors(tables: Any, complaint: Any, agent: Any, field: str, value: str) -> None:
    first = decide(agent, complaint)
    with pytest.raises(ValidationFailed) as refused:
        correct(agent, first, **{field: value})
    assert field in refused.value.field_errors
    assert DecisionRecord.objects.count() == 1


def test_beyond_authority_the_correction_waits_for_approval(tables: Any, complaint: Any, agent: Any, lead: Any) -> None:
    first = decide(agent, complaint)
    second = correct(agent, first, amount="150.00", justification="Zwei Abrechnungen betroffen.")
    assert second.status == "pending" and second.deviates
    assert second.approval.reasons == ["above_authority"] and second.approval.approver_id == lead.pk
    complaint.refresh_from_db()
    assert complaint.goodwill_amount is None  # the old amount no longer counts, the new one not yet


def test_what_the_table_asked_for_holds_for_a_correction(
    tables: Any, complaint: Any, agent: Any, lead: Any, make_case: Any, team: Any, customer: Any
) -> None:
    for _ in range(2):  # the third complaint in 12 months: the table asks for approval
        make_case(team=team, customer=customer)
    first = decide(agent, complaint, amount="40", disputed=200)
    approval_services.approval_decide(actor=lead, approval=first.approval, action="approve")
    first.refresh_from_db()
    second = correct(agent, first, amount="45.00")  # within the agent's authority
    assert second.status == "pending" and second.approval.reasons == ["table_requires"]


def test_who_may_correct(tables: Any, complaint: Any, agent: Any, lead: Any, make_user: Any, team: Any, other_team: Any) -> None:
    first = decide(agent, complaint)
    with pytest.raises(PermissionDenied):
        correct(make_user("agent", teams=[team]), first)
    with pytest.raises(NotFound):
        correct(make_user("agent", teams=[other_team]), first)
    with pytest.raises(PermissionDenied):
        correct(make_user("auditor"), first)
    by_lead = correct(lead, first, amount="50.00")
    assert by_lead.decided_by_id == lead.pk and by_lead.status == "final"


def test_pending_superseded_reversed_and_closed_are_refused(tables: Any, complaint: Any, agent: Any, lead: Any) -> None:
    pending = decide(agent, complaint, amount="150", disputed=1000)
    with pytest.raises(record_services.RecordNotCurrent):
        correct(agent, pending)
    final = decide(agent, complaint)
    correct(agent, final)
    with pytest.raises(record_services.RecordNotCurrent):
        correct(agent, final)
    other = decide(agent, complaint)
    record_services.decision_reverse(actor=lead, record=other, justification="Nein.")
    with pytest.raises(record_services.RecordNotCurrent):
        correct(agent, other)
    last = decide(agent, complaint)
    Case.objects.filter(pk=complaint.pk).update(status_kind="closed")
    with pytest.raises(record_services.CaseClosed):
        correct(agent, last)
    last.refresh_from_db()
    assert last.status == "final"


# --- the API ----------------------------------------------------------------------------------


def post(client: Any, url: str, body: dict[str, Any], **headers: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


BODY = {
    "kind": "goodwill",
    "amount": "60.00",
    "currency": "EUR",
    "action": "goodwill_credit",
    "justification": "Falscher Betrag übernommen.",
}


def test_api_correction_and_its_refusals(
    tables: Any, complaint: Any, agent: Any, lead: Any, make_user: Any, team: Any, other_team: Any, api_client_for: Any
) -> None:
    first = decide(agent, complaint)
    url = f"/api/v1/cases/{complaint.pk}/decisions/{first.pk}/correction"
    assert post(api_client_for(make_user("agent", teams=[team])), url, BODY).status_code == 403
    assert post(api_client_for(make_user("agent", teams=[other_team])), url, BODY).status_code == 404
    client = api_client_for(agent)
    missing = post(client, url, {**BODY, "justification": ""})
    assert missing.status_code == 422 and missing.json()["errors"][0]["pointer"] == "/justification"
    blank = post(client, url, {**BODY, "justification": "  "})
    assert blank.status_code == 422 and blank.json()["code"] == "justification_required"
    mismatch = post(client, url, {**BODY, "currency": "USD"})
    assert mismatch.status_code == 422 and mismatch.json()["code"] == "currency_mismatch"
    done = post(client, url, BODY)
    assert done.status_code == 201, done.content
    data = done.json()
    assert data["record_kind"] == "correction" and data["refers_to"] == first.pk and data["status"] == "final"
    assert data["table"]["key"] == GOODWILL and data["recommended_min"] == "30.00"
    again = post(client, url, BODY)  # a retry without Idempotency-Key never corrects twice
    assert again.status_code == 409 and again.json()["code"] == "decision_not_current"
    listed = {item["id"]: item for item in client.get(f"/api/v1/cases/{complaint.pk}/decisions").json()}
    assert listed[first.pk]["status"] == "superseded" and listed[first.pk]["followed_by"] == [data["id"]]
    # A lead corrects the correction beyond the agent's authority but within their own.
    by_lead = post(api_client_for(lead), f"/api/v1/cases/{complaint.pk}/decisions/{data['id']}/correction", BODY)
    assert by_lead.status_code == 201 and by_lead.json()["decided_by"]["id"] == lead.pk


def test_api_correction_with_idempotency_key_replays(tables: Any, complaint: Any, agent: Any, api_client_for: Any) -> None:
    first = decide(agent, complaint)
    url = f"/api/v1/cases/{complaint.pk}/decisions/{first.pk}/correction"
    client = api_client_for(agent)
    one = post(client, url, BODY, **{"Idempotency-Key": "corr-1"})
    two = post(client, url, BODY, **{"Idempotency-Key": "corr-1"})
    assert one.status_code == two.status_code == 201
    assert two.headers.get("Idempotent-Replayed") == "true" and one.json()["id"] == two.json()["id"]
    assert DecisionRecord.objects.filter(record_kind="correction").count() == 1


def test_api_correction_pending_closed_and_approval(
    tables: Any, complaint: Any, agent: Any, lead: Any, api_client_for: Any
) -> None:
    client = api_client_for(agent)
    pending = decide(agent, complaint, amount="150", disputed=1000)
    refused = post(client, f"/api/v1/cases/{complaint.pk}/decisions/{pending.pk}/correction", BODY)
    assert refused.status_code == 409 and refused.json()["code"] == "decision_not_current"
    final = decide(agent, complaint)
    above = post(client, f"/api/v1/cases/{complaint.pk}/decisions/{final.pk}/correction", {**BODY, "amount": "150.00"})
    assert above.status_code == 201 and above.json()["status"] == "pending"
    assert above.json()["approval"]["reasons"] == ["above_authority"]
    last = decide(agent, complaint)
    Case.objects.filter(pk=complaint.pk).update(status_kind="closed")
    closed = post(client, f"/api/v1/cases/{complaint.pk}/decisions/{last.pk}/correction", BODY)
    assert closed.status_code == 409 and closed.json()["code"] == "case_closed"


# --- the case page ----------------------------------------------------------------------------


def test_the_form_is_offered_to_the_decider_and_the_lead_only(
    tables: Any, complaint: Any, agent: Any, lead: Any, make_user: Any, team: Any, client_for: Any
) -> None:
    record = decide(agent, complaint)
    panel = f"/cases/{complaint.pk}/decisions/"
    page = client_for(agent).get(panel).content.decode()
    assert "Correct this decision" in page and f'id="id_correct{record.pk}_amount"' in page
    assert 'value="45.00"' in page and "goodwill_credit" in page  # prefilled from the record
    assert "Correct this decision" in client_for(lead).get(panel).content.decode()
    colleague = client_for(make_user("agent", teams=[team]))
    assert "Correct this decision" not in colleague.get(panel).content.decode()
    url = f"/cases/{complaint.pk}/decisions/{record.pk}/correction/"
    assert colleague.post(url, {**BODY, "amount": "60"}).status_code == 403
    Case.objects.filter(pk=complaint.pk).update(status_kind="closed")
    assert "Correct this decision" not in client_for(agent).get(panel).content.decode()


def test_a_refused_correction_keeps_what_was_typed(tables: Any, complaint: Any, agent: Any, client_for: Any) -> None:
    record = decide(agent, complaint)
    client = client_for(agent)
    url = f"/cases/{complaint.pk}/decisions/{record.pk}/correction/"
    data = {**BODY, "amount": "61.50", "justification": "", "message_to_customer": "Neu <b>fett</b>"}
    refused = client.post(url, data, HTTP_HX_REQUEST="true")
    body = refused.content.decode()
    assert refused.status_code == 422
    assert "The correction was not saved:" in body and 'class="form-errors' in body
    assert f'href="#id_correct{record.pk}_justification"' in body
    assert 'value="61.50"' in body and "Neu &lt;b&gt;fett&lt;/b&gt;" in body
    assert '<details class="correct-decision" open>' in body
    assert DecisionRecord.objects.count() == 1
    agent.language = "de"
    agent.save()
    german = client_for(agent).post(url, data, HTTP_ACCEPT_LANGUAGE="de", HTTP_HX_REQUEST="true").content.decode()
    assert "Die Korrektur wurde nicht gespeichert:" in german and "Begründung" in german


def test_a_correction_on_the_page(tables: Any, complaint: Any, agent: Any, client_for: Any) -> None:
    record = decide(agent, complaint)
    client = client_for(agent)
    url = f"/cases/{complaint.pk}/decisions/{record.pk}/correction/"
    done = client.post(url, BODY)
    assert done.status_code == 302
    record.refresh_from_db()
    assert record.status == "superseded"
    correction = DecisionRecord.objects.get(record_kind="correction")
    assert correction.amount == Decimal("60.00") and correction.justification == BODY["justification"]
    page = client.get(f"/cases/{complaint.pk}/decisions/").content.decode()
    assert "The decision is corrected; the correction is final." in page
    # The old record is corrected now: a second correction of it is refused in words (409).
    again = client.post(url, BODY, HTTP_HX_REQUEST="true")
    assert again.status_code == 409
    assert "already corrected or reversed" in again.content.decode()
    assert DecisionRecord.objects.filter(record_kind="correction").count() == 1
    above = client.post(
        f"/cases/{complaint.pk}/decisions/{correction.pk}/correction/", {**BODY, "amount": "150"}, HTTP_HX_REQUEST="true"
    )
    assert above.status_code == 200 and "the correction awaits approval" in above.content.decode()
