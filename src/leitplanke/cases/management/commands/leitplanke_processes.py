"""`leitplanke processes migrate-cases`: move open cases to a newer process version.

    leitplanke processes migrate-cases --from complaint:1 --to complaint:2 \\
        --map assessment=triage --map acknowledged=new [--dry-run]

States with the same key in both versions map to themselves; every other open state needs
a `--map old=new`. Closed cases stay on the version they finished on. Each moved case is
audited (`case.process_migrate`).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from leitplanke.core.errors import DomainError


def _version(value: str) -> tuple[str, int]:
    key, _sep, version = value.partition(":")
    if not key or not version.isdigit():
        raise CommandError(f"{value!r}: write KEY:VERSION, e.g. complaint:2")
    return key, int(version)


class Command(BaseCommand):
    help = "Process tools: `migrate-cases` moves open cases to a newer process version by a state mapping."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        migrate = sub.add_parser("migrate-cases", help="move open cases to a newer version of their process")
        migrate.add_argument("--from", dest="source", required=True, metavar="KEY:V")
        migrate.add_argument("--to", dest="target", required=True, metavar="KEY:V")
        migrate.add_argument("--map", dest="mapping", action="append", default=[], metavar="OLD=NEW")
        migrate.add_argument("--dry-run", action="store_true", help="count what would move; change nothing")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        from leitplanke.cases.services import case_process_migrate
        from leitplanke.processes.selectors import definition_get

        mapping: dict[str, str] = {}
        for pair in options["mapping"]:
            old, sep, new = pair.partition("=")
            if not sep or not old or not new:
                raise CommandError(f"{pair!r}: write OLD=NEW")
            mapping[old.strip()] = new.strip()
        try:
            source = definition_get(key=_version(options["source"])[0], version=_version(options["source"])[1])
            target = definition_get(key=_version(options["target"])[0], version=_version(options["target"])[1])
        except DomainError:
            raise CommandError("No such process version.") from None
        try:
            counts = case_process_migrate(
                actor=None, from_definition=source, to_definition=target, mapping=mapping, dry_run=options["dry_run"]
            )
        except DomainError as error:
            messages = [f"{field}: {message}" for field, items in error.field_errors.items() for message in items]
            raise CommandError("; ".join(messages) or str(error.message)) from None
        verb = "would move" if options["dry_run"] else "moved"
        total = sum(counts.values())
        for (old, new), number in sorted(counts.items()):
            self.stdout.write(f"{old} -> {new}: {number}")
        self.stdout.write(f"{verb} {total} open case(s) from {source} to {target}")
