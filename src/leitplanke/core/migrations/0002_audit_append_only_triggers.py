"""The first append-only triggers of the audit log, as they were when this migration was
written (frozen here: later versions in core/audit_guards.py use columns that later
migrations add; migration 0006 replaces these)."""

from django.db import migrations

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
STATEMENTS = {"postgresql": (PG_INSTALL, PG_REMOVE), "sqlite": (SQLITE_INSTALL, SQLITE_REMOVE)}


def _run(schema_editor, install):
    install_sql, remove_sql = STATEMENTS.get(schema_editor.connection.vendor, ([], []))
    with schema_editor.connection.cursor() as cursor:
        for statement in install_sql if install else remove_sql:
            cursor.execute(statement)


def forward(apps, schema_editor):
    _run(schema_editor, install=True)


def reverse(apps, schema_editor):
    _run(schema_editor, install=False)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(forward, reverse)]
