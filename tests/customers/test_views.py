"""Customer pages: list, search, detail, create, edit (with conflicts), merge, consents,
the audited vulnerability reason, products, and the query count of the list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leitplanke.accounts.models import User
from leitplanke.core.models import AuditEvent
from leitplanke.customers import services
from leitplanke.customers.models import ConsentRecord, Customer

pytestmark = pytest.mark.django_db

FORM = {
    "kind": "person",
    "first_name": "Erika",
    "last_name": "Mustermann",
    "emails": "Erika@Example.org",
    "phones": "0221 123456",
    "preferred_language": "de",
    "segment": "private",
    "value_currency": "EUR",
    "country": "DE",
    "city": "Köln",
}


def test_list_and_search(client_for: Callable[[User], Client], agent: User, make_customer: Callable[..., Any]) -> None:
    make_customer(last_name="Mustermann", emails=["erika@example.org"])
    make_customer(last_name="Normal", first_name="Otto")
    client = client_for(agent)
    response = client.get("/customers/")
    assert response.status_code == 200
    assert b"Mustermann, Erika" in response.content and b"Normal, Otto" in response.content
    assert b'class="table responsive"' in response.content and b"data-label=" in response.content
    response = client.get("/customers/", {"q": "norm"})
    assert b"Normal, Otto" in response.content and b"Mustermann" not in response.content
    response = client.get("/customers/", {"q": "erika@example.org"})
    assert b"Mustermann, Erika" in response.content


def test_list_pages_with_next(client_for: Callable[[User], Client], agent: User, make_customer: Callable[..., Any]) -> None:
    for i in range(30):
        make_customer(last_name=f"Name{i:02d}")
    client = client_for(agent)
    first = client.get("/customers/")
    assert first.context["page"].next_cursor
    second = client.get("/customers/", {"cursor": first.context["page"].next_cursor})
    assert second.status_code == 200
    assert [c.last_name for c in second.context["customers"]] == [f"Name{i:02d}" for i in range(25, 30)]
    assert client.get("/customers/", {"cursor": "tampered"}).status_code == 200


def test_users_without_case_capabilities_get_403(
    client_for: Callable[[User], Client], outsider: User, make_customer: Callable[..., Any]
) -> None:
    customer = make_customer()
    client = client_for(outsider)
    for url in [
        "/customers/",
        f"/customers/{customer.pk}/",
        "/customers/new/",
        f"/customers/{customer.pk}/edit/",
        "/customers/products/",
    ]:
        assert client.get(url).status_code == 403, url


def test_anonymous_users_are_sent_to_login(client: Client) -> None:
    response = client.get("/customers/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_navigation_links_to_customers(client_for: Callable[[User], Client], agent: User) -> None:
    assert b'href="/customers/"' in client_for(agent).get("/customers/").content


def test_create_redirects_to_the_detail(client_for: Callable[[User], Client], agent: User) -> None:
    response = client_for(agent).post("/customers/new/", FORM)
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert response["Location"] == f"/customers/{customer.pk}/"
    assert customer.emails.get().address == "erika@example.org"
    assert customer.phones.get().number == "+49221123456"


def test_create_shows_field_errors_and_keeps_input(client_for: Callable[[User], Client], agent: User) -> None:
    response = client_for(agent).post("/customers/new/", {**FORM, "last_name": "", "phones": "0221 1"})
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["last_name"] == ["A person needs a last name."]
    assert form.errors["phones"] == ["“0221 1” is not a valid phone number."]
    assert b"Erika@Example.org" in response.content
    assert not Customer.objects.exists()


def test_agents_do_not_get_vulnerability_fields(client_for: Callable[[User], Client], agent: User, lead: User) -> None:
    assert "is_vulnerable" not in client_for(agent).get("/customers/new/").context["form"].fields
    assert "is_vulnerable" in client_for(lead).get("/customers/new/").context["form"].fields


def test_detail_shows_contact_data_contracts_consents_and_cases(
    client_for: Callable[[User], Client],
    process_owner: User,
    lead: User,
    make_customer: Callable[..., Any],
    product: Any,
    make_case: Callable[..., Any],
) -> None:
    customer = make_customer(emails=["erika@example.org"], phones=["0221 123456"], city="Köln", segment="premium")
    services.contract_create(actor=lead, customer=customer, product=product, contract_number="V-77")
    services.consent_record(actor=lead, customer=customer, purpose="survey", granted=True, source="phone")
    case = make_case(customer, subject="Meter reading wrong")
    response = client_for(process_owner).get(f"/customers/{customer.pk}/")
    assert response.status_code == 200
    content = response.content.decode()
    for text in [
        "erika@example.org",
        "+49221123456",
        "Köln",
        "V-77",
        "Electricity Basic",
        "phone",
        "Meter reading wrong",
        f'href="/cases/{case.pk}/"',
    ]:
        assert text in content, text
    assert client_for(process_owner).get(f"/customers/{customer.pk + 99}/").status_code == 404


def test_vulnerability_panel_only_for_allowed_roles_and_reason_audited(
    client_for: Callable[[User], Client],
    agent: User,
    lead: User,
    make_customer: Callable[..., Any],
) -> None:
    customer = make_customer(is_vulnerable=True, vulnerability_reason="Recently bereaved")
    agent_page = client_for(agent).get(f"/customers/{customer.pk}/").content.decode()
    assert "Recently bereaved" not in agent_page and "vulnerability-panel" not in agent_page
    assert client_for(agent).post(f"/customers/{customer.pk}/vulnerability/").status_code == 403
    lead_client = client_for(lead)
    lead_page = lead_client.get(f"/customers/{customer.pk}/").content.decode()
    assert "vulnerability-panel" in lead_page and "Recently bereaved" not in lead_page
    assert not AuditEvent.objects.filter(action="customer.vulnerability_view").exists()
    assert lead_client.get(f"/customers/{customer.pk}/vulnerability/").status_code == 405
    response = lead_client.post(f"/customers/{customer.pk}/vulnerability/")
    assert response.status_code == 200 and b"Recently bereaved" in response.content
    partial = lead_client.post(f"/customers/{customer.pk}/vulnerability/", headers={"HX-Request": "true"})
    assert b"Recently bereaved" in partial.content and b"<html" not in partial.content
    assert AuditEvent.objects.filter(action="customer.vulnerability_view", actor=lead).count() == 2
    # The edit form never carries the reason either.
    assert "Recently bereaved" not in lead_client.get(f"/customers/{customer.pk}/edit/").content.decode()


def test_edit_saves_and_redirects(client_for: Callable[[User], Client], agent: User, make_customer: Callable[..., Any]) -> None:
    customer = make_customer(emails=["erika@example.org"])
    client = client_for(agent)
    form = client.get(f"/customers/{customer.pk}/edit/").context["form"]
    assert form.initial["emails"] == "erika@example.org"
    response = client.post(f"/customers/{customer.pk}/edit/", {**FORM, "city": "Bonn", "version": "1"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.city, customer.version) == ("Bonn", 2)


def test_edit_with_invalid_input_is_400(
    client_for: Callable[[User], Client], agent: User, make_customer: Callable[..., Any]
) -> None:
    customer = make_customer()
    response = client_for(agent).post(f"/customers/{customer.pk}/edit/", {**FORM, "emails": "nope", "version": "1"})
    assert response.status_code == 400
    assert response.context["form"].errors["emails"] == ["“nope” is not a valid e-mail address."]


def test_edit_conflict_is_409_and_keeps_typed_values(
    client_for: Callable[[User], Client], agent: User, lead: User, make_customer: Callable[..., Any]
) -> None:
    customer = make_customer(city="Köln")
    services.customer_update(actor=lead, customer=customer, city="Aachen")  # someone else saved: version 2
    client = client_for(agent)
    response = client.post(f"/customers/{customer.pk}/edit/", {**FORM, "city": "Bonn", "version": "1"})
    assert response.status_code == 409
    assert b'value="Bonn"' in response.content
    assert response.context["form"].data["version"] == "2"
    assert Customer.objects.get().city == "Aachen"
    # Saving again (now against version 2) works.
    again = client.post(f"/customers/{customer.pk}/edit/", {**FORM, "city": "Bonn", "version": "2"})
    assert again.status_code == 302
    assert Customer.objects.get().city == "Bonn"


def test_lead_sets_vulnerability_in_edit_form(
    client_for: Callable[[User], Client], lead: User, make_customer: Callable[..., Any]
) -> None:
    customer = make_customer()
    client = client_for(lead)
    response = client.post(f"/customers/{customer.pk}/edit/", {**FORM, "version": "1", "is_vulnerable": "on"})
    assert response.status_code == 400
    assert response.context["form"].errors["vulnerability_reason"] == ["Give a reason for the vulnerability."]
    response = client.post(
        f"/customers/{customer.pk}/edit/",
        {**FORM, "version": "1", "is_vulnerable": "on", "vulnerability_reason": "Hospital stay"},
    )
    assert response.status_code == 302
    assert Customer.objects.get().vulnerability_reason == "Hospital stay"
    # Saving again without typing a reason keeps it.
    client.post(f"/customers/{customer.pk}/edit/", {**FORM, "version": "2", "is_vulnerable": "on", "city": "Bonn"})
    assert Customer.objects.get().vulnerability_reason == "Hospital stay"


def test_merge_flow(
    client_for: Callable[[User], Client],
    agent: User,
    quality: User,
    make_customer: Callable[..., Any],
    make_case: Callable[..., Any],
) -> None:
    survivor = make_customer(emails=["a@example.org"])
    duplicate = make_customer(emails=["b@example.org"], customer_number="K-0000099")
    make_case(duplicate)
    agents_page = client_for(agent).get(f"/customers/{survivor.pk}/")
    assert f"/customers/{survivor.pk}/merge/" not in agents_page.content.decode()  # merging needs customers.merge
    assert client_for(agent).get(f"/customers/{survivor.pk}/merge/").status_code == 403
    assert f"/customers/{survivor.pk}/merge/" in client_for(quality).get(f"/customers/{survivor.pk}/").content.decode()
    client = client_for(quality)
    assert client.get(f"/customers/{survivor.pk}/merge/").status_code == 200
    bad = client.post(f"/customers/{survivor.pk}/merge/", {"duplicate_number": "K-404"})
    assert bad.status_code == 400 and bad.context["form"].errors["duplicate_number"] == ["No customer has this number."]
    itself = client.post(f"/customers/{survivor.pk}/merge/", {"duplicate_number": survivor.customer_number})
    assert itself.status_code == 400
    preview = client.post(f"/customers/{survivor.pk}/merge/", {"duplicate_number": "k-0000099"})
    assert preview.status_code == 200
    assert preview.context["preview"] == {"emails": 1, "phones": 0, "consents": 0, "contracts": 0, "cases": 1}
    assert not Customer.objects.filter(merged_into=survivor).exists()
    done = client.post(f"/customers/{survivor.pk}/merge/", {"duplicate_number": "K-0000099", "confirm": "yes"})
    assert done.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == survivor.pk
    assert survivor.cases.count() == 1


def test_record_consent(client_for: Callable[[User], Client], agent: User, make_customer: Callable[..., Any]) -> None:
    customer = make_customer()
    client = client_for(agent)
    response = client.post(f"/customers/{customer.pk}/consents/", {"purpose": "marketing", "granted": "0", "source": "letter"})
    assert response.status_code == 302
    record = ConsentRecord.objects.get()
    assert (record.purpose, record.granted, record.source) == ("marketing", False, "letter")
    assert client.post(f"/customers/{customer.pk}/consents/", {"purpose": "x", "granted": "1"}).status_code == 400


def test_add_contract(client_for: Callable[[User], Client], agent: User, make_customer: Callable[..., Any], product: Any) -> None:
    customer = make_customer()
    client = client_for(agent)
    data = {"contract-product": str(product.pk), "contract-contract_number": "V-1", "contract-status": "active"}
    assert client.post(f"/customers/{customer.pk}/contracts/", data).status_code == 302
    assert customer.contracts.get().contract_number == "V-1"
    assert client.post(f"/customers/{customer.pk}/contracts/", data).status_code == 400


def test_products_page(client_for: Callable[[User], Client], agent: User, process_owner: User, product: Any) -> None:
    agent_page = client_for(agent).get("/customers/products/")
    assert agent_page.status_code == 200 and b"Electricity Basic" in agent_page.content
    assert agent_page.context.get("form") is None
    assert client_for(agent).post("/customers/products/", {"code": "x"}).status_code == 403
    owner = client_for(process_owner)
    response = owner.post(
        "/customers/products/",
        {"code": "gas-basis", "name_de": "Gas Basis", "name_en": "Gas Basic", "sector": "energy", "is_active": "on"},
    )
    assert response.status_code == 302
    invalid = owner.post("/customers/products/", {"code": "gas-basis", "name_de": "G", "name_en": "G", "sector": "energy"})
    assert invalid.status_code == 400 and invalid.context["form"].errors["code"] == ["This code is taken."]
    assert owner.get(f"/customers/products/{product.pk}/edit/").status_code == 200
    assert client_for(agent).get(f"/customers/products/{product.pk}/edit/").status_code == 403


def _list_queries(client: Client) -> int:
    # A first request loads reference data changed since (roles, case types): count the second.
    client.get("/customers/")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/customers/")
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_is_constant(client_for: Callable[[User], Client], agent: User, lead: User) -> None:
    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            services.customer_create(
                actor=lead, last_name=f"Kunde{i:03d}", emails=[f"k{i}@example.org"], phones=[f"0221 1234{i:02d}"]
            )

    add(5, 0)
    client = client_for(agent)
    few = _list_queries(client)
    add(35, 5)
    many = _list_queries(client_for(agent))
    assert few == many


def test_detail_query_count_does_not_grow_with_related_rows(
    client_for: Callable[[User], Client],
    process_owner: User,
    lead: User,
    make_customer: Callable[..., Any],
    product: Any,
    make_case: Callable[..., Any],
) -> None:
    customer = make_customer(emails=["a@example.org"], phones=["0221 123456"])

    def count() -> int:
        # A first request loads reference data changed since (roles, case types): count the second.
        client_for(process_owner).get(f"/customers/{customer.pk}/")
        with CaptureQueriesContext(connection) as ctx:
            assert client_for(process_owner).get(f"/customers/{customer.pk}/").status_code == 200
        return len(ctx.captured_queries)

    make_case(customer)
    services.contract_create(actor=lead, customer=customer, product=product, contract_number="V-0")
    services.consent_record(actor=lead, customer=customer, purpose="survey", granted=True)
    few = count()
    for i in range(1, 10):
        make_case(customer)
        services.contract_create(actor=lead, customer=customer, product=product, contract_number=f"V-{i}")
        services.consent_record(actor=lead, customer=customer, purpose="marketing", granted=bool(i % 2))
    assert count() == few


def _contract(lead: User, customer: Any, product: Any, number: str, **kwargs: Any) -> Any:
    return services.contract_create(actor=lead, customer=customer, product=product, contract_number=number, **kwargs)


def test_end_contract_form_only_for_managers_and_only_on_running_contracts(
    client_for: Callable[[User], Client],
    agent: User,
    process_owner: User,
    lead: User,
    make_customer: Callable[..., Any],
    product: Any,
) -> None:
    import datetime as dt

    customer = make_customer()
    running = _contract(lead, customer, product, "V-RUN")
    ended = _contract(lead, customer, product, "V-OLD", starts_on=dt.date(2020, 1, 1))
    services.contract_end(actor=lead, contract=ended, ends_on=dt.date(2021, 1, 1))
    page = client_for(agent).get(f"/customers/{customer.pk}/").content.decode()
    assert f'action="/customers/{customer.pk}/contracts/{running.pk}/end/"' in page
    assert f"/contracts/{ended.pk}/end/" not in page
    assert "End contract" in page and f'name="end-{running.pk}-ends_on"' in page
    assert f'value="{timezone.localdate():%Y-%m-%d}"' in page  # today as the default
    assert "<script" not in page.split('id="contracts-heading"')[1].split("</section>")[0]
    assert "style=" not in page
    viewer_page = client_for(process_owner).get(f"/customers/{customer.pk}/").content.decode()
    assert "V-RUN" in viewer_page and "/end/" not in viewer_page and "End contract" not in viewer_page
    assert client_for(process_owner).post(f"/customers/{customer.pk}/contracts/{running.pk}/end/").status_code == 403


def test_end_contract_by_post(
    client_for: Callable[[User], Client], agent: User, lead: User, make_customer: Callable[..., Any], product: Any
) -> None:
    import datetime as dt

    customer = make_customer()
    contract = _contract(lead, customer, product, "V-END", starts_on=dt.date(2024, 1, 1))
    client = client_for(agent)
    url = f"/customers/{customer.pk}/contracts/{contract.pk}/end/"
    assert client.get(url).status_code == 405
    response = client.post(url, {f"end-{contract.pk}-ends_on": "2025-03-31"}, follow=True)
    assert response.redirect_chain == [(f"/customers/{customer.pk}/", 302)]
    assert "The contract V-END was ended." in response.content.decode()
    contract.refresh_from_db()
    assert (contract.status, contract.ends_on) == ("ended", dt.date(2025, 3, 31))
    assert AuditEvent.objects.filter(action="contract.end", actor=agent).count() == 1
    # Ended: no form any more, and a second POST shows the refusal instead of ending again.
    again = client.post(url, {f"end-{contract.pk}-ends_on": "2025-04-30"})
    assert again.status_code == 400
    assert "This contract has ended already." in again.content.decode()
    contract.refresh_from_db()
    assert contract.ends_on == dt.date(2025, 3, 31)


def test_end_contract_without_a_date_ends_today(
    client_for: Callable[[User], Client], agent: User, lead: User, make_customer: Callable[..., Any], product: Any
) -> None:
    customer = make_customer()
    contract = _contract(lead, customer, product, "V-TODAY")
    response = client_for(agent).post(f"/customers/{customer.pk}/contracts/{contract.pk}/end/", {})
    assert response.status_code == 302
    contract.refresh_from_db()
    assert (contract.status, contract.ends_on) == ("ended", timezone.localdate())


def test_end_contract_of_another_customer_is_404(
    client_for: Callable[[User], Client], agent: User, lead: User, make_customer: Callable[..., Any], product: Any
) -> None:
    mine, other = make_customer(), make_customer(last_name="Anders")
    contract = _contract(lead, other, product, "V-OTHER")
    client = client_for(agent)
    assert client.post(f"/customers/{mine.pk}/contracts/{contract.pk}/end/").status_code == 404
    assert client.post(f"/customers/{mine.pk}/contracts/{contract.pk + 99}/end/").status_code == 404
    contract.refresh_from_db()
    assert contract.status == "active"


def test_end_contract_errors_in_the_users_language(
    client_for: Callable[[User], Client],
    make_user: Callable[..., User],
    team: Any,
    lead: User,
    make_customer: Callable[..., Any],
    product: Any,
) -> None:
    import datetime as dt

    german_agent = make_user("agent", teams=[team], language="de")
    customer = make_customer()
    contract = _contract(lead, customer, product, "V-DE", starts_on=dt.date(2024, 5, 1))
    response = client_for(german_agent).post(
        f"/customers/{customer.pk}/contracts/{contract.pk}/end/", {f"end-{contract.pk}-ends_on": "2024-04-30"}
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert "Das Ende darf nicht vor dem Beginn liegen." in content
    assert 'value="2024-04-30"' in content  # what was typed stays
    assert "Vertrag beenden" in content
    contract.refresh_from_db()
    assert contract.status == "active"
    ok = client_for(german_agent).post(
        f"/customers/{customer.pk}/contracts/{contract.pk}/end/", {f"end-{contract.pk}-ends_on": "2024-05-31"}, follow=True
    )
    assert "Der Vertrag V-DE wurde beendet." in ok.content.decode()
