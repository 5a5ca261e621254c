"""Database triggers that refuse UPDATE and DELETE on audit events, except the one-time
sealing update that fills seq/prev_hash/hash/sealed_at on an unsealed event.

Used by the migration; tests re-install them because flushing a test database must
remove them first (a flush is exactly the kind of delete they refuse)."""

from __future__ import annotations

from typing import Any

CONTENT_COLUMNS = [
    "occurred_at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "request_id",
    "ip",
]

_PG_NEW = ", ".join(f"NEW.{c}::text" for c in CONTENT_COLUMNS)
_PG_OLD = ", ".join(f"OLD.{c}::text" for c in CONTENT_COLUMNS)
PG_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION leitplanke_audit_guard() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' OR TG_OP = 'TRUNCATE' THEN
    RAISE EXCEPTION 'audit events are append-only (delete refused)';
  END IF;
  IF OLD.seq IS NOT NULL OR OLD.hash <> '' OR NEW.id <> OLD.id OR ROW({_PG_NEW}) IS DISTINCT FROM ROW({_PG_OLD}) THEN
    RAISE EXCEPTION 'audit events are append-only (update refused)';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS core_auditevent_guard ON core_auditevent",
    "DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent",
    """CREATE TRIGGER core_auditevent_guard BEFORE UPDATE OR DELETE ON core_auditevent
  FOR EACH ROW EXECUTE FUNCTION leitplanke_audit_guard()""",
    """CREATE TRIGGER core_auditevent_no_truncate BEFORE TRUNCATE ON core_auditevent
  FOR EACH STATEMENT EXECUTE FUNCTION leitplanke_audit_guard()""",
]
PG_REMOVE = [
    "DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent",
    "DROP TRIGGER IF EXISTS core_auditevent_guard ON core_auditevent",
]

_SQLITE_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in CONTENT_COLUMNS)
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS core_auditevent_no_delete",
    "DROP TRIGGER IF EXISTS core_auditevent_no_update",
]
SQLITE_INSTALL = [
    *SQLITE_REMOVE,
    """CREATE TRIGGER core_auditevent_no_delete BEFORE DELETE ON core_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only (delete refused)'); END""",
    f"""CREATE TRIGGER core_auditevent_no_update BEFORE UPDATE ON core_auditevent
       WHEN OLD.seq IS NOT NULL OR OLD.hash <> '' OR NEW.id IS NOT OLD.id OR {_SQLITE_CHANGED}
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only (update refused)'); END""",
]


def _statements(vendor: str, install: bool) -> list[str]:
    if vendor == "postgresql":
        return PG_INSTALL if install else PG_REMOVE
    if vendor == "sqlite":
        return SQLITE_INSTALL if install else SQLITE_REMOVE
    return []


def install_guards(connection: Any) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, install=True):
            cursor.execute(statement)


def remove_guards(connection: Any) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, install=False):
            cursor.execute(statement)
