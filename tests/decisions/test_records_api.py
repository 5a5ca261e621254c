"""The case decisions API: record (with Idempotency-Key), list, reversal; problem codes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from leitplanke.decisions.models import DecisionRecord

pytestmark = pytest.mark.django_db

BODY = {
    "table_key": "goodwill_energy_billing",
    "context": {"disputed_amount": 300},
    "kind": "goodwill",
    "amount": "45.00",
    "currency": "EUR",
    "action": "goodwill_credit",
    "message_to_customer": "Wir schreiben Ihnen 45 Euro gut.",
}


def post(client: Any, url: str, body: dict[str, Any], **headers: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


def test_record_list_and_reverse(tables: Any, complaint: Any, agent: Any, lead: Any, api_client_for: Any) -> None:
    client = api_client_for(agent)
    url = f"/api/v1/cases/{complaint.pk}/decisions"
    response = post(client, url, BODY)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "final" and data["amount"] == "45.00" and data["recommended_min"] == "30.00"
    assert data["matched_rules"][0]["id"] == "loyal" and data["table"]["key"] == "goodwill_energy_billing"
    listed = client.get(url).json()
    assert [item["id"] for item in listed] == [data["id"]]
    # Only a lead reverses, with a justification.
    assert post(client, f"{url}/{data['id']}/reversal", {"justification": "mine"}).status_code == 403
    lead_client = api_client_for(lead)
    assert post(lead_client, f"{url}/{data['id']}/reversal", {"justification": ""}).status_code == 422
    reversed_ = post(lead_client, f"{url}/{data['id']}/reversal", {"justification": "Rechnung war korrekt."})
    assert reversed_.status_code == 201, reversed_.content
    assert reversed_.json()["record_kind"] == "reversal" and reversed_.json()["refers_to"] == data["id"]
    again = post(lead_client, f"{url}/{data['id']}/reversal", {"justification": "again"})
    assert again.status_code == 409 and again.json()["code"] == "decision_not_reversible"
    statuses = {item["id"]: item["status"] for item in client.get(url).json()}
    assert statuses[data["id"]] == "reversed"


def test_problem_codes(tables: Any, complaint: Any, agent: Any, api_client_for: Any) -> None:
    client = api_client_for(agent)
    url = f"/api/v1/cases/{complaint.pk}/decisions"
    response = post(client, url, {**BODY, "amount": "200"})
    assert response.status_code == 422 and response.json()["code"] == "justification_required"
    assert response.json()["errors"][0]["pointer"] == "/justification"
    response = post(client, url, {**BODY, "currency": "USD"})
    assert response.status_code == 422 and response.json()["code"] == "currency_mismatch"
    response = post(client, url, {**BODY, "context": {"disputed_amount": "abc"}})
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "/context/disputed_amount"
    response = post(client, url, {**BODY, "table_key": "nope"})
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "/table_key"
    response = post(client, url, {**BODY, "amount": "1.234"})
    assert response.status_code == 422
    assert not DecisionRecord.objects.exists()


def test_idempotency_key_records_once(tables: Any, complaint: Any, agent: Any, api_client_for: Any) -> None:
    client = api_client_for(agent)
    url = f"/api/v1/cases/{complaint.pk}/decisions"
    first = post(client, url, BODY, **{"Idempotency-Key": "k-1"})
    second = post(client, url, BODY, **{"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert first.json()["id"] == second.json()["id"]
    assert DecisionRecord.objects.count() == 1


def test_read_scope_and_other_teams(tables: Any, complaint: Any, agent: Any, make_user: Any, api_client_for: Any) -> None:
    url = f"/api/v1/cases/{complaint.pk}/decisions"
    assert post(api_client_for(agent, scopes=("read",)), url, BODY).status_code == 403
    assert api_client_for(make_user("agent")).get(url).status_code == 404
    assert post(api_client_for(make_user("auditor")), url, BODY).status_code in (403, 404)


def test_hostile_context_is_refused_never_a_server_error(tables: Any, complaint: Any, agent: Any, api_client_for: Any) -> None:
    from tests.security.payloads import PAYLOADS

    client = api_client_for(agent)
    url = f"/api/v1/cases/{complaint.pk}/decisions"
    for payload in PAYLOADS:
        for context in ({"disputed_amount": payload}, {payload[:60] or "x": 1, "disputed_amount": 1}):
            response = client.post(url, data=json.dumps({**BODY, "context": context}), content_type="application/json")
            assert response.status_code == 422, (payload[:40], response.status_code)
        card = {"fee_type": payload, "bank_error": True, "fee_amount": 5}
        response = client.post(
            url, data=json.dumps({**BODY, "table_key": "card_fee_refund", "context": card}), content_type="application/json"
        )
        assert response.status_code == 422, (payload[:40], response.status_code)
    assert not DecisionRecord.objects.exists()


def test_hostile_context_in_the_panel_is_shown_escaped(tables: Any, complaint: Any, agent: Any, client_for: Any) -> None:
    from leitplanke.core.text import is_storable
    from tests.security.payloads import PAYLOADS
    from tests.security.test_hostile_input import escaped

    client = client_for(agent)
    for payload in PAYLOADS:
        if not is_storable(payload):
            continue  # the middleware answers such query strings with a 400 (tested centrally)
        page = client.get(
            f"/cases/{complaint.pk}/decisions/",
            {"table": "card_fee_refund", "ctx_fee_type": payload, "ctx_fee_amount": payload, "evaluate": "1"},
        )
        assert page.status_code in (200, 400), page.status_code
        assert escaped(payload, page.content.decode()), payload[:40]


def test_pending_decision_answers_with_its_approval(
    tables: Any, complaint: Any, agent: Any, lead: Any, api_client_for: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_client_for(agent)
    url = f"/api/v1/cases/{complaint.pk}/decisions"
    response = post(client, url, {**BODY, "context": {"disputed_amount": 1000}, "amount": "150"})
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "pending" and data["approval"]["approver"]["name"] == "Lena Lead"
    assert data["approval"]["reasons"] == ["above_authority"]
    with CaptureQueriesContext(connection) as final:
        assert post(client, url, BODY).status_code == 201
    with CaptureQueriesContext(connection) as again:
        assert post(client, url, {**BODY, "amount": "46"}).status_code == 201
    assert len(again.captured_queries) == len(final.captured_queries)  # no read-back per record


def test_a_decision_costs_a_constant_handful_of_statements(tables: Any, complaint: Any, agent: Any, api_client_for: Any) -> None:
    """Issue 21 (≥ 200 decisions per second): the reference generation, the locked case with
    what the table reads of it, the customer's year and the case's amounts in one statement,
    the record, the case's amounts, the timeline entry and the audit events (on PostgreSQL a
    final decision writes all four in one statement: `_write_final`) — plus the transaction's
    two statements (savepoints here, inside the test's transaction)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_client_for(agent)
    url = f"/api/v1/cases/{complaint.pk}/decisions"
    assert post(client, url, BODY).status_code == 201  # warm: reference data, the token's first use
    with CaptureQueriesContext(connection) as queries:
        response = post(client, url, BODY)
    assert response.status_code == 201 and response.json()["status"] == "final"
    expected = 6 if connection.vendor == "postgresql" else 9
    assert len(queries.captured_queries) == expected, [q["sql"][:90] for q in queries.captured_queries]
