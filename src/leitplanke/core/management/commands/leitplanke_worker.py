"""Runs background tasks (django-tasks database backend) plus the periodic scheduler and
the audit sealer in a side thread. Safe to run several at once."""

from __future__ import annotations

import logging
import os
import signal
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
HOUSEKEEPING_MIN_PAUSE = 0.5
HANDLED_SIGNALS = [sig for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGQUIT", None)) if sig is not None]


def housekeeping_tick(worker_id: str) -> None:
    """Seals the audit log and enqueues the periodic jobs that are due."""
    audit_seal_all()
    scheduler.tick(worker_id=worker_id)


def housekeeping_loop(stop: threading.Event, worker_id: str, every: float) -> None:
    alarm_checked = 0.0
    while not stop.is_set():
        try:
            close_old_connections()
            housekeeping_tick(worker_id)
            if time.monotonic() - alarm_checked > 60:
                alarm_checked = time.monotonic()
                if stale := unsealed_alarm_count():
                    logger.error("audit alarm: %s events unsealed for over a minute", stale)
        except Exception:  # keep the loop alive; the next tick retries
            logger.exception("housekeeping tick failed")
        # At least a short pause: `--interval 0` must not turn this thread into a busy loop.
        stop.wait(max(every, HOUSEKEEPING_MIN_PAUSE))
    close_old_connections()


class Command(BaseCommand):
    help = "Run background tasks, periodic jobs and the audit sealer."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=1.0)
        parser.add_argument("--max-tasks", type=int, default=None)
        parser.add_argument(
            "--batch", action="store_true", help="housekeeping once, run the tasks that are ready, seal, then exit"
        )

    def handle(self, *args: Any, interval: float, max_tasks: int | None, batch: bool, **options: Any) -> None:
        worker_id = f"{socket.gethostname()}-{os.getpid()}"
        worker = Worker(
            queue_names=["*"],
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=not batch,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        # Restored afterwards, so that calling the command in-process (tests) leaves Ctrl+C alone.
        previous_handlers = {sig: signal.getsignal(sig) for sig in HANDLED_SIGNALS}
        worker.configure_signals()
        self.stdout.write(f"leitplanke worker {worker_id} started (poll every {interval}s)")
        try:
            if batch:
                # Deterministic: what is due now is enqueued before the worker looks for ready tasks.
                housekeeping_tick(worker_id)
                worker.run()
                housekeeping_tick(worker_id)
            else:
                self._run_forever(worker, worker_id, interval)
        finally:
            for sig, handler in previous_handlers.items():
                signal.signal(sig, handler)

    def _run_forever(self, worker: Worker, worker_id: str, interval: float) -> None:
        stop = threading.Event()
        side = threading.Thread(target=housekeeping_loop, args=(stop, worker_id, interval), daemon=True)
        side.start()
        try:
            worker.run()
        finally:
            stop.set()
            side.join(timeout=5)
