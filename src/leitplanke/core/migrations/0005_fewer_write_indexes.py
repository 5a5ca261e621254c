"""Drops two single-column indexes of the audit log that no query needs (see the model).

The indexes are dropped by name instead of through AlterField: on SQLite, AlterField
rebuilds the table, and dropping the old table would take the append-only triggers
(0002) with it.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DROPPED = {
    "core_auditevent_actor_id_3bd0c673": "actor_id",
    "core_auditevent_occurred_at_06c58d2c": "occurred_at",
}


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_reference_generation"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="actor",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(model_name="auditevent", name="occurred_at", field=models.DateTimeField()),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"', reverse_sql=f'CREATE INDEX "{name}" ON "core_auditevent" ("{column}")'
                )
                for name, column in DROPPED.items()
            ],
        ),
    ]
