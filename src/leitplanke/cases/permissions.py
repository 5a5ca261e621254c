"""Who may see and change which case. Capabilities come from roles (accounts.permissions);
the rules below combine them with team membership and responsibility."""

from __future__ import annotations

from typing import Any

from leitplanke.accounts.permissions import (
    EDIT_CASES,
    VIEW_ALL_CASES,
    VIEW_SENSITIVE,
    VIEW_TEAM_CASES,
    has_capability,
)

# Timeline kinds an agent may add by hand; inbound messages come from intake only.
AGENT_NOTE_KINDS = ("internal_note", "phone_note", "outbound_message")


def sees_all(actor: Any) -> bool:
    return has_capability(actor, VIEW_ALL_CASES)


def sees_team(actor: Any) -> bool:
    return has_capability(actor, VIEW_TEAM_CASES)


def may_edit_cases(actor: Any) -> bool:
    return has_capability(actor, EDIT_CASES)


def may_see_sensitive(actor: Any) -> bool:
    return has_capability(actor, VIEW_SENSITIVE)


def team_ids_of(actor: Any) -> list[int]:
    """The ids of the actor's teams, cached on the user object for the request."""
    cached = getattr(actor, "_case_team_ids", None)
    if cached is None:
        cached = list(actor.teams.values_list("pk", flat=True)) if getattr(actor, "pk", None) else []
        actor._case_team_ids = cached
    return cached
