"""The default acknowledgement and reply began "Guten Tag {{customer_name}}," — with the
stored display name that read "Guten Tag Mustermann, Erika," (issue 23). Where a default
template still begins that way, a new version begins with the formal salutation
placeholder instead (versions are never edited; templates an organisation changed stay)."""

from django.db import migrations

OLD_OPENINGS = ("Guten Tag {{customer_name}},", "Dear {{customer_name}},")


def forward(apps, schema_editor):
    ReplyTemplate = apps.get_model("intake", "ReplyTemplate")
    Version = apps.get_model("intake", "ReplyTemplateVersion")
    for template in ReplyTemplate.objects.filter(key__in=["acknowledgement", "reply"]):
        latest = Version.objects.filter(template=template).order_by("-number").first()
        if latest is None:
            continue
        for opening in OLD_OPENINGS:
            if latest.body.startswith(opening):
                Version.objects.create(
                    template=template,
                    number=latest.number + 1,
                    subject=latest.subject,
                    body="{{salutation}}," + latest.body[len(opening) :],
                )
                break


class Migration(migrations.Migration):
    dependencies = [("intake", "0005_mailbox_brand")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
