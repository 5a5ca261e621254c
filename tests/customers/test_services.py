"""Customer services: validation per field, normalisation, updates, merge, consents, products."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from leitplanke.accounts.models import User
from leitplanke.cases.customer_services import customer_merge
from leitplanke.core.errors import PermissionDenied, PreconditionFailed, ValidationFailed
from leitplanke.core.models import AuditEvent
from leitplanke.customers import services
from leitplanke.customers.models import ConsentRecord, Customer

pytestmark = pytest.mark.django_db


def field_errors(excinfo: Any) -> dict[str, list[str]]:
    return {key: [str(m) for m in value] for key, value in excinfo.value.field_errors.items()}


# --- create and validation -----------------------------------------------------------------


def test_create_person_normalises_contact_data_and_generates_a_number(lead: User) -> None:
    customer = services.customer_create(
        actor=lead,
        kind="person",
        first_name=" Erika ",
        last_name="Mustermann",
        emails=["Erika@Example.ORG", "erika@example.org"],
        phones=["0221 123456", {"number": "+44 20 7946 0018", "kind": "work"}],
        country="de",
        city="Köln",
        value_amount="1250",
        customer_since=dt.date(2019, 4, 1),
    )
    assert customer.display_name == "Mustermann, Erika"
    assert customer.customer_number.startswith("K-") and len(customer.customer_number) == 9
    assert customer.customer_number[2:].isdigit()
    assert customer.country == "DE"
    assert customer.value_amount == Decimal("1250.00")
    assert list(customer.emails.values_list("address", "is_primary")) == [("erika@example.org", True)]
    assert list(customer.phones.order_by("id").values_list("number", "kind", "is_primary")) == [
        ("+49221123456", "landline", True),
        ("+442079460018", "work", False),
    ]
    event = AuditEvent.objects.get(action="customer.create", object_id=str(customer.pk))
    assert event.after["emails"] == ["erika@example.org"]
    assert event.actor == lead


def test_national_numbers_are_read_in_the_customers_country(lead: User) -> None:
    assert services.normalise_phone("0221 123456", country="DE") == "+49221123456"
    assert services.normalise_phone("020 7946 0018", country="GB") == "+442079460018"
    customer = services.customer_create(actor=lead, last_name="Smith", country="GB", phones=["020 7946 0018"])
    assert customer.phones.get().number == "+442079460018"


def test_organisation_display_name_is_its_name(lead: User) -> None:
    customer = services.customer_create(actor=lead, kind="organisation", organisation_name="Rheinfeld Stadtwerke AG")
    assert customer.display_name == "Rheinfeld Stadtwerke AG"


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"kind": "person", "last_name": ""}, "last_name", "A person needs a last name."),
        ({"kind": "organisation", "organisation_name": " "}, "organisation_name", "An organisation needs a name."),
        ({"kind": "robot", "last_name": "X"}, "kind", "Choose person or organisation."),
        ({"last_name": "X", "emails": ["not-an-address"]}, "emails", "“not-an-address” is not a valid e-mail address."),
        ({"last_name": "X", "phones": ["12"]}, "phones", "“12” is not a valid phone number."),
        ({"last_name": "X", "phones": ["0221 123"] * 0 + ["+49 1234"]}, "phones", "“+49 1234” is not a valid phone number."),
        ({"last_name": "X", "country": "Germany"}, "country", "Enter a two-letter country code such as DE or GB."),
        ({"last_name": "X", "region": "Bavaria"}, "region", "Enter a region code such as DE-BY or GB-SCT."),
        ({"last_name": "X", "value_amount": "-5"}, "value_amount", "Enter an amount of zero or more, e.g. 1250.00."),
        ({"last_name": "X", "value_currency": "Euro"}, "value_currency", "Enter a three-letter currency code such as EUR."),
        ({"last_name": "X", "segment": "vip"}, "segment", "Choose a segment."),
        ({"last_name": "X", "preferred_language": "fr"}, "preferred_language", "Choose German or English."),
        (
            {"last_name": "X", "customer_since": dt.date.today() + dt.timedelta(days=3)},
            "customer_since",
            "The date cannot be in the future.",
        ),
        ({"last_name": "X", "is_vulnerable": True}, "vulnerability_reason", "Give a reason for the vulnerability."),
        ({"last_name": "X", "customer_number": "K 1!"}, "customer_number", "Use letters, digits and - . / _ only (at most 40)."),
    ],
)
def test_create_reports_errors_per_field(lead: User, kwargs: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        services.customer_create(actor=lead, **kwargs)
    assert field_errors(excinfo)[field] == [message]
    assert not Customer.objects.exists()


def test_create_reports_all_errors_at_once(lead: User) -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        services.customer_create(actor=lead, kind="person", emails=["x"], phones=["y"])
    assert set(field_errors(excinfo)) == {"last_name", "emails", "phones"}


def test_customer_numbers_are_unique_and_upper_case(lead: User, make_customer: Callable[..., Any]) -> None:
    make_customer(customer_number="abc-1")
    assert Customer.objects.get().customer_number == "ABC-1"
    with pytest.raises(ValidationFailed) as excinfo:
        make_customer(customer_number="ABC-1")
    assert field_errors(excinfo) == {"customer_number": ["This customer number is taken."]}


def test_only_sensitive_roles_may_record_a_vulnerability(agent: User, lead: User) -> None:
    with pytest.raises(PermissionDenied):
        services.customer_create(actor=agent, last_name="X", is_vulnerable=True, vulnerability_reason="illness")
    customer = services.customer_create(actor=lead, last_name="X", is_vulnerable=True, vulnerability_reason="illness")
    assert customer.is_vulnerable and customer.vulnerability_reason == "illness"
    event = AuditEvent.objects.get(action="customer.vulnerability_change")
    assert event.after == {"is_vulnerable": True, "reason_changed": True}
    # The reason itself never goes into the append-only audit log.
    assert not AuditEvent.objects.filter(after__icontains="illness").exists()


def test_users_without_customers_manage_cannot_create(process_owner: User) -> None:
    with pytest.raises(PermissionDenied):
        services.customer_create(actor=process_owner, last_name="X")


# --- update --------------------------------------------------------------------------------


def test_update_audits_only_changed_fields_and_bumps_the_version(lead: User, make_customer: Callable[..., Any]) -> None:
    customer = make_customer(city="Köln", emails=["a@example.org"])
    updated = services.customer_update(
        actor=lead,
        customer=customer,
        expected_version=1,
        city="Bonn",
        emails=["B@example.org", "a@example.org"],
        first_name="Erika",
    )
    assert updated.version == 2
    assert sorted(updated.emails.values_list("address", flat=True)) == ["a@example.org", "b@example.org"]
    assert updated.emails.get(is_primary=True).address == "b@example.org"
    event = AuditEvent.objects.get(action="customer.update")
    assert event.before == {"city": "Köln", "emails": ["a@example.org"]}
    assert event.after == {"city": "Bonn", "emails": ["b@example.org", "a@example.org"]}


def test_update_without_changes_writes_nothing(lead: User, make_customer: Callable[..., Any]) -> None:
    customer = make_customer(city="Köln")
    updated = services.customer_update(actor=lead, customer=customer, city="Köln")
    assert updated.version == 1
    assert not AuditEvent.objects.filter(action="customer.update").exists()


def test_update_with_a_stale_version_fails(lead: User, make_customer: Callable[..., Any]) -> None:
    customer = make_customer()
    services.customer_update(actor=lead, customer=customer, expected_version=1, city="Bonn")
    with pytest.raises(PreconditionFailed):
        services.customer_update(actor=lead, customer=customer, expected_version=1, city="Aachen")
    assert Customer.objects.get().city == "Bonn"


def test_update_validates_and_keeps_the_row(lead: User, make_customer: Callable[..., Any]) -> None:
    customer = make_customer()
    with pytest.raises(ValidationFailed) as excinfo:
        services.customer_update(actor=lead, customer=customer, last_name="", phones=["nonsense"])
    assert set(field_errors(excinfo)) == {"last_name", "phones"}
    assert Customer.objects.get().last_name == "Mustermann"


def test_vulnerability_changes_are_audited_separately(lead: User, agent: User, make_customer: Callable[..., Any]) -> None:
    customer = make_customer()
    with pytest.raises(PermissionDenied):
        services.customer_update(actor=agent, customer=customer, is_vulnerable=True, vulnerability_reason="x")
    services.customer_update(actor=lead, customer=customer, is_vulnerable=True, vulnerability_reason="Care home")
    # Flag stays, empty reason keeps the recorded one.
    services.customer_update(actor=lead, customer=customer, is_vulnerable=True, vulnerability_reason="")
    assert Customer.objects.get().vulnerability_reason == "Care home"
    services.customer_update(actor=lead, customer=customer, is_vulnerable=False)
    fresh = Customer.objects.get()
    assert (fresh.is_vulnerable, fresh.vulnerability_reason) == (False, "")
    events = list(AuditEvent.objects.filter(action="customer.vulnerability_change").order_by("id"))
    assert [e.after["is_vulnerable"] for e in events] == [True, False]
    assert not AuditEvent.objects.filter(action="customer.update").exists()


def test_agents_may_change_contact_data_of_vulnerable_customers(agent: User, make_customer: Callable[..., Any]) -> None:
    customer = make_customer(is_vulnerable=True, vulnerability_reason="Hearing impaired")
    services.customer_update(actor=agent, customer=customer, city="Bonn")
    assert Customer.objects.get().is_vulnerable


def test_vulnerability_view_is_audited_and_restricted(lead: User, agent: User, make_customer: Callable[..., Any]) -> None:
    customer = make_customer(is_vulnerable=True, vulnerability_reason="Bereavement")
    with pytest.raises(PermissionDenied):
        services.vulnerability_view(actor=agent, customer=customer)
    assert not AuditEvent.objects.filter(action="customer.vulnerability_view").exists()
    assert services.vulnerability_view(actor=lead, customer=customer) == "Bereavement"
    event = AuditEvent.objects.get(action="customer.vulnerability_view")
    assert event.actor == lead and event.object_id == str(customer.pk)


# --- merge ---------------------------------------------------------------------------------


def test_merge_moves_everything_and_is_audited(
    lead: User, quality: User, make_customer: Callable[..., Any], make_case: Callable[..., Any], product: Any
) -> None:
    survivor = make_customer(emails=["erika@example.org"], phones=["0221 123456"])
    duplicate = make_customer(emails=["ERIKA@example.org", "e.m@example.net"], phones=["0221 123456", "0171 2345678"])
    services.consent_record(actor=lead, customer=duplicate, purpose="survey", granted=True, source="phone")
    services.contract_create(actor=lead, customer=duplicate, product=product, contract_number="v-1")
    cases = [make_case(duplicate), make_case(duplicate), make_case(survivor)]

    moved = customer_merge(actor=quality, survivor=survivor, duplicate=duplicate)

    assert moved == {"emails": 1, "phones": 1, "consents": 1, "contracts": 1, "cases": 2}
    assert sorted(survivor.emails.values_list("address", flat=True)) == ["e.m@example.net", "erika@example.org"]
    assert sorted(survivor.phones.values_list("number", flat=True)) == ["+491712345678", "+49221123456"]
    assert survivor.emails.filter(is_primary=True).count() == 1
    assert survivor.consents.count() == 1 and survivor.contracts.count() == 1
    from leitplanke.cases.models import Case

    assert set(Case.objects.filter(customer=survivor).values_list("pk", flat=True)) == {c.pk for c in cases}
    duplicate.refresh_from_db()
    assert duplicate.merged_into == survivor and not duplicate.is_active
    assert not duplicate.emails.exists() and not duplicate.phones.exists()
    event = AuditEvent.objects.get(action="customer.merge")
    assert event.object_id == str(survivor.pk)
    assert event.after["moved"] == moved
    assert event.before["duplicate_id"] == duplicate.pk


def test_each_moved_case_records_the_merge(
    quality: User, make_customer: Callable[..., Any], make_case: Callable[..., Any]
) -> None:
    """Cases move through the cases services: a timeline entry, an audit event, a new
    version and updated_at per case (before, one bulk UPDATE recorded none of it)."""
    survivor, duplicate = make_customer(last_name="Bleibt"), make_customer(last_name="Doppelt")
    case = make_case(duplicate)
    before = (case.version, case.updated_at)

    customer_merge(actor=quality, survivor=survivor, duplicate=duplicate)

    case.refresh_from_db()
    assert case.customer_id == survivor.pk
    assert case.version == before[0] + 1 and case.updated_at > before[1]
    entry = case.interactions.get(kind="field_change")
    assert entry.author == quality
    assert entry.data["fields"] == ["customer"] and entry.data["reason"] == "customer_merge"
    assert entry.data["from"] == {"customer": duplicate.pk} and entry.data["to"] == {"customer": survivor.pk}
    assert "Doppelt" in entry.data["display_from"]["customer"] and "Bleibt" in entry.data["display_to"]["customer"]
    event = AuditEvent.objects.get(action="case.update", object_id=str(case.pk))
    assert event.actor == quality
    assert event.before == {"customer": duplicate.pk, "version": before[0]}
    assert event.after == {"customer": survivor.pk, "version": case.version, "reason": "customer.merge"}


def test_a_merge_reveals_nothing_about_cases_the_merger_cannot_see(
    team_merger: User, team: Any, make_customer: Callable[..., Any], make_case: Callable[..., Any]
) -> None:
    """A merger who sees only their team's cases: every case of the duplicate moves (a
    customer record is merged as a whole), but the answer counts only the visible ones."""
    from leitplanke.cases.models import Case

    survivor, duplicate = make_customer(), make_customer()
    own = make_case(duplicate, team=team)
    other_team = make_case(duplicate)

    moved = customer_merge(actor=team_merger, survivor=survivor, duplicate=duplicate)

    assert moved["cases"] == 1
    assert set(Case.objects.filter(customer=survivor).values_list("pk", flat=True)) == {own.pk, other_team.pk}
    assert AuditEvent.objects.get(action="customer.merge").after["moved"]["cases"] == 2  # the audit log has the total


def test_merge_costs_the_same_number_of_queries_per_case(
    quality: User, make_customer: Callable[..., Any], make_case: Callable[..., Any]
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for(case_count: int) -> int:
        survivor, duplicate = make_customer(), make_customer()
        for _ in range(case_count):
            make_case(duplicate)
        with CaptureQueriesContext(connection) as captured:
            customer_merge(actor=quality, survivor=survivor, duplicate=duplicate)
        return len(captured.captured_queries)

    per_case = (queries_for(12) - queries_for(2)) / 10
    assert per_case <= 4


def test_merge_keeps_a_vulnerability(quality: User, make_customer: Callable[..., Any]) -> None:
    survivor, duplicate = make_customer(), make_customer(is_vulnerable=True, vulnerability_reason="Dementia")
    customer_merge(actor=quality, survivor=survivor, duplicate=duplicate)
    survivor.refresh_from_db()
    assert survivor.is_vulnerable and survivor.vulnerability_reason == "Dementia"


def test_merge_refusals(
    lead: User, agent: User, quality: User, process_owner: User, make_customer: Callable[..., Any], make_case: Callable[..., Any]
) -> None:
    a, b, c = make_customer(), make_customer(), make_customer()
    with pytest.raises(ValidationFailed) as excinfo:
        customer_merge(actor=quality, survivor=a, duplicate=a)
    assert field_errors(excinfo) == {"duplicate": ["A customer cannot be merged into itself."]}
    make_case(b)
    for refused in (agent, lead, process_owner):  # customers.manage alone does not merge
        with pytest.raises(PermissionDenied):
            customer_merge(actor=refused, survivor=a, duplicate=b)
    assert b.cases.count() == 1
    customer_merge(actor=quality, survivor=a, duplicate=b)
    with pytest.raises(ValidationFailed) as excinfo:
        customer_merge(actor=quality, survivor=b, duplicate=c)
    assert "survivor" in field_errors(excinfo)
    with pytest.raises(ValidationFailed) as excinfo:
        customer_merge(actor=quality, survivor=c, duplicate=b)
    assert field_errors(excinfo) == {"duplicate": ["This customer was merged already."]}
    with pytest.raises(ValidationFailed):
        services.customer_update(actor=lead, customer=b, city="Bonn")


# --- consents, products, contracts ---------------------------------------------------------


def test_consents_are_append_only_records(lead: User, make_customer: Callable[..., Any]) -> None:
    customer = make_customer()
    services.consent_record(actor=lead, customer=customer, purpose="marketing", granted=True, source="web form")
    services.consent_record(actor=lead, customer=customer, purpose="marketing", granted=False, source="letter", note="by post")
    records = list(ConsentRecord.objects.filter(customer=customer))
    assert [r.granted for r in records] == [False, True]  # newest first
    assert records[0].recorded_by == lead
    assert AuditEvent.objects.filter(action="customer.consent_record").count() == 2
    with pytest.raises(ValidationFailed) as excinfo:
        services.consent_record(actor=lead, customer=customer, purpose="spam", granted=True)
    assert field_errors(excinfo) == {"purpose": ["Choose a purpose."]}


def test_products_need_process_or_admin_rights(lead: User, process_owner: User, admin_user: User) -> None:
    with pytest.raises(PermissionDenied):
        services.product_create(actor=lead, code="x", name_de="X", name_en="X")
    product = services.product_create(
        actor=process_owner,
        code="Giro-Plus",
        name_de="Girokonto Plus",
        name_en="Current Plus",
        sector="banking",
        payment_services=True,
    )
    assert product.code == "giro-plus"
    with pytest.raises(ValidationFailed) as excinfo:
        services.product_create(actor=admin_user, code="giro-plus", name_de="", name_en="Y", sector="space")
    assert set(field_errors(excinfo)) == {"code", "name_de", "sector"}
    services.product_update(actor=admin_user, product=product, is_active=False)
    event = AuditEvent.objects.get(action="product.update")
    assert event.before == {"is_active": True} and event.after == {"is_active": False}


def test_contract_validation(lead: User, make_customer: Callable[..., Any], product: Any) -> None:
    customer = make_customer()
    contract = services.contract_create(
        actor=lead, customer=customer, product=product, contract_number="v-2024-1", starts_on=dt.date(2024, 1, 1)
    )
    assert contract.contract_number == "V-2024-1"
    with pytest.raises(ValidationFailed) as excinfo:
        services.contract_create(
            actor=lead,
            customer=customer,
            product=product,
            contract_number="V-2024-1",
            starts_on=dt.date(2024, 2, 1),
            ends_on=dt.date(2024, 1, 1),
            status="weird",
        )
    assert set(field_errors(excinfo)) == {"contract_number", "ends_on", "status"}


def test_contract_end_sets_status_and_date_and_is_audited(lead: User, make_customer: Callable[..., Any], product: Any) -> None:
    contract = services.contract_create(
        actor=lead, customer=make_customer(), product=product, contract_number="V-E1", starts_on=dt.date(2024, 1, 1)
    )
    ended = services.contract_end(actor=lead, contract=contract, ends_on=dt.date(2025, 6, 30))
    assert (ended.status, ended.ends_on) == ("ended", dt.date(2025, 6, 30))
    contract.refresh_from_db()
    assert (contract.status, contract.ends_on) == ("ended", dt.date(2025, 6, 30))
    event = AuditEvent.objects.get(action="contract.end", object_id=str(contract.pk))
    assert event.actor == lead
    assert event.before["status"] == "active" and event.before["ends_on"] is None
    assert event.after["status"] == "ended" and event.after["ends_on"] == "2025-06-30"
    assert event.after["contract_number"] == "V-E1"


def test_contract_end_defaults_to_today_and_allows_a_future_date(
    lead: User, make_customer: Callable[..., Any], product: Any
) -> None:
    from django.utils import timezone

    customer = make_customer()
    first = services.contract_create(actor=lead, customer=customer, product=product, contract_number="V-E2")
    assert services.contract_end(actor=lead, contract=first).ends_on == timezone.localdate()
    # A termination with notice: recorded now, ending later; pending contracts can be ended too.
    second = services.contract_create(actor=lead, customer=customer, product=product, contract_number="V-E3", status="pending")
    ahead = timezone.localdate() + dt.timedelta(days=400)
    assert services.contract_end(actor=lead, contract=second, ends_on=ahead).ends_on == ahead


def test_contract_end_refusals(
    make_user: Callable[..., User],
    agent: User,
    lead: User,
    process_owner: User,
    make_customer: Callable[..., Any],
    product: Any,
) -> None:
    contract = services.contract_create(
        actor=lead, customer=make_customer(), product=product, contract_number="V-E4", starts_on=dt.date(2024, 3, 1)
    )
    # Agents manage customers in the default roles; process owners and auditors do not.
    for reader in (process_owner, make_user("auditor", language="en")):
        with pytest.raises(PermissionDenied):
            services.contract_end(actor=reader, contract=contract)
    with pytest.raises(ValidationFailed) as excinfo:
        services.contract_end(actor=agent, contract=contract, ends_on=dt.date(2024, 2, 29))
    assert field_errors(excinfo) == {"ends_on": ["The end cannot be before the start."]}
    services.contract_end(actor=agent, contract=contract, ends_on=dt.date(2024, 3, 1))  # the start day itself is fine
    with pytest.raises(ValidationFailed) as excinfo:
        services.contract_end(actor=lead, contract=contract, ends_on=dt.date(2024, 12, 31))
    assert field_errors(excinfo) == {"status": ["This contract has ended already."]}
    contract.refresh_from_db()
    assert contract.ends_on == dt.date(2024, 3, 1)
    assert AuditEvent.objects.filter(action="contract.end").count() == 1
