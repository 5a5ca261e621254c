"""The approvals API: list, approve / reject / send back with problem codes, my authority."""

from __future__ import annotations

from leitplanke.decisions import approval_services
from leitplanke.decisions.models import ApprovalStatus, RecordStatus

from .conftest import make_record, user_limit


def _pending(setup, amount=250):
    record = make_record(setup["case"], setup["agent"], amount, status=RecordStatus.PENDING)
    return approval_services.approval_request_open(record=record, reasons=["above_authority"], actor=setup["agent"])


def test_list_and_approve(setup, api_client_for):
    first, second = _pending(setup), _pending(setup, amount=300)
    client = api_client_for(setup["lead"])
    body = client.get("/api/v1/approvals?limit=1").json()
    assert [item["id"] for item in body["items"]] == [first.pk]
    assert body["items"][0]["decision"]["amount"] in ("250.00", 250.0, "250")
    following = client.get(f"/api/v1/approvals?limit=1&cursor={body['next_cursor']}").json()
    assert [item["id"] for item in following["items"]] == [second.pk] and following["next_cursor"] is None
    response = client.post(f"/api/v1/approvals/{first.pk}/approve", {}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved" and response.json()["decision"]["status"] == "approved"
    response = client.post(f"/api/v1/approvals/{first.pk}/reject", {"comment": "zu spät"}, content_type="application/json")
    assert response.status_code == 409 and response.json()["code"] == "approval_already_decided"
    assert api_client_for(setup["agent"]).get("/api/v1/approvals").json()["items"] == []


def test_refusals_are_problems_with_codes(setup, api_client_for, make_user):
    approval = _pending(setup)
    lead = api_client_for(setup["lead"])
    response = lead.post(f"/api/v1/approvals/{approval.pk}/send-back", {"comment": ""}, content_type="application/json")
    assert response.status_code == 422 and response.json()["code"] == "comment_required"
    response = lead.post(f"/api/v1/approvals/{approval.pk}/reject", content_type="application/json")
    assert response.status_code == 422 and response.json()["code"] == "comment_required"
    response = api_client_for(setup["agent"]).post(
        f"/api/v1/approvals/{approval.pk}/approve", {}, content_type="application/json"
    )
    assert response.status_code == 404  # the decider does not see it as something to decide
    weak = make_user("team_lead")
    user_limit(weak, 10)
    response = api_client_for(weak).post(f"/api/v1/approvals/{approval.pk}/approve", {}, content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "authority_insufficient"
    response = lead.post("/api/v1/approvals/999999/approve", {}, content_type="application/json")
    assert response.status_code == 404
    response = lead.post(f"/api/v1/approvals/{approval.pk}/reject", {"comment": "x" * 5001}, content_type="application/json")
    assert response.status_code == 422
    reader = api_client_for(setup["lead"], scopes=("read",))
    response = reader.post(f"/api/v1/approvals/{approval.pk}/approve", {}, content_type="application/json")
    assert response.status_code == 403
    response = lead.post(
        f"/api/v1/approvals/{approval.pk}/send-back", {"comment": "Beleg fehlt"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["status"] == ApprovalStatus.SENT_BACK


def test_me_authority(setup, api_client_for):
    body = api_client_for(setup["agent"]).get("/api/v1/me/authority").json()
    assert len(body) == 1
    assert body[0]["kind"] == "goodwill" and body[0]["level"] == "role"
    assert str(body[0]["per_decision"]) in ("100.00", "100.0")
    assert body[0]["sources"][0]["role"] == "agent"
