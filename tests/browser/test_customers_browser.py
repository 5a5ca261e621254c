"""A case worker creates a customer with the form, finds it with the live search and
opens its page; a team lead reveals a vulnerability reason (which is audited); a case
worker ends a contract after a refused end date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from leitplanke.accounts.models import Team, User
from leitplanke.core.models import AuditEvent
from leitplanke.customers import services
from leitplanke.customers.models import Customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _user(make_user: Callable[..., User], role: str) -> User:
    team, _ = Team.objects.get_or_create(name="Team Browser")
    return make_user(role, teams=[team], language="en")


def test_create_find_and_open_a_customer(
    page: Any, live_server: Any, login: Callable[[Any, User], None], make_user: Callable[..., User]
) -> None:
    agent = _user(make_user, "agent")
    login(page, agent)

    page.locator("#main-nav a[href='/customers/']").click()
    page.locator("main a[href='/customers/new/']").click()
    page.locator("#id_first_name").fill("Erika")
    page.locator("#id_last_name").fill("Mustermann")
    page.locator("#id_emails").fill("Erika@Example.org")
    page.locator("#id_phones").fill("0221 123456")
    page.locator("#id_city").fill("Köln")
    page.locator("main form button[type=submit].primary").click()
    customer = Customer.objects.get()
    page.wait_for_url(f"{live_server.url}/customers/{customer.pk}/")
    assert page.locator(".message-success").count() == 1
    assert page.locator("main").get_by_text("+49221123456").count() == 1

    # Live search (htmx) finds it by a name prefix without a page reload.
    page.goto(f"{live_server.url}/customers/")
    page.locator("#customer-q").fill("muster")
    page.wait_for_url(f"{live_server.url}/customers/?q=muster")
    link = page.locator("#customer-results table.responsive a", has_text="Mustermann, Erika")
    link.wait_for()
    link.click()
    page.wait_for_url(f"{live_server.url}/customers/{customer.pk}/")
    assert page.locator("h1", has_text="Mustermann, Erika").count() == 1
    assert page.locator("#vulnerability-panel").count() == 0


def test_lead_reveals_the_vulnerability_reason(
    page: Any, live_server: Any, login: Callable[[Any, User], None], make_user: Callable[..., User]
) -> None:
    lead = _user(make_user, "team_lead")
    customer = services.customer_create(
        actor=lead, last_name="Sorgfalt", is_vulnerable=True, vulnerability_reason="Recently bereaved"
    )
    login(page, lead)
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    panel = page.locator("#vulnerability-panel")
    assert "Recently bereaved" not in panel.inner_text()
    panel.get_by_role("button").click()
    page.locator("#vulnerability-panel", has_text="Recently bereaved").wait_for()
    assert AuditEvent.objects.filter(action="customer.vulnerability_view", actor=lead).count() == 1


def test_a_case_worker_ends_a_contract_and_a_wrong_date_is_refused_in_german(
    page: Any, live_server: Any, login: Callable[[Any, User], None], make_user: Callable[..., User]
) -> None:
    team, _ = Team.objects.get_or_create(name="Team Browser")
    agent = make_user("agent", teams=[team], language="de")
    admin = make_user("administrator")
    product = services.product_create(actor=admin, code="strom-basis", name_de="Strom Basis", name_en="Electricity Basic")
    customer = services.customer_create(actor=agent, last_name="Vertrag")
    contract = services.contract_create(
        actor=agent, customer=customer, product=product, contract_number="V-1", starts_on=dt.date(2025, 1, 1)
    )
    login(page, agent)
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    row = page.locator("tr", has_text="V-1")

    # An end before the start: the page says why, in German, and keeps the date typed.
    row.locator("summary").click()
    row.locator("input[type=date]").fill("2024-12-31")
    row.locator("button[type=submit]").click()
    row = page.locator("tr", has_text="V-1")
    row.get_by_text("Das Ende darf nicht vor dem Beginn liegen.").wait_for()
    assert row.locator("input[type=date]").input_value() == "2024-12-31"
    contract.refresh_from_db()
    assert contract.status == "active" and contract.ends_on is None

    row.locator("input[type=date]").fill("2026-06-30")
    row.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/customers/{customer.pk}/")
    assert page.locator(".message-success").count() == 1
    contract.refresh_from_db()
    assert contract.status == "ended" and contract.ends_on == dt.date(2026, 6, 30)
    assert page.locator("tr", has_text="V-1").locator("form").count() == 0
    assert AuditEvent.objects.filter(action="contract.end", actor=agent).count() == 1


def test_a_quality_manager_merges_a_duplicate_and_its_case_records_it(
    page: Any, live_server: Any, login: Callable[[Any, User], None], make_user: Callable[..., User]
) -> None:
    from leitplanke.cases import services as case_services
    from leitplanke.cases.models import CaseType

    quality = _user(make_user, "quality_manager")
    survivor = services.customer_create(actor=quality, last_name="Bleibt", emails=["bleibt@example.org"])
    duplicate = services.customer_create(actor=quality, last_name="Doppelt", customer_number="K-0000099")
    case = case_services.case_create(
        actor=quality, case_type=CaseType.objects.get(key="complaint"), subject="Abschlag", channel="email", customer=duplicate
    )
    login(page, quality)
    page.goto(f"{live_server.url}/customers/{survivor.pk}/")
    page.locator("main a", has_text="Merge a duplicate").click()
    page.locator("#id_duplicate_number").fill("K-0000099")
    page.locator("main form button[type=submit].primary").click()
    page.get_by_text("1 case", exact=True).wait_for()
    page.locator("main form button[type=submit].primary", has_text="Merge now").click()
    page.wait_for_url(f"{live_server.url}/customers/{survivor.pk}/")
    assert page.locator(".message-success").count() == 1
    assert page.locator("main a", has_text=case.reference).count() == 1

    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.get_by_text("The customer's duplicate record was merged into this one.").wait_for()
    assert AuditEvent.objects.filter(action="case.update", object_id=str(case.pk), actor=quality).count() == 1
