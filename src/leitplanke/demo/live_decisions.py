"""Demo decision records (issue 21): on a few open energy-billing complaints of the demo, the
agent Jonas Becker decides with the goodwill table — one decision within his authority (final),
one above it (waiting for the lead's approval in her inbox) and one that the lead Miriam Schulz
reverses with a justification. Everything goes through the record services, so it is audited
like real work. Idempotent: nothing is added once a demo case has a decision."""

from __future__ import annotations

from django.db import transaction

from leitplanke.accounts.models import User
from leitplanke.cases.models import Case, StatusKind
from leitplanke.decisions import record_selectors, record_services, shipped
from leitplanke.decisions.models import DecisionRecord, DecisionTable, TableStatus

AGENT = "agent@demo.leitplanke.example"
LEAD = "lead@demo.leitplanke.example"
TABLE = "goodwill_energy_billing"


def _published_table() -> DecisionTable:
    """The published goodwill table (installed by the decision tables' data migration; a
    database without it gets the shipped version, as a first published version)."""
    row = DecisionTable.objects.filter(key=TABLE, status=TableStatus.PUBLISHED).first()
    if row is None:
        row = DecisionTable.objects.create(
            key=TABLE,
            version=DecisionTable.objects.filter(key=TABLE).count() + 1,
            status=TableStatus.PUBLISHED,
            name_de="Kulanz bei Energieabrechnungen",
            name_en="Goodwill for energy billing complaints",
            decision_kind="goodwill",
            jdm=shipped.jdm(TABLE),
            tests=shipped.tests(TABLE),
        )
    return row


def seed_decisions() -> int:
    """Returns the number of records written (0 when the demo has them already)."""
    agent = User.objects.filter(email=AGENT).first()
    lead = User.objects.filter(email=LEAD).first()
    # Records made through the services carry the authority that applied; the demo's year of
    # history (demo/decisions.py, written in bulk) has none.
    if agent is None or lead is None or DecisionRecord.objects.exclude(authority={}).exists():
        return 0
    team_ids = list(agent.teams.values_list("pk", flat=True))
    complaints = Case.objects.filter(team_id__in=team_ids, case_type__is_complaint=True, customer__isnull=False)
    # Open complaints first (newest first); a small demo may need closed ones too.
    candidates = list(complaints.exclude(status_kind=StatusKind.CLOSED).order_by("-received_at")[:40])
    candidates += list(complaints.filter(status_kind=StatusKind.CLOSED).order_by("-received_at")[:40])
    table = _published_table()
    # Decisions the agent may take alone: the table asks for no approval and the amount is small.
    alone = []
    customers: set[int] = set()
    for case in candidates:
        recommendation = record_selectors.recommend(table, case, {"disputed_amount": 300})
        small = recommendation.amount is not None and 0 < recommendation.amount <= 50
        if small and not recommendation.approval_needed and case.customer_id and case.customer_id not in customers:
            alone.append((case, recommendation.amount))
            customers.add(case.customer_id)
    rest = [case for case in candidates if case.customer_id not in customers]
    if len(alone) < 2 or not rest:
        return 0
    written = 0
    with transaction.atomic():
        for index, (case, amount) in enumerate(alone[:2]):
            record = record_services.decision_record(
                actor=agent,
                case=case,
                table_key=TABLE,
                context={"disputed_amount": 300},
                kind="goodwill",
                amount=amount,
                currency=case.currency or "EUR",
                action="goodwill_credit",
                message_to_customer="Wir schreiben Ihnen den Betrag als Kulanz auf der nächsten Rechnung gut.",
            )
            written += 1
            if index == 1:
                record_services.decision_reverse(
                    actor=lead,
                    record=record,
                    justification="Die Abrechnung war korrekt; wir erklären sie ausführlich statt Kulanz zu geben.",
                    message_to_customer="Wir haben Ihre Abrechnung geprüft und erläutern sie Ihnen gern.",
                )
                written += 1
        # Above the agent's authority: a billing error over three months, no table for it.
        case = rest[0]
        record_services.decision_record(
            actor=agent,
            case=case,
            kind="goodwill",
            amount="400.00",
            currency=case.currency or "EUR",
            action="goodwill_credit",
            message_to_customer="Als Entschuldigung für die wiederholt falsche Abrechnung schreiben wir Ihnen 400 Euro gut.",
            justification="Drei Monate falsch abgerechnet, Kunde seit Jahren treu.",
        )
        written += 1
    return written
