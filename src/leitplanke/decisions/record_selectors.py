"""Reads for decision records on cases: the published tables an agent can decide with, the
input snapshot a table sees, the recommendation (evaluated without saving anything) and the
records of a case — always scoped to what the actor may see."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leitplanke.accounts.actors import Actor, is_user
from leitplanke.cases.models import Case
from leitplanke.cases.selectors import is_visible
from leitplanke.core.errors import NotFound, ValidationFailed
from leitplanke.core.text import is_storable

from . import engine, table_selectors
from .models import DecisionKind, DecisionRecord, DecisionTable, RecordKind, RecordStatus, TableStatus

if TYPE_CHECKING:
    from leitplanke.accounts.models import User

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")  # max_digits=12, decimal_places=2
# Records whose amount counts (for the case's closing fields and the customer's history).
EFFECTIVE = (RecordStatus.FINAL, RecordStatus.APPROVED)
# The facts a table may read that Leitplanke fills in itself (from the case, the customer and
# the contract); every other top-level input of a table is typed by the agent (the context).
DERIVED_FIELDS = {"segment", "years_as_customer", "complaints_12m", "refunds_12m", "case", "customer", "contract"}
# Tables that recommend a share of a fee (card_fee_refund) need the fee to give an amount.
SHARE_OUTPUT = "refund_share"
SHARE_BASIS = "fee_amount"
CONTEXT_LABELS: dict[str, Any] = {
    "disputed_amount": _("Disputed amount"),
    "fee_type": _("Fee type"),
    "bank_error": _("Charged in error"),
    SHARE_BASIS: _("Fee amount"),
}
CONTEXT_TEXT_MAX = 200
QUOTED = re.compile(r'"([^"\\]*)"')
NUMBER = re.compile(r"(?<![\w.])-?\d+(\.\d+)?")


# --- tables ----------------------------------------------------------------------------------


def decision_tables() -> list[DecisionTable]:
    """The published tables that recommend an amount (goodwill or redress), by key."""
    return list(
        DecisionTable.objects.filter(status=TableStatus.PUBLISHED)
        .exclude(decision_kind=DecisionKind.NONE)
        .order_by("key")
        .only("id", "key", "version", "name_de", "name_en", "decision_kind", "revision", "status")
    )


def decision_table(key: str) -> DecisionTable:
    """The published version of a table that recommends an amount (shared, cached per reference
    generation by `table_selectors.published`: do not modify); NotFound otherwise."""
    row = table_selectors.published(str(key or "")[:50])
    if row is None or row.decision_kind == DecisionKind.NONE:
        raise NotFound()
    return row


# The compiled form of a stored version, kept per process (table_selectors).
compiled = table_selectors.compiled


@dataclass(frozen=True)
class ContextField:
    """One fact of the decision context the agent types (read from the table's inputs)."""

    name: str  # the table's input field
    label: str
    type: str  # number | boolean | choice | text
    choices: tuple[str, ...] = ()


def context_fields(row: DecisionTable) -> list[ContextField]:
    """The table's inputs that Leitplanke does not fill in itself, with a type guessed from
    the table's own cells: `true`/`false` → yes/no, quoted texts → a choice among them,
    numbers → a number. A table recommending a share of a fee also asks for the fee."""
    table = compiled(row)
    found: list[ContextField] = []
    for column in table.inputs:
        name = column.field
        if "." in name or name in DERIVED_FIELDS:
            continue
        cells = [rule.cells.get(column.id, "") for rule in table.rules]
        label = str(CONTEXT_LABELS.get(name, column.name or name))
        if any(cell.strip() in ("true", "false") for cell in cells):
            found.append(ContextField(name, label, "boolean"))
        elif any(QUOTED.search(cell) for cell in cells):
            values: list[str] = []
            for cell in cells:
                for value in QUOTED.findall(cell):
                    if value not in values:
                        values.append(value)
            found.append(ContextField(name, label, "choice", tuple(values)))
        elif name.endswith("amount") or any(NUMBER.search(cell) for cell in cells):
            found.append(ContextField(name, label, "number"))
        else:
            found.append(ContextField(name, label, "text"))
    if any(column.field == SHARE_OUTPUT for column in table.outputs) and not any(f.name == SHARE_BASIS for f in found):
        found.append(ContextField(SHARE_BASIS, str(CONTEXT_LABELS[SHARE_BASIS]), "number"))
    return found


def _amount(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ".")) if isinstance(value, str) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or abs(number) > MAX_AMOUNT:
        return None
    return number


def _json_number(number: Decimal) -> int | float:
    return int(number) if number == number.to_integral_value() else float(number)


def clean_context(row: DecisionTable, context: Any) -> dict[str, Any]:
    """The typed context checked against the table's context fields: numbers, yes/no,
    one of the choices, short texts. Every problem is a field error `context.<name>`."""
    if context is None:
        context = {}
    if not isinstance(context, dict):
        raise ValidationFailed(field_errors={"context": [str(_("Enter the decision context as named values."))]})
    fields = {f.name: f for f in context_fields(row)}
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name in context:
        if name not in fields:
            errors[f"context.{str(name)[:60]}"] = [str(_("This table does not ask for this value."))]
    for name, spec in fields.items():
        raw = context.get(name)
        place = f"context.{name}"
        if spec.type == "boolean":
            if raw in (True, "true", "on", "1", 1, "yes"):
                cleaned[name] = True
            elif raw in (None, False, "", "false", "off", "0", 0, "no"):
                cleaned[name] = False
            else:
                errors[place] = [str(_("Answer yes or no."))]
        elif spec.type == "number":
            number = _amount(raw)
            if raw is None or raw == "":
                errors[place] = [str(_("This value is required."))]
            elif number is None or number < 0:
                errors[place] = [str(_("Enter a number of 0 or more."))]
            else:
                cleaned[name] = _json_number(number)
        elif spec.type == "choice":
            value = "" if raw is None else raw
            if not isinstance(value, str) or (value and value not in spec.choices):
                errors[place] = [str(_("Choose one of the offered values."))]
            elif not value:
                errors[place] = [str(_("This value is required."))]
            else:
                cleaned[name] = value
        else:
            value = "" if raw is None else raw
            if not isinstance(value, str) or len(value) > CONTEXT_TEXT_MAX or not is_storable(value):
                errors[place] = [str(_("Enter a short text (at most 200 characters)."))]
            else:
                cleaned[name] = value
    if errors:
        raise ValidationFailed(field_errors=errors)
    return cleaned


# --- the input snapshot ----------------------------------------------------------------------


def _years_since(day: dt.date | None, today: dt.date) -> int:
    if day is None:
        return 0
    years = today.year - day.year - ((today.month, today.day) < (day.month, day.day))
    return max(years, 0)


@dataclass(frozen=True)
class CaseCounts:
    """What the case's customer had in the last 365 days, and the case's effective amounts:
    read in one statement (`case_counts`)."""

    complaints_12m: int = 0  # complaints received, this one included
    refunds_12m: int = 0  # effective records with an amount
    used_this_year: Decimal = Decimal("0")  # effective records of the asked kind and currency (authority)
    redress: Decimal | None = None  # the case's effective redress records (None: none)
    goodwill: Decimal | None = None


_COUNTS_SQL = (
    "SELECT"
    " (SELECT COUNT(*) FROM cases_case INNER JOIN cases_casetype ON cases_casetype.id = cases_case.case_type_id"
    "   WHERE cases_casetype.is_complaint AND cases_case.customer_id = %s AND cases_case.received_at >= %s),"
    " (SELECT COUNT(*) FROM decisions_decisionrecord INNER JOIN cases_case ON cases_case.id = decisions_decisionrecord.case_id"
    "   WHERE cases_case.customer_id = %s AND decisions_decisionrecord.status IN (%s, %s)"
    "   AND decisions_decisionrecord.decided_at >= %s AND decisions_decisionrecord.amount > 0"
    "   AND NOT decisions_decisionrecord.kind = %s),"
    " (SELECT SUM(decisions_decisionrecord.amount) FROM decisions_decisionrecord"
    "   INNER JOIN cases_case ON cases_case.id = decisions_decisionrecord.case_id"
    "   WHERE cases_case.customer_id = %s AND decisions_decisionrecord.kind = %s AND decisions_decisionrecord.currency = %s"
    "   AND decisions_decisionrecord.status IN (%s, %s)"
    "   AND decisions_decisionrecord.decided_at > %s AND decisions_decisionrecord.decided_at <= %s),"
    " (SELECT SUM(amount) FROM decisions_decisionrecord WHERE case_id = %s AND status IN (%s, %s) AND kind = %s),"
    " (SELECT SUM(amount) FROM decisions_decisionrecord WHERE case_id = %s AND status IN (%s, %s) AND kind = %s)"
)


def case_counts(case: Case, *, now: dt.datetime, kind: str | None = None, currency: str | None = None) -> CaseCounts:
    """The customer's complaints and refunds in the 365 days before `now` (what a table sees as
    `complaints_12m` and `refunds_12m`), what the customer received in effective records of
    `kind` and `currency` in those days (`authority_selectors.used_this_year`: the cumulative
    authority limit) and the case's effective redress and goodwill — one statement, written
    once, instead of four ORM queries: every decision reads them with the case row locked."""
    ops = connection.ops
    year_ago = ops.adapt_datetimefield_value(now - dt.timedelta(days=365))
    at = ops.adapt_datetimefield_value(now)
    customer = case.customer_id
    effective = list(EFFECTIVE)
    params = [
        customer, year_ago,
        customer, *effective, year_ago, DecisionKind.NONE,
        customer, kind or "", (currency or "").upper(), *effective, year_ago, at,
        case.pk, *effective, DecisionKind.REDRESS,
        case.pk, *effective, DecisionKind.GOODWILL,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_COUNTS_SQL, params)
        complaints, refunds, used, redress, goodwill = cursor.fetchone()
    if customer is None:
        complaints = refunds = 0
        used = None
    return CaseCounts(
        complaints_12m=int(complaints or 0),
        refunds_12m=int(refunds or 0),
        used_this_year=_db_amount(used) or Decimal("0"),  # as authority_selectors.used_this_year
        redress=_db_amount(redress),
        goodwill=_db_amount(goodwill),
    )


def _db_amount(value: Any) -> Decimal | None:
    """A SUM of amounts as the ORM gives it (SQLite sums its numbers as floats: the amount
    field's converters round them to cents, as `aggregate(Sum(...))` does)."""
    if value is None:
        return None
    field = DecisionRecord._meta.get_field("amount")
    column = field.get_col(DecisionRecord._meta.db_table)  # type: ignore[union-attr]
    for converter in (*connection.ops.get_db_converters(column), *field.get_db_converters(connection)):
        value = converter(value, column, connection)
    return Decimal(value)


def case_facts(case: Case, *, now: dt.datetime | None = None, counts: CaseCounts | None = None) -> dict[str, Any]:
    """What Leitplanke knows about the case, its customer and contract, as table inputs.
    `counts`: the case's counts when the caller has read them (`case_counts` at `now`)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    customer = case.customer if case.customer_id else None
    contract = case.contract if case.contract_id else None
    if counts is None:
        counts = case_counts(case, now=now)
    complaints = counts.complaints_12m if customer is not None else 0
    refunds = counts.refunds_12m if customer is not None else 0
    facts: dict[str, Any] = {
        "segment": customer.segment if customer else "private",
        "years_as_customer": _years_since(customer.customer_since if customer else None, today),
        "complaints_12m": complaints,
        "refunds_12m": refunds,
        "case": {
            "type": case.case_type.key,
            "is_complaint": bool(case.case_type.is_complaint),
            "category": case.category.key if case.category_id and case.category else "",
            "priority": case.priority,
            "severity": case.severity,
            "channel": case.channel,
            "currency": case.currency or "EUR",
            "escalation_level": case.escalation_level,
            "redress_amount": _json_number(case.redress_amount) if case.redress_amount is not None else None,
            "goodwill_amount": _json_number(case.goodwill_amount) if case.goodwill_amount is not None else None,
        },
        "customer": {
            "segment": customer.segment if customer else "",
            "years_as_customer": _years_since(customer.customer_since if customer else None, today),
            "complaints_12m": complaints,
            "refunds_12m": refunds,
            "vulnerable": bool(customer.is_vulnerable) if customer else False,
        },
        "contract": {
            "product": contract.product.code if contract is not None and contract.product_id else "",
            "status": contract.status if contract is not None else "",
            "years": _years_since(contract.starts_on, today) if contract is not None else 0,
        },
    }
    return facts


# --- the recommendation ----------------------------------------------------------------------


@dataclass
class Recommendation:
    table: DecisionTable
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    matched: list[dict[str, Any]]
    amount: Decimal | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    kind: str = ""
    action: str = ""
    approval_needed: bool = False
    rationale_de: str = ""
    rationale_en: str = ""
    context: dict[str, Any] = field(default_factory=dict)

    def rationale(self, language: str) -> str:
        return self.rationale_de if language == "de" else self.rationale_en

    def within(self, amount: Decimal) -> bool:
        if self.minimum is not None and amount < self.minimum:
            return False
        return not (self.maximum is not None and amount > self.maximum)


def _money(value: Any) -> Decimal | None:
    number = _amount(value)
    if number is None:
        return None
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


def recommend(
    row: DecisionTable, case: Case, context: Any, *, now: dt.datetime | None = None, counts: CaseCounts | None = None
) -> Recommendation:
    """Evaluates the published table for the case and the typed context (nothing is saved).
    Refuses bad context with field errors; an evaluation error is a validation error too.
    `counts`: as for `case_facts`."""
    cleaned = clean_context(row, context)
    inputs = {**case_facts(case, now=now, counts=counts), **cleaned}
    try:
        result = engine.evaluate(compiled(row), inputs)
    except engine.EvaluationError as error:
        raise ValidationFailed(field_errors={"context": [str(error)]}) from None
    outputs = dict(result.outputs) if isinstance(result.outputs, dict) else {}
    matched = [
        {"position": m.index, "id": m.rule_id, "description": m.description, "description_de": m.description_de}
        for m in result.matches
    ]
    recommendation = Recommendation(
        table=row,
        inputs=inputs,
        outputs=_plain_outputs(outputs),
        matched=matched,
        action=str(outputs.get("action") or "")[:100],
        approval_needed=outputs.get("approval_needed") is True,
        rationale_de=str(outputs.get("rationale_de") or ""),
        rationale_en=str(outputs.get("rationale_en") or ""),
        context=cleaned,
    )
    if "recommended_amount" in outputs:
        recommendation.amount = _money(outputs.get("recommended_amount"))
        recommendation.minimum = _money(outputs.get("min_amount"))
        recommendation.maximum = _money(outputs.get("max_amount"))
    elif SHARE_OUTPUT in outputs:
        share = _amount(outputs.get(SHARE_OUTPUT))
        basis = _amount(cleaned.get(SHARE_BASIS))
        if share is not None and basis is not None:
            recommendation.amount = (share * basis).quantize(CENT, rounding=ROUND_HALF_UP)
            recommendation.minimum = recommendation.maximum = recommendation.amount
    kind = str(outputs.get("refund_type") or outputs.get("kind") or "")
    if kind not in DecisionKind.values:
        kind = row.decision_kind if (recommendation.amount or 0) > 0 else DecisionKind.NONE
    recommendation.kind = kind
    return recommendation


def _plain_outputs(outputs: dict[str, Any]) -> dict[str, Any]:
    """Outputs as JSON can hold them (no NaN or infinity from a table's arithmetic)."""
    plain: dict[str, Any] = {}
    for key, value in outputs.items():
        if isinstance(value, float) and not math.isfinite(value):
            plain[key] = None
        else:
            plain[key] = value
    return plain


# --- records ---------------------------------------------------------------------------------


def organisation_time_zone() -> str:
    """The zone approval due times are counted and shown in (cached reference data)."""
    from leitplanke.deadlines.selectors import calendar_settings

    return calendar_settings().time_zone


def decision_pending(case: Case) -> bool:
    """Does a decision on the case await approval? (The process guard field
    `case.decision_pending`; one query on the records' case index. A record is pending
    exactly while its approval request is: the approval services move both together.)"""
    return DecisionRecord.objects.filter(case_id=case.pk, status=RecordStatus.PENDING).exists()


def has_decision(case: Case) -> bool:
    """Is a person's decision on the case in force? (The process guard field
    `case.has_decision`: a decision, correction or reversal record that is final or approved;
    the records of decision steps do not count. One query on the records' case index.)"""
    return DecisionRecord.objects.filter(case_id=case.pk, status__in=EFFECTIVE).exclude(record_kind=RecordKind.STEP).exists()


def case_decisions(*, actor: Actor, case: Case) -> QuerySet[DecisionRecord]:
    """The records of a visible case, newest first, with who decided, approved and reversed."""
    if not is_visible(actor, case):
        raise NotFound()
    return (
        DecisionRecord.objects.filter(case_id=case.pk)
        .select_related("table", "decided_by", "approval", "approval__approver", "approval__decided_by", "refers_to")
        .prefetch_related("followed_by", "followed_by__decided_by")
        .order_by("-decided_at", "-id")
    )


def decision_get(*, actor: Actor, case: Case, record_id: Any) -> DecisionRecord:
    try:
        number = int(record_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    record = case_decisions(actor=actor, case=case).filter(pk=number).first()
    if record is None:
        raise NotFound()
    return record


def effective_amounts(case: Case) -> dict[str, Decimal | None]:
    """The case's redress and goodwill as its effective records give them (kept apart)."""
    totals: dict[str, Decimal | None] = {DecisionKind.REDRESS: None, DecisionKind.GOODWILL: None}
    for kind, amount in DecisionRecord.objects.filter(case_id=case.pk, status__in=EFFECTIVE).values_list("kind", "amount"):
        if kind in totals:
            totals[kind] = (totals[kind] or Decimal(0)) + amount
    return totals


def may_reverse(actor: Actor, record: DecisionRecord) -> bool:
    """Leads of the decider's team (or of the team the record was decided in) and people who
    see all cases may reverse a decision of someone else."""
    from leitplanke.accounts.permissions import LEAD_TEAM, has_capability
    from leitplanke.cases import permissions as case_permissions

    if not case_permissions.may_edit_cases(actor) or record.record_kind == RecordKind.STEP:
        return False  # a decision step's record: the process recorded it, nobody decided an amount
    user: User = actor
    if record.decided_by_id == user.pk:
        return False
    if case_permissions.sees_all(user):
        return True
    if not has_capability(user, LEAD_TEAM):
        return False
    team_ids = set(case_permissions.team_ids_of(user)) | set(user.led_teams.values_list("pk", flat=True))
    if record.team_id is not None and record.team_id in team_ids:
        return True
    decider_teams = set(record.decided_by.teams.values_list("pk", flat=True))
    return bool(decider_teams & team_ids)


def may_correct(actor: Actor, record: DecisionRecord) -> bool:
    """The decider themself (while they may edit cases), or someone who may reverse the
    record. Whether the record and its case still allow it is the service's check."""
    from leitplanke.cases import permissions as case_permissions

    if not case_permissions.may_edit_cases(actor) or record.record_kind == RecordKind.STEP:
        return False
    return record.decided_by_id == getattr(actor, "pk", None) or may_reverse(actor, record)


def authority_summary(*, actor: Actor, case: Case, kind: str, currency: str) -> dict[str, Any] | None:
    """ "My authority" for this kind and currency on this case, as the panel shows it."""
    from .authority_selectors import authority_for

    if kind == DecisionKind.NONE or not is_user(actor):
        return None
    view = authority_for(user=actor, kind=kind, currency=currency, case_type=case.case_type, customer=case.customer)
    return {"kind": kind, "kind_label": kind_label(kind), "currency": currency, "view": view}


def kind_label(kind: str) -> str:
    return str(DecisionKind(kind).label) if kind in DecisionKind.values else kind
