"""Reads of the case catalogue for the administration screens (case types, categories,
custom fields), for administrators only. The catalogue is small (dozens of rows), so
lists are not paginated."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from leitplanke.accounts.actors import Actor
from leitplanke.accounts.permissions import MANAGE_ORGANISATION, has_capability
from leitplanke.core.errors import NotFound, PermissionDenied

from .models import CaseType, Category, CustomFieldDefinition


def _require_admin(actor: Actor) -> None:
    if not has_capability(actor, MANAGE_ORGANISATION):
        raise PermissionDenied()


def case_type_list(*, actor: Actor) -> QuerySet[CaseType]:
    """All case types, active or not, with the number of their active custom fields."""
    _require_admin(actor)
    return CaseType.objects.annotate(field_count=Count("custom_fields", filter=Q(custom_fields__is_active=True))).order_by(
        "order", "name_en", "id"
    )


def case_type_get(*, actor: Actor, case_type_id: int) -> CaseType:
    _require_admin(actor)
    try:
        return CaseType.objects.get(pk=case_type_id)
    except CaseType.DoesNotExist:
        raise NotFound() from None


def custom_field_list(*, actor: Actor, case_type: CaseType) -> list[CustomFieldDefinition]:
    """All custom fields of a case type, inactive ones included."""
    _require_admin(actor)
    return list(CustomFieldDefinition.objects.filter(case_type=case_type).order_by("order", "key"))


def custom_field_get(*, actor: Actor, case_type: CaseType, field_id: int) -> CustomFieldDefinition:
    _require_admin(actor)
    try:
        return CustomFieldDefinition.objects.select_related("case_type").get(pk=field_id, case_type=case_type)
    except CustomFieldDefinition.DoesNotExist:
        raise NotFound() from None


def category_tree(*, actor: Actor) -> list[Category]:
    """All categories in tree order (each node followed by its subtree, siblings by English name)."""
    _require_admin(actor)
    categories = list(Category.objects.all())
    children: dict[int | None, list[Category]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    for siblings in children.values():
        siblings.sort(key=lambda c: (c.name_en.casefold(), c.pk))
    ordered: list[Category] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        node = stack.pop()
        ordered.append(node)
        stack.extend(reversed(children.get(node.pk, [])))
    return ordered


def category_parent_options(*, actor: Actor) -> QuerySet[Category]:
    """Categories a new node may be added under (the tree is at most six levels deep)."""
    _require_admin(actor)
    return Category.objects.filter(depth__lt=5).order_by("path")


def category_get(*, actor: Actor, category_id: int) -> Category:
    _require_admin(actor)
    try:
        return Category.objects.select_related("parent").get(pk=category_id)
    except Category.DoesNotExist:
        raise NotFound() from None


def case_types_with_fields_count() -> int:
    """Active case types that have at least one active custom field (documented data per case
    type), for the maturity check's evidence."""
    return CaseType.objects.filter(is_active=True, custom_fields__is_active=True).distinct().count()
