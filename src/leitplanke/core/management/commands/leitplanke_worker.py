"""Runs background tasks (django-tasks database backend) plus the periodic scheduler and
the audit sealer in a side thread. Safe to run several at once."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connection
from django_tasks_db.management.commands.db_worker import Worker

from leitplanke.core import audit_guards, scheduler
from leitplanke.core.audit import audit_seal_all, unsealed_alarm_count

logger = logging.getLogger("leitplanke.worker")
HOUSEKEEPING_MIN_PAUSE = 0.5
ALARM_EVERY = 60.0  # seconds between alarm checks (and so between repeated alarm log lines)
HANDLED_SIGNALS = [sig for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGQUIT", None)) if sig is not None]


def check_alarm() -> None:
    """Logs the audit alarm (docs/adr/0002-audit-chain.md) as an error: events left unsealed
    for over a minute, and audit guards missing from the database."""
    if stale := unsealed_alarm_count():
        logger.error("audit alarm: %s events unsealed for over a minute (sealing fails or no worker runs)", stale)
    for problem in audit_guards.guard_problems(connection):
        logger.error("audit alarm: %s", problem)


class Housekeeping:
    """Seals the audit log, enqueues the periodic jobs that are due and checks the alarm,
    each on its own: one that fails is logged and does not keep the others from running."""

    def __init__(self, worker_id: str, alarm_every: float = ALARM_EVERY) -> None:
        self.worker_id = worker_id
        self.alarm_every = alarm_every
        self.alarm_checked: float | None = None
        self.failed: list[str] = []

    def tick(self, *, alarm: bool | None = None) -> bool:
        """One round (the alarm check when due, or as `alarm` says); True when every step succeeded."""
        self.failed = []
        self._step("audit sealing", audit_seal_all)
        self._step("periodic scheduler", lambda: scheduler.tick(worker_id=self.worker_id))
        now = time.monotonic()
        if alarm is None:
            alarm = self.alarm_checked is None or now - self.alarm_checked >= self.alarm_every
        if alarm:
            self.alarm_checked = now
            self._step("audit alarm check", check_alarm)
        return not self.failed

    def _step(self, name: str, step: Callable[[], Any]) -> None:
        try:
            step()
        except Exception:
            self.failed.append(name)
            logger.exception("housekeeping: %s failed", name)


def housekeeping_loop(stop: threading.Event, worker_id: str, every: float) -> None:
    housekeeping = Housekeeping(worker_id)
    while not stop.is_set():
        try:
            close_old_connections()
        except Exception:  # the steps report a database that stays unusable
            logger.exception("housekeeping: closing old connections failed")
        housekeeping.tick()
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
                housekeeping = Housekeeping(worker_id)
                ok = housekeeping.tick(alarm=False)
                worker.run()
                if not (housekeeping.tick(alarm=True) and ok):  # the alarm once, after the last seal
                    raise CommandError("housekeeping failed (see the log); the ready tasks were run")
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
