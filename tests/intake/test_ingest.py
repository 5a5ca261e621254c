"""The intake pipeline end to end: new case, threading, duplicates, automatic mail,
quarantine, attachments, acknowledgements and replies that thread back."""

from __future__ import annotations

import textwrap
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from django.core import mail
from django.utils import timezone

from leitplanke.cases.models import Case, Interaction, InteractionKind
from leitplanke.intake import replies
from leitplanke.intake.models import InboundEmail, InboundStatus
from leitplanke.intake.services import email_ingest

pytestmark = pytest.mark.django_db


def message(
    *,
    subject: str = "Beschwerde über meine Stromabrechnung",
    sender: str = "Erika Muster <erika@example.de>",
    body: str = "Mein Zählerstand wurde falsch abgelesen.",
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "beschwerde@stadtwerke.example"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = make_msgid(domain="mail.example.de")
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    for name, content, mime in attachments or []:
        maintype, subtype = mime.split("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def test_new_message_opens_a_case_with_customer_and_acknowledgement(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        result = email_ingest(message(), source="file")
    assert result.status == InboundStatus.NEW_CASE
    case = result.case
    assert case is not None and case.channel == "email"
    assert case.customer is not None and case.customer.emails.filter(address="erika@example.de").exists()
    inbound = case.interactions.get(kind=InteractionKind.INBOUND_MESSAGE)
    assert "Zählerstand" in inbound.body_text
    assert len(mail.outbox) == 1
    ack = mail.outbox[0]
    assert case.reference in ack.subject
    assert ack.extra_headers["Auto-Submitted"] == "auto-replied"
    assert ack.extra_headers["In-Reply-To"] == f"<{inbound.message_id}>"
    assert case.interactions.get(kind=InteractionKind.OUTBOUND_MESSAGE).delivery_status == "sent"
    assert InboundEmail.objects.get(pk=result.inbound.pk).raw.read().startswith(b"")


def test_reply_threads_back_by_reference_and_by_in_reply_to(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = email_ingest(message(), source="file")
    case = first.case
    ack_id = mail.outbox[0].extra_headers["Message-ID"]
    by_header = email_ingest(
        message(subject="AW: Ihr Anliegen", body="Danke, anbei das Foto.", headers={"In-Reply-To": ack_id, "References": ack_id}),
        source="file",
    )
    assert by_header.status == InboundStatus.THREADED and by_header.case == case
    by_token = email_ingest(message(subject=f"Re: [{case.reference}] Nachfrage", body="Gibt es Neuigkeiten?"), source="api")
    assert by_token.status == InboundStatus.THREADED and by_token.case == case
    assert Case.objects.count() == 1
    assert case.interactions.filter(kind=InteractionKind.INBOUND_MESSAGE).count() == 3


def test_repeated_message_id_is_imported_once() -> None:
    raw = message()
    assert email_ingest(raw, source="file").status == InboundStatus.NEW_CASE
    again = email_ingest(raw, source="imap")
    assert again.status == InboundStatus.DUPLICATE
    assert Case.objects.count() == 1
    assert Interaction.objects.filter(kind=InteractionKind.INBOUND_MESSAGE).count() == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"X-Autoreply": "yes"},
        {"Precedence": "auto_reply"},
    ],
)
def test_automatic_replies_never_open_cases_or_trigger_acknowledgements(headers, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        result = email_ingest(message(subject="Abwesenheitsnotiz", headers=headers), source="file")
    assert result.status == InboundStatus.AUTO_REPLY
    assert Case.objects.count() == 0
    assert mail.outbox == []


def test_automatic_reply_is_logged_on_the_case_it_answers(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        case = email_ingest(message(), source="file").case
    ack_id = mail.outbox[0].extra_headers["Message-ID"]
    with django_capture_on_commit_callbacks(execute=True):
        result = email_ingest(
            message(
                subject="Automatische Antwort: Ihr Anliegen", headers={"Auto-Submitted": "auto-replied", "In-Reply-To": ack_id}
            ),
            source="file",
        )
    assert result.status == InboundStatus.AUTO_REPLY and result.case == case
    assert case.interactions.filter(kind=InteractionKind.SYSTEM, subject__startswith="Automatic reply").exists()
    assert len(mail.outbox) == 1  # no acknowledgement of the auto-reply: no mail loop


def test_bounce_is_logged_not_a_case() -> None:
    bounce = (
        textwrap.dedent("""\
        From: MAILER-DAEMON@mx.example.de (Mail Delivery System)
        To: service@leitplanke.example
        Subject: Undelivered Mail Returned to Sender
        Message-ID: <bounce-1@mx.example.de>
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="B"

        --B
        Content-Type: text/plain

        This is the mail system. Your message could not be delivered.
        --B
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.example.de

        Final-Recipient: rfc822; nobody@example.de
        Action: failed
        Status: 5.1.1
        --B--
        """)
        .replace("\n", "\r\n")
        .encode()
    )
    result = email_ingest(bounce, source="file")
    assert result.status == InboundStatus.BOUNCE
    assert Case.objects.count() == 0


def test_garbage_is_quarantined_with_raw_kept() -> None:
    raw = b"\x00\x01\x02 not an e-mail \xff\xfe"
    result = email_ingest(raw, source="api")
    assert result.status == InboundStatus.QUARANTINED
    inbound = InboundEmail.objects.get(pk=result.inbound.pk)
    assert inbound.reason
    assert inbound.raw.read() == raw


def test_attachments_are_stored_and_hostile_names_neutralised() -> None:
    raw = message(attachments=[("../../etc/passwd.pdf", b"%PDF-1.4 test", "application/pdf")])
    case = email_ingest(raw, source="file").case
    attachment = case.attachments.get()
    assert "/" not in attachment.stored_name and ".." not in attachment.file.name
    assert attachment.original_name.endswith("passwd.pdf")


def test_agent_reply_carries_token_and_threading_headers(make_user, django_capture_on_commit_callbacks) -> None:
    from leitplanke.accounts.services import team_create

    team = team_create(actor=None, name="Energie")
    agent = make_user("agent", teams=[team])
    with django_capture_on_commit_callbacks(execute=True):
        case = email_ingest(message(), source="file").case
    case.team = team
    case.save(update_fields=["team"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        replies.reply_queue(
            actor=agent,
            case=case,
            to="erika@example.de",
            subject="Ihre Stromabrechnung",
            body="Guten Tag {{customer_name}}, wir haben die Abrechnung korrigiert.",
        )
    sent = mail.outbox[0]
    assert f"[{case.reference}]" in sent.subject
    assert "{{" not in sent.body
    inbound_id = case.interactions.get(kind=InteractionKind.INBOUND_MESSAGE).message_id
    assert f"<{inbound_id}>" in sent.extra_headers["References"]
    answer = email_ingest(
        message(subject=f"AW: {sent.subject}", headers={"In-Reply-To": sent.extra_headers["Message-ID"]}), source="file"
    )
    assert answer.case == case


def test_smtp_outage_leaves_reply_failed_and_retried(make_user, settings, django_capture_on_commit_callbacks) -> None:
    settings.EMAIL_BACKEND = "tests.intake.failing_backend.FailingBackend"
    with django_capture_on_commit_callbacks(execute=True):
        case = email_ingest(message(), source="file").case
    outbound = case.interactions.get(kind=InteractionKind.OUTBOUND_MESSAGE)
    assert outbound.delivery_status in ("failed", "gave_up")
    assert outbound.data["last_error"].startswith("ConnectionRefusedError")
