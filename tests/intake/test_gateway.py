"""The inbound gateway (`POST /api/v1/inbound/email`): one message, one case, one
acknowledgement, however many times and however concurrently it is delivered; the size
limit answers 413."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from leitplanke.accounts.models import User
from leitplanke.cases.models import Case, CaseType, Interaction, InteractionKind
from leitplanke.intake import replies
from leitplanke.intake.models import InboundEmail, InboundStatus
from tests.concurrency import in_parallel, shared_database

URL = "/api/v1/inbound/email"


def raw_message(subject: str, *, sender: str = "Erika Muster <erika@example.de>", message_id: bool = True) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "beschwerde@stadtwerke.example"
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = make_msgid(domain="mail.example.de")
    msg.set_content(f"Sehr geehrte Damen und Herren, es geht um {subject}. Bitte prüfen Sie das.")
    return msg.as_bytes()


def deliver(client: Client, raw: bytes, **extra: Any) -> Any:
    return client.post(URL, raw, content_type="message/rfc822", **extra)


@pytest.fixture
def gateway(make_user: Callable[..., User], api_client_for: Callable[..., Client]) -> Callable[[], Client]:
    CaseType.objects.get_or_create(key="complaint", defaults={"name_de": "Beschwerde", "name_en": "Complaint"})
    replies.template_save(
        actor=None,
        key="ack-test",
        name="Eingangsbestätigung",
        language="de",
        purpose="acknowledgement",
        subject="Ihr Anliegen {{case_reference}}",
        body="Guten Tag, wir haben Ihr Anliegen erhalten: {{case_reference}}.",
    )
    admin = make_user("administrator")
    return lambda: api_client_for(admin, ("read", "write", "admin"))


@pytest.mark.django_db(transaction=True)
def test_parallel_deliveries_make_one_case_and_one_acknowledgement_per_message(
    tmp_path: Path, gateway: Callable[[], Client]
) -> None:
    """Eight concurrent POSTs of each of three messages (one without Message-ID, known by its
    content): three cases, three acknowledgements. Before the identity was claimed,
    PostgreSQL made a case and an acknowledgement per POST (24), SQLite 10."""
    messages = [raw_message("Abschlag zu hoch"), raw_message("Zähler falsch abgelesen"), raw_message("Ohne ID", message_id=False)]
    per_message = 8
    with shared_database(tmp_path):
        clients = [gateway() for _ in range(len(messages) * per_message)]

        def work(number: int) -> tuple[int, int, dict[str, Any]]:
            response = deliver(clients[number], messages[number % len(messages)])
            return number % len(messages), response.status_code, response.json()

        answers = in_parallel(work, len(clients))
        assert Case.objects.count() == len(messages)
        assert Interaction.objects.filter(kind=InteractionKind.OUTBOUND_MESSAGE).count() == len(messages)
    assert len(mail.outbox) == len(messages)
    for index in range(len(messages)):
        statuses = sorted(body["status"] for number, _code, body in answers if number == index)
        assert statuses == ["duplicate"] * (per_message - 1) + ["new_case"], statuses
        cases = {body["case_id"] for number, _code, body in answers if number == index}
        assert len(cases) == 1 and None not in cases  # every duplicate names the one case
    assert sorted(code for _n, code, _b in answers) == [200] * (len(clients) - len(messages)) + [201] * len(messages)


@pytest.mark.django_db
def test_a_message_without_message_id_delivered_twice_is_recognised_by_content(gateway: Callable[[], Client]) -> None:
    client = gateway()
    raw = raw_message("Keine Message-ID", message_id=False)
    first, second = deliver(client, raw), deliver(client, b"Received: from relay2.example.de\n" + raw)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["status"] == "duplicate" and second.json()["case_id"] == first.json()["case_id"]
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_oversize_message_gets_413_as_documented(gateway: Callable[[], Client], settings: Any) -> None:
    """The limit is checked before the body is read: Django's own request size limit would
    otherwise answer 400 first."""
    settings.LEITPLANKE_MAX_INBOUND_EMAIL_BYTES = 2_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    response = deliver(gateway(), raw_message("Groß") + b"x" * 5_000)
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/problem+json")
    assert InboundEmail.objects.count() == 0


@pytest.mark.django_db
def test_a_message_within_the_limit_is_read_even_above_djangos_form_limit(gateway: Callable[[], Client], settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    response = deliver(gateway(), raw_message("Etwas länger") + b"\n" + b"y" * 3_000)
    assert response.status_code == 201, response.content
    assert response.json()["status"] == InboundStatus.NEW_CASE
