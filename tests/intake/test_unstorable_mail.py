"""E-mail cannot be refused: NUL and lone surrogates in a message become U+FFFD, the rest is
kept, and the message opens its case on SQLite and PostgreSQL alike (PostgreSQL refused the
whole message before, so that it was lost for the customer)."""

from __future__ import annotations

from email.utils import format_datetime

import pytest
from django.utils import timezone

from leitplanke.cases.models import InteractionKind
from leitplanke.core.audit import audit_seal_all, audit_verify
from leitplanke.intake.mailparse import parse_message
from leitplanke.intake.models import InboundStatus
from leitplanke.intake.services import email_ingest

pytestmark = pytest.mark.django_db

RAW = (
    "From: =?utf-7?Q?Erika_+2AA-_Muster?= <erika@example.de>\r\n"
    "To: beschwerde@stadtwerke.example\r\n"
    "Subject: =?utf-7?Q?Rechnung_+2AA-_falsch?=\r\n"
    f"Date: {format_datetime(timezone.now())}\r\n"
    "Message-ID: <unstorable-1@mail.example.de>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
).encode() + "Mein Zählerstand\x00 wurde falsch abgelesen.\r\n".encode()


def test_the_parser_replaces_what_cannot_be_stored_and_keeps_the_rest() -> None:
    parsed = parse_message(RAW)
    assert parsed.subject == "Rechnung \ufffd falsch"
    assert parsed.from_name == "Erika \ufffd Muster"
    assert parsed.text_body == "Mein Zählerstand wurde falsch abgelesen."  # control characters: dropped as before


def test_such_a_message_still_opens_its_case_and_the_chain_goes_on() -> None:
    result = email_ingest(RAW, source="file")
    assert result.status == InboundStatus.NEW_CASE
    case = result.case
    assert case is not None and case.subject == "Rechnung \ufffd falsch"
    inbound = case.interactions.get(kind=InteractionKind.INBOUND_MESSAGE)
    assert inbound.body_text == "Mein Zählerstand wurde falsch abgelesen."
    audit_seal_all()
    assert audit_verify().ok
