"""E-mail as customers write it (issue 23): each behaviour with a message shaped like the
client that sends it (Outlook, Gmail, Apple Mail, Thunderbird, phones, lists, DSNs)."""

from __future__ import annotations

import struct
import textwrap
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone, translation

from leitplanke.cases.list_selectors import case_list_page
from leitplanke.cases.models import Case, CaseType, InteractionKind
from leitplanke.intake import mailparse, replies
from leitplanke.intake.models import InboundEmail, InboundStatus
from leitplanke.intake.public import public_timeline
from leitplanke.intake.services import email_ingest

pytestmark = pytest.mark.django_db


def crlf(text: str) -> bytes:
    return textwrap.dedent(text).lstrip("\n").replace("\n", "\r\n").encode("utf-8")


def gmail(
    subject: str = "Falsche Abrechnung",
    body: str = "Sehr geehrte Damen und Herren, meine Rechnung ist falsch. Bitte prüfen Sie das.",
    *,
    sender: str = "Erika Muster <erika@example.de>",
    headers: dict[str, str] | None = None,
    date: str | None = "Mon, 05 Jan 2026 10:00:00 +0100",
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "beschwerde@stadtwerke.example"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 05 Jan 2026 10:00:00 +0100"
    msg["Message-ID"] = make_msgid(domain="mail.gmail.com")
    msg["MIME-Version"] = "1.0"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    msg.add_alternative(f'<div dir="ltr">{body}</div>', subtype="html")
    raw = msg.as_bytes()  # the date as the sender wrote it, even when the policy would refuse it
    date_line = b"Date: " + date.encode() + b"\n" if date is not None else b""
    return raw.replace(b"Date: Mon, 05 Jan 2026 10:00:00 +0100\n", date_line, 1)


def ingest(raw: bytes, capture: Any, **kwargs: Any) -> Any:
    with capture(execute=True):
        return email_ingest(raw, source=kwargs.pop("source", "file"), **kwargs)


def system_texts(case: Case, language: str) -> list[str]:
    texts: list[str] = []
    for entry in case.interactions.filter(kind=InteractionKind.SYSTEM).order_by("id"):
        texts.extend(entry.data.get("texts", {}).get(language, []))
    return texts


# --- text and no text ---------------------------------------------------------------------


OUTLOOK_HTML_ONLY = crlf("""
    From: "Jens Becker" <jens.becker@example.de>
    To: <beschwerde@stadtwerke.example>
    Subject: Stromzaehler defekt
    Date: Tue, 6 Jan 2026 08:12:44 +0000
    Message-ID: <AM0PR01MB1234ABCD@AM0PR01MB1234.eurprd01.prod.outlook.com>
    Thread-Index: AdqBcDEFabcdefghijklmnopqrstuv==
    Content-Type: text/html; charset="windows-1252"
    Content-Transfer-Encoding: quoted-printable
    MIME-Version: 1.0

    <html xmlns:o=3D"urn:schemas-microsoft-com:office:office"><head><style><!--p.MsoNormal {margin:0cm;}--></style></head>
    <body lang=3D"DE"><div class=3DWordSection1><p class=3DMsoNormal>Guten Tag,<o:p></o:p></p>
    <p class=3DMsoNormal>mein Stromz=E4hler l=E4uft seit dem Austausch r=FCckw=E4rts. Kundennummer Wasserturm-77.<o:p></o:p></p>
    <p class=3DMsoNormal>Mit freundlichen Gr=FC=DFen<br>Jens Becker<o:p></o:p></p></div></body></html>
    """)


def test_html_only_text_becomes_the_description_and_is_searchable(
    admin_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    result = ingest(OUTLOOK_HTML_ONLY, django_capture_on_commit_callbacks)
    assert result.status == InboundStatus.NEW_CASE
    case = result.case
    assert "Stromzähler läuft seit dem Austausch rückwärts" in case.description
    assert "MsoNormal" not in case.description and "<" not in case.description
    found = case_list_page(actor=admin_user, params={"q": "Wasserturm"}, cursor=None).items
    assert [c.pk for c in found] == [case.pk]


IPHONE_SCAN_ONLY = crlf("""
    From: Maria Schulz <m.schulz@example.de>
    To: beschwerde@stadtwerke.example
    Subject: Zählerstand
    Date: Wed, 7 Jan 2026 18:30:01 +0100
    Message-Id: <4C1E8B0A-1F2D-4E6A-9C1B-7A2E5D3F9B10@example.de>
    Mime-Version: 1.0 (1.0)
    X-Mailer: iPhone Mail (21D61)
    Content-Type: multipart/mixed; boundary=Apple-Mail-1234

    --Apple-Mail-1234
    Content-Type: image/jpeg; name=IMG_0042.jpeg
    Content-Disposition: attachment; filename=IMG_0042.jpeg
    Content-Transfer-Encoding: base64

    /9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0a
    --Apple-Mail-1234--
    """)


def test_a_message_with_only_a_photo_opens_a_normal_case(django_capture_on_commit_callbacks: Any) -> None:
    result = ingest(IPHONE_SCAN_ONLY, django_capture_on_commit_callbacks)
    assert result.status == InboundStatus.NEW_CASE
    case = result.case
    message = case.interactions.get(kind=InteractionKind.INBOUND_MESSAGE)
    assert message.body_text == "" and message.attachments.get().original_name == "IMG_0042.jpeg"
    assert len(mail.outbox) == 1  # a normal case: acknowledged


THUNDERBIRD_FORWARD_AS_ATTACHMENT = crlf("""
    From: Paul Richter <paul.richter@example.de>
    To: beschwerde@stadtwerke.example
    Subject: Fwd: Ihre Mahnung
    Date: Thu, 8 Jan 2026 09:00:00 +0100
    Message-ID: <6b1c2d3e-fwd@example.de>
    User-Agent: Mozilla Thunderbird
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="------------fwd"

    --------------fwd
    Content-Type: text/plain; charset=UTF-8; format=flowed

    --------------fwd
    Content-Type: message/rfc822; name="Ihre Mahnung.eml"
    Content-Disposition: attachment; filename="Ihre Mahnung.eml"

    From: Inkasso <noreply@inkasso.example>
    Subject: Ihre Mahnung
    Date: Wed, 7 Jan 2026 07:00:00 +0100
    Content-Type: text/plain; charset=UTF-8

    Sie schulden uns 312,40 EUR aus der Jahresabrechnung.
    --------------fwd--
    """)

ANDROID_TEXT_WITH_FILE_NAME = crlf("""
    From: Anna Vogel <anna.vogel@example.de>
    To: beschwerde@stadtwerke.example
    Subject: Abschlag
    Date: Thu, 8 Jan 2026 10:00:00 +0100
    Message-ID: <android.123@example.de>
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="--_com.android.email_1"

    ----_com.android.email_1
    Content-Type: text/plain; charset=utf-8; name="text_0.txt"
    Content-Disposition: inline; filename="text_0.txt"
    Content-Transfer-Encoding: 8bit

    Der Abschlag wurde zweimal abgebucht.
    ----_com.android.email_1--
    """)

TOP_LEVEL_RFC822 = crlf("""
    From: Weiterleitung <relay@example.de>
    To: beschwerde@stadtwerke.example
    Subject: Weitergeleitete Beschwerde
    Date: Thu, 8 Jan 2026 11:00:00 +0100
    Message-ID: <toplevel.1@example.de>
    MIME-Version: 1.0
    Content-Type: message/rfc822

    From: Karl Klein <karl@example.de>
    Subject: Gasrechnung zu hoch
    Date: Thu, 8 Jan 2026 10:30:00 +0100
    Content-Type: text/plain; charset=UTF-8

    Meine Gasrechnung ist dreimal so hoch wie letztes Jahr.
    """)

DIGEST = crlf("""
    From: Sammelpost <sammel@example.de>
    To: beschwerde@stadtwerke.example
    Subject: Drei Nachrichten meiner Nachbarn
    Date: Thu, 8 Jan 2026 12:00:00 +0100
    Message-ID: <digest.1@example.de>
    MIME-Version: 1.0
    Content-Type: multipart/digest; boundary="D"

    --D

    From: Nachbar Eins <eins@example.de>
    Subject: Straßenlaterne

    Die Laterne ist seit Wochen aus.
    --D

    From: Nachbar Zwei <zwei@example.de>
    Subject: Wasserdruck

    Der Wasserdruck ist zu niedrig.
    --D--
    """)


@pytest.mark.parametrize(
    ("raw", "expected_text"),
    [
        (THUNDERBIRD_FORWARD_AS_ATTACHMENT, "Sie schulden uns 312,40 EUR"),
        (ANDROID_TEXT_WITH_FILE_NAME, "Der Abschlag wurde zweimal abgebucht."),
        (TOP_LEVEL_RFC822, "Meine Gasrechnung ist dreimal so hoch"),
        (DIGEST, "Der Wasserdruck ist zu niedrig."),
    ],
    ids=["forwarded-without-comment", "text-part-with-file-name", "top-level-message-rfc822", "digest"],
)
def test_messages_without_text_of_their_own_still_open_a_readable_case(
    raw: bytes, expected_text: str, django_capture_on_commit_callbacks: Any
) -> None:
    result = ingest(raw, django_capture_on_commit_callbacks)
    assert result.status == InboundStatus.NEW_CASE, result.inbound.reason
    assert expected_text in result.case.description
    message = result.case.interactions.get(kind=InteractionKind.INBOUND_MESSAGE)
    assert expected_text in message.body_text


def test_a_forward_without_comment_joins_the_case_it_answers(django_capture_on_commit_callbacks: Any) -> None:
    first = ingest(gmail(), django_capture_on_commit_callbacks)
    ack_id = first.case.interactions.get(kind=InteractionKind.OUTBOUND_MESSAGE).message_id
    raw = THUNDERBIRD_FORWARD_AS_ATTACHMENT.replace(b"User-Agent: Mozilla Thunderbird", f"In-Reply-To: <{ack_id}>".encode())
    result = ingest(raw, django_capture_on_commit_callbacks)
    assert result.status == InboundStatus.THREADED and result.case == first.case


# --- delivery failures ----------------------------------------------------------------------


def postfix_dsn(original_id: str, recipient: str) -> bytes:
    return crlf(f"""
        Return-Path: <>
        From: MAILER-DAEMON@mx.stadtwerke.example (Mail Delivery System)
        To: beschwerde@stadtwerke.example
        Subject: Undelivered Mail Returned to Sender
        Date: Fri, 9 Jan 2026 08:00:00 +0100
        Message-Id: <20260109070000.ABC123@mx.stadtwerke.example>
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="ABC123.1767945600/mx"

        --ABC123.1767945600/mx
        Content-Description: Notification
        Content-Type: text/plain; charset=us-ascii

        This is the mail system at host mx.stadtwerke.example.

        I'm sorry to have to inform you that your message could not
        be delivered to one or more recipients.

        <{recipient}>: host mx.example.de[192.0.2.1] said: 550 5.1.1 <{recipient}>:
            Recipient address rejected: User unknown in virtual mailbox table

        --ABC123.1767945600/mx
        Content-Description: Delivery report
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.stadtwerke.example

        Final-Recipient: rfc822; {recipient}
        Action: failed
        Status: 5.1.1

        --ABC123.1767945600/mx
        Content-Description: Undelivered Message Headers
        Content-Type: text/rfc822-headers

        From: beschwerde@stadtwerke.example
        To: {recipient}
        Subject: Ihr Anliegen
        Message-ID: <{original_id}>

        --ABC123.1767945600/mx--
        """)


def test_a_delivery_failure_marks_the_reply_bounced_and_tells_the_agent(django_capture_on_commit_callbacks: Any) -> None:
    case = ingest(gmail(), django_capture_on_commit_callbacks).case
    ack = case.interactions.get(kind=InteractionKind.OUTBOUND_MESSAGE)
    assert ack.delivery_status == "sent"
    result = ingest(postfix_dsn(ack.message_id, "erika@example.de"), django_capture_on_commit_callbacks)
    assert result.status == InboundStatus.BOUNCE and result.case == case
    ack.refresh_from_db()
    assert ack.delivery_status == "bounced"
    assert Case.objects.count() == 1 and len(mail.outbox) == 1  # no case, no answer to the daemon
    english = " ".join(system_texts(case, "en"))
    german = " ".join(system_texts(case, "de"))
    assert "could not be delivered" in english and "erika@example.de" in english and "User unknown" in english
    assert "konnte nicht zugestellt werden" in german
    assert all(entry.is_internal for entry in case.interactions.filter(kind=InteractionKind.SYSTEM))


def exchange_ndr(original_id: str) -> bytes:
    return crlf(f"""
        From: Microsoft Outlook <postmaster@contoso.onmicrosoft.com>
        To: <beschwerde@stadtwerke.example>
        Subject: Unzustellbar: Ihr Anliegen
        Date: Fri, 9 Jan 2026 09:00:00 +0000
        Message-ID: <ndr.1@contoso.onmicrosoft.com>
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="NDR"
        X-MS-Exchange-Message-Is-Ndr:

        --NDR
        Content-Type: text/plain; charset="us-ascii"

        Delivery has failed to these recipients or groups:
        kunde@contoso.example
        The email address you entered couldn't be found. 550 5.1.10 RESOLVER.ADR.RecipientNotFound
        --NDR
        Content-Type: message/delivery-status

        Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.outlook.com

        Final-recipient: RFC822; kunde@contoso.example
        Action: failed
        Status: 5.1.10
        --NDR
        Content-Type: message/rfc822

        From: <beschwerde@stadtwerke.example>
        To: <kunde@contoso.example>
        Subject: Ihr Anliegen
        Message-ID: <{original_id}>

        Guten Tag
        --NDR--
        """)


def test_an_exchange_ndr_for_an_agent_reply_marks_it_bounced(make_user: Any, django_capture_on_commit_callbacks: Any) -> None:
    case = ingest(gmail(sender="kunde@contoso.example"), django_capture_on_commit_callbacks).case
    agent = make_user("administrator")
    with django_capture_on_commit_callbacks(execute=True):
        reply = replies.reply_queue(actor=agent, case=case, to="kunde@contoso.example", subject="Antwort", body="Guten Tag")
    result = ingest(exchange_ndr(reply.message_id), django_capture_on_commit_callbacks)
    assert result.status == InboundStatus.BOUNCE and result.case == case
    reply.refresh_from_db()
    assert reply.delivery_status == "bounced"
    ack = case.interactions.filter(kind=InteractionKind.OUTBOUND_MESSAGE).exclude(pk=reply.pk).get()
    assert ack.delivery_status == "sent"


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "code", "english"),
    [
        (None, "date_missing", "no sending date"),
        ("gestern abend", "date_invalid", "“gestern abend” could not be read"),
        ("Fri, 31 Dec 1999 23:59:00 +0100", None, None),
        ("Sat, 01 Jan 2000 00:00:00 +0000", None, None),
    ],
)
def test_receipt_is_when_the_message_arrived_and_the_date_header_is_kept(
    date: str | None, code: str | None, english: str | None, django_capture_on_commit_callbacks: Any
) -> None:
    before = timezone.now()
    result = ingest(gmail(date=date), django_capture_on_commit_callbacks)
    assert result.status == InboundStatus.NEW_CASE, result.inbound.reason
    case = result.case
    assert case.received_at >= before and case.received_at == result.inbound.received_at
    message = case.interactions.get(kind=InteractionKind.INBOUND_MESSAGE)
    assert message.occurred_at == case.received_at
    assert message.data["date_header"] == (date or "")
    notes = [note["code"] for entry in case.interactions.filter(kind="system") for note in entry.data.get("notes", [])]
    if code:
        assert code in notes and any(english in text for text in system_texts(case, "en"))
    else:
        assert not any(n.startswith("date_") for n in notes)


def test_imap_internal_date_is_the_time_of_receipt(django_capture_on_commit_callbacks: Any) -> None:
    arrived = timezone.now() - timezone.timedelta(hours=3)
    result = ingest(gmail(date="Thu, 01 Jan 1970 00:00:00 +0000"), django_capture_on_commit_callbacks, received_at=arrived)
    assert result.case.received_at == arrived


# --- Reply-To, language ------------------------------------------------------------------


def test_reply_to_receives_the_acknowledgement_and_is_kept_on_the_message(django_capture_on_commit_callbacks: Any) -> None:
    raw = gmail(headers={"Reply-To": "Erika privat <erika.privat@example.org>"})
    case = ingest(raw, django_capture_on_commit_callbacks).case
    assert mail.outbox[0].to == ["erika.privat@example.org"]
    message = case.interactions.get(kind=InteractionKind.INBOUND_MESSAGE)
    assert message.data["reply_to"] == ["erika.privat@example.org"]
    from leitplanke.intake.selectors import reply_recipient

    assert reply_recipient(case) == "erika.privat@example.org"


def test_an_english_complaint_gets_an_english_acknowledgement(django_capture_on_commit_callbacks: Any) -> None:
    raw = gmail(
        subject="Complaint about my bill",
        body="Dear Sir or Madam, you have charged my account twice this month. Please refund the second payment.",
        sender="John Smith <john.smith@example.co.uk>",
    )
    case = ingest(raw, django_capture_on_commit_callbacks).case
    assert case.language == "en"
    assert mail.outbox[0].subject.startswith("Your message")
    assert case.customer.preferred_language == "en"


def test_a_german_complaint_from_a_customer_who_prefers_english_is_answered_in_german(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from leitplanke.customers.services import customer_create

    customer_create(actor=None, first_name="Ann", last_name="Lee", emails=["ann@example.org"], preferred_language="en")
    case = ingest(gmail(sender="ann@example.org"), django_capture_on_commit_callbacks).case
    assert case.language == "de" and mail.outbox[0].subject.startswith("Ihr Anliegen")
    undecided = ingest(gmail(sender="ann@example.org", subject="LP", body="12345"), django_capture_on_commit_callbacks).case
    assert undecided.language == "en"  # nothing to tell: the customer's preference


# --- nothing cut silently, attachments kept ---------------------------------------------------


def test_a_long_description_is_shortened_with_a_note_and_the_full_text_is_kept(
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mailparse, "MAX_TEXT_CHARS", 30_000)
    body = "Sehr geehrte Damen und Herren, " + "die Rechnung ist falsch. " * 2_000  # 50,000 characters
    case = ingest(gmail(body=body), django_capture_on_commit_callbacks).case
    assert len(case.description) == 20_000
    message = case.interactions.get(kind=InteractionKind.INBOUND_MESSAGE)
    assert len(message.body_text) == 30_000
    full = case.attachments.get(original_name="full-text.txt")
    assert full.file.read().decode() == body.strip()
    english = " ".join(system_texts(case, "en"))
    assert "first 20000 characters" in english and "full-text.txt" in english


def tnef(*files: tuple[str, bytes]) -> bytes:
    """A minimal winmail.dat (TNEF) with attached files, as Outlook builds it."""

    def attribute(level: int, name: int, kind: int, data: bytes) -> bytes:
        return struct.pack("<BHHI", level, name, kind, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)

    out = struct.pack("<IH", 0x223E9F78, 0x0101) + attribute(1, 0x9006, 0x0006, struct.pack("<I", 0x00010000))
    for name, content in files:
        out += attribute(2, 0x9002, 0x0006, b"\x01\x00\xff\xff\xff\xff\x01\x00\x01\x00\x00\x00\x00\x00")
        out += attribute(2, 0x8010, 0x0001, name.encode("cp1252") + b"\x00")
        out += attribute(2, 0x800F, 0x0006, content)
    return out


BMP = b"BM" + struct.pack("<IHHII", 66, 0, 0, 54, 40) + b"\x00" * 52
P7S = bytes.fromhex("308206a806092a864886f70d010702a0820699") + b"\x00" * 40


def outlook_with_attachments(files: list[tuple[str, str, bytes]]) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Jens Becker <jens.becker@example.de>"
    msg["To"] = "beschwerde@stadtwerke.example"
    msg["Subject"] = "Unterlagen zur Beschwerde"
    msg["Message-ID"] = make_msgid(domain="outlook.example")
    msg.set_content("Sehr geehrte Damen und Herren, anbei die Unterlagen. Mit freundlichen Grüßen")
    for name, mime, content in files:
        maintype, subtype = mime.split("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def test_unusual_harmless_attachments_are_kept_and_risky_ones_kept_for_download_only(
    django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.LEITPLANKE_MAX_ATTACHMENT_BYTES = 50_000
    long_name = "Rechnung vom 12. Januar 2026 mit allen Anlagen und der Stellungnahme meines Anwalts " * 3 + ".pdf"
    files = [
        ("winmail.dat", "application/ms-tnef", tnef(("Zaehlerfoto.pdf", b"%PDF-1.4 foto"))),
        ("smime.p7s", "application/pkcs7-signature", P7S),
        ("scan.bmp", "image/bmp", BMP),
        ("rechnung.pdf.exe", "application/octet-stream", b"MZ\x90\x00" + b"\x00" * 60),
        ("riesig.pdf", "application/pdf", b"%PDF-1.4" + b"0" * 60_000),
        (long_name, "application/pdf", b"%PDF-1.4 lang"),
    ]
    case = ingest(outlook_with_attachments(files), django_capture_on_commit_callbacks).case
    kept = {a.original_name: a for a in case.attachments.all()}
    assert {"winmail.dat", "Zaehlerfoto.pdf", "smime.p7s", "scan.bmp", "rechnung.pdf.exe"} <= set(kept)
    assert kept["Zaehlerfoto.pdf"].file.read() == b"%PDF-1.4 foto"
    assert kept["scan.bmp"].content_type == "image/bmp" and not kept["scan.bmp"].download_only
    assert kept["smime.p7s"].content_type == "application/pkcs7-signature"
    assert kept["winmail.dat"].content_type == "application/vnd.ms-tnef"
    exe = kept["rechnung.pdf.exe"]
    assert exe.download_only and exe.content_type == "application/octet-stream" and exe.download_note == "program"
    assert "riesig.pdf" not in kept
    assert any(name.startswith("Rechnung vom 12. Januar") for name in kept)
    english, german = " ".join(system_texts(case, "en")), " ".join(system_texts(case, "de"))
    assert "“riesig.pdf”" in english and "larger than" in english and "größer als" in german
    assert "“rechnung.pdf.exe” may be harmful" in english and "nur zum Herunterladen" in german


# --- spam, lists, daemons --------------------------------------------------------------------


DMARC_FAIL = "mx.stadtwerke.example; spf=fail smtp.mailfrom=example.de; dmarc=fail (p=REJECT) header.from=example.de"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Spam-Flag": "YES", "X-Spam-Status": "Yes, score=12.3 required=5.0"},
        {"Authentication-Results": DMARC_FAIL},
    ],
    ids=["spamassassin", "dmarc-fail"],
)
def test_upstream_spam_verdicts_are_held_for_review_without_case_or_acknowledgement(
    headers: dict[str, str], django_capture_on_commit_callbacks: Any
) -> None:
    result = ingest(gmail(headers=headers), django_capture_on_commit_callbacks)
    assert result.status == InboundStatus.REVIEW and result.inbound.reason_code == "spam"
    assert Case.objects.count() == 0 and mail.outbox == []


@pytest.mark.parametrize(
    ("sender", "extra"),
    [
        ("verein-request@lists.example.org", {}),
        ("MAILER-DAEMON@mx.example.de", {}),
        ('"Mail Delivery Subsystem" <mailer@googlemail.com>', {}),
        ("erika@example.de", {"Reply-To": "owner-kunden@lists.example.org"}),
    ],
)
def test_list_and_daemon_senders_open_a_case_but_are_never_acknowledged(
    sender: str, extra: dict[str, str], django_capture_on_commit_callbacks: Any
) -> None:
    result = ingest(gmail(sender=sender, headers=extra), django_capture_on_commit_callbacks)
    assert result.status == InboundStatus.NEW_CASE
    assert mail.outbox == []
    assert "No acknowledgement was sent" in " ".join(system_texts(result.case, "en"))


def test_a_digest_opens_a_case_without_acknowledgement(django_capture_on_commit_callbacks: Any) -> None:
    result = ingest(DIGEST, django_capture_on_commit_callbacks)
    assert result.status == InboundStatus.NEW_CASE and mail.outbox == []


@pytest.mark.parametrize(
    "headers", [{"Auto-Submitted": "auto-generated"}, {"Precedence": "list"}, {"Precedence": "bulk"}, {"Precedence": "junk"}]
)
def test_automatic_and_bulk_mail_is_never_acknowledged(headers: dict[str, str], django_capture_on_commit_callbacks: Any) -> None:
    result = ingest(gmail(headers=headers), django_capture_on_commit_callbacks)
    assert result.status == InboundStatus.AUTO_REPLY and mail.outbox == []


# --- headers built from case data -------------------------------------------------------------


def test_a_subject_with_a_line_break_does_not_stop_acknowledgements_or_replies(
    admin_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    raw = gmail(subject="=?utf-8?q?Rechnung=0A_falsch?=")
    case = ingest(raw, django_capture_on_commit_callbacks).case
    assert len(mail.outbox) == 1 and "\n" not in mail.outbox[0].subject
    Case.objects.filter(pk=case.pk).update(subject="Zeile eins\r\nBcc: opfer@example.org")
    case.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        reply = replies.reply_queue(actor=admin_user, case=case, to="erika@example.de", subject="{{case_subject}}", body="Hallo")
    reply.refresh_from_db()
    assert reply.delivery_status == "sent"
    assert mail.outbox[-1].subject.startswith("Zeile eins Bcc: opfer@example.org")
    assert mail.outbox[-1].recipients() == ["erika@example.de"]


def test_a_send_that_fails_for_good_is_visible_on_the_case(settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    settings.EMAIL_BACKEND = "tests.intake.failing_backend.BrokenMessageBackend"
    case = ingest(gmail(), django_capture_on_commit_callbacks).case
    ack = case.interactions.get(kind=InteractionKind.OUTBOUND_MESSAGE)
    assert ack.delivery_status == "gave_up" and ack.data["attempts"] == 1  # not retried: it cannot succeed
    with translation.override("de"):
        assert "konnte nicht gesendet werden" in " ".join(system_texts(case, "de"))
    assert "could not be sent and will not be retried" in " ".join(system_texts(case, "en"))


# --- quarantine ------------------------------------------------------------------------------


def test_quarantine_keeps_sender_subject_and_a_specific_reason(django_capture_on_commit_callbacks: Any) -> None:
    CaseType.objects.update(is_active=False)
    result = ingest(gmail(subject="Kein Falltyp"), django_capture_on_commit_callbacks)
    inbound = InboundEmail.objects.get(pk=result.inbound.pk)
    assert inbound.status == InboundStatus.QUARANTINED and inbound.reason_code == "no_case_type"
    assert (inbound.from_address, inbound.subject) == ("erika@example.de", "Kein Falltyp")
    garbage = ingest(b"\x89PNG\r\n\x1a\n\x00\x00binary", django_capture_on_commit_callbacks).inbound
    assert garbage.reason_code == "no_header"


# --- a stranger naming a case -----------------------------------------------------------------


def test_a_stranger_naming_a_case_is_held_for_review_not_shown_to_the_customer(
    django_capture_on_commit_callbacks: Any,
) -> None:
    case = ingest(gmail(), django_capture_on_commit_callbacks).case
    stranger = gmail(
        subject=f"Re: [{case.reference}] Ihre Daten", sender="mallory@evil.example", body="Ich bin es, bitte Adresse ändern."
    )
    result = ingest(stranger, django_capture_on_commit_callbacks)
    assert result.status == InboundStatus.REVIEW and result.inbound.reason_code == "unknown_sender"
    assert result.case is not None and result.case.pk == case.pk  # named for the reviewer
    assert case.interactions.filter(kind=InteractionKind.INBOUND_MESSAGE).count() == 1
    assert all("mallory" not in entry.author_label for entry in public_timeline(case))
    assert len(mail.outbox) == 1  # only the customer's acknowledgement


@pytest.mark.parametrize(
    "sender", ["erika@example.de", "Erika <ERIKA@example.de>", "mann.von.erika@example.de", "anwalt@kanzlei.example"]
)
def test_people_known_on_the_case_thread_by_the_reference(sender: str, django_capture_on_commit_callbacks: Any) -> None:
    from leitplanke.customers.services import customer_create

    customer_create(actor=None, first_name="Erika", last_name="Muster", emails=["erika@example.de", "mann.von.erika@example.de"])
    raw = gmail(headers={"Cc": "Anwalt <anwalt@kanzlei.example>"})
    case = ingest(raw, django_capture_on_commit_callbacks).case
    result = ingest(gmail(subject=f"AW: [{case.reference}]", sender=sender), django_capture_on_commit_callbacks)
    assert result.status == InboundStatus.THREADED and result.case == case


def test_an_accepted_review_is_added_to_the_named_case(admin_user: Any, django_capture_on_commit_callbacks: Any) -> None:
    from leitplanke.intake.admin_services import inbound_accept

    case = ingest(gmail(), django_capture_on_commit_callbacks).case
    held = ingest(gmail(subject=f"[{case.reference}] Nachtrag", sender="nachbar@example.de"), django_capture_on_commit_callbacks)
    accepted = inbound_accept(actor=admin_user, inbound=held.inbound)
    assert accepted.status == InboundStatus.THREADED and accepted.case == case
    assert accepted.inbound.pk == held.inbound.pk
    assert case.interactions.filter(kind=InteractionKind.INBOUND_MESSAGE).count() == 2
    spam = ingest(gmail(headers={"X-Spam-Flag": "YES"}), django_capture_on_commit_callbacks)
    opened = inbound_accept(actor=admin_user, inbound=spam.inbound)
    assert opened.status == InboundStatus.NEW_CASE
