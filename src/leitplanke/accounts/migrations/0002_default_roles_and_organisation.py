from django.db import migrations


def create_defaults(apps, schema_editor):
    from leitplanke.accounts.permissions import DEFAULT_ROLES

    Role = apps.get_model("accounts", "Role")
    Organisation = apps.get_model("accounts", "Organisation")
    for key, name_en, name_de, capabilities in DEFAULT_ROLES:
        Role.objects.update_or_create(
            key=key, defaults={"name_en": name_en, "name_de": name_de, "capabilities": capabilities, "is_system": True}
        )
    Organisation.objects.get_or_create(pk=1, defaults={"customer_languages": ["de", "en"]})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
