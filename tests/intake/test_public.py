"""The public complaint form and the customer's status page."""

from __future__ import annotations

import time

import pytest
from django.core import mail, signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from leitplanke.cases.models import Case, CaseType, InteractionKind
from leitplanke.customers.models import ConsentRecord
from leitplanke.intake import public
from leitplanke.intake.replies import status_link_token

pytestmark = pytest.mark.django_db


def started(seconds_ago: float = 10) -> str:
    return signing.dumps(time.time() - seconds_ago, salt=public.FORM_SALT)


def form_data(**overrides) -> dict:
    data = {
        "case_type": CaseType.objects.get(key="complaint").pk,
        "subject": "Abschlag zu hoch",
        "description": "Mein monatlicher Abschlag wurde ohne Ankündigung verdoppelt.",
        "first_name": "Erika",
        "last_name": "Mustermann",
        "email": "erika@example.de",
        "phone": "0221 123456",
        "customer_number": "",
        "consent": "on",
        "website": "",
        "started": started(),
    }
    data.update(overrides)
    return data


@pytest.fixture
def browser_client() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9", REMOTE_ADDR="203.0.113.7")


def test_form_speaks_the_browsers_language() -> None:
    german = Client(HTTP_ACCEPT_LANGUAGE="de").get("/complaint/")
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/complaint/")
    assert german.status_code == english.status_code == 200
    assert german["Content-Language"] == "de" and english["Content-Language"] == "en"


def test_submission_creates_case_consent_and_acknowledgement(browser_client, django_capture_on_commit_callbacks) -> None:
    upload = SimpleUploadedFile("rechnung.pdf", b"%PDF-1.4 Rechnung", content_type="application/pdf")
    with django_capture_on_commit_callbacks(execute=True):
        response = browser_client.post("/complaint/", {**form_data(), "attachments": [upload]})
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.channel == "web_form" and case.customer.emails.filter(address="erika@example.de").exists()
    assert case.attachments.count() == 1
    assert ConsentRecord.objects.filter(customer=case.customer, purpose="processing", granted=True).exists()
    assert len(mail.outbox) == 1 and case.reference in mail.outbox[0].subject
    thanks = browser_client.get(response["Location"])
    assert case.reference in thanks.content.decode()


@pytest.mark.parametrize(
    "overrides",
    [
        {"website": "http://spam.example"},
        {"started": "just now"},
        {"started": "forged"},
        {"consent": ""},
        {"email": "not-an-address"},
    ],
)
def test_bad_submissions_are_refused_and_keep_input(browser_client, overrides) -> None:
    if overrides.get("started") == "just now":
        overrides = {"started": started(seconds_ago=0)}
    response = browser_client.post("/complaint/", form_data(**overrides))
    assert response.status_code == 400
    assert Case.objects.count() == 0
    assert "Mein monatlicher Abschlag wurde ohne" in response.content.decode()


def test_status_page_shows_public_messages_and_accepts_more(browser_client, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        browser_client.post("/complaint/", form_data())
    case = Case.objects.get()
    url = f"/complaint/status/{status_link_token(case)}/"
    page = browser_client.get(url).content.decode()
    assert case.reference in page and "Mein monatlicher Abschlag" in page
    response = browser_client.post(url, {"message": "Hier noch meine Zählernummer: 4711."})
    assert response.status_code == 302
    assert case.interactions.filter(kind=InteractionKind.INBOUND_MESSAGE, body_text__contains="4711").exists()
    assert browser_client.get("/complaint/status/forged-token/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_refused_file_leaves_none_of_the_others_on_disk(settings, tmp_path) -> None:
    """Two good files and a program: the program is refused, so nothing of the complaint is
    stored — and neither are the two files written before the refusal (they stayed on disk
    without a row before)."""
    settings.MEDIA_ROOT = tmp_path / "files"
    files = [
        SimpleUploadedFile("rechnung.pdf", b"%PDF-1.4 Rechnung", content_type="application/pdf"),
        SimpleUploadedFile("zaehler.pdf", b"%PDF-1.4 Zaehlerstand", content_type="application/pdf"),
        SimpleUploadedFile("tool.pdf", b"MZ\x90\x00 a program", content_type="application/pdf"),
    ]
    client = Client(HTTP_ACCEPT_LANGUAGE="de-DE", REMOTE_ADDR="203.0.113.8")
    response = client.post("/complaint/", {**form_data(), "attachments": files})
    assert response.status_code == 400
    assert Case.objects.count() == 0
    assert [path for path in (tmp_path / "files").rglob("*") if path.is_file()] == []
