"""Periodic housekeeping jobs of the core."""

from __future__ import annotations

import datetime as dt

from . import ratelimit
from .background import background_task
from .scheduler import periodic


@periodic(interval=dt.timedelta(hours=1))
@background_task(max_attempts=3)
def prune_rate_limit_counters() -> int:
    return ratelimit.prune()
