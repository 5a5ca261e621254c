"""The demo's decision records: one final, one waiting for the lead's approval, one reversed."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from leitplanke.decisions.models import DecisionRecord

pytestmark = pytest.mark.django_db


def test_the_demo_records_final_pending_and_reversed_decisions(settings: Any, monkeypatch: Any) -> None:
    from leitplanke.demo.management.commands import leitplanke_seed

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setattr(leitplanke_seed, "DEMO_CASES", 150)
    call_command("leitplanke_seed", stdout=StringIO())
    live = DecisionRecord.objects.exclude(authority={})  # the year of history has no snapshot
    statuses = sorted(live.values_list("status", flat=True))
    assert statuses == ["final", "final", "pending", "reversed"]  # the reversal itself is final
    pending = live.get(status="pending")
    assert pending.approval.approver.email == "lead@demo.leitplanke.example"
    reversal = live.get(record_kind="reversal")
    assert reversal.justification and reversal.refers_to.status == "reversed"
    call_command("leitplanke_seed", stdout=StringIO())  # idempotent
    assert live.count() == len(statuses)
