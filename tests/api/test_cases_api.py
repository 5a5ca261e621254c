"""The cases API: list with filters and cursor paging, create, read, change with If-Match,
transitions, timeline, attachments, the catalogue — and 4xx problems for bad input and
missing rights, per role."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leitplanke.accounts.models import Team, User
from leitplanke.accounts.services import team_create
from leitplanke.cases import services
from leitplanke.cases.models import Attachment, Case, CaseType, Category, CustomFieldDefinition, Interaction
from leitplanke.customers.models import Contract, Customer, Product

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["code"] == code
    assert body["title"]
    return body


def pointers(body: dict[str, Any]) -> set[str]:
    return {error["pointer"] for error in body.get("errors", [])}


def post_json(client: Client, url: str, data: Any, **headers: str) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json", headers=headers)


def patch_json(client: Client, url: str, data: Any, **headers: str) -> Any:
    return client.patch(url, json.dumps(data), content_type="application/json", headers=headers)


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def case_types(db: Any) -> dict[str, CaseType]:
    """The default case types (created by a data migration; get_or_create keeps this robust)."""
    names = {
        "complaint": ("Beschwerde", "Complaint", True),
        "inquiry": ("Anfrage", "Inquiry", False),
        "feedback": ("Rückmeldung", "Feedback", False),
        "data_protection": ("Datenschutzanfrage", "Data-protection request", False),
    }
    return {
        key: CaseType.objects.get_or_create(key=key, defaults={"name_de": de, "name_en": en, "is_complaint": c})[0]
        for key, (de, en, c) in names.items()
    }


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture
def team_a(db: Any) -> Team:
    return team_create(actor=None, name="Team A")


@pytest.fixture
def team_b(db: Any) -> Team:
    return team_create(actor=None, name="Team B")


@pytest.fixture
def agent_a(make_user: Callable[..., User], team_a: Team) -> User:
    return make_user("agent", teams=[team_a])


@pytest.fixture
def agent_b(make_user: Callable[..., User], team_b: Team) -> User:
    return make_user("agent", teams=[team_b])


@pytest.fixture
def client_a(agent_a: User, api_client_for: Callable[..., Client]) -> Client:
    return api_client_for(agent_a)


@pytest.fixture
def customer(db: Any) -> Customer:
    return Customer.objects.create(customer_number="K-1001", display_name="Müller, Anna", first_name="Anna", last_name="Müller")


@pytest.fixture
def categories(db: Any) -> dict[str, Category]:
    def node(key: str, parent: Category | None = None) -> Category:
        existing = Category.objects.filter(key=key).first()
        return existing or services.category_create(actor=None, parent=parent, key=key, name_de=key, name_en=key)

    root = node("t-billing")
    return {"root": root, "child": node("t-billing-meter", root), "other": node("t-service")}


def make_case(actor: User | None, team: Team | None, **fields: Any) -> Case:
    fields.setdefault("subject", "Rechnung doppelt abgebucht")
    fields.setdefault("channel", "email")
    return services.case_create(actor=actor, case_type=fields.pop("case_type", "complaint"), team=team, **fields)


# --- create --------------------------------------------------------------------------------


def test_create_a_case(
    client_a: Client, team_a: Team, customer: Customer, categories: dict[str, Category], agent_a: User
) -> None:
    received = (timezone.now() - dt.timedelta(hours=2)).replace(microsecond=0)
    response = post_json(
        client_a,
        "/api/v1/cases",
        {
            "case_type": "complaint",
            "subject": "Zähler falsch abgelesen",
            "description": "Seit März.",
            "channel": "phone",
            "received_at": received.isoformat(),
            "customer_id": customer.pk,
            "category_id": categories["child"].pk,
            "priority": 3,
            "severity": "major",
            "team_id": team_a.pk,
            "responsible_user_id": agent_a.pk,
            "tags": ["billing", "vip"],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get(pk=body["id"])
    assert body["reference"] == case.reference and case.reference.startswith("LP-")
    assert response["Location"] == f"/api/v1/cases/{case.pk}"
    assert response["ETag"] == 'W/"1"' == body["etag"]
    assert body["case_type"]["key"] == "complaint"
    assert body["customer"]["customer_number"] == "K-1001"
    assert body["category"]["id"] == categories["child"].pk
    assert body["team"] == {"id": team_a.pk, "name": "Team A"}
    assert body["responsible_user"]["id"] == agent_a.pk
    assert sorted(body["tags"]) == ["billing", "vip"]
    assert body["status"] == "new" and body["status_kind"] == "open" and body["status_label_en"] == "Received"
    assert dt.datetime.fromisoformat(body["received_at"]) == received
    assert case.created_by == agent_a and case.priority == 3 and case.severity == "major"


def test_create_with_defaults_puts_the_case_into_the_agents_team(client_a: Client, team_a: Team) -> None:
    response = post_json(client_a, "/api/v1/cases", {"case_type": "inquiry", "subject": "Frage", "channel": "email"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["team"]["id"] == team_a.pk and body["priority"] == 2 and body["severity"] == "minor"
    assert client_a.get(response["Location"]).status_code == 200


def test_create_refuses_unknown_references_field_by_field_and_saves_nothing(
    client_a: Client, team_b: Team, agent_b: User
) -> None:
    hidden = make_case(agent_b, team_b)
    before = Case.objects.count()
    response = post_json(
        client_a,
        "/api/v1/cases",
        {
            "case_type": "complaint",
            "subject": "x",
            "channel": "email",
            "customer_id": 999_999,
            "category_id": 999_999,
            "team_id": 999_999,
            "product_id": 999_999,
            "responsible_user_id": 999_999,
            "contract_id": 999_999,
            "parent_id": hidden.pk,
        },
    )
    body = assert_problem(response, 422, "validation_error")
    assert pointers(body) == {
        "/customer_id",
        "/category_id",
        "/team_id",
        "/product_id",
        "/responsible_user_id",
        "/contract_id",
        "/parent_id",
    }
    # The invisible case gets the same message as a missing one: existence is not revealed.
    messages = {error["pointer"]: error["detail"] for error in body["errors"]}
    assert messages["/parent_id"] == messages["/customer_id"]
    assert Case.objects.count() == before


def test_create_with_a_contract_of_another_customer(client_a: Client, customer: Customer) -> None:
    other = Customer.objects.create(customer_number="K-2", display_name="Other")
    product = Product.objects.create(code="strom", name_de="Strom", name_en="Power")
    contract = Contract.objects.create(customer=other, product=product, contract_number="V-1")
    response = post_json(
        client_a,
        "/api/v1/cases",
        {"case_type": "complaint", "subject": "x", "channel": "email", "customer_id": customer.pk, "contract_id": contract.pk},
    )
    assert pointers(assert_problem(response, 422, "validation_error")) == {"/contract_id"}


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [
        ({"case_type": "nope", "subject": "x", "channel": "email"}, "/case_type"),
        ({"case_type": "complaint", "subject": "", "channel": "email"}, "/subject"),
        ({"case_type": "complaint", "subject": "x", "channel": "pigeon"}, "/channel"),
        ({"case_type": "complaint", "subject": "x", "channel": "email", "priority": 9}, "/priority"),
        ({"case_type": "complaint", "subject": "x", "channel": "email", "received_at": "2026-01-01T10:00:00"}, "/received_at"),
        (
            {"case_type": "complaint", "subject": "x", "channel": "email", "received_at": "2999-01-01T10:00:00+00:00"},
            "/received_at",
        ),
        ({"case_type": "complaint", "subject": "x", "channel": "email", "colour": "red"}, "/colour"),
        ({"case_type": "complaint", "subject": "x", "channel": "email", "tags": ["a" * 61]}, "/tags/0"),
        ({"subject": "x", "channel": "email"}, "/case_type"),
    ],
)
def test_create_validation_errors_point_at_the_field(client_a: Client, payload: dict[str, Any], pointer: str) -> None:
    body = assert_problem(post_json(client_a, "/api/v1/cases", payload), 422, "validation_error")
    assert pointer in pointers(body), body
    assert Case.objects.count() == 0


def test_create_validates_custom_fields(client_a: Client, case_types: dict[str, CaseType]) -> None:
    CustomFieldDefinition.objects.create(
        case_type=case_types["complaint"], key="amount", label_de="Betrag", label_en="Amount", kind="number", required=True
    )
    base = {"case_type": "complaint", "subject": "x", "channel": "email"}
    body = assert_problem(
        post_json(client_a, "/api/v1/cases", {**base, "custom_fields": {"amount": "viel", "x": 1}}), 422, "validation_error"
    )
    assert pointers(body) == {"/custom_fields/amount", "/custom_fields/x"}
    response = post_json(client_a, "/api/v1/cases", {**base, "custom_fields": {"amount": "49.90"}})
    assert response.status_code == 201, response.content
    assert response.json()["custom_fields"] == {"amount": "49.90"}


# --- bad requests --------------------------------------------------------------------------


def test_malformed_json_is_a_problem_not_a_500(client_a: Client) -> None:
    response = client_a.post("/api/v1/cases", b'{"subject": "x",', content_type="application/json")
    assert response.status_code in (400, 422)
    assert response["Content-Type"] == PROBLEM


def test_wrong_content_type_is_a_415_problem(client_a: Client) -> None:
    body = json.dumps({"case_type": "complaint", "subject": "x", "channel": "email"})
    assert_problem(client_a.post("/api/v1/cases", body, content_type="text/plain"), 415, "unsupported_media_type")
    response = client_a.post("/api/v1/cases", "subject=x", content_type="application/x-www-form-urlencoded")
    assert 400 <= response.status_code < 500 and response["Content-Type"] == PROBLEM
    assert Case.objects.count() == 0


def test_json_array_instead_of_object(client_a: Client) -> None:
    response = post_json(client_a, "/api/v1/cases", [1, 2])
    assert response.status_code in (400, 422) and response["Content-Type"] == PROBLEM


# --- read ----------------------------------------------------------------------------------


def test_get_by_id_and_by_reference(client_a: Client, agent_a: User, team_a: Team) -> None:
    case = make_case(agent_a, team_a, description="Beschreibung")
    by_id = client_a.get(f"/api/v1/cases/{case.pk}")
    assert by_id.status_code == 200
    assert by_id["ETag"] == 'W/"1"'
    assert by_id.json()["description"] == "Beschreibung"
    by_reference = client_a.get(f"/api/v1/cases/{case.reference.lower()}")
    assert by_reference.status_code == 200 and by_reference.json()["id"] == case.pk
    assert client_a.get(f"/api/v1/cases/{case.pk}", headers={"If-None-Match": 'W/"1"'}).status_code == 304


def test_cases_of_another_team_are_not_found(client_a: Client, agent_b: User, team_b: Team) -> None:
    hidden = make_case(agent_b, team_b)
    for url in (
        f"/api/v1/cases/{hidden.pk}",
        f"/api/v1/cases/{hidden.reference}",
        f"/api/v1/cases/{hidden.pk}/transitions",
        f"/api/v1/cases/{hidden.pk}/interactions",
        f"/api/v1/cases/{hidden.pk}/attachments",
    ):
        assert_problem(client_a.get(url), 404, "not_found")
    assert_problem(
        patch_json(client_a, f"/api/v1/cases/{hidden.pk}", {"subject": "y"}, **{"If-Match": 'W/"1"'}), 404, "not_found"
    )
    assert_problem(post_json(client_a, f"/api/v1/cases/{hidden.pk}/transitions", {"transition": "start"}), 404, "not_found")
    assert_problem(
        post_json(client_a, f"/api/v1/cases/{hidden.pk}/interactions", {"kind": "internal_note", "body_text": "x"}),
        404,
        "not_found",
    )
    assert client_a.get("/api/v1/cases").json()["items"] == []
    assert_problem(client_a.get("/api/v1/cases/999999"), 404, "not_found")


def test_auditor_reads_everything_but_changes_nothing(
    make_user: Callable[..., User], agent_a: User, team_a: Team, api_client_for: Callable[..., Client]
) -> None:
    case = make_case(agent_a, team_a)
    auditor = api_client_for(make_user("auditor"), ("read",))
    assert auditor.get(f"/api/v1/cases/{case.pk}").status_code == 200
    assert [item["id"] for item in auditor.get("/api/v1/cases").json()["items"]] == [case.pk]
    assert auditor.get(f"/api/v1/cases/{case.pk}/transitions").json() == []
    assert_problem(
        patch_json(auditor, f"/api/v1/cases/{case.pk}", {"subject": "y"}, **{"If-Match": 'W/"1"'}), 403, "permission_denied"
    )
    assert_problem(post_json(auditor, f"/api/v1/cases/{case.pk}/transitions", {"transition": "start"}), 403, "permission_denied")
    assert_problem(
        post_json(auditor, "/api/v1/cases", {"case_type": "complaint", "subject": "x", "channel": "email"}),
        403,
        "permission_denied",
    )
    case.refresh_from_db()
    assert case.subject != "y" and case.status == "new"


def test_read_only_token_cannot_write(agent_a: User, team_a: Team, api_client_for: Callable[..., Client]) -> None:
    case = make_case(agent_a, team_a)
    reader = api_client_for(agent_a, ("read",))
    assert reader.get(f"/api/v1/cases/{case.pk}").status_code == 200
    assert_problem(
        post_json(reader, "/api/v1/cases", {"case_type": "complaint", "subject": "x", "channel": "email"}),
        403,
        "permission_denied",
    )
    assert_problem(
        patch_json(reader, f"/api/v1/cases/{case.pk}", {"subject": "y"}, **{"If-Match": 'W/"1"'}), 403, "permission_denied"
    )
    assert_problem(
        post_json(reader, f"/api/v1/cases/{case.pk}/interactions", {"kind": "internal_note", "body_text": "x"}),
        403,
        "permission_denied",
    )
    assert Case.objects.count() == 1


def test_unauthenticated_requests_are_refused(client: Client) -> None:
    assert_problem(client.get("/api/v1/cases"), 401, "not_authenticated")
    assert_problem(client.get("/api/v1/categories"), 401, "not_authenticated")


# --- change --------------------------------------------------------------------------------


def test_patch_with_if_match(client_a: Client, agent_a: User, team_a: Team, customer: Customer) -> None:
    case = make_case(agent_a, team_a, tags=["alt"])
    url = f"/api/v1/cases/{case.pk}"
    etag = client_a.get(url)["ETag"]
    response = patch_json(
        client_a,
        url,
        {"subject": "Neuer Betreff", "priority": 4, "customer_id": customer.pk, "tags": ["neu", "vip"]},
        **{"If-Match": etag},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["subject"] == "Neuer Betreff" and body["priority"] == 4 and body["customer"]["id"] == customer.pk
    assert sorted(body["tags"]) == ["neu", "vip"]
    assert response["ETag"] == 'W/"2"' == body["etag"]
    # the old ETag is now stale
    assert_problem(patch_json(client_a, url, {"subject": "Zu spät"}, **{"If-Match": etag}), 412, "precondition_failed")
    # clearing an optional reference
    response = patch_json(client_a, url, {"customer_id": None}, **{"If-Match": 'W/"2"'})
    assert response.status_code == 200 and response.json()["customer"] is None
    case.refresh_from_db()
    assert case.subject == "Neuer Betreff" and case.version == 3


def test_patch_without_if_match_is_428(client_a: Client, agent_a: User, team_a: Team) -> None:
    case = make_case(agent_a, team_a)
    body = assert_problem(patch_json(client_a, f"/api/v1/cases/{case.pk}", {"subject": "y"}), 428, "precondition_required")
    assert body["detail"]
    assert_problem(
        patch_json(client_a, f"/api/v1/cases/{case.pk}", {"subject": "y"}, **{"If-Match": "garbage"}), 412, "precondition_failed"
    )
    case.refresh_from_db()
    assert case.subject != "y"


def test_patch_accepts_a_strong_tag_and_star(client_a: Client, agent_a: User, team_a: Team) -> None:
    case = make_case(agent_a, team_a)
    assert patch_json(client_a, f"/api/v1/cases/{case.pk}", {"subject": "a"}, **{"If-Match": '"1"'}).status_code == 200
    assert patch_json(client_a, f"/api/v1/cases/{case.pk}", {"subject": "b"}, **{"If-Match": "*"}).status_code == 200


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [
        ({"subject": None}, "/subject"),
        ({"priority": None}, "/priority"),
        ({"reference": "LP-1"}, "/reference"),
        ({"status": "closed"}, "/status"),
        ({"team_id": 999_999}, "/team_id"),
        ({"custom_fields": {"unknown": 1}}, "/custom_fields/unknown"),
    ],
)
def test_patch_validation(client_a: Client, agent_a: User, team_a: Team, payload: dict[str, Any], pointer: str) -> None:
    case = make_case(agent_a, team_a)
    body = assert_problem(
        patch_json(client_a, f"/api/v1/cases/{case.pk}", payload, **{"If-Match": 'W/"1"'}), 422, "validation_error"
    )
    assert pointer in pointers(body)
    case.refresh_from_db()
    assert case.version == 1


# --- transitions ---------------------------------------------------------------------------


def test_transitions(client_a: Client, agent_a: User, team_a: Team) -> None:
    case = make_case(agent_a, team_a)
    url = f"/api/v1/cases/{case.pk}/transitions"
    available = client_a.get(url).json()
    assert [item["key"] for item in available] == ["acknowledge", "assess", "start", "wait", "resolve", "escalate"]
    start = next(item for item in available if item["key"] == "start")
    assert start == {
        "key": "start",
        "label_de": "Untersuchung beginnen",
        "label_en": "Start investigation",
        "target": "in_progress",
        "target_kind": "open",
        "available": True,
        "reasons": [],
        "requires": [],
        "checklist": [],
    }
    response = post_json(client_a, url, {"transition": "start", "note": "Los geht's"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "in_progress" and response["ETag"] == 'W/"2"'
    assert_problem(post_json(client_a, url, {"transition": "close"}), 422, "transition_not_available")
    assert_problem(post_json(client_a, url, {"transition": "fly"}), 422, "unknown_transition")
    assert_problem(post_json(client_a, url, {"transition": "resolve"}, **{"If-Match": 'W/"1"'}), 412, "precondition_failed")
    response = post_json(client_a, url, {"transition": "resolve"}, **{"If-Match": 'W/"2"'})
    assert response.json()["status_kind"] == "resolved"
    assert_problem(post_json(client_a, url, {"transition": "close", "extra": 1}), 422, "validation_error")


# --- interactions --------------------------------------------------------------------------


def test_add_and_page_through_interactions(client_a: Client, agent_a: User, team_a: Team) -> None:
    case = make_case(agent_a, team_a)
    url = f"/api/v1/cases/{case.pk}/interactions"
    response = post_json(client_a, url, {"kind": "phone_note", "subject": "Rückruf", "body_text": "Kundin informiert."})
    assert response.status_code == 201, response.content
    note = response.json()
    assert note["kind"] == "phone_note" and note["channel"] == "phone" and note["author"]["id"] == agent_a.pk
    html = post_json(client_a, url, {"kind": "internal_note", "body_html": "<p>Hallo <script>x()</script></p>"})
    assert html.status_code == 201
    assert "script" not in html.json()["body_html"]
    seen: list[int] = []
    cursor = None
    while True:
        page = client_a.get(url, {"limit": 1, **({"cursor": cursor} if cursor else {})}).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(Interaction.objects.filter(case=case).order_by("occurred_at", "id").values_list("id", flat=True))
    assert len(seen) == 3  # the "created" entry and the two notes
    assert_problem(client_a.get(url, {"cursor": "nonsense"}), 422, "invalid_cursor")


@pytest.mark.parametrize(
    "payload",
    [
        {"kind": "internal_note", "body_text": ""},
        {"kind": "inbound_message", "body_text": "x"},
        {"kind": "internal_note", "body_text": "x", "author": 1},
    ],
)
def test_interaction_validation(client_a: Client, agent_a: User, team_a: Team, payload: dict[str, Any]) -> None:
    case = make_case(agent_a, team_a)
    assert_problem(post_json(client_a, f"/api/v1/cases/{case.pk}/interactions", payload), 422, "validation_error")


# --- attachments ---------------------------------------------------------------------------


def test_upload_and_list_attachments(client_a: Client, agent_a: User, team_a: Team) -> None:
    case = make_case(agent_a, team_a)
    url = f"/api/v1/cases/{case.pk}/attachments"
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client_a.post(url, {"file": SimpleUploadedFile("../../kontoauszug.pdf", PDF, "text/html")})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["original_name"] == "kontoauszug.pdf" and body["content_type"] == "application/pdf"
    assert body["size"] == len(PDF)
    assert body["download_url"] == f"/cases/{case.pk}/attachments/{body['id']}/"
    listed = client_a.get(url).json()
    assert [item["id"] for item in listed] == [body["id"]]


def test_upload_refuses_programs_and_big_files(client_a: Client, agent_a: User, team_a: Team, settings: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = make_case(agent_a, team_a)
    url = f"/api/v1/cases/{case.pk}/attachments"
    assert_problem(
        client_a.post(url, {"file": SimpleUploadedFile("x.pdf", b"MZ\x90\x00" + b"\x00" * 100)}), 415, "unsupported_media_type"
    )
    settings.LEITPLANKE_MAX_ATTACHMENT_BYTES = 100
    assert_problem(client_a.post(url, {"file": SimpleUploadedFile("big.txt", b"a" * 101)}), 413, "payload_too_large")
    assert_problem(client_a.post(url, {"file": SimpleUploadedFile("empty.txt", b"")}), 422, "validation_error")
    assert_problem(client_a.post(url, {}), 422, "validation_error")
    assert not Attachment.objects.exists()


# --- list ----------------------------------------------------------------------------------


def _ids(client: Client, **params: Any) -> list[int]:
    response = client.get("/api/v1/cases", params)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_list_filters(
    client_a: Client,
    agent_a: User,
    team_a: Team,
    customer: Customer,
    categories: dict[str, Category],
    case_types: dict[str, CaseType],
) -> None:
    CustomFieldDefinition.objects.create(
        case_type=case_types["complaint"], key="amount", label_de="Betrag", label_en="Amount", kind="number"
    )
    CustomFieldDefinition.objects.create(
        case_type=case_types["complaint"], key="branch", label_de="Filiale", label_en="Branch", kind="text"
    )
    now = timezone.now()
    first = make_case(
        agent_a,
        team_a,
        subject="Zählerstand falsch",
        category=categories["child"],
        priority=4,
        tags=["vip"],
        customer=customer,
        custom_fields={"amount": "50", "branch": "Köln"},
        received_at=now - dt.timedelta(days=10),
    )
    second = make_case(
        agent_a,
        team_a,
        subject="Unfreundlich",
        category=categories["other"],
        channel="phone",
        tags=["vip", "press"],
        custom_fields={"amount": "12.5", "branch": "Bonn"},
        responsible_user=agent_a,
    )
    third = make_case(agent_a, team_a, case_type="inquiry", subject="Frage zum Tarif", category=categories["root"])
    services.case_transition(actor=agent_a, case=third, transition="start")

    assert _ids(client_a) == [third.pk, second.pk, first.pk]
    assert _ids(client_a, ordering="received_at") == [first.pk, second.pk, third.pk]
    assert _ids(client_a, status="in_progress") == [third.pk]
    assert set(_ids(client_a, status=["new", "in_progress"])) == {first.pk, second.pk, third.pk}
    assert _ids(client_a, status_kind="open", case_type="inquiry") == [third.pk]
    assert set(_ids(client_a, category=categories["root"].pk)) == {first.pk, third.pk}  # subtree
    assert _ids(client_a, category=categories["child"].pk) == [first.pk]
    assert _ids(client_a, priority=4) == [first.pk]
    assert _ids(client_a, channel="phone") == [second.pk]
    assert _ids(client_a, customer=customer.pk) == [first.pk]
    assert _ids(client_a, responsible="me") == [second.pk]
    assert _ids(client_a, responsible=agent_a.pk) == [second.pk]
    assert set(_ids(client_a, responsible="none")) == {first.pk, third.pk}
    assert _ids(client_a, team=team_a.pk) == [third.pk, second.pk, first.pk]
    assert _ids(client_a, tag="press") == [second.pk]
    assert set(_ids(client_a, tag="vip")) == {first.pk, second.pk}
    assert _ids(client_a, **{"cf.branch": "Köln"}) == [first.pk]
    assert _ids(client_a, **{"cf.amount": "50"}) == [first.pk]
    assert _ids(client_a, **{"cf.amount": "12.5"}) == [second.pk]
    assert _ids(client_a, **{"cf.amount": "50", "tag": "vip"}) == [first.pk]
    day = timezone.localtime(now - dt.timedelta(days=10)).date()
    assert _ids(client_a, received_to=day.isoformat()) == [first.pk]
    assert first.pk not in _ids(client_a, received_from=(day + dt.timedelta(days=1)).isoformat())
    assert _ids(client_a, q="Zählerstand") == [first.pk]
    assert _ids(client_a, q=third.reference) == [third.pk]


def test_list_accepts_the_calendars_first_and_last_days(client_a: Client) -> None:
    """Midnight of 0001-01-01 in the organisation's zone is before year 1 in UTC, and the day
    after 9999-12-31 does not exist: found by the API fuzzer as a 500; now an answer."""
    assert _ids(client_a, received_from="0001-01-01", received_to="0001-01-01") == []
    assert _ids(client_a, received_from="9999-12-31", received_to="9999-12-31") == []
    everything = _ids(client_a)
    assert _ids(client_a, received_from="0001-01-01", received_to="9999-12-31") == everything


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 201},
        {"limit": 0},
        {"priority": "high"},
        {"received_from": "gestern"},
        {"ordering": "subject"},
        {"received_from": "2026-03-02", "received_to": "2026-03-01"},
        {"responsible": "someone"},
        {"cf.a__b": "x"},
    ],
)
def test_list_rejects_bad_parameters(client_a: Client, params: dict[str, Any]) -> None:
    assert_problem(client_a.get("/api/v1/cases", params), 422, "validation_error")


@pytest.fixture
def custom_fields(case_types: dict[str, CaseType]) -> None:
    complaint = case_types["complaint"]
    for key, kind in (("amount_disputed", "money"), ("meters", "number"), ("incident_on", "date"), ("callback", "boolean")):
        CustomFieldDefinition.objects.create(case_type=complaint, key=key, label_de=key, label_en=key, kind=kind)
    CustomFieldDefinition.objects.create(
        case_type=complaint, key="branch", label_de="Filiale", label_en="Branch", kind="choice", choices=[{"value": "koeln"}]
    )


def test_list_filters_custom_fields_by_their_kind_with_ranges(
    client_a: Client, agent_a: User, team_a: Team, custom_fields: None
) -> None:
    small = make_case(
        agent_a,
        team_a,
        custom_fields={"amount_disputed": "9.50", "meters": 9, "incident_on": "2026-02-28", "callback": True, "branch": "koeln"},
    )
    large = make_case(
        agent_a,
        team_a,
        custom_fields={"amount_disputed": {"amount": "120", "currency": "CHF"}, "meters": "10.5", "incident_on": "2026-03-01"},
    )
    assert _ids(client_a, **{"cf.amount_disputed.min": "50"}) == [large.pk]  # the amount; its currency is ignored
    assert _ids(client_a, **{"cf.amount_disputed.max": "9,50"}) == [small.pk]
    assert _ids(client_a, **{"cf.amount_disputed": "9.5"}) == [small.pk]
    assert _ids(client_a, **{"cf.meters.min": "9.5"}) == [large.pk]  # 10.5 > 9.5 as numbers
    assert _ids(client_a, **{"cf.meters.min": "9", "cf.meters.max": "10"}) == [small.pk]
    assert set(_ids(client_a, **{"cf.meters": ["9", "10,5"]})) == {small.pk, large.pk}
    assert _ids(client_a, **{"cf.incident_on.min": "2026-03-01"}) == [large.pk]
    assert _ids(client_a, **{"cf.incident_on.max": "2026-02-28"}) == [small.pk]
    assert _ids(client_a, **{"cf.callback": "ja"}) == [small.pk]
    assert _ids(client_a, **{"cf.callback": "false"}) == []  # no value stored is not "no"
    assert _ids(client_a, **{"cf.branch": "koeln", "cf.meters.max": "100"}) == [small.pk]
    assert set(_ids(client_a, **{"cf.branch": ""})) == {small.pk, large.pk}  # an empty value is no filter


@pytest.mark.parametrize(
    ("params", "pointer", "detail"),
    [
        ({"cf.unknown": "1"}, "/cf.unknown", "There is no field “unknown” to filter by."),
        ({"cf.Meters": "1"}, "/cf.Meters", "There is no field “Meters” to filter by."),
        ({"cf.amount_disputed.min": "fünfzig"}, "/cf.amount_disputed.min", "Enter an amount such as 12.50."),
        ({"cf.meters.max": "1e5"}, "/cf.meters.max", "Enter a number."),
        ({"cf.branch.min": "a"}, "/cf.branch.min", "The field “branch” can only be filtered by exact values, not by a range."),
        ({"cf.branch": "Köln"}, "/cf.branch", "Choose one of the offered values."),
        ({"cf.callback": "vielleicht"}, "/cf.callback", "Choose yes or no."),
        ({"cf.incident_on.max": "01.03.2026"}, "/cf.incident_on.max", "Enter a date as YYYY-MM-DD."),
        ({"cf.meters.min": "10", "cf.meters.max": "9"}, "/cf.meters.max", "Must not be below the lower bound."),
    ],
)
def test_list_custom_field_problems_point_at_the_parameter(
    client_a: Client, custom_fields: None, params: dict[str, str], pointer: str, detail: str
) -> None:
    response = client_a.get("/api/v1/cases", params, headers={"Accept-Language": "en"})
    body = assert_problem(response, 422, "validation_error")
    assert body["errors"] == [{"pointer": pointer, "detail": detail}]


def test_openapi_describes_the_custom_field_filters(client: Client) -> None:
    operation = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/cases"]["get"]
    assert "cf.amount_disputed.min=50" in operation["description"]
    assert "cf.<key>.max" in operation["description"]


def test_a_page_size_above_200_points_at_limit(client_a: Client) -> None:
    body = assert_problem(client_a.get("/api/v1/cases", {"limit": "201"}), 422, "validation_error")
    assert pointers(body) == {"/limit"}
    assert client_a.get("/api/v1/cases", {"limit": "200"}).status_code == 200


def test_list_rejects_a_tampered_cursor(client_a: Client) -> None:
    assert_problem(client_a.get("/api/v1/cases", {"cursor": "abc:def"}), 422, "invalid_cursor")


def test_cursor_paging_visits_every_case_once(client_a: Client, agent_a: User, team_a: Team) -> None:
    same_time = timezone.now() - dt.timedelta(hours=1)
    created = {make_case(agent_a, team_a, received_at=same_time if n % 2 else None).pk for n in range(7)}
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        response = client_a.get("/api/v1/cases", {"limit": 3, **({"cursor": cursor} if cursor else {})})
        body = response.json()
        assert len(body["items"]) <= 3
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7 and set(seen) == created
    received = [Case.objects.get(pk=pk).received_at for pk in seen]
    assert received == sorted(received, reverse=True)


def test_the_list_costs_the_same_number_of_queries_for_3_and_30_cases(
    agent_a: User, team_a: Team, customer: Customer, categories: dict[str, Category], api_client_for: Callable[..., Client]
) -> None:
    client = api_client_for(agent_a, ("read",))

    def add(count: int) -> None:
        for n in range(count):
            make_case(
                agent_a,
                team_a,
                customer=customer,
                category=categories["child"],
                responsible_user=agent_a,
                tags=[f"t{n % 4}", "all"],
            )

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as context:
            response = client.get("/api/v1/cases", {"limit": "50", "tag": "all"})
        assert response.status_code == 200
        return len(context.captured_queries), len(response.json()["items"])

    add(3)
    client.get("/api/v1/me")  # the token's first use records last_used_at; not part of the list's cost
    queries()  # the first list reads the reference data the process keeps (the agent's team ids, ADR 0004)
    small, small_count = queries()
    add(27)
    large, large_count = queries()
    assert (small_count, large_count) == (3, 30)
    assert small == large, f"{small} queries for 3 cases, {large} for 30"


# --- catalogue -----------------------------------------------------------------------------


def test_categories_as_a_flat_tree(client_a: Client, categories: dict[str, Category]) -> None:
    response = client_a.get("/api/v1/categories")
    assert response.status_code == 200
    items = {item["key"]: item for item in response.json()}
    child = items["t-billing-meter"]
    assert child["parent_id"] == categories["root"].pk and child["depth"] == 1
    assert child["path"].startswith(items["t-billing"]["path"])
    paths = [item["path"] for item in response.json()]
    assert paths == sorted(paths)


def test_case_types_with_custom_fields(client_a: Client, case_types: dict[str, CaseType]) -> None:
    CustomFieldDefinition.objects.create(
        case_type=case_types["complaint"],
        key="reason",
        label_de="Grund",
        label_en="Reason",
        kind="choice",
        required=True,
        choices=[{"value": "late", "label_de": "Verspätet", "label_en": "Late"}],
    )
    CustomFieldDefinition.objects.create(
        case_type=case_types["complaint"], key="gone", label_de="Alt", label_en="Old", kind="text", is_active=False
    )
    response = client_a.get("/api/v1/case-types")
    assert response.status_code == 200
    types = {item["key"]: item for item in response.json()}
    assert {"complaint", "inquiry", "feedback", "data_protection"} <= set(types)
    assert types["complaint"]["is_complaint"] is True
    assert types["complaint"]["custom_fields"] == [
        {
            "key": "reason",
            "label_de": "Grund",
            "label_en": "Reason",
            "kind": "choice",
            "required": True,
            "order": 0,
            "choices": [{"value": "late", "label_de": "Verspätet", "label_en": "Late"}],
        }
    ]


def test_openapi_documents_the_case_endpoints_with_examples(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/cases",
        "/api/v1/cases/{case_id}",
        "/api/v1/cases/{case_id}/transitions",
        "/api/v1/cases/{case_id}/interactions",
        "/api/v1/cases/{case_id}/attachments",
        "/api/v1/categories",
        "/api/v1/case-types",
    ):
        assert path in paths, path
    create = paths["/api/v1/cases"]["post"]
    assert "201" in create["responses"] and "422" in create["responses"]
    assert any(param["name"] == "Idempotency-Key" for param in create["parameters"])
    assert any(param["name"] == "If-Match" for param in paths["/api/v1/cases/{case_id}"]["patch"]["parameters"])
    create_schema = schema["components"]["schemas"]["CaseCreateIn"]
    assert create_schema["properties"]["case_type"]["examples"] == ["complaint"]
    assert create_schema.get("additionalProperties") is False
    list_params = {param["name"] for param in paths["/api/v1/cases"]["get"]["parameters"]}
    assert {"status", "case_type", "tag", "q", "cursor", "limit", "received_from"} <= list_params


def test_the_published_vocabulary_matches_the_models() -> None:
    from typing import get_args

    from leitplanke.api.routers import cases as router
    from leitplanke.cases.models import Channel, Priority, Severity, StatusKind

    assert list(get_args(router.ChannelValue)) == list(Channel.values)
    assert list(get_args(router.PriorityValue)) == list(Priority.values)
    assert list(get_args(router.SeverityValue)) == list(Severity.values)
    assert list(get_args(router.StatusKindValue)) == list(StatusKind.values)


@pytest.mark.parametrize("tags", [[], ["Billing", "vip"]])
def test_the_201_body_is_what_a_read_gives(
    client_a: Client, customer: Customer, categories: dict[str, Category], tags: list[str]
) -> None:
    """Creation answers from the objects it validated (no read-back): the same body as GET."""
    make_case(None, None, subject="Vorher", tags=["billing"])  # an existing tag, other case
    payload = {
        "case_type": "complaint",
        "subject": "Abschlag zu hoch",
        "channel": "email",
        "customer_id": customer.pk,
        "category_id": categories["child"].pk,
        "tags": tags,
    }
    created = post_json(client_a, "/api/v1/cases", payload)
    assert created.status_code == 201, created.content
    read = client_a.get(created["Location"])
    assert read.status_code == 200
    assert created.json() == read.json()
    assert created["ETag"] == read["ETag"]
    assert created.json()["tags"] == (["billing", "vip"] if tags else [])  # the existing tag's spelling
