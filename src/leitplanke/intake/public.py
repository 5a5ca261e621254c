"""The public complaint form and the customer's status page (no login).

Customers reach their status page through a signed link (in the acknowledgement and on
the confirmation page); the signature is the only credential, so the page shows only
what the customer may see: reference, subject, status and the non-internal messages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from leitplanke.cases import services as case_services
from leitplanke.cases.models import Case, CaseType, Channel, InteractionKind, StatusKind
from leitplanke.core import events, ratelimit
from leitplanke.core.errors import NotFound, RateLimited, ValidationFailed
from leitplanke.customers.models import Customer

from .replies import acknowledgement_queue, status_link_token
from .services import message_event_payload

STATUS_SALT = "leitplanke.status"
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


def _customer_for(submission: PublicSubmission) -> Customer:
    """A known customer only when number and e-mail belong together; otherwise by e-mail
    address; otherwise a new customer record (a typed number alone proves nothing)."""
    from leitplanke.customers import selectors as customer_selectors
    from leitplanke.customers import services as customer_services

    by_email = customer_selectors.customer_find_by_email(submission.email)
    if submission.customer_number and by_email and by_email.customer_number.lower() == submission.customer_number.lower():
        return by_email
    if by_email is not None:
        return by_email
    return customer_services.customer_create(
        actor=None,
        kind="person",
        first_name=submission.first_name,
        last_name=submission.last_name,
        emails=[submission.email],
        phones=[submission.phone] if submission.phone else [],
        preferred_language=submission.language,
    )


def public_complaint_submit(submission: PublicSubmission) -> Case:
    """Creates the case, records the consent, stores the files, queues the acknowledgement."""
    from leitplanke.customers import services as customer_services

    if len(submission.files) > MAX_FILES:
        raise ValidationFailed(field_errors={"attachments": [_("At most %(n)s files.") % {"n": MAX_FILES}]})
    with transaction.atomic():
        customer = _customer_for(submission)
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
        customer_services.consent_record(
            actor=None, customer=customer, purpose="processing", granted=True, source="web form", note=f"case {case.reference}"
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
        if case.case_type.acknowledgement_enabled:
            acknowledgement_queue(case=case, to=submission.email)
    return case


def case_for_status_token(token: str) -> Case:
    try:
        data = signing.loads(token, salt=STATUS_SALT)
    except signing.BadSignature:
        raise NotFound() from None
    case = Case.objects.select_related("case_type").filter(pk=data.get("case"), reference=data.get("ref")).first()
    if case is None:
        raise NotFound()
    return case


PUBLIC_STATUS = {
    StatusKind.OPEN: ("In Bearbeitung", "Being processed"),
    StatusKind.WAITING: ("Wir warten auf Ihre Antwort", "Waiting for your reply"),
    StatusKind.RESOLVED: ("Beantwortet", "Answered"),
    StatusKind.CLOSED: ("Abgeschlossen", "Closed"),
}


def public_status_label(case: Case, language: str) -> str:
    german, english = PUBLIC_STATUS.get(StatusKind(case.status_kind), ("In Bearbeitung", "Being processed"))
    return german if language.startswith("de") else english


def public_timeline(case: Case) -> list[Any]:
    kinds = [InteractionKind.INBOUND_MESSAGE, InteractionKind.OUTBOUND_MESSAGE]
    return list(case.interactions.filter(kind__in=kinds, is_internal=False).order_by("occurred_at", "id"))


def public_message_add(*, case: Case, text: str, files: list[Any]) -> None:
    """The customer adds a message (and files) from the status page."""
    if not text.strip() and not files:
        raise ValidationFailed(field_errors={"message": [_("Please write a message or choose a file.")]})
    if len(files) > MAX_FILES:
        raise ValidationFailed(field_errors={"attachments": [_("At most %(n)s files.") % {"n": MAX_FILES}]})
    with transaction.atomic():
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
        events.emit("message.received", message_event_payload(case, message))


def public_message_add_limited(*, case: Case, text: str, files: list[Any]) -> None:
    """`public_message_add` under the per-case limit; a message that is not accepted does not count."""
    allowance = take_allowance([("status-accepted-case", str(case.pk), STATUS_MESSAGES_PER_CASE_PER_HOUR)])
    try:
        public_message_add(case=case, text=text, files=files)
    except BaseException:
        allowance.give_back()
        raise


__all__ = ["PublicSubmission", "case_for_status_token", "public_complaint_submit", "status_link_token"]
