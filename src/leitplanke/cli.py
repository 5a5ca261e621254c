"""The `leitplanke` command: serve, worker, demo, migrate, db grants, createadmin, seed, audit verify, mail,
processes migrate-cases.

Each sub-command is a thin wrapper around a Django management command, so that the
same behaviour is reachable through `manage.py` in development.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from typing import Any

from leitplanke import __version__


class CliError(Exception):
    """A refusal or failure that the command reports as one line on stderr (exit code 1)."""


class PublicSecretKey(SystemExit):
    """Refuses a production command on the development settings' public SECRET_KEY."""


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leitplanke.config.settings.dev")
    import django

    django.setup()
    _refuse_public_secret_key()


def _refuse_public_secret_key() -> None:
    """Every command but `demo` (which brings its own key) refuses the public development key:
    with it, anyone can sign status links, sessions and password-reset links."""
    from django.conf import settings

    from leitplanke.config.secret_key import is_public_key

    if is_public_key(settings.SECRET_KEY):
        print(
            "leitplanke: refusing to run with the development settings' public SECRET_KEY — "
            "set LEITPLANKE_SECRET_KEY and DJANGO_SETTINGS_MODULE=leitplanke.config.settings.prod "
            "(only `leitplanke demo` runs without them)",
            file=sys.stderr,
        )
        raise PublicSecretKey(2)


def _require_migrated() -> None:
    """Commands that use the tables refuse, in one line, a database that `migrate` has not set up."""
    _setup_django()
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        state = "has no tables yet" if len(pending) == len(executor.loader.graph.nodes) else "is not up to date"
        raise CliError(
            f"the database ({connection.settings_dict['NAME']}) {state} ({len(pending)} migrations to apply): "
            "run `leitplanke migrate` first"
        )


def _manage(*args: str) -> None:
    _setup_django()
    from django.core.management import call_command

    call_command(*args)


def _gunicorn_command(host: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "leitplanke.config.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        "--access-logfile",
        "-",
    ]


def cmd_serve(args: argparse.Namespace) -> int:
    _setup_django()  # the settings first: a public SECRET_KEY is refused before anything else
    if problem := _port_problem(args.host, args.port):
        raise CliError(problem.replace(" (make demo PORT=8001)", ""))
    _manage("collectstatic", "--no-input", "-v", "0")
    os.execvp(sys.executable, _gunicorn_command(args.host, args.port, args.workers))
    return 0  # pragma: no cover - execvp does not return


def cmd_worker(args: argparse.Namespace) -> int:
    _require_migrated()
    from django.core.management.base import CommandError

    try:
        _manage("leitplanke_worker", "--interval", str(args.interval), *(["--batch"] if args.batch else []))
    except CommandError as error:  # --batch: a housekeeping step failed (the log says which)
        print(f"leitplanke worker: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    _migrate_with_progress()
    if role := os.environ.get("LEITPLANKE_DB_APP_ROLE"):
        _manage("leitplanke_db_grants", role, "--apply")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from django.core.management.base import CommandError

    try:
        _manage("leitplanke_db_grants", args.role, *(["--apply"] if args.apply else []))
    except CommandError as error:
        print(f"leitplanke db grants: {error}", file=sys.stderr)
        return 2
    return 0


def cmd_createadmin(args: argparse.Namespace) -> int:
    _require_migrated()
    _manage("leitplanke_createadmin", "--email", args.email, "--name", args.name)
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    _require_migrated()
    extra = ["--cases", str(args.cases)] if args.cases is not None else []
    _manage("leitplanke_seed", *extra, *(["--clocks"] if args.clocks else []))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Migrate, load the demo organisation, then serve it with one background worker.

    The demo signs with a random key of its own, kept in its data directory (the server and
    the worker started here inherit it), never with the public development key."""
    from leitplanke.config.secret_key import data_dir, demo_secret_key, is_public_key

    if problem := _port_problem(args.host, args.port):
        raise CliError(problem)
    if is_public_key(os.environ.get("LEITPLANKE_SECRET_KEY")):
        os.environ["LEITPLANKE_SECRET_KEY"] = demo_secret_key(data_dir())
    _prepare_demo(args.cases)
    return _serve_demo(args.host, args.port, args.workers)


# --- first start: one line per step ---------------------------------------------------------


def _say(message: str) -> None:
    print(message, flush=True)


def _migrate_with_progress() -> None:
    """`migrate`, saying "Migrating database… (n of m)" instead of staying silent: on a terminal
    one line updated in place, otherwise a line every few seconds and at the end."""
    _setup_django()
    from django.core.management import call_command
    from django.core.management.commands.migrate import Command as MigrateCommand
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    total = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    if not total:
        _say("Database is up to date.")
        return
    on_terminal = sys.stdout.isatty()
    state = {"done": 0, "printed_at": 0.0}

    class ProgressMigrate(MigrateCommand):
        def migration_progress_callback(self, action: str, migration: Any = None, fake: bool = False) -> None:
            if action != "apply_success":
                return
            state["done"] += 1
            done, now = int(state["done"]), time.monotonic()
            line = f"Migrating database… ({done} of {total})"
            if on_terminal:
                print(f"\r{line}", end="\n" if done == total else "", flush=True)
            elif done in (1, total) or now - state["printed_at"] >= 3:
                state["printed_at"] = now
                _say(line)

    call_command(ProgressMigrate(), interactive=False, verbosity=0)


def _prepare_demo(cases: int | None) -> None:
    _migrate_with_progress()
    _say("Loading demo data…" if cases != 0 else "Loading the demo organisation…")
    _manage("leitplanke_seed", "--if-empty", *(["--cases", str(cases)] if cases is not None else []))
    _say("Collecting static files…")
    _manage("collectstatic", "--no-input", "-v", "0")


# --- the demo's processes: ready when /healthz answers, stopped as a group -----------------


def _port_problem(host: str, port: int) -> str | None:
    """Why gunicorn could not listen on host:port, or None. Binds with SO_REUSEADDR as gunicorn
    does, so a port in TIME_WAIT counts as free and one with a listener as taken."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        return f"cannot listen on {host}: {error.strerror}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except PermissionError:
            return f"port {port} needs more rights than this user has; choose another with --port (make demo PORT=8001)"
        except OSError as error:
            if error.errno == 98 or "in use" in str(error).lower():  # EADDRINUSE
                return f"port {port} on {host} is already in use; choose another with --port (make demo PORT=8001)"
            return f"cannot listen on {host}:{port}: {error.strerror or error}"
    return None


def _local_url(host: str, port: int) -> str:
    """The address to reach a server bound to host from this machine."""
    reach = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104
    return f"http://[{reach}]:{port}" if ":" in reach else f"http://{reach}:{port}"


def _start_in_own_group(command: list[str]) -> subprocess.Popen[bytes]:
    """Each child leads a process group of its own, so that stopping it reaches its children too
    (gunicorn's workers), and a Ctrl+C on the terminal reaches only this process, which then
    stops the children in order."""
    return subprocess.Popen(command, process_group=0)


def _stop_groups(processes: Sequence[subprocess.Popen[bytes]], grace: float = 10.0) -> None:
    for process in processes:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
    for process in processes:  # whatever is left of a group, the leader included
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310 - our own server
            return bool(response.status == 200)
    except (OSError, ValueError):  # URLError, refused, reset, timeout, HTTP errors
        return False


def _serve_demo(host: str, port: int, workers: int, ready_timeout: float = 120.0) -> int:
    url = _local_url(host, port)
    stop = threading.Event()
    received: list[int] = []

    def request_stop(signum: int, frame: Any) -> None:
        received.append(signum)
        stop.set()

    handled = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]
    previous = {sig: signal.signal(sig, request_stop) for sig in handled}
    children: dict[str, subprocess.Popen[bytes]] = {}
    try:
        children["web server"] = _start_in_own_group(_gunicorn_command(host, port, workers))
        children["worker"] = _start_in_own_group([sys.executable, "-m", "leitplanke.cli", "worker"])
        _say(f"Starting the web server on {url}/ and the background worker…")
        started = time.monotonic()
        while not stop.is_set():
            if exited := _first_exited(children):
                name, code = exited
                raise CliError(f"the {name} stopped before the demo was ready (exit code {code}); see the messages above")
            if _healthy(url):
                break
            if time.monotonic() - started > ready_timeout:
                raise CliError(f"the web server did not answer {url}/healthz within {ready_timeout:.0f} s")
            stop.wait(0.25)
        else:
            return 0
        from leitplanke.demo.seed import print_demo_logins

        print_demo_logins(url)
        while not stop.wait(0.5):
            if exited := _first_exited(children):
                name, code = exited
                raise CliError(f"the {name} stopped unexpectedly (exit code {code}); see the messages above")
        _say("Stopping the demo…")
        return 0
    finally:
        _stop_groups(list(children.values()))
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _first_exited(children: dict[str, subprocess.Popen[bytes]]) -> tuple[str, int] | None:
    for name, process in children.items():
        if (code := process.poll()) is not None:
            return name, code
    return None


def cmd_audit(args: argparse.Namespace) -> int:
    """Exit code 0: intact; 1: broken; 3: alarm (intact so far, but events wait to be sealed,
    were back-dated, or the database's guards are missing)."""
    _require_migrated()
    from leitplanke.core.audit import audit_verify

    report = audit_verify()
    print(report.summary())
    return report.exit_code


def cmd_processes(args: argparse.Namespace) -> int:
    argv = ["leitplanke_processes", "migrate-cases", "--from", args.source, "--to", args.target]
    for pair in args.mapping:
        argv += ["--map", pair]
    if args.dry_run:
        argv.append("--dry-run")
    _manage(*argv)
    return 0


def cmd_mail(args: argparse.Namespace) -> int:
    _require_migrated()
    if args.mail_command == "fetch":
        _manage("leitplanke_mail", "fetch")
    else:
        _manage("leitplanke_mail", "import", args.path)
    return 0


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows "(default: …)" after an option's help, except where there is no default to show."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, argparse.SUPPRESS) or not action.help:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leitplanke",
        description="Leitplanke complaint and case management.",
        epilog="Run `leitplanke COMMAND --help` for a command's options. Settings come from the environment "
        "(DATABASE_URL, LEITPLANKE_*; see the README).",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"leitplanke {__version__}")
    parser.add_argument("--traceback", action="store_true", help="on an error, show the full Python traceback")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(sub: Any, name: str, help: str, description: str | None = None) -> argparse.ArgumentParser:
        command: argparse.ArgumentParser = sub.add_parser(
            name, help=help, description=description or help[0].upper() + help[1:] + ".", formatter_class=_HelpFormatter
        )
        return command

    def server_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
        sub.add_argument("--port", type=int, default=8000, help="port to listen on")
        sub.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")

    serve = add(commands, "serve", "serve the web application with gunicorn (collects static files first)")
    server_options(serve)
    serve.set_defaults(func=cmd_serve)

    worker = add(commands, "worker", "run background tasks and the periodic scheduler")
    worker.add_argument("--interval", type=float, default=1.0, help="seconds between polls when idle")
    worker.add_argument("--batch", action="store_true", help="run what is due and the ready tasks once, then exit")
    worker.set_defaults(func=cmd_worker)

    demo = add(
        commands,
        "demo",
        "migrate, load demo data and serve with a worker",
        "Migrate the database, load the demo organisation (and demo cases on the first start), then serve it "
        "with one background worker. The logins are printed once the server answers. Stop with Ctrl+C or SIGTERM.",
    )
    server_options(demo)
    demo.add_argument("--cases", type=int, default=None, help="demo cases to generate on the first start (default: 2000)")
    demo.set_defaults(func=cmd_demo)

    migrate = add(commands, "migrate", "create or update the database schema (then grants for LEITPLANKE_DB_APP_ROLE, if set)")
    migrate.set_defaults(func=cmd_migrate)

    db = add(commands, "db", "database tools")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    grants = add(db_commands, "grants", "print (or --apply) the grants for a PostgreSQL role that does not own the tables")
    grants.add_argument("role", help="the role app servers and workers connect as, e.g. leitplanke_app")
    grants.add_argument("--apply", action="store_true", help="run them, connected as the owner")
    grants.set_defaults(func=cmd_db)

    admin = add(
        commands,
        "createadmin",
        "create an administrator",
        "Create an administrator. The password comes from LEITPLANKE_ADMIN_PASSWORD or, on a terminal, a prompt.",
    )
    admin.add_argument("--email", required=True, help="the administrator's e-mail address (the login)")
    admin.add_argument("--name", default="Administrator", help="the name shown in the application")
    admin.set_defaults(func=cmd_createadmin)

    seed = add(
        commands,
        "seed",
        "load demo data only (optionally N generated cases)",
        "Load the demo organisation (idempotent) and, on the first run, 2,000 demo cases.",
    )
    seed.add_argument("--cases", type=int, default=None, help="bulk-generate this many cases instead")
    seed.add_argument(
        "--clocks", action="store_true", help="with --cases: start the deadline clocks of the open cases too (benchmarks)"
    )
    seed.set_defaults(func=cmd_seed)

    audit = add(commands, "audit", "audit log tools")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = add(
        audit_commands,
        "verify",
        "verify the whole hash chain, name the first broken event (exit 0 intact, 1 broken, 3 alarm)",
    )
    verify.set_defaults(func=cmd_audit)

    processes = add(commands, "processes", "process tools: move open cases to a newer process version")
    process_commands = processes.add_subparsers(dest="processes_command", metavar="ACTION", required=True)
    migrate_cases = add(
        process_commands, "migrate-cases", "move open cases to a newer process version by an explicit state mapping"
    )
    migrate_cases.add_argument("--from", dest="source", required=True, metavar="KEY:V")
    migrate_cases.add_argument("--to", dest="target", required=True, metavar="KEY:V")
    migrate_cases.add_argument("--map", dest="mapping", action="append", default=[], metavar="OLD=NEW")
    migrate_cases.add_argument("--dry-run", action="store_true", help="count what would move; change nothing")
    migrate_cases.set_defaults(func=cmd_processes)

    mail = add(commands, "mail", "e-mail intake: fetch mailboxes or import .eml/mbox/Maildir")
    mail_commands = mail.add_subparsers(dest="mail_command", metavar="ACTION", required=True)
    add(mail_commands, "fetch", "poll all active IMAP mailboxes once").set_defaults(func=cmd_mail)
    mail_import = add(mail_commands, "import", "import an .eml file, a directory, an mbox or a Maildir")
    mail_import.add_argument("path", help="an .eml file, a directory of them, an mbox file or a Maildir")
    mail_import.set_defaults(func=cmd_mail)
    return parser


# --- errors: one line on stderr, a non-zero exit code ----------------------------------------


def _command_name(args: argparse.Namespace) -> str:
    parts = [args.command, *(getattr(args, f"{args.command}_command", None) or "").split()]
    return " ".join(part for part in parts if part)


def _describe_error(error: BaseException) -> str:
    """One line, in English, for an error a command did not handle itself."""
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management.base import CommandError
    from django.db import utils as db_utils

    if isinstance(error, CliError | CommandError | ImproperlyConfigured):
        text = str(error)
    elif isinstance(error, db_utils.DatabaseError):
        reach = isinstance(error, db_utils.OperationalError | db_utils.InterfaceError)
        text = f"{'cannot use the database' if reach else 'database error'}: {str(error).strip() or type(error).__name__}"
        if "no such table" in text or ('relation "' in text and "does not exist" in text):
            text = f"{text} — run `leitplanke migrate` first"
    elif isinstance(error, EOFError):
        text = "input ended while waiting for an answer (no terminal?)"
    else:
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        text += " (run with --traceback for details)"
    return " ".join(text.split())  # one line


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"\nleitplanke {_command_name(args)}: interrupted", file=sys.stderr)
        return 130
    except SystemExit:
        raise
    except Exception as error:
        if args.traceback or os.environ.get("LEITPLANKE_TRACEBACK"):
            raise
        print(f"leitplanke {_command_name(args)}: {_describe_error(error)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
