"""Public pages in the organisation's name, logo and contact (never the product's, no API
link); the Settings screen for them with a validated logo; the embeddable form with its
own frame-ancestors and a signed form token instead of the CSRF cookie."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from leitplanke.accounts import services
from leitplanke.accounts.models import Organisation
from leitplanke.cases.models import Case
from leitplanke.core.errors import PermissionDenied
from leitplanke.core.models import AuditEvent
from leitplanke.intake import public
from leitplanke.intake.replies import status_link_token
from tests.intake.test_public import form_data

pytestmark = pytest.mark.django_db


def image(kind: str = "PNG", size: tuple[int, int] = (64, 32)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (15, 92, 140)).save(buffer, format=kind)
    return buffer.getvalue()


def org_form(**overrides) -> dict:
    data = {
        "name": "Stadtwerke Rheinfeld GmbH",
        "time_zone": "Europe/Berlin",
        "default_language": "de",
        "customer_languages": ["de", "en"],
        "calendar_region": "DE-NW",
        "public_name": "Stadtwerke Rheinfeld",
        "contact_email": "service@stadtwerke-rheinfeld.example",
        "contact_phone": "+49 221 555-0100",
        "contact_address": "Postfach 12 34\n50667 Köln",
        "imprint_url": "https://www.stadtwerke-rheinfeld.example/impressum",
        "privacy_url": "https://www.stadtwerke-rheinfeld.example/datenschutz",
        "form_frame_ancestors": "https://www.stadtwerke-rheinfeld.example\nhttps://*.rheinfeld.example",
    }
    data.update(overrides)
    return data


@pytest.fixture
def admin_client(admin_user, client_for) -> Client:
    return client_for(admin_user)


@pytest.fixture
def branded() -> Organisation:
    services.organisation_update(actor=None, **org_form())
    services.organisation_logo_set(actor=None, upload=SimpleUploadedFile("logo.png", image(), content_type="image/png"))
    return services.organisation_get()


def test_settings_screen_saves_the_public_look_and_the_logo(admin_client) -> None:
    upload = SimpleUploadedFile("logo.png", image(), content_type="image/png")
    response = admin_client.post(reverse("settings:organisation"), {**org_form(), "logo": upload})
    assert response.status_code == 302, response.content.decode()[:2000]
    organisation = services.organisation_get()
    assert organisation.public_name == "Stadtwerke Rheinfeld" and organisation.contact_phone == "+49 221 555-0100"
    assert organisation.form_frame_ancestors == "https://www.stadtwerke-rheinfeld.example\nhttps://*.rheinfeld.example"
    assert organisation.logo_content_type == "image/png" and bytes(organisation.logo) == image()
    assert AuditEvent.objects.filter(action="organisation.logo").exists()
    update = AuditEvent.objects.filter(action="organisation.update").latest("id")
    assert update.after["contact_email"] == "service@stadtwerke-rheinfeld.example"
    page = admin_client.get(reverse("settings:organisation")).content.decode()
    assert "/complaint/logo/?v=" in page and "/complaint/embed/" in page
    # Removing it.
    response = admin_client.post(reverse("settings:organisation"), {**org_form(), "remove_logo": "on"})
    assert response.status_code == 302 and not services.organisation_get().logo_sha256


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("logo.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),
        ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "image/svg+xml"),
        ("logo.png", b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10, "image/png"),
        ("logo.png", b"<html><script>alert(1)</script></html>", "image/png"),
        ("big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (600 * 1024), "image/png"),
        ("logo.bmp", None, "image/bmp"),
    ],
)
def test_a_logo_that_is_not_a_small_png_or_jpeg_is_refused(admin_client, name, content, content_type) -> None:
    if content is None:
        content = image("BMP")
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    response = admin_client.post(reverse("settings:organisation"), {**org_form(), "logo": upload})
    assert response.status_code == 400
    assert "Stadtwerke Rheinfeld GmbH" in response.content.decode()  # the rest of the input is kept
    organisation = services.organisation_get()
    assert not organisation.logo_sha256 and organisation.public_name == ""  # nothing half-stored


def test_a_jpeg_logo_is_accepted_and_served_through_the_view(admin_client) -> None:
    upload = SimpleUploadedFile("logo.jpg", image("JPEG"), content_type="image/jpeg")
    assert admin_client.post(reverse("settings:organisation"), {**org_form(), "logo": upload}).status_code == 302
    response = Client().get("/complaint/logo/")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    again = Client().get("/complaint/logo/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_no_logo_is_a_404() -> None:
    assert Client().get("/complaint/logo/").status_code == 404


@pytest.mark.parametrize(
    "value",
    [
        "https://a.example; script-src *",
        "https://a.example/path",
        "'self'",
        "javascript:alert(1)",
        "*",
        "https://a.example 'unsafe-inline'",
    ],
)
def test_only_origins_may_frame_the_form(admin_client, value) -> None:
    response = admin_client.post(reverse("settings:organisation"), org_form(form_frame_ancestors=value))
    assert response.status_code == 400
    assert services.organisation_get().form_frame_ancestors == ""


@pytest.mark.parametrize(
    ("field", "value"),
    [("imprint_url", "javascript:alert(1)"), ("privacy_url", "ftp://x.example"), ("contact_phone", "<script>")],
)
def test_contact_fields_are_checked(admin_client, field, value) -> None:
    assert admin_client.post(reverse("settings:organisation"), org_form(**{field: value})).status_code == 400


def test_an_agent_may_not_change_the_public_look(agent_user, client_for) -> None:
    upload = SimpleUploadedFile("logo.png", image(), content_type="image/png")
    response = client_for(agent_user).post(reverse("settings:organisation"), {**org_form(), "logo": upload})
    assert response.status_code == 403
    assert not services.organisation_get().logo_sha256
    with pytest.raises(PermissionDenied):
        services.organisation_logo_set(actor=agent_user, upload=upload)


def test_public_pages_carry_the_organisation_not_the_product(branded, django_capture_on_commit_callbacks) -> None:
    browser = Client(HTTP_ACCEPT_LANGUAGE="de", REMOTE_ADDR="203.0.113.60")
    with django_capture_on_commit_callbacks(execute=True):
        thanks_url = browser.post("/complaint/", form_data())["Location"]
    token = status_link_token(Case.objects.get())
    pages = {
        "form": browser.get("/complaint/"),
        "thanks": browser.get(thanks_url),
        "status": browser.get(f"/complaint/status/{token}/"),
        "privacy": browser.get("/complaint/privacy/"),
        "missing": browser.get("/complaint/status/forged/"),
        "not-found": browser.get("/nirgendwo/"),
        "embed": browser.get("/complaint/embed/"),
        "check": browser.get("/check/"),
    }
    for name, response in pages.items():
        html = response.content.decode()
        assert "Stadtwerke Rheinfeld" in html, name
        assert "Leitplanke" not in html, name
        assert "/api/v1/docs" not in html and "API-Dokumentation" not in html, name
    form = pages["form"].content.decode()
    assert "<title>Beschwerde einreichen · Stadtwerke Rheinfeld</title>" in form
    assert f"/complaint/logo/?v={branded.logo_sha256[:16]}" in form
    assert "+49 221 555-0100" in form and "service@stadtwerke-rheinfeld.example" in form
    assert "https://www.stadtwerke-rheinfeld.example/impressum" in form
    assert "https://www.stadtwerke-rheinfeld.example/datenschutz" in form


def test_signed_in_staff_still_see_the_product_on_app_pages(branded, admin_client) -> None:
    html = admin_client.get("/").content.decode()
    assert "Leitplanke" in html and "/api/v1/docs" in html


def test_the_embed_form_may_be_framed_by_the_configured_sites_only(branded, settings) -> None:
    settings.LEITPLANKE_FORM_FRAME_ANCESTORS = ["https://portal.example"]
    embed = Client().get("/complaint/embed/?lang=en")
    policy = embed["Content-Security-Policy"]
    assert "frame-ancestors https://www.stadtwerke-rheinfeld.example https://*.rheinfeld.example https://portal.example" in policy
    assert "X-Frame-Options" not in embed
    assert embed["Content-Language"] == "en" and "Your complaint or concern" in embed.content.decode()
    standalone = Client().get("/complaint/")
    assert "frame-ancestors 'none'" in standalone["Content-Security-Policy"]
    assert standalone["X-Frame-Options"] == "DENY"


def test_without_configured_sites_the_embed_form_is_not_framable() -> None:
    response = Client().get("/complaint/embed/")
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"] and response["X-Frame-Options"] == "DENY"


def test_the_embed_form_works_without_the_csrf_cookie_but_needs_its_signed_token(
    branded, django_capture_on_commit_callbacks
) -> None:
    strict = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="de", REMOTE_ADDR="203.0.113.61")
    # The standalone form keeps cookie-based CSRF.
    assert strict.post("/complaint/", form_data()).status_code == 403
    # The embed form: no cookie, a signed form token.
    with django_capture_on_commit_callbacks(execute=True):
        response = strict.post("/complaint/embed/?lang=de", form_data())
    assert response.status_code == 302 and response["Location"].startswith("/complaint/embed/thanks/")
    assert response["Location"].endswith("?lang=de")
    thanks = strict.get(response["Location"])
    assert (
        thanks.status_code == 200
        and "frame-ancestors https://www.stadtwerke-rheinfeld.example" in thanks["Content-Security-Policy"]
    )
    assert 'target="_blank"' in thanks.content.decode()
    # A forged or missing token: refused, text kept, nothing created.
    for token in ("forged", ""):
        refused = strict.post("/complaint/embed/", form_data(started=token, email="other@example.de"))
        assert refused.status_code == 400 and "Mein monatlicher Abschlag" in refused.content.decode()
    assert Case.objects.count() == 1
    assert public.MIN_FILL_SECONDS > 0


def test_the_attachment_help_is_in_the_visitors_language() -> None:
    """Before: formatted at import time, so English visitors read it in German."""
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/complaint/").content.decode()
    german = Client(HTTP_ACCEPT_LANGUAGE="de").get("/complaint/").content.decode()
    assert "Up to 5 files, each at most 10 MB" in english and "Bis zu 5 Dateien" not in english
    assert "Bis zu 5 Dateien" in german
