"""An agent answers a customer by e-mail from the case page: template, preview, send,
and the outbound message with its delivery status on the timeline."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

import pytest

from leitplanke.accounts.models import Team, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_replies_with_the_general_template(
    page: Any, live_server: Any, login: Callable[..., None], make_user: Callable[..., User], settings: Any, tmp_path: Any
) -> None:
    from django.apps import apps
    from django.core import mail
    from playwright.sync_api import expect

    from leitplanke.cases.models import CaseType
    from leitplanke.cases.services import case_create
    from leitplanke.customers.services import customer_create

    settings.MEDIA_ROOT = tmp_path / "files"
    # Transactional tests flush what data migrations created: case types and templates back.
    importlib.import_module("leitplanke.cases.migrations.0003_default_case_types").forward(apps, None)
    importlib.import_module("leitplanke.intake.migrations.0002_default_templates").create(apps, None)
    team = Team.objects.create(name="Beschwerde-Team")
    agent = make_user("agent", email="reply-browser@example.org", name="Rita Reply", teams=[team], language="en")
    customer = customer_create(
        actor=None, kind="person", first_name="Erika", last_name="Muster", emails=["erika.muster@example.de"]
    )
    case = case_create(
        actor=None,
        case_type=CaseType.objects.get(key="complaint"),
        subject="Abschlag zu hoch",
        channel="email",
        customer=customer,
        team=team,
    )
    login(page, agent)

    # The separate reply page stays (the case page's composer is in test_agent_tasks_browser).
    page.goto(f"{live_server.url}/intake/cases/{case.pk}/reply/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reply by e-mail")
    expect(page.get_by_label("To")).to_have_value("erika.muster@example.de")

    # choosing a template reloads subject and text (htmx)
    page.get_by_label("Template").select_option(label="Reply (general) (English)")
    expect(page.get_by_label("Subject")).to_have_value("Your message: {{case_subject}}")
    body = page.get_by_label("Text")
    expect(body).to_have_value(re.compile(r"^\{\{salutation\}\},"))
    body.fill("Dear {{customer_name}},\n\nwe have corrected your instalment.\n\nKind regards\n{{agent_name}}")

    page.get_by_role("button", name="Preview").click()
    preview = page.locator(".reply-preview")
    expect(preview).to_contain_text("Dear Erika Muster,")
    expect(preview).to_contain_text(f"Your message: Abschlag zu hoch [{case.reference}]")
    expect(preview).to_contain_text("Rita Reply")

    page.get_by_role("button", name="Send").click()
    expect(page).to_have_url(f"{live_server.url}/cases/{case.pk}/")
    expect(page.locator(".messages")).to_contain_text("Reply queued")
    outbound = page.locator("#timeline .kind-outbound_message")
    expect(outbound).to_contain_text(f"Your message: Abschlag zu hoch [{case.reference}]")
    expect(outbound).to_contain_text("we have corrected your instalment.")
    expect(outbound.locator(".delivery-status")).to_have_text(re.compile("Sent|Queued"))
    assert len(mail.outbox) == 1 and case.reference in mail.outbox[0].subject
