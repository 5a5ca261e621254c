"""The catalogue clients need to fill in a case: categories (the complaint taxonomy) and
case types with their custom fields. Readable by every authenticated caller with the
read scope; administrators maintain both in the settings."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from leitplanke.api.auth import require_scope
from leitplanke.api.schemas import Problem
from leitplanke.cases import selectors

router = Router(tags=["catalog"])
ERRORS: dict[int, Any] = {401: Problem, 403: Problem, 422: Problem}


class CategoryOut(Schema):
    """One node of the taxonomy; the list is ordered by `path`, so parents precede children."""

    id: int = Field(examples=[17])
    key: str = Field(examples=["billing-wrong-amount"])
    parent_id: int | None = Field(examples=[3])
    path: str = Field(examples=["3/17/"], description="Ids from the root, each followed by '/'.")
    depth: int = Field(examples=[1], description="0 for top-level categories.")
    name_de: str = Field(examples=["Falscher Rechnungsbetrag"])
    name_en: str = Field(examples=["Wrong invoice amount"])
    is_active: bool = Field(examples=[True])


class ChoiceOut(Schema):
    value: str = Field(examples=["refund"])
    label_de: str = Field("", examples=["Erstattung"])
    label_en: str = Field("", examples=["Refund"])


class CustomFieldOut(Schema):
    key: str = Field(examples=["amount_disputed"])
    label_de: str = Field(examples=["Strittiger Betrag"])
    label_en: str = Field(examples=["Disputed amount"])
    kind: str = Field(examples=["money"], description="text, number, money, date, choice or boolean.")
    choices: list[ChoiceOut] = Field(examples=[[]], description="The allowed values of a choice field.")
    required: bool = Field(examples=[False])
    order: int = Field(examples=[0])

    @staticmethod
    def resolve_choices(obj: Any) -> list[dict[str, Any]]:
        return [choice if isinstance(choice, dict) else {"value": str(choice)} for choice in (obj.choices or [])]


class CaseTypeOut(Schema):
    key: str = Field(examples=["complaint"])
    name_de: str = Field(examples=["Beschwerde"])
    name_en: str = Field(examples=["Complaint"])
    is_complaint: bool = Field(examples=[True], description="Counts as a complaint in regulatory reporting.")
    is_active: bool = Field(examples=[True])
    order: int = Field(examples=[0])
    custom_fields: list[CustomFieldOut]

    @staticmethod
    def resolve_custom_fields(obj: Any) -> list[Any]:
        # Prefetched in the model's order (order, key); retired fields are left out.
        return [field for field in obj.custom_fields.all() if field.is_active]


@router.get("/categories", response={200: list[CategoryOut], **ERRORS}, url_name="category_list", summary="Categories (taxonomy)")
def list_categories(request: HttpRequest) -> Any:
    """The active taxonomy as a flat list in tree order (by materialised path).

    Filter the case list by a category id to include its subcategories.
    """
    require_scope(request, "read")
    return list(selectors.active_categories())


@router.get(
    "/case-types",
    response={200: list[CaseTypeOut], **ERRORS},
    url_name="case_type_list",
    summary="Case types with their custom fields",
)
def list_case_types(request: HttpRequest) -> Any:
    """The active case types (their keys create cases) with the custom fields each carries."""
    require_scope(request, "read")
    return list(selectors.active_case_types().prefetch_related("custom_fields"))
