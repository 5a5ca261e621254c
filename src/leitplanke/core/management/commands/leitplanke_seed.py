from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from leitplanke.demo import seed


class Command(BaseCommand):
    help = "Load the demo organisation (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--if-empty", action="store_true", help="do nothing when the demo is loaded already")
        parser.add_argument("--cases", type=int, default=None, help="bulk-generate this many cases")

    def handle(self, *args: Any, if_empty: bool, cases: int | None, **options: Any) -> None:
        if if_empty and seed.is_seeded():
            self.stdout.write("Demo data present; nothing to do.")
            return
        seed.seed_organisation()
        self.stdout.write(self.style.SUCCESS("Demo organisation loaded."))
