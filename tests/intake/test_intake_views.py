"""Intake screens: reply composer, reply templates, mailboxes, quarantine/inbound log, webhooks.

Given a user of some role, when they open or post a page, then they see what their
capabilities allow (403 otherwise), writes go through services (audited), and bad input
gets a 400 that keeps what was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from leitplanke.accounts.models import Team, User
from leitplanke.cases.models import Case, CaseType, DeliveryStatus, Interaction, InteractionKind
from leitplanke.cases.services import case_create
from leitplanke.core.crypto import decrypt_secret
from leitplanke.core.models import AuditEvent
from leitplanke.customers.services import customer_create
from leitplanke.intake import replies
from leitplanke.intake.models import InboundEmail, InboundStatus, Mailbox, ReplyTemplate, WebhookDelivery, WebhookEndpoint
from leitplanke.intake.services import email_ingest

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    "/intake/mailboxes/",
    "/intake/mailboxes/new/",
    "/intake/quarantine/",
    "/intake/inbound/",
    "/intake/webhooks/",
    "/intake/webhooks/new/",
]
TEMPLATE_PAGES = ["/intake/templates/", "/intake/templates/new/"]


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "files"
    return settings.MEDIA_ROOT


@pytest.fixture
def team(db: Any) -> Team:
    return Team.objects.create(name="Beschwerde-Team")


@pytest.fixture
def case(team: Team) -> Case:
    customer = customer_create(
        actor=None, kind="person", first_name="Erika", last_name="Muster", emails=["erika.muster@example.de"]
    )
    return case_create(
        actor=None,
        case_type=CaseType.objects.get(key="complaint"),
        subject="Abschlag zu hoch",
        channel="email",
        customer=customer,
        team=team,
    )


@pytest.fixture
def agent(make_user: Callable[..., User], team: Team) -> User:
    return make_user("agent", teams=[team], name="Anna Agent", language="en")


@pytest.fixture
def admin_user(make_user: Callable[..., User]) -> User:
    """English UI, so that assertions on texts do not depend on the German translation."""
    return make_user("administrator", name="Ada Admin", language="en")


@pytest.fixture
def process_owner(make_user: Callable[..., User]) -> User:
    return make_user("process_owner", name="Paul Process", language="en")


@pytest.fixture
def auditor(make_user: Callable[..., User]) -> User:
    return make_user("auditor", language="en")


def reply_template(language: str = "de") -> ReplyTemplate:
    return ReplyTemplate.objects.get(key="reply", language=language)


# --- permissions ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ADMIN_PAGES + TEMPLATE_PAGES)
def test_agents_and_auditors_may_not_open_the_administration_pages(
    url: str, agent: User, auditor: User, client_for: Callable[[User], Client]
) -> None:
    assert client_for(agent).get(url).status_code == 403
    assert client_for(auditor).get(url).status_code == 403


def test_process_owner_manages_templates_but_not_mailboxes_or_webhooks(
    process_owner: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(process_owner)
    for url in TEMPLATE_PAGES:
        assert client.get(url).status_code == 200, url
    for url in ADMIN_PAGES:
        assert client.get(url).status_code == 403, url
    index = client.get("/settings/")
    assert index.status_code == 200
    assert b"/intake/templates/" in index.content and b"/intake/mailboxes/" not in index.content


def test_administrator_sees_every_intake_page_and_the_cards(admin_user: User, client_for: Callable[[User], Client]) -> None:
    client = client_for(admin_user)
    for url in ADMIN_PAGES + TEMPLATE_PAGES:
        assert client.get(url).status_code == 200, url
    index = client.get("/settings/").content.decode()
    for url in ["/intake/mailboxes/", "/intake/quarantine/", "/intake/inbound/", "/intake/webhooks/", "/intake/templates/"]:
        assert f'href="{url}"' in index


def test_anonymous_users_are_sent_to_the_login(case: Case) -> None:
    response = Client().get(f"/intake/cases/{case.pk}/reply/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_auditor_may_not_write_anywhere(auditor: User, case: Case, client_for: Callable[[User], Client]) -> None:
    client = client_for(auditor)
    template = reply_template()
    assert client.get(f"/intake/cases/{case.pk}/reply/").status_code == 403
    assert (
        client.post(
            f"/intake/cases/{case.pk}/reply/", {"action": "send", "to": "a@example.de", "subject": "x", "body": "y"}
        ).status_code
        == 403
    )
    assert client.post(f"/intake/templates/{template.pk}/", {"name": "x", "subject": "x", "body": "y"}).status_code == 403
    hook = {"url": "https://example.org/hook", "events": ["case.created"]}
    assert client.post("/intake/webhooks/new/", hook).status_code == 403
    assert not Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND_MESSAGE).exists()
    assert template.versions.count() == 1 and not WebhookEndpoint.objects.exists()


# --- reply composer -------------------------------------------------------------------------


def test_case_page_links_to_the_composer_which_is_prefilled(
    agent: User, case: Case, client_for: Callable[[User], Client]
) -> None:
    client = client_for(agent)
    detail = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'href="/intake/cases/{case.pk}/composer/"' in detail  # the composer under the conversation
    response = client.get(f"/intake/cases/{case.pk}/reply/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="erika.muster@example.de"' in html  # the customer's primary address
    assert "Ihr Anliegen: {{case_subject}}" in html  # the German reply template: the case is German
    assert f'<option value="{reply_template("de").pk}" selected>' in html
    assert "Reply (general) (English)" in html  # the other language is offered too
    assert "{{customer_name}}" in html  # the placeholder reference


def test_template_change_reloads_the_fields_with_htmx_and_without_js(
    agent: User, case: Case, client_for: Callable[[User], Client]
) -> None:
    client = client_for(agent)
    english = reply_template("en")
    partial = client.get(
        f"/intake/cases/{case.pk}/reply/", {"partial": "fields", "template": english.pk}, headers={"HX-Request": "true"}
    )
    assert partial.status_code == 200
    html = partial.content.decode()
    assert 'id="reply-fields"' in html and "Your message: {{case_subject}}" in html and "<html" not in html
    # without JavaScript: the "Load template" button posts; the recipient typed stays
    loaded = client.post(
        f"/intake/cases/{case.pk}/reply/",
        {"action": "load", "template": english.pk, "to": "other@example.de", "subject": "old", "body": "old"},
    )
    html = loaded.content.decode()
    assert loaded.status_code == 200
    assert "Your message: {{case_subject}}" in html and 'value="other@example.de"' in html and ">old<" not in html


def test_preview_renders_placeholders_read_only_then_send_queues_and_mails(
    agent: User, case: Case, client_for: Callable[[User], Client], django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(agent)
    form = {
        "template": reply_template().pk,
        "to": "erika.muster@example.de",
        "subject": "Ihr Anliegen: {{case_subject}}",
        "body": "Guten Tag {{customer_name}},\n\nwir prüfen Ihr Anliegen {{case_reference}}.\n\n{{agent_name}}",
    }
    preview = client.post(f"/intake/cases/{case.pk}/reply/", {**form, "action": "preview"})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Guten Tag Erika Muster," in html and f"wir prüfen Ihr Anliegen {case.reference}." in html
    assert "Anna Agent" in html and f"Ihr Anliegen: Abschlag zu hoch [{case.reference}]" in html
    assert 'value="send"' in html and "<textarea" not in html  # read-only, with the Send button
    assert not mail.outbox

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"/intake/cases/{case.pk}/reply/", {**form, "action": "send"})
    assert sent.status_code == 302 and sent["Location"] == f"/cases/{case.pk}/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert case.reference in message.subject and message.to == ["erika.muster@example.de"]
    assert "Guten Tag Erika Muster," in message.body
    outbound = Interaction.objects.get(case=case, kind=InteractionKind.OUTBOUND_MESSAGE)
    assert outbound.delivery_status == DeliveryStatus.SENT and outbound.author == agent

    detail = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Reply queued" in detail
    assert 'class="badge delivery-status badge-ok">Sent</span>' in detail


def test_queued_reply_shows_its_delivery_status_on_the_timeline(
    agent: User, case: Case, client_for: Callable[[User], Client]
) -> None:
    replies.reply_queue(actor=agent, case=case, to="erika.muster@example.de", subject="Hallo", body="Text")
    html = client_for(agent).get(f"/cases/{case.pk}/").content.decode()
    assert 'class="badge delivery-status badge-muted">Queued</span>' in html


def test_unknown_placeholder_and_missing_recipient_give_400_and_keep_the_input(
    agent: User, case: Case, client_for: Callable[[User], Client]
) -> None:
    client = client_for(agent)
    typed = {"to": "erika.muster@example.de", "subject": "Betreff", "body": "Hallo {{kunden_name}}, mein eigener Text"}
    for action in ("preview", "send"):
        response = client.post(f"/intake/cases/{case.pk}/reply/", {**typed, "action": action})
        assert response.status_code == 400, action
        html = response.content.decode()
        assert "Hallo {{kunden_name}}, mein eigener Text" in html and "kunden_name" in html.split("error", 1)[1]
    missing = client.post(f"/intake/cases/{case.pk}/reply/", {**typed, "to": "", "body": "Mein Text", "action": "send"})
    assert missing.status_code == 400
    assert "Enter the recipient" in missing.content.decode() and "Mein Text" in missing.content.decode()
    assert not Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND_MESSAGE).exists()


def test_composer_respects_the_case_scope(
    make_user: Callable[..., User], case: Case, client_for: Callable[[User], Client]
) -> None:
    outsider = make_user("agent", teams=[Team.objects.create(name="Other team")])
    assert client_for(outsider).get(f"/intake/cases/{case.pk}/reply/").status_code == 404
    assert client_for(outsider).post(f"/intake/cases/{case.pk}/reply/", {"action": "send"}).status_code == 404


# --- reply templates ------------------------------------------------------------------------


def test_saving_a_template_creates_a_new_audited_version(process_owner: User, client_for: Callable[[User], Client]) -> None:
    client = client_for(process_owner)
    template = reply_template("en")
    page = client.get(f"/intake/templates/{template.pk}/").content.decode()
    assert "Your message: {{case_subject}}" in page and "Version 1" in page
    response = client.post(
        f"/intake/templates/{template.pk}/",
        {
            "action": "save",
            "name": "Reply (general)",
            "purpose": "reply",
            "case_type": "",
            "subject": "About your message {{case_reference}}",
            "body": "Dear {{customer_name}},\n\nthanks.",
            # key and language are fixed: posted values are ignored
            "key": "hijacked",
            "language": "de",
        },
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.key == "reply" and template.language == "en"
    assert list(template.versions.values_list("number", flat=True)) == [2, 1]
    assert template.versions.get(number=1).subject == "Your message: {{case_subject}}"  # never edited
    assert template.versions.get(number=2).created_by == process_owner
    event = AuditEvent.objects.filter(action="template.save", object_id=str(template.pk)).latest("id")
    assert event.actor == process_owner and event.after["version"] == 2
    page = client.get(f"/intake/templates/{template.pk}/").content.decode()
    assert "Version 2" in page and "Paul Process" in page
    old = client.get(f"/intake/templates/{template.pk}/versions/1/")
    assert old.status_code == 200 and "Your message: {{case_subject}}" in old.content.decode()
    assert "<textarea" not in old.content.decode()
    assert client.get(f"/intake/templates/{template.pk}/versions/9/").status_code == 404
    listing = client.get("/intake/templates/").content.decode()
    assert "<code>reply</code>" in listing


def test_german_and_english_variants_are_rows_with_the_same_key(
    process_owner: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(process_owner)
    base = {
        "action": "save",
        "key": "refund-approved",
        "purpose": "reply",
        "case_type": "",
        "subject": "{{case_reference}}",
        "body": "{{customer_name}}",
    }
    assert client.post("/intake/templates/new/", {**base, "language": "de", "name": "Erstattung"}).status_code == 302
    assert client.post("/intake/templates/new/", {**base, "language": "en", "name": "Refund"}).status_code == 302
    assert ReplyTemplate.objects.filter(key="refund-approved").count() == 2
    duplicate = client.post("/intake/templates/new/", {**base, "language": "en", "name": "Refund again"})
    assert duplicate.status_code == 400 and "exists already" in duplicate.content.decode()
    assert ReplyTemplate.objects.get(key="refund-approved", language="en").versions.count() == 1


def test_check_preview_and_refused_save_of_unknown_placeholders(
    process_owner: User, case: Case, client_for: Callable[[User], Client]
) -> None:
    client = client_for(process_owner)
    template = reply_template("de")
    typed = {
        "name": "Antwort",
        "purpose": "reply",
        "case_type": "",
        "subject": "Zu {{case_reference}}",
        "body": "Hallo {{customer_name}} {{vertragsnummer}}",
    }
    check = client.post(f"/intake/templates/{template.pk}/", {**typed, "action": "check"})
    assert check.status_code == 200 and "vertragsnummer" in check.content.decode().split("check-result", 1)[1]
    sample = client.post(f"/intake/templates/{template.pk}/", {**typed, "action": "preview"})
    assert sample.status_code == 200 and "Hallo Erika Mustermann" in sample.content.decode()
    real = client.post(f"/intake/templates/{template.pk}/", {**typed, "action": "preview", "preview_reference": case.reference})
    html = real.content.decode()
    assert real.status_code == 200 and f"Zu {case.reference}" in html and "Hallo Erika Muster " in html
    unknown_case = client.post(
        f"/intake/templates/{template.pk}/", {**typed, "action": "preview", "preview_reference": "LP-1999-999999"}
    )
    assert unknown_case.status_code == 400
    refused = client.post(f"/intake/templates/{template.pk}/", {**typed, "action": "save"})
    assert refused.status_code == 400
    assert "Hallo {{customer_name}} {{vertragsnummer}}" in refused.content.decode()
    assert template.versions.count() == 1


def test_template_can_be_deactivated_and_is_then_not_offered(
    process_owner: User, agent: User, case: Case, client_for: Callable[[User], Client]
) -> None:
    template = reply_template("en")
    response = client_for(process_owner).post(f"/intake/templates/{template.pk}/active/", {"is_active": "0"})
    assert response.status_code == 302
    template.refresh_from_db()
    assert not template.is_active
    assert AuditEvent.objects.filter(action="template.set_active", object_id=str(template.pk)).exists()
    assert "Reply (general) (English)" not in client_for(agent).get(f"/intake/cases/{case.pk}/reply/").content.decode()
    assert client_for(agent).post(f"/intake/templates/{template.pk}/active/", {"is_active": "1"}).status_code == 403


# --- mailboxes ------------------------------------------------------------------------------


def mailbox_form(**changes: Any) -> dict[str, Any]:
    data = {
        "name": "Beschwerden",
        "address": "beschwerde@stadtwerke.example",
        "host": "127.0.0.1",
        "port": "9",
        "use_ssl": "",
        "username": "beschwerde",
        "password": "Imap-Geheim-2026",
        "folder": "INBOX",
        "processed_folder": "",
        "default_case_type": CaseType.objects.get(key="complaint").pk,
        "default_team": "",
        "is_active": "on",
    }
    data.update(changes)
    return data


def test_mailbox_password_is_encrypted_audited_without_it_and_never_shown(
    admin_user: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(admin_user)
    response = client.post("/intake/mailboxes/new/", mailbox_form())
    assert response.status_code == 302
    mailbox = Mailbox.objects.get()
    assert mailbox.password_encrypted and "Imap-Geheim-2026" not in mailbox.password_encrypted
    assert decrypt_secret(mailbox.password_encrypted) == "Imap-Geheim-2026"
    for url in ("/intake/mailboxes/", f"/intake/mailboxes/{mailbox.pk}/"):
        html = client.get(url).content.decode()
        assert "Imap-Geheim-2026" not in html and mailbox.password_encrypted not in html
    event = AuditEvent.objects.get(action="mailbox.create")
    assert "Imap-Geheim" not in str(event.after) and event.after["password_set"] is True

    # empty password keeps the stored one; a new one replaces it
    assert client.post(f"/intake/mailboxes/{mailbox.pk}/", mailbox_form(password="", name="Neu")).status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.name == "Neu" and decrypt_secret(mailbox.password_encrypted) == "Imap-Geheim-2026"
    assert client.post(f"/intake/mailboxes/{mailbox.pk}/", mailbox_form(password="Anders-2027")).status_code == 302
    mailbox.refresh_from_db()
    assert decrypt_secret(mailbox.password_encrypted) == "Anders-2027"
    assert AuditEvent.objects.filter(action="mailbox.update").count() == 2


def test_mailbox_errors_keep_the_input_but_never_echo_the_password(
    admin_user: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(admin_user)
    client.post("/intake/mailboxes/new/", mailbox_form())
    again = client.post("/intake/mailboxes/new/", mailbox_form(name="Zweites Postfach"))
    html = again.content.decode()
    assert again.status_code == 400 and "already uses this address" in html
    assert 'value="Zweites Postfach"' in html and "Imap-Geheim-2026" not in html
    missing = client.post("/intake/mailboxes/new/", mailbox_form(address="neu@stadtwerke.example", password=""))
    assert missing.status_code == 400 and Mailbox.objects.count() == 1


def test_fetch_now_reports_the_result_as_a_message(admin_user: User, client_for: Callable[[User], Client]) -> None:
    client = client_for(admin_user)
    client.post("/intake/mailboxes/new/", mailbox_form())
    mailbox = Mailbox.objects.get()
    response = client.post(f"/intake/mailboxes/{mailbox.pk}/fetch/", follow=True)  # nothing listens on port 9
    html = response.content.decode()
    assert response.status_code == 200 and "0 imported" in html and "message-error" in html
    mailbox.refresh_from_db()
    assert mailbox.last_error and mailbox.last_fetch_at is not None
    assert mailbox.last_error[:30] in html


# --- quarantine and inbound log -------------------------------------------------------------


def test_quarantine_lists_downloads_and_reprocesses(admin_user: User, client_for: Callable[[User], Client]) -> None:
    client = client_for(admin_user)
    result = email_ingest(b"garbage", source="api")
    inbound = result.inbound
    assert inbound.status == InboundStatus.QUARANTINED
    listing = client.get("/intake/quarantine/").content.decode()
    assert f"/intake/inbound/{inbound.pk}/raw/" in listing and "unparseable" in listing
    assert f"/intake/inbound/{inbound.pk}/reprocess/" in listing

    raw = client.get(f"/intake/inbound/{inbound.pk}/raw/")
    assert raw.status_code == 200 and raw.content == b"garbage"
    assert raw["Content-Type"] == "message/rfc822" and raw["X-Content-Type-Options"] == "nosniff"
    assert raw["Content-Disposition"].startswith("attachment;")

    response = client.post(f"/intake/inbound/{inbound.pk}/reprocess/", follow=True)
    assert response.status_code == 200
    newer = InboundEmail.objects.exclude(pk=inbound.pk).get()
    inbound.refresh_from_db()
    assert inbound.reason.startswith(f"reprocessed as #{newer.pk}")
    assert newer.status == InboundStatus.QUARANTINED  # still garbage
    event = AuditEvent.objects.get(action="inbound_email.reprocess")
    assert event.actor == admin_user and event.after["new_inbound"] == newer.pk
    # the old record leaves the work list, the new attempt is in it; a second reprocess is refused
    listing = client.get("/intake/quarantine/").content.decode()
    assert f"/intake/inbound/{newer.pk}/reprocess/" in listing and f"/intake/inbound/{inbound.pk}/raw/" not in listing
    assert f"/intake/inbound/{inbound.pk}/raw/" in client.get("/intake/quarantine/?reprocessed=1").content.decode()
    again = client.post(f"/intake/inbound/{inbound.pk}/reprocess/", follow=True)
    assert "reprocessed already" in again.content.decode()
    assert InboundEmail.objects.count() == 2


def test_inbound_log_filters_by_status_and_pages(admin_user: User, client_for: Callable[[User], Client]) -> None:
    client = client_for(admin_user)
    email_ingest(b"garbage", source="api")
    auto = (
        b"From: robot@example.de\r\nTo: beschwerde@stadtwerke.example\r\nSubject: Abwesenheitsnotiz\r\n"
        b"Auto-Submitted: auto-replied\r\nMessage-ID: <auto-1@example.de>\r\n\r\nBin weg.\r\n"
    )
    email_ingest(auto, source="api")
    everything = client.get("/intake/inbound/").content.decode()
    assert "Abwesenheitsnotiz" in everything and "Quarantined" in everything
    only_auto = client.get("/intake/inbound/", {"status": "auto_reply"}).content.decode()
    assert "Abwesenheitsnotiz" in only_auto and "unparseable" not in only_auto
    assert client.get("/intake/inbound/", {"cursor": "not-a-cursor"}).status_code == 400


def test_quarantine_pages_with_a_cursor(admin_user: User, client_for: Callable[[User], Client], monkeypatch: Any) -> None:
    import re

    from leitplanke.intake import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    client = client_for(admin_user)
    ids = [email_ingest(b"garbage %d" % n, source="api").inbound.pk for n in range(3)]
    first = client.get("/intake/quarantine/").content.decode()
    assert f"/intake/inbound/{ids[2]}/raw/" in first and f"/intake/inbound/{ids[0]}/raw/" not in first
    next_url = re.search(r'rel="next" href="([^"]+)"', first)
    assert next_url is not None
    second = client.get("/intake/quarantine/" + next_url.group(1).replace("&amp;", "&")).content.decode()
    assert f"/intake/inbound/{ids[0]}/raw/" in second and f"/intake/inbound/{ids[2]}/raw/" not in second
    assert 'rel="next"' not in second


@pytest.mark.parametrize("url", ["/intake/inbound/", "/intake/quarantine/", "/intake/inbound/?status=quarantined"])
def test_inbound_lists_cost_the_same_number_of_queries_as_rows_grow(
    url: str, admin_user: User, client_for: Callable[[User], Client]
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(admin_user)
    email_ingest(b"garbage", source="api")
    client.get(url)  # warm up: session, organisation
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for n in range(8):
        email_ingest(b"garbage %d" % n, source="api")
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


def test_raw_download_and_reprocess_are_for_administrators_only(
    agent: User, process_owner: User, client_for: Callable[[User], Client]
) -> None:
    inbound = email_ingest(b"garbage", source="api").inbound
    for user in (agent, process_owner):
        assert client_for(user).get(f"/intake/inbound/{inbound.pk}/raw/").status_code == 403
        assert client_for(user).post(f"/intake/inbound/{inbound.pk}/reprocess/").status_code == 403
    assert InboundEmail.objects.count() == 1


# --- webhooks -------------------------------------------------------------------------------


def test_webhook_secret_is_shown_once_after_creation(admin_user: User, client_for: Callable[[User], Client]) -> None:
    client = client_for(admin_user)
    response = client.post(
        "/intake/webhooks/new/",
        {
            "url": "https://crm.example.org/hooks/leitplanke",
            "description": "CRM",
            "events": ["case.created", "message.received"],
            "allow_private_address": "",
        },
    )
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["case.created", "message.received"]
    first = client.get(response["Location"]).content.decode()
    assert endpoint.secret in first and "X-Leitplanke-Signature" in first
    second = client.get(response["Location"]).content.decode()
    assert endpoint.secret not in second
    assert endpoint.secret not in client.get("/intake/webhooks/").content.decode()
    assert AuditEvent.objects.filter(action="webhook.create", actor=admin_user).exists()


def test_webhook_validation_keeps_input(admin_user: User, client_for: Callable[[User], Client]) -> None:
    response = client_for(admin_user).post(
        "/intake/webhooks/new/", {"url": "https://user:pw@crm.example.org/h", "description": "Mein CRM", "events": []}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="Mein CRM"' in html and not WebhookEndpoint.objects.exists()


def test_webhook_can_be_deactivated_and_deliveries_redelivered(admin_user: User, client_for: Callable[[User], Client]) -> None:
    from leitplanke.intake.webhooks import webhook_endpoint_create

    client = client_for(admin_user)
    endpoint = webhook_endpoint_create(actor=None, url="https://crm.example.org/hook", events=["case.created"])
    failed = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="case.created",
        payload={"reference": "LP-1"},
        attempts=3,
        response_status=500,
        error="endpoint answered 500",
    )
    page = client.get(f"/intake/webhooks/{endpoint.pk}/").content.decode()
    assert "endpoint answered 500" in page and f"/deliveries/{failed.pk}/redeliver/" in page
    assert endpoint.secret not in page
    response = client.post(f"/intake/webhooks/{endpoint.pk}/deliveries/{failed.pk}/redeliver/")
    assert response.status_code == 302
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 2
    assert AuditEvent.objects.filter(action="webhook.redeliver", actor=admin_user).exists()

    saved = client.post(
        f"/intake/webhooks/{endpoint.pk}/",
        {"url": endpoint.url, "description": "", "events": ["case.created"], "allow_private_address": "", "is_active": ""},
    )
    assert saved.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.is_active is False
    other = WebhookEndpoint.objects.create(url="https://x.example.org/", events=["case.created"], secret="s")
    assert client.post(f"/intake/webhooks/{other.pk}/deliveries/{failed.pk}/redeliver/").status_code == 404


# --- review, reasons in words, the case page ------------------------------------------------


def _stranger_on(case: Case) -> bytes:
    return (
        f"From: Mallory <mallory@evil.example>\r\nTo: beschwerde@stadtwerke.example\r\n"
        f"Subject: Re: [{case.reference}] Adresse\r\nMessage-ID: <stranger-1@evil.example>\r\n\r\nBitte Adresse ändern.\r\n"
    ).encode()


def test_review_queue_says_why_in_the_readers_language_and_accepting_adds_the_message(
    admin_user: User, client_for: Callable[[User], Client], case: Case
) -> None:
    held = email_ingest(_stranger_on(case), source="api").inbound
    assert held.status == InboundStatus.REVIEW
    client = client_for(admin_user)
    english = client.get("/intake/quarantine/").content.decode()
    assert "mallory@evil.example" in english and "Re: [" in english and "Held for review" in english
    assert "the sender is not known on that case" in english and f"/intake/inbound/{held.pk}/accept/" in english
    assert f"/intake/inbound/{held.pk}/reprocess/" not in english
    admin_user.language = "de"
    admin_user.save(update_fields=["language"])
    german = client.get("/intake/quarantine/").content.decode()
    assert "Zur Prüfung zurückgehalten" in german and "der Absender ist dort nicht bekannt" in german
    response = client.post(f"/intake/inbound/{held.pk}/accept/", follow=True)
    assert response.status_code == 200 and "Die Nachricht wurde angenommen" in response.content.decode()
    held.refresh_from_db()
    assert held.status == InboundStatus.THREADED and held.case == case
    assert case.interactions.filter(kind="inbound_message", author_label__contains="mallory").exists()
    assert AuditEvent.objects.filter(action="inbound_email.accept", actor=admin_user).exists()
    again = client.post(f"/intake/inbound/{held.pk}/accept/", follow=True)
    assert "Nur zur Prüfung zurückgehaltene Nachrichten" in again.content.decode()


def test_accepting_needs_an_administrator(
    make_user: Callable[..., User], client_for: Callable[[User], Client], case: Case
) -> None:
    held = email_ingest(_stranger_on(case), source="api").inbound
    agent = make_user("agent")
    assert client_for(agent).post(f"/intake/inbound/{held.pk}/accept/").status_code == 403
    held.refresh_from_db()
    assert held.status == InboundStatus.REVIEW


def test_quarantine_says_why_in_words(admin_user: User, client_for: Callable[[User], Client]) -> None:
    email_ingest(b"\x00\x01 binary", source="api")
    listing = client_for(admin_user).get("/intake/quarantine/").content.decode()
    assert "This is not an e-mail: the data does not start with e-mail headers." in listing
    log = client_for(admin_user).get("/intake/inbound/").content.decode()
    assert "This is not an e-mail: the data does not start with e-mail headers." in log


def test_the_reply_composer_answers_the_reply_to_address(
    admin_user: User, client_for: Callable[[User], Client], case: Case
) -> None:
    raw = (
        b"From: erika.muster@example.de\r\nReply-To: Erika <erika.buero@example.org>\r\nTo: beschwerde@stadtwerke.example\r\n"
        + f"Subject: [{case.reference}] Nachtrag\r\nMessage-ID: <nachtrag-1@example.de>\r\n\r\nNoch etwas.\r\n".encode()
    )
    assert email_ingest(raw, source="api").status == InboundStatus.THREADED
    page = client_for(admin_user).get(f"/intake/cases/{case.pk}/reply/").content.decode()
    assert 'value="erika.buero@example.org"' in page
    detail = client_for(admin_user).get(f"/cases/{case.pk}/").content.decode()
    assert "Reply to: erika.buero@example.org" in detail


def test_the_case_page_shows_notes_and_risky_files_in_the_readers_language(
    admin_user: User, client_for: Callable[[User], Client]
) -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "Jens <jens@example.de>"
    msg["To"] = "beschwerde@stadtwerke.example"
    msg["Subject"] = "Unterlagen"
    msg.set_content("Sehr geehrte Damen und Herren, anbei die Unterlagen.")
    long_name = "Stellungnahme meines Anwalts zur Abrechnung vom 12. Januar 2026 mit allen Anlagen und Belegen.pdf"
    msg.add_attachment(b"MZ\x90\x00" + b"\x00" * 40, maintype="application", subtype="octet-stream", filename="tool.exe")
    msg.add_attachment(b"%PDF-1.4 x", maintype="application", subtype="pdf", filename=long_name)
    case = email_ingest(msg.as_bytes(), source="api").case
    client = client_for(admin_user)
    english = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Notes on the received e-mail" in english and "The message has no sending date" in english
    assert "download only" in english and "A program or script" in english
    assert f'title="{long_name}"' in english and "Stellungnahme meines Anwalts zur Abr…Anlagen und Belegen.pdf" in english
    admin_user.language = "de"
    admin_user.save(update_fields=["language"])
    german = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Hinweise zur empfangenen E-Mail" in german and "nur zum Herunterladen" in german
    download = client.get(f"/cases/{case.pk}/attachments/{case.attachments.get(original_name='tool.exe').pk}/")
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment;")
