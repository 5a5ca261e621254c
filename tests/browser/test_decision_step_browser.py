"""Decisions as steps of processes (issue 21): a process owner gives the step "acknowledge" of
the complaint process a decision step with the shipped routing table in the step's form (only
the table is asked for), publishes it, and an agent acknowledging a billing complaint sees it
handed to the billing team, with the decision step and its matched rule on the timeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from leitplanke.accounts.models import Team, User
from leitplanke.cases import services as case_services
from leitplanke.cases.models import Case, Category
from leitplanke.decisions.models import DecisionRecord
from leitplanke.processes.models import ProcessDefinition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_adds_a_routing_step_and_the_agent_acknowledges(
    browser: Any, page: Any, live_server: Any, login: Callable[[Any, User], None], make_user: Callable[..., User]
) -> None:
    from playwright.sync_api import expect

    owner = make_user("process_owner", language="en")
    billing = Team.objects.create(name="Billing")
    cards = Team.objects.create(name="Cards")
    agent = make_user("agent", teams=[billing, cards], language="en")

    login(page, owner)
    page.goto(f"{live_server.url}/settings/processes/complaint/1/")
    page.locator("form[action$='/new-draft/'] button").click()
    page.wait_for_url(f"{live_server.url}/settings/processes/complaint/2/")
    page.locator('a[data-step="acknowledge"]').click()
    page.wait_for_url(f"{live_server.url}/settings/processes/complaint/2/steps/acknowledge/")
    expect(page.locator("#id_effects-0-table")).to_be_hidden()
    page.locator("#id_effects-0-type").select_option("decide")
    expect(page.locator("#id_effects-0-table")).to_be_visible()
    expect(page.locator("#id_effects-0-clock")).to_be_hidden()
    page.locator("#id_effects-0-table").select_option("routing")
    page.locator("#save-step").click()
    page.wait_for_url(f"{live_server.url}/settings/processes/complaint/2/")
    assert "No problems" in page.locator("#problems").inner_text()
    page.locator("#publish").click()
    page.locator(".message-success", has_text="published").wait_for()
    published = ProcessDefinition.objects.get(key="complaint", version=2).definition
    acknowledge = next(t for t in published["transitions"] if t["key"] == "acknowledge")
    assert acknowledge["effects"] == [{"type": "decide", "table": "routing"}]

    case = case_services.case_create(
        actor=agent,
        case_type="complaint",
        subject="Jahresabrechnung zu hoch",
        channel="email",
        team=cards,
        category=Category.objects.get(key="billing"),
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    agent_page = context.new_page()
    agent_page.set_default_timeout(10_000)
    try:
        login(agent_page, agent)
        agent_page.goto(f"{live_server.url}/cases/{case.pk}/")
        agent_page.locator("form:has(input[name=transition][value=acknowledge]) button").click()
        agent_page.locator(".message-success", has_text="Status changed.").wait_for()
        agent_page.locator(".timeline-decision-step", has_text="Decision step: Routing by category").wait_for()
        assert "Billing and metering" in agent_page.locator("main").inner_text()
    finally:
        context.close()
    moved = Case.objects.get(pk=case.pk)
    assert (moved.status, moved.team_id) == ("acknowledged", billing.pk)
    assert DecisionRecord.objects.get(case=case).record_kind == "step"
