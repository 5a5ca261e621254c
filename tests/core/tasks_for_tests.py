"""Tasks for the background-work tests (tasks must be importable module attributes)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from leitplanke.core.audit import audit_record
from leitplanke.core.background import background_task


class Boom(Exception):
    pass


@background_task(max_attempts=3, base_delay_seconds=10)
def always_fails(label: str) -> None:
    raise Boom(f"failing on purpose: {label}")


@background_task(max_attempts=3)
def records_an_event(label: str) -> str:
    with transaction.atomic():
        audit_record(actor="system", action="test.task_ran", object_type="test", object_id=label)
    return label


def payload(**values: Any) -> dict[str, Any]:
    return values
