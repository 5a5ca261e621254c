"""Reference data cached per process, valid while the database says it is unchanged.

Every case creation reads data that administrators change a few times a year: the case
type, its custom field definitions, the webhook endpoints, the capabilities of the actor's
roles. Reading them from the database on every request costs more than the case itself.
Each process keeps them in memory instead, tagged with the *reference generation*: one
row that every change to such data rewrites, in the change's own transaction (model
signals, see `watch`). A request reads the generation once (one primary-key lookup); when
it differs from the one the cache was filled under, the cache is dropped and filled anew.

So the cache is exactly as fresh as a read at the request's first use of reference data,
on every app server and worker, and a change is seen by the next request anywhere.

The generation is a random number, not a counter: a transaction that changed reference
data and rolled back may have filled some process's cache under its (never committed)
value, and a counter would hand the same value to the next committed change. Outside a
request (worker, commands) the generation is read at every use.

Cached values are shared between requests: callers must not modify them.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models.signals import m2m_changed, post_delete, post_save

from .context import current_request_context
from .models import ReferenceGeneration
from .prepared import statement_cursor

T = TypeVar("T")

ROW_ID = 1
# Read on almost every request: plain SQL skips the ORM's query compilation.
GENERATION_SQL = "SELECT value FROM core_referencegeneration WHERE id = %s"
_lock = threading.Lock()
_generation: int | None = None
_values: dict[Hashable, Any] = {}


def current_generation() -> int:
    """The generation as seen by this request (read once per request), or read now."""
    context = current_request_context()
    memo = context.reference_generation
    if memo is not None and memo[0] is not None:
        return memo[0]
    with statement_cursor(connection, [ROW_ID]) as cursor:
        cursor.execute(GENERATION_SQL, [ROW_ID])
        row = cursor.fetchone()
    value = int(row[0]) if row else 0
    if memo is not None:
        memo[0] = value
    return value


def cached(key: Hashable, load: Callable[[], T]) -> T:
    """The value for `key` under the current generation; `load()` reads it on a miss.

    None is not kept: a lookup that found nothing runs again next time, so keys taken
    from requests (an unknown token or case type) cannot fill the memory."""
    global _generation, _values
    generation = current_generation()
    with _lock:
        if generation != _generation:
            _generation, _values = generation, {}
        if key in _values:
            return _values[key]  # type: ignore[no-any-return]
    value = load()
    with _lock:
        if generation == _generation and value is not None:
            _values[key] = value
    return value


def changed() -> None:
    """Marks reference data as changed, in the current transaction (if any)."""
    value = secrets.randbits(62)
    updated = ReferenceGeneration.objects.filter(pk=ROW_ID).update(value=value)
    if not updated:
        ReferenceGeneration.objects.get_or_create(pk=ROW_ID, defaults={"value": value})
    memo = current_request_context().reference_generation
    if memo is not None:
        memo[0] = None  # this request reads it again, seeing its own change
    clear_local()


def clear_local() -> None:
    """Drops this process's copies (tests do, after the database was emptied under them)."""
    global _generation, _values
    with _lock:
        _generation, _values = None, {}


def _on_change(sender: Any, **kwargs: Any) -> None:
    # m2m_changed fires before and after each change; post_save/post_delete have no action.
    if kwargs.get("action", "post_").startswith("post_"):
        changed()


def watch(model_classes: Iterable[type[models.Model]], *, m2m_through: Iterable[type[models.Model]] = ()) -> None:
    """Feature apps name the models whose rows are cached reference data (in `ready()`)."""
    for model in model_classes:
        post_save.connect(_on_change, sender=model, dispatch_uid=f"refcache-save-{model._meta.label}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"refcache-delete-{model._meta.label}")
    for through in m2m_through:
        m2m_changed.connect(_on_change, sender=through, dispatch_uid=f"refcache-m2m-{through._meta.label}")
