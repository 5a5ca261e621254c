"""Issue 23, task 6: bulk actions change nothing without an explicit choice, confirm what
will change for how many cases first, and offer only assignable users."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from leitplanke.cases.models import Case


@pytest.fixture
def lead(make_user: Callable[..., Any], team_a: Any) -> Any:
    return make_user("team_lead", teams=[team_a], name="Lena Lead")


@pytest.fixture
def two(make_case: Callable[..., Case], team_a: Any, lead: Any) -> list[Case]:
    return [make_case(team=team_a, responsible_user=lead, subject=f"Fall {n}") for n in range(2)]


def post(client: Any, cases: list[Case], **data: Any) -> Any:
    return client.post("/cases/bulk/", {"ids": [c.pk for c in cases], **data})


def test_no_default_action_and_no_silent_unassignment(lead: Any, two: list[Case], client_for: Callable[..., Any]) -> None:
    client = client_for(lead)
    for data in (
        {},  # no action
        {"action": "assign_responsible"},  # no one chosen: not "nobody"
        {"action": "assign_responsible", "responsible": "", "confirmed": "1"},
        {"action": "assign_team", "team": "", "confirmed": "1"},
        {"action": "transition", "transition": "", "confirmed": "1"},
    ):
        response = post(client, two, **data)
        assert response.status_code == 302, data
    for case in two:
        case.refresh_from_db()
        assert case.responsible_user == lead and case.status == "new" and case.version == 1


def test_confirmation_names_the_change_and_the_count_then_applies(
    lead: Any, two: list[Case], client_for: Callable[..., Any]
) -> None:
    client = client_for(lead)
    response = post(client, two, action="assign_responsible", responsible="none", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and "Remove the responsible person for 2 cases?" in html
    for case in two:
        case.refresh_from_db()
        assert case.responsible_user == lead  # nothing changed yet
    response = post(client, two, action="assign_responsible", responsible="none", confirmed="1")
    assert response.status_code == 200 and response.context["ok_count"] == 2
    for case in two:
        case.refresh_from_db()
        assert case.responsible_user is None


def test_only_assignable_users_are_offered_and_accepted(
    lead: Any, two: list[Case], client_for: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    auditor = make_user("auditor", name="Audrey Auditor")
    client = client_for(lead)
    page = client.get("/cases/").content.decode()
    bar = page.split('id="bulk-responsible"')[1].split("</select>")[0]
    assert "Lena Lead" in bar and "Audrey Auditor" not in bar
    response = post(client, two, action="assign_responsible", responsible=str(auditor.pk), confirmed="1")
    assert response.status_code == 302
    for case in two:
        case.refresh_from_db()
        assert case.responsible_user == lead
