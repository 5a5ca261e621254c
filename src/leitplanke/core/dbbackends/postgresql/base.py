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
"""

from __future__ import annotations

import time

from django.db.backends.postgresql import base
from psycopg import _queries

HEALTH_CHECK_AFTER_IDLE = 1.0
CACHED_STATEMENT_PARAMS = 200

# psycopg reads the limit at every conversion (tests/core/test_dbbackend.py checks that the
# name still exists and that the create's statement is converted from the cache).
_queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, CACHED_STATEMENT_PARAMS)


class DatabaseWrapper(base.DatabaseWrapper):
    # None: not known to be healthy (new, or a request on it failed).
    last_healthy_at: float | None = None

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
