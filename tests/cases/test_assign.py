"""Issue 23, task 4: "take it" and a quick assignment on the case page — team members first,
absences shown, only assignable users, an explicit choice, a stale page refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from leitplanke.accounts import services as accounts
from leitplanke.cases import selectors
from leitplanke.cases.models import Case
from tests.concurrency import in_parallel, shared_database


@pytest.fixture
def people(make_user: Callable[..., Any], team_a: Any, team_b: Any) -> dict[str, Any]:
    return {
        "lead": make_user("team_lead", teams=[team_a], name="Lena Lead"),
        "anna": make_user("agent", teams=[team_a], name="Anna Agent"),
        "zoe": make_user("agent", teams=[team_b], name="Aaron Other"),
        "auditor": make_user("auditor", name="Audrey Auditor"),
    }


def test_team_members_first_absences_shown_and_only_assignable_users(
    people: dict[str, Any], team_a: Any, admin_user: Any
) -> None:
    today = timezone.localdate()
    accounts.absence_create(
        actor=admin_user, user=people["anna"], starts_on=today, ends_on=today + dt.timedelta(days=3), kind="vacation"
    )
    users = selectors.assignable_users(team_id=team_a.pk)
    names = [user.full_name for user in users]
    assert names.index("Anna Agent") < names.index("Aaron Other")  # the team first, though "Aaron" sorts earlier
    assert "Audrey Auditor" not in names  # cannot work on cases
    anna = next(user for user in users if user.full_name == "Anna Agent")
    assert anna.in_team and anna.absence is not None and anna.absence.ends_on == today + dt.timedelta(days=3)


def test_take_it_and_assign_from_the_case_page(
    people: dict[str, Any], make_case: Callable[..., Case], team_a: Any, client_for: Callable[..., Any]
) -> None:
    case = make_case(team=team_a)
    client = client_for(people["anna"])
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Take it" in page and "Audrey Auditor" not in page
    response = client.post(f"/cases/{case.pk}/assign/", {"responsible": "me", "version": case.version})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.responsible_user == people["anna"]
    # nothing without an explicit choice; an auditor cannot be made responsible
    for value in ("", str(people["auditor"].pk), "bogus"):
        client.post(f"/cases/{case.pk}/assign/", {"responsible": value, "version": case.version})
        case.refresh_from_db()
        assert case.responsible_user == people["anna"]
    client.post(f"/cases/{case.pk}/assign/", {"responsible": str(people["zoe"].pk), "version": case.version})
    case.refresh_from_db()
    assert case.responsible_user == people["zoe"]
    # a stale page (old version) changes nothing
    client.post(f"/cases/{case.pk}/assign/", {"responsible": "me", "version": case.version - 1})
    case.refresh_from_db()
    assert case.responsible_user == people["zoe"]
    client.post(f"/cases/{case.pk}/assign/", {"responsible": "none", "version": case.version})
    case.refresh_from_db()
    assert case.responsible_user is None


def test_assign_needs_the_right_to_edit(
    people: dict[str, Any], make_case: Callable[..., Case], team_a: Any, client_for: Callable[..., Any]
) -> None:
    case = make_case(team=team_a)
    assert client_for(people["auditor"]).post(f"/cases/{case.pk}/assign/", {"responsible": "me"}).status_code in (403, 404)
    assert client_for(people["zoe"]).post(f"/cases/{case.pk}/assign/", {"responsible": "me"}).status_code == 404
    case.refresh_from_db()
    assert case.responsible_user is None


@pytest.mark.django_db(transaction=True)
def test_two_agents_take_the_same_case_at_once_one_wins(
    make_user: Callable[..., Any], make_case: Callable[..., Case], tmp_path: Any, client_for: Callable[..., Any]
) -> None:
    from leitplanke.accounts.models import Team

    team = Team.objects.create(name="Team C")
    agents = [make_user("agent", teams=[team], name=f"Agent {n}") for n in range(2)]
    case = make_case(team=team)
    with shared_database(tmp_path):
        clients = [client_for(agent) for agent in agents]
        in_parallel(lambda i: clients[i].post(f"/cases/{case.pk}/assign/", {"responsible": "me", "version": case.version}), 2)
        fresh = Case.objects.get(pk=case.pk)
        assert fresh.responsible_user_id in {agent.pk for agent in agents}
        assert fresh.version == case.version + 1  # exactly one assignment went through


# --- issue 23, task 5: the customer picker of the new-case form ------------------------------


def test_customer_lookup_by_name_email_phone_and_number(people: dict[str, Any], client_for: Callable[..., Any]) -> None:
    from leitplanke.customers import services as customers

    erika = customers.customer_create(
        actor=people["lead"],
        first_name="Erika",
        last_name="Mustermann",
        customer_number="K-777",
        emails=["erika@example.org"],
        phones=["0221 123456"],
    )
    client = client_for(people["anna"])
    for query in ("Muster", "Erika Mustermann", "erika@example.org", "0221 123456", "K-777"):
        html = client.get("/cases/new/customers/", {"customer_query": query}, headers={"HX-Request": "true"}).content.decode()
        assert f'data-pick-customer="{erika.customer_number}"' in html, query
    assert "No customer found" in client.get("/cases/new/customers/", {"customer_query": "Zzz"}).content.decode()
    auditor_html = client_for(people["auditor"]).get("/cases/new/customers/", {"customer_query": "Muster"}).content.decode()
    assert "data-pick-customer" not in auditor_html


def test_new_case_from_the_customer_page_preselects_the_customer(people: dict[str, Any], client_for: Callable[..., Any]) -> None:
    from leitplanke.customers import services as customers

    smith = customers.customer_create(actor=people["lead"], last_name="Smith", preferred_language="en", customer_number="K-888")
    client = client_for(people["anna"])
    detail = client.get(f"/customers/{smith.pk}/").content.decode()
    assert "/cases/new/?customer_number=K-888&amp;language=en" in detail
    form = client.get("/cases/new/", {"customer_number": "K-888", "language": "en"}).content.decode()
    assert 'value="K-888"' in form
