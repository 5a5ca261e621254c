from django.db import migrations


def forward(apps, schema_editor):
    from leitplanke.core.audit_guards import install_guards

    install_guards(schema_editor.connection)


def reverse(apps, schema_editor):
    from leitplanke.core.audit_guards import remove_guards

    remove_guards(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(forward, reverse)]
