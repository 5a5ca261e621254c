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
SECRET_KEY = "a-test-key-that-is-not-the-public-development-key-0123456789"


def run_cli(
    *args: str, data_dir: Path, timeout: int = 180, secret_key: str | None = SECRET_KEY
) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LEITPLANKE_", "DJANGO_", "DATABASE_URL"))}
    env["LEITPLANKE_DATA_DIR"] = str(data_dir)
    if secret_key is not None:
        env["LEITPLANKE_SECRET_KEY"] = secret_key
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


# --- the public development key (issue 19, item 9a) -------------------------------------------


@pytest.mark.parametrize(
    "command",
    [("serve",), ("worker", "--batch"), ("migrate",), ("seed",), ("audit", "verify"), ("mail", "fetch"), ("db", "grants", "x")],
)
def test_production_commands_refuse_the_public_development_key(tmp_path: Path, command: tuple[str, ...]) -> None:
    result = run_cli(*command, data_dir=tmp_path, secret_key=None, timeout=60)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "public SECRET_KEY" in lines[0] and "LEITPLANKE_SECRET_KEY" in lines[0]
    assert not (tmp_path / "leitplanke.sqlite3").exists() and not (tmp_path / "static").exists()


def test_the_public_key_is_refused_even_when_set_explicitly(tmp_path: Path) -> None:
    from leitplanke.config.secret_key import DEV_SECRET_KEY

    assert run_cli("migrate", data_dir=tmp_path, secret_key=DEV_SECRET_KEY, timeout=60).returncode == 2


def test_the_demo_key_is_random_kept_and_private(tmp_path: Path) -> None:
    from leitplanke.config.secret_key import DEMO_KEY_FILE, demo_secret_key, is_public_key

    key = demo_secret_key(tmp_path)
    assert len(key) >= 50 and not is_public_key(key)
    assert (tmp_path / DEMO_KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert demo_secret_key(tmp_path) == key
    assert demo_secret_key(tmp_path / "other") != key
    (tmp_path / DEMO_KEY_FILE).write_text("")  # a crash while writing: a new key, still private
    assert len(demo_secret_key(tmp_path)) >= 50
    assert (tmp_path / DEMO_KEY_FILE).stat().st_mode & 0o777 == 0o600


def test_leitplanke_demo_uses_its_own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`leitplanke demo` sets the key from its data directory before anything runs (the server
    and the worker it starts inherit it)."""
    from leitplanke import cli
    from leitplanke.config.secret_key import DEMO_KEY_FILE

    class Stop(Exception):
        pass

    seen: list[str] = []

    def first_step(*args: str) -> None:
        seen.append(os.environ["LEITPLANKE_SECRET_KEY"])
        raise Stop

    monkeypatch.setenv("LEITPLANKE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LEITPLANKE_SECRET_KEY", "")
    monkeypatch.setattr(cli, "_manage", first_step)
    with pytest.raises(Stop):
        cli.main(["demo"])
    assert seen == [(tmp_path / DEMO_KEY_FILE).read_text().strip()]
