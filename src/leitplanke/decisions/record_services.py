"""Decision records on cases: the only writers (record, correct, reverse).

Each service is one transaction with the case row locked, like `cases.services.case_transition`:
lock, check, change, then the timeline entry, the audit event and the domain event together.
A record's content never changes after it is saved; a correction or a reversal is a new record
that refers to the old one, whose `status` moves to superseded or reversed.

A decision within the decider's authority, not marked by its table as needing approval, is
final: no approval step, no hidden re-check. Otherwise it waits for approval (an approval
request is opened in the same transaction).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leitplanke.accounts.actors import Actor, acting_user, require_user
from leitplanke.cases import permissions as case_permissions
from leitplanke.cases.models import Case, Interaction, InteractionKind, StatusKind
from leitplanke.cases.selectors import is_visible
from leitplanke.core import events, rows
from leitplanke.core.audit import audit_event
from leitplanke.core.background import enqueue_on_commit
from leitplanke.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from leitplanke.core.inserts import insert_family, insert_row, update_row, update_statement, write_rows
from leitplanke.core.models import AuditEvent
from leitplanke.core.prepared import statement_cursor
from leitplanke.core.text import is_storable
from leitplanke.core.transactions import service_atomic

from . import record_selectors as selectors
from .approval_services import approval_request_open
from .authority_selectors import authority_for
from .models import DecisionKind, DecisionRecord, RecordKind, RecordStatus

ACTION_MAX = 100
TEXT_MAX = 5000
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
# A record that may be corrected: its outcome is known (awaiting approval: wait for it).
CORRECTABLE = (RecordStatus.FINAL, RecordStatus.APPROVED, RecordStatus.SENT_BACK, RecordStatus.REJECTED)
REVERSIBLE = (RecordStatus.FINAL, RecordStatus.APPROVED)


class JustificationRequired(ValidationFailed):
    code = "justification_required"
    default_message = _("The decision is outside the recommended range: a justification is required.")


class CurrencyMismatch(ValidationFailed):
    code = "currency_mismatch"
    default_message = _("The amount must be in the case's currency.")


class RecordNotCurrent(Conflict):
    code = "decision_not_current"
    default_message = _("This decision was already corrected or reversed, or awaits approval.")


class CaseClosed(Conflict):
    code = "case_closed"
    default_message = _("The case is closed: reopen it to correct a decision.")


class NotReversible(Conflict):
    code = "decision_not_reversible"
    default_message = _("Only a final or approved decision can be reversed.")


class ReversalExceedsAuthority(ValidationFailed):
    code = "reversal_exceeds_authority"
    default_message = _("The amount of the reversal is beyond your own authority.")


# --- checks ----------------------------------------------------------------------------------


def _text(value: Any, name: str, limit: int, errors: dict[str, list[str]]) -> str:
    text = "" if value is None else value
    if not isinstance(text, str):
        errors[name] = [str(_("Enter a text."))]
        return ""
    if not is_storable(text):
        errors[name] = [str(_("This text contains a character that cannot be stored (NUL or an unpaired surrogate)."))]
        return ""
    if len(text) > limit:
        errors[name] = [str(_("At most %(limit)s characters.") % {"limit": limit})]
        return ""
    return text.strip()


def _checked(
    *, kind: Any, amount: Any, currency: Any, action: Any, message_to_customer: Any, justification: Any
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    if kind not in DecisionKind.values:
        errors["kind"] = [str(_("Choose goodwill, redress or no payment."))]
    number = selectors._amount(amount)
    if number is None or number < 0 or number != number.quantize(selectors.CENT):
        errors["amount"] = [str(_("Enter an amount of 0 or more (at most two decimal places)."))]
    elif kind == DecisionKind.NONE and number != 0:
        errors["amount"] = [str(_("A decision without payment has the amount 0."))]
    code = currency.strip().upper() if isinstance(currency, str) else ""
    if not CURRENCY_RE.match(code):
        errors["currency"] = [str(_("Enter a three-letter currency code, e.g. EUR."))]
    values = {
        "action": _text(action, "action", ACTION_MAX, errors),
        "message_to_customer": _text(message_to_customer, "message_to_customer", TEXT_MAX, errors),
        "justification": _text(justification, "justification", TEXT_MAX, errors),
    }
    if errors:
        raise ValidationFailed(field_errors=errors)
    assert number is not None
    return {"kind": kind, "amount": number.quantize(selectors.CENT), "currency": code, **values}


# What a decision reads of the case, joined to the locked row: (relation, the relation it hangs
# from — None for the case itself).
_LOCK_RELATED = (("case_type", None), ("customer", None), ("contract", None), ("product", "contract"), ("category", None))
# Per database vendor: the statement and, per model read, (model, fields, relation, index of its owner).
_LOCK_STATEMENTS: dict[str, tuple[str, list[tuple[type[Model], list[Field], str | None, int]]]] = {}


def _lock_statement(db: BaseDatabaseWrapper) -> tuple[str, list[tuple[type[Model], list[Field], str | None, int]]]:
    """`Case.objects.select_for_update(of=("self",)).select_related("case_type", "customer",
    "contract", "contract__product", "category").get(pk=…)` as a statement written once per
    database (the ORM compiles that join anew on every decision). The customer's
    vulnerability reason is not read (as `customers.selectors` does; nothing here needs it)."""
    found = _LOCK_STATEMENTS.get(db.vendor)
    if found is not None:
        return found
    quote = db.ops.quote_name
    case_columns, case_fields = rows.columns(Case, db)
    selected = [case_columns]
    plan: list[tuple[type[Model], list[Field], str | None, int]] = [(Case, case_fields, None, 0)]
    joins = []
    for name, owner_name in _LOCK_RELATED:
        owner_index = 0 if owner_name is None else next(i for i, p in enumerate(plan) if p[2] == owner_name)
        owner = plan[owner_index][0]
        link = owner._meta.get_field(name)
        model = link.related_model
        assert isinstance(link, Field) and isinstance(model, type)
        leave_out = ("vulnerability_reason",) if name == "customer" else ()
        columns, fields = rows.columns(model, db, leave_out=leave_out)
        selected.append(columns)
        table = quote(model._meta.db_table)
        joins.append(
            f"LEFT OUTER JOIN {table} ON {table}.{quote(str(model._meta.pk.column))}"
            f" = {quote(owner._meta.db_table)}.{quote(str(link.column))}"
        )
        plan.append((model, fields, name, owner_index))
    case_table = quote(Case._meta.db_table)
    # Table and column names come from the models' metadata, quoted; the id is a parameter.
    sql = f"SELECT {', '.join(selected)} FROM {case_table} {' '.join(joins)} WHERE {case_table}.{quote('id')} = %s"  # noqa: S608
    if db.features.has_select_for_update:  # PostgreSQL; SQLite's BEGIN IMMEDIATE takes its one write lock
        sql += f" FOR UPDATE OF {case_table}" if db.features.has_select_for_update_of else " FOR UPDATE"
    found = _LOCK_STATEMENTS[db.vendor] = (sql, plan)
    return found


def _lock_case(case: Case | int) -> Case:
    """The case row, locked (first, before any record of it: ADR 0031), with its type,
    customer, contract, product and category; NotFound when there is no such case."""
    sql, plan = _lock_statement(connection)
    key = [case.pk if isinstance(case, Case) else int(case)]
    with statement_cursor(connection, key) as cursor:  # a fixed text: prepared (ADR 0035)
        cursor.execute(sql, key)
        found = cursor.fetchone()
    if found is None:
        raise NotFound()
    read: list[Model | None] = []
    start = 0
    for model, fields, name, owner_index in plan:
        values = found[start : start + len(fields)]
        start += len(fields)
        owner = read[owner_index] if read else None
        if name is not None and (owner is None or values[fields.index(model._meta.pk)] is None):
            instance = None  # no such relation (or its owner is missing): the outer join gave NULLs
        else:
            instance = rows.instance(model, fields, tuple(values), connection)
        if name is not None and owner is not None:
            owner._meta.get_field(name).set_cached_value(owner, instance)  # type: ignore[union-attr]
        read.append(instance)
    locked = read[0]
    assert isinstance(locked, Case)
    return locked


def _require_edit(actor: Actor, case: Case) -> None:
    if not is_visible(actor, case):
        raise NotFound()
    if not case_permissions.may_edit_cases(actor):
        raise PermissionDenied()


def _lock_record(record: DecisionRecord, case: Case) -> DecisionRecord:
    found = (
        DecisionRecord.objects.select_for_update(of=("self",))
        .select_related("decided_by", "table")
        .filter(pk=record.pk, case_id=case.pk)
        .first()
    )
    if found is None:
        raise NotFound()
    return found


# --- authority -------------------------------------------------------------------------------


def authority_check(
    *,
    actor: Actor,
    case: Case,
    kind: str,
    currency: str,
    amount: Decimal,
    at: dt.datetime | None = None,
    used: Decimal | None = None,
) -> tuple[list[str], dict[str, Any]]:
    """Why the decision needs approval for the actor's authority (`above_authority`; empty:
    it is covered), and the snapshot of that authority stored with the record. `used`: what
    the customer received this year, when the caller has read it at `at`."""
    if kind == DecisionKind.NONE or amount == 0:
        return [], {"kind": kind, "currency": currency, "covered": True, "no_payment": True}
    view = authority_for(
        user=require_user(actor),
        kind=kind,
        currency=currency,
        case_type=case.case_type_id,
        customer=case.customer_id,
        at=at,
        used=used,
    )
    codes = view.reason_codes(amount)
    snapshot = {**view.as_dict(), "amount": str(amount), "covered": not codes, "over": codes}
    return (["above_authority"] if codes else []), snapshot


# --- writing ---------------------------------------------------------------------------------


def record_team(actor: Actor, case: Case) -> int | None:
    """The team a record counts for: the case's, if the decider is in it, else their first."""
    teams = case_permissions.team_ids_of(actor)
    if case.team_id is not None and case.team_id in teams:
        return case.team_id
    return teams[0] if teams else None


def _record_facts(record: DecisionRecord) -> dict[str, Any]:
    """What the domain event and the timeline entry both say of a record."""
    return {
        "decision_id": record.pk,
        "record_kind": record.record_kind,
        "refers_to": record.refers_to_id,
        "kind": record.kind,
        "amount": str(record.amount),
        "currency": record.currency,
        "status": record.status,
        "deviates": record.deviates,
    }


def record_event_payload(case: Case, record: DecisionRecord) -> dict[str, Any]:
    """The `decision.recorded` event's payload."""
    return {
        "case_id": case.pk,
        "reference": case.reference,
        "case_type": case.case_type.key,
        "team_id": case.team_id,
        "customer_id": case.customer_id,
        **_record_facts(record),
        "decided_by": record.decided_by_id,
    }


def _audit_shape(record: DecisionRecord) -> dict[str, Any]:
    return {
        "record_kind": record.record_kind,
        "refers_to": record.refers_to_id,
        "table": str(record.table) if record.table_id else None,
        "matched_rules": [rule.get("id") for rule in record.matched_rules],
        "recommended_min": record.recommended_min,
        "recommended_max": record.recommended_max,
        "kind": record.kind,
        "amount": record.amount,
        "currency": record.currency,
        "action": record.action,
        "message_to_customer": record.message_to_customer,
        "deviates": record.deviates,
        "justification": record.justification,
        "authority": record.authority,
        "status": record.status,
    }


# The case's columns a change of its closing amounts writes; any other decision change writes
# only its activity time.
AMOUNT_FIELDS = ("redress_amount", "goodwill_amount", "version", "last_activity_at", "updated_at")


def _amounts_change(*, actor: Actor, case: Case, totals: dict[str, Decimal | None]) -> AuditEvent | None:
    """Sets the case's closing fields to `totals` (in memory: the caller writes `AMOUNT_FIELDS`)
    and returns the unsaved audit event of that change; None when they hold them already."""
    redress, goodwill = totals[DecisionKind.REDRESS], totals[DecisionKind.GOODWILL]
    if case.redress_amount == redress and case.goodwill_amount == goodwill:
        return None
    before = {"redress_amount": case.redress_amount, "goodwill_amount": case.goodwill_amount, "version": case.version}
    case.redress_amount = redress
    case.goodwill_amount = goodwill
    case.version += 1
    case.last_activity_at = timezone.now()
    return audit_event(
        actor=actor or "system",
        action="case.decision_amounts",
        obj=case,
        before=before,
        after={"redress_amount": redress, "goodwill_amount": goodwill, "version": case.version},
    )


def case_amounts_refresh(*, actor: Actor, case: Case) -> bool:
    """Fills the case's closing fields from its effective records (final or approved):
    redress and goodwill kept apart. Called inside the transaction of the record's change
    (the case row is locked); the approval services call it when a record is approved."""
    event = _amounts_change(actor=actor, case=case, totals=selectors.effective_amounts(case))
    if event is None:
        return False
    update_row(case, AMOUNT_FIELDS)
    insert_row(event)
    return True


def _timeline(case: Case, record: DecisionRecord, *, actor: Actor, now: dt.datetime) -> Interaction:
    """The record's timeline entry (unsaved: the caller writes it with the change's other rows)."""
    within = record.status == RecordStatus.FINAL
    label = {"goodwill": "Goodwill", "redress": "Redress", "none": "No payment"}.get(record.kind, record.kind)
    if record.record_kind == RecordKind.REVERSAL:
        subject = f"Decision reversed: {label} {record.amount} {record.currency}"
    else:
        verb = "corrected" if record.record_kind == RecordKind.CORRECTION else "decided"
        subject = f"{label} {record.amount} {record.currency} {verb} ({'within authority' if within else 'awaiting approval'})"
    user = acting_user(actor)
    case.last_activity_at = now
    return Interaction(
        case=case,
        kind=InteractionKind.SYSTEM,
        occurred_at=now,
        author=user,
        author_label="" if user else "system",
        is_internal=True,
        subject=subject[:255],
        body_text=record.justification if record.record_kind == RecordKind.REVERSAL else "",
        data={
            "event": "decision",
            **_record_facts(record),
            "table": record.table.key if record.table_id and record.table else "",
        },
    )


# A final decision's rows that name its record, written by the statement that numbers it
# (`_write_final`): the timeline entry's `decision_id` and the record's audit event's object
# (the case's own event names the case: its `object_id` is not empty).
_NAMED_BY_RECORD = {
    Interaction: {"data": "jsonb_set(%s, '{decision_id}', to_jsonb((SELECT id FROM parent)))"},
    AuditEvent: {"object_id": "COALESCE(NULLIF(%s, ''), (SELECT id FROM parent)::text)"},
}


def _write_final(record: DecisionRecord, case: Case, case_fields: tuple[str, ...], written: list[Model]) -> None:
    """PostgreSQL, a new decision that is final: the record, the case's columns `case_fields`,
    its timeline entry and its audit events in one statement (ADR 0037) — the UPDATE of the
    locked case row and the INSERTs as parts of one data-modifying WITH, the record's id handed
    to the rows that name it. One round trip instead of three."""
    update = update_statement(case, case_fields)
    groups: dict[type[Model], list[Model]] = {}
    for row in written:
        groups.setdefault(type(row), []).append(row)
    if any(len(rows) != 1 for model, rows in groups.items() if model is Interaction):
        raise RuntimeError("_write_final writes the record's one timeline entry")
    insert_family(
        record,
        [(None, rows) for rows in groups.values()],
        lead=[("case_row", *update)],
        expressions=_NAMED_BY_RECORD,
    )
    for row in written:
        if isinstance(row, Interaction):
            row.data["decision_id"] = record.pk
        elif isinstance(row, AuditEvent) and not row.object_id:
            row.object_id = str(record.pk)


def _decide(
    *,
    actor: Actor,
    case: Case,
    table_key: str | None,
    context: Any,
    values: dict[str, Any],
    record_kind: str,
    refers_to: DecisionRecord | None,
) -> DecisionRecord:
    now = timezone.now()
    case_currency = (case.currency or "EUR").upper()
    if values["currency"] != case_currency:
        raise CurrencyMismatch(
            field_errors={"currency": [str(_("The case is kept in %(currency)s.") % {"currency": case_currency})]},
            expected=case_currency,
        )
    row = None
    if table_key:
        try:
            row = selectors.decision_table(table_key)
        except NotFound:
            raise ValidationFailed(field_errors={"table_key": [str(_("There is no published decision table with this key."))]})
    elif context:
        raise ValidationFailed(field_errors={"context": [str(_("A decision context needs a decision table."))]})
    # Read under the case's lock: what the table sees of the customer's year, what counts
    # against the cumulative authority, and the case's effective amounts (no writer of this
    # case's records runs meanwhile: each locks the case row first, ADR 0031).
    counts = selectors.case_counts(case, now=now, kind=values["kind"], currency=values["currency"])
    recommendation = None if row is None else selectors.recommend(row, case, context, now=now, counts=counts)
    amount: Decimal = values["amount"]
    deviates = False
    if recommendation is None and refers_to is not None:  # a reversal: measured against the old range
        low, high = refers_to.recommended_min, refers_to.recommended_max
        deviates = (low is not None and amount < low) or (high is not None and amount > high)
    if recommendation is not None:
        deviates = not recommendation.within(amount)
        if (
            recommendation.kind in (DecisionKind.GOODWILL, DecisionKind.REDRESS)
            and amount > 0
            and values["kind"] != recommendation.kind
        ):
            deviates = True  # redress recorded as goodwill (or the reverse) is a deviation too
    if deviates and not values["justification"]:
        raise JustificationRequired(
            field_errors={"justification": [str(_("Outside the recommended range: give a justification."))]}
        )
    reasons, authority = authority_check(
        actor=actor,
        case=case,
        kind=values["kind"],
        currency=values["currency"],
        amount=amount,
        at=now,
        used=counts.used_this_year,
    )
    if recommendation is not None and recommendation.approval_needed:
        reasons.append("table_requires")
    # Corrected without a new evaluation: what the table asked of the old record still holds
    # (a correction must not be a way around the approval the table asked for).
    if (
        recommendation is None
        and record_kind == RecordKind.CORRECTION
        and refers_to is not None
        and "table_requires" in (refers_to.authority or {}).get("approval_reasons", [])
    ):
        reasons.append("table_requires")
    if record_kind == RecordKind.REVERSAL and reasons and "table_requires" not in reasons:
        raise ReversalExceedsAuthority(field_errors={"amount": [str(ReversalExceedsAuthority.default_message)]})
    if record_kind == RecordKind.REVERSAL:
        reasons = []  # a lead's reversal within their own authority is final
    authority["approval_reasons"] = reasons
    # PostgreSQL, a new decision that is final: the record is written with the rest at the end,
    # in one statement (`_write_final`); otherwise first, as the rows below need its id.
    one_statement = connection.vendor == "postgresql" and refers_to is None and not reasons
    record = DecisionRecord(
        case=case,
        record_kind=record_kind,
        refers_to=refers_to,
        table=recommendation.table if recommendation else (refers_to.table if refers_to is not None else None),
        inputs=recommendation.inputs if recommendation else (refers_to.inputs if refers_to is not None else {}),
        recommendation=(
            {
                **recommendation.outputs,
                "amount": str(recommendation.amount) if recommendation.amount is not None else None,
                "kind": recommendation.kind,
            }
            if recommendation
            else (refers_to.recommendation if refers_to is not None else {})
        ),
        matched_rules=recommendation.matched if recommendation else (refers_to.matched_rules if refers_to is not None else []),
        recommended_min=recommendation.minimum if recommendation else (refers_to.recommended_min if refers_to else None),
        recommended_max=recommendation.maximum if recommendation else (refers_to.recommended_max if refers_to else None),
        kind=values["kind"],
        amount=amount,
        currency=values["currency"],
        action=values["action"],
        message_to_customer=values["message_to_customer"],
        deviates=deviates,
        justification=values["justification"],
        authority=authority,
        status=RecordStatus.PENDING if reasons else RecordStatus.FINAL,
        decided_by=require_user(actor),
        decided_at=now,
        team_id=record_team(actor, case),
    )
    if not one_statement:
        insert_row(record)
    # The timeline entries and audit events of this change, written at its end: one INSERT
    # per table (in the order they were made), or one statement with the record and the case.
    written: list[Model] = []
    if refers_to is not None:
        before = refers_to.status
        refers_to.status = RecordStatus.REVERSED if record_kind == RecordKind.REVERSAL else RecordStatus.SUPERSEDED
        refers_to.save(update_fields=["status"])
        written.append(
            audit_event(
                actor=actor,
                action="decision.status",
                obj=refers_to,
                before={"status": before},
                after={"status": refers_to.status, "by": record.pk},
            )
        )
    if reasons:
        approval_request_open(record=record, reasons=reasons, actor=actor, used=counts.used_this_year, rows=written)
    written.append(_timeline(case, record, actor=actor, now=now))
    written.append(audit_event(actor=actor, action=f"decision.{record_kind}", obj=record, after=_audit_shape(record)))
    totals: dict[str, Decimal | None] | None = None  # a correction or reversal took an old record out: read again
    if refers_to is None:
        totals = {DecisionKind.REDRESS: counts.redress, DecisionKind.GOODWILL: counts.goodwill}
        if record.status in selectors.EFFECTIVE and record.kind in totals:
            totals[record.kind] = (totals[record.kind] or Decimal(0)) + record.amount
    if totals is None:
        totals = selectors.effective_amounts(case)
    amounts = _amounts_change(actor=actor, case=case, totals=totals)  # with a new activity time
    if amounts is not None:
        written.append(amounts)
    case_fields = AMOUNT_FIELDS if amounts is not None else ("last_activity_at",)  # `_timeline` set it
    if one_statement:
        _write_final(record, case, case_fields, written)
    elif connection.vendor == "postgresql":  # the case's row with the timeline and the audit events
        write_rows(written, lead=[("case_row", *update_statement(case, case_fields))])
    else:
        update_row(case, case_fields)
        write_rows(written)
    events.emit("decision.recorded", record_event_payload(case, record))
    return record


def decision_record(
    *,
    actor: Actor,
    case: Case | int,
    table_key: str | None = None,
    context: Any = None,
    kind: Any,
    amount: Any,
    currency: Any,
    action: Any = "",
    message_to_customer: Any = "",
    justification: Any = "",
) -> DecisionRecord:
    """Records the agent's decision on a case with the table's recommendation for it.

    Refuses, with nothing saved: an actor who may not edit the case (404/403), bad values
    (422 field errors), a currency other than the case's (`currency_mismatch`), an amount
    outside the recommended range without a justification (`justification_required`).
    Within the actor's authority and not marked by the table: final. Otherwise pending, with
    an approval request. `case`: the case or its id (it is read with its row locked and
    checked there: NotFound when the actor may not see it)."""
    # No savepoint when the caller's transaction fails as a whole anyway (the API's).
    with service_atomic():
        locked = _lock_case(case)
        _require_edit(actor, locked)
        values = _checked(
            kind=kind,
            amount=amount,
            currency=currency,
            action=action,
            message_to_customer=message_to_customer,
            justification=justification,
        )
        return _decide(
            actor=actor,
            case=locked,
            table_key=table_key,
            context=context,
            values=values,
            record_kind=RecordKind.DECISION,
            refers_to=None,
        )


@transaction.atomic
def decision_correct(
    *,
    actor: Actor,
    record: DecisionRecord,
    table_key: str | None = None,
    context: Any = None,
    kind: Any,
    amount: Any,
    currency: Any,
    action: Any = "",
    message_to_customer: Any = "",
    justification: Any = "",
) -> DecisionRecord:
    """A correction of a decision by its decider (or by someone who may reverse it): a new
    record referring to the old one, checked like a new decision (range, authority: final or
    pending with an approval request); the old one is superseded. Without `table_key` it is
    measured against the old record's recommended range and keeps its table and snapshot.

    Refused, nothing saved: someone else (403), a record awaiting approval, already corrected
    or reversed (`decision_not_current`, 409), a closed case (`case_closed`, 409: its amounts
    were reported when it closed), no justification (`justification_required`: a correction
    says why)."""
    case = _lock_case(record.case)
    _require_edit(actor, case)
    old = _lock_record(record, case)
    if not selectors.may_correct(actor, old):
        raise PermissionDenied()
    if old.status not in CORRECTABLE:
        raise RecordNotCurrent()
    if case.status_kind == StatusKind.CLOSED:
        raise CaseClosed()
    values = _checked(
        kind=kind,
        amount=amount,
        currency=currency,
        action=action,
        message_to_customer=message_to_customer,
        justification=justification,
    )
    if not values["justification"]:
        raise JustificationRequired(
            _("A correction needs a justification."),
            field_errors={"justification": [str(_("Say why the decision is corrected."))]},
        )
    return _decide(
        actor=actor,
        case=case,
        table_key=table_key,
        context=context,
        values=values,
        record_kind=RecordKind.CORRECTION,
        refers_to=old,
    )


@transaction.atomic
def decision_reverse(
    *,
    actor: Actor,
    record: DecisionRecord,
    justification: Any,
    amount: Any = 0,
    kind: Any = None,
    action: Any = "",
    message_to_customer: Any = "",
) -> DecisionRecord:
    """A lead overrules a final (or approved) decision: a reversal record with a mandatory
    justification, which the decider is told by e-mail and sees on the case. The amount of
    the reversal (default 0: nothing is given) must be within the lead's own authority."""
    case = _lock_case(record.case)
    _require_edit(actor, case)
    old = _lock_record(record, case)
    if not selectors.may_reverse(actor, old):
        raise PermissionDenied()
    if old.status not in REVERSIBLE:
        raise NotReversible()
    if kind is None or kind == "":
        number = selectors._amount(amount)
        kind = DecisionKind.NONE if number is not None and number == 0 else old.kind
    values = _checked(
        kind=kind,
        amount=amount,
        currency=old.currency,
        action=action,
        message_to_customer=message_to_customer,
        justification=justification,
    )
    if not values["justification"]:
        raise JustificationRequired(
            _("A reversal needs a justification."), field_errors={"justification": [str(_("Say why the decision is reversed."))]}
        )
    reversal = _decide(
        actor=actor, case=case, table_key=None, context=None, values=values, record_kind=RecordKind.REVERSAL, refers_to=old
    )
    from .record_tasks import send_reversal_mail

    if old.decided_by.email and old.decided_by.is_active:
        enqueue_on_commit(send_reversal_mail, reversal_id=reversal.pk)
    return reversal
