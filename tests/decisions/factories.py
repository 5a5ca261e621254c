"""Small factories for decision rows: the analytics and the simulation only read them, so the
tests create them directly (the services that write them belong to other parts of the app)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from django.utils import timezone

from leitplanke.accounts.models import Team, User
from leitplanke.cases.models import Case, CaseType, Category
from leitplanke.customers.models import Customer, Product
from leitplanke.decisions import shipped
from leitplanke.decisions.models import ApprovalRequest, DecisionRecord, DecisionTable

_numbers = itertools.count(1)


def case_type() -> CaseType:
    return CaseType.objects.order_by("id").first() or CaseType.objects.create(
        key="complaint", name_de="Beschwerde", name_en="Complaint"
    )


def category(key: str, name: str) -> Category:
    return Category.objects.get_or_create(key=key, defaults={"name_de": name, "name_en": name})[0]


def product(code: str, name: str) -> Product:
    return Product.objects.get_or_create(code=code, defaults={"name_de": name, "name_en": name, "sector": "energy"})[0]


def customer(segment: str = "private") -> Customer:
    n = next(_numbers)
    return Customer.objects.create(
        customer_number=f"K-{n:06d}", display_name=f"Kunde {n}", last_name=f"Kunde {n}", segment=segment
    )


def case(
    *,
    category: Category | None = None,
    product: Product | None = None,
    customer: Customer | None = None,
    team: Team | None = None,
) -> Case:
    n = next(_numbers)
    return Case.objects.create(
        reference=f"D-{n:06d}",
        case_type=case_type(),
        subject=f"Bill {n}",
        channel="email",
        received_at=timezone.now(),
        status="new",
        customer=customer,
        category=category,
        product=product,
        team=team,
    )


def table(
    key: str = "goodwill_energy_billing", version: int = 1, status: str = "published", jdm: dict[str, Any] | None = None
) -> DecisionTable:
    # The shipped tables are installed as published version 1 by a migration: take that row.
    table, _ = DecisionTable.objects.update_or_create(
        key=key,
        version=version,
        defaults={
            "status": status,
            "name_de": key,
            "name_en": key,
            "decision_kind": "goodwill",
            "jdm": jdm if jdm is not None else shipped.jdm(key),
            "tests": shipped.tests(key) if jdm is None else [],
        },
    )
    return table


def record(
    *,
    case: Case,
    by: User,
    team: Team | None,
    amount: str | Decimal = "0",
    kind: str = "goodwill",
    currency: str = "EUR",
    status: str = "final",
    deviates: bool = False,
    decided_at: dt.datetime | None = None,
    table: DecisionTable | None = None,
    inputs: dict[str, Any] | None = None,
    recommendation: dict[str, Any] | None = None,
    record_kind: str = "decision",
    refers_to: DecisionRecord | None = None,
    approval: str | None = None,
) -> DecisionRecord:
    made = DecisionRecord.objects.create(
        case=case,
        record_kind=record_kind,
        refers_to=refers_to,
        table=table,
        inputs=inputs or {},
        recommendation=recommendation or {},
        kind=kind,
        amount=Decimal(str(amount)),
        currency=currency,
        status=status,
        deviates=deviates,
        decided_by=by,
        decided_at=decided_at or timezone.now(),
        team=team,
    )
    if approval:
        ApprovalRequest.objects.create(
            record=made, status=approval, requested_at=made.decided_at, due_at=made.decided_at + dt.timedelta(days=2)
        )
    return made
