"""Who may design processes: the `processes.manage` capability (roles as data, ADR 0003)."""

from __future__ import annotations

from typing import Any

from leitplanke.accounts.permissions import MANAGE_PROCESSES, has_capability


def may_manage(user: Any) -> bool:
    return has_capability(user, MANAGE_PROCESSES)


def may_read(user: Any) -> bool:
    """Every signed-in user may read definitions: they say which steps a case can take."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active)
