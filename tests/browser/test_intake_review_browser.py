"""An administrator finds a stranger's message that names a case in the review queue, reads
why it was held, and accepts it; the case page shows the intake's notes and a file kept
for download only, in German and in English, on a desktop and a phone."""

from __future__ import annotations

import os
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from leitplanke.cases.models import InteractionKind
from leitplanke.intake.models import InboundStatus
from leitplanke.intake.services import email_ingest

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("LEITPLANKE_SCREENSHOTS", "")


def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def mail(sender: str, subject: str, body: str, files: list[tuple[str, bytes]] = ()) -> bytes:  # type: ignore[assignment]
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "beschwerde@stadtwerke.example"
    msg["Subject"] = subject
    msg.set_content(body)
    for name, content in files:
        msg.add_attachment(content, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes()


def test_review_queue_and_case_notes(page: Any, browser: Any, live_server: Any, login: Any, make_user: Any) -> None:
    case = email_ingest(
        mail(
            "Erika Muster <erika@example.de>",
            "Abschlag zu hoch",
            "Sehr geehrte Damen und Herren, mein Abschlag ist zu hoch.",
            [("Rechnungskorrektur.pdf.exe", b"MZ\x90\x00" + b"\x00" * 60)],
        ),
        source="api",
    ).case
    held = email_ingest(
        mail("Mallory <mallory@evil.example>", f"Re: [{case.reference}] Adresse", "Bitte die Adresse ändern."), source="api"
    ).inbound
    assert held.status == InboundStatus.REVIEW
    admin = make_user("administrator", language="de")
    login(page, admin)

    page.goto(f"{live_server.url}/settings/")
    page.locator("a", has_text="Quarantäne und Prüfung").click()
    row = page.locator("tr", has_text="mallory@evil.example")
    assert row.get_by_text("Zur Prüfung zurückgehalten").is_visible()
    assert row.get_by_text("der Absender ist dort nicht bekannt", exact=False).is_visible()
    shot(page, "review-de-1280")
    row.get_by_role("button", name="Annehmen").click()
    assert page.get_by_text("Die Nachricht wurde angenommen", exact=False).is_visible()
    assert case.interactions.filter(kind=InteractionKind.INBOUND_MESSAGE).count() == 2

    page.goto(f"{live_server.url}/cases/{case.pk}/")
    assert page.get_by_text("Hinweise zur empfangenen E-Mail").first.is_visible()
    assert page.get_by_text("nur zum Herunterladen").first.is_visible()
    shot(page, "case-notes-de-1280")

    admin.language = "en"
    admin.save(update_fields=["language"])
    page.reload()
    assert page.get_by_text("Notes on the received e-mail").first.is_visible()
    shot(page, "case-notes-en-1280")
    email_ingest(mail("Spam <offer@spam.example>", "You won", "Click here"), source="api")
    email_ingest(b"\x00\x01 not an e-mail", source="api")
    page.goto(f"{live_server.url}/intake/quarantine/")
    assert page.get_by_text("This is not an e-mail", exact=False).is_visible()
    shot(page, "review-en-1280")

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="de-DE")
    try:
        mobile = phone.new_page()
        login(mobile, admin)
        for language in ("en", "de"):
            admin.language = language
            admin.save(update_fields=["language"])
            mobile.goto(f"{live_server.url}/intake/quarantine/")
            assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
            shot(mobile, f"review-{language}-390")
            mobile.goto(f"{live_server.url}/cases/{case.pk}/")
            assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
            shot(mobile, f"case-notes-{language}-390")
    finally:
        phone.close()
