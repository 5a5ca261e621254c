"""An administrator sets up a team and a user entirely in the app's own UI (no Django admin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from leitplanke.accounts.models import Team, User
from leitplanke.core.models import AuditEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_creates_a_team_and_a_user(
    page: Any, live_server: Any, login: Callable[[Any, User], None], admin_user: User
) -> None:
    login(page, admin_user)

    # The administration is reachable from the main navigation.
    page.locator("#main-nav a[href='/settings/']").click()
    page.locator("main a[href='/settings/teams/']").click()
    page.locator("main a[href='/settings/teams/new/']").click()
    page.locator("#id_name").fill("Browser-Team")
    page.locator("#id_description").fill("Angelegt im Browser")
    page.locator("#id_email").fill("browser-team@example.org")
    page.locator("main form button[type=submit].primary").click()
    page.wait_for_url(f"{live_server.url}/settings/teams/")
    assert page.locator(".message-success").count() == 1
    assert page.locator("table.responsive td a", has_text="Browser-Team").count() == 1

    page.goto(f"{live_server.url}/settings/users/")
    page.locator("main a[href='/settings/users/new/']").click()
    page.locator("#id_email").fill("bruno.browser@example.org")
    page.locator("#id_full_name").fill("Bruno Browser")
    page.locator("#id_language").select_option("en")
    page.locator("label", has_text="Browser-Team").locator("input[type=checkbox]").check()
    page.locator(f"input[name=roles][value='{_role_pk('agent')}']").check()
    page.locator("#id_password").fill("Browser-Passwort-2026!")
    page.locator("main form button[type=submit].primary").click()
    page.wait_for_url(f"{live_server.url}/settings/users/*/")
    assert page.locator("h1", has_text="Bruno Browser").count() == 1

    page.goto(f"{live_server.url}/settings/users/?q=Bruno")
    row = page.locator("table.responsive tbody tr", has_text="Bruno Browser")
    assert row.count() == 1
    assert "Browser-Team" in row.inner_text()

    user = User.objects.get(email="bruno.browser@example.org")
    assert list(user.teams.values_list("name", flat=True)) == ["Browser-Team"]
    assert Team.objects.get(name="Browser-Team").email == "browser-team@example.org"
    assert AuditEvent.objects.filter(action="user.create", object_id=str(user.pk)).exists()
    assert AuditEvent.objects.filter(action="team.create").exists()


def _role_pk(key: str) -> int:
    from leitplanke.accounts.models import Role

    return Role.objects.get(key=key).pk
