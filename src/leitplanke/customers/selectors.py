"""Reads of customers, contracts and products.

Customers are reference data shared by all case workers: everyone who may see cases
(cases.view_team or cases.view_all) may see customers. The vulnerability reason is
never loaded here (it is read through the audited `services.vulnerability_view`), and
the vulnerability flag is masked (`is_vulnerable = None`) for users without
customers.view_sensitive. Masked instances carry `sensitive_masked = True`; services
always reload what they change, so a masked instance is never written back.

Name search uses the index on (name_key, id), where name_key is the display name folded
in Python (`models.fold_name`: all Unicode letters, "ß" as "ss"): a prefix becomes the
range name_key >= 'prefix' AND < 'prefiy', which SQLite and PostgreSQL (any collation)
both answer from the index, and lists are ordered by the same key so that the index also
gives the order (no sort of all matching rows). Customer numbers are stored upper-case
and e-mail addresses lower-case, so those lookups are exact matches on their indexes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet

from leitplanke.accounts import permissions
from leitplanke.accounts.actors import Actor
from leitplanke.core import rows
from leitplanke.core.errors import NotFound, PermissionDenied
from leitplanke.core.pagination import Page, decode_cursor, keyset_page

from .models import ConsentPurpose, ConsentRecord, Contract, Customer, CustomerEmail, CustomerPhone, Product, fold_name
from .normalise import normalise_customer_number, normalise_email, normalise_phone, search_terms

LIST_ORDERING = ["name_key", "id"]
MAX_LIMIT = 200
PHONE_LIKE = re.compile(r"^\+?[\d\s()./-]{5,}$")
NUMBER_LIKE = re.compile(r"^[A-Za-z]{1,4}-?\d{3,}$")


def can_see_customers(actor: Actor) -> bool:
    return bool({permissions.VIEW_TEAM_CASES, permissions.VIEW_ALL_CASES} & permissions.capabilities_of(actor))


def can_see_sensitive(actor: Actor) -> bool:
    return permissions.has_capability(actor, permissions.VIEW_SENSITIVE)


def can_manage_customers(actor: Actor) -> bool:
    return permissions.has_capability(actor, permissions.MANAGE_CUSTOMERS)


def can_merge_customers(actor: Actor) -> bool:
    return permissions.has_capability(actor, permissions.MERGE_CUSTOMERS)


def can_manage_products(actor: Actor) -> bool:
    return bool({permissions.MANAGE_PROCESSES, permissions.MANAGE_ORGANISATION} & permissions.capabilities_of(actor))


def _require_view(actor: Actor) -> None:
    if not can_see_customers(actor):
        raise PermissionDenied()


def mask(customer: Customer, *, actor: Actor) -> Customer:
    """Hides what `actor` may not see; the reason is never shown without an audit event."""
    customer.vulnerability_reason = ""
    if not can_see_sensitive(actor):
        customer.is_vulnerable = None  # type: ignore[assignment]
    customer.sensitive_masked = True  # type: ignore[attr-defined]
    return customer


def _base(actor: Actor) -> QuerySet[Customer]:
    _require_view(actor)
    return Customer.objects.defer("vulnerability_reason")


def _list_queryset(actor: Actor) -> QuerySet[Customer]:
    return _base(actor).prefetch_related(
        Prefetch("emails", CustomerEmail.objects.order_by("-is_primary", "id")),
        Prefetch("phones", CustomerPhone.objects.order_by("-is_primary", "id")),
    )


def _prefix_range(prefix: str) -> Q:
    """Prefix match on LOWER(display_name) as an index range, rechecked by startswith."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return Q(name_key__gte=prefix, name_key__lt=upper, name_key__startswith=prefix)


@dataclass
class SearchFilters:
    q: str = ""
    email: str = ""
    phone: str = ""
    customer_number: str = ""
    include_inactive: bool = False


def _filtered(actor: Actor, filters: SearchFilters) -> QuerySet[Customer]:
    qs = _list_queryset(actor)
    if not filters.include_inactive:
        qs = qs.filter(is_active=True)
    none = qs.none()
    if filters.customer_number:
        qs = qs.filter(customer_number=normalise_customer_number(filters.customer_number))
    if filters.email:
        email = normalise_email(filters.email)
        if email is None:
            return none
        qs = qs.filter(pk__in=CustomerEmail.objects.filter(address=email).values("customer_id"))
    if filters.phone:
        phone = normalise_phone(filters.phone)
        if phone is None:
            return none
        qs = qs.filter(pk__in=CustomerPhone.objects.filter(number=phone).values("customer_id"))
    q = (filters.q or "").strip()
    if q:
        qs = qs.filter(_q_condition(q))
    return qs


def _q_condition(q: str) -> Q:
    """One search box: an e-mail address, a phone number, a customer number or a name prefix."""
    if "@" in q:
        email = normalise_email(q) or q.lower()
        return Q(pk__in=CustomerEmail.objects.filter(address=email).values("customer_id"))
    if NUMBER_LIKE.match(q) and Customer.objects.filter(customer_number=normalise_customer_number(q)).exists():
        return Q(customer_number=normalise_customer_number(q))
    if PHONE_LIKE.match(q) and sum(ch.isdigit() for ch in q) >= 5:
        phone = normalise_phone(q)
        if phone is not None:
            return Q(pk__in=CustomerPhone.objects.filter(number=phone).values("customer_id"))
        return Q(customer_number=normalise_customer_number(q))
    return _prefix_range(fold_name(q))


def customer_search(
    *,
    actor: Actor,
    q: str = "",
    cursor: str | None = None,
    limit: int = 25,
    email: str = "",
    phone: str = "",
    customer_number: str = "",
    include_inactive: bool = False,
) -> Page[Customer]:
    """One page of customers ordered by name (case-insensitive), then id."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    qs = _filtered(
        actor, SearchFilters(q=q, email=email, phone=phone, customer_number=customer_number, include_inactive=include_inactive)
    )
    if cursor:
        # keyset_page adds (name > x) OR (name = x AND id > y); the redundant name >= x lets
        # the database start its index range at the cursor instead of filtering from row one.
        qs = qs.filter(**{"name_key__gte": decode_cursor(cursor, len(LIST_ORDERING))[0]})
    page = keyset_page(qs, ordering=LIST_ORDERING, cursor=cursor, limit=limit)
    for customer in page.items:
        mask(customer, actor=actor)
    return page


def customer_get(*, actor: Actor, customer_id: int) -> Customer:
    """One customer with contact data, contracts (with product) and the consent history."""
    customer = (
        _list_queryset(actor)
        .select_related("merged_into")
        .prefetch_related(
            Prefetch("contracts", Contract.objects.select_related("product").order_by("-starts_on", "id")),
            Prefetch("consents", ConsentRecord.objects.select_related("recorded_by").order_by("-recorded_at", "-id")),
        )
        .filter(pk=customer_id)
        .first()
    )
    if customer is None:
        raise NotFound()
    return mask(customer, actor=actor)


def customer_get_by_number(*, actor: Actor, customer_number: str) -> Customer:
    row = _base(actor).filter(customer_number=normalise_customer_number(customer_number)).values("pk").first()
    if row is None:
        raise NotFound()
    return customer_get(actor=actor, customer_id=row["pk"])


def customer_find_by_email(email: str) -> Customer | None:
    """The active customer with this address, for e-mail intake (a system read, unmasked
    flag, never the reason). With several matches the most recently changed one wins."""
    address = normalise_email(email)
    if address is None:
        return None
    # What `Customer.objects.defer("vulnerability_reason").filter(is_active=True,
    # emails__address=address).order_by("-updated_at", "-id").first()` reads, in a statement
    # written once: every new sender of an e-mail import asks (no query compiled per message).
    sql, fields = _find_by_email_statement(connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [True, address])
        found = cursor.fetchone()
    return None if found is None else rows.instance(Customer, fields, found, connection)


_FIND_BY_EMAIL: dict[str, tuple[str, list[Any]]] = {}


def _find_by_email_statement(db: Any) -> tuple[str, list[Any]]:
    """The statement (per database vendor) and the fields it reads: every column but the
    vulnerability reason. Table and column names are the models' own; values are parameters."""
    if db.vendor not in _FIND_BY_EMAIL:
        columns, fields = rows.columns(Customer, db, leave_out=("vulnerability_reason",))
        sql = (
            f"SELECT {columns} FROM customers_customer INNER JOIN customers_customeremail"  # noqa: S608
            " ON customers_customeremail.customer_id = customers_customer.id"
            " WHERE customers_customer.is_active = %s AND customers_customeremail.address = %s"
            " ORDER BY customers_customer.updated_at DESC, customers_customer.id DESC LIMIT 1"
        )
        _FIND_BY_EMAIL[db.vendor] = (sql, fields)
    return _FIND_BY_EMAIL[db.vendor]


def _require_visible_customer(actor: Actor, customer_id: int) -> None:
    if not _base(actor).filter(pk=customer_id).exists():
        raise NotFound()


def customer_contracts(*, actor: Actor, customer_id: int) -> list[Contract]:
    _require_visible_customer(actor, customer_id)
    return list(Contract.objects.filter(customer_id=customer_id).select_related("product").order_by("-starts_on", "id"))


def customer_contract(*, actor: Actor, customer_id: int, contract_id: int) -> Contract:
    """One contract of a visible customer; a contract of another customer is NotFound."""
    _require_visible_customer(actor, customer_id)
    contract = Contract.objects.filter(pk=contract_id, customer_id=customer_id).select_related("product").first()
    if contract is None:
        raise NotFound()
    return contract


def customer_consents(*, actor: Actor, customer_id: int) -> list[ConsentRecord]:
    """The consent history of a visible customer, newest first."""
    _require_visible_customer(actor, customer_id)
    return list(ConsentRecord.objects.filter(customer_id=customer_id).order_by("-recorded_at", "-id"))


@dataclass
class ConsentState:
    purpose: str
    label: str
    granted: bool | None
    record: ConsentRecord | None


def consent_states(customer: Customer) -> list[ConsentState]:
    """The current state per purpose (latest record wins), from the prefetched history."""
    latest: dict[str, ConsentRecord] = {}
    for record in customer.consents.all():  # ordered newest first
        latest.setdefault(record.purpose, record)
    return [
        ConsentState(
            purpose=value, label=str(label), granted=latest[value].granted if value in latest else None, record=latest.get(value)
        )
        for value, label in ConsentPurpose.choices
    ]


def merge_preview(*, actor: Actor, survivor: Customer, duplicate: Customer) -> dict[str, int]:
    """What a merge would move of the customer record (for the confirmation page; the cases
    app counts the cases the actor may see: `cases.selectors.customer_case_count`)."""
    _require_view(actor)
    survivor_emails = CustomerEmail.objects.filter(customer=survivor).values("address")
    survivor_phones = CustomerPhone.objects.filter(customer=survivor).values("number")
    return {
        "emails": CustomerEmail.objects.filter(customer=duplicate).exclude(address__in=survivor_emails).count(),
        "phones": CustomerPhone.objects.filter(customer=duplicate).exclude(number__in=survivor_phones).count(),
        "consents": ConsentRecord.objects.filter(customer=duplicate).count(),
        "contracts": Contract.objects.filter(customer=duplicate).count(),
    }


# --- products ----------------------------------------------------------------------------


def product_list(*, active_only: bool = False) -> QuerySet[Product]:
    qs = Product.objects.order_by("name_en", "id")
    return qs.filter(is_active=True) if active_only else qs


def product_get(*, product_id: int) -> Product:
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        raise NotFound()
    return product


def customer_search_terms(customer_id: int | None, *, customer: Customer | None = None) -> str:
    """The words by which the customer's cases are found (names folded, number, e-mail
    addresses, phone numbers): what the cases app puts into each case's search document.
    Not scoped to an actor: it feeds an index, never a page. One statement, written once
    (every new case of a customer reads it): the contact data, and the names and number
    unless `customer` (the loaded record) gives them."""
    if customer_id is None:
        return ""
    given = customer if customer is not None and customer.pk == customer_id else None
    with connection.cursor() as cursor:
        cursor.execute(_CONTACTS_SQL if given else _TERMS_SQL, [customer_id] * (2 if given else 3))
        rows = cursor.fetchall()
    if given is not None:
        row = {
            "display_name": given.display_name,
            "first_name": given.first_name,
            "last_name": given.last_name,
            "organisation_name": given.organisation_name,
            "customer_number": given.customer_number,
        }
    else:
        names = [values for values in rows if values[0] == 0]
        if not names:
            return ""
        row = dict(zip(_TERM_NAMES, (str(value) for value in names[0][1:]), strict=True))
    unique: list[str] = []
    for name in (row["display_name"], row["first_name"], row["last_name"], row["organisation_name"]):
        if name and name.casefold() not in {known.casefold() for known in unique}:
            unique.append(name)
    contacts = sorted(str(values[1]) for values in rows if values[0] == 1)
    emails = [value for value in contacts if "@" in value]
    phones = [value for value in contacts if "@" not in value]
    return search_terms(names=unique, customer_number=row["customer_number"], emails=emails, phones=phones)


_TERM_NAMES = ("display_name", "first_name", "last_name", "organisation_name", "customer_number")
# The customer's addresses and phone numbers (marked 1), and with _TERMS_SQL its names and
# number first (marked 0). Fixed table names; the id is a parameter.
_CONTACTS_SQL = (
    "SELECT 1, address, '', '', '', '' FROM customers_customeremail WHERE customer_id = %s "
    "UNION ALL SELECT 1, number, '', '', '', '' FROM customers_customerphone WHERE customer_id = %s"
)
_TERMS_SQL = (
    "SELECT 0, display_name, first_name, last_name, organisation_name, customer_number "
    "FROM customers_customer WHERE id = %s UNION ALL " + _CONTACTS_SQL
)
