"""A lead opens the approvals inbox, sends one decision back with a comment and approves
another; an administrator looks at the authority limits. Screenshots (German and English,
1280 and 390 px) with LEITPLANKE_SCREENSHOTS=docs/img/decisions."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from leitplanke.accounts.models import Role, Skill, Team, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("LEITPLANKE_SCREENSHOTS", "")


def shots(page: Any, user: User, url: str, name: str) -> None:
    """The page in both languages and both widths (only when screenshots are asked for)."""
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for language in ("de", "en"):
        User.objects.filter(pk=user.pk).update(language=language)
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(url)
            page.screenshot(path=f"{SHOTS}/{name}-{language}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_lead_sends_back_and_approves_admin_sees_limits(
    page: Any,
    live_server: Any,
    login: Callable[..., None],
    sign_out: Callable[[Any], None],
    make_user: Callable[..., User],
    settings: Any,
    tmp_path: Any,
) -> None:
    import importlib

    from django.apps import apps
    from playwright.sync_api import expect

    from leitplanke.cases import services as cases
    from leitplanke.cases.models import CaseType
    from leitplanke.customers.services import customer_create
    from leitplanke.decisions import approval_services, authority_services
    from leitplanke.decisions.models import ApprovalRequest, DecisionRecord

    settings.MEDIA_ROOT = tmp_path / "files"
    importlib.import_module("leitplanke.cases.migrations.0003_default_case_types").forward(apps, None)
    complaint = CaseType.objects.get(key="complaint")
    team = Team.objects.create(name="Energie-Service")
    agent = make_user("agent", email="jonas@example.org", name="Jonas Becker", teams=[team])
    lead = make_user("team_lead", email="miriam@example.org", name="Miriam Schulz", teams=[team])
    admin = make_user("administrator", email="anna@example.org", name="Anna Admin")
    Team.objects.filter(pk=team.pk).update(lead=lead)
    roles = {role.key: role for role in Role.objects.all()}
    skill = Skill.objects.create(key="goodwill_l2", name_de="Kulanz Stufe 2", name_en="Goodwill level 2", kind="qualification")
    for role, kind, amount, year in [
        ("agent", "goodwill", "100", "300"),
        ("agent", "redress", "250", None),
        ("team_lead", "goodwill", "1000", "3000"),
        ("administrator", "goodwill", "5000", None),
    ]:
        authority_services.authority_limit_create(
            actor=admin, role=roles[role], kind=kind, currency="EUR", per_decision=amount, per_customer_year=year
        )
    authority_services.authority_limit_create(
        actor=admin, role=roles["agent"], kind="goodwill", currency="EUR", skill=skill, min_level=2, per_decision="250"
    )
    authority_services.authority_limit_create(
        actor=admin, user=agent, kind="redress", currency="EUR", per_decision="500", per_customer_year="1000"
    )
    customer = customer_create(actor=admin, first_name="Erika", last_name="Mustermann")
    approvals = []
    for subject, amount, low, high in [
        ("Abschlag nach Umzug zu hoch", "180", "40", "90"),
        ("Zählerstand falsch abgelesen – Nachzahlung", "420", "150", "300"),
    ]:
        case = cases.case_create(actor=agent, case_type=complaint, subject=subject, channel="email", team=team, customer=customer)
        record = DecisionRecord.objects.create(
            case=case, kind="goodwill", amount=Decimal(amount), currency="EUR", status="pending", decided_by=agent,
            decided_at=timezone.now(), recommended_min=Decimal(low), recommended_max=Decimal(high), deviates=True,
            justification="Kunde seit 12 Jahren, dritte Beschwerde wegen desselben Fehlers.", team=team,
        )  # fmt: skip
        approvals.append(
            approval_services.approval_request_open(record=record, reasons=["above_authority", "deviation"], actor=agent)
        )

    login(page, lead)
    # The decider's case shows who is asked and by when (the panel arrives by htmx).
    page.goto(f"{live_server.url}/cases/{approvals[0].record.case_id}/")
    expect(page.locator("#decisions .approval-due")).to_contain_text(re.compile("Approval due|Freigabe fällig"))
    page.goto(f"{live_server.url}/")
    expect(page.locator("#main-nav .nav-count")).to_have_text("2")  # the badge: two wait on the lead
    page.get_by_role("link", name="Freigaben").or_(page.get_by_role("link", name="Approvals")).first.click()
    inbox = f"{live_server.url}/decisions/approvals/"
    expect(page.locator(f"#approval-{approvals[0].pk}")).to_contain_text("180.00 EUR")
    shots(page, lead, inbox, "approvals-inbox")
    User.objects.filter(pk=lead.pk).update(language="en")
    page.goto(inbox)
    first = page.locator(f"#approval-{approvals[0].pk}")
    first.get_by_role("button", name="Send back").click()
    expect(page.locator(f"#approval-{approvals[0].pk}")).to_contain_text("needs a reason")
    page.locator(f"#approval-{approvals[0].pk}").get_by_label("Comment").fill("Bitte erst die Abrechnung prüfen lassen.")
    page.locator(f"#approval-{approvals[0].pk}").get_by_role("button", name="Send back").click()
    expect(page.locator(".messages")).to_contain_text("was sent back")
    page.locator(f"#approval-{approvals[1].pk}").get_by_role("button", name="Approve").click()
    expect(page.locator(".messages")).to_contain_text("was approved")
    expect(page.locator(".approval-list")).to_contain_text("Nothing waits for your approval.")
    expect(page.locator("#main-nav .nav-count")).to_have_count(0)  # nothing left: no badge
    assert [a.status for a in ApprovalRequest.objects.order_by("pk")] == ["sent_back", "approved"]
    page.goto(f"{live_server.url}/cases/{approvals[0].record.case_id}/")
    expect(page.locator("#timeline")).to_contain_text("was sent back")
    expect(page.locator("#timeline")).to_contain_text("Bitte erst die Abrechnung prüfen lassen.")

    sign_out(page)
    login(page, admin)
    page.goto(f"{live_server.url}/settings/authority/")
    expect(page.locator("table").first).to_contain_text("1,000.00 EUR")
    shots(page, admin, f"{live_server.url}/settings/authority/", "authority-limits")
    sign_out(page)
    login(page, agent)
    shots(page, agent, f"{live_server.url}/decisions/my-authority/", "my-authority")
