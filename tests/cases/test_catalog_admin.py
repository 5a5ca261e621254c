"""Settings › case types, custom fields and categories: services, screens, permissions, audit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from leitplanke.accounts.models import User
from leitplanke.cases import catalog_services, services
from leitplanke.cases.forms import CaseForm
from leitplanke.cases.models import CaseType, Category, CustomFieldDefinition
from leitplanke.core.errors import PermissionDenied, ValidationFailed
from leitplanke.core.models import AuditEvent

from .conftest import ensure_default_case_types

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user: User, client_for: Callable[[User], Client]) -> Client:
    return client_for(admin_user)


@pytest.fixture
def catalog(db: Any) -> dict[str, Any]:
    ensure_default_case_types()
    return {"complaint": CaseType.objects.get(key="complaint"), "billing": Category.objects.get(key="billing")}


def last_event(action: str) -> AuditEvent:
    event = AuditEvent.objects.filter(action=action).order_by("-id").first()
    assert event is not None, f"no audit event {action}"
    return event


def pages(catalog: dict[str, Any], field: CustomFieldDefinition) -> list[str]:
    case_type, category = catalog["complaint"], catalog["billing"]
    return [
        reverse("catalog:case_types"),
        reverse("catalog:case_type_create"),
        reverse("catalog:case_type_edit", args=[case_type.pk]),
        reverse("catalog:custom_field_edit", args=[case_type.pk, field.pk]),
        reverse("catalog:categories"),
        reverse("catalog:category_create"),
        reverse("catalog:category_edit", args=[category.pk]),
    ]


@pytest.fixture
def text_field(admin_user: User, catalog: dict[str, Any]) -> CustomFieldDefinition:
    return catalog_services.custom_field_create(
        actor=admin_user,
        case_type=catalog["complaint"],
        key="policy_number",
        label_de="Policennummer",
        label_en="Policy number",
        kind="text",
    )


# --- case types ---------------------------------------------------------------------------------


def test_admin_creates_and_edits_a_case_type(admin_client: Client, catalog: dict[str, Any]) -> None:
    response = admin_client.post(
        reverse("catalog:case_type_create"),
        {
            "key": "claim",
            "name_de": "Schadenmeldung",
            "name_en": "Claim",
            "acknowledgement_enabled": "on",
            "is_active": "on",
            "order": "50",
        },
    )
    case_type = CaseType.objects.get(key="claim")
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:case_type_edit", args=[case_type.pk])
    assert case_type.acknowledgement_enabled and case_type.is_active and not case_type.is_complaint
    assert last_event("case_type.create").after["key"] == "claim"

    listing = admin_client.get(reverse("catalog:case_types"))
    assert listing.status_code == 200 and "Claim" in listing.content.decode()

    # Unticked checkboxes are absent from the POST: acknowledgement switched off, complaint on.
    response = admin_client.post(
        reverse("catalog:case_type_edit", args=[case_type.pk]),
        {"name_de": "Schadenmeldung", "name_en": "Insurance claim", "is_complaint": "on", "is_active": "on", "order": "50"},
    )
    assert response.status_code == 302
    case_type.refresh_from_db()
    assert case_type.name_en == "Insurance claim"
    assert case_type.is_complaint is True
    assert case_type.acknowledgement_enabled is False
    event = last_event("case_type.update")
    assert event.before == {"acknowledgement_enabled": True, "is_complaint": False, "name_en": "Claim"}
    assert event.after == {"acknowledgement_enabled": False, "is_complaint": True, "name_en": "Insurance claim"}
    assert event.actor_label.startswith("administrator")


def test_saving_unchanged_case_type_writes_no_audit_event(admin_user: User, catalog: dict[str, Any]) -> None:
    before = AuditEvent.objects.filter(action="case_type.update").count()
    complaint = catalog["complaint"]
    catalog_services.case_type_update(actor=admin_user, case_type=complaint, name_en=complaint.name_en)
    assert AuditEvent.objects.filter(action="case_type.update").count() == before


def test_duplicate_case_type_key_is_400_and_keeps_input(admin_client: Client, catalog: dict[str, Any]) -> None:
    response = admin_client.post(
        reverse("catalog:case_type_create"),
        {"key": "complaint", "name_de": "Noch eine Beschwerde", "name_en": "Another complaint", "order": "7"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "A case type with this key exists already." in body
    assert 'value="Noch eine Beschwerde"' in body and 'value="Another complaint"' in body
    assert CaseType.objects.filter(key="complaint").count() == 1


def test_case_type_key_must_be_a_slug_and_cannot_change(admin_user: User, catalog: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as error:
        catalog_services.case_type_create(actor=admin_user, key="Bad Key!", name_de="x", name_en="x")
    assert "key" in error.value.field_errors
    with pytest.raises(ValidationFailed) as error:
        catalog_services.case_type_update(actor=admin_user, case_type=catalog["complaint"], key="other")
    assert "key" in error.value.field_errors


# --- categories ---------------------------------------------------------------------------------


def test_admin_adds_a_category_under_a_parent(admin_client: Client, catalog: dict[str, Any]) -> None:
    billing = catalog["billing"]
    form_page = admin_client.get(reverse("catalog:category_create") + f"?parent={billing.pk}")
    assert form_page.status_code == 200
    response = admin_client.post(
        reverse("catalog:category_create"),
        {"parent": billing.pk, "key": "billing-late-invoice", "name_de": "Späte Rechnung", "name_en": "Late invoice"},
    )
    assert response.status_code == 302
    child = Category.objects.get(key="billing-late-invoice")
    assert child.parent_id == billing.pk
    assert child.depth == billing.depth + 1
    assert child.path == f"{billing.path}{child.pk}/"
    assert last_event("category.create").object_id == str(child.pk)

    page = admin_client.get(reverse("catalog:categories")).content.decode()
    tree = page[page.index("<tbody>") :]  # the success message above the table names the category too
    assert tree.index("Billing") < tree.index("Late invoice") < tree.index("Payments")


def test_admin_adds_a_top_level_category_and_edits_it(admin_client: Client, catalog: dict[str, Any]) -> None:
    response = admin_client.post(
        reverse("catalog:category_create"), {"parent": "", "key": "claims", "name_de": "Schaden", "name_en": "Claims"}
    )
    assert response.status_code == 302
    category = Category.objects.get(key="claims")
    assert category.parent_id is None and category.depth == 0 and category.path == f"{category.pk}/"

    response = admin_client.post(
        reverse("catalog:category_edit", args=[category.pk]), {"name_de": "Schäden", "name_en": "Claims"}
    )
    assert response.status_code == 302
    category.refresh_from_db()
    assert category.name_de == "Schäden" and category.is_active is False
    event = last_event("category.update")
    assert event.before == {"is_active": True, "name_de": "Schaden"}
    assert event.after == {"is_active": False, "name_de": "Schäden"}


def test_duplicate_category_key_is_400_and_keeps_input(admin_client: Client, catalog: dict[str, Any]) -> None:
    response = admin_client.post(
        reverse("catalog:category_create"), {"parent": "", "key": "billing", "name_de": "Doppelt", "name_en": "Twice"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "This key exists already." in body
    assert 'value="Doppelt"' in body and 'value="Twice"' in body


# --- custom fields ------------------------------------------------------------------------------


def test_admin_adds_a_choice_field_and_the_case_form_knows_it(admin_client: Client, catalog: dict[str, Any]) -> None:
    complaint = catalog["complaint"]
    response = admin_client.post(
        reverse("catalog:custom_field_create", args=[complaint.pk]),
        {
            "key": "resolution_wish",
            "label_de": "Gewünschte Lösung",
            "label_en": "Requested resolution",
            "kind": "choice",
            "choices": "refund | Erstattung | Refund\nreplacement | Ersatz | Replacement\napology",
            "required": "on",
            "order": "5",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    definition = CustomFieldDefinition.objects.get(case_type=complaint, key="resolution_wish")
    assert definition.required is True
    assert definition.choices == [
        {"value": "refund", "label_de": "Erstattung", "label_en": "Refund"},
        {"value": "replacement", "label_de": "Ersatz", "label_en": "Replacement"},
        {"value": "apology", "label_de": "apology", "label_en": "apology"},
    ]
    assert last_event("custom_field.create").after["kind"] == "choice"

    edit_page = admin_client.get(reverse("catalog:case_type_edit", args=[complaint.pk])).content.decode()
    assert "Requested resolution" in edit_page

    form = CaseForm(case_type=complaint)
    assert [value for value, _label in form.fields["cf_resolution_wish"].choices] == ["", "refund", "replacement", "apology"]  # type: ignore[attr-defined]
    assert form.fields["cf_resolution_wish"].required is True

    assert services.validate_custom_fields(complaint, {"resolution_wish": "refund"}) == {"resolution_wish": "refund"}
    with pytest.raises(ValidationFailed) as error:
        services.validate_custom_fields(complaint, {"resolution_wish": "cash"})
    assert "custom_fields.resolution_wish" in error.value.field_errors
    with pytest.raises(ValidationFailed) as error:
        services.validate_custom_fields(complaint, {})
    assert "custom_fields.resolution_wish" in error.value.field_errors


def test_admin_edits_a_custom_field_but_not_its_kind(
    admin_client: Client, admin_user: User, catalog: dict[str, Any], text_field: CustomFieldDefinition
) -> None:
    complaint = catalog["complaint"]
    url = reverse("catalog:custom_field_edit", args=[complaint.pk, text_field.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url, {"label_de": "Versicherungsschein", "label_en": "Policy number", "kind": "choice", "order": "3"}
    )
    assert response.status_code == 302
    text_field.refresh_from_db()
    assert text_field.kind == "text" and text_field.label_de == "Versicherungsschein" and text_field.is_active is False
    event = last_event("custom_field.update")
    assert event.before["label_de"] == "Policennummer" and event.after["is_active"] is False
    # Inactive fields are no longer part of the case form nor checked.
    assert "cf_policy_number" not in CaseForm(case_type=complaint).fields
    with pytest.raises(ValidationFailed):
        catalog_services.custom_field_update(actor=admin_user, definition=text_field, kind="number")


def test_choice_lines_are_validated(admin_client: Client, catalog: dict[str, Any]) -> None:
    complaint = catalog["complaint"]
    response = admin_client.post(
        reverse("catalog:custom_field_create", args=[complaint.pk]),
        {
            "key": "channel_wish",
            "label_de": "Kanal",
            "label_en": "Channel",
            "kind": "choice",
            "choices": "mail | Post\nmail | Brief",
            "order": "0",
            "is_active": "on",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "appears twice" in body
    assert "mail | Post\nmail | Brief" in body
    assert not CustomFieldDefinition.objects.filter(key="channel_wish").exists()


def test_duplicate_custom_field_key_is_400_and_keeps_input(
    admin_client: Client, catalog: dict[str, Any], text_field: CustomFieldDefinition
) -> None:
    complaint = catalog["complaint"]
    response = admin_client.post(
        reverse("catalog:custom_field_create", args=[complaint.pk]),
        {"key": "policy_number", "label_de": "Nochmal", "label_en": "Again", "kind": "text", "order": "1"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "This case type has a field with this key already." in body
    assert 'value="Nochmal"' in body and 'value="Again"' in body
    # The same key on another case type is fine.
    inquiry = CaseType.objects.get(key="inquiry")
    response = admin_client.post(
        reverse("catalog:custom_field_create", args=[inquiry.pk]),
        {"key": "policy_number", "label_de": "Nochmal", "label_en": "Again", "kind": "text", "order": "1"},
    )
    assert response.status_code == 302


# --- permissions --------------------------------------------------------------------------------


def test_every_page_opens_for_the_administrator(
    admin_client: Client, catalog: dict[str, Any], text_field: CustomFieldDefinition
) -> None:
    for url in pages(catalog, text_field):
        assert admin_client.get(url).status_code == 200, url
    index = admin_client.get(reverse("settings:index")).content.decode()
    assert reverse("catalog:case_types") in index and reverse("catalog:categories") in index


def test_agent_gets_403_on_every_page(
    make_user: Callable[..., User],
    client_for: Callable[[User], Client],
    catalog: dict[str, Any],
    text_field: CustomFieldDefinition,
) -> None:
    client = client_for(make_user("agent"))
    for url in pages(catalog, text_field):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {}).status_code == 403, url


def test_auditor_may_not_write(
    make_user: Callable[..., User],
    client_for: Callable[[User], Client],
    catalog: dict[str, Any],
    text_field: CustomFieldDefinition,
) -> None:
    auditor = make_user("auditor")
    client = client_for(auditor)
    complaint = catalog["complaint"]
    posts = [
        (reverse("catalog:case_type_create"), {"key": "x", "name_de": "x", "name_en": "x", "order": "0"}),
        (reverse("catalog:case_type_edit", args=[complaint.pk]), {"name_de": "x", "name_en": "x", "order": "0"}),
        (
            reverse("catalog:custom_field_create", args=[complaint.pk]),
            {"key": "x", "label_de": "x", "label_en": "x", "kind": "text", "order": "0"},
        ),
        (reverse("catalog:custom_field_edit", args=[complaint.pk, text_field.pk]), {"label_de": "x", "label_en": "x"}),
        (reverse("catalog:category_create"), {"key": "x", "name_de": "x", "name_en": "x"}),
        (reverse("catalog:category_edit", args=[catalog["billing"].pk]), {"name_de": "x", "name_en": "x"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert not CaseType.objects.filter(key="x").exists()
    assert not Category.objects.filter(key="x").exists()
    complaint.refresh_from_db()
    assert complaint.name_en == "Complaint"

    with pytest.raises(PermissionDenied):
        catalog_services.case_type_create(actor=auditor, key="y", name_de="y", name_en="y")
    with pytest.raises(PermissionDenied):
        catalog_services.case_type_update(actor=auditor, case_type=complaint, is_active=False)
    with pytest.raises(PermissionDenied):
        catalog_services.category_update(actor=auditor, category=catalog["billing"], is_active=False)
    with pytest.raises(PermissionDenied):
        catalog_services.category_create(actor=auditor, parent=None, key="y", name_de="y", name_en="y")
    with pytest.raises(PermissionDenied):
        catalog_services.custom_field_create(actor=auditor, case_type=complaint, key="y", label_de="y", label_en="y", kind="text")
    with pytest.raises(PermissionDenied):
        catalog_services.custom_field_update(actor=auditor, definition=text_field, required=True)


def test_admin_chooses_the_deadline_rules_of_a_case_type(admin_client: Client, catalog: dict[str, Any]) -> None:
    case_type = catalog["complaint"]
    page = admin_client.get(reverse("catalog:case_type_edit", args=[case_type.pk])).content.decode()
    assert 'value="psd2_de"' in page and 'value="enwg_111a"' in page
    response = admin_client.post(
        reverse("catalog:case_type_edit", args=[case_type.pk]),
        {"name_de": "Beschwerde", "name_en": "Complaint", "is_complaint": "on", "is_active": "on", "order": "10",
         "deadline_rules": ["psd2_de", "internal_first_response"]},
    )  # fmt: skip
    assert response.status_code == 302
    case_type.refresh_from_db()
    assert case_type.deadline_rules == ["psd2_de", "internal_first_response"]
    assert last_event("case_type.update").after["deadline_rules"] == ["psd2_de", "internal_first_response"]
    # an unknown rule is a form error, nothing is stored
    response = admin_client.post(
        reverse("catalog:case_type_edit", args=[case_type.pk]),
        {"name_de": "Beschwerde", "name_en": "Complaint", "is_active": "on", "order": "10", "deadline_rules": ["nope"]},
    )
    assert response.status_code == 400
    case_type.refresh_from_db()
    assert case_type.deadline_rules == ["psd2_de", "internal_first_response"]


def test_the_service_refuses_unknown_deadline_rules(admin_user: User, catalog: dict[str, Any]) -> None:
    from leitplanke.cases import catalog_services
    from leitplanke.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as error:
        catalog_services.case_type_update(actor=admin_user, case_type=catalog["complaint"], deadline_rules=["nope"])
    assert "deadline_rules" in error.value.field_errors
