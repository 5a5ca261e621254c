"""Raising a case's escalation level as its process prescribes (docs/processes.md,
"Escalation"): by the deadline escalation job when a clock reaches a threshold the
definition names in `escalate_on`, and by hand with a reason (`services.case_escalate`).

The caller holds the case row lock; this module changes the level, hands the case to
whoever the level's `assign_to` names (the team lead, the first handler; by default nobody
new), writes the timeline entry and the audit event, makes the handlers of the new level
watchers (so they see the case) and sends them — and a new responsible person — an e-mail
after the commit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from leitplanke.accounts.actors import Actor, acting_user
from leitplanke.accounts.models import User
from leitplanke.core.audit import audit_record
from leitplanke.core.inserts import insert_row
from leitplanke.processes.engine import EscalationLevel, Process

from . import permissions
from .models import Case, Interaction, InteractionKind

MAX_HANDLERS = 50


def handlers(case: Case, level: EscalationLevel) -> list[User]:
    """Who handles a level: the active users holding its role (`handled_by`) who belong to
    the case's team, lead it, or see every case; for the role `team_lead` also the lead of
    the case's team. Nobody of those: every active holder of the role (the organisation's
    quality manager handles a case of any team)."""
    role = level.handled_by
    if not role:
        return []
    holders = list(User.objects.filter(is_active=True, roles__key=role).distinct().order_by("pk")[:500])
    lead_id = case.team.lead_id if case.team_id is not None and case.team is not None else None
    lead = User.objects.filter(pk=lead_id, is_active=True).first() if lead_id else None
    close: list[User] = []
    if role == "team_lead" and lead is not None:
        close.append(lead)
    team_member_ids = (
        set(User.teams.through.objects.filter(team_id=case.team_id).values_list("user_id", flat=True)) if case.team_id else set()
    )
    for user in holders:
        if user in close:
            continue
        if user.pk in team_member_ids or (lead is not None and user.pk == lead.pk) or permissions.sees_all(user):
            close.append(user)
    return (close or holders)[:MAX_HANDLERS]


def new_responsible(case: Case, level: EscalationLevel, users: list[User]) -> tuple[User | None, str]:
    """Who the level's `assign_to` makes responsible, and why nobody when nobody qualifies:
    (user, "") or (None, "no_team_lead" / "no_handler"); (None, "") for a level that keeps
    the responsible person. Only an active user who may work on cases qualifies (the rule
    the responsible field of the case form follows); for "handler" the first such of the
    level's handlers, in the order `handlers` gives them."""
    if level.assign_to == "team_lead":
        lead = case.team.lead if case.team_id is not None and case.team is not None and case.team.lead_id else None
        if lead is not None and lead.is_active and permissions.may_edit_cases(lead):
            return lead, ""
        return None, "no_team_lead"
    if level.assign_to == "handler":
        first = next((u for u in users if permissions.may_edit_cases(u)), None)
        return (first, "") if first is not None else (None, "no_handler")
    return None, ""


def raise_level(
    case: Case,
    process: Process,
    *,
    actor: Actor,
    now: dt.datetime,
    reason: str = "",
    cause: dict[str, Any] | None = None,
    to_level: int | None = None,
) -> dict[str, Any] | None:
    """Raises the (locked) case to the next level of its process — or to `to_level`, as a
    transition's escalation effect asks — and records it; returns the timeline data, or
    None when there is no such level above the current one (nothing written). The caller
    saves nothing else: the level and the version are stored here."""
    from leitplanke.core.background import enqueue_on_commit

    from .tasks import send_escalation_mail

    if to_level is None:
        level = process.next_escalation_level(case.escalation_level)
    else:
        level = next((lv for lv in process.escalation_levels if lv.level == to_level), None)
    if level is None or level.level <= case.escalation_level:
        return None
    before: dict[str, Any] = {"escalation_level": case.escalation_level, "version": case.version}
    users = handlers(case, level)
    assignee, nobody = new_responsible(case, level, users)
    reassigned = assignee is not None and assignee.pk != case.responsible_user_id
    fields = ["escalation_level", "version", "last_activity_at", "updated_at"]
    previous = case.responsible_user if reassigned and case.responsible_user_id is not None else None
    if reassigned:
        before["responsible_user"] = case.responsible_user_id
        case.responsible_user = assignee  # the team stays
        fields.append("responsible_user")
    case.escalation_level = level.level
    case.version += 1
    case.last_activity_at = now
    case.save(update_fields=fields)
    if users:
        case.watchers.add(*users)
    told = list(users)
    if reassigned and assignee is not None and assignee not in users:
        told.append(assignee)  # the new responsible person hears of it, handler or not
    data: dict[str, Any] = {
        "event": "escalated",
        "from_level": before["escalation_level"],
        "level": level.level,
        "level_label_de": level.label_de,
        "level_label_en": level.label_en,
        "handled_by": level.handled_by,
        "notified": [u.pk for u in told],
        "notified_names": [u.full_name or u.email for u in told],
        **(cause or {}),
    }
    if level.assign_to:
        data["assign_to"] = level.assign_to
        if reassigned and assignee is not None:
            data["reassigned_to"] = assignee.pk
            data["reassigned_to_name"] = assignee.full_name or assignee.email
            data["previous_responsible"] = previous.pk if previous is not None else None
            data["previous_responsible_name"] = (previous.full_name or previous.email) if previous is not None else ""
        elif nobody:
            data["not_reassigned"] = nobody  # nobody qualifies: the responsible person stays
    author = acting_user(actor)
    insert_row(
        Interaction(
            case=case, kind=InteractionKind.SYSTEM, occurred_at=now, author=author, author_label="" if author else "system",
            is_internal=True, data=data, body_text=reason,
            subject=f"Escalated to level {level.level}: {level.label_en}",
        )
    )  # fmt: skip
    audit_record(
        actor=actor or "system",
        action="case.escalate",
        obj=case,
        before=before,
        after={
            **data,
            "version": case.version,
            **({"responsible_user": case.responsible_user_id} if reassigned else {}),
            **({"reason": reason} if reason else {}),
        },
    )
    from leitplanke.core import events

    from .services import _event_payload

    events.emit("case.escalated", {**_event_payload(case), "level": level.level, "from_level": before["escalation_level"]})
    if reassigned:
        events.emit("case.assigned", _event_payload(case))
    for user in told:
        if user.email:
            enqueue_on_commit(
                send_escalation_mail,
                user_id=user.pk,
                case_id=case.pk,
                level=level.level,
                reason=reason[:2000],
                **({"assigned": True, "handles": user in users} if reassigned and user == assignee else {}),
            )
    return data
