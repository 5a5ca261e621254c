"""Abuse limits of the public form that never turn a valid complaint away: refused attempts
do not count, a shared address (carrier NAT, office) may send many, one e-mail address few;
when a limit does apply the text stays in the form and the page names another way in."""

from __future__ import annotations

import pytest
from django.test import Client

from leitplanke.accounts.models import Organisation
from leitplanke.cases.models import Case
from leitplanke.core import ratelimit
from leitplanke.intake import public
from leitplanke.intake.replies import status_link_token
from tests.concurrency import in_parallel, shared_database
from tests.intake.test_public import form_data

pytestmark = pytest.mark.django_db
TEXT = "Mein monatlicher Abschlag wurde ohne Ankündigung verdoppelt."


def client(ip: str = "198.51.100.20", language: str = "de-DE") -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE=language, REMOTE_ADDR=ip)


@pytest.fixture
def contact() -> None:
    Organisation.objects.update_or_create(
        pk=1,
        defaults={
            "name": "Stadtwerke Rheinfeld",
            "contact_phone": "0221 555 0100",
            "contact_email": "service@stadtwerke-rheinfeld.example",
            "contact_address": "Stadtwerke Rheinfeld\nPostfach 12 34\n50667 Köln",
        },
    )


def test_refused_attempts_do_not_count(fixed_rate_limit_window) -> None:
    """Before: the sixth attempt within an hour was refused, failed ones included."""
    browser = client()
    for _ in range(12):
        assert browser.post("/complaint/", form_data(email="")).status_code == 400
    assert browser.post("/complaint/", form_data(website="http://spam.example")).status_code == 400
    assert browser.post("/complaint/", form_data(started="forged")).status_code == 400
    response = browser.post("/complaint/", form_data())
    assert response.status_code == 302
    assert Case.objects.count() == 1


def test_a_shared_address_may_send_many_complaints(fixed_rate_limit_window) -> None:
    office = client("198.51.100.30")
    for number in range(12):
        assert office.post("/complaint/", form_data(email=f"kollege{number}@example.de")).status_code == 302
    assert Case.objects.count() == 12


def test_the_address_limit_keeps_the_text_and_names_the_organisations_contact(
    fixed_rate_limit_window, monkeypatch, contact
) -> None:
    monkeypatch.setattr(public, "ACCEPTED_PER_ADDRESS_PER_HOUR", 2)
    office = client("198.51.100.31")
    for number in range(2):
        assert office.post("/complaint/", form_data(email=f"p{number}@example.de")).status_code == 302
    response = office.post("/complaint/", form_data(email="p9@example.de", description=TEXT + " Dritter."))
    page = response.content.decode()
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert TEXT + " Dritter." in page  # the text is kept in the form
    assert "p9@example.de" in page
    assert "0221 555 0100" in page and "service@stadtwerke-rheinfeld.example" in page and "Postfach 12 34" in page
    assert "sehr viele Nachrichten von Ihrer Verbindung" in page
    assert Case.objects.count() == 2
    # Another address is not affected.
    assert client("198.51.100.32").post("/complaint/", form_data(email="p10@example.de")).status_code == 302


def test_one_email_address_is_limited_from_every_address(fixed_rate_limit_window, contact) -> None:
    for number in range(public.ACCEPTED_PER_EMAIL_PER_HOUR):
        assert client(f"198.51.100.{40 + number}").post("/complaint/", form_data()).status_code == 302
    response = client("198.51.100.99", "en").post("/complaint/", form_data(email="ERIKA@example.de"))
    page = response.content.decode()
    assert response.status_code == 429
    assert TEXT in page and "several messages from this e-mail address" in page
    assert "0221 555 0100" in page
    assert Case.objects.count() == public.ACCEPTED_PER_EMAIL_PER_HOUR


def test_a_submission_that_fails_gives_its_place_back(fixed_rate_limit_window, monkeypatch) -> None:
    monkeypatch.setattr(public, "ACCEPTED_PER_EMAIL_PER_HOUR", 1)
    original = public.public_complaint_submit

    def failing(submission):
        raise public.ValidationFailed(field_errors={"subject": ["nope"]})

    monkeypatch.setattr(public, "public_complaint_submit", failing)
    assert client().post("/complaint/", form_data()).status_code == 400
    monkeypatch.setattr(public, "public_complaint_submit", original)
    assert client().post("/complaint/", form_data()).status_code == 302


def test_without_contact_data_the_limit_page_still_keeps_the_text(fixed_rate_limit_window, monkeypatch) -> None:
    monkeypatch.setattr(public, "ACCEPTED_PER_EMAIL_PER_HOUR", 0)
    response = client().post("/complaint/", form_data())
    assert response.status_code == 429 and TEXT in response.content.decode()


def test_the_flood_guard_keeps_the_text_too(fixed_rate_limit_window, monkeypatch, contact) -> None:
    monkeypatch.setattr(public, "ATTEMPTS_PER_ADDRESS_PER_HOUR", 3)
    flood = client("198.51.100.50")
    for _ in range(3):
        flood.post("/complaint/", form_data(email=""))
    response = flood.post("/complaint/", form_data())
    assert response.status_code == 429 and TEXT in response.content.decode()
    assert "0221 555 0100" in response.content.decode()


def test_status_page_messages_are_limited_per_case_and_keep_the_text(
    fixed_rate_limit_window, monkeypatch, contact, django_capture_on_commit_callbacks
) -> None:
    monkeypatch.setattr(public, "STATUS_MESSAGES_PER_CASE_PER_HOUR", 2)
    browser = client()
    browser.post("/complaint/", form_data())
    url = f"/complaint/status/{status_link_token(Case.objects.get())}/"
    assert browser.post(url, {"message": ""}).status_code == 400  # refused: does not count
    for number in range(2):
        assert browser.post(url, {"message": f"Nachtrag {number}"}).status_code == 302
    response = browser.post(url, {"message": "Noch ein wichtiger Nachtrag"})
    assert response.status_code == 429
    assert "Noch ein wichtiger Nachtrag" in response.content.decode() and "0221 555 0100" in response.content.decode()


def test_counters_hold_no_addresses(fixed_rate_limit_window) -> None:
    client("198.51.100.77").post("/complaint/", form_data(email="geheim@example.de"))
    keys = " ".join(ratelimit.RateLimitCounter.objects.values_list("key", flat=True))
    assert keys and "198.51.100.77" not in keys and "geheim" not in keys


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_cannot_pass_the_limit(tmp_path, fixed_rate_limit_window) -> None:
    with shared_database(tmp_path):

        def take(index: int) -> bool:
            try:
                public.take_allowance([("form-accepted-email", "same@example.de", 2)])
            except public.RateLimited:
                return False
            return True

        results = in_parallel(take, 6)
        assert sum(results) == 2
