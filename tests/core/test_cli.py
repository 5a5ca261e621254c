"""The `leitplanke` command: help, createadmin, seed and the worker end to end."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import urllib.request
from io import StringIO
from pathlib import Path
from typing import Any

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
    *args: str, data_dir: Path, timeout: int = 180, env: dict[str, str] | None = None, secret_key: str | None = SECRET_KEY
) -> subprocess.CompletedProcess[str]:
    full_env = cli_env(data_dir)
    if secret_key is not None:
        full_env["LEITPLANKE_SECRET_KEY"] = secret_key
    full_env.update(env or {})
    return subprocess.run(
        [str(LEITPLANKE), *args],
        env=full_env,
        cwd=data_dir,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
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


# --- first start and errors (issue 23) -------------------------------------------------------


def cli_env(data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LEITPLANKE_", "DJANGO_", "DATABASE_URL"))}
    env["LEITPLANKE_DATA_DIR"] = str(data_dir)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def descendants(pid: int) -> set[int]:
    """Every live process below pid (from /proc), zombies left out."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated data directory for the demo runs (migrating takes most of a demo's start)."""
    data_dir = tmp_path_factory.mktemp("demo")
    result = run_cli("migrate", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    return data_dir


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads the process tree from /proc")
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_demo_announces_itself_when_healthy_and_stops_every_child(demo_dir: Path, stop_signal: signal.Signals) -> None:
    port = free_port()
    demo = subprocess.Popen(
        [str(LEITPLANKE), "demo", "--port", str(port), "--workers", "1", "--cases", "0"],
        env=cli_env(demo_dir),
        cwd=demo_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    before_ready: list[str] = []
    # A demo that hangs without printing would block the read below: stop it after 180 s.
    watchdog = threading.Timer(180, lambda: os.killpg(demo.pid, signal.SIGKILL))
    watchdog.start()
    try:
        assert demo.stdout is not None
        for line in demo.stdout:
            if "demo is running at" in line:
                break
            before_ready.append(line)
        else:
            pytest.fail("the demo ended without announcing itself:\n" + "".join(before_ready))
        # Announced only once the server answers: /healthz answers right away.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert response.status == 200
        output = "".join(before_ready)
        assert "Database is up to date." in output and "Loading the demo organisation…" in output
        assert DEMO_PASSWORD not in output and "Traceback" not in output
        children = descendants(demo.pid)
        assert len(children) >= 3, children  # gunicorn master, its worker, the task worker
        demo.send_signal(stop_signal)
        assert demo.wait(timeout=30) == 0
        assert not [pid for pid in children if alive(pid)], children
        assert port_is_free(port)
    finally:
        watchdog.cancel()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(demo.pid, signal.SIGKILL)
        demo.wait(timeout=10)


def test_demo_on_a_taken_port_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("demo", "--port", str(port), data_dir=tmp_path, timeout=60)
        serve = run_cli("serve", "--port", str(port), data_dir=tmp_path, timeout=60)
    assert serve.returncode == 1
    assert serve.stderr == f"leitplanke serve: port {port} on 127.0.0.1 is already in use; choose another with --port\n"
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"leitplanke demo: port {port} on 127.0.0.1 is already in use; choose another with --port (make demo PORT=8001)"
    ]
    assert DEMO_PASSWORD not in result.stdout and "running at" not in result.stdout


def test_commands_fail_in_one_line_with_a_non_zero_code(tmp_path: Path) -> None:
    seed = run_cli("seed", data_dir=tmp_path)
    assert seed.returncode == 1
    assert seed.stderr.strip().splitlines() == [
        f"leitplanke seed: the database ({tmp_path / 'leitplanke.sqlite3'}) has no tables yet "
        f"({seed.stderr.split('(')[2].split()[0]} migrations to apply): run `leitplanke migrate` first"
    ]
    assert run_cli("migrate", data_dir=tmp_path).returncode == 0
    weak = run_cli("createadmin", "--email", "boss@example.org", data_dir=tmp_path, env={"LEITPLANKE_ADMIN_PASSWORD": "123"})
    assert weak.returncode == 1 and len(weak.stderr.strip().splitlines()) == 1, weak.stderr
    assert weak.stderr.startswith("leitplanke createadmin: password: This password is too short."), weak.stderr
    no_terminal = run_cli("createadmin", "--email", "boss@example.org", data_dir=tmp_path)  # stdin is not a terminal
    assert no_terminal.returncode == 1
    assert no_terminal.stderr == (
        "leitplanke createadmin: no password given: set LEITPLANKE_ADMIN_PASSWORD, or run the command in a terminal\n"
    )
    missing = run_cli("mail", "import", str(tmp_path / "nothing.mbox"), data_dir=tmp_path)
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "does not exist" in missing.stderr
    unreachable = run_cli(
        "audit", "verify", data_dir=tmp_path, env={"DATABASE_URL": f"postgres://nobody@127.0.0.1:{free_port()}/x"}
    )
    assert unreachable.returncode == 1 and unreachable.stderr.count("\n") == 1, unreachable.stderr
    assert unreachable.stderr.startswith("leitplanke audit verify: cannot use the database: ")
    assert "Traceback" not in seed.stderr + weak.stderr + no_terminal.stderr + missing.stderr + unreachable.stderr


def test_version_and_help_with_descriptions_and_defaults(tmp_path: Path) -> None:
    from leitplanke import __version__

    version = run_cli("--version", data_dir=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == f"leitplanke {__version__}"
    demo = run_cli("demo", "--help", data_dir=tmp_path)
    assert demo.returncode == 0
    text = " ".join(demo.stdout.split())  # as wrapped for the terminal's width
    assert "Migrate the database, load the demo organisation" in text
    assert "port to listen on (default: 8000)" in text and "(default: 127.0.0.1)" in text
    worker = " ".join(run_cli("worker", "--help", data_dir=tmp_path).stdout.split())
    assert "seconds between polls when idle (default: 1.0)" in worker
    grants = " ".join(run_cli("db", "grants", "--help", data_dir=tmp_path).stdout.split())
    assert "Print (or --apply) the grants" in grants and "the role app servers" in grants


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

    class Stop(BaseException):  # not an Exception: the command reports those as one line
        pass

    seen: list[str] = []

    def first_step(*args: Any) -> None:
        seen.append(os.environ["LEITPLANKE_SECRET_KEY"])
        raise Stop

    monkeypatch.setenv("LEITPLANKE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LEITPLANKE_SECRET_KEY", "")
    monkeypatch.setattr(cli, "_port_problem", lambda host, port: None)
    monkeypatch.setattr(cli, "_prepare_demo", first_step)
    with pytest.raises(Stop):
        cli.main(["demo"])
    assert seen == [(tmp_path / DEMO_KEY_FILE).read_text().strip()]
