"""Issue 19 item 12, the API parts: input is taken as the OpenAPI document describes it.

Ids and every other integer are integers (not `true`, not `2.0`), booleans are booleans,
dates are ISO text; every input schema refuses unknown fields; the transition note has one
limit in the document and the service; every error response is documented as a problem
document under `application/problem+json`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from leitplanke.accounts.models import Team, User
from leitplanke.cases import services as case_services
from leitplanke.cases.models import Case
from leitplanke.customers import services
from leitplanke.customers.models import ConsentRecord, Customer, Product

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
BASE = "/api/v1"


def send(client: Client, method: str, url: str, data: Any, **headers: str) -> Any:
    return getattr(client, method)(url, json.dumps(data), content_type="application/json", headers=headers)


def refused(response: Any, pointer: str) -> dict[str, Any]:
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert pointer in {error["pointer"] for error in body.get("errors", [])}, body
    return body


@pytest.fixture
def team(db: Any) -> Team:
    return Team.objects.create(name="Strict team")


@pytest.fixture
def admin(make_user: Callable[..., User], team: Team) -> User:
    return make_user("administrator", teams=[team])


@pytest.fixture
def client(admin: User, api_client_for: Callable[..., Client]) -> Client:
    return api_client_for(admin)


@pytest.fixture
def survivor(admin: User) -> Customer:
    return services.customer_create(actor=admin, last_name="Mustermann", first_name="Erika")


@pytest.fixture
def duplicate(admin: User) -> Customer:
    return services.customer_create(actor=admin, last_name="Mustermann", first_name="E.")


@pytest.fixture
def case(admin: User, team: Team) -> Case:
    return case_services.case_create(actor=admin, case_type="complaint", subject="Strict", channel="phone", team=team)


# --- integers: ids and numbers ---------------------------------------------------------------


@pytest.mark.parametrize("value", [True, False, 1.0, "1"])
def test_a_merge_takes_no_boolean_float_or_text_as_the_duplicate_id(
    client: Client, survivor: Customer, duplicate: Customer, value: Any
) -> None:
    """`{"duplicate_id": true}` was read as id 1 and merged customer 1."""
    response = send(client, "post", f"{BASE}/customers/{survivor.pk}/merge", {"duplicate_id": value})
    refused(response, "/duplicate_id")
    assert Customer.objects.filter(is_active=True).count() == 2


def test_a_merge_with_an_integer_id_still_merges(client: Client, survivor: Customer, duplicate: Customer) -> None:
    response = send(client, "post", f"{BASE}/customers/{survivor.pk}/merge", {"duplicate_id": duplicate.pk})
    assert response.status_code == 200, response.content
    assert response.json()["duplicate_id"] == duplicate.pk


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("customer_id", True),
        ("team_id", 1.0),
        ("parent_id", False),
        ("priority", True),
        ("priority", 2.0),
        ("customer_id", 2**64),
        ("customer_id", 0),
        ("received_at", 0),
    ],
)
def test_a_new_case_takes_integers_only_as_integers(client: Client, team: Team, field: str, value: Any) -> None:
    before = Case.objects.count()
    body = {"case_type": "complaint", "subject": "Strict", "channel": "phone", field: value}
    refused(send(client, "post", f"{BASE}/cases", body), f"/{field}")
    assert Case.objects.count() == before


def test_a_case_change_takes_no_boolean_as_an_id(client: Client, case: Case) -> None:
    response = send(client, "patch", f"{BASE}/cases/{case.pk}", {"responsible_user_id": True}, **{"If-Match": 'W/"1"'})
    refused(response, "/responsible_user_id")


def test_a_contract_takes_no_boolean_as_product_id(client: Client, survivor: Customer, admin: User) -> None:
    services.product_create(actor=admin, code="p1", name_de="P", name_en="P")
    refused(
        send(client, "post", f"{BASE}/customers/{survivor.pk}/contracts", {"product_id": True, "contract_number": "V-1"}),
        "/product_id",
    )


@pytest.mark.parametrize("value", ["yes", 1, "true", None])
def test_booleans_are_booleans(client: Client, survivor: Customer, value: Any) -> None:
    refused(
        send(client, "post", f"{BASE}/customers/{survivor.pk}/consents", {"purpose": "marketing", "granted": value}), "/granted"
    )
    assert not ConsentRecord.objects.filter(customer=survivor).exists()
    refused(send(client, "post", f"{BASE}/products", {"code": "x", "name_de": "x", "name_en": "x", "is_active": 0}), "/is_active")
    assert not Product.objects.filter(code="x").exists()


@pytest.mark.parametrize("value", [0, 20260101, "20260101", "2026-W01-1"])
def test_dates_are_iso_text(client: Client, survivor: Customer, value: Any) -> None:
    refused(send(client, "post", f"{BASE}/customers", {"last_name": "Datum", "customer_since": value}), "/customer_since")
    assert not Customer.objects.filter(last_name="Datum").exists()


def test_a_date_filter_is_iso_text(client: Client) -> None:
    """`received_to=0` was read as 1 January 1970."""
    response = client.get(f"{BASE}/cases", {"received_to": "0"})
    refused(response, "/received_to")
    assert client.get(f"{BASE}/cases", {"received_to": "2026-03-01"}).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/customers/99999999999999999999",
        "/customers/0",
        "/products/99999999999999999999",
        "/users/99999999999999999999",
        "/customers/1/contracts/99999999999999999999/end",
    ],
)
def test_ids_in_the_path_beyond_the_database_are_refused(client: Client, url: str) -> None:
    method = client.post if url.endswith("/end") else client.get
    response = method(f"{BASE}{url}", content_type="application/json")
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == PROBLEM


@pytest.mark.parametrize("key", ["99999999999999999999", "²", "١٢", "0"])
def test_a_case_key_that_is_no_id_or_reference_is_not_found(client: Client, key: str) -> None:
    """A number beyond the database overflowed (500); `"²".isdigit()` is true but int() fails."""
    response = client.get(f"{BASE}/cases/{key}")
    assert response.status_code == 404, response.content
    assert response["Content-Type"] == PROBLEM


# --- unknown fields ----------------------------------------------------------------------------


def test_a_customer_change_refuses_unknown_fields(client: Client, survivor: Customer) -> None:
    """PATCH on customers ignored unknown fields silently; other schemas refused them."""
    response = send(
        client, "patch", f"{BASE}/customers/{survivor.pk}", {"last_name": "Neu", "nick_name": "Eri"}, **{"If-Match": 'W/"1"'}
    )
    refused(response, "/nick_name")
    survivor.refresh_from_db()
    assert survivor.last_name == "Mustermann"


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/customers", {"last_name": "X", "unknown": 1}),
        ("/products", {"code": "y", "name_de": "y", "name_en": "y", "unknown": 1}),
        ("/customers/{customer}/merge", {"duplicate_id": 999, "unknown": 1}),
        ("/customers", {"last_name": "X", "phones": [{"number": "0221 123456", "extension": "12"}]}),
    ],
)
def test_every_input_schema_refuses_unknown_fields(client: Client, survivor: Customer, url: str, body: Any) -> None:
    response = send(client, "post", BASE + url.format(customer=survivor.pk), body)
    assert response.status_code == 422, response.content
    assert Customer.objects.count() == 1


def test_every_request_body_schema_forbids_additional_properties(client: Client) -> None:
    schema = client.get(f"{BASE}/openapi.json").json()
    components = schema["components"]["schemas"]

    def check(ref_or_schema: dict[str, Any], seen: set[str]) -> None:
        ref = ref_or_schema.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            if name in seen:
                return
            seen.add(name)
            target = components[name]
            if target.get("type") == "object":
                assert target.get("additionalProperties") is False, name
            for prop in target.get("properties", {}).values():
                check(prop, seen)
        for key in ("anyOf", "oneOf", "allOf"):
            for item in ref_or_schema.get(key, []):
                check(item, seen)
        if "items" in ref_or_schema:
            check(ref_or_schema["items"], seen)

    bodies = 0
    for path_item in schema["paths"].values():
        for operation in path_item.values():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                bodies += 1
                check(content["application/json"]["schema"], set())
    assert bodies >= 10


# --- the transition note -----------------------------------------------------------------------


def test_the_transition_note_has_one_limit(client: Client, case: Case) -> None:
    """Documented as 10,000 characters, refused above 2,000."""
    schema = client.get(f"{BASE}/openapi.json").json()
    documented = schema["components"]["schemas"]["TransitionIn"]["properties"]["note"]["maxLength"]
    assert documented == case_services.TEXT_MAX == 2000
    url = f"{BASE}/cases/{case.pk}/transitions"
    refused(send(client, "post", url, {"transition": "start", "note": "x" * (documented + 1)}), "/note")
    accepted = send(client, "post", url, {"transition": "start", "note": "x" * documented})
    assert accepted.status_code == 200, accepted.content


# --- error responses in the document ------------------------------------------------------------


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_every_error_response_is_documented_as_a_problem_document(client: Client) -> None:
    """Errors were answered as application/problem+json but documented as application/json."""
    schema = client.get(f"{BASE}/openapi.json").json()
    operations = _operations(schema)
    assert len(operations) >= 30
    for path, method, operation in operations:
        responses = operation["responses"]
        for status, response in responses.items():
            if 400 <= int(status) < 500:
                assert set(response.get("content", {})) == {PROBLEM}, (method, path, status)
                assert response["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
        codes = {int(status) for status in responses}
        assert 422 in codes, (method, path)
        if operation.get("security"):
            assert {401, 403} <= codes, (method, path)
        if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
            assert 404 in codes, (method, path)
        if "application/json" in operation.get("requestBody", {}).get("content", {}):
            assert 400 in codes, (method, path)


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("patch", "/cases/{case_id}", {400, 401, 403, 404, 409, 412, 415, 422, 428}),
        ("patch", "/customers/{customer_id}", {400, 401, 403, 404, 412, 422, 428}),
        ("post", "/cases/{case_id}/attachments", {401, 403, 404, 413, 415, 422}),
        ("post", "/cases", {400, 401, 403, 409, 415, 422}),
        ("post", "/inbound/email", {401, 403, 413, 415, 422}),
    ],
)
def test_operations_document_the_errors_they_answer(client: Client, method: str, path: str, statuses: set[int]) -> None:
    schema = client.get(f"{BASE}/openapi.json").json()
    responses = schema["paths"][BASE + path][method]["responses"]
    assert statuses <= {int(status) for status in responses}


def test_if_match_is_documented_as_required_where_it_is(client: Client) -> None:
    schema = client.get(f"{BASE}/openapi.json").json()
    for path, method, operation in _operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["name"] == "If-Match":
                assert parameter.get("required", False) is (method == "patch"), (method, path)


def test_page_sizes_are_documented_with_their_bounds(client: Client) -> None:
    """`limit=409` was refused although the document allowed any integer."""
    schema = client.get(f"{BASE}/openapi.json").json()
    for path in ("/customers", "/products"):
        (limit,) = [p for p in schema["paths"][BASE + path]["get"]["parameters"] if p["name"] == "limit"]
        assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 200)


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/cases?q=a&q=b", "/q"),
        ("/customers?limit=5&limit=6", "/limit"),
        ("/cases?ordering=received_at&ordering=-received_at", "/ordering"),
    ],
)
def test_a_single_valued_query_parameter_sent_twice_is_refused(client: Client, url: str, parameter: str) -> None:
    """`?q=a&q=b` searched for `b` only (found by the fuzzing suite)."""
    refused(client.get(BASE + url), parameter)


def test_list_parameters_and_custom_field_filters_may_repeat(client: Client) -> None:
    assert client.get(f"{BASE}/cases?status=new&status=in_progress&tag=a&tag=b").status_code == 200
