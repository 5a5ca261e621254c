"""Carried decision spaces in the browser: an agent decides within their authority (final, no
approval); the same agent exceeds it and the lead approves in the inbox; the lead reverses a
decision and the agent sees the justification. Screenshots of the case's decision panel (German
and English, 1280 and 390 px wide) go to docs/img/decisions/."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from leitplanke.accounts.models import Role, Team, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img" / "decisions"


def _world(make_user: Callable[..., User], language: str = "en") -> dict[str, Any]:
    from django.apps import apps

    from leitplanke.cases import services as case_services
    from leitplanke.cases.models import CaseType
    from leitplanke.customers.models import Customer
    from leitplanke.decisions.models import AuthorityLimit
    from tests.decisions.tables import publish_shipped_tables

    importlib.import_module("leitplanke.cases.migrations.0003_default_case_types").forward(apps, None)
    publish_shipped_tables()
    team = Team.objects.create(name="Energie-Service")
    agent = make_user("agent", email=f"decider-{language}@example.org", name="Anna Agent", teams=[team], language=language)
    lead = make_user("team_lead", email=f"lead-{language}@example.org", name="Lena Lead", teams=[team], language=language)
    team.lead = lead
    team.save()
    for role, amount in (("agent", 100), ("team_lead", 1000)):
        AuthorityLimit.objects.create(role=Role.objects.get(key=role), kind="goodwill", currency="EUR", per_decision=amount)
    customer = Customer.objects.create(
        customer_number=f"K-{language}", display_name="Erika Muster", segment="private",
        customer_since=dt.date.today() - dt.timedelta(days=365 * 12 + 10),
    )  # fmt: skip

    def complaint(subject: str) -> Any:
        return case_services.case_create(
            actor=None, case_type=CaseType.objects.get(key="complaint"), subject=subject,
            description="Die Jahresabrechnung ist zu hoch.", channel="email", team=team, customer=customer,
        )  # fmt: skip

    return {"agent": agent, "lead": lead, "complaint": complaint}


def _recommend(page: Any, url: str, disputed: str, labels: dict[str, str]) -> Any:
    from playwright.sync_api import expect

    page.goto(url)
    panel = page.locator("#decisions")
    expect(panel.locator("select[name=table]")).to_be_visible()
    # The panel arrives by htmx; a change fired before htmx has bound the new select is lost.
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => !document.querySelector('#decisions.htmx-settling, #decisions .htmx-settling')")
    panel.locator("select[name=table]").select_option("goodwill_energy_billing")
    expect(panel.locator("input[name=ctx_disputed_amount]")).to_be_visible()
    panel.locator("input[name=ctx_disputed_amount]").fill(disputed)
    panel.get_by_role("button", name=labels["recommend"]).click()
    expect(panel.locator(".recommendation")).to_be_visible()
    return panel


EN = {"recommend": "Get recommendation", "decide": "Decide"}
DE = {"recommend": "Empfehlung abrufen", "decide": "Entscheiden"}


def test_decide_within_authority_exceed_it_approve_and_reverse(
    browser: Any, page: Any, live_server: Any, login: Callable[..., None], make_user: Callable[..., User]
) -> None:
    from playwright.sync_api import expect

    world = _world(make_user)
    first, second = world["complaint"]("Rechnung zu hoch"), world["complaint"]("Abschlag falsch")
    login(page, world["agent"])

    # Within authority: the recommendation with its rationale and rule, "my authority", then final.
    panel = _recommend(page, f"{live_server.url}/cases/{first.pk}/", "300", EN)
    expect(panel.locator(".recommended-amount")).to_contain_text("45.00 EUR")
    expect(panel.locator(".rationale")).to_contain_text("Long customer relationship")
    expect(panel.locator(".matched-rule")).to_contain_text("loyal")
    expect(panel.locator(".my-authority")).to_contain_text("up to 100.00 EUR per decision")
    expect(panel.locator("input[name=amount]")).to_have_value("45.00")
    panel.get_by_role("button", name="Decide").click()
    expect(page.locator("#decisions")).to_contain_text("The decision is final.")
    expect(page.locator("#decisions .decision-record").first).to_contain_text("Final (within authority)")

    # Outside the range without a justification: refused, the amount kept, nothing saved.
    panel = _recommend(page, f"{live_server.url}/cases/{second.pk}/", "1000", EN)
    expect(panel.locator(".recommended-amount")).to_contain_text("150.00 EUR")
    panel.locator("input[name=amount]").fill("300")
    panel.get_by_role("button", name="Decide").click()
    expect(page.locator("#decisions .has-error")).to_contain_text("Outside the recommended range")
    expect(page.locator("#decisions input[name=amount]")).to_have_value("300")
    # Above the agent's authority (within the range): it waits for the lead.
    page.locator("#decisions input[name=amount]").fill("150")
    page.locator("#decisions").get_by_role("button", name="Decide").click()
    expect(page.locator("#decisions")).to_contain_text("The decision awaits approval.")
    expect(page.locator("#decisions .decision-record").first).to_contain_text("Awaiting approval by Lena Lead")

    # The lead approves in the inbox, and reverses the first decision with a justification.
    lead_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    lead_page = lead_context.new_page()
    lead_page.set_default_timeout(10_000)
    login(lead_page, world["lead"])
    lead_page.goto(f"{live_server.url}/decisions/approvals/")
    lead_page.get_by_role("button", name="Approve").click()
    lead_page.goto(f"{live_server.url}/cases/{second.pk}/")
    expect(lead_page.locator("#decisions .decision-record").first).to_contain_text("Approved by Lena Lead")
    lead_page.goto(f"{live_server.url}/cases/{first.pk}/")
    reverse = lead_page.locator("#decisions details.reverse-decision")
    reverse.locator("summary").click()
    reverse.locator("textarea[name=justification]").fill("Die Abrechnung war korrekt; wir erklären sie statt Kulanz.")
    reverse.get_by_role("button", name="Reverse").click()
    expect(lead_page.locator("#decisions")).to_contain_text("The decision was reversed")
    lead_context.close()

    # The agent sees the reversal, who made it and why — on the panel and the timeline.
    page.goto(f"{live_server.url}/cases/{first.pk}/")
    record = page.locator("#decisions .decision-record[data-status=reversed]")
    expect(record).to_contain_text("Reversed by Lena Lead")
    expect(record).to_contain_text("Die Abrechnung war korrekt")
    expect(page.locator("#timeline")).to_contain_text("Decision reversed")
    expect(page.locator("#timeline")).to_contain_text("Die Abrechnung war korrekt")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("#decisions").screenshot(path=str(SHOTS / "case-panel-records-en-1280.png"))


@pytest.mark.parametrize(("language", "labels"), [("en", EN), ("de", DE)])
def test_panel_screenshots(
    browser: Any, live_server: Any, login: Callable[..., None], make_user: Callable[..., User], language: str, labels: dict
) -> None:
    from playwright.sync_api import expect

    world = _world(make_user, language)
    case = world["complaint"]("Jahresabrechnung zu hoch")
    for width in (1280, 390):
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="de-DE" if language == "de" else "en-GB")
        page = context.new_page()
        page.set_default_timeout(10_000)
        login(page, world["agent"])
        panel = _recommend(page, f"{live_server.url}/cases/{case.pk}/", "300", labels)
        panel.locator("input[name=amount]").fill("120")
        panel.get_by_role("button", name=labels["decide"]).click()
        expect(page.locator("#decisions .has-error")).to_be_visible()  # justification shown as required
        page.locator("#decisions").screenshot(path=str(SHOTS / f"case-panel-{language}-{width}.png"))
        context.close()
