"""Reads of cases, always scoped to what the actor may see."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeGuard

from django.db.models import Prefetch, Q, QuerySet

from leitplanke.accounts.actors import Actor, is_user
from leitplanke.core import refcache
from leitplanke.core.errors import NotFound
from leitplanke.core.pagination import Page, keyset_page

from . import permissions
from .lifecycle import Transition, lifecycle_for
from .models import Attachment, Case, CaseType, Category, CustomFieldDefinition, Interaction

if TYPE_CHECKING:
    from leitplanke.accounts.models import User

CASE_DETAIL_RELATED = (
    "case_type",
    "customer",
    "contract",
    "contract__product",
    "product",
    "category",
    "responsible_user",
    "team",
    "parent",
)


def visible_cases(*, actor: Actor) -> QuerySet[Case]:
    """All cases the actor may see.

    The team path is written as `team_id IN (…) OR responsible_user_id = X OR id IN
    (SELECT case_id FROM watchers WHERE user_id = X)`: no joins, so each branch can use
    its own index (case_team_idx, case_responsible_idx, the watchers' user index) at a
    million rows. The team ids are read once per request.
    """
    if not is_user(actor) or not actor.is_active:
        return Case.objects.none()
    if permissions.sees_all(actor):
        return Case.objects.all()
    if not permissions.sees_team(actor):
        return Case.objects.none()
    watched = Case.watchers.through.objects.filter(user_id=actor.pk).values("case_id")
    scope = Q(responsible_user_id=actor.pk) | Q(id__in=watched)
    team_ids = permissions.team_ids_of(actor)
    if team_ids:
        scope |= Q(team_id__in=team_ids)
    return Case.objects.filter(scope)


def is_visible(actor: Actor, case: Case) -> TypeGuard[User]:
    """True when a logged-in, active user may see the case (so a `User` acts)."""
    if case is None or case.pk is None:
        return False
    if not is_user(actor) or not actor.is_active:
        return False
    if permissions.sees_all(actor):
        return True
    if not permissions.sees_team(actor):
        return False
    if case.responsible_user_id == actor.pk:
        return True
    if case.team_id is not None and case.team_id in permissions.team_ids_of(actor):
        return True
    return Case.watchers.through.objects.filter(case_id=case.pk, user_id=actor.pk).exists()


def can_edit(actor: Actor, case: Case) -> TypeGuard[User]:
    """Edit capability and the case is visible to the actor."""
    return permissions.may_edit_cases(actor) and is_visible(actor, case)


def case_get(
    *, actor: Actor, case_id: int | None = None, reference: str | None = None, related: tuple[str, ...] = CASE_DETAIL_RELATED
) -> Case:
    """One visible case with the facts the detail page shows (or only the `related` rows a
    caller needs, e.g. the API's case shape); NotFound otherwise."""
    if case_id is None and not reference:
        raise NotFound()
    queryset = visible_cases(actor=actor).select_related(*related)
    try:
        if case_id is not None:
            return queryset.get(pk=int(case_id))
        return queryset.get(reference=str(reference).strip().upper())
    except (Case.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


TIMELINE_PAGE = 25
TIMELINE_ORDERING = ["-occurred_at", "-id"]


def case_timeline_page(*, actor: Actor, case: Case, cursor: str | None = None, limit: int = TIMELINE_PAGE) -> Page[Interaction]:
    """One page of the timeline, newest first (keyset on the case's (occurred_at, id) index):
    a case with thousands of entries costs the same as one with 25. InvalidCursor for a
    malformed cursor."""
    if not is_visible(actor, case):
        raise NotFound()
    entries = (
        Interaction.objects.filter(case_id=case.pk)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("created_at", "id")))
    )
    return keyset_page(entries, ordering=TIMELINE_ORDERING, cursor=cursor, limit=limit)


def case_attachments(*, actor: Actor, case: Case) -> list[Attachment]:
    if not is_visible(actor, case):
        raise NotFound()
    return list(Attachment.objects.filter(case_id=case.pk).select_related("uploaded_by").order_by("created_at", "id"))


def attachment_get(*, actor: Actor, case_id: int, attachment_id: int) -> Attachment:
    """An attachment of a case the actor may see; NotFound otherwise (never reveals existence)."""
    case = case_get(actor=actor, case_id=case_id)
    try:
        return Attachment.objects.select_related("case").get(pk=int(attachment_id), case_id=case.pk)
    except (Attachment.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def available_transitions(*, actor: Actor, case: Case) -> list[Transition]:
    """The transitions the actor may start from the case's current status."""
    if not can_edit(actor, case):
        return []
    return lifecycle_for(case.case_type.key if case.case_type_id else None).transitions_from(case.status)


def status_label(case: Case, language: str = "en") -> str:
    state = lifecycle_for(None).state(case.status)
    if state is None:
        return case.status
    return state.label_de if language == "de" else state.label_en


def case_links(*, actor: Actor, case: Case) -> list[dict[str, Any]]:
    """Linked cases the actor may see (both directions)."""
    visible = visible_cases(actor=actor)
    out = [
        {"kind": link.kind, "case": link.to_case, "direction": "out"}
        for link in case.links_out.select_related("to_case").filter(to_case__in=visible.values("pk"))
    ]
    out += [
        {"kind": link.kind, "case": link.from_case, "direction": "in"}
        for link in case.links_in.select_related("from_case").filter(from_case__in=visible.values("pk"))
    ]
    return out


def customer_cases(*, actor: Actor, customer_id: int, limit: int = 20) -> list[Case]:
    """The customer's latest cases that `actor` may see, each with `status_display` in the
    active language (the customer page's case list)."""
    from django.utils.translation import get_language

    cases = list(
        visible_cases(actor=actor)
        .filter(customer_id=customer_id)
        .select_related("case_type")
        .order_by("-received_at", "-id")[:limit]
    )
    language = (get_language() or "en")[:2]
    for case in cases:
        case.status_display = status_label(case, language)  # type: ignore[attr-defined]
    return cases


def customer_case_count(*, actor: Actor, customer_id: int) -> int:
    """How many of the customer's cases `actor` may see (what a merge shows it would move)."""
    return visible_cases(actor=actor).filter(customer_id=customer_id).count()


def active_case_types() -> QuerySet[CaseType]:
    return CaseType.objects.filter(is_active=True)


def active_case_type(key: str) -> CaseType | None:
    """The active case type with this key (a shared cached instance: do not modify it)."""
    return refcache.cached(("case_type", key), lambda: active_case_types().filter(key=key).first())


def active_categories() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True).order_by("path")


def active_custom_fields() -> tuple[CustomFieldDefinition, ...]:
    """Every active custom field definition in form order. Reference data: cached per process
    and checked once per request (core.refcache), so forms, filters and validation cost no
    query. Shared objects: read only."""
    return refcache.cached(
        "active_custom_fields",
        lambda: tuple(CustomFieldDefinition.objects.filter(is_active=True).order_by("case_type_id", "order", "key")),
    )


def custom_field_definitions(case_type: CaseType | None) -> list[CustomFieldDefinition]:
    """The active custom fields of one case type, in form order (shared objects: read only)."""
    if case_type is None:
        return []
    return [definition for definition in active_custom_fields() if definition.case_type_id == case_type.pk]


def customer_by_number(customer_number: str) -> Any:
    """The active customer with this number, or None (used by the create/edit forms)."""
    from leitplanke.customers.models import Customer

    number = (customer_number or "").strip()
    if not number:
        return None
    return Customer.objects.filter(customer_number__iexact=number).first()


def case_current_version(*, case_id: int) -> int | None:
    """The stored version of a case (for conflict messages; no permission data revealed)."""
    return Case.objects.filter(pk=case_id).values_list("version", flat=True).first()


def case_field_labels() -> dict[str, str]:
    """Verbose names of the case fields, in the active language."""
    return {field.name: str(field.verbose_name) for field in Case._meta.get_fields() if hasattr(field, "verbose_name")}


def case_choice_labels() -> dict[str, dict[Any, str]]:
    """Labels of the coded case fields in the active language (priority, severity, channel)."""
    from .models import Channel, Priority, Severity

    return {
        "priority": {value: str(label) for value, label in Priority.choices},
        "severity": {value: str(label) for value, label in Severity.choices},
        "channel": {value: str(label) for value, label in Channel.choices},
    }
