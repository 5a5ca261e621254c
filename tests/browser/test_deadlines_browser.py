"""An agent sees the deadlines of a payment complaint, opens the explanation and records a
holding reply; the due time moves to the extended period."""

from __future__ import annotations

import datetime as dt
import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from leitplanke.accounts.models import Team, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("LEITPLANKE_SCREENSHOTS", "")


def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_agent_reads_the_explanation_and_records_a_holding_reply(
    page: Any, live_server: Any, login: Callable[..., None], make_user: Callable[..., User], settings: Any, tmp_path: Any
) -> None:
    from django.apps import apps
    from playwright.sync_api import expect

    from leitplanke.cases import services
    from leitplanke.cases.models import CaseType

    settings.MEDIA_ROOT = tmp_path / "files"
    importlib.import_module("leitplanke.cases.migrations.0003_default_case_types").forward(apps, None)
    complaint = CaseType.objects.get(key="complaint")
    complaint.deadline_rules = ["psd2_de", "internal_first_response"]
    complaint.save()
    team = Team.objects.create(name="Zahlungsverkehr")
    agent = make_user("agent", email="deadline-browser@example.org", name="Dana Deadline", teams=[team], language="en")
    case = services.case_create(
        actor=agent, case_type=complaint, subject="Kartenzahlung doppelt abgebucht", description="Zweimal 49,90 €.",
        channel="email", team=team, received_at=timezone.now() - dt.timedelta(days=3),
    )  # fmt: skip
    login(page, agent)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    panel = page.locator("#deadlines")
    expect(panel).to_contain_text("PSD2 payment complaint (Germany)")
    expect(panel).to_contain_text("ZAG § 62")
    expect(panel.locator(".badge-danger")).to_contain_text("Overdue")  # the 8-hour first response
    psd2 = panel.locator("[data-rule=psd2_de]")
    expect(psd2).to_contain_text("business days left")
    psd2.locator("summary").click()
    expect(psd2.locator(".clock-explanation ol")).to_contain_text("Day one:")
    expect(psd2.locator(".clock-explanation ol")).to_contain_text("Not counted:")
    shot(page, "deadlines-panel-explanation")
    before = psd2.locator("time").first.get_attribute("datetime")
    psd2.get_by_role("button", name="Record holding reply").click()
    expect(page.locator("#timeline")).to_contain_text("Deadline extended: psd2_de (holding_reply)")
    psd2 = page.locator("#deadlines [data-rule=psd2_de]")
    assert psd2.locator("time").first.get_attribute("datetime") > before
    expect(psd2.get_by_role("button", name="Record holding reply")).to_have_count(0)
    shot(page, "deadlines-panel-after-holding-reply")
