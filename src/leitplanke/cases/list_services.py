"""Writes of the case list: saved views, bulk actions and the export audit.

Kept apart from services.py (the case domain) so the two can change independently; the
conventions are the same: keyword-only arguments, one transaction each, an audit event
for every change. Bulk actions call `services.case_update` / `services.case_transition`
once per case, each in its own transaction, so one failing case does not undo the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from leitplanke.accounts.actors import Actor, is_user
from leitplanke.accounts.permissions import EXPORT_CASES, can_save_views, has_capability
from leitplanke.core.audit import audit_record
from leitplanke.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed

from . import list_selectors, permissions, services
from .models import Case, SavedView

BULK_ACTIONS = ("assign_responsible", "assign_team", "add_tag", "transition")
MAX_BULK = 100


def clean_filters(params: Mapping[str, Any]) -> dict[str, Any]:
    """The filter part of list parameters as plain JSON data (lists for repeated values)."""
    out: dict[str, Any] = {}
    keys = [*list_selectors.FILTER_KEYS, *[k for k in params if str(k).startswith("cf.")]]
    for key in keys:
        if hasattr(params, "getlist"):
            raw = params.getlist(key)
        else:
            value = params.get(key)
            raw = value if isinstance(value, list) else [value]
        values = [str(v)[:200] for v in raw if v not in (None, "")]
        if values:
            out[key] = values if len(values) > 1 else values[0]
    return out


# --- saved views ------------------------------------------------------------------------------


@transaction.atomic
def saved_view_create(*, actor: Actor, name: str, filters: Mapping[str, Any], team_id: int | None = None) -> SavedView:
    """Saves the current filters under a name, private or shared with one of the actor's teams."""
    if not is_user(actor):
        raise PermissionDenied()
    if not can_save_views(actor):
        raise PermissionDenied(_("Your roles only allow reading: you cannot save views."))
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(field_errors={"name": [_("This field is required.")]})
    if len(name) > 100:
        raise ValidationFailed(field_errors={"name": [_("At most 100 characters.")]})
    if team_id and int(team_id) not in permissions.team_ids_of(actor):
        raise ValidationFailed(field_errors={"team": [_("You can only share with your own teams.")]})
    view = SavedView.objects.create(
        owner=actor, team_id=int(team_id) if team_id else None, name=name, filters=clean_filters(filters)
    )
    audit_record(
        actor=actor,
        action="saved_view.create",
        obj=view,
        after={"name": view.name, "team": view.team_id, "filters": view.filters},
    )
    return view


@transaction.atomic
def saved_view_delete(*, actor: Actor, saved_view_id: int) -> None:
    """Deletes one of the actor's own saved views."""
    view = SavedView.objects.filter(pk=saved_view_id).first()
    if view is None or actor is None or view.owner_id != actor.pk:
        raise NotFound()
    before = {"name": view.name, "team": view.team_id, "filters": view.filters}
    audit_record(actor=actor, action="saved_view.delete", obj=view, before=before)
    view.delete()


# --- bulk actions ------------------------------------------------------------------------------


@dataclass
class BulkResult:
    case_id: int
    reference: str
    ok: bool
    message: str


def _error_text(error: DomainError) -> str:
    if error.field_errors:
        return " ".join(str(m) for messages in error.field_errors.values() for m in messages)
    return str(error.message)


def case_bulk_apply(*, actor: Actor, case_ids: list[Any], action: str, value: Any) -> list[BulkResult]:
    """Applies one action to each selected visible case; returns one result per case.

    Cases the actor cannot see are reported as not found, never revealed.
    """
    if action not in BULK_ACTIONS:
        raise ValidationFailed(field_errors={"action": [_("Choose an action.")]})
    if not permissions.may_edit_cases(actor):
        raise PermissionDenied()
    wanted = []
    for raw in case_ids[:MAX_BULK]:
        try:
            wanted.append(int(raw))
        except (TypeError, ValueError):
            continue
    if not wanted:
        raise ValidationFailed(field_errors={"ids": [_("Select at least one case.")]})
    cases = {case.pk: case for case in list_selectors.cases_for_bulk(actor=actor, ids=wanted)}
    results = []
    for case_id in wanted:
        case = cases.get(case_id)
        if case is None:
            results.append(BulkResult(case_id, f"#{case_id}", False, _("Not found.")))
            continue
        try:
            _apply(actor=actor, case=case, action=action, value=value)
        except DomainError as error:
            results.append(BulkResult(case_id, case.reference, False, _error_text(error)))
        else:
            results.append(BulkResult(case_id, case.reference, True, _("Done")))
    return results


def _apply(*, actor: Actor, case: Case, action: str, value: Any) -> None:
    if action == "assign_responsible":
        services.case_update(actor=actor, case=case, responsible_user=value or None)
    elif action == "assign_team":
        services.case_update(actor=actor, case=case, team=value or None)
    elif action == "add_tag":
        tag = str(value or "").strip()
        if not tag:
            raise ValidationFailed(field_errors={"tag": [_("Enter a tag.")]})
        # A delta, applied to the tags the service reads under the case's row lock.
        services.case_update(actor=actor, case=case, tags_add=[tag])
    elif action == "transition":
        services.case_transition(actor=actor, case=case, transition=str(value or ""))


# --- export -------------------------------------------------------------------------------------


def require_export(actor: Actor) -> None:
    if not has_capability(actor, EXPORT_CASES):
        raise PermissionDenied()


@transaction.atomic
def case_export_record(*, actor: Actor, params: Mapping[str, Any], export_format: str, row_count: int, matching: int) -> None:
    """Audits an export ("case.export") with its filters, the rows it holds and how many cases
    matched, before the rows are sent."""
    require_export(actor)
    audit_record(
        actor=actor,
        action="case.export",
        object_type="cases.case",
        after={"format": export_format, "filters": clean_filters(params), "rows": row_count, "matching": matching},
    )
