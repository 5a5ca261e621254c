"""Fixtures for decision tests: a process owner and a case worker; a team with a lead, case
types, cases, decision records and authority limits; the shipped goodwill tables published as
DecisionTable rows, and a complaint of a long-standing customer for the record services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from leitplanke.accounts.models import Role, Team, User
from leitplanke.cases import services as case_services
from leitplanke.cases.models import Case, CaseType
from leitplanke.customers.models import Customer
from leitplanke.decisions.models import AuthorityLimit, DecisionRecord, DecisionTable, RecordStatus
from tests.decisions.tables import publish_shipped_tables


@pytest.fixture
def owner(make_user: Callable[..., Any]) -> Any:
    return make_user("process_owner")


def ensure_default_case_types() -> None:
    import importlib

    from django.apps import apps

    importlib.import_module("leitplanke.cases.migrations.0003_default_case_types").forward(apps, None)


@pytest.fixture
def complaint_type(db: Any) -> CaseType:
    ensure_default_case_types()
    return CaseType.objects.get(key="complaint")


@pytest.fixture
def team(db: Any) -> Team:
    return Team.objects.create(name="Billing")


@pytest.fixture
def make_case(db: Any, complaint_type: CaseType) -> Callable[..., Case]:
    def make(*, actor: Any = None, team: Team | None = None, **kwargs: Any) -> Case:
        defaults: dict[str, Any] = {
            "case_type": complaint_type,
            "subject": "Abschlag zu hoch",
            "description": "Der Abschlag ist zu hoch.",
            "channel": "email",
        }
        defaults.update(kwargs)
        return case_services.case_create(actor=actor, team=team, **defaults)

    return make


def role_limit(role_key: str, amount: Any, *, kind: str = "goodwill", currency: str = "EUR", **kw: Any) -> AuthorityLimit:
    return AuthorityLimit.objects.create(
        role=Role.objects.get(key=role_key), kind=kind, currency=currency, per_decision=Decimal(amount), **kw
    )


def user_limit(user: User, amount: Any, *, kind: str = "goodwill", currency: str = "EUR", **kw: Any) -> AuthorityLimit:
    return AuthorityLimit.objects.create(user=user, kind=kind, currency=currency, per_decision=Decimal(amount), **kw)


def make_record(
    case: Case,
    user: User,
    amount: Any,
    *,
    kind: str = "goodwill",
    currency: str = "EUR",
    status: str = RecordStatus.FINAL,
    **kw: Any,
) -> DecisionRecord:
    return DecisionRecord.objects.create(
        case=case,
        kind=kind,
        amount=Decimal(amount),
        currency=currency,
        status=status,
        decided_by=user,
        decided_at=kw.pop("decided_at", timezone.now()),
        team=kw.pop("team", case.team),
        **kw,
    )


@pytest.fixture
def setup(make_user: Callable[..., User], team: Team, make_case: Callable[..., Case]) -> dict[str, Any]:
    """An agent (100 EUR goodwill) in a team whose lead may give 1,000 EUR; a case with a customer."""
    from leitplanke.customers.services import customer_create

    agent = make_user("agent", teams=[team])
    lead = make_user("team_lead", teams=[team])
    team.lead = lead
    team.save()
    role_limit("agent", 100, per_customer_year=Decimal(300))
    role_limit("team_lead", 1000)
    customer = customer_create(actor=None, first_name="Erika", last_name="Mustermann")
    case = make_case(actor=agent, team=team, customer=customer)
    return {"agent": agent, "lead": lead, "team": team, "case": case, "customer": customer}


# --- decision records (record_services) ---------------------------------------------------


@pytest.fixture
def tables(db: Any) -> list[DecisionTable]:
    return publish_shipped_tables()


@pytest.fixture
def other_team(db: Any) -> Team:
    return Team.objects.create(name="Cards")


@pytest.fixture
def limits(db: Any) -> None:
    """Agents decide up to 100 EUR goodwill or redress alone, team leads up to 1,000 EUR."""
    for kind in ("goodwill", "redress"):
        role_limit("agent", 100, kind=kind)
        role_limit("team_lead", 1000, kind=kind)
        role_limit("quality_manager", 1000, kind=kind)


@pytest.fixture
def agent(make_user: Callable[..., User], team: Team, limits: None) -> User:
    return make_user("agent", teams=[team], name="Anna Agent")


@pytest.fixture
def lead(make_user: Callable[..., User], team: Team) -> User:
    user = make_user("team_lead", teams=[team], name="Lena Lead")
    team.lead = user
    team.save()
    return user


@pytest.fixture
def customer(db: Any) -> Customer:
    return Customer.objects.create(
        customer_number="K-1001",
        display_name="Erika Muster",
        segment="private",
        customer_since=dt.date.today() - dt.timedelta(days=365 * 12 + 10),
    )


@pytest.fixture
def complaint(db: Any, team: Team, customer: Customer) -> Case:
    import importlib

    from django.apps import apps

    importlib.import_module("leitplanke.cases.migrations.0003_default_case_types").forward(apps, None)
    return case_services.case_create(
        actor=None,
        case_type=CaseType.objects.get(key="complaint"),
        subject="Rechnung zu hoch",
        description="Die Jahresabrechnung ist 300 Euro zu hoch.",
        channel="email",
        team=team,
        customer=customer,
    )
