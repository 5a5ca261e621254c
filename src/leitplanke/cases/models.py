"""Cases and everything on their timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from leitplanke.accounts.models import BilingualLabel, Language, Team
from leitplanke.customers.models import Contract, Customer, Product
from leitplanke.deadlines.models import DeadlineRule


class CaseType(BilingualLabel):
    """Complaint, inquiry, feedback, data-protection request … (organisations add more)."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    is_complaint = models.BooleanField(_("counts as complaint"), default=False)
    acknowledgement_enabled = models.BooleanField(_("send acknowledgement automatically"), default=True)
    # Keys of the deadline rules (deadlines.DeadlineRule.key) whose clocks start with every case
    # of this type; the version valid on the day of receipt applies.
    deadline_rules = models.JSONField(_("deadline rules"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(default=0)
    # The sending identity of its mail when the customer did not write to a mailbox of one.
    brand = models.ForeignKey(
        "accounts.Brand", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("brand")
    )
    # The process its cases follow (processes.ProcessDefinition.key); empty: complaint
    # handling for complaint types, the inquiry process for the others.
    process_key = models.SlugField(_("process"), max_length=50, blank=True, default="")

    class Meta:
        ordering = ["order", "name_en"]
        verbose_name = _("case type")
        verbose_name_plural = _("case types")


class Category(BilingualLabel):
    """A node of the hierarchical complaint taxonomy maintained by administrators."""

    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    key = models.SlugField(_("key"), max_length=80, unique=True)
    # Materialised path of ids ("3/17/42/") so a subtree is one indexed prefix query.
    path = models.CharField(max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")


class FieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    MONEY = "money", _("Amount of money")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
    BOOLEAN = "boolean", _("Yes/no")


class CustomFieldDefinition(models.Model):
    """A typed field that administrators add to a case type; values live in Case.custom_fields."""

    case_type = models.ForeignKey(CaseType, on_delete=models.CASCADE, related_name="custom_fields")
    key = models.SlugField(_("key"), max_length=50)
    label_de = models.CharField(_("label (German)"), max_length=200)
    label_en = models.CharField(_("label (English)"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=FieldKind.choices)
    # For choice fields: [{"value": "x", "label_de": "…", "label_en": "…"}]
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)
    order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["case_type", "order", "key"]
        constraints = [models.UniqueConstraint(fields=["case_type", "key"], name="customfield_unique_key")]

    def __str__(self) -> str:
        return f"{self.case_type_id}:{self.key}"


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEB_FORM = "web_form", _("Web form")
    PHONE = "phone", _("Phone")
    LETTER = "letter", _("Letter")
    CHAT = "chat", _("Chat")
    API = "api", _("API")
    SOCIAL = "social", _("Social media")


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class Severity(models.TextChoices):
    MINOR = "minor", _("Minor")
    MODERATE = "moderate", _("Moderate")
    MAJOR = "major", _("Major")
    CRITICAL = "critical", _("Critical")


class StatusKind(models.TextChoices):
    OPEN = "open", _("Open")
    WAITING = "waiting", _("Waiting")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


def tag_key(name: str) -> str:
    """What makes two tag names the same tag: case-insensitive in every script ("Ärger" and
    "ärger"), the same in Python on both databases (SQLite's LOWER/LIKE fold only ASCII)."""
    return name.strip().casefold()


class Outcome(models.TextChoices):
    UPHELD = "upheld", _("Upheld")
    PARTLY_UPHELD = "partly_upheld", _("Partly upheld")
    NOT_UPHELD = "not_upheld", _("Not upheld")


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=60)
    name_key = models.CharField(max_length=120, unique=True)  # tag_key(name), set on save

    class Meta:
        ordering = ["name"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.name_key = tag_key(self.name)
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return self.name


class ReferenceCounter(models.Model):
    """The last case number handed out per year; incremented with one atomic UPDATE."""

    year = models.PositiveIntegerField(primary_key=True)
    last_value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_value}"


NO_DUE = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)


class Case(models.Model):
    # Unique through Meta.constraints: `unique=True` would add a second (LIKE) index on
    # PostgreSQL that no query uses, and every case insert pays for each index.
    reference = models.CharField(_("reference"), max_length=32)
    # Foreign keys with db_index=False lead a composite index in Meta.indexes, which serves
    # the same lookups (and the checks on delete).
    case_type = models.ForeignKey(
        CaseType, on_delete=models.PROTECT, related_name="cases", verbose_name=_("case type"), db_index=False
    )
    subject = models.CharField(_("subject"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, default="de")
    received_at = models.DateTimeField(_("received at"))
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("customer"),
        db_index=False,
    )
    # Contract, product and parent are empty on most cases: their indexes are partial
    # (Meta.indexes), so a case without them costs no index entry.
    contract = models.ForeignKey(
        Contract,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        verbose_name=_("contract"),
        db_index=False,
    )
    product = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("product"),
        db_index=False,
    )
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("category"),
        db_index=False,
    )
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    severity = models.CharField(_("severity"), max_length=20, choices=Severity.choices, default=Severity.MINOR)
    status = models.CharField(_("status"), max_length=40)
    status_kind = models.CharField(_("status kind"), max_length=20, choices=StatusKind.choices, default=StatusKind.OPEN)
    responsible_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="responsible_cases",
        verbose_name=_("responsible"),
        db_index=False,
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="cases", verbose_name=_("team"), db_index=False
    )
    watchers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="watched_cases")
    tags = models.ManyToManyField(Tag, blank=True, related_name="cases")
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children", db_index=False)
    # No index: nothing looks cases up by creator, and a user who created cases through the
    # services is an actor of audit events, which protect the user row from deletion.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    # Incremented on every change; the API's ETag and the forms' conflict check use it.
    version = models.PositiveIntegerField(default=1)
    # The earliest due time and its warning among the running deadline clocks, kept by
    # clock_services for the list's "next due first" order and its overdue/at-risk marks.
    # No running clock: NO_DUE (not NULL, so that keyset pages need no NULL handling).
    next_due_at = models.DateTimeField(_("next due"), default=NO_DUE, db_default=NO_DUE, editable=False)
    next_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The process version the case runs on (kept when a newer one is published; moved only by
    # `leitplanke processes migrate-cases`). No index: nothing lists cases by it on a hot path.
    process_version = models.ForeignKey(
        "processes.ProcessDefinition",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("process version"),
        db_index=False,
    )
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    # Closing a complaint (supervisory returns count redress and goodwill apart).
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True, default="")
    root_cause = models.CharField(_("root cause"), max_length=30, blank=True, default="")
    resolution_summary = models.TextField(_("resolution summary"), blank=True, default="")
    redress_amount = models.DecimalField(_("redress amount"), max_digits=12, decimal_places=2, null=True, blank=True)
    goodwill_amount = models.DecimalField(_("goodwill amount"), max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True, default="EUR")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["next_due_at", "id"], name="case_next_due_idx"),
            models.Index(fields=["-received_at", "-id"], name="case_received_idx"),
            models.Index(fields=["status_kind", "-received_at", "-id"], name="case_statuskind_idx"),
            models.Index(fields=["team", "-received_at", "-id"], name="case_team_idx"),
            models.Index(fields=["responsible_user", "-received_at", "-id"], name="case_responsible_idx"),
            models.Index(fields=["customer", "-received_at"], name="case_customer_idx"),
            models.Index(fields=["case_type", "-received_at"], name="case_type_idx"),
            models.Index(fields=["category", "-received_at"], name="case_category_idx"),
            models.Index(fields=["-priority", "-received_at", "-id"], name="case_priority_idx"),
            models.Index(fields=["-updated_at", "-id"], name="case_updated_idx"),
            models.Index(fields=["contract"], name="case_contract_idx", condition=models.Q(contract__isnull=False)),
            models.Index(fields=["product"], name="case_product_idx", condition=models.Q(product__isnull=False)),
            models.Index(fields=["parent"], name="case_parent_idx", condition=models.Q(parent__isnull=False)),
        ]
        constraints = [models.UniqueConstraint(fields=["reference"], name="case_reference_unique")]
        verbose_name = _("case")
        verbose_name_plural = _("cases")

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"


class UnboundedDecimalField(models.DecimalField):
    """A decimal column without a fixed precision (PostgreSQL `numeric`; SQLite's `decimal`
    has NUMERIC affinity anyway), so that any number a custom field accepts fits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 1000)
        kwargs.setdefault("decimal_places", 500)
        super().__init__(*args, **kwargs)

    def db_type(self, connection: Any) -> str:
        return "numeric" if connection.vendor == "postgresql" else "decimal"


class CaseFieldValue(models.Model):
    """A custom-field value of kind number, money (its amount) or date, typed: one row per
    case and field. Derived from Case.custom_fields and written with it in the same
    transaction (`cases.field_values`); the case list's range filters find matching cases
    through its indexes instead of testing every case's JSON (ADR 0025)."""

    # No index of its own: the unique constraint leads with the case, the value indexes
    # with the definition.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+", db_index=False)
    definition = models.ForeignKey(CustomFieldDefinition, on_delete=models.CASCADE, related_name="+", db_index=False)
    number = UnboundedDecimalField(null=True, blank=True)
    date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "definition"], name="casefieldvalue_unique")]
        # Partial: a number row costs no entry in the date index and the other way round.
        indexes = [
            models.Index(
                fields=["definition", "number", "case"],
                name="casefieldvalue_number_idx",
                condition=models.Q(number__isnull=False),
            ),
            models.Index(
                fields=["definition", "date", "case"], name="casefieldvalue_date_idx", condition=models.Q(date__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.definition_id} of case {self.case_id}"


class CaseLinkKind(models.TextChoices):
    RELATED = "related", _("Related")
    DUPLICATE = "duplicate", _("Duplicate of")


class CaseLink(models.Model):
    from_case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="links_out")
    to_case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=20, choices=CaseLinkKind.choices, default=CaseLinkKind.RELATED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["from_case", "to_case"], name="caselink_unique")]

    def __str__(self) -> str:
        return f"{self.from_case_id} {self.kind} {self.to_case_id}"


class InteractionKind(models.TextChoices):
    INBOUND_MESSAGE = "inbound_message", _("Message from customer")
    OUTBOUND_MESSAGE = "outbound_message", _("Message to customer")
    PHONE_NOTE = "phone_note", _("Phone call")
    INTERNAL_NOTE = "internal_note", _("Internal note")
    STATUS_CHANGE = "status_change", _("Status change")
    FIELD_CHANGE = "field_change", _("Change")
    ATTACHMENT = "attachment", _("Attachment")
    SYSTEM = "system", _("System")


class DeliveryStatus(models.TextChoices):
    NONE = "", _("—")
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    GAVE_UP = "gave_up", _("Failed")
    BOUNCED = "bounced", _("Bounced")


class Interaction(models.Model):
    """One entry of a case's timeline."""

    # db_index=False: interaction_case_idx (case, occurred_at, id) serves lookups by case.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="interactions", db_index=False)
    kind = models.CharField(max_length=30, choices=InteractionKind.choices)
    occurred_at = models.DateTimeField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author_label = models.CharField(max_length=255, blank=True)
    channel = models.CharField(max_length=20, choices=Channel.choices, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)  # sanitised (nh3) before it is stored
    data = models.JSONField(default=dict, blank=True)  # from/to of changes, e-mail headers …
    is_internal = models.BooleanField(default=True)
    message_id = models.CharField(max_length=500, blank=True)
    delivery_status = models.CharField(max_length=20, choices=DeliveryStatus.choices, blank=True, default="")

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["case", "occurred_at", "id"], name="interaction_case_idx"),
            models.Index(fields=["message_id"], name="interaction_msgid_idx", condition=~models.Q(message_id="")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # Generated names only: the original name is kept as data, never used as a path.
    return f"attachments/{instance.stored_name[:2]}/{instance.stored_name}"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    interaction = models.ForeignKey(Interaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=255)
    stored_name = models.CharField(max_length=80, unique=True)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # Set for a file of a kind that uploads refuse (programs, scripts, unknown binaries) that
    # came with an e-mail: kept for the record, stored as an opaque binary, offered for
    # download only with a warning. A key of cases.attachments.DOWNLOAD_NOTES.
    download_note = models.CharField(max_length=40, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def download_only(self) -> bool:
        return bool(self.download_note)


class SavedView(models.Model):
    """A named set of list filters, private to its owner or shared with a team."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(_("name"), max_length=100)
    filters = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class CaseSearchDocument(models.Model):
    """The searchable text of a case (subject, description, messages).

    PostgreSQL: a tsvector column with a GIN index (German and English configurations).
    SQLite: mirrored into the FTS5 table `cases_search_fts` (rowid = case id).
    """

    case = models.OneToOneField(Case, on_delete=models.CASCADE, primary_key=True, related_name="search_document")
    text = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"search {self.case_id}"


class ClockState(models.TextChoices):
    RUNNING = "running", _("running")
    PAUSED = "paused", _("paused")
    STOPPED = "stopped", _("stopped")
    MET = "met", _("met")
    BREACHED = "breached", _("breached")


class CaseClock(models.Model):
    """A deadline running on a case: one rule version, started when the organisation
    received the complaint (on any channel; never a date the sender wrote). `due_at` and
    `warn_at` are what the escalation job queries (indexed with the state); the explanation
    is the engine's, so a reviewer can recompute the due time."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="clocks", db_index=False)
    # No index: nothing looks clocks up by rule (rule versions are never deleted), and every
    # index costs on the create path.
    rule = models.ForeignKey(
        DeadlineRule, on_delete=models.PROTECT, related_name="+", verbose_name=_("rule version"), db_index=False
    )
    # No index either (a SlugField has two on PostgreSQL): clocks are read by case, and by
    # due time for the escalation job, never by rule alone.
    rule_key = models.SlugField(max_length=64, db_index=False)
    jurisdiction = models.CharField(max_length=32)
    time_zone = models.CharField(max_length=64)
    started_at = models.DateTimeField(_("started at"))
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    warn_at = models.DateTimeField(_("warning at"), null=True, blank=True)
    paused_since = models.DateTimeField(null=True, blank=True)
    pauses = models.JSONField(default=list, blank=True)  # closed pauses [{start, end, reason}]
    extensions = models.JSONField(default=list, blank=True)  # [{event, at}]
    state = models.CharField(max_length=10, choices=ClockState.choices, default=ClockState.RUNNING)
    stopped_at = models.DateTimeField(null=True, blank=True)
    explanation = models.JSONField(default=dict)
    # When the escalation job handled the warning and the breach (claimed once per clock
    # and threshold by a conditional UPDATE; see clock_services.escalate_due_clocks).
    warned_at = models.DateTimeField(null=True, blank=True)
    breach_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["case", "state"], name="caseclock_case_state_idx"),
            # The escalation job's two queries: only running clocks whose threshold is not yet
            # handled are in these (partial) indexes, so a run reads what is due, nothing else.
            models.Index(
                fields=["warn_at"],
                name="caseclock_warn_due_idx",
                condition=models.Q(state="running", warned_at__isnull=True),
            ),
            models.Index(
                fields=["due_at"],
                name="caseclock_breach_due_idx",
                condition=models.Q(state="running", breach_notified_at__isnull=True),
            ),
        ]
        verbose_name = _("deadline clock")

    def __str__(self) -> str:
        return f"{self.rule_key} on case {self.case_id}"
