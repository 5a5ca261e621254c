"""Background work: retries with backoff, enqueue on commit, the periodic scheduler and the worker."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, TaskResultStatus

from leitplanke.core import scheduler
from leitplanke.core.background import ATTEMPT_KWARG, enqueue_on_commit, retry_delay
from leitplanke.core.management.commands import leitplanke_worker
from leitplanke.core.models import AuditEvent, ScheduledJob

from . import tasks_for_tests

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def database_tasks() -> Iterator[None]:
    """The production backend: tasks are rows that `leitplanke worker` runs (django-tasks resets its
    backends when TASKS changes)."""
    with override_settings(TASKS=DATABASE_TASKS):
        yield


def run_worker() -> None:
    call_command("leitplanke_worker", "--batch", "--interval", "0", stdout=mock.MagicMock())


def results_of(the_task: Any) -> Any:
    return DBTaskResult.objects.filter(task_path=the_task.module_path).order_by("enqueued_at")


# --- retries -------------------------------------------------------------------------------


def test_retry_delay_doubles_and_is_capped() -> None:
    assert [retry_delay(n, base_seconds=10).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert retry_delay(30, base_seconds=10) == dt.timedelta(hours=1)


@pytest.mark.django_db(transaction=True)
def test_failing_task_is_retried_with_backoff_until_max_attempts(database_tasks: None) -> None:
    tasks_for_tests.always_fails.enqueue("x")
    for attempt in (1, 2, 3):
        before = timezone.now()
        run_worker()
        failed = list(results_of(tasks_for_tests.always_fails).filter(status=TaskResultStatus.FAILED))
        assert len(failed) == attempt
        assert failed[-1].exception_class_path.endswith("Boom")
        ready = list(results_of(tasks_for_tests.always_fails).filter(status=TaskResultStatus.READY))
        if attempt < 3:
            assert len(ready) == 1
            retry = ready[0]
            assert retry.args_kwargs["kwargs"] == {ATTEMPT_KWARG: attempt + 1}
            assert retry.args_kwargs["args"] == ["x"]
            expected = retry_delay(attempt, base_seconds=10)
            assert retry.run_after >= before + expected
            # not due yet: another worker run leaves it alone
            run_worker()
            assert results_of(tasks_for_tests.always_fails).filter(status=TaskResultStatus.FAILED).count() == attempt
            DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now() - dt.timedelta(seconds=1))
        else:
            assert ready == []  # gave up after max_attempts
    assert results_of(tasks_for_tests.always_fails).count() == 3


@pytest.mark.django_db(transaction=True)
def test_successful_task_runs_once(database_tasks: None) -> None:
    result = tasks_for_tests.records_an_event.enqueue("done")
    assert DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.READY
    run_worker()
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert row.return_value == "done"
    assert AuditEvent.objects.filter(action="test.task_ran", object_id="done").count() == 1
    run_worker()
    assert AuditEvent.objects.filter(action="test.task_ran").count() == 1


@pytest.mark.django_db(transaction=True)
def test_worker_batch_seals_what_tasks_wrote(database_tasks: None) -> None:
    tasks_for_tests.records_an_event.enqueue("sealed")
    run_worker()
    event = AuditEvent.objects.get(action="test.task_ran")
    assert event.seq is not None and event.hash


def test_immediate_backend_does_not_retry(db: Any) -> None:
    with pytest.raises(tasks_for_tests.Boom):
        tasks_for_tests.always_fails.call("direct")
    with pytest.raises(tasks_for_tests.Boom):
        tasks_for_tests.always_fails.call("again", **{ATTEMPT_KWARG: 2})


# --- enqueue on commit ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_task_row_becomes_visible_with_the_commit_of_its_change(database_tasks: None) -> None:
    """The database backend: the task row is written in the change's transaction (no commit
    of its own), so another connection — a worker — sees it exactly when the change commits."""
    seen_from_outside: list[bool] = []

    def worker_looks() -> None:
        try:
            seen_from_outside.append(results_of(tasks_for_tests.records_an_event).exists())
        except Exception as error:
            seen_from_outside.append(error)  # type: ignore[arg-type]
        finally:
            connection.close()

    with transaction.atomic():
        enqueue_on_commit(tasks_for_tests.records_an_event, "later")
        assert results_of(tasks_for_tests.records_an_event).count() == 1  # inside the transaction
        # The test database of SQLite is shared in memory, where a second connection meets a
        # table lock instead of the snapshot a file database gives: looked at on PostgreSQL.
        if connection.vendor == "postgresql":
            thread = threading.Thread(target=worker_looks)
            thread.start()
            thread.join()
            assert seen_from_outside == [False]
    row = results_of(tasks_for_tests.records_an_event).get()
    assert row.args_kwargs["args"] == ["later"]


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_task(database_tasks: None) -> None:
    class Abort(Exception):
        pass

    with transaction.atomic():
        enqueue_on_commit(tasks_for_tests.records_an_event, "kept")
        with pytest.raises(Abort), transaction.atomic():  # a savepoint rolled back drops its task
            enqueue_on_commit(tasks_for_tests.records_an_event, "never")
            raise Abort
    assert [r.args_kwargs["args"] for r in results_of(tasks_for_tests.records_an_event)] == [["kept"]]
    with pytest.raises(Abort), transaction.atomic():
        enqueue_on_commit(tasks_for_tests.records_an_event, "never either")
        raise Abort
    assert results_of(tasks_for_tests.records_an_event).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_task_row_written_in_the_transaction_is_the_row_enqueue_writes(database_tasks: None) -> None:
    """enqueue_on_commit writes the row with a statement compiled once (core.inserts), not
    through the backend's `objects.create()`: the same columns, `run_after`'s default (the
    backend's pre_save receiver) included, the `task_enqueued` signal sent, and the worker
    runs it."""
    from django_tasks.signals import task_enqueued

    sent: list[Any] = []

    def heard(sender: Any, task_result: Any, **kwargs: Any) -> None:
        sent.append(task_result)

    task_enqueued.connect(heard)
    try:
        by_backend = tasks_for_tests.records_an_event.enqueue("one")
        with transaction.atomic():
            enqueue_on_commit(tasks_for_tests.records_an_event, "two", **{ATTEMPT_KWARG: 2})
    finally:
        task_enqueued.disconnect(heard)
    reference = DBTaskResult.objects.get(pk=by_backend.id)
    row = results_of(tasks_for_tests.records_an_event).exclude(pk=by_backend.id).get()
    columns = ["status", "priority", "task_path", "queue_name", "backend_name", "run_after", "worker_ids", "return_value"]
    columns += ["started_at", "finished_at", "exception_class_path", "traceback"]
    assert {name: getattr(row, name) for name in columns} == {name: getattr(reference, name) for name in columns}
    assert row.args_kwargs == {"args": ["two"], "kwargs": {ATTEMPT_KWARG: 2}}
    assert reference.enqueued_at <= row.enqueued_at <= timezone.now()
    assert [str(result.id) for result in sent] == [str(by_backend.id), str(row.pk)]
    assert sent[1].task.module_path == tasks_for_tests.records_an_event.module_path and sent[1].args == ["two"]
    run_worker()
    assert AuditEvent.objects.filter(action="test.task_ran", object_id="two").count() == 1


@pytest.mark.django_db
def test_other_backends_enqueue_after_the_commit(django_capture_on_commit_callbacks: Any) -> None:
    """The immediate backend (tests) runs a task when it is enqueued: that must wait for the commit."""
    ran = AuditEvent.objects.filter(action="test.task_ran")
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        enqueue_on_commit(tasks_for_tests.records_an_event, "later")
        assert not ran.exists()
    assert len(callbacks) == 1 and ran.count() == 1


# --- scheduler -----------------------------------------------------------------------------


@pytest.fixture
def test_job(monkeypatch: pytest.MonkeyPatch) -> scheduler.PeriodicJob:
    job = scheduler.PeriodicJob(name="tests.every_five_minutes", interval=dt.timedelta(minutes=5), enqueue=mock.Mock())
    monkeypatch.setattr(scheduler, "REGISTRY", {job.name: job})
    return job


@pytest.mark.django_db
def test_a_due_job_is_claimed_by_exactly_one_worker(test_job: scheduler.PeriodicJob) -> None:
    now = timezone.now()
    claims = [scheduler.claim(test_job, worker_id="worker-a", now=now), scheduler.claim(test_job, worker_id="worker-b", now=now)]
    assert claims == [True, False]
    row = ScheduledJob.objects.get(name=test_job.name)
    assert row.next_run_at == now + test_job.interval
    assert row.last_worker == "worker-a" and row.last_run_at == now


@pytest.mark.django_db
def test_tick_enqueues_once_and_again_after_the_interval(test_job: scheduler.PeriodicJob) -> None:
    now = timezone.now()
    assert scheduler.tick(worker_id="a", now=now) == [test_job.name]
    assert scheduler.tick(worker_id="b", now=now) == []
    assert scheduler.tick(worker_id="b", now=now + dt.timedelta(minutes=4)) == []
    assert test_job.enqueue.call_count == 1  # type: ignore[attr-defined]
    later = now + dt.timedelta(minutes=5)
    assert scheduler.tick(worker_id="b", now=later) == [test_job.name]
    assert test_job.enqueue.call_count == 2  # type: ignore[attr-defined]
    assert ScheduledJob.objects.get(name=test_job.name).next_run_at == later + test_job.interval


@pytest.mark.django_db
def test_a_failing_enqueue_releases_the_claim(test_job: scheduler.PeriodicJob) -> None:
    test_job.enqueue.side_effect = RuntimeError("queue down")  # type: ignore[attr-defined]
    now = timezone.now()
    with pytest.raises(RuntimeError):
        scheduler.tick(worker_id="a", now=now)
    test_job.enqueue.side_effect = None  # type: ignore[attr-defined]
    assert scheduler.tick(worker_id="a", now=now) == [test_job.name]


def test_core_registers_its_housekeeping_jobs() -> None:
    assert any(name.endswith("prune_rate_limit_counters") for name in scheduler.REGISTRY)


# --- housekeeping --------------------------------------------------------------------------


class StopAfterOneTick(threading.Event):
    """A stop signal that arrives while the loop waits after its first tick (no real waiting)."""

    waits = 0

    def wait(self, timeout: float | None = None) -> bool:
        self.waits += 1
        self.set()
        return True


@pytest.mark.django_db(transaction=True)
def test_housekeeping_loop_seals_audit_events_and_ticks_the_scheduler(test_job: scheduler.PeriodicJob) -> None:
    with transaction.atomic():
        event = AuditEvent.objects.create(occurred_at=timezone.now(), action="test.unsealed")
    stop = StopAfterOneTick()
    leitplanke_worker.housekeeping_loop(stop, "worker-test", every=0)
    assert stop.waits == 1
    sealed = AuditEvent.objects.get(pk=event.pk)
    assert sealed.seq is not None and sealed.hash
    assert test_job.enqueue.call_count == 1  # type: ignore[attr-defined]


def jammed_sealer(*args: Any, **kwargs: Any) -> int:
    raise RuntimeError("sealer jammed")


@pytest.mark.django_db(transaction=True)
def test_a_failing_sealer_skips_neither_the_scheduler_nor_the_alarm(
    test_job: scheduler.PeriodicJob, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """One failing step must not stop the others: IMAP polling and pruning go on, and the
    alarm that README and ADR 0002 promise is logged."""
    with transaction.atomic():
        AuditEvent.objects.create(occurred_at=timezone.now(), action="test.unsealed")
    monkeypatch.setattr(leitplanke_worker, "audit_seal_all", jammed_sealer)
    monkeypatch.setattr("leitplanke.core.audit.SEAL_ALARM_AFTER", dt.timedelta(seconds=-1))  # a minute later
    leitplanke_worker.housekeeping_loop(StopAfterOneTick(), "worker-test", every=0)
    assert test_job.enqueue.call_count == 1  # type: ignore[attr-defined]
    errors = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert "housekeeping: audit sealing failed" in errors
    assert "audit alarm: 1 events unsealed for over a minute (sealing fails or no worker runs)" in errors


@pytest.mark.django_db
def test_the_alarm_is_checked_once_a_minute(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    AuditEvent.objects.create(occurred_at=timezone.now(), action="test.unsealed")
    monkeypatch.setattr(leitplanke_worker, "audit_seal_all", jammed_sealer)
    monkeypatch.setattr("leitplanke.core.audit.SEAL_ALARM_AFTER", dt.timedelta(seconds=-1))
    housekeeping = leitplanke_worker.Housekeeping("worker-test")
    assert not housekeeping.tick() and housekeeping.failed == ["audit sealing"]
    housekeeping.tick()
    alarms = [record for record in caplog.records if record.getMessage().startswith("audit alarm")]
    assert len(alarms) == 1


@pytest.mark.django_db(transaction=True)
def test_worker_batch_runs_the_tasks_and_fails_when_housekeeping_failed(
    database_tasks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.management.base import CommandError

    result = tasks_for_tests.records_an_event.enqueue("despite a jammed sealer")
    monkeypatch.setattr(leitplanke_worker, "audit_seal_all", jammed_sealer)
    with pytest.raises(CommandError, match="housekeeping failed"):
        run_worker()
    assert DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.SUCCESSFUL
    from leitplanke.cli import main

    monkeypatch.setattr("leitplanke.cli._setup_django", lambda: None)
    assert main(["worker", "--batch", "--interval", "0"]) == 1  # for cron: the exit status says so
