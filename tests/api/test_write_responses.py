"""Issue 19 item 7, the remainder: every API write builds its response inside the change's
transaction. A response that cannot be built rolls the change back, so a 500 never hides a
change that was stored (a client would retry and act twice)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from leitplanke.accounts.models import Team, User
from leitplanke.api.routers import customers as customers_router
from leitplanke.core.models import AuditEvent
from leitplanke.customers import services
from leitplanke.customers.models import ConsentRecord, Contract, Customer, Product

pytestmark = pytest.mark.django_db


def broken(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("serialisation failed")


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user("administrator", teams=[Team.objects.create(name="Write team")])


@pytest.fixture
def api(admin: User, api_client_for: Callable[..., Client]) -> Client:
    client = api_client_for(admin)
    client.raise_request_exception = False
    return client


@pytest.fixture
def customer(admin: User) -> Customer:
    return services.customer_create(actor=admin, last_name="Mustermann", first_name="Erika")


@pytest.fixture
def product(admin: User) -> Product:
    return services.product_create(actor=admin, code="strom", name_de="Strom", name_en="Power", sector="energy")


def state() -> dict[str, Any]:
    return {
        "customers": list(Customer.objects.order_by("pk").values_list("pk", "last_name", "version")),
        "contracts": list(Contract.objects.order_by("pk").values_list("pk", "status", "ends_on")),
        "consents": ConsentRecord.objects.count(),
        "products": Product.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def send(client: Client, method: str, url: str, data: Any, **headers: str) -> Any:
    return getattr(client, method)(url, json.dumps(data), content_type="application/json", headers=headers)


WRITES = [
    ("_customer_response", "post", "/api/v1/customers", {"last_name": "Neu"}, 201),
    ("_customer_response", "patch", "/api/v1/customers/{customer}", {"last_name": "Anders"}, 200),
    ("_body", "post", "/api/v1/customers/{customer}/contracts", {"product_id": "{product}", "contract_number": "V-1"}, 201),
    ("_body", "post", "/api/v1/customers/{customer}/consents", {"purpose": "marketing", "granted": True}, 201),
    ("_body", "post", "/api/v1/products", {"code": "gas", "name_de": "Gas", "name_en": "Gas"}, 201),
]


@pytest.mark.parametrize(("builder", "method", "url", "body", "status"), WRITES)
def test_a_write_whose_response_cannot_be_built_stores_nothing(
    api: Client,
    customer: Customer,
    product: Product,
    monkeypatch: pytest.MonkeyPatch,
    builder: str,
    method: str,
    url: str,
    body: dict[str, Any],
    status: int,
) -> None:
    url = url.format(customer=customer.pk)
    body = {key: (product.pk if value == "{product}" else value) for key, value in body.items()}
    before = state()
    real = getattr(customers_router, builder)
    monkeypatch.setattr(customers_router, builder, broken)
    assert send(api, method, url, body, **{"If-Match": 'W/"1"'}).status_code == 500
    assert state() == before  # the 500 tells the truth: nothing was stored
    monkeypatch.setattr(customers_router, builder, real)
    assert send(api, method, url, body, **{"If-Match": 'W/"1"'}).status_code == status  # the retry acts once


def test_ending_a_contract_whose_response_fails_leaves_it_running(
    api: Client, admin: User, customer: Customer, product: Product, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract = services.contract_create(actor=admin, customer=customer, product=product, contract_number="V-2")
    before = state()
    monkeypatch.setattr(customers_router, "_body", broken)
    url = f"/api/v1/customers/{customer.pk}/contracts/{contract.pk}/end"
    assert send(api, "post", url, {}).status_code == 500
    assert state() == before
    contract.refresh_from_db()
    assert contract.status == "active"


def test_a_merge_whose_response_fails_merges_nothing(
    api: Client, admin: User, customer: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    duplicate = services.customer_create(actor=admin, last_name="Mustermann", first_name="E.")
    before = state()
    monkeypatch.setattr(customers_router, "_json", broken)
    response = send(api, "post", f"/api/v1/customers/{customer.pk}/merge", {"duplicate_id": duplicate.pk})
    assert response.status_code == 500
    assert state() == before
    duplicate.refresh_from_db()
    assert duplicate.is_active and duplicate.merged_into_id is None
