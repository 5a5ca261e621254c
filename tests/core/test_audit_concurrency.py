"""Writers and sealers at the same time: one gapless chain, one key marker, nothing lost
(PostgreSQL, and SQLite on a file with the production settings: WAL, IMMEDIATE)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.db import connection, connections, transaction

from leitplanke.core.audit import CHAIN_KEYED_ACTION, audit_record, audit_seal, audit_seal_all, audit_verify
from leitplanke.core.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)
T = TypeVar("T")


@pytest.fixture
def shared_database(tmp_path: Path) -> Iterator[None]:
    """Connections opened by other threads reach one database with real locking. The
    in-memory SQLite test database has shared-cache table locks that fail instead of waiting,
    so for SQLite the threads use a file copy of it (triggers and reference data included)."""
    if connection.vendor != "sqlite":
        yield
        return
    path = tmp_path / "audit.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    original = connections.settings["default"]
    connections.settings["default"] = {**original, "NAME": str(path), "TEST": {**original.get("TEST", {}), "NAME": str(path)}}
    try:
        assert in_thread(lambda: connection.settings_dict["NAME"]) == str(path)
        yield
    finally:
        connections.settings["default"] = original


def in_threads(*work: Callable[[], Any]) -> list[BaseException]:
    """Runs each callable in its own thread (own connection), all started together."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(work))

    def run(job: Callable[[], Any]) -> None:
        try:
            start.wait()
            job()
        except BaseException as error:  # pragma: no cover - reported by the caller
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def in_thread(job: Callable[[], T]) -> T:
    """The result of `job`, run on the shared database."""
    results: list[T] = []
    errors = in_threads(lambda: results.append(job()))
    assert not errors, errors
    return results[0]


class Rollback(Exception):
    pass


def test_concurrent_writers_and_two_sealers_make_one_gapless_chain(shared_database: None) -> None:
    writers, per_writer = 4, 12
    committed: list[int] = []
    sealed_by: list[int] = []
    lock = threading.Lock()
    done = threading.Event()

    def write(n: int) -> None:
        for i in range(per_writer):
            try:
                with transaction.atomic():
                    event = audit_record(actor="system", action="test.concurrent", object_id=f"{n}-{i}", after={"i": i})
                    if i % 4 == 3:
                        raise Rollback  # rolled back: never sealed, never a gap
            except Rollback:
                continue
            with lock:
                committed.append(event.pk)

    def seal() -> None:
        while not done.is_set():
            sealed = audit_seal()
            with lock:
                sealed_by.append(sealed)
            time.sleep(0.005)  # SQLite's busy handler is not fair: let writers in

    sealers = [threading.Thread(target=lambda: in_threads(seal)) for _ in range(2)]
    for sealer in sealers:
        sealer.start()
    errors = in_threads(*(lambda n=n: write(n) for n in range(writers)))
    done.set()
    for sealer in sealers:
        sealer.join(timeout=120)
    assert not errors, errors

    def outcome() -> tuple[Any, list[int], list[int], int]:
        audit_seal_all()
        sealed = AuditEvent.objects.filter(seq__isnull=False)
        seqs = list(sealed.order_by("seq").values_list("seq", flat=True))
        ids = list(sealed.exclude(action=CHAIN_KEYED_ACTION).values_list("pk", flat=True))
        return audit_verify(), seqs, ids, sealed.filter(action=CHAIN_KEYED_ACTION).count()

    report, seqs, ids, markers = in_thread(outcome)
    assert report.ok and report.unsealed == 0, report.summary()
    assert sorted(ids) == sorted(committed) and len(committed) == writers * per_writer * 3 // 4
    assert seqs == list(range(1, len(committed) + 2))  # one marker, no gap, no duplicate
    assert markers == 1


def test_two_sealers_starting_together_mark_the_keyed_chain_once(shared_database: None) -> None:
    in_thread(lambda: [_record_one(i) for i in range(3)])
    errors = in_threads(audit_seal_all, audit_seal_all)
    assert not errors, errors
    markers, report = in_thread(lambda: (AuditEvent.objects.filter(action=CHAIN_KEYED_ACTION).count(), audit_verify()))
    assert markers == 1
    assert report.ok and report.checked == 4, report.summary()


def _record_one(i: int) -> None:
    with transaction.atomic():
        audit_record(actor="system", action="test.before_sealers", object_id=i)
