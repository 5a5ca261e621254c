"""Pages: Settings › Authority limits, My authority, the approvals inbox."""

from __future__ import annotations

from decimal import Decimal

import pytest

from leitplanke.accounts.models import Role
from leitplanke.core.models import AuditEvent
from leitplanke.decisions import approval_services
from leitplanke.decisions.models import ApprovalRequest, ApprovalStatus, AuthorityLimit, RecordStatus

from .conftest import make_record


def _form(**overrides):
    data = {
        "role": Role.objects.get(key="agent").pk,
        "user": "",
        "kind": "goodwill",
        "currency": "EUR",
        "case_type": "",
        "skill": "",
        "min_level": "1",
        "per_decision": "150",
        "per_customer_year": "400",
    }
    data.update(overrides)
    return data


def test_admin_creates_edits_and_deletes_a_limit_with_audit(make_user, client_for):
    admin = make_user("administrator")
    client = client_for(admin)
    assert client.get("/settings/authority/").status_code == 200
    response = client.post("/settings/authority/new/", _form())
    assert response.status_code == 302
    limit = AuthorityLimit.objects.get()
    assert (limit.currency, limit.per_decision, limit.per_customer_year) == ("EUR", Decimal("150.00"), Decimal("400.00"))
    html = client.get("/settings/authority/").content.decode()
    assert "150.00 EUR" in html
    response = client.post(f"/settings/authority/{limit.pk}/", _form(per_decision="200", per_customer_year=""))
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="decision.authority_limit_update")
    assert event.before["per_decision"] == "150.00" and event.after["per_decision"] == "200.00"
    assert event.after["per_customer_year"] is None
    assert client.post(f"/settings/authority/{limit.pk}/delete/").status_code == 302
    assert not AuthorityLimit.objects.exists()
    assert AuditEvent.objects.filter(action="decision.authority_limit_delete", object_id=str(limit.pk)).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"currency": "€€€"}, "currency"),
        ({"currency": "E1"}, "currency"),
        ({"currency": "NaN"}, "currency"),
        ({"per_decision": "-1"}, "per_decision"),
        ({"per_decision": "1e309"}, "per_decision"),
        ({"per_decision": "NaN"}, "per_decision"),
        ({"per_decision": "99999999999999"}, "per_decision"),
        ({"per_customer_year": "10"}, "per_customer_year"),
        ({"role": ""}, "role"),
        ({"kind": "<script>"}, "kind"),
        ({"min_level": "9"}, "min_level"),
        ({"currency": "E\x00R"}, "currency"),
    ],
)
def test_bad_limit_input_is_a_form_error(make_user, client_for, overrides, field):
    admin = make_user("administrator")
    response = client_for(admin).post("/settings/authority/new/", _form(**overrides))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not AuthorityLimit.objects.exists()


def test_role_and_person_together_and_duplicates_are_refused(make_user, client_for):
    admin = make_user("administrator")
    client = client_for(admin)
    response = client.post("/settings/authority/new/", _form(user=admin.pk))
    assert response.status_code == 400 and "Choose either a role or a person." in response.content.decode()
    assert client.post("/settings/authority/new/", _form()).status_code == 302
    response = client.post("/settings/authority/new/", _form(per_decision="10", per_customer_year=""))
    assert response.status_code == 400 and "already a limit" in response.content.decode()


def test_only_administrators_edit_limits(make_user, client_for):
    for role in ("agent", "team_lead", "auditor"):
        client = client_for(make_user(role))
        assert client.get("/settings/authority/").status_code == 403
        assert client.post("/settings/authority/new/", _form()).status_code == 403


def test_my_authority_page(setup, client_for):
    html = client_for(setup["agent"]).get("/decisions/my-authority/").content.decode()
    assert "up to 100.00 EUR per decision" in html and "300.00 EUR per customer per year" in html


def test_my_authority_page_without_limits(make_user, client_for):
    html = client_for(make_user("process_owner")).get("/decisions/my-authority/").content.decode()
    assert "You have no authority limits" in html


def _pending(setup, amount=250):
    record = make_record(
        setup["case"],
        setup["agent"],
        amount,
        status=RecordStatus.PENDING,
        recommended_min=Decimal(20),
        recommended_max=Decimal(60),
    )
    return approval_services.approval_request_open(record=record, reasons=["above_authority"], actor=setup["agent"])


def test_inbox_shows_and_approves(setup, client_for):
    approval = _pending(setup)
    client = client_for(setup["lead"])
    html = client.get("/decisions/approvals/").content.decode()
    assert setup["case"].reference in html and "250.00 EUR" in html and "20.00 – 60.00 EUR" in html
    assert "above the decider&#x27;s authority" in html or "above the decider's authority" in html
    response = client.post(f"/decisions/approvals/{approval.pk}/decide/", {"action": "approve", "comment": ""})
    assert response.status_code == 302
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.APPROVED


def test_inbox_reject_without_comment_is_a_form_error(setup, client_for):
    approval = _pending(setup)
    client = client_for(setup["lead"])
    response = client.post(f"/decisions/approvals/{approval.pk}/decide/", {"action": "reject", "comment": " "})
    assert response.status_code == 400
    assert "needs a reason" in response.content.decode()
    response = client.post(f"/decisions/approvals/{approval.pk}/decide/", {"action": "reject", "comment": "<b>nein</b>\x00"})
    assert response.status_code == 400
    assert ApprovalRequest.objects.get(pk=approval.pk).status == ApprovalStatus.PENDING
    response = client.post(f"/decisions/approvals/{approval.pk}/decide/", {"action": "reject", "comment": "<b>nein</b>"})
    assert response.status_code == 302
    html = client_for(setup["agent"]).get(f"/cases/{setup['case'].pk}/").content.decode()
    assert "<b>nein</b>" not in html
    assert "was rejected." in html and "&lt;b&gt;nein&lt;/b&gt;" in html


def test_inbox_refuses_others(setup, client_for, make_user):
    approval = _pending(setup)
    agent_client = client_for(setup["agent"])
    assert agent_client.get("/decisions/approvals/").status_code == 403
    assert agent_client.post(f"/decisions/approvals/{approval.pk}/decide/", {"action": "approve"}).status_code == 403
    weak = make_user("team_lead")
    from .conftest import user_limit

    user_limit(weak, 10)
    response = client_for(weak).post(f"/decisions/approvals/{approval.pk}/decide/", {"action": "approve"})
    assert response.status_code == 400 and "does not cover" in response.content.decode()


def test_inbox_in_german(setup, client_for, make_user):
    _pending(setup)
    german = setup["lead"]
    german.language = "de"
    german.save()
    html = client_for(german).get("/decisions/approvals/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Freigaben" in html and "Genehmigen" in html


def test_case_panel_shows_the_pending_approval_and_its_outcome(setup, client_for):
    """What decisions/_case_approvals.html was written for (never included; removed): the
    case's decision panel names the approver while the decision waits, then the outcome,
    who decided it and the comment (escaped)."""
    url = f"/cases/{setup['case'].pk}/decisions/"
    client = client_for(setup["agent"])
    approval = _pending(setup)
    html = client.get(url, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Awaiting approval by {setup['lead'].full_name}" in html
    approval_services.approval_decide(actor=setup["lead"], approval=approval, action="reject", comment="<i>Nein</i>")
    html = client.get(url, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Rejected by {setup['lead'].full_name}" in html and "&lt;i&gt;Nein&lt;/i&gt;" in html
