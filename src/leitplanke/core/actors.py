"""Who acts, as far as `core` needs to know (docs/adr/0022-actor-type.md).

`core` imports no feature app, so it cannot name `accounts.User`. What it needs of an actor
is small: whether a logged-in user acts (then its primary key and e-mail go into the audit
log) or a part of the system does (then a short label does). The feature apps use the
richer `leitplanke.accounts.actors.Actor`, which is a subtype of `AuditActor`.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeAlias, TypeGuard


class UserLike(Protocol):
    """A user object: Django's user model or `AnonymousUser`."""

    @property
    def pk(self) -> Any: ...

    @property
    def is_authenticated(self) -> bool: ...


# Who an audit event is recorded for: a user, a label naming the part of the system that acts
# ("intake", "mailer", "system", "anonymous"), or None, which is recorded as "system".
AuditActor: TypeAlias = UserLike | str | None


def is_authenticated_user(actor: object) -> TypeGuard[UserLike]:
    """True for a logged-in user; False for the system (None, a label) and anonymous visitors.
    (A TypeGuard, not a TypeIs: an anonymous visitor is a `UserLike` too, so False says
    nothing about the type.)"""
    return actor is not None and not isinstance(actor, str) and bool(getattr(actor, "is_authenticated", False))
