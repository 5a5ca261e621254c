"""Customer merges at the same moment (issue 19 item 8): the same duplicate into two
survivors, and a pair merged in both directions. One wins, the other is refused; every case
of the duplicate ends with exactly one survivor and records the move exactly once.
Runs on SQLite and PostgreSQL (tests/concurrency.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from leitplanke.accounts.models import User
from leitplanke.cases import customer_services
from leitplanke.cases.models import Case, Interaction
from leitplanke.core.errors import ValidationFailed
from leitplanke.core.models import AuditEvent
from leitplanke.customers import services as customer_service_module
from leitplanke.customers.models import Customer
from tests.concurrency import Gate, in_parallel, shared_database

pytestmark = pytest.mark.django_db(transaction=True)


def _merge_in_parallel(actor: User, pairs: list[tuple[Customer, Customer]], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Runs the merges together. On PostgreSQL each also waits at the capability check,
    right before it locks the two customer rows, until every other one got there too. On
    SQLite a write transaction holds the database from its BEGIN, so the threads only start
    together (a gate inside the transaction would wait for a thread that waits for the lock)."""
    gate = Gate(len(pairs))
    if connection.vendor == "postgresql":
        real_require = customer_service_module._require

        def require(*args: Any, **kwargs: Any) -> None:
            real_require(*args, **kwargs)
            gate.wait()

        monkeypatch.setattr(customer_service_module, "_require", require)

    def merge(index: int) -> str:
        survivor, duplicate = pairs[index]
        try:
            customer_services.customer_merge(actor=actor, survivor=survivor, duplicate=duplicate)
        except ValidationFailed:
            return "refused"
        finally:
            gate.done()
        return "merged"

    return in_parallel(merge, len(pairs))


def _merge_entries(case: Case) -> int:
    return Interaction.objects.filter(case=case, kind="field_change", data__reason="customer_merge").count()


def test_one_duplicate_merged_into_two_survivors_at_once(
    quality: User,
    make_customer: Callable[..., Any],
    make_case: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    first, second = make_customer(last_name="Erste"), make_customer(last_name="Zweite")
    duplicate = make_customer(last_name="Doppelt")
    cases = [make_case(duplicate, subject=f"Fall {n}") for n in range(3)]
    with shared_database(tmp_path):
        outcomes = _merge_in_parallel(quality, [(first, duplicate), (second, duplicate)], monkeypatch)
        assert sorted(outcomes) == ["merged", "refused"]
        winner = first if outcomes[0] == "merged" else second
        duplicate = Customer.objects.get(pk=duplicate.pk)
        assert duplicate.merged_into_id == winner.pk
        assert not duplicate.is_active
        for case in cases:
            case = Case.objects.get(pk=case.pk)
            assert case.customer_id == winner.pk
            assert case.version == 2  # moved once
            assert _merge_entries(case) == 1
        assert AuditEvent.objects.filter(action="customer.merge").count() == 1


def test_a_pair_merged_in_both_directions_at_once(
    quality: User,
    make_customer: Callable[..., Any],
    make_case: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    """A into B and B into A together: never both (that would leave two merged, inactive
    records pointing at each other and no customer for the cases)."""
    a, b = make_customer(last_name="Alpha"), make_customer(last_name="Beta")
    cases = [make_case(a, subject="Von A"), make_case(b, subject="Von B")]
    with shared_database(tmp_path):
        outcomes = _merge_in_parallel(quality, [(a, b), (b, a)], monkeypatch)
        assert sorted(outcomes) == ["merged", "refused"]
        a, b = Customer.objects.get(pk=a.pk), Customer.objects.get(pk=b.pk)
        survivor, merged = (a, b) if outcomes[0] == "merged" else (b, a)
        assert survivor.merged_into_id is None and survivor.is_active
        assert merged.merged_into_id == survivor.pk
        for case in cases:
            assert Case.objects.get(pk=case.pk).customer_id == survivor.pk
        assert AuditEvent.objects.filter(action="customer.merge").count() == 1
