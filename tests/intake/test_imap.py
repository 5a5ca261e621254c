"""IMAP polling against a real IMAP server (tests/intake/imapserver.py) on 127.0.0.1."""

from __future__ import annotations

from unittest import mock

import pytest

from leitplanke.cases.models import Case, CaseType
from leitplanke.core.crypto import encrypt_secret
from leitplanke.intake import imap
from leitplanke.intake.models import InboundEmail, Mailbox

from .imapserver import ImapTestServer
from .test_ingest import message

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server():
    with ImapTestServer() as running:
        yield running


def mailbox_for(server: ImapTestServer, **extra) -> Mailbox:
    return Mailbox.objects.create(
        name="Beschwerden",
        address="complaints@example.org",
        host="127.0.0.1",
        port=server.port,
        use_ssl=False,
        username=server.store.user,
        password_encrypted=encrypt_secret(server.store.password),
        default_case_type=CaseType.objects.get_or_create(
            key="complaint", defaults={"name_de": "Beschwerde", "name_en": "Complaint"}
        )[0],
        **extra,
    )


def test_fetch_imports_each_message_once_and_flags_it(server) -> None:
    inbox = server.store.folder("INBOX")
    for n in range(3):
        inbox.append(message(subject=f"Beschwerde {n}", sender=f"kunde{n}@example.de"))
    box = mailbox_for(server)
    report = imap.fetch_mailbox(box)
    assert (report.imported, report.errors) == (3, [])
    assert Case.objects.count() == 3
    assert all("\\Seen" in m.flags for m in inbox.messages)
    box.refresh_from_db()
    assert box.last_uid == 3 and box.uid_validity == 1
    again = imap.fetch_mailbox(box)
    assert again.imported == 0
    inbox.append(message(subject="Noch eine"))
    assert imap.fetch_mailbox(box).imported == 1
    assert Case.objects.count() == 4


def test_crash_after_import_before_flagging_does_not_duplicate(server) -> None:
    inbox = server.store.folder("INBOX")
    inbox.append(message(subject="Erste"))
    inbox.append(message(subject="Zweite"))
    box = mailbox_for(server)
    with mock.patch.object(imap, "_mark_processed", side_effect=OSError("connection reset")):
        report = imap.fetch_mailbox(box)
    assert report.errors  # crashed after the first message was stored
    assert InboundEmail.objects.count() == 1
    box.refresh_from_db()
    report = imap.fetch_mailbox(box)
    assert report.errors == []
    assert InboundEmail.objects.count() == 2
    assert Case.objects.count() == 2
    assert all("\\Seen" in m.flags for m in inbox.messages)


def test_processed_mail_is_moved_when_configured(server) -> None:
    server.store.folder("INBOX").append(message())
    box = mailbox_for(server, processed_folder="Processed")
    assert imap.fetch_mailbox(box).imported == 1
    assert server.store.folder("INBOX").messages == []
    assert len(server.store.folder("Processed").messages) == 1


def test_wrong_password_is_recorded_not_raised(server) -> None:
    box = mailbox_for(server)
    box.password_encrypted = encrypt_secret("wrong")
    box.save()
    report = imap.fetch_mailbox(box)
    assert report.errors and report.imported == 0
    box.refresh_from_db()
    assert "failed" in box.last_error


def test_new_uidvalidity_restarts_without_duplicates(server) -> None:
    inbox = server.store.folder("INBOX")
    inbox.append(message(subject="A"))
    box = mailbox_for(server)
    imap.fetch_mailbox(box)
    inbox.uid_validity = 7
    for m in inbox.messages:
        m.flags.clear()
    box.refresh_from_db()
    imap.fetch_mailbox(box)
    assert Case.objects.count() == 1  # same Message-ID: recognised as duplicate
    box.refresh_from_db()
    assert box.uid_validity == 7


def test_mail_fetch_command(server, capsys) -> None:
    from django.core.management import call_command

    server.store.folder("INBOX").append(message())
    mailbox_for(server)
    call_command("leitplanke_mail", "fetch")
    assert "1 imported" in capsys.readouterr().out


def test_the_time_of_receipt_is_the_imap_internal_date_not_the_date_header(server) -> None:
    """The sender's Date header said "now"; the message reached the mailbox on 5 January."""
    import datetime as dt

    inbox = server.store.folder("INBOX")
    inbox.append(message(subject="Alte Post"))
    inbox.messages[-1].internal_date = "05-Jan-2026 10:00:00 +0100"
    imap.fetch_mailbox(mailbox_for(server))
    case = Case.objects.get()
    assert case.received_at == dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    assert InboundEmail.objects.get().received_at == case.received_at
