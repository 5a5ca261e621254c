"""The customers API: CRUD, problem details, cursor paging, ETag/If-Match, sensitivity."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from leitplanke.accounts.models import User
from leitplanke.core.models import AuditEvent
from leitplanke.customers import services
from leitplanke.customers.models import Customer

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
BASE = "/api/v1"


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["code"] == code and body["title"]
    return body


def post(client: Client, url: str, data: Any) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json")


def patch(client: Client, url: str, data: Any, **headers: str) -> Any:
    return client.patch(url, json.dumps(data), content_type="application/json", headers=headers)


def test_openapi_documents_the_customer_endpoints(client: Client) -> None:
    schema = client.get(f"{BASE}/openapi.json").json()
    assert {
        f"{BASE}/customers",
        f"{BASE}/customers/{{customer_id}}",
        f"{BASE}/customers/{{customer_id}}/contracts",
        f"{BASE}/customers/{{customer_id}}/merge",
        f"{BASE}/products",
        f"{BASE}/products/{{product_id}}",
    } <= set(schema["paths"])
    assert schema["components"]["schemas"]["CustomerIn"]["properties"]["last_name"]["examples"] == ["Mustermann"]


def test_create_get_and_list(api_client_for: Callable[..., Client], agent: User) -> None:
    client = api_client_for(agent)
    response = post(
        client,
        f"{BASE}/customers",
        {
            "kind": "person",
            "first_name": "Erika",
            "last_name": "Mustermann",
            "emails": ["Erika@Example.org"],
            "phones": [{"number": "0221 123456", "kind": "landline"}, "0171 2345678"],
            "value_amount": "99.5",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["display_name"] == "Mustermann, Erika"
    assert body["emails"] == ["erika@example.org"]
    assert body["phones"][0] == {"number": "+49221123456", "kind": "landline", "is_primary": True}
    assert body["value_amount"] == "99.50"
    assert body["is_vulnerable"] is None and body["vulnerability_reason"] is None
    assert response["ETag"] == 'W/"1"'
    assert response["Location"] == f"{BASE}/customers/{body['id']}"
    detail = client.get(f"{BASE}/customers/{body['id']}")
    assert detail.status_code == 200 and detail["ETag"] == 'W/"1"'
    listed = client.get(f"{BASE}/customers", {"q": "muster"}).json()
    assert [c["id"] for c in listed["items"]] == [body["id"]] and listed["next_cursor"] is None
    for params in (
        {"email": "ERIKA@example.org"},
        {"phone": "+49 221 123456"},
        {"customer_number": body["customer_number"].lower()},
    ):
        assert [c["id"] for c in client.get(f"{BASE}/customers", params).json()["items"]] == [body["id"]], params


def test_create_validation_is_a_422_problem(api_client_for: Callable[..., Client], agent: User) -> None:
    client = api_client_for(agent)
    body = assert_problem(post(client, f"{BASE}/customers", {"kind": "person", "phones": ["12"]}), 422, "validation_error")
    pointers = {e["pointer"] for e in body["errors"]}
    assert {"/last_name", "/phones"} <= pointers
    assert_problem(post(client, f"{BASE}/customers", {"kind": "alien"}), 422, "validation_error")


def test_cursor_paging(api_client_for: Callable[..., Client], agent: User, make_customer: Callable[..., Any]) -> None:
    for i in range(7):
        make_customer(last_name=f"Name{i}")
    client = api_client_for(agent, ("read",))
    page1 = client.get(f"{BASE}/customers", {"limit": 5}).json()
    page2 = client.get(f"{BASE}/customers", {"limit": 5, "cursor": page1["next_cursor"]}).json()
    assert len(page1["items"]) == 5 and len(page2["items"]) == 2 and page2["next_cursor"] is None
    names = [c["last_name"] for c in page1["items"] + page2["items"]]
    assert names == [f"Name{i}" for i in range(7)]
    assert_problem(client.get(f"{BASE}/customers", {"limit": 201}), 422, "validation_error")
    assert_problem(client.get(f"{BASE}/customers", {"cursor": "junk"}), 422, "invalid_cursor")


def test_patch_requires_if_match(api_client_for: Callable[..., Client], agent: User, make_customer: Callable[..., Any]) -> None:
    customer = make_customer(city="Köln")
    client = api_client_for(agent)
    url = f"{BASE}/customers/{customer.pk}"
    assert_problem(patch(client, url, {"city": "Bonn"}), 428, "precondition_required")
    response = patch(client, url, {"city": "Bonn", "emails": ["new@example.org"]}, **{"If-Match": 'W/"1"'})
    assert response.status_code == 200, response.content
    assert response["ETag"] == 'W/"2"'
    assert response.json()["city"] == "Bonn" and response.json()["emails"] == ["new@example.org"]
    assert_problem(patch(client, url, {"city": "Aachen"}, **{"If-Match": 'W/"1"'}), 412, "precondition_failed")
    assert Customer.objects.get().city == "Bonn"
    assert_problem(patch(client, url, {"phones": ["nonsense"]}, **{"If-Match": "*"}), 422, "validation_error")
    assert_problem(patch(client, url, {"last_name": None}, **{"If-Match": "*"}), 422, "validation_error")


def test_auth_and_permission_problems(
    api_client_for: Callable[..., Client], agent: User, outsider: User, make_customer: Callable[..., Any], client: Client
) -> None:
    customer = make_customer()
    assert_problem(client.get(f"{BASE}/customers"), 401, "not_authenticated")
    assert_problem(Client(headers={"Authorization": "Bearer lpk_wrong"}).get(f"{BASE}/customers"), 401, "not_authenticated")
    assert_problem(api_client_for(outsider, ("read",)).get(f"{BASE}/customers"), 403, "permission_denied")
    read_only = api_client_for(agent, ("read",))
    assert_problem(post(read_only, f"{BASE}/customers", {"last_name": "X"}), 403, "permission_denied")
    assert_problem(api_client_for(agent).get(f"{BASE}/customers/{customer.pk + 100}"), 404, "not_found")
    assert_problem(api_client_for(agent).get(f"{BASE}/products/999"), 404, "not_found")


def test_vulnerability_in_the_api(
    api_client_for: Callable[..., Client], agent: User, lead: User, make_customer: Callable[..., Any]
) -> None:
    customer = make_customer(is_vulnerable=True, vulnerability_reason="Bereavement")
    url = f"{BASE}/customers/{customer.pk}"
    agent_client, lead_client = api_client_for(agent), api_client_for(lead)
    body = agent_client.get(url).json()
    assert body["is_vulnerable"] is None and body["vulnerability_reason"] is None
    assert "Bereavement" not in agent_client.get(f"{BASE}/customers").content.decode()
    assert_problem(agent_client.get(url, {"include_vulnerability_reason": "true"}), 403, "permission_denied")
    assert_problem(patch(agent_client, url, {"is_vulnerable": False}, **{"If-Match": "*"}), 403, "permission_denied")
    body = lead_client.get(url).json()
    assert body["is_vulnerable"] is True and body["vulnerability_reason"] is None
    assert not AuditEvent.objects.filter(action="customer.vulnerability_view").exists()
    body = lead_client.get(url, {"include_vulnerability_reason": "true"}).json()
    assert body["vulnerability_reason"] == "Bereavement"
    assert AuditEvent.objects.filter(action="customer.vulnerability_view", actor=lead).count() == 1


def test_contracts_and_merge(
    api_client_for: Callable[..., Client],
    agent: User,
    lead: User,
    quality: User,
    make_customer: Callable[..., Any],
    product: Any,
    make_case: Callable[..., Any],
) -> None:
    survivor, duplicate = make_customer(), make_customer(emails=["dup@example.org"])
    services.contract_create(actor=lead, customer=duplicate, product=product, contract_number="V-9")
    make_case(duplicate)
    contracts = api_client_for(agent).get(f"{BASE}/customers/{duplicate.pk}/contracts").json()
    assert contracts[0]["contract_number"] == "V-9" and contracts[0]["product"]["code"] == "strom-basis"
    merge = {"duplicate_customer_number": duplicate.customer_number}
    assert_problem(post(api_client_for(agent), f"{BASE}/customers/{survivor.pk}/merge", merge), 403, "permission_denied")
    client = api_client_for(quality)
    response = post(client, f"{BASE}/customers/{survivor.pk}/merge", merge)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["moved"] == {"emails": 1, "phones": 0, "consents": 0, "contracts": 1, "cases": 1}
    assert body["survivor"]["emails"] == ["dup@example.org"]
    assert_problem(post(client, f"{BASE}/customers/{survivor.pk}/merge", {"duplicate_id": survivor.pk}), 422, "validation_error")
    assert_problem(post(client, f"{BASE}/customers/{survivor.pk}/merge", {}), 422, "validation_error")
    assert client.get(f"{BASE}/customers/{survivor.pk}/contracts").json()[0]["contract_number"] == "V-9"


def test_merge_through_the_api_tells_only_about_visible_cases(
    api_client_for: Callable[..., Client],
    agent: User,
    team_merger: User,
    make_customer: Callable[..., Any],
    make_case: Callable[..., Any],
) -> None:
    """The reported attack: an agent merged another team's customer into their own and
    learnt how many cases it has. Agents may not merge any more; a merger who sees only
    their team's cases is told only about those."""
    survivor, duplicate = make_customer(), make_customer()
    make_case(duplicate)  # another team's case
    url = f"{BASE}/customers/{survivor.pk}/merge"
    assert_problem(post(api_client_for(agent), url, {"duplicate_id": duplicate.pk}), 403, "permission_denied")
    assert duplicate.cases.count() == 1
    response = post(api_client_for(team_merger), url, {"duplicate_id": duplicate.pk})
    assert response.status_code == 200, response.content
    assert response.json()["moved"]["cases"] == 0
    assert survivor.cases.count() == 1
