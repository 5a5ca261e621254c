"""The shipped goodwill tables as published DecisionTable rows, for tests (the data migration of
the decision-tables branch installs them in real databases)."""

from __future__ import annotations

from leitplanke.decisions import shipped
from leitplanke.decisions.models import DecisionTable

SHIPPED_KINDS = {"goodwill_energy_billing": "goodwill", "card_fee_refund": "goodwill"}


def publish_shipped_tables() -> list[DecisionTable]:
    """The shipped goodwill tables as published rows (the data migration of dt-core does this
    for real databases; tests make their own)."""
    rows = []
    for key, kind in SHIPPED_KINDS.items():
        row = DecisionTable.objects.filter(key=key, status="published").first()
        if row is None:
            row = DecisionTable.objects.create(
                key=key,
                version=(DecisionTable.objects.filter(key=key).count() + 1),
                status="published",
                name_de={"goodwill_energy_billing": "Kulanz Energieabrechnung", "card_fee_refund": "Kartengebühren"}[key],
                name_en={"goodwill_energy_billing": "Goodwill energy billing", "card_fee_refund": "Card fee refunds"}[key],
                decision_kind=kind,
                jdm=shipped.jdm(key),
                tests=shipped.tests(key),
            )
        rows.append(row)
    return rows
