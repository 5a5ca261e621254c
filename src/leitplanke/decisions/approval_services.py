"""Four-eyes approvals: open a request for a decision record, route it to someone whose
authority covers it, decide it (approve, reject, send back), remind and re-route overdue ones.

The only writers of `ApprovalRequest` (and of a record's status after it was saved).
Routing (docs/decisions.md, "Four-eyes approvals"): the decider's team lead first, then the
leads of the teams above it (`Team.parent`, up to the top), then the other users holding
`teams.lead`, then the administrators (`org.manage`) — the last two in the order of their
ids — skipping the decider (no self-approval), anyone absent today (the next one stands in)
and anyone whose own authority does not cover the amount.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from leitplanke.accounts.actors import Actor, acting_user, is_user
from leitplanke.accounts.models import Absence, Role, Team, User
from leitplanke.accounts.permissions import LEAD_TEAM, MANAGE_ORGANISATION, has_capability
from leitplanke.cases import permissions as case_permissions
from leitplanke.cases.models import Case, Interaction, InteractionKind
from leitplanke.core import refcache
from leitplanke.core.audit import audit_event, audit_record
from leitplanke.core.background import enqueue_on_commit
from leitplanke.core.errors import NotFound, ValidationFailed
from leitplanke.core.inserts import insert_row, write_rows
from leitplanke.core.text import is_storable
from leitplanke.core.transactions import service_atomic

from .authority_selectors import authority_for, used_this_year
from .errors import ApprovalAlreadyDecided, AuthorityInsufficient, CommentRequired, NotApprover, SelfApprovalRefused
from .models import ApprovalRequest, ApprovalStatus, DecisionRecord, RecordStatus

logger = logging.getLogger(__name__)

APPROVAL_BUSINESS_DAYS = 2
FALLBACK_DUE = dt.timedelta(hours=48)
COMMENT_MAX = 5000
REASONS = ("above_authority", "table_requires", "deviation")
ACTIONS = {"approve": ApprovalStatus.APPROVED, "reject": ApprovalStatus.REJECTED, "send_back": ApprovalStatus.SENT_BACK}
RECORD_STATUS = {
    ApprovalStatus.APPROVED: RecordStatus.APPROVED,
    ApprovalStatus.REJECTED: RecordStatus.REJECTED,
    ApprovalStatus.SENT_BACK: RecordStatus.SENT_BACK,
}


# --- due time ------------------------------------------------------------------------------


def due_after(start: dt.datetime, business_days: int = APPROVAL_BUSINESS_DAYS) -> dt.datetime:
    """`start` plus `business_days` business days of the organisation's calendar (weekends,
    public holidays of its region and its closures skipped), at the same local time; 48 hours
    when the calendar cannot say (an unknown region, a year it does not cover)."""
    try:
        from zoneinfo import ZoneInfo

        from leitplanke.deadlines.engine.compute import _calendar_for
        from leitplanke.deadlines.selectors import calendar_settings

        cal_settings = calendar_settings()
        zone = ZoneInfo(cal_settings.time_zone)
        local = start.astimezone(zone)
        calendar = _calendar_for(cal_settings.region, cal_settings.closures, _hours(cal_settings))
        day = calendar.nth_business_day(local.date(), business_days)
        return dt.datetime.combine(day, local.time(), tzinfo=zone).astimezone(dt.UTC)
    except Exception:
        logger.warning("approval due time: calendar unavailable, using 48 hours", exc_info=True)
        return start + FALLBACK_DUE


def _hours(cal_settings: Any) -> tuple[Any, ...]:
    from leitplanke.deadlines.engine.calendars import DEFAULT_WEEK

    hours = cal_settings.settings.business_hours
    return tuple(hours) if hours else DEFAULT_WEEK


# --- routing -------------------------------------------------------------------------------


def _absent(user_ids: Iterable[int], day: dt.date) -> set[int]:
    return set(
        Absence.objects.filter(user_id__in=list(user_ids), starts_on__lte=day, ends_on__gte=day).values_list("user_id", flat=True)
    )


def _holders(capability: str) -> list[User]:
    """The active users whose roles grant `capability`, by id. Kept per process and reference
    generation (roles, users and role assignments are watched: `core.refcache`); each call
    gets its own copies of the shared rows."""
    shared = refcache.cached(("decision_holders", capability), lambda: _load_holders(capability))
    return [copy.copy(user) for user in shared]


def _load_holders(capability: str) -> tuple[User, ...]:
    role_ids = [role.pk for role in Role.objects.all() if capability in (role.capabilities or [])]
    if not role_ids:
        return ()
    return tuple(User.objects.filter(is_active=True, roles__in=role_ids).distinct().order_by("pk"))


def lead_chain(start: Iterable[int], parents: Mapping[int, int | None], leads: Mapping[int, int | None]) -> list[int]:
    """The user ids of the leads up the team hierarchy, in order: for each team in `start`
    (the record's team, then the decider's other teams), its lead, its parent team's lead,
    and so on to the top; then the next starting team. Each person once; a team without a
    lead is passed over (its parent still counts); a cycle in `parents` (which the team
    services refuse) ends the walk instead of looping. Pure, so the order is tested alone."""
    out: list[int] = []
    for team in start:
        visited: set[int] = set()
        current: int | None = team
        while current is not None and current not in visited:
            visited.add(current)
            lead = leads.get(current)
            if lead is not None and lead not in out:
                out.append(lead)
            current = parents.get(current)
    return out


def _chain(record: DecisionRecord) -> Iterator[User]:
    """Everyone who could be asked, in order: the leads up the decider's team hierarchy
    (`lead_chain`), the other leads, the administrators (each person once)."""
    seen: set[int] = set()
    team_ids: list[int] = []
    if record.team_id:
        team_ids.append(record.team_id)
    # The decider's teams, cached per process like the hierarchy (teams and memberships are watched).
    team_ids += [t for t in sorted(case_permissions.team_ids_of(record.decided_by)) if t not in team_ids]
    rows, leads = refcache.cached(("team_hierarchy",), _load_hierarchy)
    chain_ids = lead_chain(team_ids, {pk: parent for pk, parent, _ in rows}, {pk: lead for pk, _, lead in rows})
    hierarchy = [copy.copy(leads[pk]) for pk in chain_ids if pk in leads]
    for group in (hierarchy, _holders(LEAD_TEAM), _holders(MANAGE_ORGANISATION)):
        for user in group:
            if user is not None and user.pk not in seen:
                seen.add(user.pk)
                yield user


def _load_hierarchy() -> tuple[tuple[tuple[int, int | None, int | None], ...], dict[int, User]]:
    """Every team's (id, parent, lead) and the active leads by id. Teams are few (tens, not
    thousands): one query for the whole hierarchy, kept per process and reference generation
    (teams, users and memberships are watched: `core.refcache`); callers copy the users."""
    teams = tuple(Team.objects.select_related("lead").order_by("pk"))
    rows = tuple((team.pk, team.parent_id, team.lead_id) for team in teams)
    leads = {team.lead.pk: team.lead for team in teams if team.lead is not None and team.lead.is_active}
    return rows, leads


def covers(user: User, record: DecisionRecord, *, at: dt.datetime | None = None, used: Decimal | None = None) -> bool:
    """Does `user`'s own authority cover the record's amount (per decision and the customer's
    cumulative limit, without the record itself)? `used`: what the customer received this
    year, when the caller has read it (`used_this_year` at `at`)."""
    view = authority_for(
        user=user,
        kind=record.kind,
        currency=record.currency,
        case_type=record.case.case_type_id,
        customer=record.case.customer_id,
        at=at,
        used=used,
    )
    return view.covers(record.amount)


def route(
    record: DecisionRecord, *, exclude: Iterable[int] = (), at: dt.datetime | None = None, used: Decimal | None = None
) -> User | None:
    """The first person of the chain who is not the decider, not excluded, not absent today and
    whose authority covers the record; None when nobody qualifies. `used`: as for `covers`
    (the customer's year is the same for every candidate: read once)."""
    now = at or timezone.now()
    excluded = {record.decided_by_id, *exclude}
    candidates = [u for u in _chain(record) if u.pk not in excluded]
    if not candidates:
        return None
    absent = _absent([u.pk for u in candidates], timezone.localdate(now))
    if used is None:
        used = used_this_year(customer=record.case.customer_id, kind=record.kind, currency=record.currency, at=now)
    for user in candidates:
        if user.pk in absent:
            continue
        if covers(user, record, at=now, used=used):
            return user
    return None


# --- timeline, mail ------------------------------------------------------------------------


def _name(user: User | None) -> str:
    return (user.full_name or user.email) if user is not None else ""


def _timeline(
    record: DecisionRecord,
    *,
    actor: Actor,
    now: dt.datetime,
    event: str,
    subject: str,
    body: str = "",
    rows: list[Model] | None = None,
    **data: Any,
) -> None:
    """The timeline entry of an approval step: written now, or appended to `rows` (the caller
    writes them)."""
    author = acting_user(actor)
    entry = Interaction(
        case_id=record.case_id,
        kind=InteractionKind.SYSTEM,
        occurred_at=now,
        author=author,
        author_label="" if author else "system",
        is_internal=True,
        subject=subject[:255],
        body_text=body,
        data={
            "event": event,
            "decision": record.pk,
            "amount": str(record.amount),
            "currency": record.currency,
            "kind": record.kind,
            **data,
        },
    )
    if rows is None:
        insert_row(entry)
    else:
        rows.append(entry)


def _mail(user: User | None, approval: ApprovalRequest, event: str) -> None:
    if user is None or not user.email:
        return
    from .approval_tasks import send_approval_mail

    enqueue_on_commit(send_approval_mail, user_id=user.pk, approval_id=approval.pk, event=event)


# --- open ----------------------------------------------------------------------------------


def approval_request_open(
    *,
    record: DecisionRecord,
    reasons: list[str],
    actor: Actor,
    used: Decimal | None = None,
    rows: list[Model] | None = None,
) -> ApprovalRequest:
    """Opens the approval request for `record` (called by the record service inside the
    record's transaction): routes it (see `route`), due in two business days, sets the record
    to pending, writes a timeline entry and the audit event `decision.approval_request`, and
    e-mails the approver on commit. `reasons`: codes from `REASONS` (others are kept as given).
    When nobody in the chain qualifies the request has no approver; the reminder job tries
    again and administrators see it in their inbox. `used`: as for `route`. `rows`: the
    caller writes the timeline entry and the audit event together with its own (one INSERT
    per table, `core.inserts.insert_rows`) — they are appended there instead of written."""
    with service_atomic():
        now = timezone.now()
        reasons = [str(r)[:50] for r in reasons][:10] or ["above_authority"]
        approver = route(record, at=now, used=used)
        approval = insert_row(
            ApprovalRequest(
                record=record,
                reasons=reasons,
                approver=approver,
                status=ApprovalStatus.PENDING,
                requested_at=now,
                due_at=due_after(now),
            )
        )
        if record.status != RecordStatus.PENDING:
            DecisionRecord.objects.filter(pk=record.pk).update(status=RecordStatus.PENDING)
            record.status = RecordStatus.PENDING
        written = [] if rows is None else rows
        _timeline(
            record,
            actor=actor,
            now=now,
            rows=written,
            event="approval_requested",
            subject=f"Approval requested from {_name(approver) or 'nobody yet'}",
            approval=approval.pk,
            approver=approver.pk if approver else None,
            approver_name=_name(approver),
            reasons=reasons,
            due_at=approval.due_at.isoformat(),
        )
        written.append(
            audit_event(
                actor=actor or "system",
                action="decision.approval_request",
                obj=approval,
                after={
                    "record": record.pk,
                    "case": record.case_id,
                    "reasons": reasons,
                    "approver": approver.pk if approver else None,
                    "due_at": approval.due_at,
                },
            )
        )
        if rows is None:
            write_rows(written)
        _mail(approver, approval, "requested")
    return approval


# --- decide --------------------------------------------------------------------------------


def may_decide(actor: Actor, approval: ApprovalRequest) -> bool:
    """Who may act on a request: its approver, or (standing in) anyone holding `teams.lead` or
    `org.manage` — never the decider. Authority is checked when they act."""
    if not is_user(actor) or not actor.is_active:
        return False
    if actor.pk == approval.record.decided_by_id:
        return False
    return actor.pk == approval.approver_id or has_capability(actor, LEAD_TEAM) or has_capability(actor, MANAGE_ORGANISATION)


def approval_decide(*, actor: Actor, approval: ApprovalRequest, action: str, comment: str = "") -> ApprovalRequest:
    """Approves, rejects or sends back a pending request and sets the record's status.

    Refused (nothing saved) when the actor decided the record (`SelfApprovalRefused`), may not
    act on it (`NotApprover`), their own authority does not cover it (`AuthorityInsufficient`),
    it is already decided — also when two approvers act at once: one wins
    (`ApprovalAlreadyDecided`) — or a reject / send back has no comment (`CommentRequired`).
    Timeline entry, audit event `decision.approval_decide`, e-mail to the decider."""
    if action not in ACTIONS:
        raise ValidationFailed(field_errors={"action": [_("Choose approve, reject or send back.")]})
    comment = (comment or "").strip() if isinstance(comment, str) else ""
    if len(comment) > COMMENT_MAX:
        raise ValidationFailed(field_errors={"comment": [_("At most %(n)s characters.") % {"n": COMMENT_MAX}]})
    if not is_storable(comment):
        raise ValidationFailed(field_errors={"comment": [_("This text contains a character that cannot be stored.")]})
    if action != "approve" and not comment:
        message = CommentRequired.default_message
        raise CommentRequired(message, field_errors={"comment": [str(message)]})
    with transaction.atomic():
        fresh = (
            ApprovalRequest.objects.select_related("record", "record__case", "record__decided_by", "approver")
            .filter(pk=approval.pk)
            .first()
        )
        if fresh is None:
            raise NotFound()
        approval = fresh
        record = approval.record
        # The case row first, as the record services lock it (case, then record): an approval
        # racing a reversal or correction waits instead of deadlocking.
        Case.objects.select_for_update(of=("self",)).filter(pk=record.case_id).values_list("pk", flat=True).first()
        if is_user(actor) and actor.pk == record.decided_by_id:
            raise SelfApprovalRefused()
        if not may_decide(actor, approval):
            raise NotApprover()
        if approval.status != ApprovalStatus.PENDING:
            raise ApprovalAlreadyDecided()
        assert is_user(actor)
        now = timezone.now()
        if not covers(actor, record, at=now):
            raise AuthorityInsufficient()
        status = ACTIONS[action]
        won = ApprovalRequest.objects.filter(pk=approval.pk, status=ApprovalStatus.PENDING).update(
            status=status, decided_by=actor, decided_at=now, comment=comment
        )
        if won != 1:
            raise ApprovalAlreadyDecided()
        DecisionRecord.objects.filter(pk=record.pk).update(status=RECORD_STATUS[status])
        record.status = RECORD_STATUS[status]
        approval.status, approval.decided_by, approval.decided_at, approval.comment = status, actor, now, comment
        _timeline(
            record,
            actor=actor,
            now=now,
            event=f"approval_{status}",
            subject=f"Decision {status.replace('_', ' ')} by {_name(actor)}",
            body=comment,
            approval=approval.pk,
        )
        audit_record(
            actor=actor,
            action="decision.approval_decide",
            obj=approval,
            before={"status": ApprovalStatus.PENDING, "record_status": RecordStatus.PENDING},
            after={"status": status, "record_status": record.status, "comment": comment, "record": record.pk},
        )
        if record.status == RecordStatus.APPROVED:
            from .record_services import case_amounts_refresh

            case_amounts_refresh(actor=actor, case=Case.objects.get(pk=record.case_id))
        _mail(record.decided_by, approval, "decided")
    return approval


# --- reminders -----------------------------------------------------------------------------


def approvals_remind(*, now: dt.datetime | None = None) -> dict[str, int]:
    """For every pending request past its due time and not reminded since it fell due (or
    since its last reminder a business day ago): if the approver is absent today or gone (or
    there is none), route it to the next one in the chain (a new due time); otherwise remind
    the approver by e-mail. Each request is claimed with a conditional update on
    `reminded_at`, so two workers never remind twice."""
    now = now or timezone.now()
    counts = {"reminded": 0, "rerouted": 0}
    due = list(
        ApprovalRequest.objects.filter(status=ApprovalStatus.PENDING, due_at__lte=now)
        .values_list("pk", "reminded_at", "due_at")
        .order_by("due_at", "pk")[:500]
    )
    for pk, reminded_at, due_at in due:
        if reminded_at is not None and reminded_at >= due_at and reminded_at > now - dt.timedelta(hours=24):
            continue
        with transaction.atomic():
            claimed = ApprovalRequest.objects.filter(pk=pk, status=ApprovalStatus.PENDING, reminded_at=reminded_at).update(
                reminded_at=now
            )
            if claimed != 1:
                continue
            approval = ApprovalRequest.objects.select_related("record", "record__case", "record__decided_by", "approver").get(
                pk=pk
            )
            record = approval.record
            approver = approval.approver
            gone = approver is None or not approver.is_active or bool(_absent([approver.pk], timezone.localdate(now)))
            if gone:
                exclude = [approver.pk] if approver is not None else []
                new = route(record, exclude=exclude, at=now)
                if new is not None and (approver is None or new.pk != approver.pk):
                    before = approver.pk if approver else None
                    approval.approver = new
                    approval.due_at = due_after(now)
                    approval.save(update_fields=["approver", "due_at"])
                    _timeline(
                        record,
                        actor=None,
                        now=now,
                        event="approval_rerouted",
                        subject=f"Approval passed on to {_name(new)}",
                        approval=approval.pk,
                        approver=new.pk,
                        approver_name=_name(new),
                        previous=before,
                    )
                    audit_record(
                        actor="system",
                        action="decision.approval_reroute",
                        obj=approval,
                        before={"approver": before},
                        after={"approver": new.pk, "due_at": approval.due_at},
                    )
                    _mail(new, approval, "requested")
                    counts["rerouted"] += 1
                    continue
            if approver is not None and approver.is_active:
                audit_record(actor="system", action="decision.approval_remind", obj=approval, after={"approver": approver.pk})
                _mail(approver, approval, "reminder")
                counts["reminded"] += 1
    return counts
