"""The keyed audit chain and its guards (ADR 0002): `key_id` on events and on the chain
head, the head's MAC, the head row itself, and the triggers of core/audit_guards.py
(insert guard, one-time sealing update, guarded head) instead of those of 0002.

The event column is added with plain SQL: on SQLite, AddField with a default rebuilds the
table, which would copy the whole log and take its triggers with it (as in 0005).
"""

from importlib import import_module

from django.db import migrations, models

EVENT_KEY_ID = {
    "add": "ALTER TABLE core_auditevent ADD COLUMN key_id varchar(16) DEFAULT '' NOT NULL",
    "drop": "ALTER TABLE core_auditevent DROP COLUMN key_id",
}


def _first_guards():
    return import_module("leitplanke.core.migrations.0002_audit_append_only_triggers")


def drop_first_guards(apps, schema_editor):
    _first_guards().reverse(apps, schema_editor)


def restore_first_guards(apps, schema_editor):
    _first_guards().forward(apps, schema_editor)


def create_head_row(apps, schema_editor):
    """The empty head, unless sealed events exist without one: `audit verify` reports that
    as broken, and a new head would hide it."""
    head = apps.get_model("core", "AuditChainHead")
    event = apps.get_model("core", "AuditEvent")
    if not head.objects.filter(pk=1).exists() and not event.objects.filter(seq__isnull=False).exists():
        head.objects.create(pk=1)


def install_guards(apps, schema_editor):
    from leitplanke.core.audit_guards import install_guards

    install_guards(schema_editor.connection)


def remove_guards(apps, schema_editor):
    from leitplanke.core.audit_guards import remove_guards

    remove_guards(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("core", "0006_idempotency_claim")]

    operations = [
        migrations.RunPython(drop_first_guards, restore_first_guards),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="auditevent",
                    name="key_id",
                    field=models.CharField(blank=True, default="", max_length=16),
                ),
            ],
            database_operations=[migrations.RunSQL(EVENT_KEY_ID["add"], reverse_sql=EVENT_KEY_ID["drop"])],
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="key_id",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="mac",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(create_head_row, migrations.RunPython.noop),
        migrations.RunPython(install_guards, remove_guards),
    ]
