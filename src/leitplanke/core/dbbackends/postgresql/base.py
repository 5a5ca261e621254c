"""Django's PostgreSQL backend with a cheaper connection health check.

With persistent connections and `CONN_HEALTH_CHECKS`, Django sends `SELECT 1` before the
first query of every request: one extra round trip per request, about a tenth of a
worker's time when creating cases under load (docs/benchmarks.md). The check exists for
connections that sat unused while the server restarted or a proxy dropped them. A
connection that completed a request without errors a moment ago is trusted instead: the
check runs only after it sat idle for `HEALTH_CHECK_AFTER_IDLE` seconds. If the server
goes away within that second, the request fails like any request that loses its
database mid-way (503 page or problem), Django discards the connection because of the
error, and the next request connects afresh.

It also lets psycopg keep the parsed form of statements with up to
`CACHED_STATEMENT_PARAMS` parameters (psycopg's own limit is 50): a new case is written
by one statement of about a hundred (ADR 0030), whose text psycopg would otherwise split
with its regular expression on every create — a tenth of the create's CPU. The cache is
psycopg's LRU of 128 statement texts, so the memory stays bounded.

And it offers `prepared_cursor()`, for the few statements of the hot paths whose text
repeats (`core.prepared`, ADR 0035): the server parses and plans them once per connection
and then only binds the values. Django sends every other statement with the values written
into its text (client-side binding, which never prepares). The key
`PREPARED_STATEMENTS` of the database's settings (settings: `LEITPLANKE_DB_PREPARED_STATEMENTS`, on by
default) turns it off, for a transaction-mode connection pooler that does not keep prepared
statements (PgBouncer before 1.21).
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from django.db.backends.postgresql import base, operations
from django.db.backends.utils import CursorWrapper
from psycopg import _queries

HEALTH_CHECK_AFTER_IDLE = 1.0
# psycopg prepares nothing while a connection's threshold is None (Django's setting). With a
# threshold, its server-binding cursors prepare a statement after that many runs — Django's
# own cursors never prepare — so an unreachable one leaves preparing to `PreparedCursor`.
PREPARE_ONLY_WHEN_ASKED = 2**31 - 1
CACHED_STATEMENT_PARAMS = 200

# psycopg reads the limit at every conversion (tests/core/test_dbbackend.py checks that the
# name still exists and that the create's statement is converted from the cache).
_queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, CACHED_STATEMENT_PARAMS)


class PreparedCursor(psycopg.Cursor[Any]):
    """Binds values on the server and prepares every statement it runs (psycopg names it
    after its text and keeps up to `prepared_max` of them per connection, least recently
    used dropped). For statements of a fixed shape only: a text with values written into
    it would fill the cache for nothing."""

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: bool | None = None) -> Any:
        return super().execute(query, params, prepare=True, binary=binary)


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor: Any, sql: str, params: Any) -> str:
        """The query log's text (DEBUG, tests): a prepared statement's own text has `$1` for
        its values, or none once prepared; this one has them written in, as for the rest."""
        if isinstance(cursor, PreparedCursor):
            return str(self.compose_sql(sql, params))
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
    # None: not known to be healthy (new, or a request on it failed).
    last_healthy_at: float | None = None

    @property
    def prepares(self) -> bool:
        return bool(self.settings_dict.get("PREPARED_STATEMENTS", True))

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        if self.prepares and connection.prepare_threshold is None:
            connection.prepare_threshold = PREPARE_ONLY_WHEN_ASKED
        return connection

    def close_if_health_check_failed(self) -> None:
        recently_healthy = self.last_healthy_at is not None and time.monotonic() - self.last_healthy_at < HEALTH_CHECK_AFTER_IDLE
        if self.connection is not None and recently_healthy:
            self.health_check_done = True
        super().close_if_health_check_failed()

    def close_if_unusable_or_obsolete(self) -> None:
        """Runs at the start and the end of every request. A connection that was used in
        the request just ending (its health check is done) and is kept is healthy now;
        at a request's start nothing was used, so the idle time keeps counting."""
        used = self.health_check_done
        super().close_if_unusable_or_obsolete()
        if self.connection is None:
            self.last_healthy_at = None
        elif used:
            self.last_healthy_at = time.monotonic()

    def close(self) -> None:
        super().close()
        self.last_healthy_at = None

    def prepared_cursor(self) -> CursorWrapper:
        """A cursor like `cursor()` (the same health check, query log and execute wrappers,
        such as the X-Queries count) whose statements are prepared on the server; `cursor()`
        itself when prepared statements are turned off."""
        if not self.prepares:
            return self.cursor()
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            cursor: Any = PreparedCursor(self.connection)  # the stubs expect a wrapper here
            self.validate_thread_sharing()
            return self.make_debug_cursor(cursor) if self.queries_logged else self.make_cursor(cursor)
