"""IMAP polling with exactly-once intake.

Each message is identified by (UIDVALIDITY, UID). A message is taken when its UID is
above the mailbox's `last_uid`. The InboundEmail row (unique per mailbox and UID) is
committed first, then the message is flagged or moved on the server, then `last_uid`
advances. A crash at any point neither loses a message nor imports it twice: after a
restart, UIDs already recorded are only flagged/moved, not imported again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import imaplib
import logging
import re
import ssl
import time
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from leitplanke.core.crypto import decrypt_secret

from .models import InboundEmail, InboundSource, Mailbox
from .services import email_ingest

logger = logging.getLogger(__name__)
UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
BATCH = 200
TIMEOUT_SECONDS = 60


@dataclass
class FetchReport:
    mailbox: str
    imported: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def _connect(mailbox: Mailbox) -> imaplib.IMAP4:
    if mailbox.use_ssl:
        client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            mailbox.host, mailbox.port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT_SECONDS
        )
    else:
        client = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT_SECONDS)
    client.login(mailbox.username, decrypt_secret(mailbox.password_encrypted))
    return client


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _select(client: imaplib.IMAP4, mailbox: Mailbox) -> int:
    status, data = client.select(_quote(mailbox.folder))
    if status != "OK":
        raise imaplib.IMAP4.error(f"cannot select folder {mailbox.folder!r}")
    status, response = client.response("UIDVALIDITY")
    if response and response[0]:
        return int(response[0])
    status, data = client.status(_quote(mailbox.folder), "(UIDVALIDITY)")
    match = UIDVALIDITY.search(data[0] or b"") if data else None
    return int(match.group(1)) if match else 0


def _new_uids(client: imaplib.IMAP4, after: int) -> list[int]:
    status, data = client.uid("SEARCH", f"UID {after + 1}:*")
    if status != "OK" or not data or not data[0]:
        return []
    # "n:*" always returns the highest UID even when it is below n.
    return sorted(uid for uid in (int(part) for part in data[0].split()) if uid > after)


def _fetch_raw(client: imaplib.IMAP4, uid: int) -> tuple[bytes, dt.datetime | None] | None:
    """The message's bytes and its INTERNALDATE: when it reached the mailbox, which is the
    time of receipt (the sender's Date header is not)."""
    status, data = client.uid("FETCH", str(uid), "(INTERNALDATE BODY.PEEK[])")
    if status != "OK":
        return None
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return bytes(item[1]), _internal_date(item[0])
    return None


def _internal_date(response: bytes) -> dt.datetime | None:
    parsed = imaplib.Internaldate2tuple(response)  # None when the server sent none
    if parsed is None:
        return None
    return dt.datetime.fromtimestamp(time.mktime(parsed), tz=dt.UTC)


def _mark_processed(client: imaplib.IMAP4, mailbox: Mailbox, uid: int) -> None:
    if mailbox.processed_folder:
        status, _ = client.uid("COPY", str(uid), _quote(mailbox.processed_folder))
        if status == "OK":
            client.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted \Seen)")
            return
    client.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Seen)")


def fetch_mailbox(mailbox: Mailbox) -> FetchReport:
    report = FetchReport(mailbox=mailbox.address)
    try:
        client = _connect(mailbox)
    except (OSError, imaplib.IMAP4.error, Exception) as error:
        _record_error(mailbox, f"connect/login failed: {error}")
        report.errors.append(str(error))
        return report
    try:
        validity = _select(client, mailbox)
        if mailbox.uid_validity != validity:
            # A new UIDVALIDITY means the server renumbered the folder: start over;
            # Message-ID de-duplication keeps already imported mail from coming in twice.
            Mailbox.objects.filter(pk=mailbox.pk).update(uid_validity=validity, last_uid=0)
            mailbox.uid_validity, mailbox.last_uid = validity, 0
        for uid in _new_uids(client, mailbox.last_uid)[:BATCH]:
            if InboundEmail.objects.filter(mailbox=mailbox, imap_uid=uid).exists():
                report.skipped += 1
            else:
                fetched = _fetch_raw(client, uid)
                if fetched is None:
                    report.errors.append(f"UID {uid}: fetch failed")
                    break
                raw, arrived = fetched
                try:
                    email_ingest(raw, source=InboundSource.IMAP, mailbox=mailbox, imap_uid=uid, received_at=arrived)
                    report.imported += 1
                except IntegrityError:  # another fetch took this UID at the same moment
                    report.skipped += 1
            # Flag/move first, then advance last_uid: after a crash in between, the UID is
            # seen again, recognised by its InboundEmail row and only flagged/moved.
            _mark_processed(client, mailbox, uid)
            with transaction.atomic():
                Mailbox.objects.filter(pk=mailbox.pk, last_uid__lt=uid).update(last_uid=uid)
            mailbox.last_uid = max(mailbox.last_uid, uid)
        if mailbox.processed_folder:
            client.expunge()
        Mailbox.objects.filter(pk=mailbox.pk).update(last_fetch_at=timezone.now(), last_error="")
    except (OSError, imaplib.IMAP4.error) as error:
        _record_error(mailbox, str(error))
        report.errors.append(str(error))
    finally:
        with contextlib.suppress(Exception):  # the connection may already be gone
            client.logout()
    return report


def _record_error(mailbox: Mailbox, message: str) -> None:
    logger.warning("mailbox %s: %s", mailbox.address, message)
    Mailbox.objects.filter(pk=mailbox.pk).update(last_error=message[:2000], last_fetch_at=timezone.now())


def fetch_all() -> list[FetchReport]:
    return [fetch_mailbox(mailbox) for mailbox in Mailbox.objects.filter(is_active=True).order_by("pk")]
