"""Reads for the intake screens: templates, mailboxes, inbound log, webhooks.

These lists are organisation-wide administration data; the views check the capability
(templates.manage or org.manage) before calling them. Case-bound reads go through
`cases.selectors` so that the case scope applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import formataddr
from typing import Any

from django.conf import settings
from django.db.models import Case as CaseWhen
from django.db.models import IntegerField, Max, Q, QuerySet, Value, When

from leitplanke.accounts.actors import Actor
from leitplanke.accounts.models import Brand
from leitplanke.cases import selectors as case_selectors
from leitplanke.cases.models import Case, Channel, Interaction, InteractionKind
from leitplanke.core.errors import NotFound

from .models import (
    InboundEmail,
    InboundSource,
    InboundStatus,
    Mailbox,
    PublicContact,
    ReplyTemplate,
    ReplyTemplateVersion,
    StatusLink,
    WebhookDelivery,
    WebhookEndpoint,
)
from .run_cache import cached

INBOUND_STATUSES = InboundStatus.choices
INBOUND_SOURCES = InboundSource.choices
QUARANTINED = InboundStatus.QUARANTINED
REVIEW = InboundStatus.REVIEW
# The reason of a quarantined message that was processed again (intake.admin_services).
REPROCESSED_PREFIX = "reprocessed as #"

# Shown when a template is previewed without a case.
SAMPLE_VALUES = {
    "salutation": "Sehr geehrte Frau Mustermann",
    "customer_name": "Erika Mustermann",
    "case_reference": "LP-2026-000123",
    "case_subject": "Abschlag nach Umzug zu hoch",
    "received_date": "3. März 2026",
    "agent_name": "Max Beispiel",
    "organisation_name": "Stadtwerke Rheinfeld",
    "status_url": "https://leitplanke.example/complaint/status/…/",
}


def _get(queryset: QuerySet[Any], pk: Any) -> Any:
    try:
        return queryset.get(pk=int(pk))
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


# --- replies on a case ----------------------------------------------------------------------


def reply_case_get(*, actor: Actor, case_id: int) -> Case:
    """The case to reply on: visible to the actor (NotFound otherwise)."""
    return case_selectors.case_get(actor=actor, case_id=case_id)


def may_reply(*, actor: Actor, case: Case) -> bool:
    return case_selectors.can_edit(actor, case)


def reply_templates_for_case(case: Case) -> list[ReplyTemplate]:
    """Active reply templates for the case's type (or any type); the case's language first."""
    language = case.language or "de"
    return list(
        ReplyTemplate.objects.filter(purpose="reply", is_active=True)
        .filter(Q(case_type__isnull=True) | Q(case_type_id=case.case_type_id))
        .annotate(language_rank=CaseWhen(When(language=language, then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("language_rank", "name", "language", "id")
    )


def template_for(case: Case, purpose: str) -> ReplyTemplateVersion | None:
    """The current version of the active template for the case's type and language (or of
    the one for all types); within an import run it is read once per type and language."""
    language = case.language or "de"
    return cached(("template", purpose, case.case_type_id, language), lambda: _template_for(case, purpose, language))


def _template_for(case: Case, purpose: str, language: str) -> ReplyTemplateVersion | None:
    templates = ReplyTemplate.objects.filter(purpose=purpose, is_active=True, language=language)
    template = templates.filter(case_type=case.case_type).first() or templates.filter(case_type__isnull=True).first()
    return template.versions.order_by("-number").first() if template else None


@dataclass(frozen=True)
class SendingIdentity:
    """Who an e-mail of a case comes from: a brand's, or the installation's default."""

    from_header: str
    reply_to: list[str] = field(default_factory=list)
    signature: str = ""
    brand_id: int | None = None
    name: str = ""  # the brand's name customers see; empty for the default sender


def _brand(brand_id: int | None) -> Brand | None:
    if not brand_id:
        return None
    return cached(("brand", brand_id), lambda: Brand.objects.defer("logo").filter(pk=brand_id, is_active=True).first())


def _mailbox_brand_id(mailbox_id: int) -> int | None:
    return cached(
        ("mailbox-brand", mailbox_id), lambda: Mailbox.objects.filter(pk=mailbox_id).values_list("brand_id", flat=True).first()
    )


def _written_to(messages: list[Interaction]) -> tuple[bool, int | None]:
    """The brand of the identity the customer last wrote to: a mailbox's, or the brand whose
    public form they used. (False, None) when no message came in through either."""
    for message in messages:
        data = message.data or {}
        if data.get("brand"):
            return True, int(data["brand"])
        if "mailbox" in data:
            mailbox_id = data["mailbox"]
        elif data.get("inbound_email"):  # recorded before the mailbox was noted on the message
            mailbox_id = InboundEmail.objects.filter(pk=data["inbound_email"]).values_list("mailbox_id", flat=True).first()
        else:
            mailbox_id = None
        if mailbox_id:
            return True, _mailbox_brand_id(int(mailbox_id))
    return False, None


def sending_identity(case: Case, *, inbound: Interaction | None = None) -> SendingIdentity:
    """From, Reply-To and signature for mail of this case: the brand of the mailbox (or brand
    form) the customer wrote to, else the case type's brand, else the default sender.
    `inbound`: the message being acknowledged (spares the query)."""
    if inbound is not None:
        messages = [inbound]
    else:
        messages = list(
            case.interactions.filter(kind=InteractionKind.INBOUND_MESSAGE, is_internal=False)
            .order_by("-occurred_at", "-id")
            .only("id", "data")[:20]
        )
    _found, brand_id = _written_to(messages)
    brand = _brand(brand_id) or _brand(case.case_type.brand_id)
    if brand is None:
        return SendingIdentity(from_header=settings.DEFAULT_FROM_EMAIL)
    return SendingIdentity(
        from_header=formataddr((" ".join(brand.display_name.split()), brand.from_address)),
        reply_to=[brand.reply_to] if brand.reply_to else [],
        signature=brand.signature,
        brand_id=brand.pk,
        name=" ".join(brand.display_name.split()),
    )


def default_reply_template(case: Case) -> ReplyTemplate | None:
    version = template_for(case, "reply")
    if version is not None:
        return version.template
    templates = reply_templates_for_case(case)
    return templates[0] if templates else None


def latest_version(template: ReplyTemplate | None) -> ReplyTemplateVersion | None:
    if template is None:
        return None
    return template.versions.order_by("-number").first()


def reply_recipient(case: Case) -> str:
    """Where an answer goes by default: the Reply-To (else the sender) of the customer's
    latest e-mail on the case, else the customer's primary address."""
    latest = (
        case.interactions.filter(kind=InteractionKind.INBOUND_MESSAGE, channel=Channel.EMAIL)
        .order_by("-occurred_at", "-id")
        .values_list("data", flat=True)
        .first()
    )
    if isinstance(latest, dict):
        address = next(iter(latest.get("reply_to") or []), None) or latest.get("from")
        if address:
            return str(address)
    return customer_primary_email(case)


def customer_primary_email(case: Case) -> str:
    if not case.customer_id:
        return ""
    address = (
        case.customer.emails.order_by("-is_primary", "id").values_list("address", flat=True).first()  # type: ignore[union-attr]
    )
    return address or ""


def preview_case_get(*, actor: Actor, reference: str) -> Case:
    """A case the actor may see, by reference, for previewing a template with real values."""
    return case_selectors.case_get(actor=actor, reference=reference)


# --- templates ------------------------------------------------------------------------------


def template_list() -> QuerySet[ReplyTemplate]:
    return (
        ReplyTemplate.objects.select_related("case_type")
        .annotate(latest_number=Max("versions__number"))
        .order_by("key", "language", "id")
    )


def template_get(*, template_id: Any) -> ReplyTemplate:
    return _get(ReplyTemplate.objects.select_related("case_type"), template_id)


def template_versions(template: ReplyTemplate) -> list[ReplyTemplateVersion]:
    return list(template.versions.select_related("created_by").order_by("-number"))


def template_version_get(*, template: ReplyTemplate, number: Any) -> ReplyTemplateVersion:
    try:
        return template.versions.select_related("created_by").get(number=int(number))
    except (ReplyTemplateVersion.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def template_sibling(template: ReplyTemplate) -> ReplyTemplate | None:
    """The other language's variant (same key), if there is one."""
    return ReplyTemplate.objects.filter(key=template.key).exclude(pk=template.pk).order_by("language").first()


# --- mailboxes ------------------------------------------------------------------------------


def mailbox_list() -> QuerySet[Mailbox]:
    return Mailbox.objects.select_related("default_case_type", "default_team").order_by("name", "id")


def mailbox_get(*, mailbox_id: Any) -> Mailbox:
    return _get(Mailbox.objects.select_related("default_case_type", "default_team"), mailbox_id)


# --- inbound e-mail -------------------------------------------------------------------------


def inbound_list(*, status: str = "") -> QuerySet[InboundEmail]:
    queryset = InboundEmail.objects.select_related("mailbox", "case")
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def quarantine_list(*, include_reprocessed: bool = False) -> QuerySet[InboundEmail]:
    """Messages waiting for an administrator: quarantined (could not be processed) and held
    for review (spam verdict, a stranger naming a case)."""
    queryset = InboundEmail.objects.select_related("mailbox", "case").filter(status__in=[QUARANTINED, REVIEW])
    if not include_reprocessed:
        queryset = queryset.exclude(reason__startswith=REPROCESSED_PREFIX)
    return queryset


def is_acceptable(inbound: InboundEmail) -> bool:
    return inbound.status == REVIEW


def inbound_get(*, inbound_id: Any) -> InboundEmail:
    return _get(InboundEmail.objects.select_related("mailbox", "case"), inbound_id)


def inbound_raw(inbound: InboundEmail) -> bytes:
    with inbound.raw.open("rb") as handle:
        return handle.read()


def is_reprocessable(inbound: InboundEmail) -> bool:
    return inbound.status == QUARANTINED and not inbound.reason.startswith(REPROCESSED_PREFIX)


# --- webhooks -------------------------------------------------------------------------------


def webhook_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.annotate(last_delivery_at=Max("deliveries__created_at")).order_by("url", "id")


def webhook_get(*, endpoint_id: Any) -> WebhookEndpoint:
    return _get(WebhookEndpoint.objects.all(), endpoint_id)


def webhook_deliveries(endpoint: WebhookEndpoint, *, limit: int = 50) -> list[WebhookDelivery]:
    return list(endpoint.deliveries.order_by("-created_at", "-id")[:limit])


def webhook_delivery_get(*, endpoint: WebhookEndpoint, delivery_id: Any) -> WebhookDelivery:
    return _get(endpoint.deliveries.select_related("endpoint"), delivery_id)


def template_exists(*, key: str, language: str) -> bool:
    return ReplyTemplate.objects.filter(key=key, language=language).exists()


def setup_counts() -> dict[str, int]:
    """How far intake is set up, for the maturity check's evidence: active mailboxes,
    webhooks and reply templates (organisation-wide counts, no content)."""
    return {
        "mailboxes": Mailbox.objects.filter(is_active=True).count(),
        "webhooks": WebhookEndpoint.objects.filter(is_active=True).count(),
        "reply_templates": ReplyTemplate.objects.filter(is_active=True).values("key").distinct().count(),
    }


@dataclass(frozen=True)
class PublicAccessState:
    """What the case page shows about the case's public side: its status links and an
    unconfirmed public-form contact."""

    generation: int
    revoked_at: Any
    contact: PublicContact | None
    matched_customer_visible: bool


def public_access_state(*, actor: Actor, case: Case) -> PublicAccessState:
    from leitplanke.customers import selectors as customer_selectors

    link = StatusLink.objects.filter(case_id=case.pk).first()
    contact = PublicContact.objects.select_related("matched_customer").filter(case_id=case.pk).first()
    visible = bool(
        contact is not None and contact.matched_customer_id is not None and customer_selectors.can_see_customers(actor)
    )
    return PublicAccessState(
        generation=link.generation if link else 0,
        revoked_at=link.revoked_at if link else None,
        contact=contact,
        matched_customer_visible=visible,
    )


def last_customer_message(case: Case) -> Any:
    """The customer's latest message on the case (what the composer shows above the text),
    or None."""
    return case.interactions.filter(kind=InteractionKind.INBOUND_MESSAGE).order_by("-occurred_at", "-id").first()
