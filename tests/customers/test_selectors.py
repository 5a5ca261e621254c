"""Customer reads: search by each key, name prefix, paging, visibility and masking."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from leitplanke.accounts.models import User
from leitplanke.cases import selectors as case_selectors
from leitplanke.cases.customer_services import customer_merge
from leitplanke.core.errors import NotFound, PermissionDenied
from leitplanke.customers import selectors, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_customer: Callable[..., Any]) -> dict[str, Any]:
    return {
        "erika": make_customer(
            first_name="Erika",
            last_name="Mustermann",
            customer_number="K-0000001",
            emails=["erika@example.org"],
            phones=["0221 123456"],
        ),
        "max": make_customer(first_name="Max", last_name="Müller", emails=["max@example.org"], phones=["0171 2345678"]),
        "mia": make_customer(first_name="Mia", last_name="muster"),
        "org": make_customer(kind="organisation", organisation_name="Musterhaus GmbH"),
        "other": make_customer(first_name="Otto", last_name="Normal"),
    }


def names(page: Any) -> list[str]:
    return [c.display_name for c in page.items]


@pytest.mark.parametrize("q", ["K-0000001", "k-0000001", " K-0000001 "])
def test_search_by_customer_number(agent: User, people: dict[str, Any], q: str) -> None:
    assert names(selectors.customer_search(actor=agent, q=q)) == ["Mustermann, Erika"]


@pytest.mark.parametrize("q", ["erika@example.org", "ERIKA@Example.org"])
def test_search_by_email(agent: User, people: dict[str, Any], q: str) -> None:
    assert names(selectors.customer_search(actor=agent, q=q)) == ["Mustermann, Erika"]


@pytest.mark.parametrize("q", ["0221 123456", "+49 221 123456", "0221/123456", "+49221123456"])
def test_search_by_phone_normalises_to_e164(agent: User, people: dict[str, Any], q: str) -> None:
    assert names(selectors.customer_search(actor=agent, q=q)) == ["Mustermann, Erika"]


def test_search_by_name_prefix_is_case_insensitive_and_ordered(agent: User, people: dict[str, Any]) -> None:
    assert names(selectors.customer_search(actor=agent, q="muster")) == ["muster, Mia", "Musterhaus GmbH", "Mustermann, Erika"]
    assert names(selectors.customer_search(actor=agent, q="Mustermann, E")) == ["Mustermann, Erika"]
    assert names(selectors.customer_search(actor=agent, q="Mül")) == ["Müller, Max"]
    assert names(selectors.customer_search(actor=agent, q="ustermann")) == []  # a prefix, not a substring


@pytest.mark.parametrize(
    ("stored", "q"),
    [
        ("Ärger GmbH", "ärger"),
        ("Özdemir, Ayşe", "ÖZDEMIR"),
        ("Straße der Einheit e.V.", "strasse"),  # case folding: ß is ss
        ("Øresund ApS", "øre"),
        ("Ĳsselmeer BV", "ĳssel"),
        ("Émile Zola", "ÉMILE"),
    ],
)
def test_name_prefix_folds_every_letter_not_just_ascii(
    agent: User, make_customer: Callable[..., Any], stored: str, q: str
) -> None:
    """SQLite's LOWER() folds ASCII only; the stored key folds all letters on both databases."""
    make_customer(kind="organisation", organisation_name=stored)
    make_customer(kind="organisation", organisation_name="Anders AG")
    assert names(selectors.customer_search(actor=agent, q=q)) == [stored]


def test_a_decomposed_query_finds_a_composed_name(agent: User, make_customer: Callable[..., Any]) -> None:
    """macOS and some forms send "Ö" as O + combining diaeresis (NFD)."""
    make_customer(first_name="Jörg", last_name="Öztürk")
    assert names(selectors.customer_search(actor=agent, q="O\u0308ztu\u0308rk")) == ["Öztürk, Jörg"]


def test_renaming_a_customer_updates_the_search_key(agent: User, lead: User, make_customer: Callable[..., Any]) -> None:
    customer = make_customer(first_name="Anna", last_name="Alt")
    services.customer_update(actor=lead, customer=customer, last_name="Übermut")
    assert names(selectors.customer_search(actor=agent, q="über")) == ["Übermut, Anna"]
    assert names(selectors.customer_search(actor=agent, q="alt")) == []


def test_separate_filters(agent: User, people: dict[str, Any]) -> None:
    assert names(selectors.customer_search(actor=agent, email="MAX@example.org")) == ["Müller, Max"]
    assert names(selectors.customer_search(actor=agent, phone="0171 2345678")) == ["Müller, Max"]
    assert names(selectors.customer_search(actor=agent, customer_number="k-0000001")) == ["Mustermann, Erika"]
    assert names(selectors.customer_search(actor=agent, phone="garbage")) == []
    assert names(selectors.customer_search(actor=agent, email="no")) == []


def test_keyset_paging_walks_all_customers_once(agent: User, people: dict[str, Any]) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        page = selectors.customer_search(actor=agent, cursor=cursor, limit=2)
        seen += names(page)
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == sorted(seen, key=str.lower)
    assert len(seen) == len(people)


def test_merged_customers_are_hidden_unless_asked(lead: User, quality: User, people: dict[str, Any]) -> None:
    customer_merge(actor=quality, survivor=people["erika"], duplicate=people["mia"])
    assert "muster, Mia" not in names(selectors.customer_search(actor=lead, q="muster"))
    assert "muster, Mia" in names(selectors.customer_search(actor=lead, q="muster", include_inactive=True))


def test_customer_find_by_email_for_intake(people: dict[str, Any]) -> None:
    assert selectors.customer_find_by_email(" Erika@Example.org ") == people["erika"]
    assert selectors.customer_find_by_email("nobody@example.org") is None
    assert selectors.customer_find_by_email("not an address") is None


def test_customer_find_by_email_reads_what_the_orm_reads() -> None:
    """The lookup is a statement written once: the same record as the ORM's, every field
    converted as the ORM converts it, the vulnerability reason not loaded; of several
    customers with the address the most recently changed active one."""
    import datetime as dt
    from decimal import Decimal

    from leitplanke.customers.models import Customer

    older = services.customer_create(actor=None, first_name="Ada", last_name="Alt", emails=["shared@example.org"])
    newer = services.customer_create(
        actor=None,
        first_name="Bea",
        last_name="Neu",
        emails=["shared@example.org"],
        value_amount="1234.50",
        customer_since="2019-04-01",
        is_vulnerable=True,
        vulnerability_reason="Bereavement",
    )
    Customer.objects.filter(pk=older.pk).update(updated_at=newer.updated_at - dt.timedelta(days=1))
    found = selectors.customer_find_by_email("Shared@Example.org")
    assert found is not None and found.pk == newer.pk
    expected = Customer.objects.defer("vulnerability_reason").get(pk=newer.pk)
    for field in Customer._meta.concrete_fields:
        if field.attname != "vulnerability_reason":
            assert getattr(found, field.attname) == getattr(expected, field.attname), field.attname
    assert found.value_amount == Decimal("1234.50") and found.customer_since == dt.date(2019, 4, 1)
    assert found.is_vulnerable is True and found.is_active is True
    assert "vulnerability_reason" in found.get_deferred_fields()
    Customer.objects.filter(pk=newer.pk).update(is_active=False)
    assert selectors.customer_find_by_email("shared@example.org") == older


def test_customer_search_terms_in_one_statement(people: dict[str, Any], django_assert_num_queries: Any) -> None:
    erika = people["erika"]
    with django_assert_num_queries(1):
        terms = selectors.customer_search_terms(erika.pk)
    with django_assert_num_queries(1):
        assert selectors.customer_search_terms(erika.pk, customer=erika) == terms
    for word in ("erika", "mustermann", "k-0000001", "erika@example.org", "49221123456"):
        assert word in terms, (word, terms)
    assert selectors.customer_search_terms(None) == ""
    with django_assert_num_queries(1):
        assert selectors.customer_search_terms(10**9) == ""


def test_customer_get_prefetches_and_masks(
    agent: User, lead: User, make_customer: Callable[..., Any], django_assert_num_queries: Any
) -> None:
    customer = make_customer(is_vulnerable=True, vulnerability_reason="Bereavement", emails=["a@example.org"])
    for_agent = selectors.customer_get(actor=agent, customer_id=customer.pk)
    assert for_agent.is_vulnerable is None and for_agent.vulnerability_reason == ""
    for_lead = selectors.customer_get(actor=lead, customer_id=customer.pk)
    assert for_lead.is_vulnerable is True and for_lead.vulnerability_reason == ""  # the reason only via the audited view
    with django_assert_num_queries(0):
        [e.address for e in for_lead.emails.all()]
        [c.product for c in for_lead.contracts.all()]
        list(for_lead.consents.all())
    with pytest.raises(NotFound):
        selectors.customer_get(actor=agent, customer_id=customer.pk + 999)
    assert selectors.customer_get_by_number(actor=agent, customer_number=customer.customer_number.lower()).pk == customer.pk


def test_users_without_case_capabilities_see_no_customers(outsider: User, people: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        selectors.customer_search(actor=outsider, q="")
    with pytest.raises(PermissionDenied):
        selectors.customer_get(actor=outsider, customer_id=people["erika"].pk)


def test_customer_cases_are_scoped_to_what_the_user_sees(
    agent: User,
    process_owner: User,
    team: Any,
    make_customer: Callable[..., Any],
    make_case: Callable[..., Any],
    make_user: Callable[..., User],
) -> None:
    """The customer page's case list and count come from the cases app's visibility rules."""
    customer = make_customer()
    own_team = make_case(customer, team=team, days_ago=2)
    mine = make_case(customer, responsible=agent, days_ago=1)
    make_case(customer)  # another team's, unassigned
    assert [c.pk for c in case_selectors.customer_cases(actor=agent, customer_id=customer.pk)] == [mine.pk, own_team.pk]
    assert case_selectors.customer_case_count(actor=agent, customer_id=customer.pk) == 2
    assert len(case_selectors.customer_cases(actor=process_owner, customer_id=customer.pk)) == 3
    for _ in range(22):
        make_case(customer)
    assert len(case_selectors.customer_cases(actor=process_owner, customer_id=customer.pk)) == 20
    assert case_selectors.customer_case_count(actor=process_owner, customer_id=customer.pk) == 25


def test_consent_states_take_the_latest_record(lead: User, make_customer: Callable[..., Any]) -> None:
    customer = make_customer()
    services.consent_record(actor=lead, customer=customer, purpose="marketing", granted=True)
    services.consent_record(actor=lead, customer=customer, purpose="marketing", granted=False)
    states = {s.purpose: s.granted for s in selectors.consent_states(selectors.customer_get(actor=lead, customer_id=customer.pk))}
    assert states["marketing"] is False
    assert states["survey"] is None
