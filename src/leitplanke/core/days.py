"""Calendar days as instants, for date filters (lists, audit log, consistency page).

A filter "from day D" means "from midnight at the start of D in the organisation's time zone".
For the first and the last days of the calendar that instant, or the next day's, lies outside
what Python's datetime can hold once turned to UTC (0001-01-01 at midnight in Berlin is still
year 0 in UTC): such days are moved one day inwards, where no case, decision or audit event
can be anyway, so that a filter typed as 0001-01-01 or 9999-12-31 answers instead of failing.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

FIRST_DAY = dt.date.min + dt.timedelta(days=1)
LAST_DAY = dt.date.max - dt.timedelta(days=2)  # its next day's start must exist too


def day_start(day: dt.date, *, days_later: int = 0) -> dt.datetime:
    """Midnight at the start of `day` (+ `days_later`) in the current time zone, aware."""
    day = min(max(day, FIRST_DAY), LAST_DAY)
    if days_later:
        day = min(max(day + dt.timedelta(days=days_later), FIRST_DAY), LAST_DAY + dt.timedelta(days=1))
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())
