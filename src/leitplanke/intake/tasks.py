from __future__ import annotations

import datetime as dt

from leitplanke.core.background import background_task
from leitplanke.core.scheduler import periodic


@periodic(interval=dt.timedelta(minutes=1))
@background_task(max_attempts=1)
def fetch_mailboxes() -> dict[str, int]:
    from .imap import fetch_all

    reports = fetch_all()
    return {"mailboxes": len(reports), "imported": sum(r.imported for r in reports)}
