"""Decisions: decision tables (versioned JDM), decision records on cases, authority limits
and four-eyes approvals.

- `DecisionTable`: one version of a table, keyed like process definitions (draft → published →
  retired; published versions never change; at most one published version and one draft per key). The JDM
  document and its test cases are what `leitplanke.decisions.engine.load` reads.
- `DecisionRecord`: what was decided on a case. Its content never changes after it is saved; a
  correction or a reversal is a new record that refers to the old one. Only `status` moves, and
  only through the approval services (pending → approved / rejected / sent back).
- `AuthorityLimit`: how much a role or a person may decide alone, per decision kind and
  currency (the pure rules that combine them live in `decisions/authority.py`).
- `ApprovalRequest`: the four-eyes step for a record above the decider's authority or marked by
  its table as needing approval.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TableStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class DecisionKind(models.TextChoices):
    """What a decision gives the customer; authority limits are per kind and currency.

    Redress puts right a loss the organisation caused; goodwill is given without admitting fault.
    Supervisory returns count them apart, so they are never summed into one figure."""

    GOODWILL = "goodwill", _("Goodwill")
    REDRESS = "redress", _("Redress")
    NONE = "none", _("No payment")


class DecisionTable(models.Model):
    key = models.SlugField(_("key"), max_length=50)
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=20, choices=TableStatus.choices, default=TableStatus.DRAFT)
    name_de = models.CharField(_("name (German)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    # The kind of decision the table recommends (goodwill tables feed decision records; routing,
    # priority and checklist tables recommend without an amount).
    decision_kind = models.CharField(_("decision kind"), max_length=20, choices=DecisionKind.choices, default=DecisionKind.NONE)
    # The GoRules JDM document and the test cases, as `decisions.engine.load(jdm, tests)` reads them.
    jdm = models.JSONField(_("decision table (JDM)"), default=dict)
    tests = models.JSONField(_("test cases"), default=list)
    # The result of the last check on save: problems (place, code, message) and failed tests.
    check_result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    # Incremented on every change of a draft; the API's ETag and the editor's conflict check.
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="decision_table_key_version_unique"),
            models.UniqueConstraint(
                fields=["key"], condition=models.Q(status="published"), name="decision_table_one_published_per_key"
            ),
            # Two drafts of one key would be two "next versions"; services lock the key's versions
            # first, this keeps the rule whatever writes (table_services._next_draft).
            models.UniqueConstraint(fields=["key"], condition=models.Q(status="draft"), name="decision_table_one_draft_per_key"),
        ]
        verbose_name = _("decision table")
        verbose_name_plural = _("decision tables")

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"

    def name(self, language: str) -> str:
        return self.name_de if language == "de" else self.name_en


class RecordStatus(models.TextChoices):
    FINAL = "final", _("Final")  # within the decider's authority: no approval, no hidden re-check
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SENT_BACK = "sent_back", _("Sent back")
    SUPERSEDED = "superseded", _("Corrected")  # a later record corrects it
    REVERSED = "reversed", _("Reversed")  # a lead's reversal record refers to it


class RecordKind(models.TextChoices):
    DECISION = "decision", _("Decision")
    CORRECTION = "correction", _("Correction")
    REVERSAL = "reversal", _("Reversal")
    # Recorded by a process step (a transition's `decide` effect): the table's result, no amount.
    STEP = "step", _("Process step")


class DecisionRecord(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="decisions")
    record_kind = models.CharField(max_length=20, choices=RecordKind.choices, default=RecordKind.DECISION)
    # The record this one corrects or reverses.
    refers_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="followed_by", db_index=False
    )
    # The table version that recommended (none for a decision taken without a table).
    table = models.ForeignKey(DecisionTable, null=True, blank=True, on_delete=models.PROTECT, related_name="records")
    inputs = models.JSONField(_("inputs"), default=dict)  # snapshot of what the table saw
    recommendation = models.JSONField(_("recommendation"), default=dict)  # the table's outputs
    matched_rules = models.JSONField(_("matched rules"), default=list)  # [{position, id, description, description_de}]
    recommended_min = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    recommended_max = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # The decision itself.
    kind = models.CharField(_("kind"), max_length=20, choices=DecisionKind.choices)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    action = models.CharField(_("action"), max_length=100, blank=True)
    message_to_customer = models.TextField(_("text to the customer"), max_length=5000, blank=True)
    deviates = models.BooleanField(_("outside the recommended range"), default=False)
    justification = models.TextField(_("justification"), max_length=5000, blank=True)
    # The authority that applied when it was decided (limits, what counted, why approval).
    authority = models.JSONField(default=dict, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=RecordStatus.choices, default=RecordStatus.FINAL)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="decision_records")
    decided_at = models.DateTimeField(_("decided at"))
    # The team of the decider at the time (reversal and consistency reports group by it).
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False)

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [
            models.Index(fields=["case", "-decided_at"], name="decision_case_idx"),
            models.Index(fields=["decided_at"], name="decision_decided_at_idx"),
            models.Index(fields=["decided_by", "-decided_at"], name="decision_decider_idx"),
            # Consistency analytics for a lead's teams and the what-if simulation's period of one table.
            models.Index(fields=["team", "-decided_at"], name="decision_team_idx"),
            models.Index(fields=["table", "decided_at"], name="decision_table_period_idx"),
        ]
        verbose_name = _("decision record")
        verbose_name_plural = _("decision records")

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} on case {self.case_id}"


class AuthorityLimit(models.Model):
    """A limit for a role or for one person (exactly one of the two). A person's limits override
    their roles' limits for the same kind and currency. `case_type` narrows a limit to one case
    type (more specific than the general limit); `skill` + `min_level` make it a raised limit
    that applies only while the person holds that qualification at that level, still valid."""

    role = models.ForeignKey("accounts.Role", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="authority_limits"
    )
    kind = models.CharField(_("decision kind"), max_length=20, choices=DecisionKind.choices)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    case_type = models.ForeignKey(
        "cases.CaseType", null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("case type")
    )
    skill = models.ForeignKey(
        "accounts.Skill",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("qualification"),
    )
    min_level = models.PositiveSmallIntegerField(_("minimum level"), default=1)
    per_decision = models.DecimalField(_("limit per decision"), max_digits=12, decimal_places=2)
    # Cumulative over the customer's decisions of this kind in the last 365 days; empty: no such limit.
    per_customer_year = models.DecimalField(
        _("limit per customer per year"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(role__isnull=False, user__isnull=True) | models.Q(role__isnull=True, user__isnull=False)),
                name="authority_limit_role_xor_user",
            ),
            models.CheckConstraint(condition=models.Q(per_decision__gte=0), name="authority_limit_non_negative"),
        ]
        verbose_name = _("authority limit")
        verbose_name_plural = _("authority limits")

    def __str__(self) -> str:
        holder = f"user {self.user_id}" if self.user_id else f"role {self.role_id}"
        return f"{holder}: {self.kind} {self.per_decision} {self.currency}"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SENT_BACK = "sent_back", _("Sent back")


class ApprovalRequest(models.Model):
    record = models.OneToOneField(DecisionRecord, on_delete=models.PROTECT, related_name="approval")
    # Why approval is needed: "above_authority", "table_requires", "deviation".
    reasons = models.JSONField(default=list)
    # Who is asked now; escalates up the chain (team lead, then a covering authority) on absence
    # or when the approver's own authority does not cover the amount.
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="approvals_to_give"
    )
    status = models.CharField(max_length=20, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    requested_at = models.DateTimeField()
    due_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(_("comment"), max_length=5000, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["approver", "status", "due_at"], name="approval_inbox_idx")]
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")

    def __str__(self) -> str:
        return f"approval of decision {self.record_id}: {self.status}"


class SimulationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


SIMULATION_ACTIVE = (SimulationStatus.QUEUED, SimulationStatus.RUNNING)


class Simulation(models.Model):
    """A what-if run: one table version re-evaluated over the stored inputs of the decision
    records of a period (those recommended by any version of the same key), compared with what
    was recommended then. At most one queued or running simulation per table version and period
    (a partial unique constraint: a second start is refused even when two arrive at once)."""

    table = models.ForeignKey(DecisionTable, on_delete=models.CASCADE, related_name="simulations")
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    status = models.CharField(max_length=20, choices=SimulationStatus.choices, default=SimulationStatus.QUEUED)
    progress = models.PositiveIntegerField(default=0)  # records evaluated so far
    total = models.PositiveIntegerField(default=0)  # records to evaluate (known once it runs)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["table", "period_start", "period_end"],
                condition=models.Q(status__in=["queued", "running"]),
                name="simulation_one_active_per_table_period",
            ),
            models.CheckConstraint(condition=models.Q(period_end__gte=models.F("period_start")), name="simulation_period_order"),
        ]
        verbose_name = _("simulation")
        verbose_name_plural = _("simulations")

    def __str__(self) -> str:
        return f"simulation of table {self.table_id} {self.period_start}..{self.period_end}: {self.status}"
