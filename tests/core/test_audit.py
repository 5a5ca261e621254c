"""The audit log: append-only, sealed into a hash chain, tampering detected."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from leitplanke.core.audit import audit_record, audit_seal_all, audit_verify
from leitplanke.core.models import AuditEvent, AuditLogIsAppendOnly

pytestmark = pytest.mark.django_db(transaction=True)


def record(n: int = 3) -> list[AuditEvent]:
    events = []
    for i in range(n):
        with transaction.atomic():
            events.append(audit_record(actor="system", action="test.event", object_type="test", object_id=i, after={"i": i}))
    return events


def drop_guards() -> None:
    """What an attacker with database access does first."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER IF EXISTS core_auditevent_guard ON core_auditevent")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS core_auditevent_no_update")
            cursor.execute("DROP TRIGGER IF EXISTS core_auditevent_no_delete")


def test_record_needs_the_callers_transaction() -> None:
    with pytest.raises(RuntimeError):
        audit_record(actor="system", action="outside")


def test_sealing_chains_events_and_verify_passes() -> None:
    record(5)
    assert audit_seal_all() == AuditEvent.objects.count()
    report = audit_verify()
    assert report.ok, report.summary()
    assert report.checked == AuditEvent.objects.count()
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def test_orm_refuses_update_and_delete() -> None:
    event = record(1)[0]
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).delete()


def test_database_trigger_refuses_changes_to_sealed_events() -> None:
    event = record(1)[0]
    audit_seal_all()
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET action = 'forged' WHERE id = %s", [event.pk])
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [event.pk])


def test_database_trigger_refuses_changing_content_before_sealing() -> None:
    event = record(1)[0]
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET after = '{\"i\": 99}' WHERE id = %s", [event.pk])


def test_verify_names_the_first_altered_event() -> None:
    events = record(6)
    audit_seal_all()
    drop_guards()
    target = events[2]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET after = %s WHERE id = %s", ['{"i": 999}', target.pk])
    report = audit_verify()
    assert not report.ok
    assert f"id={target.pk}" in report.first_broken
    assert "altered" in report.first_broken


def test_verify_notices_a_removed_event() -> None:
    events = record(4)
    audit_seal_all()
    drop_guards()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [events[1].pk])
    report = audit_verify()
    assert not report.ok
    assert f"id={events[2].pk}" in report.first_broken


def test_verify_notices_a_removed_last_event() -> None:
    events = record(3)
    audit_seal_all()
    drop_guards()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [events[-1].pk])
    report = audit_verify()
    assert not report.ok
    assert "removed" in report.first_broken


def test_cli_audit_verify_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    from leitplanke.cli import main

    record(2)
    audit_seal_all()
    assert main(["audit", "verify"]) == 0
    assert "intact" in capsys.readouterr().out
    drop_guards()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET action = 'forged' WHERE seq = 1")
    assert main(["audit", "verify"]) == 1
    assert "BROKEN" in capsys.readouterr().out
