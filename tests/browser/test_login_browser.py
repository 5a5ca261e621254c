"""A person logs in, switches the language to English and logs out again (Playwright, chromium)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from leitplanke.accounts.models import User

pytestmark = pytest.mark.browser


def test_login_switch_language_and_logout(
    page: Any, live_server: Any, login: Callable[..., None], make_user: Callable[..., User]
) -> None:
    from playwright.sync_api import expect

    user = make_user("agent", email="browser@example.org", name="Bettina Browser", language="de")
    login(page, user)

    # the start page, in German
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bettina")
    expect(page.get_by_role("button", name="DE", exact=True)).to_have_attribute("aria-pressed", "true")

    # switch to English
    page.get_by_role("button", name="EN", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="EN", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(page).to_have_url(f"{live_server.url}/")
    user.refresh_from_db()
    assert user.language == "en"

    # the user menu, in English
    logout = page.get_by_role("button", name="Log out")
    expect(logout).to_be_hidden()
    page.locator(".user-menu summary").click()
    expect(logout).to_be_visible()
    logout.click()

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
