"""The public complaint form and the customer's status page (no login).

Customers reach their status page through a signed link (in the acknowledgement and on
the confirmation page); the signature is the only credential, so the page shows only
what the customer may see: reference, subject, status and the non-internal messages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from leitplanke.accounts.actors import Actor, acting_user
from leitplanke.cases import services as case_services
from leitplanke.cases.models import Case, CaseType, Channel, InteractionKind, StatusKind
from leitplanke.core import events, ratelimit
from leitplanke.core.audit import audit_record
from leitplanke.core.background import enqueue_on_commit
from leitplanke.core.errors import NotFound, RateLimited, ValidationFailed
from leitplanke.customers.models import Customer

from . import status_links
from .models import PublicContact
from .replies import acknowledgement_queue, status_link_token
from .services import message_event_payload

STATUS_SALT = status_links.STATUS_SALT
FORM_SALT = "leitplanke.form-started"
MIN_FILL_SECONDS = 3
MAX_FORM_AGE = dt.timedelta(hours=6)
# Abuse limits that never turn away a valid complaint from a shared address (carrier NAT,
# an office): only accepted submissions count, per address with a high limit and per
# e-mail address with a low one. Refused attempts (errors, honeypot, too fast) create
# nothing and count only toward a flood guard far above what people send.
WINDOW_SECONDS = 3600
ACCEPTED_PER_ADDRESS_PER_HOUR = 60
ACCEPTED_PER_EMAIL_PER_HOUR = 5
ATTEMPTS_PER_ADDRESS_PER_HOUR = 1000
STATUS_MESSAGES_PER_CASE_PER_HOUR = 20
MAX_FILES = 5
MAX_FILE_BYTES = 10 * 1024 * 1024


def form_started_token() -> str:
    return signing.dumps(timezone.now().timestamp(), salt=FORM_SALT)


def check_not_a_bot(*, honeypot: str, started_token: str) -> None:
    """Honeypot must stay empty; the form must have been open for a few seconds."""
    if honeypot:
        raise ValidationFailed(_("Your submission could not be accepted."), spam=True)
    try:
        started = float(signing.loads(started_token, salt=FORM_SALT, max_age=MAX_FORM_AGE))
    except (signing.BadSignature, TypeError, ValueError):
        raise ValidationFailed(_("The form has expired. Please check your entries and send it again.")) from None
    if timezone.now().timestamp() - started < MIN_FILL_SECONDS:
        raise ValidationFailed(_("That was very fast. Please check your entries and send the form again."))


def _counter_key(scope: str, value: str) -> str:
    """Counters name a keyed hash, never the address itself (no personal data in the table)."""
    digest = salted_hmac("leitplanke.public.ratelimit", f"{scope}:{value}", algorithm="sha256").hexdigest()[:32]
    return f"public:{scope}:{digest}"


def check_rate(ip: str | None, *, scope: str, per_hour: int) -> None:
    """The flood guard: counts every attempt of one address."""
    if ratelimit.hit(_counter_key(scope, ip or "-"), window_seconds=WINDOW_SECONDS) > per_hour:
        raise RateLimited(retry_after=ratelimit.seconds_until_reset(WINDOW_SECONDS), limit=scope)


@dataclass
class Allowance:
    """Places taken in the counters for one submission; given back when it is not accepted."""

    keys: list[str]
    now: dt.datetime

    def give_back(self) -> None:
        for key in self.keys:
            ratelimit.release(key, window_seconds=WINDOW_SECONDS, now=self.now)


def take_allowance(limits: list[tuple[str, str, int]]) -> Allowance:
    """Counts one accepted submission under each (scope, value, per_hour) — count first,
    then check the returned number, so concurrent submissions cannot slip past a limit —
    and gives every place back when one limit is reached. The caller gives them back too
    when the submission then fails."""
    allowance = Allowance(keys=[], now=timezone.now())
    for scope, value, per_hour in limits:
        key = _counter_key(scope, value)
        count = ratelimit.hit(key, window_seconds=WINDOW_SECONDS, now=allowance.now)
        allowance.keys.append(key)
        if count > per_hour:
            allowance.give_back()
            raise RateLimited(retry_after=ratelimit.seconds_until_reset(WINDOW_SECONDS), limit=scope)
    return allowance


def submission_allowance(*, ip: str | None, email: str) -> Allowance:
    return take_allowance(
        [
            ("form-accepted-address", ip or "-", ACCEPTED_PER_ADDRESS_PER_HOUR),
            ("form-accepted-email", email.strip().lower(), ACCEPTED_PER_EMAIL_PER_HOUR),
        ]
    )


@dataclass(frozen=True)
class PublicSubmission:
    case_type: CaseType
    subject: str
    description: str
    first_name: str
    last_name: str
    email: str
    phone: str
    customer_number: str
    language: str
    files: list[Any]
    brand_id: int | None = None  # submitted through a brand's form: its identity answers


def _customer_for(submission: PublicSubmission) -> tuple[Customer | None, Customer | None]:
    """(the case's customer, an existing customer the typed address belongs to).

    A typed address proves nothing: when it belongs to an existing customer, the case gets
    no customer until the address is confirmed (`public_contact_confirm`) — the submitter
    could be anyone. Otherwise a new customer record is created from what was typed."""
    from leitplanke.customers import selectors as customer_selectors
    from leitplanke.customers import services as customer_services

    by_email = customer_selectors.customer_find_by_email(submission.email)
    if by_email is not None:
        return None, by_email
    customer = customer_services.customer_create(
        actor=None,
        kind="person",
        first_name=submission.first_name,
        last_name=submission.last_name,
        emails=[submission.email],
        phones=[submission.phone] if submission.phone else [],
        preferred_language=submission.language,
    )
    return customer, None


@dataclass(frozen=True)
class Submitted:
    case: Case
    status_token: str  # for the thanks page: the submitter's own view while unconfirmed


def public_complaint_submit(submission: PublicSubmission) -> Submitted:
    """Creates the case, records the consent, stores the files, queues the acknowledgement
    — or, when the address belongs to an existing customer, the confirmation request."""
    from leitplanke.customers import services as customer_services

    if len(submission.files) > MAX_FILES:
        raise ValidationFailed(field_errors={"attachments": [_("At most %(n)s files.") % {"n": MAX_FILES}]})
    with transaction.atomic():
        customer, matched = _customer_for(submission)
        description = submission.description
        if submission.customer_number:
            description += f"\n\n[Kundennummer/customer number: {submission.customer_number}]"
        case = case_services.case_create(
            actor=None,
            case_type=submission.case_type,
            subject=submission.subject,
            description=description,
            channel=Channel.WEB_FORM,
            customer=customer,
            language=submission.language,
        )
        case._status_link_generation = 0  # type: ignore[attr-defined]  # a new case
        if customer is not None:
            customer_services.consent_record(
                actor=None,
                customer=customer,
                purpose="processing",
                granted=True,
                source="web form",
                note=f"case {case.reference}",
            )
        message = case_services.interaction_add(
            actor=None,
            case=case,
            kind=InteractionKind.INBOUND_MESSAGE,
            subject=submission.subject,
            body_text=submission.description,
            channel=Channel.WEB_FORM,
            is_internal=False,
            author_label=f"{submission.first_name} {submission.last_name} <{submission.email}>".strip(),
            data={"brand": submission.brand_id} if submission.brand_id else None,
        )
        for upload in submission.files:
            case_services.attachment_add(actor=None, case=case, uploaded_file=upload, interaction=message)
        if matched is None:
            if case.case_type.acknowledgement_enabled:
                acknowledgement_queue(case=case, to=submission.email)
            return Submitted(case=case, status_token=status_links.status_link_token(case))
        contact = PublicContact.objects.create(
            case=case,
            first_name=submission.first_name[:100],
            last_name=submission.last_name[:100],
            email=submission.email,
            phone=submission.phone[:50],
            customer_number=submission.customer_number[:50],
            language=submission.language,
            matched_customer=matched,
            message_ids=[message.pk],
        )
        audit_record(
            actor="system",
            action="public_contact.create",
            obj=contact,
            after={"case": case.pk, "email": contact.email, "matched_customer": matched.pk},
        )
        contact_confirmation_queue(contact=contact)
    return Submitted(case=case, status_token=status_links.status_link_token(case, contact=contact))


CONFIRM_SALT = "leitplanke.contact-confirm"
CONFIRM_MAX_AGE = dt.timedelta(days=30)


def contact_confirm_token(contact: PublicContact) -> str:
    return signing.dumps({"contact": contact.pk, "case": contact.case_id}, salt=CONFIRM_SALT)


def contact_for_confirm_token(token: str) -> PublicContact:
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.BadSignature:
        raise NotFound() from None
    if not isinstance(data, dict) or not isinstance(data.get("contact"), int) or not isinstance(data.get("case"), int):
        raise NotFound()
    contact = PublicContact.objects.select_related("case").filter(pk=data["contact"], case_id=data["case"]).first()
    if contact is None:
        raise NotFound()
    return contact


def contact_confirmation_queue(*, contact: PublicContact) -> None:
    """The e-mail to the typed address asking its owner to confirm the submission. It is not
    part of the submitter's view (it carries the confirmation link)."""
    from .replies import _queue, send_outbound_email

    base = getattr(settings, "LEITPLANKE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
    url = f"{base}/complaint/confirm/{contact_confirm_token(contact)}/"
    case = contact.case
    with translation.override(contact.language or "de"):
        subject = _("Please confirm your complaint")
        body = _(
            "We have received a complaint with the reference %(reference)s that was sent with this e-mail "
            "address through our web form.\n\nIf you sent it, please confirm it here, so that we can handle it "
            "together with your customer account:\n%(url)s\n\nIf you did not send it, you need not do anything: "
            "the complaint is not linked to your account."
        ) % {"reference": case.reference, "url": url}
    interaction = _queue(
        case=case, actor=None, to=contact.email, subject=str(subject), body=str(body), purpose="contact_confirmation"
    )
    enqueue_on_commit(send_outbound_email, interaction.pk)


def public_contact_confirm(*, actor: Actor, contact: PublicContact) -> Case:
    """Attaches the case to the customer whose address the submitter typed: by the owner of
    the address (`actor=None`, the link in the confirmation e-mail) or by an agent who may
    edit the case. Idempotent. The submitter's own link stays restricted."""
    from leitplanke.customers import services as customer_services

    with transaction.atomic():
        locked = PublicContact.objects.select_for_update().select_related("case").get(pk=contact.pk)
        if locked.confirmed_at is not None:
            return Case.objects.get(pk=locked.case_id)
        customer = locked.matched_customer
        if customer is not None and (customer.merged_into_id is not None or not customer.is_active):
            customer = customer.merged_into if customer.merged_into_id is not None else None
        if customer is None:
            customer = customer_services.customer_create(
                actor=None,
                kind="person",
                first_name=locked.first_name,
                last_name=locked.last_name,
                emails=[locked.email],
                phones=[locked.phone] if locked.phone else [],
                preferred_language=locked.language,
            )
        via = "email" if actor is None else "agent"
        case = case_services.case_customer_attach(
            actor=actor, case=locked.case, customer=customer, reason=f"contact_confirmed_{via}"
        )
        customer_services.consent_record(
            actor=None, customer=customer, purpose="processing", granted=True, source="web form", note=f"case {case.reference}"
        )
        locked.confirmed_at, locked.confirmed_by, locked.confirmed_via = timezone.now(), acting_user(actor), via
        locked.save(update_fields=["confirmed_at", "confirmed_by", "confirmed_via"])
        audit_record(
            actor=actor or "system",
            action="public_contact.confirm",
            obj=locked,
            after={"case": case.pk, "customer": customer.pk, "via": via},
        )
        if case.case_type.acknowledgement_enabled:
            acknowledgement_queue(case=case, to=locked.email)
    return case


def status_access(token: str) -> status_links.StatusAccess:
    return status_links.status_access(token)


def case_for_status_token(token: str) -> Case:
    return status_links.status_access(token).case


PUBLIC_STATUS = {
    StatusKind.OPEN: ("In Bearbeitung", "Being processed"),
    StatusKind.WAITING: ("Wir warten auf Ihre Antwort", "Waiting for your reply"),
    StatusKind.RESOLVED: ("Beantwortet", "Answered"),
    StatusKind.CLOSED: ("Abgeschlossen", "Closed"),
}


def public_status_label(case: Case, language: str) -> str:
    german, english = PUBLIC_STATUS.get(StatusKind(case.status_kind), ("In Bearbeitung", "Being processed"))
    return german if language.startswith("de") else english


def public_timeline(case: Case, *, contact: PublicContact | None = None) -> list[Any]:
    """The messages a status link shows: the customer's link every non-internal message; the
    unconfirmed submitter's link only theirs (`PublicContact.message_ids`)."""
    kinds = [InteractionKind.INBOUND_MESSAGE, InteractionKind.OUTBOUND_MESSAGE]
    entries = case.interactions.filter(kind__in=kinds, is_internal=False)
    if contact is not None:
        entries = entries.filter(pk__in=list(contact.message_ids))
    return list(entries.order_by("occurred_at", "id"))


def public_message_add(*, case: Case, text: str, files: list[Any], contact: PublicContact | None = None) -> None:
    """The customer (or the unconfirmed submitter, `contact`) adds a message (and files) from
    the status page."""
    if not text.strip() and not files:
        raise ValidationFailed(field_errors={"message": [_("Please write a message or choose a file.")]})
    if len(files) > MAX_FILES:
        raise ValidationFailed(field_errors={"attachments": [_("At most %(n)s files.") % {"n": MAX_FILES}]})
    with transaction.atomic():
        if contact is not None:
            label = contact.display_name
        else:
            label = case.customer.display_name if case.customer is not None else "Customer"
        message = case_services.interaction_add(
            actor=None,
            case=case,
            kind=InteractionKind.INBOUND_MESSAGE,
            subject="Message from the status page",
            body_text=text.strip() or "(files only)",
            channel=Channel.WEB_FORM,
            is_internal=False,
            author_label=label,
        )
        for upload in files:
            case_services.attachment_add(actor=None, case=case, uploaded_file=upload, interaction=message)
        if contact is not None:
            locked = PublicContact.objects.select_for_update().get(pk=contact.pk)
            locked.message_ids = [*locked.message_ids, message.pk]
            locked.save(update_fields=["message_ids"])
        events.emit("message.received", message_event_payload(case, message))


def public_message_add_limited(*, case: Case, text: str, files: list[Any], contact: PublicContact | None = None) -> None:
    """`public_message_add` under the per-case limit; a message that is not accepted does not count."""
    allowance = take_allowance([("status-accepted-case", str(case.pk), STATUS_MESSAGES_PER_CASE_PER_HOUR)])
    try:
        public_message_add(case=case, text=text, files=files, contact=contact)
    except BaseException:
        allowance.give_back()
        raise


__all__ = [
    "PublicSubmission",
    "Submitted",
    "case_for_status_token",
    "public_complaint_submit",
    "public_contact_confirm",
    "public_message_add_limited",
    "status_access",
    "status_link_token",
]
