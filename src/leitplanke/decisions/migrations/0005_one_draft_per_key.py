"""At most one draft per decision-table key, as a database constraint.

Two "new version" calls at once could each make a draft (the service looked for a draft before
the other committed its own, then for the latest version after it). Keys that got two drafts that
way keep the newest — the one the editor and `table_selectors` show as the draft; the older ones
are retired, not deleted (their content stays readable in the version history), each with an
audit event. Then the partial unique index is created.

Numbered 0005 after 0003: another branch adds a 0004 to this app (the integrator renumbers).
"""

from django.db import migrations, models
from django.utils import timezone

ACTOR_LABEL = "migration decisions.0005_one_draft_per_key"


def retire_extra_drafts(apps, schema_editor):
    DecisionTable = apps.get_model("decisions", "DecisionTable")
    AuditEvent = apps.get_model("core", "AuditEvent")
    now = timezone.now()
    keep: dict[str, int] = {}
    for table in DecisionTable.objects.filter(status="draft").order_by("key", "-version"):
        if keep.setdefault(table.key, table.version) == table.version:
            continue
        table.status = "retired"
        table.retired_at = now
        table.save(update_fields=["status", "retired_at", "updated_at"])
        AuditEvent.objects.create(
            occurred_at=now,
            actor_label=ACTOR_LABEL,
            action="decision_table.retire",
            object_type="decisions.decisiontable",
            object_id=str(table.pk),
            before={"status": "draft"},
            after={
                "key": table.key,
                "version": table.version,
                "status": "retired",
                "revision": table.revision,
                "reason": "second_draft",
                "draft_kept": keep[table.key],
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0008_audit_screen_indexes"),
        ("decisions", "0004_shipped_rule_descriptions_de"),
    ]

    operations = [
        migrations.RunPython(retire_extra_drafts, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="decisiontable",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "draft")), fields=("key",), name="decision_table_one_draft_per_key"
            ),
        ),
    ]
