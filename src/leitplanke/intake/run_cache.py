"""A cache that lives for one import run (`leitplanke mail import`), for data that is read
for every message but does not change with the messages: the reply template of a purpose,
case type and language, the organisation's name, the default case type, and the customer
found or created for a sender address (remembered only once that message was routed, so a
rolled-back message leaves nothing behind).

Outside `import_run()` nothing is cached, so the IMAP loop, the API and the pages always
read the current rows. A template edited while a file import runs applies from the next run.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")
_cache: ContextVar[dict[Hashable, Any] | None] = ContextVar("leitplanke_intake_run_cache", default=None)


@contextmanager
def import_run() -> Iterator[None]:
    token = _cache.set({})
    try:
        yield
    finally:
        _cache.reset(token)


def cached(key: Hashable, load: Callable[[], T]) -> T:
    """`load()`, remembered under `key` for the rest of the import run (if one is running)."""
    cache = _cache.get()
    if cache is None:
        return load()
    if key not in cache:
        cache[key] = load()
    return cache[key]  # type: ignore[no-any-return]


def peek(key: Hashable) -> Any:
    """The value remembered under `key` in this run, or None (also outside a run)."""
    cache = _cache.get()
    return None if cache is None else cache.get(key)


def remember(key: Hashable, value: Any) -> None:
    """Keeps `value` for the rest of the run (nothing happens outside a run)."""
    cache = _cache.get()
    if cache is not None:
        cache[key] = value
