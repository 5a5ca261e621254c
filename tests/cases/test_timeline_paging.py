"""The case timeline is paged (issue 19, item 12): the newest 25 entries, then "load older
entries" (htmx, keyset on (occurred_at, id)); the page costs the same however long the
case's history is."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leitplanke.accounts.models import Team, User
from leitplanke.cases.models import Case, Interaction, InteractionKind

pytestmark = pytest.mark.django_db


def add_notes(case: Case, count: int, *, start: int = 0) -> None:
    base = timezone.now() - dt.timedelta(days=10)
    Interaction.objects.bulk_create(
        Interaction(
            case=case,
            kind=InteractionKind.INTERNAL_NOTE,
            occurred_at=base + dt.timedelta(minutes=n),
            body_text=f"Notiz Nummer {n:04d}.",
            is_internal=True,
        )
        for n in range(start, start + count)
    )


def notes_in(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"Notiz Nummer (\d{4})\.", html)]


def more_link(html: str) -> str:
    match = re.search(r'hx-get="([^"]+/timeline/\?cursor=[^"]+)"', html)
    return match.group(1).replace("&amp;", "&") if match else ""


@pytest.fixture
def agent(make_user: Callable[..., User], team_a: Team) -> User:
    return make_user("agent", teams=[team_a])


def test_the_case_page_shows_the_newest_25_and_loads_older_ones(
    agent: User, team_a: Team, make_case: Callable[..., Case], client_for: Callable[[User], Client]
) -> None:
    case = make_case(team=team_a)
    add_notes(case, 60)
    client = client_for(agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    # newest first, 25 entries: the registration (now) and the 24 newest notes
    assert notes_in(page) == list(range(59, 35, -1)) and "kind-system" in page
    url = more_link(page)
    assert url
    second = client.get(url, headers={"HX-Request": "true"})
    assert second.status_code == 200 and "<html" not in second.content.decode()
    assert notes_in(second.content.decode()) == list(range(35, 10, -1))
    third = client.get(more_link(second.content.decode()), headers={"HX-Request": "true"}).content.decode()
    assert notes_in(third) == list(range(10, -1, -1))
    assert more_link(third) == ""  # 61 entries: 25 + 25 + 11, nothing left
    # without JavaScript the link opens a page of its own
    plain = client.get(url)
    assert plain.status_code == 200 and "<html" in plain.content.decode()


def test_the_page_costs_the_same_with_a_long_history(
    agent: User, team_a: Team, make_case: Callable[..., Case], client_for: Callable[[User], Client]
) -> None:
    case = make_case(team=team_a)
    add_notes(case, 30)
    client = client_for(agent)
    client.get(f"/cases/{case.pk}/")

    def queries_and_size() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/cases/{case.pk}/")
        return len(queries), len(response.content)

    few, small = queries_and_size()
    add_notes(case, 500, start=1000)
    many, large = queries_and_size()
    assert many == few
    assert large < small * 1.2


def test_older_entries_only_for_who_sees_the_case(
    make_user: Callable[..., User],
    team_a: Team,
    make_case: Callable[..., Case],
    client_for: Callable[[User], Client],
    agent: User,
) -> None:
    case = make_case(team=team_a)
    outsider = client_for(make_user("agent"))
    assert outsider.get(f"/cases/{case.pk}/timeline/").status_code == 404
    assert client_for(agent).get(f"/cases/{case.pk}/timeline/", {"cursor": "nonsense"}).status_code == 400
    assert Client().get(f"/cases/{case.pk}/timeline/").status_code == 302
