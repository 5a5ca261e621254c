"""Background tasks on Django's tasks API (django-tasks backport, database backend).

`background_task` adds retries with exponential backoff: a failing attempt is recorded
as FAILED (administrators see it under Settings → Background tasks) and a new attempt
is enqueued with `run_after`, up to `max_attempts`. `enqueue_on_commit` makes a task
visible to workers only once the surrounding transaction has committed, so a worker never
sees half a change: with the database backend the task row is written in that transaction
(it commits or rolls back with the change, savepoints included, and costs no commit of its
own); with any other backend the task is enqueued after the commit.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from . import storedfiles
from .inserts import insert_row

logger = logging.getLogger(__name__)
ATTEMPT_KWARG = "_attempt"


def retry_delay(attempt: int, *, base_seconds: float) -> dt.timedelta:
    """Exponential backoff: base, 2·base, 4·base … capped at one hour."""
    return dt.timedelta(seconds=min(base_seconds * 2 ** (attempt - 1), 3600))


def background_task(
    *, max_attempts: int = 5, base_delay_seconds: float = 10, priority: int = 0, queue_name: str = "default"
) -> Callable[[Callable[..., Any]], Any]:
    def decorate(func: Callable[..., Any]) -> Any:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            attempt = int(kwargs.pop(ATTEMPT_KWARG, 1))
            try:
                return func(*args, **kwargs)
            except Exception:
                if attempt < max_attempts and the_task.get_backend().supports_defer:
                    later = timezone.now() + retry_delay(attempt, base_seconds=base_delay_seconds)
                    the_task.using(run_after=later).enqueue(*args, **kwargs, **{ATTEMPT_KWARG: attempt + 1})
                    logger.warning(
                        "task %s failed (attempt %s of %s); retrying at %s", func.__name__, attempt, max_attempts, later
                    )
                else:
                    logger.error("task %s failed for good after %s attempts", func.__name__, attempt)
                raise
            finally:
                storedfiles.settle_quietly()  # files staged by a rolled-back transaction of the task

        the_task = task(priority=priority, queue_name=queue_name)(run)
        return the_task

    return decorate


def enqueue_on_commit(the_task: Any, *args: Any, **kwargs: Any) -> None:
    if transaction.get_connection().in_atomic_block and _writes_rows_to_this_database(the_task):
        _insert_task_row(the_task, args, kwargs)
    else:
        transaction.on_commit(lambda: the_task.enqueue(*args, **kwargs))


def _insert_task_row(the_task: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """What `DatabaseBackend.enqueue` does — validate the task, write its row, send
    `task_enqueued` — with the row written by a statement compiled once (`core.inserts`)
    instead of `objects.create()`: the same row, its `run_after` default (the backend's
    `pre_save` receiver) set here. An import writes one per acknowledgement."""
    from django_tasks_db.compat import normalize_json, task_enqueued
    from django_tasks_db.models import DBTaskResult, get_date_max

    backend = the_task.get_backend()
    backend.validate_task(the_task)
    row: DBTaskResult[Any, Any] = DBTaskResult(
        id=backend._get_id(),
        args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
        priority=the_task.priority,
        task_path=the_task.module_path,
        queue_name=the_task.queue_name,
        run_after=the_task.run_after if the_task.run_after is not None else get_date_max(),
        backend_name=backend.alias,
    )
    insert_row(row, receivers_done=True)
    task_enqueued.send(type(backend), task_result=row.task_result)


def _writes_rows_to_this_database(the_task: Any) -> bool:
    """The database backend stores a task as a row of the default database: written inside
    the transaction, it becomes visible exactly when the change does. (An enqueue after the
    commit cost every task its own commit: a second disk flush per escalation or mail.)"""
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(the_task.get_backend(), DatabaseBackend)
