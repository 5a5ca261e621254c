"""Every write to customers, their contact data, consents, contracts and the product
catalogue: one transaction and one audit event per change.

Contact data is edited as whole lists: `customer_create` and `customer_update` take
`emails=[...]` and `phones=[...]` and replace what is stored. One form field per list
(and one PATCH field in the API) is simpler for people and clients than add/remove
calls, and the audit event shows the old and the new list side by side.

The vulnerability reason is sensitive (health, bereavement, debt): it is never written
into the audit log, which is append-only and cannot forget; events only record that the
flag or the reason changed. Reading the reason goes through `vulnerability_view`, which
is audited.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from leitplanke.accounts import permissions
from leitplanke.accounts.actors import Actor, acting_user
from leitplanke.accounts.models import Language
from leitplanke.core.audit import audit_record, audit_update, changed_fields, snapshot
from leitplanke.core.errors import PermissionDenied, PreconditionFailed, ValidationFailed, refuse_unknown_fields

from .models import (
    ConsentPurpose,
    ConsentRecord,
    Contract,
    ContractStatus,
    Customer,
    CustomerEmail,
    CustomerKind,
    CustomerPhone,
    PhoneKind,
    Product,
    Salutation,
    Sector,
    Segment,
)
from .normalise import normalise_customer_number, normalise_email, normalise_phone

# Re-exported for views, forms and the API, which may not import models directly.
__all__ = [
    "ConsentPurpose",
    "ContractStatus",
    "CustomerKind",
    "PhoneKind",
    "Salutation",
    "Sector",
    "Segment",
    "consent_record",
    "contract_create",
    "contract_end",
    "customer_create",
    "customer_merge",
    "customer_update",
    "normalise_phone",
    "product_create",
    "product_update",
    "vulnerability_view",
]

CUSTOMER_FIELDS = [
    "kind",
    "customer_number",
    "salutation",
    "title",
    "first_name",
    "last_name",
    "organisation_name",
    "display_name",
    "preferred_language",
    "segment",
    "value_amount",
    "value_currency",
    "customer_since",
    "street",
    "postal_code",
    "city",
    "country",
    "region",
    "is_active",
]
PRODUCT_FIELDS = ["code", "name_de", "name_en", "sector", "payment_services", "is_active"]
CONTRACT_FIELDS = ["customer", "product", "contract_number", "starts_on", "ends_on", "status"]
CUSTOMER_NUMBER_PREFIX = "K-"
# Sent inside the transaction of a change to what identifies a customer (names, number,
# e-mail addresses, phone numbers), with `customer_ids`. The cases app listens and brings
# the search documents of those customers' cases up to date (this app knows nothing of
# cases: the dependency stays one way).
customer_changed = Signal()
SEARCHED_FIELDS = {"display_name", "first_name", "last_name", "organisation_name", "customer_number", "emails", "phones"}
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
REGION_RE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
NUMBER_RE = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{0,39}$")


def _require(actor: Actor, *capabilities: str) -> None:
    """`actor=None` is the system itself (e-mail intake, the public form, demo data)."""
    if actor is None:
        return
    if not any(permissions.has_capability(actor, code) for code in capabilities):
        raise PermissionDenied()


def _fail(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(field_errors={field: [message]})


class _Errors:
    """Collects field errors so that a form shows all of them at once."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.fields:
            raise ValidationFailed(field_errors=self.fields)


def _display_name(kind: str, first_name: str, last_name: str, organisation_name: str) -> str:
    if kind == CustomerKind.ORGANISATION:
        return organisation_name
    return f"{last_name}, {first_name}" if first_name else last_name


def _clean_emails(values: Iterable[str], errors: _Errors) -> list[str]:
    cleaned: list[str] = []
    for value in values:
        if not (value or "").strip():
            continue
        email = normalise_email(value)
        if email is None:
            errors.add("emails", _("“%(value)s” is not a valid e-mail address.") % {"value": value.strip()})
        elif email not in cleaned:
            cleaned.append(email)
    return cleaned


def _guess_phone_kind(value: str, country: str) -> str:
    """Mobile or landline from the number itself, when the caller did not say."""
    try:
        number_type = phonenumbers.number_type(phonenumbers.parse(value, country or "DE"))
    except phonenumbers.NumberParseException:
        return PhoneKind.MOBILE
    return PhoneKind.LANDLINE if number_type == phonenumbers.PhoneNumberType.FIXED_LINE else PhoneKind.MOBILE


def _clean_phones(values: Iterable[Any], country: str, errors: _Errors) -> list[tuple[str, str]]:
    """Phones as strings or {"number": ..., "kind": ...}; returns (E.164, kind) pairs."""
    cleaned: list[tuple[str, str]] = []
    for value in values:
        if isinstance(value, Mapping):
            raw, kind = str(value.get("number", "")), str(value.get("kind") or "")
        else:
            raw, kind = str(value or ""), ""
        if not raw.strip():
            continue
        kind = kind or _guess_phone_kind(raw, country)
        if kind not in PhoneKind.values:
            errors.add("phones", _("Unknown kind of phone number: %(kind)s.") % {"kind": kind})
            continue
        number = normalise_phone(raw, country=country)
        if number is None:
            errors.add("phones", _("“%(value)s” is not a valid phone number.") % {"value": raw.strip()})
        elif number not in [n for n, _k in cleaned]:
            cleaned.append((number, kind))
    return cleaned


def _text(data: dict[str, Any], field: str, max_length: int, errors: _Errors) -> str:
    value = str(data.get(field) or "").strip()
    if len(value) > max_length:
        errors.add(field, _("At most %(n)s characters.") % {"n": max_length})
    return value


def _validate_customer(data: dict[str, Any], errors: _Errors) -> dict[str, Any]:
    """Validates and normalises the plain customer fields (everything but contact lists)."""
    out: dict[str, Any] = {}
    kind = data.get("kind")
    if kind not in CustomerKind.values:
        errors.add("kind", _("Choose person or organisation."))
    out["kind"] = kind
    for field, length in (
        ("title", 50),
        ("first_name", 100),
        ("last_name", 100),
        ("organisation_name", 200),
        ("street", 200),
        ("postal_code", 20),
        ("city", 100),
    ):
        out[field] = _text(data, field, length, errors)
    salutation = str(data.get("salutation") or "")
    if salutation not in Salutation.values and salutation != "":
        errors.add("salutation", _("Choose one of the offered values."))
    out["salutation"] = salutation if kind == CustomerKind.PERSON else ""
    if kind != CustomerKind.PERSON:
        out["title"] = ""
    if kind == CustomerKind.PERSON and not out["last_name"]:
        errors.add("last_name", _("A person needs a last name."))
    if kind == CustomerKind.ORGANISATION and not out["organisation_name"]:
        errors.add("organisation_name", _("An organisation needs a name."))
    if data.get("preferred_language") not in Language.values:
        errors.add("preferred_language", _("Choose German or English."))
    out["preferred_language"] = data.get("preferred_language")
    if data.get("segment") not in Segment.values:
        errors.add("segment", _("Choose a segment."))
    out["segment"] = data.get("segment")
    country = str(data.get("country") or "").strip().upper()
    if not COUNTRY_RE.match(country):
        errors.add("country", _("Enter a two-letter country code such as DE or GB."))
    out["country"] = country
    region = str(data.get("region") or "").strip().upper()
    if region and not REGION_RE.match(region):
        errors.add("region", _("Enter a region code such as DE-BY or GB-SCT."))
    out["region"] = region
    currency = str(data.get("value_currency") or "EUR").strip().upper()
    if not CURRENCY_RE.match(currency):
        errors.add("value_currency", _("Enter a three-letter currency code such as EUR."))
    out["value_currency"] = currency
    amount = data.get("value_amount")
    if amount in (None, ""):
        out["value_amount"] = None
    else:
        try:
            value = Decimal(str(amount))
            if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
                raise InvalidOperation
            out["value_amount"] = value.quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            errors.add("value_amount", _("Enter an amount of zero or more, e.g. 1250.00."))
            out["value_amount"] = None
    since = data.get("customer_since")
    if isinstance(since, str) and since:
        try:
            since = dt.date.fromisoformat(since)
        except ValueError:
            errors.add("customer_since", _("Enter a date as YYYY-MM-DD."))
            since = None
    if isinstance(since, dt.date) and since > timezone.localdate():
        errors.add("customer_since", _("The date cannot be in the future."))
    out["customer_since"] = since or None
    out["display_name"] = _display_name(kind or "", out["first_name"], out["last_name"], out["organisation_name"])[:255]
    return out


def _validate_vulnerability(actor: Actor, is_vulnerable: bool, reason: str, errors: _Errors) -> tuple[bool, str]:
    reason = (reason or "").strip()
    if is_vulnerable and not reason:
        errors.add("vulnerability_reason", _("Give a reason for the vulnerability."))
    if not is_vulnerable:
        reason = ""
    return bool(is_vulnerable), reason


# Whether a customer number is taken: written once (every customer created by intake asks).
_NUMBER_TAKEN_SQL = "SELECT 1 FROM customers_customer WHERE customer_number = %s LIMIT 1"


def _new_customer_number() -> str:
    for _attempt in range(20):
        number = f"{CUSTOMER_NUMBER_PREFIX}{secrets.randbelow(10**7):07d}"
        with connection.cursor() as cursor:
            cursor.execute(_NUMBER_TAKEN_SQL, [number])
            taken = cursor.fetchone() is not None
        if not taken:
            return number
    raise RuntimeError("could not find a free customer number")  # 20 collisions in 10^7: practically never


def _contact_snapshot(customer: Customer) -> dict[str, Any]:
    return {
        "emails": list(customer.emails.order_by("-is_primary", "id").values_list("address", flat=True)),
        "phones": [f"{n} ({k})" for n, k in customer.phones.order_by("-is_primary", "id").values_list("number", "kind")],
    }


def _customer_snapshot(customer: Customer) -> dict[str, Any]:
    return {**snapshot(customer, CUSTOMER_FIELDS), **_contact_snapshot(customer)}


def _replace_contacts(customer: Customer, emails: list[str] | None, phones: list[tuple[str, str]] | None) -> None:
    if emails is not None:
        customer.emails.exclude(address__in=emails).delete()
        existing = set(customer.emails.values_list("address", flat=True))
        CustomerEmail.objects.bulk_create([CustomerEmail(customer=customer, address=a) for a in emails if a not in existing])
        customer.emails.update(is_primary=False)
        if emails:
            customer.emails.filter(address=emails[0]).update(is_primary=True)
    if phones is not None:
        numbers = [n for n, _k in phones]
        customer.phones.exclude(number__in=numbers).delete()
        existing_phones = {p.number: p for p in customer.phones.all()}
        for index, (number, kind) in enumerate(phones):
            phone = existing_phones.get(number)
            if phone is None:
                CustomerPhone.objects.create(customer=customer, number=number, kind=kind, is_primary=index == 0)
            elif phone.kind != kind or phone.is_primary != (index == 0):
                phone.kind, phone.is_primary = kind, index == 0
                phone.save(update_fields=["kind", "is_primary"])


def _add_contacts(customer: Customer, emails: list[str] | None, phones: list[tuple[str, str]] | None) -> None:
    """A new customer's contacts (it has none yet): the first of each kind is primary."""
    CustomerEmail.objects.bulk_create(
        [CustomerEmail(customer=customer, address=address, is_primary=index == 0) for index, address in enumerate(emails or [])]
    )
    CustomerPhone.objects.bulk_create(
        [
            CustomerPhone(customer=customer, number=number, kind=kind, is_primary=index == 0)
            for index, (number, kind) in enumerate(phones or [])
        ]
    )


def _vulnerability_event(actor: Actor, customer: Customer, before: tuple[bool, str], after: tuple[bool, str]) -> None:
    if before == after:
        return
    audit_record(
        actor=actor,
        action="customer.vulnerability_change",
        obj=customer,
        before={"is_vulnerable": before[0]},
        after={"is_vulnerable": after[0], "reason_changed": before[1] != after[1]},
    )


# --- customers ----------------------------------------------------------------------------


@transaction.atomic
def customer_create(
    *,
    actor: Actor,
    kind: str = CustomerKind.PERSON,
    salutation: str = "",
    title: str = "",
    first_name: str = "",
    last_name: str = "",
    organisation_name: str = "",
    customer_number: str | None = None,
    emails: Iterable[str] = (),
    phones: Iterable[Any] = (),
    preferred_language: str = Language.GERMAN,
    segment: str = Segment.PRIVATE,
    value_amount: Decimal | str | None = None,
    value_currency: str = "EUR",
    customer_since: dt.date | str | None = None,
    street: str = "",
    postal_code: str = "",
    city: str = "",
    country: str = "DE",
    region: str = "",
    is_vulnerable: bool = False,
    vulnerability_reason: str = "",
) -> Customer:
    """Creates a customer with e-mail addresses (lower-cased) and phone numbers (E.164,
    national numbers read in `country`). Without `customer_number` one is generated
    ("K-" and seven digits). Marking a customer vulnerable needs customers.view_sensitive."""
    _require(actor, permissions.MANAGE_CUSTOMERS)
    if (
        (is_vulnerable or (vulnerability_reason or "").strip())
        and actor is not None
        and not permissions.has_capability(actor, permissions.VIEW_SENSITIVE)
    ):
        raise PermissionDenied(_("Only users who may see sensitive customer data can record a vulnerability."))
    errors = _Errors()
    data = _validate_customer(
        {
            "kind": kind,
            "salutation": salutation,
            "title": title,
            "first_name": first_name,
            "last_name": last_name,
            "organisation_name": organisation_name,
            "preferred_language": preferred_language,
            "segment": segment,
            "value_amount": value_amount,
            "value_currency": value_currency,
            "customer_since": customer_since,
            "street": street,
            "postal_code": postal_code,
            "city": city,
            "country": country,
            "region": region,
        },
        errors,
    )
    clean_emails = _clean_emails(emails, errors)
    clean_phones = _clean_phones(phones, data["country"] if COUNTRY_RE.match(data["country"]) else "DE", errors)
    vulnerable, reason = _validate_vulnerability(actor, is_vulnerable, vulnerability_reason, errors)
    number = normalise_customer_number(customer_number) if customer_number else ""
    if customer_number is not None and not customer_number.strip():
        number = ""
    if number:
        if not NUMBER_RE.match(number):
            errors.add("customer_number", _("Use letters, digits and - . / _ only (at most 40)."))
        elif Customer.objects.filter(customer_number=number).exists():
            errors.add("customer_number", _("This customer number is taken."))
    errors.raise_if_any()
    customer = Customer(
        **data, customer_number=number or _new_customer_number(), is_vulnerable=vulnerable, vulnerability_reason=reason
    )
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        raise _fail("customer_number", _("This customer number is taken.")) from None
    _add_contacts(customer, clean_emails, clean_phones)
    # The snapshot _customer_snapshot would read back: the contacts just written, primary first.
    contacts = {"emails": list(clean_emails or []), "phones": [f"{n} ({k})" for n, k in clean_phones or []]}
    audit_record(actor=actor, action="customer.create", obj=customer, after={**snapshot(customer, CUSTOMER_FIELDS), **contacts})
    _vulnerability_event(actor, customer, (False, ""), (vulnerable, reason))
    return customer


UPDATABLE = set(CUSTOMER_FIELDS) - {"display_name", "is_active", "customer_number"} | {
    "emails",
    "phones",
    "is_vulnerable",
    "vulnerability_reason",
}


@transaction.atomic
def customer_update(*, actor: Actor, customer: Customer, expected_version: int | None = None, **changes: Any) -> Customer:
    """Changes a customer. `emails`/`phones` replace the stored lists. With
    `expected_version` a concurrent change raises PreconditionFailed. Changing the
    vulnerability flag or reason needs customers.view_sensitive; with is_vulnerable=True
    and no new reason the stored reason is kept."""
    _require(actor, permissions.MANAGE_CUSTOMERS)
    refuse_unknown_fields(changes, UPDATABLE)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.merged_into_id is not None:
        raise ValidationFailed(_("This customer was merged into another one and cannot be changed."))
    if expected_version is not None and customer.version != expected_version:
        raise PreconditionFailed(current_version=customer.version)
    sensitive = {"is_vulnerable", "vulnerability_reason"} & set(changes)
    if sensitive and not permissions.has_capability(actor, permissions.VIEW_SENSITIVE):
        raise PermissionDenied(_("Only users who may see sensitive customer data can change a vulnerability."))
    before = _customer_snapshot(customer)
    vulnerability_before = (customer.is_vulnerable, customer.vulnerability_reason)
    errors = _Errors()
    merged = {field: getattr(customer, field) for field in CUSTOMER_FIELDS}
    merged.update({k: v for k, v in changes.items() if k in CUSTOMER_FIELDS})
    data = _validate_customer(merged, errors)
    country = data["country"] if COUNTRY_RE.match(data["country"]) else "DE"
    emails = _clean_emails(changes["emails"], errors) if "emails" in changes else None
    phones = _clean_phones(changes["phones"], country, errors) if "phones" in changes else None
    vulnerable, reason = customer.is_vulnerable, customer.vulnerability_reason
    if sensitive:
        vulnerable = bool(changes.get("is_vulnerable", customer.is_vulnerable))
        new_reason = changes.get("vulnerability_reason")
        keep = new_reason is None or (vulnerable and not str(new_reason).strip())
        reason = customer.vulnerability_reason if keep else str(new_reason)
        vulnerable, reason = _validate_vulnerability(actor, vulnerable, reason, errors)
    errors.raise_if_any()
    for field, value in data.items():
        setattr(customer, field, value)
    customer.is_vulnerable, customer.vulnerability_reason = vulnerable, reason
    _replace_contacts(customer, emails, phones)
    old, new = changed_fields(before, _customer_snapshot(customer))
    vulnerability_changed = vulnerability_before != (vulnerable, reason)
    if new or vulnerability_changed:
        customer.version = F("version") + 1
        customer.save()
        customer.refresh_from_db(fields=["version", "updated_at"])
    if new:
        audit_record(actor=actor, action="customer.update", obj=customer, before=old, after=new)
        if SEARCHED_FIELDS & set(new):
            customer_changed.send(sender=Customer, customer_ids=[customer.pk])
    _vulnerability_event(actor, customer, vulnerability_before, (vulnerable, reason))
    return customer


@transaction.atomic
def vulnerability_view(*, actor: Actor, customer: Customer) -> str:
    """Returns the vulnerability reason and records that `actor` looked at it."""
    _require(actor, permissions.VIEW_SENSITIVE)
    row = Customer.objects.filter(pk=customer.pk).values("is_vulnerable", "vulnerability_reason").first()
    if row is None:
        raise ValidationFailed(_("Unknown customer."))
    audit_record(actor=actor, action="customer.vulnerability_view", obj=customer, after={"is_vulnerable": row["is_vulnerable"]})
    return str(row["vulnerability_reason"] or "")


@transaction.atomic
def customer_merge(
    *, actor: Actor, survivor: Customer, duplicate: Customer, move_cases: Callable[[Customer, Customer], int]
) -> dict[str, int]:
    """Moves everything of `duplicate` to `survivor`: e-mail addresses and phone numbers
    (without duplicates), consents, contracts and — through `move_cases(survivor,
    duplicate)`, which returns how many moved — cases; then marks the duplicate inactive
    and merged. Returns what moved, by kind.

    Cases belong to the cases app, which depends on this one: start a merge with
    `leitplanke.cases.customer_services.customer_merge`, which passes the function that
    moves each case through the cases services."""
    _require(actor, permissions.MERGE_CUSTOMERS)
    if survivor.pk == duplicate.pk:
        raise _fail("duplicate", _("A customer cannot be merged into itself."))
    # Lock both rows in id order, so that two merges of the same pair cannot deadlock.
    locked = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[survivor.pk, duplicate.pk]).order_by("pk")}
    survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
    if survivor.merged_into_id is not None or not survivor.is_active:
        raise _fail("survivor", _("This customer was merged into another one; merge into that one instead."))
    if duplicate.merged_into_id is not None:
        raise _fail("duplicate", _("This customer was merged already."))
    survivor_emails = set(survivor.emails.values_list("address", flat=True))
    survivor_phones = set(survivor.phones.values_list("number", flat=True))
    dup_emails = CustomerEmail.objects.filter(customer=duplicate)
    dup_phones = CustomerPhone.objects.filter(customer=duplicate)
    # Contact data the survivor has already is dropped; the rest moves over as non-primary.
    dropped_emails = dup_emails.filter(address__in=survivor_emails).delete()[0]
    dropped_phones = dup_phones.filter(number__in=survivor_phones).delete()[0]
    moved = {
        "emails": dup_emails.update(customer=survivor, is_primary=False),
        "phones": dup_phones.update(customer=survivor, is_primary=False),
        "consents": ConsentRecord.objects.filter(customer=duplicate).update(customer=survivor),
        "contracts": Contract.objects.filter(customer=duplicate).update(customer=survivor),
        "cases": move_cases(survivor, duplicate),
    }
    if not survivor_emails:
        first = survivor.emails.order_by("id").first()
        if first:
            survivor.emails.filter(pk=first.pk).update(is_primary=True)
    if not survivor_phones:
        first_phone = survivor.phones.order_by("id").first()
        if first_phone:
            survivor.phones.filter(pk=first_phone.pk).update(is_primary=True)
    Customer.objects.filter(pk=duplicate.pk).update(
        is_active=False, merged_into=survivor, version=F("version") + 1, updated_at=timezone.now()
    )
    Customer.objects.filter(pk=survivor.pk).update(version=F("version") + 1, updated_at=timezone.now())
    if duplicate.is_vulnerable and not survivor.is_vulnerable:
        # A vulnerability must not get lost by a merge: the survivor inherits it.
        Customer.objects.filter(pk=survivor.pk).update(is_vulnerable=True, vulnerability_reason=duplicate.vulnerability_reason)
        audit_record(
            actor=actor,
            action="customer.vulnerability_change",
            obj=survivor,
            before={"is_vulnerable": False},
            after={"is_vulnerable": True, "reason_changed": True},
        )
    audit_record(
        actor=actor,
        action="customer.merge",
        obj=survivor,
        before={"duplicate_id": duplicate.pk, "duplicate_number": duplicate.customer_number},
        after={"survivor_id": survivor.pk, "moved": moved, "dropped": {"emails": dropped_emails, "phones": dropped_phones}},
    )
    customer_changed.send(sender=Customer, customer_ids=[survivor.pk])
    return moved


# --- consents ----------------------------------------------------------------------------


@transaction.atomic
def consent_record(
    *, actor: Actor, customer: Customer, purpose: str, granted: bool, source: str = "", note: str = ""
) -> ConsentRecord:
    """Appends a consent (or, with granted=False, a withdrawal). Records are never edited."""
    _require(actor, permissions.MANAGE_CUSTOMERS)
    errors = _Errors()
    if purpose not in ConsentPurpose.values:
        errors.add("purpose", _("Choose a purpose."))
    source, note = (source or "").strip(), (note or "").strip()
    if len(source) > 100:
        errors.add("source", _("At most %(n)s characters.") % {"n": 100})
    if len(note) > 255:
        errors.add("note", _("At most %(n)s characters.") % {"n": 255})
    errors.raise_if_any()
    record = ConsentRecord.objects.create(
        customer=customer,
        purpose=purpose,
        granted=bool(granted),
        recorded_at=timezone.now(),
        source=source,
        note=note,
        recorded_by=acting_user(actor),
    )
    audit_record(
        actor=actor,
        action="customer.consent_record",
        obj=customer,
        after={"consent_id": record.pk, "purpose": purpose, "granted": record.granted, "source": source},
    )
    return record


# --- products and contracts --------------------------------------------------------------


def _validate_product(data: dict[str, Any], errors: _Errors) -> dict[str, Any]:
    out: dict[str, Any] = {}
    code = str(data.get("code") or "").strip().lower()
    if not re.match(r"^[a-z0-9][a-z0-9_-]{0,49}$", code):
        errors.add("code", _("Use lower-case letters, digits, - and _ (at most 50)."))
    out["code"] = code
    for field in ("name_de", "name_en"):
        value = str(data.get(field) or "").strip()
        if not value:
            errors.add(field, _("This field is required."))
        elif len(value) > 200:
            errors.add(field, _("At most %(n)s characters.") % {"n": 200})
        out[field] = value
    if data.get("sector") not in Sector.values:
        errors.add("sector", _("Choose a sector."))
    out["sector"] = data.get("sector")
    out["payment_services"] = bool(data.get("payment_services"))
    out["is_active"] = bool(data.get("is_active", True))
    return out


@transaction.atomic
def product_create(
    *,
    actor: Actor,
    code: str,
    name_de: str,
    name_en: str,
    sector: str = Sector.OTHER,
    payment_services: bool = False,
    is_active: bool = True,
) -> Product:
    """Adds a product to the catalogue (process owners and administrators)."""
    _require(actor, permissions.MANAGE_PROCESSES, permissions.MANAGE_ORGANISATION)
    errors = _Errors()
    data = _validate_product(
        {
            "code": code,
            "name_de": name_de,
            "name_en": name_en,
            "sector": sector,
            "payment_services": payment_services,
            "is_active": is_active,
        },
        errors,
    )
    if data["code"] and Product.objects.filter(code=data["code"]).exists():
        errors.add("code", _("This code is taken."))
    errors.raise_if_any()
    try:
        with transaction.atomic():
            product = Product.objects.create(**data)
    except IntegrityError:
        raise _fail("code", _("This code is taken.")) from None
    audit_record(actor=actor, action="product.create", obj=product, after=snapshot(product, PRODUCT_FIELDS))
    return product


@transaction.atomic
def product_update(*, actor: Actor, product: Product, **changes: Any) -> Product:
    _require(actor, permissions.MANAGE_PROCESSES, permissions.MANAGE_ORGANISATION)
    refuse_unknown_fields(changes, PRODUCT_FIELDS)
    product = Product.objects.select_for_update().get(pk=product.pk)
    before = snapshot(product, PRODUCT_FIELDS)
    errors = _Errors()
    data = _validate_product({**before, **changes}, errors)
    if data["code"] != product.code and Product.objects.filter(code=data["code"]).exists():
        errors.add("code", _("This code is taken."))
    errors.raise_if_any()
    for field, value in data.items():
        setattr(product, field, value)
    product.save()
    audit_update(actor=actor, action="product.update", obj=product, before=before, fields=PRODUCT_FIELDS)
    return product


@transaction.atomic
def contract_create(
    *,
    actor: Actor,
    customer: Customer,
    product: Product,
    contract_number: str,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    status: str = ContractStatus.ACTIVE,
) -> Contract:
    """Records a contract of a customer for a catalogue product."""
    _require(actor, permissions.MANAGE_CUSTOMERS)
    errors = _Errors()
    number = normalise_customer_number(contract_number)
    if not NUMBER_RE.match(number):
        errors.add("contract_number", _("Use letters, digits and - . / _ only (at most 40)."))
    elif Contract.objects.filter(contract_number=number).exists():
        errors.add("contract_number", _("This contract number is taken."))
    if status not in ContractStatus.values:
        errors.add("status", _("Choose a status."))
    if starts_on and ends_on and ends_on < starts_on:
        errors.add("ends_on", _("The end cannot be before the start."))
    if not product.is_active:
        errors.add("product", _("This product is no longer offered."))
    if customer.merged_into_id is not None:
        errors.add("customer", _("This customer was merged into another one."))
    errors.raise_if_any()
    try:
        with transaction.atomic():
            contract = Contract.objects.create(
                customer=customer, product=product, contract_number=number, starts_on=starts_on, ends_on=ends_on, status=status
            )
    except IntegrityError:
        raise _fail("contract_number", _("This contract number is taken.")) from None
    audit_record(actor=actor, action="contract.create", obj=contract, after=snapshot(contract, CONTRACT_FIELDS))
    return contract


@transaction.atomic
def contract_end(*, actor: Actor, contract: Contract, ends_on: dt.date | None = None) -> Contract:
    """Ends a contract: status "ended" and `ends_on` (default: today in the organisation's
    time zone). Refuses a contract that has ended already and an end before the start.
    Pending contracts can be ended too (e.g. cancelled before they started). A future end
    date is accepted without an upper bound: a termination with notice is recorded when it
    is declared, with the agreed last day as `ends_on`."""
    _require(actor, permissions.MANAGE_CUSTOMERS)
    contract = Contract.objects.select_for_update().select_related("product").get(pk=contract.pk)
    if contract.status == ContractStatus.ENDED:
        raise _fail("status", _("This contract has ended already."))
    end = ends_on or timezone.localdate()
    if contract.starts_on and end < contract.starts_on:
        raise _fail("ends_on", _("The end cannot be before the start."))
    before = snapshot(contract, CONTRACT_FIELDS)
    contract.status, contract.ends_on = ContractStatus.ENDED, end
    contract.save(update_fields=["status", "ends_on"])
    audit_record(actor=actor, action="contract.end", obj=contract, before=before, after=snapshot(contract, CONTRACT_FIELDS))
    return contract
