"""Fixtures for decision records: the shipped goodwill tables published as DecisionTable rows,
a team with an agent and its lead, and a complaint of a long-standing customer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from leitplanke.accounts.models import Team, User
from leitplanke.cases import services as case_services
from leitplanke.cases.models import Case, CaseType
from leitplanke.customers.models import Customer
from leitplanke.decisions import shipped
from leitplanke.decisions.models import DecisionTable

SHIPPED_KINDS = {"goodwill_energy_billing": "goodwill", "card_fee_refund": "goodwill"}


def publish_shipped_tables() -> list[DecisionTable]:
    """The shipped goodwill tables as published rows (the data migration of dt-core does this
    for real databases; tests make their own)."""
    rows = []
    for key, kind in SHIPPED_KINDS.items():
        row = DecisionTable.objects.filter(key=key, status="published").first()
        if row is None:
            row = DecisionTable.objects.create(
                key=key,
                version=(DecisionTable.objects.filter(key=key).count() + 1),
                status="published",
                name_de={"goodwill_energy_billing": "Kulanz Energieabrechnung", "card_fee_refund": "Kartengebühren"}[key],
                name_en={"goodwill_energy_billing": "Goodwill energy billing", "card_fee_refund": "Card fee refunds"}[key],
                decision_kind=kind,
                jdm=shipped.jdm(key),
                tests=shipped.tests(key),
            )
        rows.append(row)
    return rows


@pytest.fixture
def tables(db: Any) -> list[DecisionTable]:
    return publish_shipped_tables()


@pytest.fixture
def team(db: Any) -> Team:
    return Team.objects.create(name="Billing")


@pytest.fixture
def other_team(db: Any) -> Team:
    return Team.objects.create(name="Cards")


@pytest.fixture
def agent(make_user: Callable[..., User], team: Team) -> User:
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
