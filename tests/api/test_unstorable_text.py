"""Text the database cannot store (NUL, lone surrogates) is refused by every API input with
a 422 problem that names the field, in the client's language, and nothing is stored.

Before, PostgreSQL answered 500, and SQLite stored a lone surrogate in a custom field,
after which the sealer failed on that event at every tick."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from leitplanke.accounts.models import User
from leitplanke.cases import services
from leitplanke.cases.models import Attachment, Case, CaseType, CustomFieldDefinition
from leitplanke.core.audit import audit_seal_all, audit_verify
from leitplanke.core.models import AuditEvent
from leitplanke.customers.models import Customer

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
GERMAN = "Dieser Text enthält ein Zeichen, das nicht gespeichert werden kann (NUL oder ein einzelnes Surrogat)."
ENGLISH = "This text contains a character that cannot be stored (NUL or an unpaired surrogate)."


@pytest.fixture
def admin_client(admin_user: User, api_client_for: Callable[..., Client]) -> Client:
    client = api_client_for(admin_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def complaint(db: Any) -> CaseType:
    case_type = CaseType.objects.get(key="complaint")
    CustomFieldDefinition.objects.create(case_type=case_type, key="wish", label_de="Wunsch", label_en="Wish", kind="text")
    return case_type


def refused(response: Any, *pointers: str, language: str = "en") -> None:
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["code"] == "validation_error"
    message = GERMAN if language == "de" else ENGLISH
    assert sorted(body["errors"], key=lambda e: e["pointer"]) == [{"pointer": p, "detail": message} for p in sorted(pointers)]


def post(client: Client, url: str, data: Any, language: str = "en") -> Any:
    body = data if isinstance(data, str) else json.dumps(data)
    return client.post(url, body, content_type="application/json", headers={"Accept-Language": language})


BASE = {"case_type": "complaint", "subject": "Abschlag zu hoch", "channel": "email"}


@pytest.mark.parametrize(
    ("body", "pointers"),
    [
        # JSON escapes, as a client sends them
        ('{"case_type": "complaint", "subject": "a\\u0000b", "channel": "email"}', ["/subject"]),
        (
            '{"case_type": "complaint", "subject": "x", "channel": "email", "custom_fields": {"wish": "\\ud800"}}',
            ["/custom_fields/wish"],
        ),
        ('{"case_type": "complaint", "subject": "x", "channel": "email", "tags": ["ok", "\\udfff"]}', ["/tags/1"]),
        (
            '{"case_type": "complaint", "subject": "x", "channel": "email", "custom_fields": {"w\\u0000": "y"}}',
            ["/custom_fields/w\ufffd"],
        ),
        (
            '{"case_type": "compl\\u0000aint", "subject": "\\udbff", "channel": "email", "description": "ok \\u0000"}',
            ["/case_type", "/subject", "/description"],
        ),
    ],
)
def test_json_bodies_are_refused_field_by_field(
    admin_client: Client, complaint: CaseType, body: str, pointers: list[str]
) -> None:
    events = AuditEvent.objects.count()
    refused(post(admin_client, "/api/v1/cases", body), *pointers)
    assert Case.objects.count() == 0 and AuditEvent.objects.count() == events


def test_raw_utf8_bytes_of_a_surrogate_are_refused_too(admin_client: Client, complaint: CaseType) -> None:
    body = json.dumps(BASE).encode().replace(b"Abschlag", b"Abschlag \xed\xa0\x80")  # json.loads passes them through
    response = admin_client.post("/api/v1/cases", body, content_type="application/json")
    refused(response, "/subject")


def test_the_refusal_speaks_the_clients_language(admin_client: Client, complaint: CaseType) -> None:
    refused(post(admin_client, "/api/v1/cases", {**BASE, "subject": "a\x00b"}, language="de"), "/subject", language="de")


def test_the_jamming_custom_field_is_refused_and_the_chain_goes_on(admin_client: Client, complaint: CaseType) -> None:
    """The reported case: a text custom field with "\\ud800" through the API."""
    refused(post(admin_client, "/api/v1/cases", {**BASE, "custom_fields": {"wish": "\ud800"}}), "/custom_fields/wish")
    created = post(admin_client, "/api/v1/cases", {**BASE, "custom_fields": {"wish": "Gutschrift"}})
    assert created.status_code == 201, created.content
    audit_seal_all()
    assert audit_verify().ok and not AuditEvent.objects.filter(seq__isnull=True).exists()


def test_query_and_path_parameters_are_refused(admin_client: Client) -> None:
    refused(admin_client.get("/api/v1/cases?q=%00"), "/q")
    refused(admin_client.get("/api/v1/cases?cf_wish=a%00"), "/cf_wish")  # read outside the schema
    refused(admin_client.get("/api/v1/customers?q=x%00"), "/q")
    refused(admin_client.get("/api/v1/cases/LP-2026-%00"), "/case_id")


def test_changes_and_notes_are_refused(admin_client: Client, admin_user: User, complaint: CaseType) -> None:
    case = services.case_create(actor=admin_user, case_type=complaint, subject="Ablesung", channel="email")
    response = admin_client.patch(
        f"/api/v1/cases/{case.pk}",
        json.dumps({"subject": "neu\x00"}),
        content_type="application/json",
        headers={"If-Match": 'W/"1"'},
    )
    refused(response, "/subject")
    refused(
        post(admin_client, f"/api/v1/cases/{case.pk}/interactions", {"kind": "internal_note", "body_text": "\udc80"}),
        "/body_text",
    )
    refused(post(admin_client, f"/api/v1/cases/{case.pk}/transitions", {"transition": "start", "note": "x\x00"}), "/note")
    case.refresh_from_db()
    assert case.subject == "Ablesung" and case.version == 1


def test_customer_inputs_are_refused(admin_client: Client) -> None:
    refused(post(admin_client, "/api/v1/customers", {"kind": "person", "last_name": "M\x00ller"}), "/last_name")
    assert Customer.objects.count() == 0


def test_form_fields_in_a_charset_that_decodes_to_surrogates_are_refused(
    admin_client: Client, admin_user: User, complaint: CaseType
) -> None:
    """A client may declare the body's charset; UTF-7 "+2AA-" decodes to a lone surrogate.
    (Django strips NUL from uploaded file names and decodes them with replacement.)"""
    case = services.case_create(actor=admin_user, case_type=complaint, subject="Beleg", channel="email")
    body = (
        b'--BB\r\nContent-Disposition: form-data; name="interaction_id"\r\n\r\n+2AA-\r\n'
        b'--BB\r\nContent-Disposition: form-data; name="file"; filename="beleg.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\r\n%%EOF\r\n--BB--\r\n"
    )
    response = admin_client.post(  # CONTENT_TYPE as sent: the test client would transcode to the charset
        f"/api/v1/cases/{case.pk}/attachments",
        body,
        content_type="multipart/form-data; boundary=BB",
        CONTENT_TYPE="multipart/form-data; boundary=BB; charset=utf-7",
    )
    refused(response, "/interaction_id")
    assert Attachment.objects.count() == 0


def test_ordinary_text_passes(admin_client: Client, complaint: CaseType) -> None:
    text = "Grüße 😀 \u202e\t\r\n – \ufffd is an ordinary character"
    response = post(admin_client, "/api/v1/cases", {**BASE, "subject": text[:60], "custom_fields": {"wish": text}})
    assert response.status_code == 201, response.content
    assert response.json()["custom_fields"] == {"wish": text.strip()}


def test_a_body_in_utf16_is_checked_too(admin_client: Client, complaint: CaseType) -> None:
    """json.loads detects UTF-16 and UTF-32 and passes lone surrogates through."""
    body = json.dumps({**BASE, "subject": "a\ud800"}, ensure_ascii=False).encode("utf-16", "surrogatepass")
    refused(admin_client.post("/api/v1/cases", body, content_type="application/json"), "/subject")


@pytest.mark.parametrize(
    ("raw", "may"),
    [
        (b'{"a": "plain", "b": ["\\u00e4", "\xc3\xa4"]}', False),
        (b'{"a": "\\u0000"}', True),
        (b'{"a": "\\uDBFF"}', True),
        (b'{"a": "\\ud83d\\ude00"}', True),  # a valid pair: walked, and passes
        (b'{"a": "\xed\xa0\x80"}', True),
        (b'{"a": "\\\\u0000"}', True),  # an escaped backslash: walked, and passes
    ],
)
def test_the_quick_look_at_the_raw_body_never_misses(raw: bytes, may: bool) -> None:
    from leitplanke.core.text import json_may_hold_unstorable, unstorable_paths

    assert json_may_hold_unstorable(raw) is may
    if not may:
        assert list(unstorable_paths(json.loads(raw))) == []
