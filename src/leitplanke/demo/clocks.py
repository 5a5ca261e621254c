"""Deadline clocks for the demo's generated cases.

The demo's cases are bulk-inserted (demo/cases.py) and so start no clocks; without them the
deadline panel, the list's "next due first" (the agents' default) and its overdue marks
would show nothing. This starts the case type's clocks of every open or waiting case from
the time it was received, as the create path does, and records the thresholds already
passed as handled at their time — as a running system would have — so that the escalation
job does not raise hundreds of old cases at the demo's first minute."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from leitplanke.cases import clock_services
from leitplanke.cases.models import Case, CaseClock, StatusKind

BATCH = 500


def seed_demo_clocks(*, now: dt.datetime | None = None) -> int:
    """Starts the clocks of open and waiting cases that have none; returns how many."""
    now = now or timezone.now()
    cases = Case.objects.filter(status_kind__in=[StatusKind.OPEN, StatusKind.WAITING], clocks__isnull=True)
    started = 0
    ids = list(cases.order_by("id").values_list("id", flat=True))
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            batch = list(Case.objects.filter(id__in=ids[start : start + BATCH]).select_related("case_type"))
            clocks: list[CaseClock] = []
            for case in batch:
                for clock in clock_services.new_clocks(case, at=case.received_at, reason="received"):
                    clock.warned_at = clock.warn_at if clock.warn_at and clock.warn_at <= now else None
                    clock.breach_notified_at = clock.due_at if clock.due_at and clock.due_at <= now else None
                    clocks.append(clock)
            CaseClock.objects.bulk_create(clocks)
            by_case: dict[int, list[CaseClock]] = {}
            for clock in clocks:
                by_case.setdefault(clock.case.pk, []).append(clock)
            for case in batch:
                case.next_due_at, case.next_warn_at = clock_services.next_due(by_case.get(case.pk, []))
            Case.objects.bulk_update(batch, ["next_due_at", "next_warn_at"])
            started += len(clocks)
    return started
