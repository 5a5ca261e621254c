"""Fixtures for the customer tests: users per role, customers, products and cases."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone, translation

from leitplanke.accounts.models import Team, User
from leitplanke.customers import services

_references = itertools.count(1)


@pytest.fixture(autouse=True)
def english() -> Any:
    """Messages are asserted in their English source text (German lives in locale/)."""
    with translation.override("en"):
        yield


@pytest.fixture
def team(db: Any) -> Team:
    return Team.objects.create(name="Team Rhein")


@pytest.fixture
def lead(make_user: Callable[..., User], team: Team) -> User:
    return make_user("team_lead", teams=[team], name="Lena Lead", language="en")


@pytest.fixture
def agent(make_user: Callable[..., User], team: Team) -> User:
    return make_user("agent", teams=[team], name="Anton Agent", language="en")


@pytest.fixture
def quality(make_user: Callable[..., User]) -> User:
    """Sees all cases and may merge customers (customers.merge)."""
    return make_user("quality_manager", name="Quinn Quality", language="en")


@pytest.fixture
def team_merger(admin_user: User, make_user: Callable[..., User], team: Team) -> User:
    """May merge customers (customers.merge) but sees only the cases of Team Rhein."""
    from leitplanke.accounts import services as accounts
    from leitplanke.accounts.permissions import MANAGE_CUSTOMERS, MERGE_CUSTOMERS, VIEW_TEAM_CASES

    capabilities = [VIEW_TEAM_CASES, MANAGE_CUSTOMERS, MERGE_CUSTOMERS]
    role = accounts.role_create(actor=admin_user, key="team_merger", name_de="M", name_en="M", capabilities=capabilities)
    merger = make_user(None, teams=[team], name="Tim Merger", language="en")
    return accounts.user_update(actor=admin_user, user=merger, roles=[role])


@pytest.fixture
def process_owner(make_user: Callable[..., User]) -> User:
    return make_user("process_owner", name="Paula Process", language="en")


@pytest.fixture
def outsider(make_user: Callable[..., User]) -> User:
    """A user without any role: no case capability, so no customers either."""
    return make_user(None, name="Otto Outsider", language="en")


@pytest.fixture
def make_customer(lead: User) -> Callable[..., Any]:
    def make(**kwargs: Any) -> Any:
        kwargs.setdefault("kind", "person")
        if kwargs["kind"] == "person":
            kwargs.setdefault("last_name", "Mustermann")
            kwargs.setdefault("first_name", "Erika")
        return services.customer_create(actor=kwargs.pop("actor", lead), **kwargs)

    return make


@pytest.fixture
def product(admin_user: User) -> Any:
    return services.product_create(
        actor=admin_user, code="strom-basis", name_de="Strom Basis", name_en="Electricity Basic", sector="energy"
    )


@pytest.fixture
def make_case(db: Any) -> Callable[..., Any]:
    def make(
        customer: Any,
        *,
        team: Team | None = None,
        responsible: User | None = None,
        days_ago: int = 0,
        subject: str = "Wrong bill",
    ) -> Any:
        from leitplanke.cases.models import Case, CaseType

        case_type = CaseType.objects.order_by("id").first() or CaseType.objects.create(
            key="complaint", name_de="Beschwerde", name_en="Complaint"
        )
        n = next(_references)
        return Case.objects.create(
            reference=f"T-{n:05d}",
            case_type=case_type,
            subject=subject,
            channel="email",
            received_at=timezone.now() - dt.timedelta(days=days_ago),
            customer=customer,
            status="new",
            team=team,
            responsible_user=responsible,
        )

    return make
