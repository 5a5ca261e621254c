"""The `leitplanke` command: help, createadmin, seed and the worker end to end."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django_tasks_db.models import DBTaskResult

from leitplanke.accounts.models import Team, User
from leitplanke.core.models import AuditEvent
from leitplanke.demo.seed import DEMO_PASSWORD, DEMO_USERS

REPO = Path(__file__).resolve().parents[2]
LEITPLANKE = Path(sys.executable).parent / "leitplanke"


def run_cli(*args: str, data_dir: Path, timeout: int = 180) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LEITPLANKE_", "DJANGO_", "DATABASE_URL"))}
    env["LEITPLANKE_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [str(LEITPLANKE), *args], env=env, cwd=data_dir, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = run_cli("--help", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    for command in ("serve", "worker", "demo", "migrate", "createadmin", "seed", "audit"):
        assert command in result.stdout
    assert run_cli("no-such-command", data_dir=tmp_path).returncode == 2


@pytest.mark.django_db
def test_createadmin_takes_the_password_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEITPLANKE_ADMIN_PASSWORD", "Very-Secret-Admin-77")
    out = StringIO()
    call_command("leitplanke_createadmin", email="Boss@Example.org", name="Bea Boss", stdout=out)
    user = User.objects.get(email="boss@example.org")
    assert user.full_name == "Bea Boss"
    assert list(user.roles.values_list("key", flat=True)) == ["administrator"]
    assert Client().login(email="boss@example.org", password="Very-Secret-Admin-77")
    assert "boss@example.org" in out.getvalue()
    assert AuditEvent.objects.filter(action="user.create", object_id=str(user.pk), actor_label="system").exists()


@pytest.mark.django_db
def test_createadmin_refuses_weak_passwords_and_duplicates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEITPLANKE_ADMIN_PASSWORD", "123")
    with pytest.raises(CommandError, match="password"):
        call_command("leitplanke_createadmin", email="weak@example.org", stdout=StringIO())
    monkeypatch.setenv("LEITPLANKE_ADMIN_PASSWORD", "Very-Secret-Admin-77")
    call_command("leitplanke_createadmin", email="once@example.org", stdout=StringIO())
    with pytest.raises(CommandError, match="email"):
        call_command("leitplanke_createadmin", email="ONCE@example.org", stdout=StringIO())
    assert not User.objects.filter(email="weak@example.org").exists()


@pytest.mark.django_db
def test_seed_is_idempotent_and_demo_logins_work() -> None:
    # --cases 0: the organisation only; the bulk case generator has its own tests.
    call_command("leitplanke_seed", "--cases", "0", stdout=StringIO())
    counts = (User.objects.count(), Team.objects.count(), AuditEvent.objects.count())
    assert counts[0] == len(DEMO_USERS)
    call_command("leitplanke_seed", "--cases", "0", stdout=StringIO())
    assert (User.objects.count(), Team.objects.count(), AuditEvent.objects.count()) == counts
    for demo in DEMO_USERS:
        client = Client()
        assert client.login(email=demo.email, password=DEMO_PASSWORD), demo.email
        user = User.objects.get(email=demo.email)
        assert list(user.roles.values_list("key", flat=True)) == [demo.role]
        assert sorted(user.teams.values_list("name", flat=True)) == sorted(demo.teams)
    lead = User.objects.get(email="lead@demo.leitplanke.example")
    assert Team.objects.get(name="Energie-Service").lead == lead


def test_worker_runs_the_demos_tasks_end_to_end(tmp_path: Path) -> None:
    """With the database task backend (the default outside tests), `leitplanke worker` runs what the
    demo's scheduler enqueued, and seals the audit events the demo wrote."""
    for step in (("migrate",), ("seed",), ("worker", "--batch", "--interval", "0")):
        result = run_cli(*step, data_dir=tmp_path)
        assert result.returncode == 0, f"{step}: {result.stdout}\n{result.stderr}"
    with sqlite3.connect(tmp_path / "leitplanke.sqlite3") as db:
        table = DBTaskResult._meta.db_table
        tasks = db.execute(f"SELECT task_path, status FROM {table}").fetchall()  # noqa: S608
        unsealed = db.execute("SELECT count(*) FROM core_auditevent WHERE seq IS NULL").fetchone()[0]
        sealed = db.execute("SELECT count(*) FROM core_auditevent WHERE seq IS NOT NULL").fetchone()[0]
    assert ("leitplanke.core.tasks.prune_rate_limit_counters", "SUCCESSFUL") in tasks
    assert sealed > 0 and unsealed == 0
    verify = run_cli("audit", "verify", data_dir=tmp_path)
    assert verify.returncode == 0 and "OK" in verify.stdout, verify.stdout
