"""Run code in several threads at once, each thread with its own database connection.

Use it from transactional tests (`django_db(transaction=True)`): the threads are other
clients of the database and see only committed data.

- PostgreSQL: the threads connect to the test database like any other client.
- SQLite: the test database lives in memory with a shared cache, which has table locks
  instead of the file locks of production, so two writers fail with "database table is
  locked" instead of queueing. `shared_database` copies it into a file opened with the
  production settings (WAL, BEGIN IMMEDIATE, busy_timeout) and points every connection
  of this process — the threads' and the test's own — at that copy until the block ends.
  Assert inside the block: afterwards the test reads the in-memory database again.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections

T = TypeVar("T")
THREAD_TIMEOUT = 120


@contextmanager
def shared_database(tmp_path: Path) -> Iterator[None]:
    """The test database as several processes would share it (see the module docstring)."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():  # type: ignore[attr-defined]
        yield
        return
    path = tmp_path / "shared.sqlite3"
    connection.ensure_connection()
    copy = sqlite3.connect(path)
    try:
        connection.connection.backup(copy)
        copy.execute("PRAGMA journal_mode=WAL")
    finally:
        copy.close()
    alias = DEFAULT_DB_ALIAS
    memory_settings, memory_connection = connections.settings[alias], connections[alias]
    file_settings = {**memory_settings, "NAME": str(path)}
    connections.settings[alias] = file_settings
    file_connection = memory_connection.__class__(file_settings, alias)
    connections[alias] = file_connection
    try:
        yield
    finally:
        file_connection.close()
        connections[alias] = memory_connection
        connections.settings[alias] = memory_settings


def in_parallel(work: Callable[[int], T], count: int) -> list[T]:
    """Calls `work(0)` … `work(count - 1)` in `count` threads released together; returns
    the results in that order and re-raises the first error of any thread."""
    start = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            start.wait(THREAD_TIMEOUT)
            results[index] = work(index)
        except BaseException as error:  # reported to the test below
            errors.append(error)
        finally:
            connections.close_all()  # this thread's connections

    threads = [threading.Thread(target=run, args=(index,), daemon=True) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT)
    if any(thread.is_alive() for thread in threads):
        raise TimeoutError(f"threads still running after {THREAD_TIMEOUT} s")
    if errors:
        raise errors[0]
    return results


class Gate:
    """Holds threads at one point of the code under test until each of `parties` threads
    has either arrived there or finished without getting there (every thread calls
    `done()` when it ends). Opens a race window wide, whatever the scheduler does, without
    assuming how many threads will reach the point."""

    def __init__(self, parties: int) -> None:
        self.parties = parties
        self.arrived = 0
        self.finished_elsewhere = 0
        self._condition = threading.Condition()
        self._local = threading.local()

    def _open(self) -> bool:
        return self.arrived + self.finished_elsewhere >= self.parties

    def wait(self) -> None:
        with self._condition:
            self._local.arrived = True
            self.arrived += 1
            self._condition.notify_all()
            if not self._condition.wait_for(self._open, THREAD_TIMEOUT):
                raise TimeoutError("gate not opened")

    def done(self) -> None:
        with self._condition:
            if not getattr(self._local, "arrived", False):
                self.finished_elsewhere += 1
                self._condition.notify_all()


def interleave(first: Callable[[], T], second: Callable[[], T], *, pause_after: Callable[[str], bool]) -> list[T]:
    """Forces one interleaving of two calls, each in its own thread and connection: `first`
    runs until its first query for which `pause_after(sql)` is true and stops right after
    it; `second` then runs until it ends or waits for a lock (one `first` holds); then
    `first` goes on. Returns [first's result, second's result].

    PostgreSQL only: on SQLite a write transaction holds the database from its BEGIN, so the
    second would wait at its BEGIN, which no query can see."""
    if connection.vendor != "postgresql":
        raise NotImplementedError("interleave needs PostgreSQL")
    paused, second_ready, second_done = threading.Event(), threading.Event(), threading.Event()
    second_pid: list[int] = []

    def pause(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        if not paused.is_set() and pause_after(sql):
            paused.set()
            if not second_ready.wait(THREAD_TIMEOUT):
                raise TimeoutError("second call did not start")
            _wait_until_waiting_or_done(second_pid[0], second_done)
        return result

    def work(index: int) -> T:
        if index == 0:
            with connection.execute_wrapper(pause):
                return first()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                second_pid.append(cursor.fetchone()[0])
            second_ready.set()
            if not paused.wait(THREAD_TIMEOUT):
                raise TimeoutError("first call never paused: no query matched")
            return second()
        finally:
            second_done.set()

    return in_parallel(work, 2)


def _wait_until_waiting_or_done(pid: int, done: threading.Event) -> None:
    """Returns once `done` is set or the backend `pid` waits for a lock (pg_stat_activity,
    read through a connection of its own: the caller is inside its transaction)."""
    watcher = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with watcher.cursor() as cursor:
            for _poll in range(THREAD_TIMEOUT * 100):
                if done.wait(0.01):
                    return
                cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
                row = cursor.fetchone()
                if row is not None and row[0] == "Lock":
                    return
    finally:
        watcher.close()
    raise TimeoutError("second call neither finished nor waited for a lock")
