"""Database triggers that keep the audit log append-only and its chain head moving forward.

On `core_auditevent` they refuse
- every DELETE (and TRUNCATE on PostgreSQL);
- an INSERT of an event that is already sealed (seq, prev_hash, hash, sealed_at, key_id set)
  or whose `occurred_at` is not the database's current time (± `CLOCK_TOLERANCE_SECONDS`):
  history cannot be added afterwards, back-dated;
- every UPDATE except the sealer's one-time update, which sets seq, prev_hash, hash,
  sealed_at (and key_id) together on an unsealed event, leaves the content and the id alone,
  and uses a seq the chain head has already reached (the sealer moves the head first).

On `core_auditchainhead` they refuse DELETE and TRUNCATE, an INSERT other than the empty
row 1, and an UPDATE that moves `last_seq` back or rewrites `last_hash` at the same seq.

Installed by migrations; tests re-install them because flushing a test database must
remove them first (a flush is exactly the kind of delete they refuse). `guard_problems`
compares what the database has with these definitions, for `/readyz` and `audit verify`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CLOCK_TOLERANCE_SECONDS = 300

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


def _unsealed(row: str) -> str:
    """True when the row has any of the fields the sealer fills."""
    return (
        f"{row}.seq IS NOT NULL OR {row}.prev_hash <> '' OR {row}.hash <> '' OR {row}.sealed_at IS NOT NULL OR {row}.key_id <> ''"
    )


def _not_a_seal(head_table: str) -> str:
    """True unless NEW is what the sealer writes: all chain fields at once, within the head."""
    head_seq = f"(SELECT last_seq FROM {head_table} WHERE id = 1)"  # noqa: S608 - a name from this module
    return (
        "NEW.seq IS NULL OR length(NEW.prev_hash) <> 64 OR length(NEW.hash) <> 64 OR NEW.sealed_at IS NULL\n"
        f"    OR NEW.seq > coalesce({head_seq}, 0)"
    )


@dataclass(frozen=True)
class Guard:
    name: str
    table: str
    create: str
    # PostgreSQL only: pg_trigger.tgtype bits (1 row, 2 before, 4 insert, 8 delete, 16 update,
    # 32 truncate) and the trigger function.
    pg_type: int = 0
    pg_function: str = ""


# --- PostgreSQL ------------------------------------------------------------------------------

_PG_NEW = ", ".join(f"NEW.{c}::text" for c in CONTENT_COLUMNS)
_PG_OLD = ", ".join(f"OLD.{c}::text" for c in CONTENT_COLUMNS)
EVENT_FUNCTION, HEAD_FUNCTION = "leitplanke_audit_guard", "leitplanke_audit_head_guard"
ROW_GUARD_TYPE, TRUNCATE_GUARD_TYPE = 1 | 2 | 4 | 8 | 16, 2 | 32


def _pg_event_body(schema: str) -> str:
    # The head is named with its schema: a temporary table of the same name must not stand in.
    return f"""
BEGIN
  IF TG_OP = 'DELETE' OR TG_OP = 'TRUNCATE' THEN
    RAISE EXCEPTION 'audit events are append-only (delete refused)';
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF {_unsealed("NEW")} THEN
      RAISE EXCEPTION 'audit events are append-only (a new event arrives unsealed)';
    END IF;
    IF NEW.occurred_at NOT BETWEEN statement_timestamp() - interval '{CLOCK_TOLERANCE_SECONDS} seconds'
                               AND statement_timestamp() + interval '{CLOCK_TOLERANCE_SECONDS} seconds' THEN
      RAISE EXCEPTION 'audit events are append-only (a new event occurs now, not at %)', NEW.occurred_at;
    END IF;
    RETURN NEW;
  END IF;
  IF {_unsealed("OLD")}
    OR NEW.id <> OLD.id OR ROW({_PG_NEW}) IS DISTINCT FROM ROW({_PG_OLD}) THEN
    RAISE EXCEPTION 'audit events are append-only (update refused)';
  END IF;
  IF {_not_a_seal(f"{schema}.core_auditchainhead")} THEN
    RAISE EXCEPTION 'audit events are append-only (only the sealer seals, once)';
  END IF;
  RETURN NEW;
END;
"""


_PG_HEAD_BODY = """
BEGIN
  IF TG_OP = 'DELETE' OR TG_OP = 'TRUNCATE' THEN
    RAISE EXCEPTION 'the audit chain head cannot be removed';
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.id <> 1 OR NEW.last_seq <> 0 OR NEW.last_hash <> '' THEN
      RAISE EXCEPTION 'the audit chain head starts as the empty row 1';
    END IF;
    RETURN NEW;
  END IF;
  IF NEW.id <> OLD.id OR NEW.last_seq < OLD.last_seq OR (NEW.last_seq = OLD.last_seq AND NEW.last_hash <> OLD.last_hash) THEN
    RAISE EXCEPTION 'the audit chain head never moves back';
  END IF;
  RETURN NEW;
END;
"""


def _pg_functions(schema: str) -> dict[str, str]:
    return {EVENT_FUNCTION: _pg_event_body(schema), HEAD_FUNCTION: _PG_HEAD_BODY}


def _pg_guards() -> list[Guard]:
    guards = []
    for table, function in (("core_auditevent", EVENT_FUNCTION), ("core_auditchainhead", HEAD_FUNCTION)):
        row, truncate = f"{table}_guard", f"{table}_no_truncate"
        guards += [
            Guard(
                row,
                table,
                f"CREATE TRIGGER {row} BEFORE INSERT OR UPDATE OR DELETE ON {table}\n"
                f"  FOR EACH ROW EXECUTE FUNCTION {function}()",
                ROW_GUARD_TYPE,
                function,
            ),
            Guard(
                truncate,
                table,
                f"CREATE TRIGGER {truncate} BEFORE TRUNCATE ON {table}\n  FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
                TRUNCATE_GUARD_TYPE,
                function,
            ),
        ]
    return guards


def _pg_schema(cursor: Any) -> str:
    cursor.execute("SELECT quote_ident(relnamespace::regnamespace::text) FROM pg_class WHERE oid = 'core_auditevent'::regclass")
    return str(cursor.fetchone()[0])


def _pg_install(cursor: Any) -> None:
    for name, body in _pg_functions(_pg_schema(cursor)).items():
        cursor.execute(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $${body}$$ LANGUAGE plpgsql")
    _pg_remove(cursor)
    for guard in _pg_guards():
        cursor.execute(guard.create)


def _pg_remove(cursor: Any) -> None:
    for guard in reversed(_pg_guards()):
        cursor.execute(f"DROP TRIGGER IF EXISTS {guard.name} ON {guard.table}")


def _pg_problems(cursor: Any) -> list[str]:
    functions = _pg_functions(_pg_schema(cursor))
    cursor.execute(
        """SELECT t.tgname, t.tgtype, t.tgenabled, t.tgqual IS NULL, p.proname, p.prosrc
             FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
            WHERE t.tgrelid IN ('core_auditevent'::regclass, 'core_auditchainhead'::regclass) AND NOT t.tgisinternal"""
    )
    found = {row[0]: row[1:] for row in cursor.fetchall()}
    problems = []
    for guard in _pg_guards():
        if guard.name not in found:
            problems.append(f"audit guard {guard.name} is missing")
            continue
        tgtype, enabled, unconditional, function, source = found[guard.name]
        if enabled not in ("O", "A"):
            problems.append(f"audit guard {guard.name} is disabled")
        elif tgtype != guard.pg_type or not unconditional or function != guard.pg_function:
            problems.append(f"audit guard {guard.name} was changed")
        elif source != functions[guard.pg_function]:
            problems.append(f"audit guard {guard.name}: its function {function}() was changed")
    return problems


# --- SQLite ----------------------------------------------------------------------------------

_SQLITE_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in CONTENT_COLUMNS)
_SQLITE_NOW_DIFFERS = f"abs(julianday(NEW.occurred_at) - julianday('now')) * 86400 > {CLOCK_TOLERANCE_SECONDS}"


def _sqlite_guard(name: str, table: str, when: str, message: str, event: str) -> Guard:
    condition = f"\n  WHEN {when}" if when else ""
    return Guard(
        name, table, f"CREATE TRIGGER {name} BEFORE {event} ON {table}{condition}\n  BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )


SQLITE_GUARDS = [
    _sqlite_guard("core_auditevent_no_delete", "core_auditevent", "", "audit events are append-only (delete refused)", "DELETE"),
    _sqlite_guard(
        "core_auditevent_insert",
        "core_auditevent",
        f"{_unsealed('NEW')}\n    OR {_SQLITE_NOW_DIFFERS}",
        "audit events are append-only (a new event arrives unsealed and occurs now)",
        "INSERT",
    ),
    _sqlite_guard(
        "core_auditevent_no_update",
        "core_auditevent",
        f"{_unsealed('OLD')}\n    OR NEW.id IS NOT OLD.id OR {_SQLITE_CHANGED}\n    OR {_not_a_seal('core_auditchainhead')}",
        "audit events are append-only (update refused)",
        "UPDATE",
    ),
    _sqlite_guard("core_auditchainhead_no_delete", "core_auditchainhead", "", "the audit chain head cannot be removed", "DELETE"),
    _sqlite_guard(
        "core_auditchainhead_insert",
        "core_auditchainhead",
        "NEW.id IS NOT 1 OR NEW.last_seq <> 0 OR NEW.last_hash <> ''",
        "the audit chain head starts as the empty row 1",
        "INSERT",
    ),
    _sqlite_guard(
        "core_auditchainhead_no_rewind",
        "core_auditchainhead",
        "NEW.id IS NOT OLD.id OR NEW.last_seq < OLD.last_seq\n"
        "    OR (NEW.last_seq = OLD.last_seq AND NEW.last_hash IS NOT OLD.last_hash)",
        "the audit chain head never moves back",
        "UPDATE",
    ),
]


def _sqlite_install(cursor: Any) -> None:
    _sqlite_remove(cursor)
    for guard in SQLITE_GUARDS:
        cursor.execute(guard.create)


def _sqlite_remove(cursor: Any) -> None:
    for guard in SQLITE_GUARDS:
        cursor.execute(f"DROP TRIGGER IF EXISTS {guard.name}")


def _sqlite_problems(cursor: Any) -> list[str]:
    cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('core_auditevent', 'core_auditchainhead')"
    )
    found = dict(cursor.fetchall())
    problems = []
    for guard in SQLITE_GUARDS:
        if guard.name not in found:
            problems.append(f"audit guard {guard.name} is missing")
        elif found[guard.name] != guard.create:
            problems.append(f"audit guard {guard.name} was changed")
    return problems


# --- for migrations, tests, /readyz and `audit verify` ----------------------------------------

_INSTALL = {"postgresql": _pg_install, "sqlite": _sqlite_install}
_REMOVE = {"postgresql": _pg_remove, "sqlite": _sqlite_remove}
_PROBLEMS = {"postgresql": _pg_problems, "sqlite": _sqlite_problems}


def install_guards(connection: Any) -> None:
    if connection.vendor in _INSTALL:
        with connection.cursor() as cursor:
            _INSTALL[connection.vendor](cursor)


def remove_guards(connection: Any) -> None:
    if connection.vendor in _REMOVE:
        with connection.cursor() as cursor:
            _REMOVE[connection.vendor](cursor)


def guard_problems(connection: Any) -> list[str]:
    """What is missing, disabled or changed among the audit triggers (empty: all as installed)."""
    if connection.vendor not in _PROBLEMS:
        return [f"no audit guards for {connection.vendor}"]
    with connection.cursor() as cursor:
        return _PROBLEMS[connection.vendor](cursor)
