"""The demo's year of decision records: statuses consistent with approvals, reversals and
corrections, spread over teams, agents and months; loaded once."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from leitplanke.decisions.models import ApprovalRequest, DecisionRecord, DecisionTable

pytestmark = pytest.mark.django_db


def test_the_demo_decides_a_year_of_cases_consistently() -> None:
    from leitplanke.demo.management.commands import leitplanke_seed

    leitplanke_seed.DEMO_CASES, original = 900, leitplanke_seed.DEMO_CASES
    try:
        call_command("leitplanke_seed", stdout=StringIO())
        count = DecisionRecord.objects.count()
        call_command("leitplanke_seed", stdout=StringIO())  # once only
        assert DecisionRecord.objects.count() == count
    finally:
        leitplanke_seed.DEMO_CASES = original
    decisions = DecisionRecord.objects.filter(record_kind="decision")
    assert decisions.count() >= 200
    assert decisions.values("team").distinct().count() == 3
    assert decisions.values("decided_by").distinct().count() >= 6
    assert {d.strftime("%Y-%m") for d in decisions.values_list("decided_at", flat=True)}.__len__() >= 10
    assert decisions.filter(deviates=True).exists() and decisions.filter(kind="redress").exists()
    for record in decisions.select_related("approval"):
        approval: Any = getattr(record, "approval", None)
        if record.status in ("pending", "approved", "rejected", "sent_back"):
            assert approval is not None and approval.status == record.status
        else:
            assert approval is None
        if record.deviates:
            assert record.status in ("pending", "approved", "rejected", "sent_back")
        follow = list(record.followed_by.all())
        if record.status == "reversed":
            assert [f.record_kind for f in follow] == ["reversal"] and follow[0].justification
        elif record.status == "superseded":
            assert [f.record_kind for f in follow] == ["correction"]
        else:
            assert follow == []
    assert ApprovalRequest.objects.filter(status="rejected").exists()
    assert DecisionRecord.objects.filter(status="reversed").exists()
    assert DecisionTable.objects.filter(key="goodwill_energy_billing", status="draft").exists()
    # Decision steps: the demo's complaint process routes by category when a complaint is
    # acknowledged (demo/routing.py), with the demo's own routing table; once only.
    from leitplanke.accounts.models import Team, User
    from leitplanke.cases import services as case_services
    from leitplanke.cases.models import CaseType, Category
    from leitplanke.processes.models import ProcessDefinition

    complaint = ProcessDefinition.objects.get(key="complaint", status="published")
    acknowledge = next(t for t in complaint.definition["transitions"] if t["key"] == "acknowledge")
    assert acknowledge["effects"] == [{"type": "decide", "table": "demo_routing"}]
    assert ProcessDefinition.objects.filter(key="complaint").count() == complaint.version
    admin = User.objects.get(email="admin@demo.leitplanke.example")
    case = case_services.case_create(
        actor=admin,
        case_type=CaseType.objects.get(key="complaint"),
        subject="Kartengebühr doppelt",
        description="Die Gebühr wurde zweimal berechnet.",
        channel="email",
        category=Category.objects.get(key="payments-card-fees"),
        team=Team.objects.get(name="Energie-Service"),
    )
    routed = case_services.case_transition(actor=admin, case=case, transition="acknowledge")
    assert routed.team.name == "Zahlungsdienste"
    step = DecisionRecord.objects.get(case=case, record_kind="step")
    assert [rule["id"] for rule in step.matched_rules] == ["payments"]
