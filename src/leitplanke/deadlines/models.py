"""Deadline rules as versioned data with a validity period, and the organisation's choices
where the law leaves one. The arithmetic lives in `engine/` (pure Python)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeadlineRule(models.Model):
    """One version of a rule. The version whose validity covers the day a complaint was
    received applies to it, so a rule changed by a regulator applies to complaints received
    after the change while earlier cases keep theirs (their clocks name the version)."""

    key = models.SlugField(_("key"), max_length=64)
    version = models.PositiveIntegerField(_("version"))
    name_de = models.CharField(_("name (German)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    source_url = models.URLField(_("source"), max_length=500, blank=True)
    # "DE" or "GB": the country whose calendars the rule counts in; empty: any.
    country = models.CharField(_("country"), max_length=2, blank=True)
    valid_from = models.DateField(_("valid from"), help_text=_("First day of receipt the version applies to."))
    valid_to = models.DateField(
        _("valid to"), null=True, blank=True, help_text=_("Last day of receipt it applies to; empty: open.")
    )
    parameters = models.JSONField(
        _("parameters"), help_text=_("Measure, duration, roll, pauses, warning, extensions (docs/deadlines.md).")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key", "version"]
        verbose_name = _("deadline rule")
        verbose_name_plural = _("deadline rules")
        constraints = [models.UniqueConstraint(fields=["key", "version"], name="deadline_rule_key_version")]

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"


class DeadlineSettings(models.Model):
    """The organisation's choices where the law leaves one (a singleton, pk = 1). The time
    zone and the calendar region are the organisation's own settings (accounts)."""

    class Receipt(models.TextChoices):
        AS_RECEIVED = "as_received", _("count from the day of receipt")
        NEXT_BUSINESS_DAY = "next_business_day", _("treat as received on the next business day")

    class DueTime(models.TextChoices):
        END_OF_DAY = "end_of_day", _("end of the day")
        CLOSE_OF_BUSINESS = "close_of_business", _("close of business")

    class PauseEnd(models.TextChoices):
        COUNTS = "counts", _("the day a pause ends counts")
        NOT_COUNTED = "not_counted", _("counting resumes the day after a pause ends")

    non_business_day_receipt = models.CharField(
        _("receipt on a non-business day"), max_length=20, choices=Receipt.choices, default=Receipt.AS_RECEIVED
    )
    cut_off = models.TimeField(_("receipt cut-off"), null=True, blank=True)
    due_time = models.CharField(_("due at"), max_length=20, choices=DueTime.choices, default=DueTime.END_OF_DAY)
    pause_end_day = models.CharField(_("day a pause ends"), max_length=20, choices=PauseEnd.choices, default=PauseEnd.COUNTS)
    business_hours = models.JSONField(_("business hours"), default=dict, blank=True)
    closures = models.JSONField(_("closures"), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("deadline settings")

    def __str__(self) -> str:
        return "deadline settings"
