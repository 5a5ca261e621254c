"""Prints (or applies) the grants for a restricted PostgreSQL role (core/dbroles.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from leitplanke.core.dbroles import apply_grants, grant_statements


class Command(BaseCommand):
    help = "Grant a PostgreSQL role that does not own the tables exactly what the application needs."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("role", help="the role app servers and workers connect as, e.g. leitplanke_app")
        parser.add_argument("--apply", action="store_true", help="run the statements (as the owner) instead of printing them")

    def handle(self, *args: Any, role: str, apply: bool, **options: Any) -> None:
        try:
            statements = apply_grants(connection, role) if apply else grant_statements(connection, role)
        except ValueError as error:
            raise CommandError(str(error)) from error
        if apply:
            self.stdout.write(f"granted {role} what the application needs ({len(statements)} statements)")
        else:
            self.stdout.write("\n".join(f"{statement};" for statement in statements))
