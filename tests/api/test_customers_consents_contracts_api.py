"""The customers API for consents and contracts: list and record consents, add and end
contracts, with scopes, visibility (404) and problem details pointing at the JSON field."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from leitplanke.accounts.models import Team, User
from leitplanke.core.models import AuditEvent
from leitplanke.customers import services
from leitplanke.customers.models import ConsentRecord, Contract

pytestmark = pytest.mark.django_db

BASE = "/api/v1"
PROBLEM = "application/problem+json"


def post(client: Client, url: str, data: Any = None, language: str = "en") -> Any:
    """Token requests get the language of Accept-Language (the organisation's default without)."""
    body = json.dumps({} if data is None else data)
    return client.post(url, body, content_type="application/json", headers={"Accept-Language": language})


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["code"] == code
    return body


def pointers(body: dict[str, Any]) -> set[str]:
    return {error["pointer"] for error in body.get("errors", [])}


@pytest.fixture
def agent(make_user: Callable[..., User]) -> User:
    return make_user("agent", teams=[Team.objects.create(name="Team API")], name="Anja Api")


@pytest.fixture
def customer(agent: User) -> Any:
    return services.customer_create(actor=agent, last_name="Mustermann", first_name="Erika")


@pytest.fixture
def other_customer(agent: User) -> Any:
    return services.customer_create(actor=agent, last_name="Anders", first_name="Otto")


@pytest.fixture
def product(admin_user: User) -> Any:
    return services.product_create(
        actor=admin_user, code="strom-basis", name_de="Strom Basis", name_en="Electricity Basic", sector="energy"
    )


# --- consents ------------------------------------------------------------------------------


def test_openapi_documents_the_new_endpoints(client: Client) -> None:
    schema = client.get(f"{BASE}/openapi.json").json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths[f"{BASE}/customers/{{customer_id}}/consents"])
    assert {"get", "post"} <= set(paths[f"{BASE}/customers/{{customer_id}}/contracts"])
    assert "post" in paths[f"{BASE}/customers/{{customer_id}}/contracts/{{contract_id}}/end"]
    components = schema["components"]["schemas"]
    assert components["ConsentIn"]["properties"]["purpose"]["enum"] == [
        "processing",
        "contact_email",
        "contact_phone",
        "survey",
        "marketing",
    ]
    assert components["ContractIn"]["properties"]["product_id"]["examples"] == [5]


def test_consent_purposes_match_the_model() -> None:
    from typing import get_args

    from leitplanke.api.routers.customers import ConsentPurposeCode
    from leitplanke.customers.models import ConsentPurpose

    assert list(get_args(ConsentPurposeCode)) == list(ConsentPurpose.values)


def test_record_and_list_consents(api_client_for: Callable[..., Client], agent: User, customer: Any) -> None:
    client = api_client_for(agent)
    url = f"{BASE}/customers/{customer.pk}/consents"
    assert client.get(url).json() == []
    first = post(client, url, {"purpose": "marketing", "granted": True, "source": "web form"})
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["purpose"] == "marketing" and body["granted"] is True and body["source"] == "web form"
    assert body["note"] == "" and body["recorded_by_id"] == agent.pk and body["recorded_at"]
    second = post(client, url, {"purpose": "marketing", "granted": False, "source": "letter", "note": "by post"})
    assert second.status_code == 201
    listed = client.get(url)
    assert listed.status_code == 200
    assert [(c["id"], c["granted"]) for c in listed.json()] == [(second.json()["id"], False), (body["id"], True)]
    assert AuditEvent.objects.filter(action="customer.consent_record", actor=agent).count() == 2


def test_consent_validation_points_at_the_field(api_client_for: Callable[..., Client], agent: User, customer: Any) -> None:
    client = api_client_for(agent)
    url = f"{BASE}/customers/{customer.pk}/consents"
    body = assert_problem(post(client, url, {"purpose": "spam", "granted": True}), 422, "validation_error")
    assert pointers(body) == {"/purpose"}
    body = assert_problem(post(client, url, {"purpose": "survey"}), 422, "validation_error")
    assert pointers(body) == {"/granted"}
    body = assert_problem(post(client, url, {"purpose": "survey", "granted": True, "colour": "red"}), 422, "validation_error")
    assert pointers(body) == {"/colour"}
    body = assert_problem(post(client, url, {"purpose": "survey", "granted": True, "note": "x" * 256}), 422, "validation_error")
    assert pointers(body) == {"/note"}
    assert not ConsentRecord.objects.exists()


def test_consents_need_scopes_and_visibility(
    api_client_for: Callable[..., Client], make_user: Callable[..., User], agent: User, customer: Any
) -> None:
    url = f"{BASE}/customers/{customer.pk}/consents"
    reader = api_client_for(agent, scopes=("read",))
    assert reader.get(url).status_code == 200
    assert_problem(post(reader, url, {"purpose": "survey", "granted": True}), 403, "permission_denied")
    auditor = api_client_for(make_user("auditor"), ("read",))
    assert auditor.get(url).status_code == 200
    assert_problem(post(auditor, url, {"purpose": "survey", "granted": True}), 403, "permission_denied")
    outsider = api_client_for(make_user(None), ("read",))
    assert_problem(outsider.get(url), 403, "permission_denied")
    missing = f"{BASE}/customers/{customer.pk + 999}/consents"
    assert_problem(api_client_for(agent).get(missing), 404, "not_found")
    assert_problem(post(api_client_for(agent), missing, {"purpose": "survey", "granted": True}), 404, "not_found")
    assert not ConsentRecord.objects.exists()


# --- contracts -----------------------------------------------------------------------------


def test_create_contract(api_client_for: Callable[..., Client], agent: User, customer: Any, product: Any) -> None:
    client = api_client_for(agent)
    url = f"{BASE}/customers/{customer.pk}/contracts"
    response = post(client, url, {"product_id": product.pk, "contract_number": "v-2024-7", "starts_on": "2024-01-01"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["contract_number"] == "V-2024-7" and body["status"] == "active"
    assert body["starts_on"] == "2024-01-01" and body["ends_on"] is None
    assert body["product"]["code"] == "strom-basis"
    assert [c["id"] for c in client.get(url).json()] == [body["id"]]
    pending = post(client, url, {"product_id": product.pk, "contract_number": "V-2", "status": "pending"})
    assert pending.status_code == 201 and pending.json()["status"] == "pending"


def test_create_contract_errors_point_at_the_json_field(
    api_client_for: Callable[..., Client], agent: User, admin_user: User, customer: Any, product: Any
) -> None:
    client = api_client_for(agent)
    url = f"{BASE}/customers/{customer.pk}/contracts"
    body = assert_problem(post(client, url, {"product_id": product.pk + 999, "contract_number": "V-1"}), 422, "validation_error")
    assert body["errors"] == [{"pointer": "/product_id", "detail": "This choice does not exist."}]
    services.product_update(actor=admin_user, product=product, is_active=False)
    body = assert_problem(post(client, url, {"product_id": product.pk, "contract_number": "V-1"}), 422, "validation_error")
    assert pointers(body) == {"/product_id"}
    services.product_update(actor=admin_user, product=product, is_active=True)
    bad = {"product_id": product.pk, "contract_number": "V 1!", "starts_on": "2024-02-01", "ends_on": "2024-01-01"}
    body = assert_problem(post(client, url, bad), 422, "validation_error")
    assert pointers(body) == {"/contract_number", "/ends_on"}
    body = assert_problem(
        post(client, url, {"product_id": product.pk, "contract_number": "V-1", "status": "x"}), 422, "validation_error"
    )
    assert pointers(body) == {"/status"}
    body = assert_problem(
        post(client, url, {"product_id": product.pk, "contract_number": "V-1", "extra": 1}), 422, "validation_error"
    )
    assert pointers(body) == {"/extra"}
    body = assert_problem(post(client, url, {"contract_number": "V-1"}), 422, "validation_error")
    assert pointers(body) == {"/product_id"}
    assert post(client, url, {"product_id": product.pk, "contract_number": "V-1"}).status_code == 201
    body = assert_problem(post(client, url, {"product_id": product.pk, "contract_number": "v-1"}), 422, "validation_error")
    assert body["errors"] == [{"pointer": "/contract_number", "detail": "This contract number is taken."}]
    assert Contract.objects.count() == 1


def test_create_contract_needs_write_scope_and_a_visible_customer(
    api_client_for: Callable[..., Client], agent: User, customer: Any, product: Any
) -> None:
    data = {"product_id": product.pk, "contract_number": "V-1"}
    assert_problem(
        post(api_client_for(agent, scopes=("read",)), f"{BASE}/customers/{customer.pk}/contracts", data), 403, "permission_denied"
    )
    assert_problem(post(api_client_for(agent), f"{BASE}/customers/{customer.pk + 999}/contracts", data), 404, "not_found")
    assert not Contract.objects.exists()


def test_end_contract(api_client_for: Callable[..., Client], agent: User, customer: Any, product: Any) -> None:
    contract = services.contract_create(
        actor=agent, customer=customer, product=product, contract_number="V-9", starts_on=dt.date(2024, 1, 1)
    )
    client = api_client_for(agent)
    url = f"{BASE}/customers/{customer.pk}/contracts/{contract.pk}/end"
    response = post(client, url, {"ends_on": "2025-12-31"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"], body["ends_on"]) == (contract.pk, "ended", "2025-12-31")
    assert body["product"]["code"] == "strom-basis"
    event = AuditEvent.objects.get(action="contract.end", actor=agent)
    assert event.before["status"] == "active" and event.after["status"] == "ended"
    body = assert_problem(post(client, url, {"ends_on": "2026-01-31"}), 422, "validation_error")
    assert pointers(body) == {"/status"}
    contract.refresh_from_db()
    assert contract.ends_on == dt.date(2025, 12, 31)


def test_end_contract_defaults_to_today(api_client_for: Callable[..., Client], agent: User, customer: Any, product: Any) -> None:
    client = api_client_for(agent)
    for number, body in (("V-10", "{}"), ("V-11", "")):  # an empty object, or no body at all
        contract = services.contract_create(actor=agent, customer=customer, product=product, contract_number=number)
        url = f"{BASE}/customers/{customer.pk}/contracts/{contract.pk}/end"
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 200, response.content
        assert (response.json()["status"], response.json()["ends_on"]) == ("ended", timezone.localdate().isoformat())


def test_end_contract_errors(
    api_client_for: Callable[..., Client], agent: User, customer: Any, other_customer: Any, product: Any
) -> None:
    contract = services.contract_create(
        actor=agent, customer=customer, product=product, contract_number="V-11", starts_on=dt.date(2024, 6, 1)
    )
    client = api_client_for(agent)
    url = f"{BASE}/customers/{customer.pk}/contracts/{contract.pk}/end"
    body = assert_problem(post(client, url, {"ends_on": "2024-05-31"}), 422, "validation_error")
    assert body["errors"] == [{"pointer": "/ends_on", "detail": "The end cannot be before the start."}]
    body = assert_problem(post(client, url, {"ends_on": "not a date"}), 422, "validation_error")
    assert pointers(body) == {"/ends_on"}
    body = assert_problem(post(client, url, {"ends_on": "2024-07-01", "reason": "moved"}), 422, "validation_error")
    assert pointers(body) == {"/reason"}
    assert_problem(post(api_client_for(agent, scopes=("read",)), url, {}), 403, "permission_denied")
    # The contract exists, but not under this customer: 404, as for a missing one.
    assert_problem(post(client, f"{BASE}/customers/{other_customer.pk}/contracts/{contract.pk}/end", {}), 404, "not_found")
    assert_problem(post(client, f"{BASE}/customers/{customer.pk}/contracts/{contract.pk + 999}/end", {}), 404, "not_found")
    contract.refresh_from_db()
    assert contract.status == "active" and contract.ends_on is None


def test_problem_details_follow_accept_language(
    api_client_for: Callable[..., Client], agent: User, customer: Any, product: Any
) -> None:
    client = api_client_for(agent)
    url = f"{BASE}/customers/{customer.pk}/contracts"
    data = {"product_id": product.pk + 999, "contract_number": "V-1"}
    body = assert_problem(post(client, url, data, language="de"), 422, "validation_error")
    assert body["errors"] == [{"pointer": "/product_id", "detail": "Diese Auswahl gibt es nicht."}]
    contract = services.contract_create(actor=agent, customer=customer, product=product, contract_number="V-2")
    services.contract_end(actor=agent, contract=contract)
    end_url = f"{BASE}/customers/{customer.pk}/contracts/{contract.pk}/end"
    body = assert_problem(post(client, end_url, {}, language="de"), 422, "validation_error")
    assert body["errors"] == [{"pointer": "/status", "detail": "Dieser Vertrag ist bereits beendet."}]
