"""Who may do what with decision tables (capabilities as data, ADR 0003).

Process owners (`processes.manage`) design tables: create, change, publish, retire, import,
and see drafts. Everyone who works on cases (`cases.edit`) reads the published tables and
evaluates them — the recommendation is part of deciding a case.
"""

from __future__ import annotations

from typing import Any

from leitplanke.accounts.permissions import EDIT_CASES, MANAGE_PROCESSES, has_capability


def may_manage(user: Any) -> bool:
    return has_capability(user, MANAGE_PROCESSES)


def may_read(user: Any) -> bool:
    """Published tables: case workers and process owners."""
    return has_capability(user, EDIT_CASES) or has_capability(user, MANAGE_PROCESSES)


def may_evaluate(user: Any) -> bool:
    return may_read(user)
