"""Grants for running the application with a PostgreSQL role that does not own the tables.

Migrations run as the owner; app servers and workers connect as a restricted role that can
read and write data but cannot change the schema: it cannot drop or disable the audit
triggers, replace their functions, or delete, truncate or rewrite the audit log
(docs/adr/0002-audit-chain.md says what such a role can and cannot do).

The restricted role gets on every table SELECT, INSERT, UPDATE and DELETE, except:
- core_auditevent: SELECT, INSERT, and UPDATE of the columns the sealer fills only;
- core_auditchainhead: SELECT and UPDATE of the columns the sealer moves (the row is
  created by a migration);
- django_migrations: SELECT (readiness checks for pending migrations).
Each run first revokes what the role had, so the grants are exactly these; run it after
every migration (`leitplanke migrate` does when LEITPLANKE_DB_APP_ROLE is set).
"""

from __future__ import annotations

import re
from typing import Any

SEALED_COLUMNS = ("seq", "prev_hash", "hash", "sealed_at", "key_id")
HEAD_COLUMNS = ("last_seq", "last_hash", "key_id", "mac", "updated_at")
SPECIAL_TABLES = {
    "core_auditevent": ("SELECT, INSERT", SEALED_COLUMNS),
    "core_auditchainhead": ("SELECT", HEAD_COLUMNS),
    "django_migrations": ("SELECT", ()),
}
DATA_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def grant_statements(connection: Any, role: str) -> list[str]:
    """The SQL that gives `role` what the application needs, for the tables that exist now."""
    if connection.vendor != "postgresql":
        raise ValueError("database roles are a PostgreSQL feature; SQLite has none")
    if not ROLE_NAME.match(role):
        raise ValueError(f"role names here are lower-case letters, digits and underscores: {role!r}")
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = quote(cursor.fetchone()[0])
    statements = [f"GRANT USAGE ON SCHEMA {schema} TO {role}"]
    for table in sorted(connection.introspection.table_names()):
        name = quote(table)
        privileges, columns = SPECIAL_TABLES.get(table, (DATA_PRIVILEGES, ()))
        statements.append(f"REVOKE ALL ON {name} FROM {role}")
        statements.append(f"GRANT {privileges} ON {name} TO {role}")
        if columns:
            statements.append(f"GRANT UPDATE ({', '.join(columns)}) ON {name} TO {role}")
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")
    return statements


def apply_grants(connection: Any, role: str) -> list[str]:
    """Runs `grant_statements` in one transaction, as the connection's (owner) role."""
    from django.db import transaction

    statements = grant_statements(connection, role)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    return statements
