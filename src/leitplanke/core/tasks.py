"""Periodic housekeeping jobs of the core."""

from __future__ import annotations

import datetime as dt

from . import ratelimit, storedfiles
from .background import background_task
from .scheduler import periodic


@periodic(interval=dt.timedelta(hours=1))
@background_task(max_attempts=3)
def prune_rate_limit_counters() -> int:
    return ratelimit.prune()


@periodic(interval=dt.timedelta(hours=1))
@background_task(max_attempts=3)
def prune_idempotency_records(max_age_hours: int = 24) -> int:
    """Removes API Idempotency-Key records past their 24-hour replay window."""
    from django.utils import timezone

    from .models import IdempotencyRecord

    cutoff = timezone.now() - dt.timedelta(hours=max_age_hours)
    deleted, _details = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@periodic(interval=dt.timedelta(hours=1))
@background_task(max_attempts=3)
def sweep_stored_files() -> dict[str, int]:
    """Deletes files no row owns and staged files of rolled-back or crashed transactions."""
    return storedfiles.sweep().as_dict()
