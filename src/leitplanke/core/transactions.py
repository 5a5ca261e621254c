"""Service transactions without a savepoint where nobody could use one.

A service opens its own `transaction.atomic()`. Inside another transaction that is a
SAVEPOINT before and a RELEASE SAVEPOINT after (two round trips to the database), so that
a caller may catch the service's error and go on with its own transaction. A caller that
never does — the API's `acting`, whose transaction rolls back on any error and answers
with the error — runs its change under `all_or_nothing()`; a service opening its block
with `service_atomic()` then takes no savepoint (Django's `savepoint=False`: an error
marks the enclosing transaction for rollback, which rolls back anyway). Outside a
transaction, or without `all_or_nothing()`, `service_atomic()` is `transaction.atomic()`.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction

_all_or_nothing: contextvars.ContextVar[bool] = contextvars.ContextVar("leitplanke_all_or_nothing", default=False)


@contextmanager
def all_or_nothing() -> Iterator[None]:
    """One transaction in which every error is fatal: the services called in it take no
    savepoints. Only for callers that let every exception leave the transaction."""
    with transaction.atomic():
        token = _all_or_nothing.set(True)
        try:
            yield
        finally:
            _all_or_nothing.reset(token)


def service_atomic() -> transaction.Atomic:
    """`transaction.atomic()` for a service's writes; without a savepoint inside
    `all_or_nothing()`."""
    return transaction.atomic(savepoint=not _all_or_nothing.get())
