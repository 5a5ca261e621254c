"""Merging customers becomes a capability of its own (customers.merge): until now anyone
with customers.manage could merge, and a merge moves every case of the duplicate, also
cases of other teams. The default roles that see all cases get it; other roles keep
customers.manage and lose the merge (an administrator can grant it under Settings → Roles)."""

from django.db import migrations

MERGE = "customers.merge"
ROLES_THAT_MERGE = ("quality_manager", "administrator")


def grant(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for role in Role.objects.filter(key__in=ROLES_THAT_MERGE):
        if MERGE not in role.capabilities:
            role.capabilities = [*role.capabilities, MERGE]
            role.save(update_fields=["capabilities"])


def revoke(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for role in Role.objects.all():
        if MERGE in role.capabilities:
            role.capabilities = [code for code in role.capabilities if code != MERGE]
            role.save(update_fields=["capabilities"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_default_roles_and_organisation")]
    operations = [migrations.RunPython(grant, revoke)]
