"""Writes that span a customer record and its cases.

The cases app depends on the customers app, never the other way round, so what changes
both is started here: merging two customer records moves the duplicate's cases through
the cases services, each case recorded on its own.
"""

from __future__ import annotations

from django.db import transaction

from leitplanke.accounts.actors import Actor
from leitplanke.customers import services as customer_services
from leitplanke.customers.models import Customer

from . import services
from .selectors import visible_cases


@transaction.atomic
def customer_merge(*, actor: Actor, survivor: Customer, duplicate: Customer) -> dict[str, int]:
    """Merges `duplicate` into `survivor` (customers.merge): contact data, consents and
    contracts move in the customers app, every case through `case_customer_merge`.

    Returns what moved, by kind; `cases` counts only the cases the actor may see, so the
    answer reveals nothing about cases of other teams (the audit event has the total)."""
    moved_ids: list[int] = []

    def move_cases(to: Customer, source: Customer) -> int:
        moved_ids.extend(services.case_customer_merge(actor=actor, survivor=to, duplicate=source))
        return len(moved_ids)

    moved = customer_services.customer_merge(actor=actor, survivor=survivor, duplicate=duplicate, move_cases=move_cases)
    return {**moved, "cases": visible_cases(actor=actor).filter(pk__in=moved_ids).count()}
