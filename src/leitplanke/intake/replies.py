"""Outbound e-mail: replies from templates and automatic acknowledgements.

A reply is an outbound timeline entry with delivery status queued → sent (or failed,
retried with backoff by the worker, finally gave_up). Its subject carries the case
reference token and its Message-ID / In-Reply-To / References make the customer's
answer thread back onto the case.
"""

from __future__ import annotations

import re
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leitplanke.accounts.actors import Actor, acting_user
from leitplanke.cases import selectors as case_selectors
from leitplanke.cases import services as case_services
from leitplanke.cases.models import Case, Channel, DeliveryStatus, Interaction, InteractionKind
from leitplanke.core.audit import audit_record
from leitplanke.core.background import background_task, enqueue_on_commit
from leitplanke.core.errors import ValidationFailed
from leitplanke.customers.greeting import formal_greeting, full_name
from leitplanke.deadlines import presentation as deadline_presentation

from . import status_links
from .models import ReplyTemplate, ReplyTemplateVersion
from .run_cache import cached
from .selectors import SendingIdentity, sending_identity, template_for

MAX_SEND_ATTEMPTS = 6
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
PLACEHOLDERS = {
    "salutation": gettext_lazy(
        "Formal salutation in the case's language, e.g. “Sehr geehrte Frau Mustermann”, “Dear Ms Mustermann” "
        "(by name when the salutation is not known)"
    ),
    "customer_name": gettext_lazy("Name of the customer, e.g. Dr. Erika Mustermann"),
    "case_reference": gettext_lazy("Case reference, e.g. LP-2026-000123"),
    "case_subject": gettext_lazy("Subject of the case"),
    "received_date": gettext_lazy("Date the case was received"),
    "agent_name": gettext_lazy("Name of the person who sends the reply"),
    "organisation_name": gettext_lazy("Name of the organisation"),
    "status_url": gettext_lazy("Link to the customer's status page"),
    "response_due_date": gettext_lazy("Date by which the customer gets the answer (the case's regulatory deadline)"),
    "response_period": gettext_lazy("The period for the answer, e.g. 15 business days or 8 weeks"),
}


def unknown_placeholders(text: str) -> list[str]:
    return sorted({name for name in PLACEHOLDER.findall(text) if name not in PLACEHOLDERS})


def status_link_token(case: Case) -> str:
    """The customer's status link token (see `status_links`)."""
    return status_links.status_link_token(case)


def placeholder_values(
    case: Case,
    *,
    agent: Any = None,
    identity: SendingIdentity | None = None,
    language: str | None = None,
    clocks: list[Any] | None = None,
) -> dict[str, str]:
    """The values of the placeholders for this case; `language`: the template's (the
    salutation and the date follow the text they stand in), else the case's.
    `organisation_name` is the brand's name when a brand sends (ADR 0013). `clocks`: a new
    case's clocks as just written (spares reading them back)."""
    from leitplanke.accounts.services import organisation_get

    language = language or case.language or "de"
    with translation.override(language):
        received = date_format(timezone.localtime(case.received_at), "DATE_FORMAT")
        deadline = case_selectors.response_deadline(case, clocks=clocks)
        response_due = date_format(deadline[0], "DATE_FORMAT") if deadline else ""
        response_period = deadline_presentation.period(deadline[1].measure, deadline[1].duration) if deadline else ""
    identity = identity or sending_identity(case)
    organisation_name = identity.name or cached("organisation_name", lambda: organisation_get().name)
    customer = case.customer
    person = (
        {
            "kind": customer.kind,
            "title": customer.title,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "organisation_name": customer.organisation_name,
            "display_name": customer.display_name,
        }
        if customer is not None
        else {}
    )
    return {
        "salutation": formal_greeting(language, salutation=getattr(customer, "salutation", ""), **person),
        "customer_name": full_name(**person) if customer is not None else "",
        "case_reference": case.reference,
        "case_subject": case.subject,
        "received_date": received,
        "agent_name": getattr(agent, "full_name", "") or organisation_name,
        "organisation_name": organisation_name,
        "status_url": status_links.link_for_mail(case),
        "response_due_date": response_due,
        "response_period": response_period,
    }


def render_template_text(text: str, values: dict[str, str]) -> str:
    """Plain substitution of known placeholders: no template language, nothing executable."""
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def one_line(text: str) -> str:
    """A header value built from case data: line breaks (possible in forms and in encoded
    headers) would make the send fail with BadHeaderError, so all whitespace becomes one space."""
    return " ".join(str(text or "").split())


def with_reference(subject: str, case: Case) -> str:
    subject = one_line(subject)
    token = f"[{case.reference}]"
    return subject if case.reference in subject else f"{subject} {token}".strip()


def _thread_headers(case: Case, in_reply_to: str = "", first: Interaction | None = None) -> tuple[str, list[str]]:
    """The message this reply answers and the References chain (oldest first). `first`: the
    case's only message so far (a new case's acknowledgement), which spares the query."""
    if first is not None:
        ids = [first.message_id] if first.message_id else []
    else:
        ids = list(
            case.interactions.exclude(message_id="").order_by("occurred_at", "id").values_list("message_id", flat=True)[:50]
        )
    parent = in_reply_to or (ids[-1] if ids else "")
    return parent, ids[-20:]


def _queue(
    *,
    case: Case,
    actor: Actor,
    to: str,
    subject: str,
    body: str,
    in_reply_to: str = "",
    purpose: str,
    first: Interaction | None = None,
    identity: SendingIdentity | None = None,
    cc: list[str] | None = None,
) -> Interaction:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "leitplanke.local"
    message_id = make_msgid(idstring=case.reference, domain=domain).strip("<>")
    parent, references = _thread_headers(case, in_reply_to, first)
    identity = identity or sending_identity(case, inbound=first)
    if identity.signature:
        values = placeholder_values(case, agent=actor, identity=identity)
        body = f"{body.rstrip()}\n\n-- \n{render_template_text(identity.signature, values)}"
    interaction = case_services.interaction_add(
        actor=actor,
        case=case,
        kind=InteractionKind.OUTBOUND_MESSAGE,
        subject=with_reference(subject, case)[:255],
        body_text=body,
        channel=Channel.EMAIL,
        is_internal=False,
        message_id=message_id,
        author_label=getattr(actor, "full_name", "") or "Leitplanke",
        data={
            "to": [to],
            **({"cc": list(cc)} if cc else {}),
            "in_reply_to": parent,
            "references": references,
            "purpose": purpose,
            "attempts": 0,
            # The sending identity, fixed when queued (a later brand change does not alter it).
            "from_header": identity.from_header,
            "reply_to": identity.reply_to,
            "brand": identity.brand_id,
        },
        delivery_status=DeliveryStatus.QUEUED,
    )
    if purpose != "contact_confirmation":
        _record_for_unconfirmed_contact(case, interaction, to)
    return interaction


def _record_for_unconfirmed_contact(case: Case, interaction: Interaction, to: str) -> None:
    """A message written to the unconfirmed submitter of a public form (the case has no
    customer yet) shows on their restricted status page; nothing else does."""
    contact = status_links.unconfirmed_contact(case)
    if contact is None or contact.email.lower() != (to or "").strip().lower():
        return
    from .models import PublicContact

    locked = PublicContact.objects.select_for_update().get(pk=contact.pk)
    locked.message_ids = [*locked.message_ids, interaction.pk]
    locked.save(update_fields=["message_ids"])


def reply_queue(*, actor: Actor, case: Case, to: str, subject: str, body: str) -> Interaction:
    """Queues a reply written on the case page; the worker sends it."""
    if not to or "@" not in to:
        raise ValidationFailed(field_errors={"to": [_("Enter the recipient's e-mail address.")]})
    if not subject.strip() or not body.strip():
        raise ValidationFailed(field_errors={"body": [_("Subject and text are required.")]})
    if missing := unknown_placeholders(subject + body):
        raise ValidationFailed(field_errors={"body": [_("Unknown placeholder: %(names)s") % {"names": ", ".join(missing)}]})
    identity = sending_identity(case)
    values = placeholder_values(case, agent=actor, identity=identity)
    with transaction.atomic():
        interaction = _queue(
            case=case,
            identity=identity,
            actor=actor,
            to=to,
            subject=render_template_text(subject, values),
            body=render_template_text(body, values),
            purpose="reply",
        )
        enqueue_on_commit(send_outbound_email, interaction.pk)
    return interaction


MAX_CC = 10


def clean_cc(value: str | list[str]) -> list[str]:
    """Cc addresses typed as one line (commas, semicolons or spaces between them): each a
    valid address, at most MAX_CC, without duplicates. ValidationFailed names the bad one."""
    from django.core.exceptions import ValidationError as DjangoValidationError
    from django.core.validators import validate_email

    parts = value if isinstance(value, list) else re.split(r"[,;\s]+", value or "")
    addresses: list[str] = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        try:
            validate_email(part)
        except DjangoValidationError:
            raise ValidationFailed(field_errors={"cc": [_("Not an e-mail address: %(value)s") % {"value": part[:100]}]}) from None
        if part.lower() not in {a.lower() for a in addresses}:
            addresses.append(part)
    if len(addresses) > MAX_CC:
        raise ValidationFailed(field_errors={"cc": [_("At most %(n)s addresses.") % {"n": MAX_CC}]})
    return addresses


def reply_send(
    *,
    actor: Actor,
    case: Case,
    to: str,
    subject: str,
    body: str,
    cc: list[str] | None = None,
    files: list[Any] | None = None,
    transition: str = "",
    expected_version: int | None = None,
) -> Interaction:
    """The composer on the case page: queues the reply with its Cc and attachments and, with
    `transition`, moves the case on — one transaction, so that nothing is half done (a
    refused file or a status step that is no longer possible stores no reply, and no e-mail
    leaves: the worker is asked only on commit)."""
    cc = clean_cc(cc or [])
    with transaction.atomic():
        if transition:
            # First, under the case's row lock: a step that is no longer possible stops here.
            case = case_services.case_transition(actor=actor, case=case, transition=transition, expected_version=expected_version)
        if not to or "@" not in to:
            raise ValidationFailed(field_errors={"to": [_("Enter the recipient's e-mail address.")]})
        if not subject.strip() or not body.strip():
            raise ValidationFailed(field_errors={"body": [_("Subject and text are required.")]})
        if missing := unknown_placeholders(subject + body):
            raise ValidationFailed(field_errors={"body": [_("Unknown placeholder: %(names)s") % {"names": ", ".join(missing)}]})
        values = placeholder_values(case, agent=actor)
        interaction = _queue(
            case=case,
            actor=actor,
            to=to,
            subject=render_template_text(subject, values),
            body=render_template_text(body, values),
            purpose="reply",
            cc=cc,
        )
        for uploaded in files or []:
            try:
                case_services.attachment_add(actor=actor, case=case, uploaded_file=uploaded, interaction=interaction)
            except ValidationFailed as error:
                raise ValidationFailed(
                    field_errors={
                        "attachments": [str(m) for messages in error.field_errors.values() for m in messages] or [str(error)]
                    }
                ) from None
        enqueue_on_commit(send_outbound_email, interaction.pk)
    return interaction


def acknowledgement_queue(
    *, case: Case, to: str, in_reply_to: str = "", inbound: Interaction | None = None
) -> Interaction | None:
    """The automatic acknowledgement (reference and time frame), if a template exists.
    `inbound`: the message that opened the case (its only message so far)."""
    version = template_for(case, "acknowledgement")
    if version is None:
        return None
    identity = sending_identity(case, inbound=inbound)
    clocks = None
    if inbound is not None:
        if getattr(case, "_status_link_generation", None) is None:
            case._status_link_generation = 0  # type: ignore[attr-defined]  # a new case: no link revoked yet
        clocks = getattr(case, "created_clocks", None)  # a new case: the clocks case_create wrote
    values = placeholder_values(case, identity=identity, clocks=clocks)
    interaction = _queue(
        case=case,
        identity=identity,
        actor=None,
        to=to,
        subject=render_template_text(version.subject, values),
        body=render_template_text(version.body, values),
        in_reply_to=in_reply_to,
        purpose="acknowledgement",
        first=inbound,
    )
    enqueue_on_commit(send_outbound_email, interaction.pk)
    return interaction


def build_message(interaction: Interaction) -> EmailMessage:
    data = interaction.data
    headers = {"Message-ID": f"<{interaction.message_id}>"}
    if data.get("in_reply_to"):
        headers["In-Reply-To"] = f"<{data['in_reply_to']}>"
    if data.get("references"):
        headers["References"] = " ".join(f"<{ref}>" for ref in data["references"])
    if data.get("purpose") == "acknowledgement":
        headers["Auto-Submitted"] = "auto-replied"  # RFC 3834: other systems must not auto-answer it
    message = EmailMessage(
        subject=one_line(interaction.subject),
        body=interaction.body_text,
        from_email=data.get("from_header") or settings.DEFAULT_FROM_EMAIL,
        to=list(data.get("to", [])),
        reply_to=list(data.get("reply_to") or []) or None,
        cc=list(data.get("cc", [])),
        headers=headers,
    )
    for attachment in interaction.attachments.all():
        with attachment.file.open("rb") as handle:
            message.attach(attachment.original_name, handle.read(), attachment.content_type)
    return message


def _mark(interaction_id: int, status: str, error: str = "", *, count_attempt: bool = True) -> Interaction:
    with transaction.atomic():
        interaction = Interaction.objects.select_for_update().get(pk=interaction_id)
        before = interaction.delivery_status
        data = dict(interaction.data)
        counts = count_attempt and status != DeliveryStatus.QUEUED
        data["attempts"] = int(data.get("attempts", 0)) + (1 if counts else 0)
        if error:
            data["last_error"] = error[:500]
        interaction.delivery_status, interaction.data = status, data
        interaction.save(update_fields=["delivery_status", "data"])
        audit_record(
            actor="mailer",
            action="email.delivery_status",
            obj=interaction,
            before={"delivery_status": before},
            after={"delivery_status": status, "error": error[:200]},
        )
    return interaction


# Errors that no retry can cure: the message itself cannot be built or sent.
PERMANENT_SEND_ERRORS: tuple[type[Exception], ...] = (BadHeaderError, ValueError, UnicodeError)


@background_task(max_attempts=MAX_SEND_ATTEMPTS, base_delay_seconds=30)
def send_outbound_email(interaction_id: int) -> str:
    interaction = Interaction.objects.get(pk=interaction_id)
    if interaction.delivery_status in (DeliveryStatus.SENT, DeliveryStatus.GAVE_UP, DeliveryStatus.BOUNCED):
        return f"already {interaction.delivery_status}"
    try:
        build_message(interaction).send(fail_silently=False)
    except Exception as error:
        attempts = int(interaction.data.get("attempts", 0)) + 1
        permanent = isinstance(error, PERMANENT_SEND_ERRORS)
        detail = f"{type(error).__name__}: {error}"
        if permanent or attempts >= MAX_SEND_ATTEMPTS:
            _give_up(interaction_id, detail)
            if permanent:
                return "gave up"
        else:
            _mark(interaction_id, DeliveryStatus.FAILED, detail)
        raise
    _mark(interaction_id, DeliveryStatus.SENT)
    return "sent"


def _give_up(interaction_id: int, detail: str) -> None:
    """The send failed for good: the reply shows it, and an entry on the case says so in
    words (internal), so that the agent can answer another way."""
    from . import reasons

    with transaction.atomic():
        interaction = _mark(interaction_id, DeliveryStatus.GAVE_UP, detail)
        params = {"subject": interaction.subject, "to": ", ".join(interaction.data.get("to", [])) or "?", "detail": detail[:300]}
        case_services.interaction_add(
            actor=None,
            case=interaction.case,
            kind=InteractionKind.SYSTEM,
            subject="Sending failed",
            body_text=detail[:2000],
            is_internal=True,
            data={"failed_message": interaction.pk, **reasons.texts_entry_data("send_failed", reasons.SEND_FAILED_TEXT, params)},
        )


def outbound_mark_bounced(*, interaction_id: int, detail: str) -> Interaction:
    """A delivery failure report names this reply: it did not arrive."""
    return _mark(interaction_id, DeliveryStatus.BOUNCED, detail, count_attempt=False)


def template_save(
    *, actor: Actor, key: str, name: str, language: str, subject: str, body: str, purpose: str = "reply", case_type: Any = None
) -> ReplyTemplateVersion:
    """Creates the template or a new version of it (versions are never edited)."""
    from leitplanke.accounts.permissions import MANAGE_TEMPLATES, has_capability
    from leitplanke.core.errors import PermissionDenied

    if actor is not None and not has_capability(actor, MANAGE_TEMPLATES):
        raise PermissionDenied()
    errors: dict[str, list[str]] = {}
    if missing := unknown_placeholders(subject + body):
        errors["body"] = [_("Unknown placeholder: %(names)s") % {"names": ", ".join(missing)}]
    if not subject.strip():
        errors["subject"] = [_("This field is required.")]
    if not body.strip():
        errors.setdefault("body", []).append("This field is required.")
    if language not in ("de", "en"):
        errors["language"] = [_("Choose German or English.")]
    if errors:
        raise ValidationFailed(field_errors=errors)
    with transaction.atomic():
        template, created = ReplyTemplate.objects.get_or_create(
            key=key, language=language, defaults={"name": name, "purpose": purpose, "case_type": case_type}
        )
        if not created:
            template.name, template.purpose, template.case_type = name, purpose, case_type
            template.save()
        number = (template.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        version = ReplyTemplateVersion.objects.create(
            template=template, number=number, subject=subject, body=body, created_by=acting_user(actor)
        )
        audit_record(
            actor=actor or "system",
            action="template.save",
            obj=template,
            after={"version": number, "subject": subject, "body": body},
        )
    return version
