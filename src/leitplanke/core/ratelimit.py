"""Fixed-window rate limits stored in the database, so every app server shares them."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import RateLimitCounter


def _window_start(now: dt.datetime, window_seconds: int) -> dt.datetime:
    epoch = int(now.timestamp())
    return dt.datetime.fromtimestamp(epoch - epoch % window_seconds, tz=dt.UTC)


def hit(key: str, *, window_seconds: int, now: dt.datetime | None = None) -> int:
    """Counts one event for `key` in the window of `now` (default: the current one) and
    returns the new count. One atomic increment: concurrent callers get distinct counts, so
    "count first, then check the returned number" cannot be raced past a limit."""
    start = _window_start(now or timezone.now(), window_seconds)
    with transaction.atomic():
        updated = RateLimitCounter.objects.filter(key=key, window_start=start).update(count=F("count") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    RateLimitCounter.objects.create(key=key, window_start=start, count=1)
            except IntegrityError:
                RateLimitCounter.objects.filter(key=key, window_start=start).update(count=F("count") + 1)
        return RateLimitCounter.objects.get(key=key, window_start=start).count


def release(key: str, *, window_seconds: int, now: dt.datetime) -> None:
    """Takes back one event that `hit(key, now=now)` counted and that turned out not to count
    (an attempt refused before it was tried, or one that succeeded)."""
    start = _window_start(now, window_seconds)
    RateLimitCounter.objects.filter(key=key, window_start=start, count__gt=0).update(count=F("count") - 1)


def current(key: str, *, window_seconds: int) -> int:
    start = _window_start(timezone.now(), window_seconds)
    row = RateLimitCounter.objects.filter(key=key, window_start=start).values_list("count", flat=True).first()
    return row or 0


def reset(key: str) -> None:
    RateLimitCounter.objects.filter(key=key).delete()


def seconds_until_reset(window_seconds: int) -> int:
    now = timezone.now()
    return max(1, int((_window_start(now, window_seconds) + dt.timedelta(seconds=window_seconds) - now).total_seconds()))


def prune(*, older_than: dt.timedelta = dt.timedelta(days=1)) -> int:
    deleted, _ = RateLimitCounter.objects.filter(window_start__lt=timezone.now() - older_than).delete()
    return deleted
