"""Screenshots of the public form and its confirmation page in German and English, on a
desktop (1280 px) and a phone (390 px), in the organisation's look; each one fits its width."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from leitplanke.accounts import services
from leitplanke.intake import public

pytestmark = pytest.mark.browser
ARTIFACTS = Path("test-artifacts")


def logo() -> bytes:
    image = Image.new("RGB", (96, 48), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((4, 8, 44, 40), fill=(15, 92, 140))
    draw.rectangle((50, 8, 90, 40), fill=(240, 180, 41))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(("locale", "label"), [("de-DE", "de"), ("en-GB", "en")])
def test_form_and_confirmation_screenshots(browser, live_server, monkeypatch, locale, label):
    monkeypatch.setattr(public, "MIN_FILL_SECONDS", 0)
    services.organisation_update(
        actor=None,
        name="Stadtwerke Rheinfeld GmbH",
        public_name="Stadtwerke Rheinfeld",
        contact_email="service@stadtwerke-rheinfeld.example",
        contact_phone="0221 555 0100",
        contact_address="Stadtwerke Rheinfeld GmbH\nPostfach 12 34\n50667 Köln",
        imprint_url="https://www.stadtwerke-rheinfeld.example/impressum",
    )
    services.organisation_logo_set(actor=None, upload=SimpleUploadedFile("logo.png", logo()))
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1280, 390):
        context = browser.new_context(viewport={"width": width, "height": 900}, locale=locale)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(f"{live_server.url}/complaint/")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.locator("img.brand-logo").evaluate("img => img.naturalWidth") > 0
        page.screenshot(path=str(ARTIFACTS / f"public-form-{label}-{width}.png"), full_page=True)
        page.select_option("#id_case_type", index=0)
        page.fill("#id_subject", "Abschlag verdoppelt" if label == "de" else "Instalment doubled")
        page.fill(
            "#id_description",
            "Mein monatlicher Abschlag wurde ohne Ankündigung verdoppelt."
            if label == "de"
            else "My monthly instalment was doubled without notice.",
        )
        page.fill("#id_first_name", "Erika")
        page.fill("#id_last_name", "Mustermann")
        page.fill("#id_email", f"erika.{width}@example.de")
        page.check("#id_consent")
        page.locator("form.public-form button[type=submit]").click()
        page.get_by_test_id("reference").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(ARTIFACTS / f"public-confirmation-{label}-{width}.png"), full_page=True)
        context.close()


def test_limit_notice_and_brand_form_screenshots(browser, live_server, monkeypatch):
    """The form when a limit applies (text kept, other ways in named) and a brand's form."""
    monkeypatch.setattr(public, "MIN_FILL_SECONDS", 0)
    monkeypatch.setattr(public, "ACCEPTED_PER_EMAIL_PER_HOUR", 0)
    services.organisation_update(
        actor=None, public_name="Stadtwerke Rheinfeld", contact_phone="0221 555 0100", contact_email="service@example.de"
    )
    brand = services.brand_create(
        actor=None,
        name="Rheinfeld Mobil",
        slug="mobil",
        display_name="Rheinfeld Mobil",
        from_address="service@mobil.example",
        colour="#c8004f",
        contact_phone="0800 123 456",
    )
    services.brand_logo_set(actor=None, brand=brand, upload=SimpleUploadedFile("logo.png", logo()))
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="de-DE")
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{live_server.url}/complaint/")
    page.fill("#id_subject", "Abschlag verdoppelt")
    page.fill("#id_description", "Mein monatlicher Abschlag wurde ohne Ankündigung verdoppelt.")
    page.fill("#id_last_name", "Mustermann")
    page.fill("#id_email", "erika@example.de")
    page.check("#id_consent")
    page.locator("form.public-form button[type=submit]").click()
    page.locator("#limit-notice").wait_for()
    assert page.locator("#id_description").input_value().startswith("Mein monatlicher Abschlag")
    assert "0221 555 0100" in page.locator("#limit-notice").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "public-limit-de-390.png"), full_page=True)
    page.goto(f"{live_server.url}/public/mobil/")
    assert "Rheinfeld Mobil" in page.locator(".brand-public").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "public-brand-form-de-390.png"), full_page=True)
    context.close()
