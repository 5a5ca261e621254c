"""E-mail intake: one pipeline for IMAP, file import and the API.

`email_ingest` keeps the raw message first (so nothing is ever lost), then parses it
and decides: duplicate, automatic reply or bounce (logged, never a case, never an
acknowledgement), reply to an existing case (reference token or In-Reply-To /
References), or a new case for the customer found by sender address.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from leitplanke.cases import services as case_services
from leitplanke.cases.models import Case, CaseType, Channel, Interaction, InteractionKind
from leitplanke.core import events, storedfiles
from leitplanke.core.audit import audit_record
from leitplanke.customers.models import Customer

from . import mailparse
from .models import InboundEmail, InboundStatus, Mailbox, raw_message_path

logger = logging.getLogger(__name__)
DEFAULT_CASE_TYPE = "complaint"


@dataclass(frozen=True)
class IngestResult:
    inbound: InboundEmail
    status: str
    case: Case | None = None


@storedfiles.settling
def email_ingest(raw: bytes, *, source: str, mailbox: Mailbox | None = None, imap_uid: int | None = None) -> IngestResult:
    """Takes one raw RFC 822 message through the whole intake. Never raises for bad mail."""
    inbound = _keep_raw(raw, source=source, mailbox=mailbox, imap_uid=imap_uid)
    try:
        parsed = mailparse.parse_message(raw)
    except mailparse.UnparseableMessage as error:
        return _quarantine(inbound, f"unparseable: {error}")
    except Exception as error:  # a parser bug must not stop the fetch loop
        logger.exception("parser failed on inbound e-mail %s", inbound.pk)
        return _quarantine(inbound, f"parser error: {type(error).__name__}: {error}")
    try:
        with transaction.atomic():
            return _route(inbound, parsed, mailbox)
    except Exception as error:
        logger.exception("intake failed on inbound e-mail %s", inbound.pk)
        return _quarantine(inbound, f"could not be processed: {type(error).__name__}: {error}")


def _keep_raw(raw: bytes, *, source: str, mailbox: Mailbox | None, imap_uid: int | None) -> InboundEmail:
    """Stores the raw bytes and a quarantined record first; routing upgrades the status."""
    digest = hashlib.sha256(raw).hexdigest()
    with transaction.atomic():
        inbound = InboundEmail(
            received_at=timezone.now(),
            source=source,
            mailbox=mailbox,
            imap_uid=imap_uid,
            raw_sha256=digest,
            raw_size=len(raw),
            status=InboundStatus.QUARANTINED,
            reason="processing",
        )
        # On disk only once the row has committed: staged now, moved into place on commit.
        storedfiles.stage(inbound.raw, raw_message_path(inbound, ""), raw)
        inbound.save()
        audit_record(
            actor="intake",
            action="inbound_email.receive",
            obj=inbound,
            after={"source": source, "sha256": digest, "size": len(raw), "mailbox": mailbox.pk if mailbox else None},
        )
    return inbound


def _quarantine(inbound: InboundEmail, reason: str) -> IngestResult:
    with transaction.atomic():
        InboundEmail.objects.filter(pk=inbound.pk).update(status=InboundStatus.QUARANTINED, reason=reason[:2000])
        audit_record(actor="intake", action="inbound_email.quarantine", obj=inbound, after={"reason": reason[:500]})
    inbound.status, inbound.reason = InboundStatus.QUARANTINED, reason
    return IngestResult(inbound=inbound, status=InboundStatus.QUARANTINED)


def _finish(
    inbound: InboundEmail, status: str, *, case: Case | None = None, interaction: Interaction | None = None, reason: str = ""
) -> IngestResult:
    inbound.status, inbound.reason, inbound.case, inbound.interaction = status, reason, case, interaction
    inbound.save(update_fields=["status", "reason", "case", "interaction", "message_id", "from_address", "subject"])
    audit_record(
        actor="intake",
        action=f"inbound_email.{status}",
        obj=inbound,
        after={"case": case.reference if case else None, "message_id": inbound.message_id},
    )
    return IngestResult(inbound=inbound, status=status, case=case)


def _route(inbound: InboundEmail, parsed: Any, mailbox: Mailbox | None) -> IngestResult:
    inbound.message_id = (parsed.message_id or "")[:500]
    inbound.from_address = (parsed.from_address or "")[:320]
    inbound.subject = (parsed.subject or "")[:500]
    if parsed.message_id and _already_imported(parsed.message_id, exclude=inbound.pk):
        earlier = _by_message_id(Interaction.objects, parsed.message_id).select_related("case").first()
        return _finish(
            inbound, InboundStatus.DUPLICATE, case=earlier.case if earlier else None, reason="Message-ID imported before"
        )
    if parsed.is_bounce or parsed.is_auto_reply:
        return _log_automatic(inbound, parsed)
    case = find_case_for(parsed)
    if case is not None:
        interaction = _add_message(case, parsed)
        return _finish(inbound, InboundStatus.THREADED, case=case, interaction=interaction)
    case = _open_case(parsed, mailbox)
    interaction = _add_message(case, parsed)
    _send_acknowledgement(case, parsed)
    return _finish(inbound, InboundStatus.NEW_CASE, case=case, interaction=interaction)


def _already_imported(message_id: str, *, exclude: int) -> bool:
    if _by_message_id(Interaction.objects, message_id).exists():
        return True
    return (
        _by_message_id(InboundEmail.objects, message_id)
        .filter(status__in=[InboundStatus.NEW_CASE, InboundStatus.THREADED])
        .exclude(pk=exclude)
        .exists()
    )


def _by_message_id(manager: Any, message_id: str) -> Any:
    """Rows with this Message-ID. The indexes on `message_id` are partial (`WHERE NOT
    message_id = ''`); SQLite uses a partial index only when the query repeats its
    condition, so a non-empty id adds it (it changes no result). Without it every lookup
    scanned the whole timeline table: the import slowed down as the database grew."""
    queryset = manager.filter(message_id=message_id)
    return queryset.exclude(message_id="") if message_id else queryset


def find_case_for(parsed: Any) -> Case | None:
    """Reference token in the subject first, then In-Reply-To / References."""
    tokens = mailparse.find_reference_tokens(parsed.subject or "")
    if tokens:
        case = Case.objects.filter(reference__in=tokens).order_by("-id").first()
        if case is not None:
            return case
    ids = [*parsed.in_reply_to, *reversed(parsed.references)]
    if getattr(parsed, "bounce_original_message_id", None):
        ids.insert(0, parsed.bounce_original_message_id)
    for message_id in ids:
        interaction = _by_message_id(Interaction.objects, message_id).select_related("case").first()
        if interaction is not None:
            return interaction.case
    return None


def _log_automatic(inbound: InboundEmail, parsed: Any) -> IngestResult:
    status = InboundStatus.BOUNCE if parsed.is_bounce else InboundStatus.AUTO_REPLY
    case = find_case_for(parsed)
    interaction = None
    if case is not None:
        label = "Delivery failure" if parsed.is_bounce else "Automatic reply"
        interaction = case_services.interaction_add(
            actor=None,
            case=case,
            kind=InteractionKind.SYSTEM,
            subject=f"{label}: {parsed.subject}"[:255],
            body_text=(parsed.text_body or "")[:5000],
            channel=Channel.EMAIL,
            is_internal=True,
            author_label=parsed.from_address or "",
            data={"automatic": status, "reason": getattr(parsed, "auto_reason", "")},
        )
    return _finish(inbound, status, case=case, interaction=interaction, reason=getattr(parsed, "auto_reason", "") or status)


def _customer_for(parsed: Any) -> Customer | None:
    if not parsed.from_address:
        return None
    from leitplanke.customers import selectors as customer_selectors
    from leitplanke.customers import services as customer_services

    found = customer_selectors.customer_find_by_email(parsed.from_address)
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
    )


def _open_case(parsed: Any, mailbox: Mailbox | None) -> Case:
    case_type = mailbox.default_case_type if mailbox else CaseType.objects.filter(key=DEFAULT_CASE_TYPE).first()
    if case_type is None:
        case_type = CaseType.objects.filter(is_active=True).order_by("order", "id").first()
    if case_type is None:
        raise RuntimeError("no active case type: create one under Administration")
    received = parsed.date if parsed.date and parsed.date <= timezone.now() else timezone.now()
    customer = _customer_for(parsed)
    return case_services.case_create(
        actor=None,
        case_type=case_type,
        subject=(parsed.subject or "(ohne Betreff)")[:255],
        description=(parsed.text_body or "")[:20000],
        channel=Channel.EMAIL,
        received_at=received,
        customer=customer,
        team=mailbox.default_team if mailbox else None,
        language=customer.preferred_language if customer else "de",
    )


def _add_message(case: Case, parsed: Any) -> Interaction:
    interaction = case_services.interaction_add(
        actor=None,
        case=case,
        kind=InteractionKind.INBOUND_MESSAGE,
        subject=(parsed.subject or "")[:255],
        body_text=parsed.text_body or "",
        body_html=parsed.html_body_sanitised or "",
        channel=Channel.EMAIL,
        is_internal=False,
        author_label=_sender_label(parsed),
        message_id=parsed.message_id or "",
        occurred_at=parsed.date if parsed.date and parsed.date <= timezone.now() else None,
        data={
            "from": parsed.from_address,
            "to": list(parsed.to_addresses),
            "cc": list(parsed.cc_addresses),
            "in_reply_to": list(parsed.in_reply_to),
            "references": list(parsed.references)[-20:],
        },
    )
    for attachment in parsed.attachments:
        try:
            case_services.attachment_add(
                actor=None,
                case=case,
                uploaded_file=attachment.content,
                interaction=interaction,
                name=attachment.original_filename or attachment.safe_filename,
            )
        except Exception as error:  # refused type or size: noted on the case, never fatal
            parsed.dropped.append(f"{attachment.original_filename!r}: {getattr(error, 'message', error)}")
    events.emit("message.received", message_event_payload(case, interaction))
    notes = [*parsed.dropped, *parsed.charset_problems]
    if notes:
        case_services.interaction_add(
            actor=None,
            case=case,
            kind=InteractionKind.SYSTEM,
            subject="Parts of the e-mail were not taken over",
            body_text="\n".join(str(note) for note in notes),
            is_internal=True,
            data={"dropped": [str(n) for n in notes]},
        )
    return interaction


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


def _send_acknowledgement(case: Case, parsed: Any) -> None:
    if not case.case_type.acknowledgement_enabled or not parsed.from_address:
        return
    from .replies import acknowledgement_queue

    acknowledgement_queue(case=case, to=parsed.from_address, in_reply_to=parsed.message_id)
