"""A small periodic scheduler run inside `leitplanke worker`.

Jobs are registered in code with an interval. Each tick, a worker claims a due job
with one conditional UPDATE (`next_run_at <= now`); only the worker whose UPDATE
changed the row enqueues the job's task, so two workers never run it twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import ScheduledJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval: dt.timedelta
    enqueue: Callable[[], Any]


REGISTRY: dict[str, PeriodicJob] = {}


def periodic(*, interval: dt.timedelta, name: str | None = None) -> Callable[[Any], Any]:
    """Registers a django-tasks Task to be enqueued every `interval`."""

    def register(task: Any) -> Any:
        job_name = name or task.module_path
        REGISTRY[job_name] = PeriodicJob(name=job_name, interval=interval, enqueue=task.enqueue)
        return task

    return register


def claim(job: PeriodicJob, *, worker_id: str, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    ScheduledJob.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
    claimed = ScheduledJob.objects.filter(name=job.name, next_run_at__lte=now).update(
        next_run_at=now + job.interval, last_run_at=now, last_worker=worker_id[:100]
    )
    return claimed == 1


def tick(*, worker_id: str, now: dt.datetime | None = None) -> list[str]:
    """Enqueues every due job this worker could claim; returns their names."""
    started = []
    for job in REGISTRY.values():
        try:
            with transaction.atomic():
                if claim(job, worker_id=worker_id, now=now):
                    job.enqueue()
                    started.append(job.name)
        except IntegrityError:  # another worker created the row at the same moment
            continue
    return started
