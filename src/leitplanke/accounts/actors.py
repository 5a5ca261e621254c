"""Who acts in the feature apps: the `Actor` type and the checks that narrow it
(docs/adr/0022-actor-type.md).

Every service and selector takes `actor: Actor`:

- a `User` — someone logged in (the only kind of object that is authenticated:
  `AUTH_USER_MODEL` is `accounts.User`);
- an `AnonymousUser` — a visitor who is not logged in (`request.user` on public pages);
  selectors show such an actor nothing, services refuse it;
- `None` — the system itself (intake, the scheduler, a customer confirming by e-mail).

The type only exists for the type checker: the models are imported under TYPE_CHECKING, so
importing this module never imports a model and can happen from anywhere above `core`
(every module using it has `from __future__ import annotations`). Use the predicates
below instead of `getattr(actor, "is_authenticated", False)`, so that the checker knows
what the rest of the function holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias, TypeGuard

from leitplanke.core.actors import is_authenticated_user
from leitplanke.core.errors import PermissionDenied

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from typing_extensions import TypeIs

    from leitplanke.accounts.models import User

Actor: TypeAlias = "User | AnonymousUser | None"


def is_user(actor: object) -> TypeIs[User]:
    """True for a logged-in user. False for the system (`None`) and anonymous visitors, so
    after `if not is_user(actor): …` the checker knows the rest holds a `User`."""
    return is_authenticated_user(actor)


def acting_user(actor: object) -> User | None:
    """The logged-in user who acts, or None (the system, an anonymous visitor): for fields
    such as `created_by`, `author`, `uploaded_by`."""
    return actor if is_user(actor) else None


def is_active_user(actor: object) -> TypeGuard[User]:
    """A logged-in user whose account is active (what a capability check starts from).
    A TypeGuard, not a TypeIs: False may still be an (inactive) `User`."""
    return is_user(actor) and actor.is_active


def require_user(actor: object) -> User:
    """The logged-in user who acts; `PermissionDenied` (403) for the system and anonymous
    visitors. For the operations only a person can do (own API tokens, own settings)."""
    if not is_user(actor):
        raise PermissionDenied()
    return actor
