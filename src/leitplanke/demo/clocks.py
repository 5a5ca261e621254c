"""Deadline clocks for the demo's generated cases.

The demo's cases are bulk-inserted (demo/cases.py) and so start no clocks; without them the
deadline panel, the list's "next due first" (the agents' default) and its overdue marks
would show nothing. This starts the case type's clocks of every open or waiting case from
the time it was received, as the create path does; a waiting case's clocks are paused as its
process state prescribes (`clock_services.pause_for_state`, the rule of a status change)
from the time the case entered the state (its last status change on the timeline, else its
last update). The thresholds already passed while a clock ran are recorded as handled at
their time — as a running system would have — so that the escalation job does not raise
hundreds of old cases at the demo's first minute."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from leitplanke.cases import clock_services
from leitplanke.cases import process as case_process
from leitplanke.cases.models import Case, CaseClock, ClockState, Interaction, InteractionKind, StatusKind

BATCH = 500


def _entered_state(batch: list[Case], now: dt.datetime) -> dict[int, dt.datetime]:
    """When each waiting case of the batch entered its state: its last status change on the
    timeline, else its last update; never before its receipt nor after `now`."""
    waiting = [case for case in batch if case.status_kind == StatusKind.WAITING]
    if not waiting:
        return {}
    changes = dict(
        Interaction.objects.filter(case_id__in=[c.pk for c in waiting], kind=InteractionKind.STATUS_CHANGE)
        .values("case_id")
        .annotate(at=Max("occurred_at"))
        .values_list("case_id", "at")
    )
    return {case.pk: min(now, max(case.received_at, changes.get(case.pk) or case.updated_at)) for case in waiting}


def seed_demo_clocks(*, now: dt.datetime | None = None) -> int:
    """Starts the clocks of open and waiting cases that have none (pausing those a waiting
    case's state pauses); returns how many."""
    now = now or timezone.now()
    cases = Case.objects.filter(status_kind__in=[StatusKind.OPEN, StatusKind.WAITING], clocks__isnull=True)
    started = 0
    ids = list(cases.order_by("id").values_list("id", flat=True))
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            batch = list(Case.objects.filter(id__in=ids[start : start + BATCH]).select_related("case_type"))
            entered = _entered_state(batch, now)
            clocks: list[CaseClock] = []
            for case in batch:
                own = clock_services.new_clocks(case, at=case.received_at, reason="received")
                if case.pk in entered:
                    state = case_process.process_of(case).process.state(case.status)
                    clock_services.pause_for_state(own, case.status_kind, state.pauses if state else (), entered[case.pk])
                for clock in own:
                    # A paused clock's thresholds after its pause have not come yet (the due
                    # time moves on when it resumes).
                    seen = min(now, clock.paused_since) if clock.state == ClockState.PAUSED and clock.paused_since else now
                    clock.warned_at = clock.warn_at if clock.warn_at and clock.warn_at <= seen else None
                    clock.breach_notified_at = clock.due_at if clock.due_at and clock.due_at <= seen else None
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
