"""The case types and the small category tree every organisation starts with."""

from django.db import migrations

CASE_TYPES = [
    # key, German, English, counts as complaint, order
    ("complaint", "Beschwerde", "Complaint", True, 10),
    ("inquiry", "Anfrage", "Inquiry", False, 20),
    ("feedback", "Rückmeldung", "Feedback", False, 30),
    ("data_protection", "Datenschutzanfrage", "Data-protection request", False, 40),
]

CATEGORIES = [
    # key, German, English, children
    ("billing", "Abrechnung", "Billing", [
        ("billing-meter-reading", "Zählerstand", "Meter reading"),
        ("billing-instalment", "Abschlag", "Instalment"),
    ]),
    ("payments", "Zahlungen", "Payments", [
        ("payments-card-fees", "Kartengebühren", "Card fees"),
        ("payments-chargeback", "Rückbuchung", "Chargeback"),
    ]),
    ("service", "Service", "Service", [
        ("service-reachability", "Erreichbarkeit", "Reachability"),
        ("service-staff-behaviour", "Freundlichkeit", "Staff behaviour"),
    ]),
    ("contract", "Vertrag", "Contract", [
        ("contract-cancellation", "Kündigung", "Cancellation"),
    ]),
    ("data-protection", "Datenschutz", "Data protection", []),
]


def forward(apps, schema_editor):
    CaseType = apps.get_model("cases", "CaseType")
    Category = apps.get_model("cases", "Category")
    for key, name_de, name_en, is_complaint, order in CASE_TYPES:
        CaseType.objects.get_or_create(
            key=key, defaults={"name_de": name_de, "name_en": name_en, "is_complaint": is_complaint, "order": order}
        )
    for key, name_de, name_en, children in CATEGORIES:
        parent, created = Category.objects.get_or_create(
            key=key, defaults={"name_de": name_de, "name_en": name_en, "path": "", "depth": 0})
        if created:
            parent.path = f"{parent.pk}/"
            parent.save(update_fields=["path"])
        for child_key, child_de, child_en in children:
            child, created = Category.objects.get_or_create(
                key=child_key,
                defaults={"name_de": child_de, "name_en": child_en, "parent": parent, "path": "", "depth": 1})
            if created:
                child.path = f"{parent.path}{child.pk}/"
                child.save(update_fields=["path"])


def reverse(apps, schema_editor):
    # Only remove what nobody uses yet.
    Category = apps.get_model("cases", "Category")
    CaseType = apps.get_model("cases", "CaseType")
    child_keys = [c[0] for _k, _d, _e, children in CATEGORIES for c in children]
    Category.objects.filter(key__in=child_keys, cases__isnull=True).delete()
    Category.objects.filter(key__in=[c[0] for c in CATEGORIES], cases__isnull=True, children__isnull=True).delete()
    CaseType.objects.filter(key__in=[t[0] for t in CASE_TYPES], cases__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_full_text_search")]
    operations = [migrations.RunPython(forward, reverse)]
