from django.db import migrations

# Frozen here: later changes to DEFAULT_ROLES must not change what this migration did.
GRANTS = {
    "administrator": ["maturity.view", "maturity.manage"],
    "quality_manager": ["maturity.view", "maturity.manage"],
    "process_owner": ["maturity.view"],
    "team_lead": ["maturity.view"],
    "auditor": ["maturity.view"],
}


def grant(apps, schema_editor):
    """Adds the maturity capabilities to the shipped roles that exist (other capabilities,
    including changes administrators made, stay as they are)."""
    Role = apps.get_model("accounts", "Role")
    for key, codes in GRANTS.items():
        for role in Role.objects.filter(key=key):
            missing = [code for code in codes if code not in role.capabilities]
            if missing:
                role.capabilities = [*role.capabilities, *missing]
                role.save(update_fields=["capabilities"])


def revoke(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for role in Role.objects.filter(key__in=GRANTS):
        role.capabilities = [code for code in role.capabilities if not code.startswith("maturity.")]
        role.save(update_fields=["capabilities"])


class Migration(migrations.Migration):
    dependencies = [("maturity", "0002_default_recommendations"), ("accounts", "0002_default_roles_and_organisation")]
    operations = [migrations.RunPython(grant, revoke)]
