"""A customer submits the public form in German, receives the acknowledgement, answers it
by e-mail, and the answer appears threaded on the case."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.core.management import call_command

from leitplanke.cases.models import Case
from leitplanke.intake import public

pytestmark = pytest.mark.browser


def test_public_form_acknowledgement_and_threaded_reply(page, live_server, login, make_user, settings, tmp_path, monkeypatch):
    mail_dir = tmp_path / "mail"
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(mail_dir)
    monkeypatch.setattr(public, "MIN_FILL_SECONDS", 0)

    page.goto(f"{live_server.url}/complaint/")
    assert page.locator("html").get_attribute("lang") == "de"
    page.select_option("#id_case_type", label="Beschwerde")
    page.fill("#id_subject", "Falscher Zählerstand auf der Jahresabrechnung")
    page.fill("#id_description", "Auf meiner Stromabrechnung steht ein Zählerstand von 48.112 kWh, abgelesen habe ich 41.870.")
    page.fill("#id_first_name", "Erika")
    page.fill("#id_last_name", "Mustermann")
    page.fill("#id_email", "erika.mustermann@example.de")
    page.check("#id_consent")
    page.locator("form.public-form button[type=submit]").click()
    reference = page.get_by_test_id("reference").inner_text()
    case = Case.objects.get(reference=reference)

    files = sorted(mail_dir.glob("*.log"))
    assert files, "no acknowledgement was written"
    ack = email.message_from_string(files[0].read_text(), policy=policy.default)
    assert reference in ack["Subject"]

    reply = EmailMessage()
    reply["From"] = "Erika Mustermann <erika.mustermann@example.de>"
    reply["To"] = ack["From"]
    reply["Subject"] = f"AW: {ack['Subject']}"
    reply["Message-ID"] = "<antwort-1@example.de>"
    reply["In-Reply-To"] = ack["Message-ID"]
    reply["References"] = ack["Message-ID"]
    reply.set_content("Anbei noch ein Foto vom Zähler. Der Stand ist eindeutig 41.870.")
    eml = Path(tmp_path / "antwort.eml")
    eml.write_bytes(reply.as_bytes())
    call_command("leitplanke_mail", "import", str(eml))

    reviewer = make_user("quality_manager")
    login(page, reviewer)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    assert (
        page.locator(".timeline-entry").get_by_text("Der Stand ist eindeutig 41.870.").is_visible()
    )  # the composer quotes it too
    assert Case.objects.count() == 1
