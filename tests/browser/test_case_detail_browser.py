"""An agent registers a case with the form, adds an internal note and starts work on it."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pytest

from leitplanke.accounts.models import Team, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_creates_case_adds_note_and_starts_work(
    page: Any, live_server: Any, login: Callable[..., None], make_user: Callable[..., User], settings: Any, tmp_path: Any
) -> None:
    from django.apps import apps
    from playwright.sync_api import expect

    settings.MEDIA_ROOT = tmp_path / "files"
    # Transactional tests flush what data migrations created: case types back.
    importlib.import_module("leitplanke.cases.migrations.0003_default_case_types").forward(apps, None)
    team = Team.objects.create(name="Energie-Service")
    agent = make_user("agent", email="case-browser@example.org", name="Carla Case", teams=[team], language="en")
    login(page, agent)

    # "New case" in the navigation opens the form
    page.get_by_role("link", name="New case").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New case")
    page.select_option("select[name=case_type]", label="Complaint")
    page.fill("input[name=subject]", "Abschlag nach Umzug zu hoch")
    page.fill("textarea[name=description]", "Kundin ist umgezogen, der Abschlag wurde nicht angepasst.")
    page.select_option("select[name=channel]", "phone")
    page.select_option("select[name=priority]", "3")
    page.fill("input[name=tags]", "Umzug, Abschlag")
    page.get_by_role("button", name="Create case").click()

    # the detail page of the new case
    expect(page).to_have_url(__import__("re").compile(r"/cases/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Abschlag nach Umzug zu hoch")
    expect(page.locator(".case-ref .reference")).to_contain_text("LP-")
    expect(page.locator(".case-ref .status")).to_have_text("Received")  # ISO 10002 complaint process

    # an internal note
    page.fill("#add-note textarea[name=body_text]", "Kundin um Zählerstand bei Einzug gebeten.")
    page.get_by_role("button", name="Add note").click()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Kundin um Zählerstand bei Einzug gebeten.")

    # start the investigation: the status changes and the change is on the timeline
    page.get_by_role("button", name="Start investigation").click()
    expect(page.locator(".case-ref .status")).to_have_text("Investigation")
    expect(timeline.locator(".kind-status_change")).to_contain_text("Investigation")
    expect(timeline.locator(".kind-internal_note")).to_contain_text("Zählerstand bei Einzug")
    # the next steps follow the process
    expect(page.get_by_role("button", name="Start investigation")).to_have_count(0)
    expect(page.get_by_role("button", name="Wait for customer")).to_be_visible()
