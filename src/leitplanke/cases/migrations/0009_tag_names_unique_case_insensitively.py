"""Tag names are unique case-insensitively (issue 19, item 12).

Adds `Tag.name_key` (the casefolded name), merges tags whose names differ only in case
into the oldest of them (the cases keep one of each tag), then makes the key unique.
"""

from django.db import migrations, models


def tag_key(name: str) -> str:
    return name.strip().casefold()


def merge_case_variants(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        # Check foreign keys now, so that the ALTER TABLE below finds no pending trigger events.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    Tag = apps.get_model("cases", "Tag")
    Through = apps.get_model("cases", "Case").tags.through
    survivors: dict[str, int] = {}
    for tag in Tag.objects.order_by("id"):
        key = tag_key(tag.name)
        survivor = survivors.get(key)
        if survivor is None:
            survivors[key] = tag.pk
            Tag.objects.filter(pk=tag.pk).update(name_key=key)
            continue
        already = set(Through.objects.filter(tag_id=survivor).values_list("case_id", flat=True))
        Through.objects.filter(tag_id=tag.pk, case_id__in=already).delete()
        Through.objects.filter(tag_id=tag.pk).update(tag_id=survivor)
        Tag.objects.filter(pk=tag.pk).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_bounced_and_download_only"),
    ]

    operations = [
        migrations.AddField(
            model_name="tag",
            name="name_key",
            field=models.CharField(max_length=120, null=True),
        ),
        migrations.RunPython(merge_case_variants, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="tag",
            name="name_key",
            field=models.CharField(max_length=120, unique=True),
        ),
        migrations.AlterField(
            model_name="tag",
            name="name",
            field=models.CharField(max_length=60, verbose_name="name"),
        ),
    ]
