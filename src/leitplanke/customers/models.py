"""Customers (persons and organisations), their contact data and consents, and the
product catalogue with contracts."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from leitplanke.accounts.models import BilingualLabel, Language


class CustomerKind(models.TextChoices):
    PERSON = "person", _("Person")
    ORGANISATION = "organisation", _("Organisation")


class Salutation(models.TextChoices):
    """How a person is addressed. Empty: not known (letters greet by name, neutrally)."""

    MS = "ms", _("Ms")
    MR = "mr", _("Mr")
    NEUTRAL = "neutral", _("Gender-neutral (by name)")


class Segment(models.TextChoices):
    PRIVATE = "private", _("Private customer")
    BUSINESS = "business", _("Business customer")
    PREMIUM = "premium", _("Premium customer")
    PUBLIC = "public", _("Public sector")


class Customer(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=CustomerKind.choices, default=CustomerKind.PERSON)
    customer_number = models.CharField(_("customer number"), max_length=40, unique=True)
    salutation = models.CharField(_("salutation"), max_length=10, choices=Salutation.choices, blank=True)
    title = models.CharField(_("title"), max_length=50, blank=True, help_text=_("e.g. Dr., Prof. Dr."))
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    organisation_name = models.CharField(_("organisation name"), max_length=200, blank=True)
    # "Last, First" or the organisation name: what lists show.
    display_name = models.CharField(_("name"), max_length=255)
    # The display name folded in Python (`fold_name`), kept by save(): what name search and
    # the list order use. SQLite's LOWER() folds ASCII letters only ("Ärger" would not be
    # found as "ärger"); a stored key behaves the same on both databases.
    name_key = models.CharField(max_length=255, default="", editable=False)
    preferred_language = models.CharField(_("preferred language"), max_length=5, choices=Language.choices, default="de")
    segment = models.CharField(_("segment"), max_length=20, choices=Segment.choices, default=Segment.PRIVATE)
    value_amount = models.DecimalField(_("customer value"), max_digits=14, decimal_places=2, null=True, blank=True)
    value_currency = models.CharField(_("currency"), max_length=3, default="EUR")
    customer_since = models.DateField(_("customer since"), null=True, blank=True)
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="DE")
    region = models.CharField(_("state or nation"), max_length=16, blank=True, help_text=_("e.g. DE-BY, GB-SCT"))
    is_vulnerable = models.BooleanField(_("vulnerable customer"), default=False)
    vulnerability_reason = models.TextField(_("reason for vulnerability"), blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["display_name", "id"]
        indexes = [
            models.Index(fields=["name_key", "id"], name="customer_namekey_idx"),
            models.Index(fields=["last_name", "first_name"], name="customer_person_idx"),
        ]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return f"{self.display_name} ({self.customer_number})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.name_key = fold_name(self.display_name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "display_name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_key"}
        super().save(*args, **kwargs)


def fold_name(value: str) -> str:
    """Case-insensitive form of a name for search and sorting: NFC, then Unicode case
    folding ("Straße" → "strasse", "ÖZDEMIR" → "özdemir")."""
    return unicodedata.normalize("NFC", value).casefold()[:255]


class CustomerEmail(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="emails")
    address = models.EmailField(_("e-mail address"))  # stored lower-case
    is_primary = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["address"], name="customer_email_idx")]
        constraints = [models.UniqueConstraint(fields=["customer", "address"], name="customer_email_unique")]

    def __str__(self) -> str:
        return self.address


class PhoneKind(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    LANDLINE = "landline", _("Landline")
    WORK = "work", _("Work")


class CustomerPhone(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("phone number"), max_length=20, help_text=_("E.164, e.g. +4922112345678"))
    kind = models.CharField(_("kind"), max_length=20, choices=PhoneKind.choices, default=PhoneKind.MOBILE)
    is_primary = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["number"], name="customer_phone_idx")]
        constraints = [models.UniqueConstraint(fields=["customer", "number"], name="customer_phone_unique")]

    def __str__(self) -> str:
        return self.number


class ConsentPurpose(models.TextChoices):
    PROCESSING = "processing", _("Processing of the complaint")
    CONTACT_EMAIL = "contact_email", _("Contact by e-mail")
    CONTACT_PHONE = "contact_phone", _("Contact by phone")
    SURVEY = "survey", _("Satisfaction surveys")
    MARKETING = "marketing", _("Marketing")


class ConsentRecord(models.Model):
    """Consents are recorded, never edited: a withdrawal is a new record with granted=False."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=30, choices=ConsentPurpose.choices)
    granted = models.BooleanField(_("granted"))
    recorded_at = models.DateTimeField(_("recorded at"))
    source = models.CharField(_("source"), max_length=100, blank=True, help_text=_("e.g. web form, phone, letter"))
    note = models.CharField(_("note"), max_length=255, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["customer", "purpose", "-recorded_at"], name="consent_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.purpose}: {'granted' if self.granted else 'withdrawn'} ({self.recorded_at:%Y-%m-%d})"


class Sector(models.TextChoices):
    ENERGY = "energy", _("Energy")
    PAYMENTS = "payments", _("Payment services")
    BANKING = "banking", _("Banking")
    INSURANCE = "insurance", _("Insurance")
    TELECOMS = "telecoms", _("Telecommunications")
    OTHER = "other", _("Other")


class Product(BilingualLabel):
    """An entry of the organisation's product catalogue, e.g. "Strom Basis", "Girokonto Plus"."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    sector = models.CharField(_("sector"), max_length=20, choices=Sector.choices, default=Sector.OTHER)
    payment_services = models.BooleanField(
        _("payment-services related"), default=False, help_text=_("Complaints about it fall under PSD2 deadlines.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("product")
        verbose_name_plural = _("products")


class ContractStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")
    PENDING = "pending", _("Pending")


class Contract(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contracts")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="contracts")
    contract_number = models.CharField(_("contract number"), max_length=40, unique=True)
    starts_on = models.DateField(_("start"), null=True, blank=True)
    ends_on = models.DateField(_("end"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=ContractStatus.choices, default=ContractStatus.ACTIVE)

    class Meta:
        ordering = ["-starts_on", "id"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")

    def __str__(self) -> str:
        return f"{self.contract_number} · {self.product}"
