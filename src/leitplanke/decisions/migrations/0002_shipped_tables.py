"""Installs the shipped example tables (leitplanke.decisions.shipped) as published version 1.

A key that already has a version is left alone (an organisation's own table of that name wins).
The check result is computed as on every save; the shipped files are tested, so they pass.
"""

from django.db import migrations
from django.utils import timezone

SHIPPED = {
    "goodwill_energy_billing": (
        "Kulanz bei Beschwerden über Energieabrechnungen",
        "Goodwill for energy billing complaints",
        "Recommended goodwill amount, range and action for a disputed energy bill, by amount, "
        "segment, customer loyalty and repeated complaints. A wrong bill is corrected, not compensated.",
        "goodwill",
    ),
    # Per row the table says whether a refund is redress (charged in error) or goodwill
    # (output refund_type); most refunds it recommends are goodwill, so that is the table's kind.
    "card_fee_refund": (
        "Erstattung von Kartengebühren",
        "Card-fee refunds",
        "Whether and how much of a card fee is refunded. A fee charged in error is refunded as "
        "redress; waivers are goodwill (output refund_type says which, per rule).",
        "goodwill",
    ),
    "priority_scoring": (
        "Priorität",
        "Priority scoring",
        "Points for vulnerability, legal, media and regulator involvement, amount and repeated "
        "complaints; the caller sums them.",
        "none",
    ),
    "routing": (
        "Zuweisung nach Kategorie und Kundensegment",
        "Routing by category and customer segment",
        "Which team handles a case, by category and customer segment.",
        "none",
    ),
    "sufficient_solution": (
        "Checkliste: ausreichende Lösung",
        "Sufficient solution checklist",
        "When is a solution good enough — professionally, economically, for the customer: one "
        "row per criterion with whether it is met.",
        "none",
    ),
}


def forward(apps, schema_editor):
    from leitplanke.decisions import shipped
    from leitplanke.decisions.table_services import check

    DecisionTable = apps.get_model("decisions", "DecisionTable")
    now = timezone.now()
    for key, (name_de, name_en, description, kind) in SHIPPED.items():
        if DecisionTable.objects.filter(key=key).exists():
            continue
        jdm, tests = shipped.jdm(key), shipped.tests(key)
        DecisionTable.objects.create(
            key=key,
            version=1,
            status="published",
            name_de=name_de,
            name_en=name_en,
            description=description,
            decision_kind=kind,
            jdm=jdm,
            tests=tests,
            check_result=check(jdm, tests),
            published_at=now,
        )


def reverse(apps, schema_editor):
    DecisionTable = apps.get_model("decisions", "DecisionTable")
    DecisionTable.objects.filter(key__in=list(SHIPPED), version=1, created_by__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("decisions", "0001_decision_tables_records_authority")]

    operations = [migrations.RunPython(forward, reverse)]
