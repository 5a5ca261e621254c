"""Brands (sending identities): several in one organisation, each with its From address,
Reply-To, signature and public-form look; assigned to mailboxes and case types. Mail of a
case comes from the identity the customer wrote to (the mailbox or the brand's form), else
from the case type's, else from the default sender. Sent through Django's locmem backend."""

from __future__ import annotations

import io

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from leitplanke.accounts import services as account_services
from leitplanke.accounts.models import Brand
from leitplanke.cases.models import Case, CaseType
from leitplanke.core.models import AuditEvent
from leitplanke.intake import replies
from leitplanke.intake.models import Mailbox
from leitplanke.intake.replies import status_link_token
from leitplanke.intake.services import email_ingest
from tests.intake.test_ingest import message
from tests.intake.test_public import form_data

pytestmark = pytest.mark.django_db


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 0, 80)).save(buffer, format="PNG")
    return buffer.getvalue()


def brand(slug: str = "mobil", **overrides) -> Brand:
    values = {
        "name": f"Rheinfeld {slug.title()}",
        "slug": slug,
        "display_name": f"Rheinfeld {slug.title()}",
        "from_address": f"service@{slug}.example",
        "reply_to": f"antwort@{slug}.example",
        "signature": f"Ihr Team von Rheinfeld {slug.title()}\nHotline 0800 {len(slug)}",
        "colour": "#c8004f",
        "contact_phone": "0800 123 456",
    }
    values.update(overrides)
    return account_services.brand_create(actor=None, **values)


def mailbox(address: str, the_brand: Brand | None) -> Mailbox:
    return Mailbox.objects.create(
        name=address,
        address=address,
        host="imap.example",
        username="u",
        default_case_type=CaseType.objects.get(key="complaint"),
        brand=the_brand,
    )


@pytest.fixture
def admin_client(admin_user, client_for) -> Client:
    return client_for(admin_user)


def brand_form(**overrides) -> dict:
    data = {
        "name": "Rheinfeld Mobilfunk",
        "slug": "mobilfunk",
        "display_name": "Rheinfeld Mobilfunk",
        "from_address": "kundenservice@mobilfunk.example",
        "reply_to": "antwort@mobilfunk.example",
        "signature": "Freundliche Grüße\n{{ agent_name }}, Rheinfeld Mobilfunk",
        "colour": "#c8004f",
        "contact_email": "",
        "contact_phone": "0800 555",
        "is_active": "on",
    }
    data.update(overrides)
    return data


# --- settings screens ---------------------------------------------------------------------------


def test_brands_are_created_edited_and_audited_on_the_settings_screens(admin_client) -> None:
    assert admin_client.get(reverse("settings:brands")).status_code == 200
    assert admin_client.get(reverse("settings:brand_create")).status_code == 200
    upload = SimpleUploadedFile("logo.png", png(), content_type="image/png")
    response = admin_client.post(reverse("settings:brand_create"), {**brand_form(), "logo": upload})
    assert response.status_code == 302, response.content.decode()[:3000]
    created = Brand.objects.get(slug="mobilfunk")
    assert created.from_address == "kundenservice@mobilfunk.example" and created.logo_content_type == "image/png"
    assert AuditEvent.objects.filter(action="brand.create").exists() and AuditEvent.objects.filter(action="brand.logo").exists()
    edit = reverse("settings:brand_edit", args=[created.pk])
    page = admin_client.get(edit).content.decode()
    assert "/public/mobilfunk/embed/" in page and "/public/mobilfunk/logo/?v=" in page
    assert admin_client.post(edit, brand_form(display_name="Rheinfeld Mobil")).status_code == 302
    assert AuditEvent.objects.filter(action="brand.update").latest("id").after == {"display_name": "Rheinfeld Mobil"}
    assert "Rheinfeld Mobilfunk" in admin_client.get(reverse("settings:brands")).content.decode()


@pytest.mark.parametrize(
    "overrides",
    [
        {"slug": "Mit Leerzeichen"},
        {"slug": "embed"},
        {"from_address": "kein-absender"},
        {"colour": "red;}body{display:none"},
        {"contact_phone": "<script>"},
        {"display_name": ""},
    ],
)
def test_a_bad_brand_is_refused_and_keeps_the_input(admin_client, overrides) -> None:
    response = admin_client.post(reverse("settings:brand_create"), brand_form(**overrides))
    assert response.status_code == 400
    assert "antwort@mobilfunk.example" in response.content.decode()
    assert not Brand.objects.exists()


def test_two_brands_may_not_share_a_short_name(admin_client) -> None:
    brand("mobilfunk")
    response = admin_client.post(reverse("settings:brand_create"), brand_form(name="Andere"))
    assert response.status_code == 400 and Brand.objects.count() == 1


def test_agents_may_not_see_or_change_brands(agent_user, client_for) -> None:
    existing = brand()
    agent = client_for(agent_user)
    for url in (reverse("settings:brands"), reverse("settings:brand_create"), reverse("settings:brand_edit", args=[existing.pk])):
        assert agent.get(url).status_code == 403
    assert agent.post(reverse("settings:brand_create"), brand_form()).status_code == 403
    assert Brand.objects.count() == 1


def test_mailboxes_and_case_types_are_assigned_a_brand_on_their_screens(admin_client) -> None:
    mobil = brand()
    complaint = CaseType.objects.get(key="complaint")
    response = admin_client.post(
        reverse("catalog:case_type_edit", args=[complaint.pk]),
        {
            "name_de": complaint.name_de,
            "name_en": complaint.name_en,
            "is_complaint": "on",
            "acknowledgement_enabled": "on",
            "is_active": "on",
            "order": complaint.order,
            "brand": mobil.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    complaint.refresh_from_db()
    assert complaint.brand_id == mobil.pk
    assert AuditEvent.objects.filter(action="case_type.update").latest("id").after["brand"] == mobil.pk
    response = admin_client.post(
        reverse("intake:mailbox_create"),
        {
            "name": "Mobil",
            "address": "post@mobil.example",
            "host": "imap.example",
            "port": 993,
            "use_ssl": "on",
            "username": "u",
            "password": "geheim",
            "folder": "INBOX",
            "default_case_type": complaint.pk,
            "brand": mobil.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Mailbox.objects.get(address="post@mobil.example").brand_id == mobil.pk


# --- which identity sends ---------------------------------------------------------------------------


def test_mail_to_a_brands_mailbox_is_acknowledged_and_answered_from_that_brand(
    make_user, django_capture_on_commit_callbacks
) -> None:
    mobil, strom = brand("mobil"), brand("strom")
    CaseType.objects.filter(key="complaint").update(brand=strom)  # the mailbox wins over the type
    with django_capture_on_commit_callbacks(execute=True):
        case = email_ingest(message(), source="imap", mailbox=mailbox("post@mobil.example", mobil)).case
    ack = mail.outbox[-1]
    assert ack.from_email == "Rheinfeld Mobil <service@mobil.example>"
    assert ack.reply_to == ["antwort@mobil.example"]
    assert ack.body.endswith("-- \nIhr Team von Rheinfeld Mobil\nHotline 0800 5")
    assert ack.message()["From"] == "Rheinfeld Mobil <service@mobil.example>"
    mail.outbox.clear()
    agent = make_user("quality_manager")
    with django_capture_on_commit_callbacks(execute=True):
        replies.reply_queue(
            actor=agent, case=case, to="erika@example.de", subject="Ihre Rechnung", body="Erledigt. {{organisation_name}}"
        )
    reply = mail.outbox[-1]
    assert "Erledigt. Rheinfeld Mobil" in reply.body  # the placeholder names the brand that sends
    assert reply.from_email == "Rheinfeld Mobil <service@mobil.example>" and reply.reply_to == ["antwort@mobil.example"]
    assert "Ihr Team von Rheinfeld Mobil" in reply.body


def test_a_mailbox_without_brand_falls_back_to_the_case_types(django_capture_on_commit_callbacks) -> None:
    strom = brand("strom", reply_to="")
    CaseType.objects.filter(key="complaint").update(brand=strom)
    with django_capture_on_commit_callbacks(execute=True):
        email_ingest(message(), source="imap", mailbox=mailbox("post@stadtwerke.example", None))
    ack = mail.outbox[-1]
    assert ack.from_email == "Rheinfeld Strom <service@strom.example>" and ack.reply_to == []


def test_without_brands_mail_comes_from_the_default_sender(settings, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        email_ingest(message(), source="file")
    ack = mail.outbox[-1]
    assert ack.from_email == settings.DEFAULT_FROM_EMAIL and ack.reply_to == [] and "-- \n" not in ack.body


def test_an_inactive_brand_does_not_send(settings, django_capture_on_commit_callbacks) -> None:
    mobil = brand("mobil")
    account_services.brand_update(actor=None, brand=mobil, is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        email_ingest(message(), source="imap", mailbox=mailbox("post@mobil.example", mobil))
    assert mail.outbox[-1].from_email == settings.DEFAULT_FROM_EMAIL
    assert Client().get("/public/mobil/").status_code == 404


def test_a_display_name_cannot_inject_headers(django_capture_on_commit_callbacks) -> None:
    evil = brand("evil", display_name="Rheinfeld\r\nBcc: opfer@example.de")
    with django_capture_on_commit_callbacks(execute=True):
        email_ingest(message(), source="imap", mailbox=mailbox("post@evil.example", evil))
    sent = mail.outbox[-1].message()
    assert sent["Bcc"] is None and "\n" not in sent["From"]


# --- a brand's public form ----------------------------------------------------------------------------


def test_a_brands_public_form_carries_its_look_and_its_identity_answers(django_capture_on_commit_callbacks) -> None:
    mobil = brand("mobil")
    account_services.brand_logo_set(actor=None, brand=mobil, upload=SimpleUploadedFile("l.png", png()))
    strom = brand("strom")
    own = CaseType.objects.create(key="mobil-tarif", name_de="Tarif", name_en="Tariff", brand=mobil)
    other = CaseType.objects.create(key="strom-tarif", name_de="Stromtarif", name_en="Power tariff", brand=strom)
    browser = Client(HTTP_ACCEPT_LANGUAGE="de", REMOTE_ADDR="203.0.113.90")
    page = browser.get("/public/mobil/").content.decode()
    assert "Rheinfeld Mobil" in page and "/public/mobil/logo/?v=" in page and "/public/mobil/brand.css" in page
    assert "0800 123 456" in page
    complaint = CaseType.objects.get(key="complaint")  # shared by all (no brand)
    assert f'value="{own.pk}"' in page and f'value="{complaint.pk}"' in page and f'value="{other.pk}"' not in page
    assert "Leitplanke" not in page
    css = browser.get("/public/mobil/brand.css")
    assert css["Content-Type"].startswith("text/css") and "#c8004f" in css.content.decode()
    assert browser.get("/public/mobil/logo/")["Content-Type"] == "image/png"
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post("/public/mobil/", form_data())
    assert response.status_code == 302 and response["Location"].startswith("/public/mobil/thanks/")
    assert "Rheinfeld Mobil" in browser.get(response["Location"]).content.decode()
    ack = mail.outbox[-1]
    assert ack.from_email == "Rheinfeld Mobil <service@mobil.example>" and ack.reply_to == ["antwort@mobil.example"]
    case = Case.objects.get()
    status = browser.get(f"/complaint/status/{status_link_token(case)}/").content.decode()
    assert "Rheinfeld Mobil" in status and "/public/mobil/logo/" in status


def test_a_brands_embed_form_works_without_the_csrf_cookie(django_capture_on_commit_callbacks) -> None:
    brand("mobil")
    account_services.organisation_update(actor=None, form_frame_ancestors="https://www.mobil.example")
    strict = Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.91")
    embed = strict.get("/public/mobil/embed/?lang=en")
    assert "frame-ancestors https://www.mobil.example" in embed["Content-Security-Policy"]
    with django_capture_on_commit_callbacks(execute=True):
        response = strict.post("/public/mobil/embed/?lang=en", form_data())
    assert response.status_code == 302 and response["Location"].startswith("/public/mobil/embed/thanks/")
    assert mail.outbox[-1].from_email == "Rheinfeld Mobil <service@mobil.example>"


def test_an_unknown_brand_is_a_404() -> None:
    assert Client().get("/public/gibt-es-nicht/").status_code == 404
    assert Client().get("/public/gibt-es-nicht/logo/").status_code == 404


def test_acknowledging_a_file_import_costs_no_query_for_the_identity(django_assert_num_queries) -> None:
    """Without brands the identity costs nothing on the import path (bench/mail_import.py)."""
    from leitplanke.intake.selectors import sending_identity

    case = email_ingest(message(), source="file").case
    inbound = case.interactions.get(kind="inbound_message")
    case = Case.objects.select_related("case_type").get(pk=case.pk)
    with django_assert_num_queries(0):
        assert sending_identity(case, inbound=inbound).brand_id is None


def test_older_messages_find_their_mailbox_through_the_inbound_row(django_capture_on_commit_callbacks) -> None:
    from leitplanke.intake.selectors import sending_identity

    mobil = brand("mobil")
    case = email_ingest(message(), source="imap", mailbox=mailbox("post@mobil.example", mobil)).case
    inbound = case.interactions.get(kind="inbound_message")
    inbound.data.pop("mailbox")  # as stored before this change
    inbound.save(update_fields=["data"])
    assert sending_identity(case).brand_id == mobil.pk
