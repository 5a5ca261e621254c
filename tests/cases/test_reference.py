"""Case references: LP-<year>-<6 digits>, sequential per year, unique under concurrency."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, transaction

from leitplanke.cases.models import Case, ReferenceCounter
from leitplanke.cases.services import next_reference
from tests.concurrency import in_parallel, shared_database


@pytest.mark.django_db
def test_references_are_sequential_per_year() -> None:
    with transaction.atomic():
        assert next_reference(2026) == "LP-2026-000001"
        assert next_reference(2026) == "LP-2026-000002"
        assert next_reference(2027) == "LP-2027-000001"
        assert next_reference(2026) == "LP-2026-000003"
    assert ReferenceCounter.objects.get(year=2026).last_value == 3


@pytest.mark.django_db
def test_case_create_uses_the_counter(make_case: Any) -> None:
    first, second = make_case(), make_case()
    year = first.registered_at.year
    assert first.reference.startswith(f"LP-{year}-")
    assert int(second.reference.rsplit("-", 1)[1]) == int(first.reference.rsplit("-", 1)[1]) + 1


@pytest.mark.django_db
def test_rolled_back_create_returns_its_number(make_case: Any) -> None:
    first = make_case()
    with pytest.raises(RuntimeError), transaction.atomic():
        make_case()
        raise RuntimeError("abort")
    third = make_case()
    assert int(third.reference.rsplit("-", 1)[1]) == int(first.reference.rsplit("-", 1)[1]) + 1


def _file_connection(path: Any) -> Any:
    """A separate connection to a SQLite file with the production options (WAL, IMMEDIATE)."""
    from django.db.backends.sqlite3.base import DatabaseWrapper

    settings_dict = {**connection.settings_dict, "NAME": str(path), "TEST": {}}
    return DatabaseWrapper(settings_dict, alias=f"refs-{threading.get_ident()}")


@pytest.mark.django_db
def test_counter_unique_under_concurrency_on_sqlite_files(tmp_path: Any) -> None:
    """The counter SQL itself, with real file locking (the SQLite test database is in memory
    with a shared cache, which has table locks instead of the WAL file locks of production)."""
    path = tmp_path / "refs.sqlite3"
    setup = _file_connection(path)
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE cases_referencecounter (year integer PRIMARY KEY, last_value integer NOT NULL)")
    setup.close()
    threads_n, per_thread = 8, 25
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(threads_n)

    def work() -> None:
        db = _file_connection(path)
        try:
            start.wait()
            for _ in range(per_thread):
                db.set_autocommit(False)  # BEGIN IMMEDIATE (transaction_mode) on the first statement
                value = next_reference(2026, db=db)
                db.commit()
                db.set_autocommit(True)
                with lock:
                    results.append(value)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            db.close()

    threads = [threading.Thread(target=work) for _ in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sorted(results) == [f"LP-2026-{n:06d}" for n in range(1, threads_n * per_thread + 1)]


@pytest.mark.django_db(transaction=True)
def test_case_create_unique_under_concurrency(make_case: Any, complaint_type: Any, tmp_path: Any) -> None:
    """Whole case creations in parallel (PostgreSQL, or the SQLite test database copied to a
    file with the production settings: tests/concurrency.py)."""
    threads_n, per_thread = 6, 5

    def work(index: int) -> list[str]:
        return [make_case().reference for _ in range(per_thread)]

    with shared_database(tmp_path):
        references = [reference for batch in in_parallel(work, threads_n) for reference in batch]
        assert len(references) == threads_n * per_thread
        assert len(set(references)) == len(references)
        numbers = sorted(int(reference.rsplit("-", 1)[1]) for reference in references)
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
        assert Case.objects.count() == threads_n * per_thread


# --- the counter's lock covers no Python work (issue 23: creates queued on its row lock) -----


@pytest.mark.django_db
def test_case_create_takes_the_counter_in_the_statement_that_writes_the_case(make_case: Any) -> None:
    """The counter row stays locked from the moment a number is taken until commit (ADR 0032).
    On PostgreSQL one statement takes the number and writes the case, its clocks, timeline
    entry, search document and audit event: nothing is written after it. On SQLite the
    transaction holds the database's write lock from BEGIN: the number comes first, and
    nothing rewrites the case afterwards."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    make_case()  # warm caches
    with CaptureQueriesContext(db) as captured:
        case = make_case()
    writes = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "WITH"))]
    counter = next(i for i, sql in enumerate(writes) if "cases_referencecounter" in sql)
    if db.vendor == "postgresql":
        assert len(writes) == 1, writes
        for table in ("cases_case", "cases_caseclock", "cases_interaction", "cases_casesearchdocument", "core_auditevent"):
            assert f'INTO "{table}"' in writes[0], table
    else:
        assert counter == 0, writes
        assert not any(sql.upper().startswith("UPDATE") for sql in writes), writes
    assert case.reference.startswith("LP-")


@pytest.mark.django_db
def test_new_case_carries_its_final_reference_everywhere(make_case: Any) -> None:
    from leitplanke.cases.models import CaseSearchDocument
    from leitplanke.core.models import AuditEvent

    case = make_case(subject="Abschlag zu hoch", description="Bitte prüfen.")
    stored = Case.objects.get(pk=case.pk)
    assert stored.reference == case.reference and stored.reference.startswith("LP-")
    assert CaseSearchDocument.objects.get(case=case).text == f"{case.reference}\nAbschlag zu hoch\nBitte prüfen."
    event = AuditEvent.objects.get(action="case.create", object_id=str(case.pk))
    assert event.after["reference"] == case.reference
    assert not Case.objects.filter(reference__startswith="~").exists()


@pytest.mark.django_db
def test_references_past_a_million_keep_every_digit(make_case: Any) -> None:
    first = make_case()
    year = int(first.reference.split("-")[1])
    ReferenceCounter.objects.filter(year=year).update(last_value=999_999)
    assert make_case().reference == f"LP-{year}-1000000"
    assert make_case().reference == f"LP-{year}-1000001"


@pytest.mark.django_db
def test_the_create_audit_event_is_what_audit_record_writes(make_case: Any) -> None:
    """On PostgreSQL the event is written by the statement that takes the number (issue 20:
    one round trip less under the counter's lock); its row is the one `audit_record` would
    write with the final reference, and it seals and verifies like any other."""
    from leitplanke.cases.services import CASE_AUDIT_FIELDS
    from leitplanke.core.audit import audit_seal_all, audit_verify, snapshot
    from leitplanke.core.models import AuditEvent

    case = make_case(subject="Abschlag zu hoch", tags=["vip"])
    stored = Case.objects.get(pk=case.pk)
    event = AuditEvent.objects.get(action="case.create", object_id=str(case.pk))
    expected = snapshot(stored, CASE_AUDIT_FIELDS)
    expected["backdated"] = False
    assert event.after == expected and event.after["reference"] == stored.reference
    assert (event.before, event.actor_id, event.actor_label, event.object_type) == (None, None, "system", "cases.case")
    assert event.seq is None and event.hash == ""
    audit_seal_all()
    report = audit_verify()
    assert not report.problems, report.problems


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_the_create_statement_is_prepared_once_per_connection(make_case: Any) -> None:
    """ADR 0035: the server plans the create's statement once, later creates only bind values."""
    first = make_case()
    second = make_case(subject="Zweiter Fall")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'WITH counter AS %%'")
        assert cursor.fetchone()[0] == 1
    assert int(second.reference[-6:]) == int(first.reference[-6:]) + 1
    assert Case.objects.get(pk=second.pk).subject == "Zweiter Fall"
