"""Runs background tasks (django-tasks database backend) plus the periodic scheduler and
the audit sealer in a side thread. Safe to run several at once."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Worker

from leitplanke.core import scheduler
from leitplanke.core.audit import audit_seal_all, unsealed_alarm_count

logger = logging.getLogger("leitplanke.worker")


def housekeeping_loop(stop: threading.Event, worker_id: str, every: float) -> None:
    alarm_checked = 0.0
    while not stop.is_set():
        try:
            close_old_connections()
            audit_seal_all()
            scheduler.tick(worker_id=worker_id)
            if time.monotonic() - alarm_checked > 60:
                alarm_checked = time.monotonic()
                if stale := unsealed_alarm_count():
                    logger.error("audit alarm: %s events unsealed for over a minute", stale)
        except Exception:  # keep the loop alive; the next tick retries
            logger.exception("housekeeping tick failed")
        stop.wait(every)
    close_old_connections()


class Command(BaseCommand):
    help = "Run background tasks, periodic jobs and the audit sealer."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=1.0)
        parser.add_argument("--max-tasks", type=int, default=None)
        parser.add_argument("--batch", action="store_true", help="exit when no task is ready")

    def handle(self, *args: Any, interval: float, max_tasks: int | None, batch: bool, **options: Any) -> None:
        worker_id = f"{socket.gethostname()}-{os.getpid()}"
        stop = threading.Event()
        side = threading.Thread(target=housekeeping_loop, args=(stop, worker_id, interval), daemon=True)
        side.start()
        worker = Worker(
            queue_names=["*"], interval=interval, batch=batch, backend_name="default", startup_delay=not batch,
            max_tasks=max_tasks, worker_id=worker_id, excluded_queue_names=[],
        )
        worker.configure_signals()
        self.stdout.write(f"leitplanke worker {worker_id} started (poll every {interval}s)")
        try:
            worker.run()
        finally:
            stop.set()
            side.join(timeout=5)
