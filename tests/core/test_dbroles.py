"""Running the application as a PostgreSQL role that does not own the tables
(`leitplanke db grants`): the application works, the audit log's guarantees no longer
depend on the application keeping its hands off."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.test import Client
from django.utils import timezone

from leitplanke.accounts.models import User
from leitplanke.cli import main
from leitplanke.core.audit import audit_record, audit_seal_all, audit_verify
from leitplanke.core.dbroles import apply_grants, grant_statements

from ..concurrency import in_parallel

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app_role() -> Iterator[str]:
    """A login role that owns nothing, with the application's grants; connections opened by
    other threads use it (roles belong to the cluster: named after this test database)."""
    if connection.vendor != "postgresql":
        pytest.skip("database roles are PostgreSQL's; SQLite has none")
    role = f"{connection.settings_dict['NAME']}_app"[:63]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if not cursor.fetchone():
            cursor.execute(f"CREATE ROLE {role} LOGIN")
    apply_grants(connection, role)
    original = connections.settings["default"]
    connections.settings["default"] = {**original, "USER": role, "PASSWORD": ""}
    try:
        assert in_thread(lambda: _current_user()) == role
        yield role
    finally:
        connections.settings["default"] = original
        with connection.cursor() as cursor:
            cursor.execute(f"DROP OWNED BY {role}")  # its grants in this database
            cursor.execute(f"DROP ROLE {role}")


def in_thread(job: Callable[[], Any]) -> Any:
    """`job` run on a connection of its own, which connects as the fixture's role."""
    return in_parallel(lambda _: job(), 1)[0]


def _current_user() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        return str(cursor.fetchone()[0])


def test_the_application_works_as_the_restricted_role(
    app_role: str, make_user: Callable[..., User], api_client_for: Callable[..., Client]
) -> None:
    client = api_client_for(make_user("administrator"))

    def work() -> tuple[int, int, Any]:
        created = client.post(
            "/api/v1/cases",
            json.dumps({"case_type": "complaint", "subject": "Abschlag zu hoch", "channel": "email"}),
            content_type="application/json",
        )
        case_id = created.json()["id"]
        moved = client.post(
            f"/api/v1/cases/{case_id}/transitions",
            json.dumps({"transition": "start", "note": "Übernommen"}),
            content_type="application/json",
        )
        audit_seal_all()
        return created.status_code, moved.status_code, audit_verify()

    created, moved, report = in_thread(work)
    assert (created, moved) == (201, 200)
    assert report.ok and report.exit_code == 0 and report.unsealed == 0, report.summary()


ATTEMPTS = {
    "DELETE FROM core_auditevent": "permission denied",
    "TRUNCATE core_auditevent": "permission denied",
    "UPDATE core_auditevent SET action = 'forged'": "permission denied",
    "UPDATE core_auditevent SET hash = repeat('f', 64) WHERE seq IS NULL": "append-only",
    "DELETE FROM core_auditchainhead": "permission denied",
    "UPDATE core_auditchainhead SET last_seq = 0": "never moves back",
    "INSERT INTO core_auditevent (occurred_at, actor_label, action, object_type, object_id, request_id, prev_hash, hash, key_id)"
    " VALUES (now() - interval '1 day', 'x', 'case.transition', 'cases.case', '1', '', '', '', '')": "occurs now",
    "DROP TRIGGER core_auditevent_guard ON core_auditevent": "must be owner",
    "ALTER TABLE core_auditevent DISABLE TRIGGER ALL": "must be owner",
    "CREATE OR REPLACE FUNCTION leitplanke_audit_guard() RETURNS trigger AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql": (
        "permission denied"
    ),
    "SET session_replication_role = replica": "permission denied",
}


def test_the_restricted_role_cannot_touch_the_audit_log_or_its_guards(app_role: str) -> None:
    with transaction.atomic():
        audit_record(actor="system", action="test.sealed")
    audit_seal_all()  # a head that could be moved back
    with transaction.atomic():
        audit_record(actor="system", action="test.unsealed")  # a row for the hash-only update

    def attempt(sql: str) -> str:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
        except DatabaseError as error:
            return str(error)
        return "ALLOWED"

    outcomes = in_thread(lambda: {sql: attempt(sql) for sql in ATTEMPTS})
    wrong = {sql: outcome for sql, outcome in outcomes.items() if ATTEMPTS[sql] not in outcome}
    assert not wrong, wrong
    assert audit_seal_all() == 1 and audit_verify().exit_code == 0


def test_concurrent_writers_and_sealers_as_the_restricted_role(app_role: str) -> None:
    def write() -> None:
        for i in range(10):
            with transaction.atomic():
                audit_record(actor="system", action="test.restricted", object_id=i, after={"at": timezone.now()})

    in_parallel(lambda index: write() if index < 2 else audit_seal_all(), 4)
    report = in_thread(lambda: (audit_seal_all(), audit_verify())[1])
    assert report.ok and report.checked == 21, report.summary()


def test_cli_prints_the_grants(app_role: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("leitplanke.cli._setup_django", lambda: None)
    assert main(["db", "grants", app_role]) == 0
    out = capsys.readouterr().out
    assert f'GRANT SELECT, INSERT ON "core_auditevent" TO {app_role};' in out
    assert f'GRANT UPDATE (seq, prev_hash, hash, sealed_at, key_id) ON "core_auditevent" TO {app_role};' in out
    assert f'GRANT SELECT, INSERT, UPDATE, DELETE ON "cases_case" TO {app_role};' in out
    assert 'DELETE ON "core_auditevent"' not in out


@pytest.mark.django_db
def test_grants_need_postgresql_and_a_plain_role_name(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("leitplanke.cli._setup_django", lambda: None)
    if connection.vendor == "sqlite":
        assert main(["db", "grants", "leitplanke_app"]) == 2
        assert "SQLite has none" in capsys.readouterr().err
    with pytest.raises(ValueError):
        grant_statements(connection, 'app"; DROP TABLE x; --')
