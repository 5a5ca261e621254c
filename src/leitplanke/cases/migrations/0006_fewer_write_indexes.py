"""Drops the single-column index on Interaction.case: interaction_case_idx (case,
occurred_at, id) serves every lookup by case, and each index costs every new timeline
entry. Dropped by name: AlterField would rebuild the whole table on SQLite."""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "cases_interaction_case_id_d913a962"


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_fewer_case_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="interaction",
                    name="case",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="interactions",
                        to="cases.case",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"', reverse_sql=f'CREATE INDEX "{INDEX}" ON "cases_interaction" ("case_id")'
                ),
            ],
        ),
    ]
