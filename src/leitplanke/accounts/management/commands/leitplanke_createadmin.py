from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from leitplanke.accounts import services
from leitplanke.accounts.models import Role
from leitplanke.core.errors import ValidationFailed


class Command(BaseCommand):
    help = "Create an administrator. The password comes from LEITPLANKE_ADMIN_PASSWORD or a prompt."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="Administrator")

    def handle(self, *args: Any, email: str, name: str, **options: Any) -> None:
        password = os.environ.get("LEITPLANKE_ADMIN_PASSWORD")
        if not password:
            if not sys.stdin.isatty():
                raise CommandError("no password given: set LEITPLANKE_ADMIN_PASSWORD, or run the command in a terminal")
            password = getpass.getpass("Password: ")
        # The command line speaks English throughout (the validators' messages included).
        with translation.override("en"):
            try:
                user = services.user_create(
                    actor=None, email=email, full_name=name, password=password, roles=[Role.objects.get(key="administrator")]
                )
            except ValidationFailed as error:
                problems = "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in error.field_errors.items())
                raise CommandError(problems or str(error.message)) from None
        self.stdout.write(self.style.SUCCESS(f"Administrator {user.email} created."))
