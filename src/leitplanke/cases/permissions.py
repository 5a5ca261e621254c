"""Who may see and change which case. Capabilities come from roles (accounts.permissions);
the rules below combine them with team membership and responsibility."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeGuard

from leitplanke.accounts.actors import Actor, is_user
from leitplanke.accounts.permissions import (
    EDIT_CASES,
    VIEW_ALL_CASES,
    VIEW_SENSITIVE,
    VIEW_TEAM_CASES,
    has_capability,
)
from leitplanke.core import refcache

if TYPE_CHECKING:
    from leitplanke.accounts.models import User

# Timeline kinds an agent may add by hand; inbound messages come from intake only.
AGENT_NOTE_KINDS = ("internal_note", "phone_note", "outbound_message")


def sees_all(actor: Actor) -> TypeGuard[User]:
    return has_capability(actor, VIEW_ALL_CASES)


def sees_team(actor: Actor) -> TypeGuard[User]:
    return has_capability(actor, VIEW_TEAM_CASES)


def may_edit_cases(actor: Actor) -> TypeGuard[User]:
    return has_capability(actor, EDIT_CASES)


def may_see_sensitive(actor: Actor) -> TypeGuard[User]:
    return has_capability(actor, VIEW_SENSITIVE)


def team_ids_of(actor: Actor) -> list[int]:
    """The ids of the actor's teams (by team name), cached on the user object for the request
    and per process until teams or memberships change (`core.refcache`: both are watched)."""
    if not is_user(actor):
        return []  # the system and anonymous visitors belong to no team
    cached: list[int] | None = getattr(actor, "_case_team_ids", None)
    if cached is None:
        user = actor  # bound for the lambda (the checker does not carry narrowing into it)
        shared = refcache.cached(("team_ids", user.pk), lambda: tuple(user.teams.values_list("pk", flat=True)))
        cached = list(shared)
        actor._case_team_ids = cached
    return cached
