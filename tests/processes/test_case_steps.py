"""The case page's steps (unavailable ones with their reason, the closing form) and the
transitions API (reasons; 422 naming the missing field; nothing changed)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from leitplanke.cases import services as case_services
from leitplanke.cases.models import Case
from leitplanke.processes import services
from leitplanke.processes.models import ProcessDefinition

from .test_services import CLOSING, draft_of


@pytest.fixture
def agent_en(make_user: Any, team_a: Any) -> Any:
    return make_user("agent", teams=[team_a], language="en")


@pytest.fixture
def resolved(make_case: Any, agent_en: Any, team_a: Any) -> Case:
    case = make_case(actor=agent_en, team=team_a)
    return case_services.case_transition(actor=agent_en, case=case, transition="resolve")


def restrict_escalation(data: dict) -> None:
    escalate = next(t for t in data["transitions"] if t["key"] == "escalate")
    escalate["roles"] = ["team_lead"]


def test_case_page_shows_unavailable_steps_with_their_reason(
    owner: Any, agent_en: Any, client_for: Any, make_case: Any, team_a: Any
) -> None:
    services.definition_publish(actor=owner, definition=draft_of(owner, restrict_escalation))
    case = make_case(actor=agent_en, team=team_a)
    page = client_for(agent_en).get(f"/cases/{case.pk}/").content.decode()
    assert 'data-transition="escalate"' in page and "only for: team_lead" in page
    assert "disabled" in page.split('data-transition="escalate"')[1].split("</span>")[0]


def test_closing_asks_for_the_closing_fields_and_names_what_is_missing(agent_en: Any, client_for: Any, resolved: Case) -> None:
    client = client_for(agent_en)
    page = client.get(f"/cases/{resolved.pk}/").content.decode()
    assert f"/cases/{resolved.pk}/steps/close/" in page and "requires: Root cause" in page
    # The plain step button leads to the step's page when something is required.
    response = client.post(f"/cases/{resolved.pk}/transition/", {"transition": "close", "version": resolved.version})
    assert response.status_code == 302 and response["Location"] == f"/cases/{resolved.pk}/steps/close/"
    form = client.get(f"/cases/{resolved.pk}/steps/close/").content.decode()
    for name in ("outcome", "root_cause", "resolution_summary", "redress_amount", "goodwill_amount", "currency"):
        assert f'name="{name}"' in form
    response = client.post(
        f"/cases/{resolved.pk}/steps/close/", {"outcome": "upheld", "goodwill_amount": "5", "version": resolved.version}
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "requires: Root cause" in body and "requires: Resolution summary" in body
    assert 'value="5"' in body  # what was typed is kept
    assert Case.objects.get(pk=resolved.pk).status == "resolved"
    response = client.post(f"/cases/{resolved.pk}/steps/close/", {**CLOSING, "goodwill_amount": "5", "version": resolved.version})
    assert response.status_code == 302
    closed = Case.objects.get(pk=resolved.pk)
    assert (closed.status, closed.outcome, str(closed.goodwill_amount)) == ("closed", "partly_upheld", "5.00")
    page = client.get(f"/cases/{resolved.pk}/").content.decode()
    assert "Partly upheld" in page and "Gutschrift erteilt." in page


def test_checklist_items_must_be_confirmed(agent_en: Any, client_for: Any, make_case: Any, team_a: Any) -> None:
    from leitplanke.cases.models import CaseType

    case = make_case(actor=agent_en, team=team_a, case_type=CaseType.objects.get(key="data_protection"))
    case = case_services.case_transition(actor=agent_en, case=case, transition="check_identity")
    client = client_for(agent_en)
    response = client.post(f"/cases/{case.pk}/steps/identity_confirmed/", {"version": case.version})
    assert response.status_code == 422 and "to confirm: Identity of the data subject verified" in response.content.decode()
    response = client.post(
        f"/cases/{case.pk}/steps/identity_confirmed/", {"version": case.version, "checklist_identity_verified": "on"}
    )
    assert response.status_code == 302 and Case.objects.get(pk=case.pk).status == "in_progress"


def test_read_only_roles_get_no_step_page(make_user: Any, client_for: Any, resolved: Case) -> None:
    auditor = make_user("auditor", language="en")
    assert client_for(auditor).get(f"/cases/{resolved.pk}/steps/close/").status_code == 403


# --- API ---------------------------------------------------------------------------------------


def post(client: Any, url: str, data: Any, **headers: str) -> Any:
    return client.post(
        url,
        json.dumps(data),
        content_type="application/json",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
    )


def test_api_lists_reasons_and_names_missing_fields(agent_en: Any, api_client_for: Any, resolved: Case) -> None:
    client = api_client_for(agent_en)
    url = f"/api/v1/cases/{resolved.pk}/transitions"
    offered = {item["key"]: item for item in client.get(url).json()}
    close = offered["close"]
    assert close["available"] is False
    assert close["requires"] == ["outcome", "root_cause", "resolution_summary"]
    first = close["reasons"][0]
    assert (first["code"], first["subject"], first["text_en"], first["text_de"]) == (
        "requires",
        "outcome",
        "requires: Outcome",
        "erfordert: Ergebnis",
    )
    response = post(client, url, {"transition": "close", "fields": {"outcome": "upheld"}})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "transition_requirements_missing"
    assert {e["pointer"] for e in body["errors"]} == {"/fields/root_cause", "/fields/resolution_summary"}
    assert Case.objects.get(pk=resolved.pk).version == resolved.version
    response = post(
        client, url, {"transition": "close", "fields": {**CLOSING, "redress_amount": "12.5"}}, **{"If-Match": 'W/"2"'}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "closed" and body["process"] == {"key": "complaint", "version": 1}
    assert (body["outcome"], body["root_cause"], body["redress_amount"], body["goodwill_amount"]) == (
        "partly_upheld",
        "billing",
        "12.50",
        None,
    )
    assert str(Case.objects.get(pk=resolved.pk).redress_amount) == "12.50"


def test_api_transition_is_idempotent(agent_en: Any, api_client_for: Any, resolved: Case) -> None:
    client = api_client_for(agent_en)
    url = f"/api/v1/cases/{resolved.pk}/transitions"
    first = post(client, url, {"transition": "close", "fields": CLOSING}, **{"Idempotency-Key": "close-1"})
    again = post(client, url, {"transition": "close", "fields": CLOSING}, **{"Idempotency-Key": "close-1"})
    assert first.status_code == again.status_code == 200
    assert first.json()["etag"] == again.json()["etag"]
    assert Case.objects.get(pk=resolved.pk).version == resolved.version + 1


def test_definitions_exist_for_every_shipped_case_type(db: Any) -> None:
    assert set(ProcessDefinition.objects.values_list("key", flat=True)) >= {"complaint", "inquiry", "data_protection"}


def test_case_page_shows_the_escalation_level_with_who_handles_it(
    agent_en: Any, client_for: Any, make_case: Any, team_a: Any
) -> None:
    case = make_case(actor=agent_en, team=team_a)
    case_services.case_transition(actor=agent_en, case=case, transition="escalate")
    page = client_for(agent_en).get(f"/cases/{case.pk}/").content.decode()
    assert 'data-escalation="1">1 · Team lead' in page


def test_a_custom_field_can_be_required_by_a_step(
    owner: Any, agent_en: Any, client_for: Any, api_client_for: Any, make_case: Any, team_a: Any
) -> None:
    from leitplanke.cases.models import CaseType, CustomFieldDefinition

    complaint = CaseType.objects.get(key="complaint")
    CustomFieldDefinition.objects.create(
        case_type=complaint, key="refund_ref", label_de="Erstattungsnummer", label_en="Refund reference", kind="text"
    )

    def require_refund(data: dict) -> None:
        next(t for t in data["transitions"] if t["key"] == "close")["requires"].append("custom.refund_ref")

    services.definition_publish(actor=owner, definition=draft_of(owner, require_refund))
    case = make_case(actor=agent_en, team=team_a)
    case = case_services.case_transition(actor=agent_en, case=case, transition="resolve")
    client = client_for(agent_en)
    form = client.get(f"/cases/{case.pk}/steps/close/").content.decode()
    assert 'name="cf_refund_ref"' in form
    response = client.post(f"/cases/{case.pk}/steps/close/", {**CLOSING, "version": case.version})
    assert response.status_code == 422 and "requires: Refund reference" in response.content.decode()
    api = api_client_for(agent_en)
    url = f"/api/v1/cases/{case.pk}/transitions"
    refused = post(api, url, {"transition": "close", "fields": CLOSING})
    assert [e["pointer"] for e in refused.json()["errors"]] == ["/fields/custom.refund_ref"]
    response = client.post(f"/cases/{case.pk}/steps/close/", {**CLOSING, "cf_refund_ref": "R-77", "version": case.version})
    assert response.status_code == 302
    closed = Case.objects.get(pk=case.pk)
    assert (closed.status, closed.custom_fields["refund_ref"]) == ("closed", "R-77")


def test_effects_cannot_set_custom_fields(owner: Any) -> None:
    from leitplanke.processes import selectors

    def sets_custom(data: dict) -> None:
        next(t for t in data["transitions"] if t["key"] == "close")["effects"] = [
            {"type": "set_field", "field": "custom.x", "value": "1"}
        ]

    draft = draft_of(owner, sets_custom)
    assert ("transitions.close.effects[0].field", "unknown_field") in {
        (p.place, p.code) for p in selectors.problems("complaint", draft.definition)
    }
