"""Typed side rows of custom-field values (number, money amount, date) with an index on
(definition, value, case), so that the case list's range filters find matching cases without
testing every case's JSON (ADR 0025). Existing cases get their rows here, in batches; new
and changed ones through `cases.field_values.sync`."""

import django.db.models.deletion
from django.db import migrations, models

import leitplanke.cases.models
from leitplanke.cases.field_values import TYPED_KINDS, rows_for

BATCH = 2000


def forward(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Definition = apps.get_model("cases", "CustomFieldDefinition")
    Value = apps.get_model("cases", "CaseFieldValue")
    by_type: dict[int, list] = {}
    for definition in Definition.objects.filter(kind__in=TYPED_KINDS, is_active=True).order_by("pk"):
        by_type.setdefault(definition.case_type_id, []).append(definition)
    if not by_type:
        return
    last = 0
    while True:
        cases = list(
            Case.objects.filter(pk__gt=last, case_type_id__in=list(by_type))
            .order_by("pk")
            .values_list("pk", "case_type_id", "custom_fields")[:BATCH]
        )
        if not cases:
            break
        last = cases[-1][0]
        rows = [row for pk, type_id, custom in cases for row in rows_for(pk, custom, by_type[type_id])]
        Value.objects.filter(case_id__in=[c[0] for c in cases]).delete()
        Value.objects.bulk_create([Value(case_id=c, definition_id=d, number=n, date=day) for c, d, n, day in rows])


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0014_clock_rule_key_unindexed"),
    ]

    operations = [
        migrations.CreateModel(
            name="CaseFieldValue",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", leitplanke.cases.models.UnboundedDecimalField(blank=True, decimal_places=500, max_digits=1000, null=True)),
                ("date", models.DateField(blank=True, null=True)),
                (
                    "case",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="cases.case",
                    ),
                ),
                (
                    "definition",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="cases.customfielddefinition",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        condition=models.Q(("number__isnull", False)),
                        fields=["definition", "number", "case"],
                        name="casefieldvalue_number_idx",
                    ),
                    models.Index(
                        condition=models.Q(("date__isnull", False)),
                        fields=["definition", "date", "case"],
                        name="casefieldvalue_date_idx",
                    ),
                ],
                "constraints": [models.UniqueConstraint(fields=("case", "definition"), name="casefieldvalue_unique")],
            },
        ),
        migrations.RunPython(forward, migrations.RunPython.noop, elidable=True),
    ]
