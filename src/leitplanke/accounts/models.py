"""Users, the organisation, teams, roles, skills and qualifications, absences, API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class BilingualLabel(models.Model):
    """Data that users see in both languages (roles, skills, later categories)."""

    name_de = models.CharField(_("name (German)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)

    class Meta:
        abstract = True

    @property
    def label(self) -> str:
        return self.name_de if (get_language() or "de").startswith("de") else self.name_en

    def __str__(self) -> str:
        return self.label


class Language(models.TextChoices):
    GERMAN = "de", _("German")
    ENGLISH = "en", _("English")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("an e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username or "")


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200)
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, default=Language.GERMAN)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    roles = models.ManyToManyField("accounts.Role", blank=True, related_name="users", verbose_name=_("roles"))
    teams = models.ManyToManyField("accounts.Team", blank=True, related_name="members", verbose_name=_("teams"))

    objects = UserManager()

    # Not fields: per-request caches that permission checks keep on the user object
    # (accounts.permissions.capabilities_of, cases.permissions.team_ids_of,
    # cases.process.role_keys once the processes app is merged).
    _capabilities: frozenset[str]
    _case_team_ids: list[int]
    _role_keys: frozenset[str]

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "id"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Organisation(models.Model):
    """The one organisation this installation serves (a singleton, pk = 1)."""

    name = models.CharField(_("name"), max_length=200, default="Leitplanke")
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Berlin")
    default_language = models.CharField(_("default language"), max_length=5, choices=Language.choices, default="de")
    customer_languages = models.JSONField(_("customer languages"), default=list)
    calendar_region = models.CharField(
        _("default business calendar"),
        max_length=16,
        default="DE-NW",
        help_text=_("Country and state or nation, e.g. DE-BY, DE-BE, GB-ENG, GB-SCT."),
    )
    # What customers see on the public pages (form, confirmation, status page, error pages).
    public_name = models.CharField(
        _("name on public pages"), max_length=200, blank=True, help_text=_("Shown to customers; the name above when empty.")
    )
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    contact_address = models.TextField(_("postal address"), max_length=500, blank=True)
    imprint_url = models.URLField(_("imprint (legal notice) URL"), blank=True)
    privacy_url = models.URLField(_("privacy notice URL"), blank=True)
    # The logo lives in the database, never under a web root; a view serves it (PNG or JPEG).
    logo = models.BinaryField(_("logo"), null=True, blank=True, editable=False)
    logo_content_type = models.CharField(max_length=32, blank=True, editable=False)
    logo_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    form_frame_ancestors = models.TextField(
        _("sites that may embed the form"),
        blank=True,
        help_text=_("Origins such as https://www.example.de, one per line."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("organisation")

    def __str__(self) -> str:
        return self.name


class Brand(models.Model):
    """A brand or sending identity of the organisation (a bank and its card business, a
    utility and its telecom arm): the From address, reply-to and signature of the mail
    sent for it, and the look of its public form (/public/<slug>/). Mailboxes and case
    types name one; a case answers from the identity the customer wrote to."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(_("short name in links"), max_length=50, unique=True)
    display_name = models.CharField(
        _("name customers see"), max_length=200, help_text=_("Sender name of e-mails and name on the public form.")
    )
    from_address = models.EmailField(_("From address"))
    reply_to = models.EmailField(_("Reply-To address"), blank=True)
    signature = models.TextField(_("signature"), max_length=2000, blank=True)
    colour = models.CharField(
        _("colour"), max_length=7, blank=True, help_text=_("Header colour of the public form, e.g. #0f5c8c.")
    )
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    logo = models.BinaryField(_("logo"), null=True, blank=True, editable=False)
    logo_content_type = models.CharField(max_length=32, blank=True, editable=False)
    logo_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("brand")
        verbose_name_plural = _("brands")

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    lead = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="led_teams", verbose_name=_("lead")
    )
    email = models.EmailField(_("team e-mail"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # The team above this one: approvals go from the decider's team lead up this chain
    # (docs/decisions.md, "Four-eyes approvals"); no cycles (the team services refuse them).
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children", verbose_name=_("parent team")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Role(BilingualLabel):
    key = models.SlugField(_("key"), max_length=50, unique=True)
    description = models.TextField(_("description"), blank=True)
    capabilities = models.JSONField(_("capabilities"), default=list)
    is_system = models.BooleanField(default=False, help_text="shipped role; its key cannot change")

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")


class SkillKind(models.TextChoices):
    SKILL = "skill", _("Skill")
    QUALIFICATION = "qualification", _("Qualification")
    LANGUAGE = "language", _("Language")


class Skill(BilingualLabel):
    key = models.SlugField(_("key"), max_length=50, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=SkillKind.choices, default=SkillKind.SKILL)

    class Meta:
        ordering = ["kind", "name_en"]
        verbose_name = _("skill or qualification")
        verbose_name_plural = _("skills and qualifications")


class UserSkill(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="skills")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="holders")
    level = models.PositiveSmallIntegerField(_("level"), default=1, help_text=_("1 basic, 2 advanced, 3 expert"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "skill"], name="userskill_unique")]
        ordering = ["skill__name_en"]

    def is_valid_on(self, day: dt.date) -> bool:
        return self.valid_until is None or self.valid_until >= day

    def __str__(self) -> str:
        return f"{self.user} · {self.skill} ({self.level})"


class AbsenceKind(models.TextChoices):
    VACATION = "vacation", _("Vacation")
    SICK = "sick", _("Sick leave")
    TRAINING = "training", _("Training")
    OTHER = "other", _("Other")


class Absence(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="absences")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    kind = models.CharField(_("kind"), max_length=20, choices=AbsenceKind.choices, default=AbsenceKind.VACATION)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")), name="absence_ends_after_start")
        ]
        indexes = [models.Index(fields=["user", "ends_on"], name="absence_user_end_idx")]

    def __str__(self) -> str:
        return f"{self.user} {self.starts_on}–{self.ends_on} ({self.kind})"


class TokenScope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Write")
    ADMIN = "admin", _("Admin")


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 of the secret is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())

    def __str__(self) -> str:
        return f"{self.name} (lpk_{self.prefix}_…)"
