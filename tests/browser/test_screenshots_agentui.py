"""Screenshots of the case page with the composer and of the list (German and English,
desktop 1280 and phone 390) for the issue's evidence. Run with LEITPLANKE_SCREENSHOTS=1;
they land in test-artifacts/."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from leitplanke.accounts.models import User

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("LEITPLANKE_SCREENSHOTS"), reason="set LEITPLANKE_SCREENSHOTS=1"),
]


def test_screenshots(page: Any, live_server: Any, login: Callable[..., None], make_user: Callable[..., User]) -> None:
    from playwright.sync_api import expect

    from leitplanke.accounts.models import Team
    from leitplanke.cases import services
    from leitplanke.customers import services as customers
    from tests.conftest import restore_reference_data

    restore_reference_data()
    team = Team.objects.create(name="Team Rhein")
    lead = make_user("team_lead", teams=[team], email="shots@example.org", name="Lena Lead", language="de")
    make_user("agent", teams=[team], email="anna-shots@example.org", name="Anna Agent")
    erika = customers.customer_create(
        actor=lead,
        salutation="ms",
        first_name="Erika",
        last_name="Mustermann",
        emails=["erika@example.org"],
        phones=["0221 123456"],
    )
    subjects = [
        "Abschlag nach Umzug zu hoch",
        "Zählerstand falsch übernommen",
        "Rechnung doppelt erhalten",
        "Kündigung nicht bestätigt",
    ]
    cases = [
        services.case_create(
            actor=lead,
            team=team,
            case_type="complaint",
            subject=f"{subjects[n % 4]} ({n})",
            channel="email",
            customer=erika if n % 3 == 2 else None,
        )
        for n in range(18)
    ]
    case = cases[-1]
    services.interaction_add(
        actor=None,
        case=case,
        kind="inbound_message",
        subject="Abschlag",
        channel="email",
        body_text="Guten Tag,\nmein Abschlag wurde nach dem Umzug verdoppelt. Bitte prüfen Sie das.\nErika Mustermann",
    )
    services.interaction_add(
        actor=lead, case=cases[-2], kind="outbound_message", body_text="Bitte senden Sie ein Zählerfoto.", channel="email"
    )
    services.case_transition(actor=lead, case=cases[-2], transition="wait")
    login(page, lead)
    os.makedirs("test-artifacts", exist_ok=True)
    for language in ("de", "en"):
        User.objects.filter(pk=lead.pk).update(language=language)
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{live_server.url}/cases/{case.pk}/")
            expect(page.locator("#composer textarea")).to_be_visible()
            page.screenshot(path=f"test-artifacts/case-composer-{language}-{width}.png", full_page=True)
            page.goto(f"{live_server.url}/cases/")
            page.locator("#case-results tbody input[name=ids]").nth(0).check()
            page.screenshot(path=f"test-artifacts/case-list-{language}-{width}.png", full_page=width == 390)
