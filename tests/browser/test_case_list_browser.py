"""The case list in a browser: filtering by a word and opening a case; custom-field filters."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

import pytest

from leitplanke.accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_filter_case_list_by_word_and_open_a_case(
    page: Any, live_server: Any, login: Callable[..., None], make_user: Callable[..., User]
) -> None:
    from django.apps import apps
    from playwright.sync_api import expect

    from leitplanke.cases import services

    # Transactional tests flush what data migrations created: case types back.
    importlib.import_module("leitplanke.cases.migrations.0003_default_case_types").forward(apps, None)
    meter = services.case_create(
        actor=None,
        case_type="complaint",
        subject="Zählerstand falsch übernommen",
        description="Der Zählerstand 4711 wurde geschätzt.",
        channel="email",
    )
    fee = services.case_create(
        actor=None,
        case_type="complaint",
        subject="Unexpected card fee",
        language="en",
        description="A foreign transaction fee was charged.",
        channel="web_form",
    )
    quality = make_user("quality_manager", email="list-browser@example.org", name="Lena List", language="en")
    login(page, quality)

    page.get_by_role("link", name="Cases", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cases")
    rows = page.locator("#case-results tbody tr")
    expect(rows).to_have_count(2)

    page.get_by_label("Search").fill("Zählerstand")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(meter.reference)
    expect(page.locator("#case-results")).not_to_contain_text(fee.reference)
    expect(page).to_have_url(re.compile(r"q=Z%C3%A4hlerstand|q=Zählerstand"))
    # The filtered rows arrive by htmx; a click while htmx still settles them can be lost.
    page.wait_for_load_state("networkidle")

    rows.first.get_by_role("link", name=meter.reference).click()
    expect(page).to_have_url(re.compile(rf"/cases/{meter.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Zählerstand falsch übernommen")


def test_filter_by_a_custom_field_range_after_choosing_the_case_type(
    page: Any, live_server: Any, login: Callable[..., None], make_user: Callable[..., User]
) -> None:
    """Choosing a case type shows its fields; a range filters; another type drops the old filter."""
    from django.apps import apps
    from playwright.sync_api import expect

    from leitplanke.cases import services
    from leitplanke.cases.models import CaseType, CustomFieldDefinition

    importlib.import_module("leitplanke.cases.migrations.0003_default_case_types").forward(apps, None)
    CustomFieldDefinition.objects.create(
        case_type=CaseType.objects.get(key="complaint"),
        key="amount_disputed",
        label_de="Strittiger Betrag",
        label_en="Disputed amount",
        kind="money",
    )
    cases = {
        amount: services.case_create(
            actor=None,
            case_type="complaint",
            subject=f"Betrag {amount}",
            channel="email",
            custom_fields={"amount_disputed": amount},
        )
        for amount in ("9.50", "10.00", "120.00")
    }
    quality = make_user("quality_manager", email="custom-fields@example.org", name="Lena List", language="en")
    login(page, quality)

    page.goto(f"{live_server.url}/cases/")
    page.get_by_text("More filters").click()
    page.get_by_label("Case type").focus()  # as a click or Tab would
    page.get_by_label("Case type").select_option("complaint")
    group = page.get_by_role("group", name="Additional fields")
    expect(group).to_be_visible()
    expect(page.get_by_label("Case type")).to_be_focused()

    group.get_by_label("from").fill("9,75")
    group.get_by_label("from").press("Tab")  # change → only the results are fetched again
    rows = page.locator("#case-results tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#case-results")).not_to_contain_text(cases["9.50"].reference)
    expect(page).to_have_url(re.compile(r"cf\.amount_disputed\.min=9%2C75"))

    page.get_by_label("Case type").select_option("inquiry")
    expect(page.get_by_role("group", name="Additional fields")).to_have_count(0)
    expect(page).not_to_have_url(re.compile(r"cf\."))
    expect(page.locator(".filter-error")).to_have_count(0)


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_list_fits_1280_px_and_a_phone_without_losing_a_column(
    page: Any, live_server: Any, login: Callable[..., None], make_user: Callable[..., User], language: str
) -> None:
    """Before: at 1280 px the last column (last activity) scrolled out of view. Now the
    table is no wider than its container, with long subjects, customer, team and user names;
    on a 390 px phone the page does not scroll sideways either."""
    from django.utils import timezone

    from leitplanke.accounts.models import Team
    from leitplanke.cases.models import Case
    from leitplanke.demo.cases import seed_demo_cases
    from tests.conftest import restore_reference_data

    restore_reference_data()
    seed_demo_cases(n=40)
    team = Team.objects.create(name="Abrechnung und Zahlungsverkehr Privatkunden")
    lead = make_user("team_lead", teams=[team], email="wide@example.org", name="Maximiliane Schnarrenberger-Osterkamp")
    lead.language = language
    lead.save(update_fields=["language"])
    Case.objects.update(team=team, responsible_user=lead, last_activity_at=timezone.now())
    Case.objects.filter(pk=Case.objects.order_by("-received_at").first().pk).update(
        subject="Abschlagszahlung nach Umzug in die Nachbarstraße deutlich zu hoch, Zählerstand nicht übernommen"
    )
    login(page, lead)
    page.goto(f"{live_server.url}/cases/?sort=received_desc")
    fits = "(w => w.scrollWidth <= w.clientWidth)(document.querySelector('.table-wrap'))"
    assert page.evaluate(fits), page.evaluate("document.querySelector('.table-wrap').scrollWidth")
    header = page.locator(".case-table thead th").last.bounding_box()
    assert header is not None and header["x"] + header["width"] <= 1280
    activity = "Last activity" if language == "en" else "Letzte Aktivität"
    assert activity in (page.locator(".case-table thead").text_content() or "")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/cases/?sort=received_desc")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    first = page.locator("#case-results tbody tr").first
    assert team.name in first.inner_text() and lead.full_name in first.inner_text()
