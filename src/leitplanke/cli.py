"""The `leitplanke` command: serve, worker, demo, migrate, db grants, createadmin, seed, audit verify, mail,
processes migrate-cases.

Each sub-command is a thin wrapper around a Django management command, so that the
same behaviour is reachable through `manage.py` in development.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Sequence


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leitplanke.config.settings.dev")
    import django

    django.setup()


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
    _manage("collectstatic", "--no-input", "-v", "0")
    os.execvp(sys.executable, _gunicorn_command(args.host, args.port, args.workers))
    return 0  # pragma: no cover - execvp does not return


def cmd_worker(args: argparse.Namespace) -> int:
    from django.core.management.base import CommandError

    try:
        _manage("leitplanke_worker", "--interval", str(args.interval), *(["--batch"] if args.batch else []))
    except CommandError as error:  # --batch: a housekeeping step failed (the log says which)
        print(f"leitplanke worker: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    _manage("migrate", "--no-input")
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
    _manage("leitplanke_createadmin", "--email", args.email, "--name", args.name)
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    extra = ["--cases", str(args.cases)] if args.cases is not None else []
    _manage("leitplanke_seed", *extra)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Migrate, load the demo organisation, then serve it with one background worker."""
    _manage("migrate", "--no-input", "-v", "0")
    _manage("leitplanke_seed", "--if-empty")
    _manage("collectstatic", "--no-input", "-v", "0")
    worker = subprocess.Popen([sys.executable, "-m", "leitplanke.cli", "worker"])
    server = subprocess.Popen(_gunicorn_command(args.host, args.port, args.workers))
    from leitplanke.demo.seed import print_demo_logins

    print_demo_logins(f"http://{args.host}:{args.port}")
    try:
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for process in (server, worker):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (server, worker):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def cmd_audit(args: argparse.Namespace) -> int:
    """Exit code 0: intact; 1: broken; 3: alarm (intact so far, but events wait to be sealed,
    were back-dated, or the database's guards are missing)."""
    _setup_django()
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
    if args.mail_command == "fetch":
        _manage("leitplanke_mail", "fetch")
    else:
        _manage("leitplanke_mail", "import", args.path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leitplanke", description="Leitplanke complaint and case management.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def server_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--host", default="127.0.0.1")
        sub.add_argument("--port", type=int, default=8000)
        sub.add_argument("--workers", type=int, default=2)

    serve = commands.add_parser("serve", help="serve the web application with gunicorn")
    server_options(serve)
    serve.set_defaults(func=cmd_serve)

    worker = commands.add_parser("worker", help="run background tasks and the periodic scheduler")
    worker.add_argument("--interval", type=float, default=1.0, help="seconds between polls when idle")
    worker.add_argument("--batch", action="store_true", help="run what is due and the ready tasks once, then exit")
    worker.set_defaults(func=cmd_worker)

    demo = commands.add_parser("demo", help="migrate, load demo data and serve with a worker")
    server_options(demo)
    demo.set_defaults(func=cmd_demo)

    migrate = commands.add_parser(
        "migrate", help="create or update the database schema (then grants for LEITPLANKE_DB_APP_ROLE, if set)"
    )
    migrate.set_defaults(func=cmd_migrate)

    db = commands.add_parser("db", help="database tools")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    grants = db_commands.add_parser(
        "grants", help="print (or --apply) the grants for a PostgreSQL role that does not own the tables"
    )
    grants.add_argument("role", help="the role app servers and workers connect as, e.g. leitplanke_app")
    grants.add_argument("--apply", action="store_true", help="run them, connected as the owner")
    grants.set_defaults(func=cmd_db)

    admin = commands.add_parser("createadmin", help="create an administrator (asks for a password)")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", default="Administrator")
    admin.set_defaults(func=cmd_createadmin)

    seed = commands.add_parser("seed", help="load demo data only (optionally N generated cases)")
    seed.add_argument("--cases", type=int, default=None, help="bulk-generate this many cases")
    seed.set_defaults(func=cmd_seed)

    audit = commands.add_parser("audit", help="audit log tools")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit_commands.add_parser(
        "verify", help="verify the whole hash chain, name the first broken event (exit 0 intact, 1 broken, 3 alarm)"
    )
    verify.set_defaults(func=cmd_audit)

    processes = commands.add_parser("processes", help="process tools")
    process_commands = processes.add_subparsers(dest="processes_command", metavar="ACTION", required=True)
    migrate_cases = process_commands.add_parser(
        "migrate-cases", help="move open cases to a newer process version by an explicit state mapping"
    )
    migrate_cases.add_argument("--from", dest="source", required=True, metavar="KEY:V")
    migrate_cases.add_argument("--to", dest="target", required=True, metavar="KEY:V")
    migrate_cases.add_argument("--map", dest="mapping", action="append", default=[], metavar="OLD=NEW")
    migrate_cases.add_argument("--dry-run", action="store_true", help="count what would move; change nothing")
    migrate_cases.set_defaults(func=cmd_processes)

    mail = commands.add_parser("mail", help="e-mail intake: fetch mailboxes or import .eml/mbox/Maildir")
    mail_commands = mail.add_subparsers(dest="mail_command", metavar="ACTION", required=True)
    mail_commands.add_parser("fetch", help="poll all active IMAP mailboxes once").set_defaults(func=cmd_mail)
    mail_import = mail_commands.add_parser("import", help="import an .eml file, a directory, an mbox or a Maildir")
    mail_import.add_argument("path")
    mail_import.set_defaults(func=cmd_mail)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
