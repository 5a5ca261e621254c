"""Public status links: signed, expiring, revocable (issue 19, item 9; ADR "status links").

A link is `signing.dumps({"case", "ref", "g"[, "c"]})` with Django's timestamped signer:

- **g**: the case's link generation (`StatusLink.generation`, 0 without a row). Revoking
  counts it up, so every link issued before is dead (404, like a forged one).
- **the signer's timestamp**: when the link was issued. A link expires
  `LEITPLANKE_STATUS_LINK_DAYS` (default 180) days after it was issued or, if the case is
  closed, after the later of issue and closing — a customer keeps access to an open case
  through the link in every new e-mail, and to a closed one for half a year after closing.
  An expired link answers 410 with a page that names nothing of the case.
- **c**: present for the submitter of a public form whose address belongs to an existing
  customer and was not confirmed (`PublicContact`): that link shows only the messages in
  `PublicContact.message_ids` — what the submitter sent and what was written to them —
  never what agents write to the customer, also after the address was confirmed.

Links issued before generations existed carry no `g` and count as generation 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leitplanke.accounts.actors import Actor
from leitplanke.cases import selectors as case_selectors
from leitplanke.cases import services as case_services
from leitplanke.cases.models import Case, InteractionKind
from leitplanke.core.audit import audit_record
from leitplanke.core.errors import NotFound, PermissionDenied

from .models import PublicContact, StatusLink

STATUS_SALT = "leitplanke.status"
DEFAULT_STATUS_LINK_DAYS = 180


class StatusLinkExpired(Exception):
    """A genuine link past its expiry: the page says so (410) and shows nothing of the case."""


@dataclass(frozen=True)
class StatusAccess:
    case: Case
    contact: PublicContact | None  # set: the unconfirmed submitter's restricted view

    @property
    def is_submitter_view(self) -> bool:
        return self.contact is not None


def status_link_days() -> int:
    return int(getattr(settings, "LEITPLANKE_STATUS_LINK_DAYS", DEFAULT_STATUS_LINK_DAYS))


def current_generation(case: Case) -> int:
    cached = getattr(case, "_status_link_generation", None)
    if cached is not None:
        return int(cached)
    generation = StatusLink.objects.filter(case_id=case.pk).values_list("generation", flat=True).first() or 0
    case._status_link_generation = generation  # type: ignore[attr-defined]
    return generation


def status_link_token(case: Case, *, contact: PublicContact | None = None) -> str:
    payload: dict[str, Any] = {"case": case.pk, "ref": case.reference, "g": current_generation(case)}
    if contact is not None:
        payload["c"] = contact.pk
    return signing.dumps(payload, salt=STATUS_SALT)


def status_url(case: Case, *, contact: PublicContact | None = None) -> str:
    base = getattr(settings, "LEITPLANKE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
    return f"{base}/complaint/status/{status_link_token(case, contact=contact)}/"


def unconfirmed_contact(case: Case) -> PublicContact | None:
    """The case's public-form contact while it is not confirmed and the case has no customer."""
    if case.customer_id is not None:
        return None
    contact = PublicContact.objects.filter(case_id=case.pk, confirmed_at__isnull=True).first()
    return contact


def link_for_mail(case: Case) -> str:
    """The `{{ status_url }}` of an e-mail on this case: while the case has an unconfirmed
    contact, the submitter's restricted link (the mail is recorded as written to them)."""
    return status_url(case, contact=unconfirmed_contact(case))


def expires_at(*, issued: dt.datetime, case: Case) -> dt.datetime:
    start = max(issued, case.closed_at) if case.closed_at is not None else issued
    return start + dt.timedelta(days=status_link_days())


def status_access(token: str) -> StatusAccess:
    """The case (and, for a submitter's link, the contact) a link opens. NotFound for a
    forged, malformed or revoked link; StatusLinkExpired for a genuine one past its expiry."""
    try:
        data = signing.loads(token, salt=STATUS_SALT)
        issued_ts = signing.b62_decode(token.rsplit(":", 2)[-2])
    except (signing.BadSignature, ValueError, IndexError):
        raise NotFound() from None
    if not isinstance(data, dict) or not isinstance(data.get("case"), int) or not isinstance(data.get("c", 0), int):
        raise NotFound()
    case = Case.objects.select_related("case_type").filter(pk=data["case"], reference=str(data.get("ref"))).first()
    if case is None or data.get("g", 0) != current_generation(case):
        raise NotFound()
    issued = dt.datetime.fromtimestamp(issued_ts, tz=dt.UTC)
    if timezone.now() > expires_at(issued=issued, case=case):
        raise StatusLinkExpired()
    contact = None
    if "c" in data:
        contact = PublicContact.objects.filter(pk=data["c"], case_id=case.pk).first()
        if contact is None:
            raise NotFound()
    return StatusAccess(case=case, contact=contact)


@transaction.atomic
def status_link_revoke(*, actor: Actor, case: Case) -> str:
    """Kills every status link of the case and returns a new one (the customer's). Needs the
    right to edit the case, checked with the case locked."""
    locked = Case.objects.select_for_update(of=("self",)).filter(pk=case.pk).first()
    if locked is None or not case_selectors.is_visible(actor, locked):
        raise NotFound()
    if not case_selectors.can_edit(actor, locked):
        raise PermissionDenied()
    link, _created = StatusLink.objects.select_for_update().get_or_create(case=locked)
    before = link.generation
    link.generation += 1
    link.revoked_at, link.revoked_by = timezone.now(), actor
    link.save()
    locked._status_link_generation = link.generation  # type: ignore[attr-defined]
    case_services.interaction_add(
        actor=None,
        case=locked,
        kind=InteractionKind.SYSTEM,
        subject="Status link revoked",
        body_text=_("Status link revoked by %(name)s: earlier links no longer open the status page.") % {"name": actor.full_name},
        is_internal=True,
        author_label=actor.full_name,
        data={"reason": "status_link_revoked", "generation": link.generation},
    )
    audit_record(
        actor=actor,
        action="case.status_link_revoke",
        obj=locked,
        before={"generation": before},
        after={"generation": link.generation},
    )
    return status_url(locked)
