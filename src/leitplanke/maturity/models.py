"""Maturity checks: answer sets, campaigns with invitation links per group, the editable
recommendation library and roadmaps. The scoring itself is pure (engine/)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .engine.advice import PROJECT, QUICK_WIN
from .engine.model import DIMENSION_LIST, MODEL_VERSION
from .engine.scoring import TENSION_RULES

DEFAULT_MIN_GROUP_SIZE = 3


def _german() -> bool:
    return (get_language() or "de").startswith("de")


class Group(models.TextChoices):
    """Who answers in a campaign; each group has its own invitation link."""

    LEADERSHIP = "leadership", _("Leadership")
    SERVICE_TEAM = "service_team", _("Service team")
    OTHER_DEPARTMENTS = "other_departments", _("Other departments")


class Horizon(models.TextChoices):
    QUICK_WIN = QUICK_WIN, _("Quick win (first 90 days)")
    PROJECT = PROJECT, _("Structural project")


class Kpi(models.TextChoices):
    """Figures Leitplanke measures itself (maturity/kpis.py)."""

    CASE_VOLUME = "case_volume", _("Cases received")
    CLOSURE_MEDIAN_DAYS = "closure_median_days", _("Time to closure (median, days)")
    REOPEN_RATE = "reopen_rate", _("Reopen rate")
    CATEGORY_SHARE = "category_share", _("Share of cases with a category")


DIMENSION_CHOICES = [(dimension.key, dimension.name.en) for dimension in DIMENSION_LIST]
TENSION_CHOICES = [(rule.key, rule.title.en) for rule in TENSION_RULES]


class Campaign(models.Model):
    """A check answered by several groups through their own invitation links."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    closes_at = models.DateTimeField(_("invitations valid until"), null=True, blank=True)
    min_group_size = models.PositiveSmallIntegerField(_("minimum group size"), default=DEFAULT_MIN_GROUP_SIZE)
    # Part of every invitation link: a new value makes all earlier links invalid.
    link_nonce = models.CharField(max_length=32)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(min_group_size__gte=2), name="campaign_min_group_size")]

    def __str__(self) -> str:
        return self.name


class Assessment(models.Model):
    """One person's answers: anonymous (public check or campaign response) or an in-app
    check by a user. The resume link's secret is stored only as a SHA-256."""

    token_hash = models.CharField(max_length=64, unique=True)
    model_version = models.PositiveSmallIntegerField(default=MODEL_VERSION)
    language = models.CharField(max_length=5, default="de")
    answers = models.JSONField(default=dict)  # {question key: level}
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="responses")
    group = models.CharField(max_length=20, choices=Group.choices, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="maturity_checks"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    level = models.PositiveSmallIntegerField(null=True, blank=True)  # the overall level, once completed
    # Personal data only when the person chose to leave them, with consent.
    contact_name = models.CharField(_("name"), max_length=200, blank=True)
    contact_email = models.EmailField(_("e-mail address"), blank=True)
    contact_organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    contact_consent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["campaign", "group", "completed_at"], name="assessment_campaign_idx"),
            models.Index(fields=["owner", "-completed_at"], name="assessment_owner_idx"),
            models.Index(fields=["-completed_at"], name="assessment_completed_idx"),
        ]

    def __str__(self) -> str:
        return f"assessment {self.pk}"

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None


class Recommendation(models.Model):
    """An entry of the recommendation library: fits a dimension at some levels, or a tension."""

    key = models.SlugField(_("key"), max_length=80, unique=True)
    dimension = models.CharField(_("dimension"), max_length=20, choices=DIMENSION_CHOICES, blank=True)
    levels = models.JSONField(_("levels"), default=list, blank=True)
    tension = models.CharField(_("tension"), max_length=40, choices=TENSION_CHOICES, blank=True)
    horizon = models.CharField(_("horizon"), max_length=20, choices=Horizon.choices, default=Horizon.QUICK_WIN)
    title_de = models.CharField(_("title (German)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    text_de = models.TextField(_("what to do (German)"), max_length=1000)
    text_en = models.TextField(_("what to do (English)"), max_length=1000)
    owner_de = models.CharField(_("owner (German)"), max_length=200)
    owner_en = models.CharField(_("owner (English)"), max_length=200)
    indicator_de = models.CharField(_("indicator (German)"), max_length=300)
    indicator_en = models.CharField(_("indicator (English)"), max_length=300)
    kpi = models.CharField(_("live figure"), max_length=30, choices=Kpi.choices, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["dimension", "priority", "key"]

    def __str__(self) -> str:
        return self.key

    @property
    def title(self) -> str:
        return self.title_de if _german() else self.title_en


class Roadmap(models.Model):
    """A 12-month plan drafted from a result (an in-app check or a campaign), then edited."""

    title = models.CharField(_("title"), max_length=200)
    assessment = models.ForeignKey(Assessment, null=True, blank=True, on_delete=models.SET_NULL, related_name="roadmaps")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="roadmaps")
    starts_on = models.DateField(_("starts on"))
    # The dimension scores and live figures when the roadmap was made, for "since then".
    baseline = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class RoadmapItem(models.Model):
    """A quick win or a structural project in one quarter, with owner, goal and indicator.

    Improvement actions do not exist in Leitplanke yet; when they do, an item links to
    them here (see docs/maturity-model.md, "Roadmap")."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")

    roadmap = models.ForeignKey(Roadmap, on_delete=models.CASCADE, related_name="items")
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    horizon = models.CharField(_("horizon"), max_length=20, choices=Horizon.choices)
    dimension = models.CharField(_("dimension"), max_length=20, choices=DIMENSION_CHOICES, blank=True)
    title = models.CharField(_("title"), max_length=200)
    goal = models.TextField(_("goal"), max_length=1000)
    owner = models.CharField(_("owner"), max_length=200)
    indicator = models.CharField(_("measurable indicator"), max_length=300)
    kpi = models.CharField(_("live figure"), max_length=30, choices=Kpi.choices, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PLANNED)
    position = models.PositiveIntegerField(default=0)
    source_rule = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["quarter", "position", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(quarter__gte=1, quarter__lte=4), name="roadmapitem_quarter")]

    def __str__(self) -> str:
        return self.title
