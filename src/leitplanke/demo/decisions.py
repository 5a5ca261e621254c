"""Demo decision records: a year of goodwill decisions on energy-billing cases across the demo
teams, so that the consistency page (decisions/consistency/) has something to show — agents
who give more or less than recommended, deviations, four-eyes approvals (approved, rejected,
pending), a few corrections and reversals by a lead — and a draft of the goodwill table to run
the what-if simulation with.

The records are written in bulk (like the demo cases): the decision services are for one
decision at a time. Statuses follow the rules of the decision services: within the
recommended range and not marked by the table → final; otherwise an approval request decides
(approved, rejected, or still pending when recent); a reversed record has its reversal record
by the team lead; a superseded one its correction.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from leitplanke.accounts import services as accounts
from leitplanke.accounts.models import Role, Team, User
from leitplanke.cases.models import Case
from leitplanke.decisions import engine, shipped
from leitplanke.decisions.models import ApprovalRequest, DecisionRecord, DecisionTable

from .seed import DEMO_PASSWORD

KEY = "goodwill_energy_billing"
# Extra agents, so that the per-agent figures have more than one person per team. The bias is
# the agent's habit relative to the recommendation (1.0: as recommended).
EXTRA_AGENTS = [
    ("lea.hartmann@demo.leitplanke.example", "Lea Hartmann", "Energie-Service"),
    ("tobias.klein@demo.leitplanke.example", "Tobias Klein", "Energie-Service"),
    ("aylin.demir@demo.leitplanke.example", "Aylin Demir", "Zahlungsdienste"),
    ("markus.vogel@demo.leitplanke.example", "Markus Vogel", "Beschwerdemanagement"),
]
BIAS = {
    "Jonas Becker": 1.0,
    "Lea Hartmann": 1.5,  # generous: often above the range
    "Tobias Klein": 0.85,
    "Emily Clarke": 1.0,
    "Aylin Demir": 1.15,
    "Miriam Schulz": 1.0,
    "Sabine Wagner": 1.05,
    "Markus Vogel": 0.55,  # cautious: often below the range
}


def demo_decisions_present() -> bool:
    # The history is written in bulk without an authority snapshot; the few decisions the demo
    # makes through the services (demo/live_decisions.py) carry one.
    return DecisionRecord.objects.filter(authority={}).exists()


def _tables() -> tuple[DecisionTable, DecisionTable]:
    published = DecisionTable.objects.filter(key=KEY, status="published").first()
    if published is None:
        version = (DecisionTable.objects.filter(key=KEY).order_by("-version").values_list("version", flat=True).first() or 0) + 1
        published = DecisionTable.objects.create(
            key=KEY,
            version=version,
            status="published",
            name_de="Kulanz bei Energieabrechnungen",
            name_en="Goodwill on energy bills",
            decision_kind="goodwill",
            jdm=shipped.jdm(KEY),
            tests=shipped.tests(KEY),
            published_at=timezone.now() - dt.timedelta(days=400),
        )
    draft = DecisionTable.objects.filter(key=KEY, status="draft").order_by("-version").first()
    if draft is None:
        document = copy.deepcopy(published.jdm)
        for node in document.get("nodes", []):
            for rule in node.get("content", {}).get("rules", []):
                if rule.get("_id") == "established":  # 12 % instead of 10 % for customers of 3+ years
                    rule["out-recommended_amount"] = "round(disputed_amount * 0.12)"
                    rule["out-max_amount"] = "round(disputed_amount * 0.18)"
                if rule.get("_id") == "large-amount":  # billing review from EUR 800 on
                    rule["in-disputed_amount"] = "> 800"
        draft = DecisionTable.objects.create(
            key=KEY,
            version=published.version + 1,
            status="draft",
            name_de=published.name_de,
            name_en=published.name_en,
            decision_kind="goodwill",
            jdm=document,
            tests=[],
            description="Entwurf: mehr Kulanz für Bestandskunden, Rechnungsprüfung ab 800 €.",
        )
    return published, draft


def _agents() -> list[tuple[User, Team]]:
    role = Role.objects.get(key="agent")
    teams = {team.name: team for team in Team.objects.all()}
    for email, name, team_name in EXTRA_AGENTS:
        if team_name in teams and not User.objects.filter(email=email).exists():
            accounts.user_create(
                actor=None, email=email, full_name=name, password=DEMO_PASSWORD, roles=[role], teams=[teams[team_name]]
            )
    deciders = []
    for user in User.objects.filter(full_name__in=BIAS).prefetch_related("teams"):
        team = next(iter(user.teams.all()), None)
        if team is not None:
            deciders.append((user, team))
    return sorted(deciders, key=lambda pair: pair[0].pk)


def seed_demo_decisions(*, count: int = 420, seed: int = 21, now: dt.datetime | None = None) -> int:
    """Creates `count` decision records over the last twelve months (once; 0 when present or
    when there are no demo cases to decide on)."""
    if demo_decisions_present():
        return 0
    now = now or timezone.now()
    rng = random.Random(seed)
    cases = list(
        Case.objects.filter(
            customer__isnull=False, received_at__gte=now - dt.timedelta(days=365), received_at__lt=now - dt.timedelta(days=2)
        )
        .select_related("customer")
        .order_by("id")[: count * 3]
    )
    if not cases:
        return 0
    with transaction.atomic():
        published, _draft = _tables()
        table = engine.load(published.jdm, published.tests)
        deciders = _agents()
        if not deciders:
            return 0
        leads = {team.pk: team.lead for team in Team.objects.select_related("lead")}
        chosen = rng.sample(cases, min(count, len(cases)))
        records: list[DecisionRecord] = []
        plans: list[dict[str, Any]] = []
        for case in chosen:
            user, team = rng.choice(deciders)
            customer = case.customer
            assert customer is not None
            disputed = rng.choice([0, 40, 60, 85, 120, 150, 180, 240, 300, 420, 560, 750, 950, 1200, 1800])
            inputs = {
                "disputed_amount": disputed,
                "segment": customer.segment if customer.segment in ("private", "business", "premium") else "private",
                "years_as_customer": rng.choice([0, 1, 2, 3, 4, 6, 8, 11, 15, 22]),
                "complaints_12m": rng.choice([0, 1, 1, 1, 2, 2, 3, 4]),
            }
            result = engine.evaluate(table, inputs)
            outputs = result.outputs
            low, high = Decimal(str(outputs.get("min_amount", 0))), Decimal(str(outputs.get("max_amount", 0)))
            recommended = Decimal(str(outputs.get("recommended_amount", 0)))
            kind = "goodwill"
            if outputs.get("action") == "billing_review":
                # After the review a wrong bill is corrected: redress, or no payment.
                kind = "redress" if rng.random() < 0.6 else "none"
                amount = (
                    Decimal(disputed * rng.choice([0.3, 0.5, 1.0])).quantize(Decimal("1")) if kind == "redress" else Decimal(0)
                )
                deviates = False
            elif recommended == 0:
                kind, amount, deviates = "none", Decimal(0), False
            else:
                factor = BIAS.get(user.full_name, 1.0) * rng.uniform(0.7, 1.3)
                amount = (recommended * Decimal(str(factor))).quantize(Decimal("1"))
                deviates = not (low <= amount <= high)
            decided_at = min(case.received_at + dt.timedelta(days=rng.uniform(1, 12)), now - dt.timedelta(hours=2))
            needs_approval = deviates or (bool(outputs.get("approval_needed")) and kind != "none")
            status = "final"
            approval_status = None
            if needs_approval:
                recent = now - decided_at < dt.timedelta(days=10)
                roll = rng.random()
                approval_status = (
                    "pending" if recent else "rejected" if roll < 0.18 else "sent_back" if roll < 0.22 else "approved"
                )
                status = approval_status
            elif rng.random() < 0.05:
                status = "reversed"
            elif rng.random() < 0.03:
                status = "superseded"
            records.append(
                DecisionRecord(
                    case=case,
                    table=published,
                    inputs=inputs,
                    recommendation=outputs,
                    matched_rules=[
                        {"position": m.index, "id": m.rule_id, "description": m.description, "description_de": m.description_de}
                        for m in result.matches
                    ],
                    recommended_min=low,
                    recommended_max=high,
                    kind=kind,
                    amount=amount,
                    currency="EUR",
                    action=str(outputs.get("action", "")),
                    deviates=deviates,
                    justification="Langjähriger Kunde, mehrfach verärgert; Ausnahme begründet." if deviates else "",
                    authority={},
                    status=status,
                    decided_by=user,
                    decided_at=decided_at,
                    team=team,
                )
            )
            plans.append({"approval": approval_status, "lead": leads.get(team.pk), "decided_at": decided_at})
        DecisionRecord.objects.bulk_create(records)
        approvals, follow_ups = [], []
        for record, plan in zip(records, plans, strict=True):
            lead = plan["lead"] or record.decided_by
            if plan["approval"]:
                done = plan["approval"] != "pending"
                approvals.append(
                    ApprovalRequest(
                        record=record,
                        reasons=["deviation"] if record.deviates else ["table_requires"],
                        approver=lead,
                        status=plan["approval"],
                        requested_at=record.decided_at,
                        due_at=record.decided_at + dt.timedelta(days=2),
                        decided_by=lead if done else None,
                        decided_at=record.decided_at + dt.timedelta(hours=rng.uniform(2, 40)) if done else None,
                        comment="" if plan["approval"] == "approved" else "Bitte im Rahmen der Empfehlung bleiben.",
                    )
                )
            if record.status in ("reversed", "superseded"):
                reversal = record.status == "reversed"
                follow_ups.append(
                    DecisionRecord(
                        case=record.case,
                        record_kind="reversal" if reversal else "correction",
                        refers_to=record,
                        table=record.table,
                        inputs=record.inputs,
                        recommendation=record.recommendation,
                        matched_rules=record.matched_rules,
                        recommended_min=record.recommended_min,
                        recommended_max=record.recommended_max,
                        kind=record.kind,
                        amount=(record.recommended_max or Decimal(0)) if reversal else record.amount + Decimal(5),
                        currency="EUR",
                        action=record.action,
                        justification="Betrag über dem Rahmen ohne Begründung; auf die Empfehlung zurückgeführt."
                        if reversal
                        else "Tippfehler im Betrag korrigiert.",
                        status="final",
                        decided_by=lead if reversal else record.decided_by,
                        decided_at=min(record.decided_at + dt.timedelta(days=1), now),
                        team=record.team,
                    )
                )
        ApprovalRequest.objects.bulk_create(approvals)
        DecisionRecord.objects.bulk_create(follow_ups)
    return len(records) + len(follow_ups)
