"""Issue 23, task 1: a case is found by its customer's name (case- and accent-folded),
customer number, e-mail address and phone number — in the list, the API's `q` and after
the customer changed (the search document follows the customer through
`customers.services.customer_changed`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from leitplanke.cases import list_selectors, services
from leitplanke.cases.models import Case
from leitplanke.customers import services as customer_services
from leitplanke.customers.normalise import fold_accents, phone_search_token, search_terms


def found(q: str) -> set[int]:
    return set(list_selectors.filter_cases(Case.objects.all(), {"q": q}).values_list("pk", flat=True))


@pytest.fixture
def lead(make_user: Callable[..., Any], team_a: Any) -> Any:
    return make_user("team_lead", teams=[team_a], name="Lena Lead")


@pytest.fixture
def erika(lead: Any) -> Any:
    return customer_services.customer_create(
        actor=lead,
        first_name="Erika",
        last_name="Müller-Lüdenscheidt",
        customer_number="K-4711",
        emails=["Erika.Mueller@Example.org"],
        phones=["0221 123456"],
    )


@pytest.fixture
def cases(make_case: Callable[..., Case], erika: Any, lead: Any, team_a: Any) -> dict[str, Case]:
    return {
        "hers": make_case(actor=lead, team=team_a, customer=erika, subject="Abschlag zu hoch"),
        "other": make_case(actor=lead, team=team_a, subject="Müller hat angerufen"),
        "none": make_case(actor=lead, team=team_a, subject="Ohne Kunde"),
    }


def test_pure_terms_fold_case_and_accents() -> None:
    assert fold_accents("Müller Straße") == "muller strasse"
    terms = search_terms(names=["Özdemir, Ayşe"], customer_number="K-1", emails=["a@b.de"], phones=["+49221123456"])
    assert "özdemir, ayşe" in terms and "ozdemir, ayse" in terms and "k-1" in terms and "49221123456" in terms
    assert phone_search_token("0221 123456") == "49221123456"
    assert phone_search_token("Zählerstand") is None


def test_case_found_by_customer_name_number_email_and_phone(cases: dict[str, Case]) -> None:
    hers, other = cases["hers"].pk, cases["other"].pk
    assert found("Erika") == {hers}
    assert found("erika lüdenscheidt") == {hers}
    assert found("LUDENSCHEIDT") == {hers}  # without the umlaut, upper case
    assert found("Müller") == {hers, other}  # the customer's name and another case's subject
    assert found("K-4711") == {hers}
    assert found("erika.mueller@example.org") == {hers}
    assert found("0221 123456") == {hers}
    assert found("+49 221 123456") == {hers}
    assert found("Abschlag") == {hers}  # the case's own words still count


def test_search_document_follows_customer_changes(cases: dict[str, Case], erika: Any, lead: Any) -> None:
    hers = cases["hers"].pk
    customer_services.customer_update(
        actor=lead, customer=erika, last_name="Schmidt", emails=["erika@neu.example"], phones=["030 1234567"]
    )
    assert found("Lüdenscheidt") == set()
    assert found("Schmidt") == {hers}
    assert found("erika@neu.example") == {hers}
    assert found("030 1234567") == {hers}
    assert found("0221 123456") == set()


def test_case_moved_to_another_customer_is_found_by_the_new_one(
    cases: dict[str, Case], lead: Any, make_case: Callable[..., Case]
) -> None:
    other_customer = customer_services.customer_create(actor=lead, first_name="Hans", last_name="Zimmermann")
    case = cases["none"]
    services.case_update(actor=lead, case=case, customer=other_customer)
    assert found("Zimmermann") == {case.pk}


def test_api_q_matches_the_customer(cases: dict[str, Case], lead: Any, api_client_for: Callable[..., Any]) -> None:
    client = api_client_for(lead)
    response = client.get("/api/v1/cases", {"q": "k-4711"})
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [cases["hers"].pk]


@pytest.mark.django_db(transaction=True)
def test_a_case_created_while_its_customer_changes_is_found_by_the_new_name(make_user: Callable[..., Any], tmp_path: Any) -> None:
    """The customer's change and a new case for that customer at the same time: whichever
    commits first, the new case's search document ends up with the new name (PostgreSQL:
    the case's foreign key takes a key-share lock that the customer's update waits for, and
    the other way round; SQLite: one writer at a time)."""
    from leitplanke.accounts.models import Team
    from tests.cases.conftest import ensure_default_case_types
    from tests.concurrency import in_parallel, shared_database

    ensure_default_case_types()
    team = Team.objects.create(name="Team R")
    lead = make_user("team_lead", teams=[team], name="Lena Race")
    for round_ in range(3):
        customer = customer_services.customer_create(actor=lead, first_name="Erika", last_name=f"Alt{round_}")
        directory = tmp_path / str(round_)
        directory.mkdir()
        with shared_database(directory):

            def work(index: int, customer: Any = customer, round_: int = round_) -> Any:
                if index == 0:
                    return services.case_create(
                        actor=lead, team=team, case_type="complaint", subject="Rennen", channel="email", customer=customer
                    )
                return customer_services.customer_update(actor=lead, customer=customer, last_name=f"Neu{round_}")

            case, _updated = in_parallel(work, 2)
            assert found(f"Neu{round_}") == {case.pk}
            assert found(f"Alt{round_}") == set()
