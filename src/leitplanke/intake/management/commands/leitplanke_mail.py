from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "E-mail intake: `fetch` polls all active IMAP mailboxes; `import PATH` reads .eml, mbox or Maildir."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("fetch", help="poll all active mailboxes once")
        importer = sub.add_parser("import", help="import an .eml file, a directory, an mbox or a Maildir")
        importer.add_argument("path")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "fetch":
            from leitplanke.intake.imap import fetch_all

            for report in fetch_all():
                line = f"{report.mailbox}: {report.imported} imported, {report.skipped} skipped"
                self.stdout.write(line + (f", errors: {'; '.join(report.errors)}" if report.errors else ""))
            return
        from leitplanke.intake.importer import describe, import_path

        path = Path(options["path"])
        if not path.exists():
            raise CommandError(f"{path} does not exist")
        imported = import_path(path, on_message=lambda number, result: self.stdout.write(describe(number, result)))
        self.stdout.write(imported.summary())
        if not imported.ok:  # nothing imported, or a message quarantined: scripts and cron see it
            self.stderr.write(
                "Nothing was imported." if not imported.total else f"{imported.failed} message(s) quarantined: see the log above."
            )
            raise SystemExit(1)
