"""Writers and sealers at the same time: one gapless chain, one key marker, nothing lost
(PostgreSQL, and SQLite on a file with the production settings: WAL, IMMEDIATE)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from leitplanke.core.audit import CHAIN_KEYED_ACTION, audit_record, audit_seal, audit_seal_all, audit_verify
from leitplanke.core.models import AuditEvent

from ..concurrency import in_parallel, shared_database

pytestmark = pytest.mark.django_db(transaction=True)


class Rollback(Exception):
    pass


def test_concurrent_writers_and_two_sealers_make_one_gapless_chain(tmp_path: Path) -> None:
    sealers, writers, per_writer = 2, 4, 12
    committed: list[int] = []
    finished = [0]  # writers done
    lock = threading.Lock()

    def write(n: int) -> None:
        try:
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
        finally:
            with lock:
                finished[0] += 1

    def seal() -> None:
        while True:
            with lock:
                last_round = finished[0] == writers
            audit_seal()
            if last_round:
                return
            time.sleep(0.005)  # SQLite's busy handler is not fair: let writers in

    def work(index: int) -> None:
        if index < sealers:
            seal()
        else:
            write(index)

    with shared_database(tmp_path):
        in_parallel(work, sealers + writers)
        audit_seal_all()
        report = audit_verify()
        sealed = AuditEvent.objects.filter(seq__isnull=False)
        seqs = list(sealed.order_by("seq").values_list("seq", flat=True))
        ids = list(sealed.exclude(action=CHAIN_KEYED_ACTION).values_list("pk", flat=True))
        markers = sealed.filter(action=CHAIN_KEYED_ACTION).count()
    assert report.ok and report.unsealed == 0, report.summary()
    assert sorted(ids) == sorted(committed) and len(committed) == writers * per_writer * 3 // 4
    assert seqs == list(range(1, len(committed) + 2))  # one marker, no gap, no duplicate
    assert markers == 1


def test_two_sealers_starting_together_mark_the_keyed_chain_once(tmp_path: Path) -> None:
    def record(i: int) -> Any:
        with transaction.atomic():
            return audit_record(actor="system", action="test.before_sealers", object_id=i)

    with shared_database(tmp_path):
        for i in range(3):
            record(i)
        in_parallel(lambda _: audit_seal_all(), 2)
        markers = AuditEvent.objects.filter(action=CHAIN_KEYED_ACTION).count()
        report = audit_verify()
    assert markers == 1
    assert report.ok and report.checked == 4, report.summary()
