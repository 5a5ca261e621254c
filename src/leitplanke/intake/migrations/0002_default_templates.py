"""Acknowledgement and reply templates every installation starts with (German and English)."""

from django.db import migrations

ACK_DE = (
    "{{salutation}},\n\n"
    "vielen Dank für Ihre Nachricht. Wir haben Ihr Anliegen am {{received_date}} erhalten und unter dem "
    "Aktenzeichen {{case_reference}} erfasst. Bitte geben Sie dieses Aktenzeichen bei Rückfragen an.\n\n"
    "Wir prüfen Ihr Anliegen und melden uns so schnell wie möglich, spätestens innerhalb der für Ihr Anliegen "
    "geltenden Frist. Den Stand können Sie jederzeit hier einsehen:\n{{status_url}}\n\n"
    "Mit freundlichen Grüßen\n{{organisation_name}}"
)
ACK_EN = (
    "{{salutation}},\n\n"
    "thank you for your message. We received it on {{received_date}} and registered it under the reference "
    "{{case_reference}}. Please quote this reference in any reply.\n\n"
    "We are looking into it and will come back to you as soon as possible, and within the time limit that "
    "applies to your concern. You can check the status at any time here:\n{{status_url}}\n\n"
    "Kind regards\n{{organisation_name}}"
)
REPLY_DE = "{{salutation}},\n\n\n\nMit freundlichen Grüßen\n{{agent_name}}\n{{organisation_name}}"
REPLY_EN = "{{salutation}},\n\n\n\nKind regards\n{{agent_name}}\n{{organisation_name}}"

TEMPLATES = [
    ("acknowledgement", "Eingangsbestätigung", "de", "acknowledgement", "Ihr Anliegen: {{case_subject}}", ACK_DE),
    ("acknowledgement", "Acknowledgement", "en", "acknowledgement", "Your message: {{case_subject}}", ACK_EN),
    ("reply", "Antwort (allgemein)", "de", "reply", "Ihr Anliegen: {{case_subject}}", REPLY_DE),
    ("reply", "Reply (general)", "en", "reply", "Your message: {{case_subject}}", REPLY_EN),
]


def create(apps, schema_editor):
    ReplyTemplate = apps.get_model("intake", "ReplyTemplate")
    Version = apps.get_model("intake", "ReplyTemplateVersion")
    for key, name, language, purpose, subject, body in TEMPLATES:
        template, created = ReplyTemplate.objects.get_or_create(key=key, language=language, defaults={"name": name, "purpose": purpose})
        if created:
            Version.objects.create(template=template, number=1, subject=subject, body=body)


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
