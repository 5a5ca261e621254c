"""Intake: mailboxes, every inbound e-mail (raw, for the legal record), reply templates,
outbound mail and webhooks."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from leitplanke.accounts.models import Team
from leitplanke.cases.models import Case, CaseType, Interaction


class Mailbox(models.Model):
    """An IMAP mailbox polled by `leitplanke mail fetch` (and by the worker)."""

    name = models.CharField(_("name"), max_length=100)
    address = models.EmailField(_("address"), unique=True)
    host = models.CharField(_("IMAP host"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    use_ssl = models.BooleanField(_("IMAPS (TLS)"), default=True)
    username = models.CharField(_("user name"), max_length=255)
    password_encrypted = models.TextField(blank=True)  # Fernet, key derived from the secret key
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    processed_folder = models.CharField(
        _("move processed mail to"),
        max_length=255,
        blank=True,
        help_text=_("Leave empty to flag processed mail as seen instead of moving it."),
    )
    default_case_type = models.ForeignKey(CaseType, on_delete=models.PROTECT, related_name="+", verbose_name=_("case type"))
    default_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("team")
    )
    # The sending identity of acknowledgements and replies to mail that arrived here.
    brand = models.ForeignKey(
        "accounts.Brand", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("brand")
    )
    is_active = models.BooleanField(_("active"), default=True)
    # IMAP UIDs are only meaningful together with UIDVALIDITY.
    uid_validity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    last_fetch_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"


class InboundStatus(models.TextChoices):
    NEW_CASE = "new_case", _("Opened a new case")
    THREADED = "threaded", _("Added to an existing case")
    DUPLICATE = "duplicate", _("Duplicate (already imported)")
    AUTO_REPLY = "auto_reply", _("Automatic reply (logged, no case)")
    BOUNCE = "bounce", _("Delivery failure (logged, no case)")
    REVIEW = "review", _("Held for review")
    QUARANTINED = "quarantined", _("Quarantined")


class InboundSource(models.TextChoices):
    IMAP = "imap", _("IMAP mailbox")
    FILE = "file", _("File import")
    API = "api", _("API")


def raw_message_path(instance: InboundEmail, filename: str) -> str:
    # The same message may arrive twice (two rows): a random part keeps each row's file its own.
    return f"mail/raw/{instance.received_at:%Y/%m}/{instance.raw_sha256}-{secrets.token_hex(4)}.eml"


class InboundEmail(models.Model):
    """Every message that reached Leitplanke, with its raw bytes kept unchanged."""

    received_at = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=10, choices=InboundSource.choices)
    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    imap_uid = models.BigIntegerField(null=True, blank=True)
    raw = models.FileField(upload_to=raw_message_path, max_length=255)
    raw_sha256 = models.CharField(max_length=64)
    raw_size = models.PositiveIntegerField()
    message_id = models.CharField(max_length=500, blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=InboundStatus.choices)
    # Why a message was quarantined or held for review, as a stable code the screens put
    # into words in the reader's language (intake.reasons); `reason` keeps the details.
    reason_code = models.CharField(max_length=40, blank=True)
    reason = models.TextField(blank=True)
    # The message's identity (SHA-256 of its Message-ID, or of its content when it has
    # none), claimed by the one delivery that processes it: a unique column, so parallel
    # deliveries of the same message cannot both open a case. NULL for every other row
    # (duplicates, quarantined messages).
    identity = models.CharField(max_length=64, null=True, blank=True, unique=True)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_emails")
    interaction = models.ForeignKey(Interaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["message_id"], name="inbound_msgid_idx", condition=~models.Q(message_id="")),
            models.Index(fields=["status", "-received_at"], name="inbound_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "imap_uid"], name="inbound_mailbox_uid", condition=models.Q(imap_uid__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()}: {self.subject or self.message_id or self.pk}"


class ReplyTemplate(models.Model):
    """A reply template (per case type and language); every save is a new version."""

    key = models.SlugField(_("key"), max_length=80)
    name = models.CharField(_("name"), max_length=200)
    case_type = models.ForeignKey(
        CaseType, null=True, blank=True, on_delete=models.CASCADE, related_name="templates", verbose_name=_("case type")
    )
    language = models.CharField(_("language"), max_length=5, choices=[("de", _("German")), ("en", _("English"))])
    purpose = models.CharField(
        _("purpose"),
        max_length=30,
        default="reply",
        choices=[("reply", _("Reply")), ("acknowledgement", _("Acknowledgement"))],
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["key", "language"]
        constraints = [models.UniqueConstraint(fields=["key", "language"], name="template_key_language")]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class ReplyTemplateVersion(models.Model):
    template = models.ForeignKey(ReplyTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="template_version_unique")]

    def __str__(self) -> str:
        return f"{self.template} v{self.number}"


class WebhookEndpoint(models.Model):
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(max_length=100)
    allow_private_address = models.CharField(
        _("allowed private address"),
        max_length=100,
        blank=True,
        help_text=_("Deliveries to loopback, link-local or private addresses are refused unless this exact address is allowed."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["url"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=60)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} #{self.pk}"


class StatusLink(models.Model):
    """The generation of a case's public status links. A link carries the generation it was
    issued for; revoking counts it up, so every earlier link is dead (ADR: status links)."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="status_link")
    generation = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"status links of case {self.case_id} (generation {self.generation})"


class PublicContact(models.Model):
    """Who sent a public-form complaint with the e-mail address of an existing customer.

    The case is not attached to that customer until the address is confirmed (the link in
    the confirmation e-mail) or an agent confirms it on the case. Until then the case has
    no customer, and the submitter's status link shows only `message_ids`: what they sent
    and what was written to them."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="public_contact")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField()
    phone = models.CharField(max_length=50, blank=True)
    customer_number = models.CharField(max_length=50, blank=True)
    language = models.CharField(max_length=2, default="de")
    matched_customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    message_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    confirmed_via = models.CharField(max_length=10, blank=True)  # "email" or "agent"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    def __str__(self) -> str:
        return f"{self.display_name} <{self.email}>"
