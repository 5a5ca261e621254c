"""The PostgreSQL backend's health check (core.dbbackends.postgresql): a round trip only
for a connection that sat idle, and a dead idle connection is still replaced."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import DatabaseError, connection, connections

from leitplanke.core.dbbackends.postgresql import base

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend"),
]


@pytest.fixture
def spare() -> Iterator[base.DatabaseWrapper]:
    """A connection of its own, outside the test's transaction, like an app server's."""
    wrapper = connections.create_connection("default")
    assert isinstance(wrapper, base.DatabaseWrapper)
    yield wrapper
    wrapper.close()


def request_on(wrapper: base.DatabaseWrapper) -> int:
    """What Django does around a request that queries once; returns the backend's pid."""
    wrapper.close_if_unusable_or_obsolete()  # request_started
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    wrapper.close_if_unusable_or_obsolete()  # request_finished
    return int(pid)


def count_checks(wrapper: base.DatabaseWrapper, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real = wrapper.is_usable

    def spy() -> bool:
        calls[0] += 1
        return real()

    monkeypatch.setattr(wrapper, "is_usable", spy)
    return calls


def test_a_connection_used_a_moment_ago_skips_the_check(spare: base.DatabaseWrapper, monkeypatch: pytest.MonkeyPatch) -> None:
    checks = count_checks(spare, monkeypatch)
    first = request_on(spare)
    request_on(spare)
    assert spare.last_healthy_at is not None
    spare.last_healthy_at -= base.HEALTH_CHECK_AFTER_IDLE + 1  # idle for a while
    assert request_on(spare) == first
    assert checks[0] == 1  # only after the idle time (a new connection needs none)


def test_a_connection_that_died_while_idle_is_replaced(spare: base.DatabaseWrapper) -> None:
    dead = request_on(spare)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [dead])
    spare.last_healthy_at -= base.HEALTH_CHECK_AFTER_IDLE + 1  # type: ignore[operator]
    assert request_on(spare) != dead


def test_the_start_of_a_request_does_not_count_as_use(spare: base.DatabaseWrapper, monkeypatch: pytest.MonkeyPatch) -> None:
    request_on(spare)
    spare.last_healthy_at -= base.HEALTH_CHECK_AFTER_IDLE + 1  # type: ignore[operator]
    checks = count_checks(spare, monkeypatch)
    spare.close_if_unusable_or_obsolete()  # a request starts (and ends) without a query
    spare.close_if_unusable_or_obsolete()
    request_on(spare)
    assert checks[0] == 1


def test_a_connection_lost_within_the_second_fails_one_request_only(spare: base.DatabaseWrapper) -> None:
    """The trade-off: without the check, the request that finds the connection dead fails
    (pages answer 503); Django then drops the connection and the next request reconnects."""
    dead = request_on(spare)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [dead])
    with pytest.raises(DatabaseError):
        request_on(spare)
    spare.close_if_unusable_or_obsolete()  # request_finished after the failure
    assert request_on(spare) != dead


def test_statements_with_many_parameters_are_converted_from_psycopgs_cache() -> None:
    """A new case is one statement of about a hundred parameters (ADR 0030): psycopg parses
    its text once, not on every create (its own limit of 50 would parse it every time)."""
    from psycopg import _queries

    assert _queries.MAX_CACHED_STATEMENT_PARAMS >= base.CACHED_STATEMENT_PARAMS
    sql = "SELECT " + ", ".join(["%s::int"] * 120)
    with connection.cursor() as cursor:
        cursor.execute(sql, list(range(120)))
        before = _queries._query2pg_client.cache_info()
        cursor.execute(sql, list(range(120)))
        after = _queries._query2pg_client.cache_info()
        assert cursor.fetchone()[119] == 119
    assert after.hits == before.hits + 1 and after.misses == before.misses


def prepared_texts() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def test_the_hot_paths_statements_are_prepared_on_the_server_and_still_counted() -> None:
    """`statement_cursor` (ADR 0035): the server parses and plans the statement once per
    connection; Django's query log (and so the X-Queries header) still sees every run."""
    from django.test.utils import CaptureQueriesContext

    from leitplanke.core.prepared import statement_cursor

    sql = "SELECT %s::int + 40 AS answer_for_the_prepared_test"
    with CaptureQueriesContext(connection) as captured:
        for _ in range(2):
            with statement_cursor(connection, [2]) as cursor:
                cursor.execute(sql, [2])
                assert cursor.fetchone()[0] == 42
    assert len(captured.captured_queries) == 2
    assert any("answer_for_the_prepared_test" in text and "$1" in text for text in prepared_texts())


def test_a_statement_with_many_values_goes_the_usual_way() -> None:
    from leitplanke.core.prepared import PREPARED_PARAMS_MAX, statement_cursor

    count = PREPARED_PARAMS_MAX + 1
    sql = "SELECT " + ", ".join(["%s::int"] * count) + " AS too_long_to_prepare"
    with statement_cursor(connection, list(range(count))) as cursor:
        cursor.execute(sql, list(range(count)))
        assert cursor.fetchone()[-1] == count - 1
    assert not any("too_long_to_prepare" in text for text in prepared_texts())


def test_a_prepared_statements_failure_is_djangos_error() -> None:
    """Constraint errors keep their Django class (services turn IntegrityError into 409s)."""
    from django.db import IntegrityError, transaction

    from leitplanke.core.prepared import statement_cursor

    with pytest.raises(IntegrityError), transaction.atomic(), statement_cursor(connection, [1]) as cursor:
        cursor.execute("INSERT INTO core_referencegeneration (id, value) VALUES (%s, 0)", [1])


def test_prepared_statements_can_be_turned_off_for_a_pooler() -> None:
    """`LEITPLANKE_DB_PREPARED_STATEMENTS=false`: the same statements, none prepared."""
    settings = connection.settings_dict
    wrapper = base.DatabaseWrapper({**settings, "PREPARED_STATEMENTS": False}, "default")
    try:
        with wrapper.prepared_cursor() as cursor:
            cursor.execute("SELECT %s::int AS not_prepared_when_off", [1])
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            assert cursor.fetchone()[0] == 0
        assert wrapper.connection.prepare_threshold is None
    finally:
        wrapper.close()
