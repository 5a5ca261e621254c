"""The case cards on the start page: right figures per role, capped counts, fixed query count."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leitplanke.accounts.services import team_create
from leitplanke.cases import home
from leitplanke.cases.models import Case
from leitplanke.cases.services import case_create

pytestmark = pytest.mark.django_db

START = "/"


@pytest.fixture
def teams(db: Any) -> dict[str, Any]:
    return {"north": team_create(actor=None, name="North"), "south": team_create(actor=None, name="South")}


def _case(subject: str, *, team: Any = None, responsible: Any = None, received_at: dt.datetime | None = None) -> Case:
    return case_create(
        actor=None,
        case_type="complaint",
        subject=subject,
        channel="email",
        team=team,
        responsible_user=responsible,
        received_at=received_at,
    )


def _stat(html: str, title: str) -> str:
    """The figure shown on the card with this heading."""
    match = re.search(re.escape(title) + r'</h2>.*?<p class="stat">([^<]*)</p>', html, re.S)
    assert match, f"no card {title!r}"
    return match.group(1).strip()


def test_agent_sees_own_and_team_cases_but_never_another_teams(
    make_user: Callable[..., Any], client_for: Callable[..., Any], teams: dict[str, Any]
) -> None:
    agent = make_user("agent", teams=[teams["north"]])
    colleague = make_user("agent", teams=[teams["north"]])
    mine_old = _case("Mine, older", team=teams["north"], responsible=agent, received_at=timezone.now() - dt.timedelta(days=10))
    mine_new = _case("Mine, newer", team=teams["north"], responsible=agent)
    mine_closed = _case("Mine, closed", team=teams["north"], responsible=agent)
    Case.objects.filter(pk=mine_closed.pk).update(status_kind="closed")
    _case("Colleague's", team=teams["north"], responsible=colleague)
    _case("Nobody's", team=teams["north"])
    _case("Other team, unassigned", team=teams["south"])
    _case("Other team, colleague", team=teams["south"], responsible=colleague)

    html = client_for(agent).get(START).content.decode()

    assert _stat(html, "My open cases") == "2"
    # next due first: complaints start the internal first-response clock, so the older one is due first
    assert html.index("Mine, older") < html.index("Mine, newer")
    assert "Overdue" in html  # received ten days ago: the 8-business-hour first response has passed
    assert f'href="/cases/{mine_new.pk}/"' in html and mine_old.reference in html
    assert "Mine, closed" not in html
    assert '<span class="badge status-open">' in html
    assert _stat(html, "My teams' open cases") == "4"  # mine (2), colleague's, nobody's
    assert _stat(html, "Unassigned in my teams") == "1"
    assert "Other team" not in html
    assert "Received in the last 7 days" not in html
    assert f"/cases/?team={teams['north'].pk}&amp;status_kind=open&amp;status_kind=waiting" in html
    assert "responsible=none" in html
    assert "Your roles" in html and "Your teams" in html


def test_card_links_show_the_counted_cases(
    make_user: Callable[..., Any], client_for: Callable[..., Any], teams: dict[str, Any]
) -> None:
    agent = make_user("agent", teams=[teams["north"]])
    _case("Nobody's", team=teams["north"])
    _case("Mine", team=teams["north"], responsible=agent)
    client = client_for(agent)
    result = home.home_cases(actor=agent)
    assert result.team_unassigned is not None and result.my_open is not None
    for count, expected in ((result.team_unassigned, ["Nobody&#x27;s"]), (result.my_open, ["Mine"])):
        listed = client.get(count.url)
        assert listed.status_code == 200
        assert listed.context["count"].value == count.value == 1
        assert all(subject in listed.content.decode() for subject in expected)


def test_auditor_sees_the_seven_days_card_instead_of_team_cards(
    make_user: Callable[..., Any], client_for: Callable[..., Any], teams: dict[str, Any]
) -> None:
    auditor = make_user("auditor", teams=[teams["north"]])
    _case("New north", team=teams["north"])
    _case("New south", team=teams["south"])
    _case("Old", team=teams["south"], received_at=timezone.now() - dt.timedelta(days=10))

    html = client_for(auditor).get(START).content.decode()

    assert _stat(html, "Received in the last 7 days") == "2"
    assert "My teams' open cases" not in html and "Unassigned in my teams" not in html
    assert "My open cases" not in html  # read-only: never responsible for a case


def test_quality_manager_sees_own_cases_and_the_seven_days_card(
    make_user: Callable[..., Any], client_for: Callable[..., Any], teams: dict[str, Any]
) -> None:
    quality = make_user("quality_manager")
    _case("QM's own", team=teams["south"], responsible=quality)
    _case("Someone else's", team=teams["north"])
    html = client_for(quality).get(START).content.decode()
    assert _stat(html, "My open cases") == "1"
    assert _stat(html, "Received in the last 7 days") == "2"
    assert "QM&#x27;s own" in html and "Someone else&#x27;s" not in html


def test_user_without_case_access_sees_no_case_cards(make_user: Callable[..., Any], client_for: Callable[..., Any]) -> None:
    nobody = make_user(None)
    _case("Anything")
    html = client_for(nobody).get(START).content.decode()
    assert "My open cases" not in html and "Received in the last 7 days" not in html
    assert "Your roles" in html


def test_counts_are_capped(
    make_user: Callable[..., Any], client_for: Callable[..., Any], teams: dict[str, Any], monkeypatch: Any
) -> None:
    monkeypatch.setattr(home, "HOME_COUNT_CAP", 3)
    agent = make_user("agent", teams=[teams["north"]])
    for n in range(4):
        _case(f"Mine {n}", team=teams["north"], responsible=agent)
    _case("Nobody's", team=teams["north"])

    result = home.home_cases(actor=agent)
    assert result.my_open is not None and (result.my_open.value, result.my_open.capped) == (3, True)
    assert result.team_unassigned is not None and (result.team_unassigned.value, result.team_unassigned.capped) == (1, False)
    assert len(result.my_open_recent) == 4  # the list is limited by RECENT_LIMIT, not by the cap

    html = client_for(agent).get(START).content.decode()
    assert _stat(html, "My open cases") == "3+"
    assert _stat(html, "My teams' open cases") == "3+"
    assert _stat(html, "Unassigned in my teams") == "1"


def test_default_cap_shows_thousands_separator(
    make_user: Callable[..., Any], client_for: Callable[..., Any], monkeypatch: Any
) -> None:
    quality = make_user("quality_manager", language="de")
    monkeypatch.setattr(home, "HOME_COUNT_CAP", 1000)
    monkeypatch.setattr(
        home.list_selectors,
        "case_count_estimate",
        lambda **kwargs: home.list_selectors.CountEstimate(value=1000, capped=True),
    )
    html = client_for(quality).get(START, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '<p class="stat">1.000+</p>' in html


@pytest.mark.parametrize("role", ["agent", "auditor"])
def test_start_page_query_count_does_not_grow_with_cases(
    role: str, make_user: Callable[..., Any], client_for: Callable[..., Any], teams: dict[str, Any]
) -> None:
    user = make_user(role, teams=[teams["north"]])
    client = client_for(user)

    def queries() -> int:
        # A first request loads reference data changed since (roles, case types): count the second.
        client.get(START)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(START).status_code == 200
        return len(ctx.captured_queries)

    def add(n: int) -> None:
        for i in range(n):
            _case(f"Case {i}", team=teams["north"], responsible=user if role == "agent" and i % 2 else None)
            _case(f"Elsewhere {i}", team=teams["south"])

    add(3)
    small = queries()
    add(27)
    assert queries() == small
