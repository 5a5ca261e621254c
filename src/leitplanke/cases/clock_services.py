"""Deadline clocks on cases (docs/deadlines.md): started with the case by its type's rules,
paused in waiting states (where the rule allows), resumed on leaving them, stopped as met or
breached on resolution. A customer's message on a resolved or closed case starts the clocks
again from the moment it arrived; a reply on a waiting case ends the pause.

Called from `cases.services` inside their transactions (the case row is locked there)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from leitplanke.accounts.actors import Actor, acting_user
from leitplanke.core.audit import audit_record
from leitplanke.core.inserts import insert_row
from leitplanke.deadlines import engine
from leitplanke.deadlines import selectors as deadline_selectors

from .models import NO_DUE, Case, CaseClock, ClockState, StatusKind

LIVE = (ClockState.RUNNING, ClockState.PAUSED)
STOPPED_KINDS = (StatusKind.RESOLVED, StatusKind.CLOSED)


def _closures(explanation: dict[str, Any]) -> tuple[engine.Closure, ...]:
    raw = (explanation.get("calendar") or {}).get("closures") or []
    return tuple(engine.parse_closure(c, "closures") for c in raw)


def _compute(version: deadline_selectors.RuleVersion, clock: CaseClock, closures: tuple[engine.Closure, ...]) -> engine.Result:
    calendar = deadline_selectors.calendar_settings()
    pauses = [
        engine.Pause(dt.datetime.fromisoformat(p["start"]), dt.datetime.fromisoformat(p["end"]), p.get("reason", ""))
        for p in clock.pauses
    ]
    if clock.paused_since is not None:
        pauses.append(engine.Pause(clock.paused_since, None, "waiting"))
    extensions = [engine.ExtensionEvent(e["event"], dt.datetime.fromisoformat(e["at"])) for e in clock.extensions]
    return engine.compute(
        version.rule,
        clock.started_at,
        clock.jurisdiction,
        clock.time_zone,
        pauses=pauses,
        closures=closures,
        extensions=extensions,
        settings=calendar.settings,
    )


def _apply(clock: CaseClock, result: engine.Result) -> None:
    clock.explanation = result.explanation
    if result.due_at is not None:
        clock.due_at, clock.warn_at = result.due_at, result.warn_at


def new_clocks(case: Case, *, at: dt.datetime, reason: str = "received", keys: list[str] | None = None) -> list[CaseClock]:
    """Unsaved clocks for the rules of the case's type (or the rules `keys`), started at `at`
    (when the organisation received the complaint). A rule without a version valid on that
    day, or a year the holiday data does not cover, starts no clock (the explanation would
    be a guess)."""
    keys = list(case.case_type.deadline_rules or []) if keys is None else keys
    if not keys:
        return []
    calendar = deadline_selectors.calendar_settings()
    by_key = deadline_selectors.rule_versions_by_key()
    clocks = []
    for key in keys:
        candidates = by_key.get(key)
        if not candidates:
            continue
        _place, zone_name = deadline_selectors.place_for(candidates[-1], calendar)
        received_on = at.astimezone(engine.zone(zone_name)).date()
        version = max((v for v in candidates if v.covers(received_on)), key=lambda v: v.version, default=None)
        if version is None:
            continue
        jurisdiction, time_zone = deadline_selectors.place_for(version, calendar)
        try:
            result = engine.compute(
                version.rule, at, jurisdiction, time_zone, closures=calendar.closures, settings=calendar.settings
            )
        except engine.EngineError:
            continue
        result.explanation["started_because"] = reason
        clocks.append(
            CaseClock(
                case=case,
                rule_id=version.id,
                rule_key=version.key,
                jurisdiction=jurisdiction,
                time_zone=time_zone,
                started_at=at,
                due_at=result.due_at,
                warn_at=result.warn_at,
                state=ClockState.RUNNING,
                explanation=result.explanation,
            )
        )
    return clocks


def next_due(clocks: list[CaseClock]) -> tuple[dt.datetime, dt.datetime | None]:
    """The earliest due time among running clocks and that clock's warning time."""
    running = [c for c in clocks if c.state == ClockState.RUNNING and c.due_at is not None]
    if not running:
        return NO_DUE, None
    first = min(running, key=lambda c: c.due_at)  # type: ignore[arg-type,return-value]
    return first.due_at, first.warn_at  # type: ignore[return-value]


def _refresh_case(case: Case) -> None:
    due, warn = next_due(list(CaseClock.objects.filter(case=case, state=ClockState.RUNNING)))
    if (due, warn) != (case.next_due_at, case.next_warn_at):
        Case.objects.filter(pk=case.pk).update(next_due_at=due, next_warn_at=warn)
        case.next_due_at, case.next_warn_at = due, warn


def clocks_start(case: Case, *, at: dt.datetime, reason: str = "received") -> list[CaseClock]:
    """Starts the case type's clocks with one INSERT."""
    clocks = new_clocks(case, at=at, reason=reason)
    if clocks:
        CaseClock.objects.bulk_create(clocks)
        _refresh_case(case)
    return clocks


def _pause(clock: CaseClock, at: dt.datetime) -> bool:
    version = deadline_selectors.rule_version_by_id(clock.rule_id)
    if version is None or not version.rule.pauses_stop or clock.state != ClockState.RUNNING:
        return False
    clock.state = ClockState.PAUSED
    clock.paused_since = at
    _apply(clock, _compute(version, clock, _closures(clock.explanation)))
    return True


def _resume(clock: CaseClock, at: dt.datetime) -> bool:
    if clock.state != ClockState.PAUSED or clock.paused_since is None:
        return False
    version = deadline_selectors.rule_version_by_id(clock.rule_id)
    start = clock.paused_since
    clock.pauses = [*clock.pauses, {"start": start.isoformat(), "end": max(at, start).isoformat(), "reason": "waiting"}]
    clock.paused_since = None
    clock.state = ClockState.RUNNING
    if version is not None:
        _apply(clock, _compute(version, clock, _closures(clock.explanation)))
    return True


def _stop(clock: CaseClock, at: dt.datetime) -> bool:
    if clock.state not in LIVE:
        return False
    if clock.state == ClockState.PAUSED:
        _resume(clock, at)
    clock.state = ClockState.MET if clock.due_at is None or at <= clock.due_at else ClockState.BREACHED
    clock.stopped_at = at
    return True


def _save(clocks: list[CaseClock], case: Case, action: str, at: dt.datetime, *, audit: bool = True) -> dict[str, str]:
    """Stores changed clocks; returns {rule key: state} (for the caller's audit event), or
    writes its own audit event (`audit=True`)."""
    if not clocks:
        return {}
    CaseClock.objects.bulk_update(clocks, ["state", "paused_since", "pauses", "due_at", "warn_at", "stopped_at", "explanation"])
    _refresh_case(case)
    summary = {c.rule_key: c.state for c in clocks}
    if not audit:
        return summary
    audit_record(
        actor="system",
        action=f"case.clocks_{action}",
        obj=case,
        after={"at": at.isoformat(), "clocks": summary},
    )
    return summary


ALL = None  # every clock pauses (a waiting state that names none)


def paused_in(kind: str, names: tuple[str, ...] | list[str] = ()) -> frozenset[str] | None:
    """The clocks a state pauses: the rule keys it names (`pauses` in the process
    definition), or — a waiting state naming none — every clock (`ALL`), or none."""
    if names:
        return frozenset(names)
    return ALL if kind == StatusKind.WAITING else frozenset()


def _pauses(keys: frozenset[str] | None, clock: CaseClock) -> bool:
    return keys is ALL or clock.rule_key in keys


def pause_for_state(clocks: list[CaseClock], kind: str, names: tuple[str, ...] | list[str], at: dt.datetime) -> list[CaseClock]:
    """Pauses from `at`, as entering a state of this kind with these `pauses` would, the
    running clocks among `clocks` (saved or not: the demo's bulk-made clocks of its waiting
    cases) whose rule lets pauses stop them; returns those it paused (nothing is saved)."""
    keys = paused_in(kind, names)
    return [clock for clock in clocks if _pauses(keys, clock) and _pause(clock, at)]


def clocks_follow_status(
    case: Case,
    old_kind: str,
    new_kind: str,
    at: dt.datetime,
    *,
    old_pauses: tuple[str, ...] | list[str] = (),
    new_pauses: tuple[str, ...] | list[str] = (),
) -> dict[str, str]:
    """Pauses the clocks the new state pauses (if their rule lets pauses stop them): those
    it names in `pauses`, or all in a waiting state that names none; resumes on leaving
    the clocks the old state paused and the new one does not (a clock paused by a step's
    effect stays paused); stops them as met or breached on resolution; on reopening, the
    clocks stopped by the resolution run on (their due times are unchanged: the resolution
    was no pause). Returns {rule key: new state} of the clocks it changed, for the
    transition's audit event."""
    before, after = paused_in(old_kind, old_pauses), paused_in(new_kind, new_pauses)
    if old_kind == new_kind and before == after:
        return {}
    clocks = list(CaseClock.objects.filter(case=case).order_by("id"))
    changed: list[CaseClock] = []
    live = [c for c in clocks if c.state in LIVE]
    if new_kind in STOPPED_KINDS:
        changed = [c for c in live if _stop(c, at)]
        return _save(changed, case, "stopped", at, audit=False)
    if old_kind in STOPPED_KINDS and not live:
        latest: dict[str, CaseClock] = {}
        for clock in clocks:
            latest[clock.rule_key] = clock
        for clock in latest.values():
            if clock.state in (ClockState.MET, ClockState.BREACHED):
                clock.state, clock.stopped_at = ClockState.RUNNING, None
                changed.append(clock)
        live = changed[:]
        before = frozenset()
    for clock in live:
        if _pauses(after, clock):
            if _pause(clock, at) and clock not in changed:
                changed.append(clock)
        elif _pauses(before, clock) and _resume(clock, at) and clock not in changed:
            changed.append(clock)
    return _save(changed, case, "followed_status", at, audit=False)


def clock_effect(case: Case, *, action: str, rule_key: str, at: dt.datetime) -> dict[str, str]:
    """A process transition's clock effect on the clocks of one rule: "start" starts it
    unless one is running or paused, "stop" stops it (met or breached), "pause" and
    "resume" as in a waiting state. Returns {rule key: new state} of what changed."""
    clocks = [c for c in CaseClock.objects.filter(case=case, rule_key=rule_key).order_by("id") if c.state in LIVE]
    if action == "start":
        if clocks:
            return {}
        started = new_clocks(case, at=at, reason="process", keys=[rule_key])
        if started:
            CaseClock.objects.bulk_create(started)
            _refresh_case(case)
        return {c.rule_key: c.state for c in started}
    step = {"stop": _stop, "pause": _pause, "resume": _resume}.get(action)
    changed = [c for c in clocks if step is not None and step(c, at)]
    return _save(changed, case, "effect", at, audit=False)


def clocks_on_inbound(case: Case, at: dt.datetime) -> None:
    """A customer's message: on a resolved or closed case without running clocks it is a
    complaint again and starts the clocks from its arrival; on a waiting case it ends the pause."""
    if case.status_kind in STOPPED_KINDS:
        # Two messages arriving at once must start one set of clocks: the case row is the lock.
        Case.objects.select_for_update().filter(pk=case.pk).values_list("pk", flat=True).first()
        if not CaseClock.objects.filter(case=case, state__in=LIVE).exists():
            started = clocks_start(case, at=at, reason="message_on_closed_case")
            if started:
                audit_record(
                    actor="system",
                    action="case.clocks_started",
                    obj=case,
                    after={"at": at.isoformat(), "clocks": [c.rule_key for c in started], "reason": "message_on_closed_case"},
                )
        return
    if case.status_kind == StatusKind.WAITING:
        changed = [c for c in CaseClock.objects.filter(case=case, state=ClockState.PAUSED) if _resume(c, at)]
        _save(changed, case, "resumed", at)


# --- escalation ------------------------------------------------------------------------------

THRESHOLDS = {
    # threshold: (the clock's time field, the field that records it was handled, timeline event)
    "warning": ("warn_at", "warned_at", "deadline_warning"),
    "breach": ("due_at", "breach_notified_at", "deadline_breach"),
}
BATCH = 500
CHUNK = 50  # clocks per transaction


def escalate_due_clocks(*, now: dt.datetime | None = None, limit: int = BATCH) -> dict[str, int]:
    """Handles running clocks that reached their warning or due time and were not handled
    yet: a timeline entry on the case, an audit event, an e-mail to the responsible person
    and (for `notify_owner_and_lead`, and always on breach) the team lead, who also becomes a
    watcher. Each clock and threshold is claimed by one conditional UPDATE in the
    transaction that writes the entry, so two workers never handle it twice and a worker
    killed mid-run leaves it for the next run. The candidates come from the partial indexes
    on `warn_at` / `due_at` (no scan of open cases)."""
    from django.utils import timezone

    now = now or timezone.now()
    handled = {"warning": 0, "breach": 0}
    for threshold, (time_field, mark, _event) in THRESHOLDS.items():
        candidates = list(
            CaseClock.objects.filter(state=ClockState.RUNNING, **{f"{mark}__isnull": True, f"{time_field}__lte": now})
            .order_by(time_field, "id")
            .values_list("id", "case_id")[:limit]
        )
        for start in range(0, len(candidates), CHUNK):
            handled[threshold] += _escalate_chunk(candidates[start : start + CHUNK], threshold, now)
    return handled


def _escalate_chunk(candidates: list[tuple[int, int]], threshold: str, now: dt.datetime) -> int:
    """One transaction for up to CHUNK clocks (a commit per clock made a backlog of 1,000
    clocks take 15 s on PostgreSQL): their cases are locked first — in ascending id order,
    the case before its clocks as every case write does, so neither two workers nor a
    transition can deadlock with it — then the clocks still unhandled are claimed by one
    conditional UPDATE and read back with their cases. Reference data is checked once per
    chunk, as for a request (core.refcache)."""
    from django.db import transaction

    from leitplanke.core.context import RequestContext, reset_request_context, set_request_context

    mark = THRESHOLDS[threshold][1]
    clock_ids = [clock_id for clock_id, _case_id in candidates]
    claimed: list[int] = []
    context = set_request_context(RequestContext(request_id=f"escalation-{threshold}", reference_generation=[None]))
    try:
        with transaction.atomic():
            case_ids = sorted({case_id for _clock_id, case_id in candidates})
            list(Case.objects.select_for_update().filter(pk__in=case_ids).order_by("pk").values_list("pk", flat=True))
            claimed = _claim(clock_ids, mark, now)  # the others: another worker had them, or they stopped
            related = ("case__case_type", "case__team__lead", "case__responsible_user")
            clocks = CaseClock.objects.select_related(*related).filter(pk__in=claimed)
            cases: dict[int, Case] = {}
            for clock in clocks.order_by("case_id", "id"):
                # Two clocks of one case share its row: the second sees the level the first raised.
                clock.case = cases.setdefault(clock.case_id, clock.case)
                _escalate(clock, threshold, now)
    finally:
        reset_request_context(context)
    return len(claimed)


def _claim(clock_ids: list[int], mark: str, now: dt.datetime) -> list[int]:
    """Marks the clocks among `clock_ids` that are still running and unhandled as handled at
    `now`, in one conditional UPDATE, and returns their ids (the row locks it takes hold
    until the transaction ends: a second worker's claim waits, then finds them handled)."""
    from django.db import connection

    table = connection.ops.quote_name(CaseClock._meta.db_table)
    column = connection.ops.quote_name(mark)  # a column named in THRESHOLDS, not input
    placeholders = ", ".join(["%s"] * len(clock_ids))
    value = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = %s WHERE id IN ({placeholders}) AND state = %s AND {column} IS NULL RETURNING id",  # noqa: S608
            [value, *clock_ids, ClockState.RUNNING],
        )
        return [row[0] for row in cursor.fetchall()]


def _escalate(clock: CaseClock, threshold: str, now: dt.datetime) -> None:
    from leitplanke.core.background import enqueue_on_commit

    from .models import Interaction, InteractionKind

    case = clock.case
    version = deadline_selectors.rule_version_by_id(clock.rule_id)
    action = version.rule.breach_action if version else "notify_owner"
    lead = case.team.lead if case.team_id and case.team and case.team.lead_id else None
    recipients = [u for u in (case.responsible_user, lead if (threshold == "breach" or "lead" in action) else None) if u]
    if case.responsible_user is None and lead is not None and lead not in recipients:
        recipients.append(lead)  # nobody responsible yet: the lead hears of it
    if lead is not None and threshold == "breach" and "lead" in action:
        case.watchers.add(lead)
    event = THRESHOLDS[threshold][2]
    data = {
        "event": event,
        "rule": clock.rule_key,
        "rule_version": version.version if version else None,
        "due_at": clock.due_at.isoformat() if clock.due_at else None,
        "warn_at": clock.warn_at.isoformat() if clock.warn_at else None,
        "notified": [u.pk for u in recipients],
    }
    insert_row(
        Interaction(
            case=case, kind=InteractionKind.SYSTEM, occurred_at=now, author_label="system", is_internal=True, data=data,
            subject=("Deadline warning: " if threshold == "warning" else "Deadline passed: ") + clock.rule_key,
        )
    )  # fmt: skip
    audit_record(actor="system", action=f"case.clock_{threshold}", obj=case, after=data)
    _escalate_level(case, clock, threshold, now)
    from .tasks import send_deadline_mail

    for user in recipients:
        if user.email and user.is_active:
            enqueue_on_commit(send_deadline_mail, user_id=user.pk, case_id=case.pk, clock_id=clock.pk, threshold=threshold)


def _escalate_level(case: Case, clock: CaseClock, threshold: str, now: dt.datetime) -> None:
    """What the case's process prescribes for this threshold: the next escalation level,
    if its `escalate_on` names the threshold (breach by default) and a level is left."""
    from . import escalation
    from . import process as case_process

    process = case_process.process_of(case).process
    if threshold not in process.escalate_on:
        return
    escalation.raise_level(case, process, actor=None, now=now, cause={"cause": f"deadline_{threshold}", "rule": clock.rule_key})


# --- extensions ----------------------------------------------------------------------------------


def clock_extend(
    *, actor: Actor, case: Case, clock_id: int, event: str, at: dt.datetime | None = None, note: str = ""
) -> CaseClock:
    """Records an extension event on a running clock (a PSD2 holding reply, a GDPR extension
    notice): the rule's extended period applies from receipt. Refused when the rule has no
    such extension, when the clock is not running, and when the event comes after the due
    time (PSD2 and GDPR require it within the first period)."""
    from django.db import transaction
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from leitplanke.core.errors import NotFound, PermissionDenied, ValidationFailed
    from leitplanke.core.text import is_storable

    from .models import Interaction, InteractionKind
    from .selectors import can_edit, is_visible

    with transaction.atomic():
        if actor is not None and not is_visible(actor, case):
            raise NotFound()
        if actor is not None and not can_edit(actor, case):
            raise PermissionDenied()
        Case.objects.select_for_update().filter(pk=case.pk).values_list("pk", flat=True).first()
        clock = CaseClock.objects.filter(pk=clock_id, case_id=case.pk).first()
        if clock is None:
            raise NotFound()
        now = timezone.now()
        at = at or now
        if timezone.is_naive(at):
            raise ValidationFailed(field_errors={"at": [_("Give the time with its UTC offset, e.g. 2026-04-02T10:15:00+02:00.")]})
        version = deadline_selectors.rule_version_by_id(clock.rule_id)
        if version is None or version.rule.extension(str(event or "")) is None:
            raise ValidationFailed(field_errors={"event": [_("The rule has no such extension.")]})
        if clock.state != ClockState.RUNNING:
            raise ValidationFailed(field_errors={"event": [_("Only a running deadline can be extended.")]})
        if at > now or at < clock.started_at:
            raise ValidationFailed(field_errors={"at": [_("The time must lie between receipt and now.")]})
        if clock.due_at is not None and at > clock.due_at:
            raise ValidationFailed(field_errors={"at": [_("The extension must be given before the deadline ends.")]})
        note = (note or "").strip()[:2000]
        if not is_storable(note):
            raise ValidationFailed(field_errors={"note": [_("This text contains a character that cannot be stored.")]})
        before = {"due_at": clock.due_at.isoformat() if clock.due_at else None}
        clock.extensions = [*clock.extensions, {"event": version.rule.extension(event).event, "at": at.isoformat()}]  # type: ignore[union-attr]
        _apply(clock, _compute(version, clock, _closures(clock.explanation)))
        clock.save(update_fields=["extensions", "due_at", "warn_at", "explanation"])
        _refresh_case(case)
        data = {"event": "deadline_extended", "rule": clock.rule_key, "extension": event, "at": at.isoformat(),
                "due_at": clock.due_at.isoformat() if clock.due_at else None}  # fmt: skip
        insert_row(
            Interaction(
                case=case, kind=InteractionKind.SYSTEM, occurred_at=now, author=acting_user(actor),
                author_label="" if actor is not None else "system", is_internal=True, data=data, body_text=note,
            )
        )  # fmt: skip
        audit_record(actor=actor or "system", action="case.clock_extend", obj=case, before=before, after=data)
        return clock
