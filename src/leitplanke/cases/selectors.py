"""Reads of cases, always scoped to what the actor may see."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, TypeGuard

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from leitplanke.accounts.actors import Actor, is_user
from leitplanke.accounts.models import Absence, Role, User
from leitplanke.accounts.permissions import EDIT_CASES
from leitplanke.core import refcache
from leitplanke.core.errors import NotFound
from leitplanke.core.pagination import Page, keyset_page
from leitplanke.deadlines import engine
from leitplanke.deadlines import selectors as deadline_selectors
from leitplanke.processes.engine import Availability

from . import permissions
from . import process as case_process
from .models import Attachment, Case, CaseClock, CaseType, Category, ClockState, CustomFieldDefinition, Interaction

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
    if sees_unwatched(actor, case):
        return True
    if not is_user(actor) or not actor.is_active or not permissions.sees_team(actor):
        return False
    return Case.watchers.through.objects.filter(case_id=case.pk, user_id=actor.pk).exists()


def sees_unwatched(actor: Actor, case: Case) -> TypeGuard[User]:
    """True when the user sees the case without watching it: all cases, their own or their
    team's. Also answers for a case not yet written (`case_create` decides before the
    insert whether the creator must watch it)."""
    if not is_user(actor) or not actor.is_active:
        return False
    if permissions.sees_all(actor):
        return True
    if not permissions.sees_team(actor):
        return False
    if case.responsible_user_id == actor.pk:
        return True
    return case.team_id is not None and case.team_id in permissions.team_ids_of(actor)


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


def available_transitions(*, actor: Actor, case: Case) -> list[Availability]:
    """Every transition out of the case's status with its availability and, for each one
    not available, the reasons ("requires: Root cause"); empty for actors who may not edit."""
    if not can_edit(actor, case):
        return []
    return case_process.offered(actor=actor, case=case)


def process_state_labels(language: str) -> dict[str, str]:
    """Labels of the states of every process (for entries that stored only a state key)."""
    return case_process.process_selectors.state_labels(language)


def status_label(case: Case, language: str = "en") -> str:
    return case_process.state_label(case, language)


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


def active_case_type_list() -> tuple[CaseType, ...]:
    """The active case types in their order (reference data, cached per process: no query on
    a form's GET or POST; shared instances: read only)."""
    return refcache.cached("active_case_types", lambda: tuple(active_case_types()))


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


# --- deadline clocks ----------------------------------------------------------------------------


def clock_facts(clock: CaseClock, now: dt.datetime | None = None) -> dict[str, Any]:
    """A clock as the case page and the API show it: due and warning times, the time left
    in the rule's terms (business days or hours), paused, at risk (past the warning),
    overdue, and the engine's explanation."""
    now = now or timezone.now()
    version = deadline_selectors.rule_version_by_id(clock.rule_id)
    live = clock.state in (ClockState.RUNNING, ClockState.PAUSED)
    left = None
    if version is not None and clock.due_at is not None and clock.state == ClockState.RUNNING:
        closures = tuple(
            engine.parse_closure(c, "closures") for c in (clock.explanation.get("calendar") or {}).get("closures") or []
        )
        try:
            left = engine.time_left(version.rule, now, clock.due_at, clock.jurisdiction, clock.time_zone, closures)
        except engine.EngineError:
            left = None
    overdue = clock.state == ClockState.BREACHED or (
        clock.state == ClockState.RUNNING and clock.due_at is not None and now > clock.due_at
    )
    return {
        "id": clock.pk,
        "rule_key": clock.rule_key,
        "rule_version": version.version if version else None,
        "name_de": version.name_de if version else clock.rule_key,
        "name_en": version.name_en if version else clock.rule_key,
        "legal_basis": version.legal_basis if version else "",
        "state": clock.state,
        "jurisdiction": clock.jurisdiction,
        "time_zone": clock.time_zone,
        "started_at": clock.started_at,
        "due_at": clock.due_at,
        "warn_at": clock.warn_at,
        "paused_since": clock.paused_since,
        "stopped_at": clock.stopped_at,
        "time_left": left,
        "at_risk": bool(live and not overdue and clock.warn_at is not None and now >= clock.warn_at),
        "overdue": overdue,
        "explanation": clock.explanation,
        # extensions that can still be recorded (running, before the due time, not yet used)
        "available_extensions": [
            e.event
            for e in (version.rule.extensions if version else ())
            if clock.state == ClockState.RUNNING
            and not overdue
            and all(given.get("event") != e.event for given in clock.extensions)
        ],
    }


def case_clocks(*, actor: Actor, case: Case, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The case's deadline clocks, the live ones first, each by due time."""
    if not is_visible(actor, case):
        raise NotFound()
    clocks = list(CaseClock.objects.filter(case_id=case.pk).order_by("started_at", "id"))
    live = (ClockState.RUNNING, ClockState.PAUSED)
    clocks.sort(key=lambda c: (c.state not in live, c.due_at is None, c.due_at or c.started_at, c.pk))
    return [clock_facts(clock, now) for clock in clocks]


def response_deadline(case: Case, *, clocks: list[CaseClock] | None = None) -> tuple[dt.datetime, engine.Rule] | None:
    """When the customer gets the answer, for the acknowledgement (the FCA expects it to state
    the timescale): the latest due time among the case's running clocks of rules with a legal
    basis, else among all its running clocks; in the clock's own time zone. `clocks`: the
    case's clocks as the caller has them (a new case's, just written), which spares the query."""
    if clocks is None:
        clocks = list(CaseClock.objects.filter(case_id=case.pk, state=ClockState.RUNNING))
    running = [c for c in clocks if c.state == ClockState.RUNNING and c.due_at is not None]
    found = []
    for clock in running:
        version = deadline_selectors.rule_version_by_id(clock.rule_id)
        if version is not None:
            found.append((bool(version.legal_basis), clock.due_at, clock, version))
    if not found:
        return None
    _legal, due, clock, version = max(found, key=lambda item: (item[0], item[1]))
    assert due is not None
    return due.astimezone(engine.zone(clock.time_zone)), version.rule


def case_editing_role_ids() -> tuple[int, ...]:
    """The roles whose capabilities let their holders work on cases (roles are reference
    data: cached per process, checked against the generation row)."""
    return refcache.cached(
        "case_editing_role_ids",
        lambda: tuple(role.pk for role in Role.objects.all() if EDIT_CASES in (role.capabilities or [])),
    )


def assignable_users(*, team_id: int | None = None) -> list[Any]:
    """Active users who may work on cases (only they can be made responsible), the members of
    `team_id` first, then the others, each by name. Every user carries `in_team` and
    `absence` (the absence that covers today, or None), so that a list can show who is away."""
    users = list(
        User.objects.filter(is_active=True, roles__in=case_editing_role_ids()).distinct().order_by("full_name", "id")[:1000]
    )
    members = set(User.objects.filter(teams=team_id).values_list("pk", flat=True)) if team_id else set()
    today: dt.date = timezone.localdate()
    absences = {
        absence.user_id: absence
        for absence in Absence.objects.filter(user__in=users, starts_on__lte=today, ends_on__gte=today).order_by("ends_on")
    }
    for user in users:
        user.in_team = user.pk in members  # type: ignore[attr-defined]
        user.absence = absences.get(user.pk)  # type: ignore[attr-defined]
    return sorted(users, key=lambda user: not user.in_team)
