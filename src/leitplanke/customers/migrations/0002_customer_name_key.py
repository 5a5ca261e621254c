import unicodedata

from django.db import migrations, models


def fill_name_keys(apps, schema_editor):
    """The same folding as models.fold_name (a migration must not import the live model)."""
    customer_model = apps.get_model("customers", "Customer")
    batch = []
    for customer in customer_model.objects.only("pk", "display_name").iterator(chunk_size=2000):
        customer.name_key = unicodedata.normalize("NFC", customer.display_name).casefold()[:255]
        batch.append(customer)
        if len(batch) >= 2000:
            customer_model.objects.bulk_update(batch, ["name_key"])
            batch = []
    if batch:
        customer_model.objects.bulk_update(batch, ["name_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="customer",
            name="customer_name_idx",
        ),
        migrations.AddField(
            model_name="customer",
            name="name_key",
            field=models.CharField(default="", editable=False, max_length=255),
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["name_key", "id"], name="customer_namekey_idx"),
        ),
    ]
