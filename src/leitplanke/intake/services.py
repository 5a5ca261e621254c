"""E-mail intake: one pipeline for IMAP, file import and the API.

`email_ingest` keeps the raw message first (so nothing is ever lost), then parses it,
claims the message's identity (so that parallel deliveries of one message make one
case) and decides: duplicate, automatic reply or bounce (logged, never a case, never an
acknowledgement), held for review (upstream spam verdict; a stranger naming a case in
the subject), reply to an existing case (reference token or In-Reply-To / References),
or a new case for the customer found by sender address.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from leitplanke.cases import services as case_services
from leitplanke.cases.attachments import max_attachment_bytes
from leitplanke.cases.models import Case, CaseType, Channel, Interaction, InteractionKind
from leitplanke.core import events, rows, storedfiles
from leitplanke.core.audit import audit_record
from leitplanke.core.errors import ValidationFailed
from leitplanke.core.inserts import insert_row
from leitplanke.customers.models import Customer

from . import mailparse, reasons, run_cache
from .models import InboundEmail, InboundStatus, Mailbox, raw_message_path
from .run_cache import cached

logger = logging.getLogger(__name__)
DEFAULT_CASE_TYPE = "complaint"
DESCRIPTION_MAX = 20_000
SUBJECT_MAX = 255


@dataclass(frozen=True)
class IngestResult:
    inbound: InboundEmail
    status: str
    case: Case | None = None


@storedfiles.settling
def email_ingest(
    raw: bytes,
    *,
    source: str,
    mailbox: Mailbox | None = None,
    imap_uid: int | None = None,
    received_at: dt.datetime | None = None,
) -> IngestResult:
    """Takes one raw RFC 822 message through the whole intake. Never raises for bad mail.

    `received_at` is when the message reached the organisation (the IMAP internal date);
    without it, now (the import or the gateway call). The sender's Date header is kept as
    information only."""
    inbound = _keep_raw(raw, source=source, mailbox=mailbox, imap_uid=imap_uid, received_at=received_at)
    try:
        parsed = mailparse.parse_message(raw)
    except mailparse.UnparseableMessage as error:
        return _quarantine(inbound, error.code, f"unparseable: {error}")
    except Exception as error:  # a parser bug must not stop the fetch loop
        logger.exception("parser failed on inbound e-mail %s", inbound.pk)
        return _quarantine(inbound, "parser_error", f"parser error: {type(error).__name__}: {error}")
    return route_parsed(inbound, parsed, mailbox)


def route_parsed(inbound: InboundEmail, parsed: Any, mailbox: Mailbox | None, *, accepted: bool = False) -> IngestResult:
    """Routes a parsed message in one transaction; a failure quarantines it with the reason.
    `accepted`: an administrator accepted a message held for review (no second hold)."""
    try:
        with transaction.atomic():
            result = _route(inbound, parsed, mailbox, accepted=accepted)
    except Exception as error:
        logger.exception("intake failed on inbound e-mail %s", inbound.pk)
        return _quarantine(inbound, _failure_code(error), _failure_detail(error), parsed=parsed)
    if result.status == InboundStatus.NEW_CASE and parsed.from_address and result.case and result.case.customer_id:
        run_cache.remember(("customer", parsed.from_address), result.case.customer)
    return result


def _failure_code(error: Exception) -> str:
    if isinstance(error, NoCaseType):
        return "no_case_type"
    if isinstance(error, ValidationFailed):
        return "invalid_data"
    return "internal_error"


def _failure_detail(error: Exception) -> str:
    if isinstance(error, ValidationFailed) and error.field_errors:
        fields = "; ".join(f"{name}: {' '.join(str(m) for m in messages)}" for name, messages in error.field_errors.items())
        return f"could not be processed: {fields}"
    return f"could not be processed: {type(error).__name__}: {error}"


class NoCaseType(RuntimeError):
    pass


def _keep_raw(
    raw: bytes, *, source: str, mailbox: Mailbox | None, imap_uid: int | None, received_at: dt.datetime | None
) -> InboundEmail:
    """Stores the raw bytes and a quarantined record first; routing upgrades the status."""
    digest = hashlib.sha256(raw).hexdigest()
    now = timezone.now()
    # No savepoint inside a caller's transaction (a file import's batch): a failure here
    # ends the whole import anyway.
    with transaction.atomic(savepoint=False):
        inbound = InboundEmail(
            received_at=min(received_at, now) if received_at else now,
            source=source,
            mailbox=mailbox,
            imap_uid=imap_uid,
            raw_sha256=digest,
            raw_size=len(raw),
            status=InboundStatus.QUARANTINED,
            reason_code="processing",
            reason="processing",
        )
        # On disk only once the row has committed: staged now, moved into place on commit.
        storedfiles.stage(inbound.raw, raw_message_path(inbound, ""), raw)
        insert_row(inbound)
        audit_record(
            actor="intake",
            action="inbound_email.receive",
            obj=inbound,
            after={"source": source, "sha256": digest, "size": len(raw), "mailbox": mailbox.pk if mailbox else None},
        )
    return inbound


def _quarantine(inbound: InboundEmail, code: str, reason: str, *, parsed: Any = None) -> IngestResult:
    """Quarantines the message with a reason code (put into words on the screen), the
    technical details, and - when it could be read - its sender and subject."""
    # A quarantined message owns no identity: processing it again (or a new delivery) may claim it.
    changes: dict[str, Any] = {
        "status": InboundStatus.QUARANTINED,
        "reason_code": code,
        "reason": reason[:2000],
        "identity": None,
    }
    if parsed is not None:
        changes.update(_headers_of(parsed))
    with transaction.atomic():
        InboundEmail.objects.filter(pk=inbound.pk).update(**changes)
        audit_record(actor="intake", action="inbound_email.quarantine", obj=inbound, after={"code": code, "reason": reason[:500]})
    for name, value in changes.items():
        setattr(inbound, name, value)
    return IngestResult(inbound=inbound, status=InboundStatus.QUARANTINED)


def _headers_of(parsed: Any) -> dict[str, str]:
    return {
        "message_id": (parsed.message_id or "")[:500],
        "from_address": (parsed.from_address or parsed.from_name or "")[:320],
        "subject": (parsed.subject or "")[:500],
    }


def _finish(
    inbound: InboundEmail,
    status: str,
    *,
    case: Case | None = None,
    interaction: Interaction | None = None,
    reason: str = "",
    reason_code: str = "",
) -> IngestResult:
    inbound.status, inbound.reason, inbound.reason_code = status, reason, reason_code
    inbound.case, inbound.interaction = case, interaction
    with connection.cursor() as cursor:
        cursor.execute(
            _FINISH_SQL,
            [
                status,
                reason,
                reason_code,
                case.pk if case else None,
                interaction.pk if interaction else None,
                inbound.message_id,
                inbound.from_address,
                inbound.subject,
                inbound.pk,
            ],
        )
    audit_record(
        actor="intake",
        action=f"inbound_email.{status}",
        obj=inbound,
        after={"case": case.reference if case else None, "message_id": inbound.message_id, "reason": reason_code},
    )
    return IngestResult(inbound=inbound, status=status, case=case)


def _route(inbound: InboundEmail, parsed: Any, mailbox: Mailbox | None, *, accepted: bool) -> IngestResult:
    for name, value in _headers_of(parsed).items():
        setattr(inbound, name, value)
    if not accepted:
        duplicate = _claim_or_duplicate(inbound, parsed)
        if duplicate is not None:
            return duplicate
    if parsed.is_bounce or parsed.is_auto_reply:
        return _log_automatic(inbound, parsed)
    if parsed.spam_verdict and not accepted:
        return _finish(inbound, InboundStatus.REVIEW, reason_code="spam", reason=parsed.spam_verdict)
    case, by_reference_only = find_case(parsed)
    if case is not None and by_reference_only and not accepted and not sender_known_on_case(case, parsed):
        # Anyone can write a (guessable) reference into a subject: a stranger's message must
        # not land on another customer's case and status page. An administrator decides.
        return _finish(
            inbound,
            InboundStatus.REVIEW,
            case=case,
            reason_code="unknown_sender",
            reason=f"{parsed.from_address or parsed.from_name or 'unknown sender'} is not known on {case.reference}",
        )
    if case is not None:
        interaction = _add_message(case, parsed, inbound)
        return _finish(inbound, InboundStatus.THREADED, case=case, interaction=interaction)
    case, notes = _open_case(parsed, mailbox, inbound)
    interaction = _add_message(case, parsed, inbound, notes=notes)
    _send_acknowledgement(case, parsed, interaction)
    return _finish(inbound, InboundStatus.NEW_CASE, case=case, interaction=interaction)


def _claim_or_duplicate(inbound: InboundEmail, parsed: Any) -> IngestResult | None:
    """Claims the message's identity before any work: the unique `identity` column lets one
    delivery of a message through, whatever the concurrency (a parallel twin waits for the
    first transaction and then fails here; if the first rolls back, the twin goes on).
    Returns the duplicate's result, or None when this delivery owns the message."""
    identity = mailparse.message_identity(parsed)
    try:
        # PostgreSQL aborts a transaction at the first error: the claim gets a savepoint
        # there. SQLite undoes only the failed statement, so none is needed.
        with _savepoint_if_needed(), connection.cursor() as cursor:
            cursor.execute(_CLAIM_SQL, [identity, inbound.pk])
    except IntegrityError:
        earlier = InboundEmail.objects.filter(identity=identity).select_related("case").first()
        detail = "Message-ID imported before" if parsed.message_id else "same content imported before (no Message-ID)"
        return _finish(
            inbound, InboundStatus.DUPLICATE, case=earlier.case if earlier else None, reason=detail, reason_code="duplicate"
        )
    inbound.identity = identity
    if parsed.message_id and _on_a_timeline(parsed.message_id):
        # Our own reply coming back, or a message imported before identities were claimed.
        earlier_entry = _by_message_id(Interaction.objects, parsed.message_id).select_related("case").first()
        InboundEmail.objects.filter(pk=inbound.pk).update(identity=None)
        inbound.identity = None
        return _finish(
            inbound,
            InboundStatus.DUPLICATE,
            case=earlier_entry.case if earlier_entry else None,
            reason="Message-ID imported before",
            reason_code="duplicate",
        )
    return None


# Hot statements of every delivery, written once instead of compiled by the ORM each time.
# (Table names are the models' fixed ones; every value is a parameter.)
_CLAIM_SQL = "UPDATE intake_inboundemail SET identity = %s WHERE id = %s"
_FINISH_SQL = (
    "UPDATE intake_inboundemail SET status = %s, reason = %s, reason_code = %s, case_id = %s, "
    "interaction_id = %s, message_id = %s, from_address = %s, subject = %s WHERE id = %s"
)
_ON_TIMELINE_SQL = "SELECT 1 FROM cases_interaction WHERE message_id = %s AND NOT message_id = '' LIMIT 1"


def _savepoint_if_needed() -> Any:
    return contextlib.nullcontext() if connection.vendor == "sqlite" else transaction.atomic()


def _on_a_timeline(message_id: str) -> bool:
    """A timeline entry has this Message-ID (the partial index's condition is repeated, see
    `_by_message_id`)."""
    with connection.cursor() as cursor:
        cursor.execute(_ON_TIMELINE_SQL, [message_id])
        return cursor.fetchone() is not None


def _by_message_id(manager: Any, message_id: str) -> Any:
    """Rows with this Message-ID. The indexes on `message_id` are partial (`WHERE NOT
    message_id = ''`); SQLite uses a partial index only when the query repeats its
    condition, so a non-empty id adds it (it changes no result). Without it every lookup
    scanned the whole timeline table: the import slowed down as the database grew."""
    queryset = manager.filter(message_id=message_id)
    return queryset.exclude(message_id="") if message_id else queryset


_CASES_OF_MESSAGE: dict[str, tuple[str, list[Any]]] = {}


def _case_of_message(message_id: str) -> Case | None:
    """The case of the first timeline entry with this Message-ID: what
    `_by_message_id(Interaction.objects, message_id).select_related("case").first()` gives
    as `.case`, in a statement written once (a reply of every thread asks)."""
    if not message_id:
        return None
    if connection.vendor not in _CASES_OF_MESSAGE:
        columns, fields = rows.columns(Case, connection)
        _CASES_OF_MESSAGE[connection.vendor] = (
            f"SELECT {columns} FROM cases_interaction INNER JOIN cases_case ON cases_case.id = cases_interaction.case_id"  # noqa: S608
            " WHERE cases_interaction.message_id = %s AND NOT cases_interaction.message_id = ''"
            " ORDER BY cases_interaction.occurred_at, cases_interaction.id LIMIT 1",
            fields,
        )
    sql, fields = _CASES_OF_MESSAGE[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(sql, [message_id])
        found = cursor.fetchone()
    return None if found is None else rows.instance(Case, fields, found, connection)


def find_case(parsed: Any) -> tuple[Case | None, bool]:
    """The case a message belongs to, and whether only the subject's reference said so.

    In-Reply-To / References (and a bounce's original message) name a message of the case:
    those ids are unguessable, so they thread whoever sends them. A reference token in the
    subject is guessable; the caller checks the sender."""
    ids = [*parsed.in_reply_to, *reversed(parsed.references)]
    if getattr(parsed, "bounce_original_message_id", None):
        ids.insert(0, parsed.bounce_original_message_id)
    for message_id in ids[:20]:
        case = _case_of_message(message_id)
        if case is not None:
            return case, False
    tokens = mailparse.find_reference_tokens(parsed.subject or "")
    if tokens:
        case = Case.objects.filter(reference__in=tokens).order_by("-id").first()
        if case is not None:
            return case, True
    return None, False


def find_case_for(parsed: Any) -> Case | None:
    return find_case(parsed)[0]


def sender_known_on_case(case: Case, parsed: Any) -> bool:
    """The sender is the case's customer (any of the customer's addresses) or an earlier
    correspondent of the case (sender, Reply-To, recipient or Cc of its messages)."""
    sender = (parsed.from_address or "").lower()
    if not sender:
        return False
    if case.customer_id is not None and case.customer.emails.filter(address=sender).exists():  # type: ignore[union-attr]
        return True
    messages = case.interactions.filter(kind__in=[InteractionKind.INBOUND_MESSAGE, InteractionKind.OUTBOUND_MESSAGE])
    for data in messages.values_list("data", flat=True).iterator():
        if not isinstance(data, dict):
            continue
        known = [data.get("from"), *(data.get("to") or []), *(data.get("cc") or []), *(data.get("reply_to") or [])]
        if sender in {str(address).lower() for address in known if address}:
            return True
    return False


def _log_automatic(inbound: InboundEmail, parsed: Any) -> IngestResult:
    status = InboundStatus.BOUNCE if parsed.is_bounce else InboundStatus.AUTO_REPLY
    case = find_case_for(parsed)
    interaction = None
    if case is not None and parsed.is_bounce:
        interaction = _record_bounce(case, parsed)
    elif case is not None:
        texts = reasons.texts_entry_data(
            "automatic_reply",
            reasons.AUTOMATIC_TEXT,
            {"sender": parsed.from_address or parsed.from_name or "?", "subject": parsed.subject},
        )
        interaction = _automatic_entry(case, parsed, "Automatic reply", {"automatic": status, **texts})
    return _finish(inbound, status, case=case, interaction=interaction, reason=getattr(parsed, "auto_reason", "") or status)


def _record_bounce(case: Case, parsed: Any) -> Interaction:
    """Marks the reply the delivery failure refers to as bounced and tells the agent with an
    entry on the case (internal: the customer never sees it)."""
    from .replies import outbound_mark_bounced

    detail = _bounce_detail(parsed)
    original = None
    if parsed.bounce_original_message_id:
        original = (
            _by_message_id(Interaction.objects, parsed.bounce_original_message_id)
            .filter(case=case, kind=InteractionKind.OUTBOUND_MESSAGE)
            .first()
        )
    if original is not None:
        outbound_mark_bounced(interaction_id=original.pk, detail=detail)
        recipients = ", ".join(original.data.get("to", [])) or "?"
        texts = reasons.texts_entry_data(
            "bounce", reasons.BOUNCE_TEXT, {"subject": original.subject, "to": recipients, "detail": detail}
        )
    else:
        texts = reasons.texts_entry_data("bounce", reasons.BOUNCE_UNMATCHED_TEXT, {"detail": detail})
    data = {"automatic": InboundStatus.BOUNCE, "bounced": original.pk if original else None, **texts}
    return _automatic_entry(case, parsed, "Delivery failure", data)


def _automatic_entry(case: Case, parsed: Any, label: str, data: dict[str, Any]) -> Interaction:
    """The internal entry that logs an automatic message (reply, delivery failure) on its case."""
    return case_services.interaction_add(
        actor=None,
        case=case,
        kind=InteractionKind.SYSTEM,
        subject=f"{label}: {parsed.subject}"[:255],
        body_text=(parsed.text_body or "")[:5000],
        channel=Channel.EMAIL,
        is_internal=True,
        author_label=parsed.from_address or "",
        data={"reason": getattr(parsed, "auto_reason", "") or "", **data},
    )


def _bounce_detail(parsed: Any) -> str:
    """The mail server's words: the first lines of the report that say what went wrong."""
    lines = [line.strip() for line in (parsed.text_body or "").splitlines() if line.strip()]
    telling = [
        line
        for line in lines
        if any(word in line.lower() for word in ("550", "5.", "4.", "user", "unknown", "failed", "rejected", "not"))
    ]
    return " ".join((telling or lines)[:3])[:300] or parsed.subject[:300]


def _customer_for(parsed: Any, language: str) -> Customer | None:
    if not parsed.from_address:
        return None
    from leitplanke.customers import selectors as customer_selectors
    from leitplanke.customers import services as customer_services

    found = run_cache.peek(("customer", parsed.from_address)) or customer_selectors.customer_find_by_email(parsed.from_address)
    if found is not None:
        return found

    name = (parsed.from_name or parsed.from_address.split("@")[0]).strip()
    first, _, last = name.rpartition(" ")
    return customer_services.customer_create(
        actor=None,
        kind="person",
        first_name=first[:100],
        last_name=(last or name)[:100] or "Unbekannt",
        emails=[parsed.from_address],
        preferred_language=language,
    )


def _case_type_for(mailbox: Mailbox | None) -> CaseType:
    if mailbox is not None:
        return mailbox.default_case_type
    case_type = cached("default_case_type", _default_case_type)
    if case_type is None:
        raise NoCaseType("no active case type: create one under Administration")
    return case_type


def _default_case_type() -> CaseType | None:
    case_type = CaseType.objects.filter(key=DEFAULT_CASE_TYPE, is_active=True).first()
    return case_type or CaseType.objects.filter(is_active=True).order_by("order", "id").first()


def _open_case(parsed: Any, mailbox: Mailbox | None, inbound: InboundEmail) -> tuple[Case, list[tuple[str, dict[str, Any]]]]:
    """A new case, received when the message reached the organisation, in the message's
    language (the customer's preference when the text does not tell)."""
    case_type = _case_type_for(mailbox)
    guessed = mailparse.guess_language(f"{parsed.subject}\n{parsed.text_body}")
    customer = _customer_for(parsed, guessed or "de")
    language = guessed or (customer.preferred_language if customer else "de") or "de"
    notes: list[tuple[str, dict[str, Any]]] = []
    if len(parsed.text_body) > DESCRIPTION_MAX:
        notes.append(("description_shortened", {"limit": DESCRIPTION_MAX}))
    if len(parsed.subject) > SUBJECT_MAX:
        notes.append(("subject_shortened", {"limit": SUBJECT_MAX}))
    case = case_services.case_create(
        actor=None,
        case_type=case_type,
        subject=_one_line(parsed.subject)[:SUBJECT_MAX] or ("(ohne Betreff)" if language == "de" else "(no subject)"),
        description=parsed.text_body[:DESCRIPTION_MAX],
        channel=Channel.EMAIL,
        received_at=inbound.received_at,
        customer=customer,
        team=mailbox.default_team if mailbox else None,
        language=language,
    )
    return case, notes


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def _add_message(
    case: Case, parsed: Any, inbound: InboundEmail, *, notes: list[tuple[str, dict[str, Any]]] | None = None
) -> Interaction:
    interaction = case_services.interaction_add(
        actor=None,
        case=case,
        kind=InteractionKind.INBOUND_MESSAGE,
        subject=_one_line(parsed.subject)[:SUBJECT_MAX],
        body_text=parsed.text_body or "",
        body_html=parsed.html_body_sanitised or "",
        channel=Channel.EMAIL,
        is_internal=False,
        author_label=_sender_label(parsed),
        message_id=parsed.message_id or "",
        occurred_at=inbound.received_at,
        data={
            "from": parsed.from_address,
            "to": list(parsed.to_addresses),
            "cc": list(parsed.cc_addresses),
            "reply_to": list(parsed.reply_to),
            "in_reply_to": list(parsed.in_reply_to),
            "references": list(parsed.references)[-20:],
            "date_header": parsed.date_header,
            "sent_at": parsed.date.isoformat() if parsed.date else None,
            "inbound_email": inbound.pk,
            "mailbox": inbound.mailbox_id,
        },
    )
    notes = [*(notes or []), *_date_notes(parsed), *_store_attachments(case, parsed, interaction)]
    events.emit("message.received", message_event_payload(case, interaction))
    notes.extend(parsed.notes)
    notes.extend(("charset_guessed", {"detail": problem}) for problem in parsed.charset_problems)
    if notes:
        case_services.interaction_add(
            actor=None,
            case=case,
            kind=InteractionKind.SYSTEM,
            subject="Parts of the e-mail were not taken over",
            body_text="\n".join([*parsed.dropped, *parsed.charset_problems]) or "\n".join(code for code, _ in notes),
            is_internal=True,
            data={"dropped": [*parsed.dropped, *parsed.charset_problems], **reasons.notes_entry_data(notes)},
        )
    return interaction


def _date_notes(parsed: Any) -> list[tuple[str, dict[str, Any]]]:
    if parsed.date_problem == "missing":
        return [("date_missing", {})]
    if parsed.date_problem == "invalid":
        return [("date_invalid", {"value": parsed.date_header[:100]})]
    return []


def _store_attachments(case: Case, parsed: Any, interaction: Interaction) -> list[tuple[str, dict[str, Any]]]:
    """Keeps every attachment the limits allow; a kind that uploads refuse is kept for
    download only. Returns the notes for what was not kept, or kept with a warning."""
    notes: list[tuple[str, dict[str, Any]]] = []
    files = list(parsed.attachments)
    if parsed.text_cut_from:
        files.append(_FullText("full-text.txt", parsed.full_text.encode("utf-8")))
    limit = max_attachment_bytes()
    for attachment in files:
        name = attachment.original_filename or attachment.safe_filename
        shown = attachment.safe_filename
        if not attachment.content:
            notes.append(("attachment_empty", {"name": shown}))
            continue
        if len(attachment.content) > limit:
            notes.append(("attachment_too_large", {"name": shown, "size": len(attachment.content), "limit": limit}))
            continue
        try:
            stored = case_services.attachment_add(
                actor=None, case=case, uploaded_file=attachment.content, interaction=interaction, name=name, keep_risky=True
            )
        except ValidationFailed as error:
            detail = " ".join(str(message) for messages in error.field_errors.values() for message in messages)
            notes.append(("attachment_refused", {"name": shown, "detail": detail or str(error.message)}))
            continue
        if stored.download_only:
            notes.append(("attachment_download_only", {"name": shown}))
    return notes


@dataclass
class _FullText:
    safe_filename: str
    content: bytes
    original_filename: str | None = None


def message_event_payload(case: Case, interaction: Interaction) -> dict[str, Any]:
    return {
        "case_id": case.pk,
        "reference": case.reference,
        "interaction_id": interaction.pk,
        "channel": interaction.channel,
        "subject": interaction.subject,
        "from": interaction.author_label,
    }


def _sender_label(parsed: Any) -> str:
    if parsed.from_name and parsed.from_address:
        return f"{parsed.from_name} <{parsed.from_address}>"[:255]
    return (parsed.from_address or parsed.from_name or "")[:255]


def reply_address(parsed: Any) -> str:
    """Where answers go: the first Reply-To address, else the sender."""
    return (parsed.reply_to[0] if parsed.reply_to else parsed.from_address) or ""


def _send_acknowledgement(case: Case, parsed: Any, interaction: Interaction) -> None:
    if not case.case_type.acknowledgement_enabled:
        return
    to = reply_address(parsed)
    if not to:
        return
    if parsed.no_reply_reason or mailparse.is_no_reply_address(to):
        reason = parsed.no_reply_reason or f"address {to}"
        case_services.interaction_add(
            actor=None,
            case=case,
            kind=InteractionKind.SYSTEM,
            subject="No acknowledgement",
            body_text=reason,
            is_internal=True,
            data=reasons.notes_entry_data([("no_acknowledgement", {"detail": reason})]),
        )
        return
    from .replies import acknowledgement_queue

    acknowledgement_queue(case=case, to=to, in_reply_to=parsed.message_id or "", inbound=interaction)
