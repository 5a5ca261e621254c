"""The decision panel on the case page: recommendation without saving, decide, refusals as form
errors that keep the input, reversal by a lead."""

from __future__ import annotations

from typing import Any

import pytest

from leitplanke.decisions.models import DecisionRecord

pytestmark = pytest.mark.django_db


def test_panel_recommends_without_saving(tables: Any, complaint: Any, agent: Any, client_for: Any) -> None:
    client = client_for(agent)
    url = f"/cases/{complaint.pk}/decisions/"
    page = client.get(url)
    assert page.status_code == 200 and "goodwill_energy_billing" in page.content.decode()
    page = client.get(url, {"table": "goodwill_energy_billing"})
    assert 'name="ctx_disputed_amount"' in page.content.decode()
    page = client.get(
        url, {"table": "goodwill_energy_billing", "ctx_disputed_amount": "300", "evaluate": "1"}, HTTP_HX_REQUEST="true"
    )
    body = page.content.decode()
    assert page.status_code == 200
    assert "45.00 EUR" in body and "Long customer relationship" in body and "loyal" in body
    assert 'name="justification"' in body and "30.00 to 75.00" in body
    assert not DecisionRecord.objects.exists()
    bad = client.get(url, {"table": "goodwill_energy_billing", "ctx_disputed_amount": "abc", "evaluate": "1"})
    assert bad.status_code == 200 and "Enter a number" in bad.content.decode()


def test_panel_decides_and_refuses_without_justification(tables: Any, complaint: Any, agent: Any, client_for: Any) -> None:
    client = client_for(agent)
    url = f"/cases/{complaint.pk}/decisions/new/"
    data = {
        "table": "goodwill_energy_billing",
        "ctx_disputed_amount": "300",
        "kind": "goodwill",
        "amount": "150",
        "currency": "EUR",
        "action": "goodwill_credit",
        "message_to_customer": "Gutschrift",
        "justification": "",
    }
    refused = client.post(url, data, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422
    assert "Outside the recommended range" in refused.content.decode()
    assert 'value="150' in refused.content.decode()  # what was typed is kept
    assert not DecisionRecord.objects.exists()
    done = client.post(url, {**data, "amount": "50"}, HTTP_HX_REQUEST="true")
    assert done.status_code == 200
    assert "The decision is final." in done.content.decode()
    assert DecisionRecord.objects.get().status == "final"
    detail = client.get(f"/cases/{complaint.pk}/").content.decode()
    assert "Goodwill 50.00 EUR decided (within authority)" in detail


def test_lead_reverses_on_the_panel(tables: Any, complaint: Any, agent: Any, lead: Any, client_for: Any) -> None:
    from leitplanke.decisions import record_services

    record = record_services.decision_record(
        actor=agent, case=complaint, table_key="goodwill_energy_billing", context={"disputed_amount": 300},
        kind="goodwill", amount="45", currency="EUR",
    )  # fmt: skip
    assert "Reverse this decision" not in client_for(agent).get(f"/cases/{complaint.pk}/decisions/").content.decode()
    lead_client = client_for(lead)
    assert "Reverse this decision" in lead_client.get(f"/cases/{complaint.pk}/decisions/").content.decode()
    url = f"/cases/{complaint.pk}/decisions/{record.pk}/reversal/"
    refused = lead_client.post(url, {"justification": "", "amount": "0"})
    assert refused.status_code == 422
    assert client_for(agent).post(url, {"justification": "x", "amount": "0"}).status_code == 403
    done = lead_client.post(url, {"justification": "Rechnung korrekt.", "amount": "0"})
    assert done.status_code == 302
    page = client_for(agent).get(f"/cases/{complaint.pk}/decisions/").content.decode()
    assert "Reversed by Lena Lead" in page and "Rechnung korrekt." in page
