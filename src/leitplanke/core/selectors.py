from __future__ import annotations

from typing import Any

from django.db import connection

from .audit import unsealed_alarm_count
from .audit_guards import guard_problems


def stale_unsealed_audit_events() -> int:
    return unsealed_alarm_count()


def audit_guard_problems() -> list[str]:
    """Audit triggers missing, disabled or changed in the database (empty: all in place)."""
    return guard_problems(connection)


def home_overview(*, user: Any) -> dict[str, Any]:
    """What the start page shows; later issues add queues and deadlines here."""
    return {
        "teams": list(user.teams.order_by("name").values("id", "name")),
        "roles": [role.label for role in user.roles.all()],
    }
