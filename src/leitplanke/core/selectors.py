from __future__ import annotations

from typing import Any

from .audit import unsealed_alarm_count


def stale_unsealed_audit_events() -> int:
    return unsealed_alarm_count()


def home_overview(*, user: Any) -> dict[str, Any]:
    """What the start page shows; later issues add queues and deadlines here."""
    return {
        "teams": list(user.teams.order_by("name").values("id", "name")),
        "roles": [role.label for role in user.roles.all()],
    }
