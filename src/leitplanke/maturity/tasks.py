from __future__ import annotations

import datetime as dt

from leitplanke.core.background import background_task
from leitplanke.core.scheduler import periodic


@periodic(interval=dt.timedelta(hours=6))
@background_task(max_attempts=3)
def prune_expired_checks() -> dict[str, int]:
    """Deletes anonymous public checks whose link expired (data minimisation)."""
    from .services import assessments_prune

    return {"deleted": assessments_prune()}
