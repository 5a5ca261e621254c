"""Cursors for statements that the server should parse and plan once per connection (ADR 0035).

Django sends statements with their values written into the text (client-side binding), so
PostgreSQL parses and plans each one anew; the planning of a case's create statement (one
data-modifying WITH of about 130 values) costs the database about as much as writing the rows.
The hot paths' statements have a fixed text: `statement_cursor` gives them a cursor whose
statements are prepared on the server (`core.dbbackends.postgresql`), and Django's cursor on
other databases or for a statement with many values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

# Statements with more values than this go the usual way: a bulk write's text varies with its
# row count (a prepared statement each would crowd the connection's cache for one use), and
# the protocol allows at most 65,535 bound values.
PREPARED_PARAMS_MAX = 400


def statement_cursor(connection: BaseDatabaseWrapper, params: Sequence[Any] = ()) -> Any:
    """A cursor (use it as a context manager) for one statement of fixed text with `params`."""
    prepared = getattr(connection, "prepared_cursor", None)
    if prepared is not None and len(params) <= PREPARED_PARAMS_MAX:
        return prepared()
    return connection.cursor()
