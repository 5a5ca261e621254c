"""Files that belong to database rows (attachments, raw e-mail): on disk only while a row
owns them.

A file is written to a staging area inside MEDIA_ROOT (`.staging/<its name>`) and moved
to its place by `transaction.on_commit` — one rename on the same file system. A rolled-back
transaction therefore never leaves a file in place; its staged copy is deleted when the
thread's work ends (`settle`: after each request and each background task), and
`sweep` (hourly) removes what a crash left behind:

- staged files older than `STALE_AFTER`: moved into place if a committed row owns them
  (the process died between commit and move), deleted otherwise;
- stored files older than `STALE_AFTER` that no row owns (rows deleted, or files from
  before this module).

Safety of the sweep: a file reaches its place only after its row has committed, and both
kinds of file are left alone until they are `STALE_AFTER` old, far longer than any
transaction, so a file whose row is still being committed is never touched.

Within the transaction that wrote it the file is already readable: the storage
(`StagingFileSystemStorage`, the default storage) finds a name in the staging area until
it has been moved. Other transactions cannot see the row before it commits.

Apps declare which rows own which files with `owned_files(prefix, model, field)` in their
`ready()`; the sweep only looks at those directories.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from django.core.files.storage import FileSystemStorage, storages
from django.core.signals import request_finished
from django.db import DEFAULT_DB_ALIAS, connections, transaction

logger = logging.getLogger(__name__)
T = TypeVar("T")
STAGING = ".staging"
STALE_AFTER = dt.timedelta(hours=1)
_BATCH = 500


@dataclass(frozen=True)
class Owner:
    prefix: str
    model: Any
    field: str

    def owned(self, names: list[str]) -> set[str]:
        owned: set[str] = set()
        for start in range(0, len(names), _BATCH):
            batch = names[start : start + _BATCH]
            owned.update(self.model.objects.filter(**{f"{self.field}__in": batch}).values_list(self.field, flat=True))
        return owned


_owners: list[Owner] = []


def owned_files(prefix: str, model: Any, field: str) -> None:
    """Declares that files named `prefix…` belong to rows of `model` through `field`."""
    owner = Owner(prefix.rstrip("/") + "/", model, field)
    if owner not in _owners:
        _owners.append(owner)


def _owner_of(name: str) -> Owner | None:
    return next((owner for owner in _owners if name.startswith(owner.prefix)), None)


class StagingFileSystemStorage(FileSystemStorage):
    """The file system storage, where a name still in the staging area is found there."""

    def final_path(self, name: str) -> str:
        return super().path(name)

    def staged_path(self, name: str) -> str:
        return super().path(f"{STAGING}/{name}")

    def path(self, name: str) -> str:
        final = self.final_path(name)
        if os.path.exists(final):
            return final
        staged = self.staged_path(name)
        return staged if os.path.exists(staged) else final


# --- staging and moving into place ---------------------------------------------------------


@dataclass(frozen=True)
class _Pending:
    storage: StagingFileSystemStorage
    name: str
    alias: str


_local = threading.local()


def _pending() -> list[_Pending]:
    if not hasattr(_local, "pending"):
        _local.pending = []
    return _local.pending  # type: ignore[no-any-return]


def _storage(field_file: Any) -> StagingFileSystemStorage:
    storage = field_file.storage
    if not isinstance(storage, StagingFileSystemStorage):
        raise TypeError(f"{type(storage).__name__} cannot stage files: use storedfiles.StagingFileSystemStorage")
    return storage


def stage(field_file: Any, name: str, content: bytes, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Gives `field_file` the name `name` (unique, e.g. random) and writes `content` to the
    staging area; the file moves to `name` when the current transaction commits."""
    storage = _storage(field_file)
    staged = Path(storage.staged_path(name))
    staged.parent.mkdir(parents=True, exist_ok=True)
    with open(staged, "xb") as handle:  # "x": never overwrite another request's file
        handle.write(content)
    field_file.name = name
    item = _Pending(storage, name, using)
    _pending().append(item)
    transaction.on_commit(lambda: _move_into_place(item), using=using, robust=True)


def _move_into_place(item: _Pending) -> None:
    _move(item.storage, item.name)
    if item in _pending():
        _pending().remove(item)


def _move(storage: StagingFileSystemStorage, name: str) -> bool:
    """Moves a staged file into place; True if it is there afterwards."""
    final = Path(storage.final_path(name))
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(storage.staged_path(name), final)
    except FileNotFoundError:
        if not final.exists():
            logger.error("stored file %s is neither staged nor in place", name)
            return False
    return True


def settle(*, using: str = DEFAULT_DB_ALIAS) -> int:
    """Deals with this thread's staged files whose transaction has ended: a file whose row
    committed is moved into place (normally its commit hook did that already), the others
    were rolled back and are deleted. Returns how many were deleted. Runs after each
    request and background task; inside a transaction it does nothing."""
    if connections[using].in_atomic_block:
        return 0
    pending = [item for item in _pending() if item.alias == using]
    deleted = 0
    for item in pending:
        _pending().remove(item)
        staged = Path(item.storage.staged_path(item.name))
        if not staged.exists():
            continue  # moved on commit
        owner = _owner_of(item.name)
        if owner is not None and owner.owned([item.name]):
            _move(item.storage, item.name)
        else:
            staged.unlink(missing_ok=True)
            deleted += 1
    return deleted


def settle_quietly(**kwargs: Any) -> None:
    """`settle()` for the end of a unit of work: a failure is logged, never raised over the
    work's own result or error (the sweep catches up)."""
    try:
        settle()
    except Exception:
        logger.exception("could not settle staged files")


def settling(func: Callable[..., T]) -> Callable[..., T]:
    """Decorates a unit of work that may stage files outside any request or task (one
    message of a mail import, say): its rolled-back files are deleted when it returns."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> T:
        try:
            return func(*args, **kwargs)
        finally:
            settle_quietly()

    return run


request_finished.connect(settle_quietly, dispatch_uid="leitplanke.storedfiles.settle")


# --- the sweep -----------------------------------------------------------------------------


@dataclass
class SweepResult:
    moved: int = 0  # staged files of committed rows, moved into place
    deleted_staged: int = 0  # staged files of rolled-back or crashed transactions
    deleted_orphans: int = 0  # stored files no row owns

    def as_dict(self) -> dict[str, int]:
        return {"moved": self.moved, "deleted_staged": self.deleted_staged, "deleted_orphans": self.deleted_orphans}


def _old_files(root: Path, cutoff: float) -> list[Path]:
    if not root.is_dir():
        return []
    return [path for path in root.rglob("*") if path.is_file() and path.stat().st_mtime < cutoff]


def sweep(*, staged_older_than: dt.timedelta = STALE_AFTER, stored_older_than: dt.timedelta = STALE_AFTER) -> SweepResult:
    """Removes files no row owns and finishes moves a crash interrupted (module docstring).

    `staged_older_than` must exceed the longest transaction: a younger staged file may
    belong to one still running. Stored files appear only after their row committed, so
    the age limit for them is a margin, not a condition of correctness."""
    result = SweepResult()
    storage = storages["default"]
    if not isinstance(storage, StagingFileSystemStorage):
        logger.error("the default storage is not a StagingFileSystemStorage: stored files are not swept")
        return result
    now = time.time()
    staging_root = Path(storage.final_path(STAGING))
    stale = _old_files(staging_root, now - staged_older_than.total_seconds())
    staged = {path.relative_to(staging_root).as_posix(): path for path in stale}
    for owner in _owners:
        names = [name for name in staged if name.startswith(owner.prefix)]
        for name in owner.owned(names):
            if _move(storage, name):
                result.moved += 1
            staged.pop(name)
    for path in staged.values():
        path.unlink(missing_ok=True)
        result.deleted_staged += 1
    for owner in _owners:
        root = Path(storage.final_path(owner.prefix))
        old_files = _old_files(root, now - stored_older_than.total_seconds())
        stored = {path.relative_to(storage.final_path("")).as_posix(): path for path in old_files}
        owned = owner.owned(list(stored))
        for name, path in stored.items():
            if name not in owned:
                path.unlink(missing_ok=True)
                result.deleted_orphans += 1
    if result.deleted_staged or result.deleted_orphans or result.moved:
        logger.warning("stored files sweep: %s", result.as_dict())
    return result
