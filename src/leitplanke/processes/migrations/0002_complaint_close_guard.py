"""The shipped complaint process is not closed while a decision awaits approval.

Published versions never change (ADR 0024): an install whose published complaint process
is still the shipped version 1 without the guard gets version 2 — version 1 with the guard
on its closing step — published, and version 1 retired. Cases keep the version they
started on. An organisation that published its own version is left alone (its process
owner adds the guard if wanted, docs/processes.md). A fresh install has the guard in
version 1 already (0001 stores `shipped.SHIPPED`), so this does nothing there.
"""

import copy

from django.db import migrations

GUARD = {
    "guard": "not case.decision_pending",
    "guard_label_de": "keine Entscheidung wartet auf Freigabe",
    "guard_label_en": "no decision awaiting approval",
}


def add_guard(apps, schema_editor):
    from django.utils import timezone

    ProcessDefinition = apps.get_model("processes", "ProcessDefinition")
    current = ProcessDefinition.objects.filter(key="complaint", status="published").first()
    if current is None or current.version != 1 or current.created_by_id is not None:
        return
    definition = copy.deepcopy(current.definition)
    closing = [t for t in definition.get("transitions") or [] if isinstance(t, dict) and t.get("key") == "close"]
    if len(closing) != 1 or closing[0].get("guard"):
        return
    closing[0].update(GUARD)
    now = timezone.now()
    ProcessDefinition.objects.filter(pk=current.pk).update(status="retired", retired_at=now)
    ProcessDefinition.objects.create(
        key="complaint",
        version=2,
        status="published",
        name_de=current.name_de,
        name_en=current.name_en,
        definition=definition,
        published_at=now,
    )


def remove_guard(apps, schema_editor):
    """Back to version 1 only where version 2 is the one this migration made and no case
    started on it."""
    ProcessDefinition = apps.get_model("processes", "ProcessDefinition")
    Case = apps.get_model("cases", "Case")
    made = ProcessDefinition.objects.filter(key="complaint", version=2, status="published", created_by__isnull=True).first()
    if made is None or Case.objects.filter(process_version_id=made.pk).exists():
        return
    made.delete()
    ProcessDefinition.objects.filter(key="complaint", version=1).update(status="published", retired_at=None)


class Migration(migrations.Migration):
    dependencies = [
        ("processes", "0001_process_definitions"),
        ("cases", "0012_processes_and_closing"),
    ]

    operations = [migrations.RunPython(add_guard, remove_guard)]
