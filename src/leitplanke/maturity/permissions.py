"""Who may do what with maturity checks (capabilities from accounts.permissions).

Anybody may take the check (public, or inside the app when logged in). Campaign results,
every in-app check and roadmaps are read with `maturity.view`; campaigns, roadmaps and the
recommendation library are changed with `maturity.manage`. Individual campaign answers
are never shown to anyone."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeGuard

from leitplanke.accounts.actors import Actor, is_active_user
from leitplanke.accounts.permissions import MANAGE_MATURITY, VIEW_MATURITY, has_capability

if TYPE_CHECKING:
    from leitplanke.accounts.models import User


def may_view(actor: Actor) -> TypeGuard[User]:
    return has_capability(actor, VIEW_MATURITY) or has_capability(actor, MANAGE_MATURITY)


def may_manage(actor: Actor) -> TypeGuard[User]:
    return has_capability(actor, MANAGE_MATURITY)


def may_take_in_app(actor: Actor) -> TypeGuard[User]:
    return is_active_user(actor)
