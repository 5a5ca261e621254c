"""Decision records on cases over the API: record a decision (with the table's recommendation),
list a case's records, a correction (the decider, or a lead) and a lead's reversal.

Thin by design: `decisions.record_services` refuses what may not be saved (problem codes
`justification_required`, `currency_mismatch`, `decision_not_current`, `case_closed`,
`decision_not_reversible`, …) and
`decisions.record_selectors` scopes the reads to the cases the caller may see.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest, HttpResponse
from ninja import Header, Path, Router, Schema
from pydantic import Field, StringConstraints

from leitplanke.api.auth import require_scope
from leitplanke.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from leitplanke.api.idempotency import HEADER_DESCRIPTION as IDEMPOTENCY_DESCRIPTION
from leitplanke.api.idempotency import idempotent
from leitplanke.api.problems import input_names
from leitplanke.api.routers.cases import _require_json
from leitplanke.api.schemas import MAX_ID, IdParam, InputSchema, Problem, StrictBool
from leitplanke.cases import selectors as case_selectors
from leitplanke.core.errors import NotFound
from leitplanke.decisions import record_selectors, record_services

router = Router(tags=["decisions"])

ERRORS: dict[int, Any] = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 422: Problem}
WRITE_ERRORS: dict[int, Any] = {**ERRORS, 409: Problem, 415: Problem}
Record = Any  # annotations only: decisions.models.DecisionRecord (routers import no models)
KindValue = Literal["goodwill", "redress", "none"]
AmountText = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,10}(\.[0-9]{1,2})?$")]
ContextKey = Annotated[str, StringConstraints(min_length=1, max_length=60)]
ContextValue = Annotated[str, StringConstraints(max_length=200)] | StrictBool | Annotated[float, Field(allow_inf_nan=False)]
IdempotencyKey = Header(None, alias=IDEMPOTENCY_HEADER, max_length=255, description=IDEMPOTENCY_DESCRIPTION)
CaseId = Path(..., examples=["123", "LP-2026-000123"], description="The case's id or its reference.")


class DecisionIn(InputSchema):
    """A decision on the case. With `table_key` the published table of that key recommends,
    from the case, its customer and contract and the typed `context` (e.g. the disputed
    amount); an amount outside the recommended range needs a `justification`."""

    table_key: Annotated[str, StringConstraints(min_length=1, max_length=50)] | None = Field(
        None, examples=["goodwill_energy_billing"]
    )
    context: dict[ContextKey, ContextValue] = Field(default_factory=dict, max_length=20, examples=[{"disputed_amount": 300}])
    kind: KindValue = Field(
        examples=["goodwill"], description="Redress (a loss the organisation caused) or goodwill; kept apart."
    )
    amount: AmountText = Field(examples=["45.00"], description="A decimal string, at most two decimal places.")
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = Field(examples=["EUR"])
    action: str = Field("", max_length=100, examples=["goodwill_credit"])
    message_to_customer: str = Field("", max_length=5000, examples=["Wir schreiben Ihnen 45 Euro gut."])
    justification: str = Field("", max_length=5000)


class CorrectionIn(InputSchema):
    """A correction: the decision as it should have been, and why (required). Without
    `table_key` it is measured against the corrected record's recommended range and keeps its
    table version and input snapshot; with one, the published table recommends anew."""

    table_key: Annotated[str, StringConstraints(min_length=1, max_length=50)] | None = Field(None)
    context: dict[ContextKey, ContextValue] = Field(default_factory=dict, max_length=20)
    kind: KindValue = Field(examples=["goodwill"])
    amount: AmountText = Field(examples=["60.00"], description="A decimal string, at most two decimal places.")
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = Field(examples=["EUR"])
    action: str = Field("", max_length=100, examples=["goodwill_credit"])
    message_to_customer: str = Field("", max_length=5000)
    justification: str = Field(min_length=1, max_length=5000, examples=["Falscher Betrag übernommen."])


class ReversalIn(InputSchema):
    """A lead's reversal: the justification is required and is sent to the decider."""

    justification: str = Field(min_length=1, max_length=5000, examples=["Die Rechnung war korrekt."])
    amount: AmountText = Field("0", examples=["0"], description="What is given instead (default 0: nothing).")
    kind: KindValue | None = Field(None, description="Default: none for 0, else the reversed decision's kind.")
    action: str = Field("", max_length=100)
    message_to_customer: str = Field("", max_length=5000)


class DecisionTableRef(Schema):
    key: str
    version: int


class DecisionPersonRef(Schema):
    id: int
    name: str


class DecisionApprovalOut(Schema):
    status: str
    approver: DecisionPersonRef | None
    decided_by: DecisionPersonRef | None
    decided_at: dt.datetime | None
    due_at: dt.datetime
    comment: str
    reasons: list[str]


class DecisionOut(Schema):
    id: int
    case_id: int
    record_kind: Literal["decision", "correction", "reversal", "step"]
    refers_to: int | None
    followed_by: list[int] = Field(description="The corrections or the reversal of this record.")
    table: DecisionTableRef | None
    inputs: dict[str, Any]
    recommendation: dict[str, Any]
    matched_rules: list[dict[str, Any]]
    recommended_min: str | None
    recommended_max: str | None
    kind: KindValue
    amount: str
    currency: str
    action: str
    message_to_customer: str
    deviates: bool
    justification: str
    authority: dict[str, Any]
    status: Literal["final", "pending", "approved", "rejected", "sent_back", "superseded", "reversed"]
    decided_by: DecisionPersonRef
    decided_at: dt.datetime
    team_id: int | None
    approval: DecisionApprovalOut | None


def _person(user: Any) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "name": user.full_name or user.email}


def decision_data(record: Record, *, followed_by: list[int] | None = None, fresh: bool = False) -> dict[str, Any]:
    """A record as the API shows it. `fresh`: the record the service just wrote (nothing follows
    it yet; its approval request, if any, is the one the service opened and cached on it)."""
    if fresh and record.status != "pending":
        approval = None
    else:
        try:
            approval = record.approval
        except ObjectDoesNotExist:  # no approval request
            approval = None
    return {
        "id": record.pk,
        "case_id": record.case_id,
        "record_kind": record.record_kind,
        "refers_to": record.refers_to_id,
        "followed_by": followed_by if followed_by is not None else [r.pk for r in record.followed_by.all()],
        "table": {"key": record.table.key, "version": record.table.version} if record.table_id else None,
        "inputs": record.inputs,
        "recommendation": record.recommendation,
        "matched_rules": record.matched_rules,
        "recommended_min": None if record.recommended_min is None else str(record.recommended_min),
        "recommended_max": None if record.recommended_max is None else str(record.recommended_max),
        "kind": record.kind,
        "amount": str(record.amount),
        "currency": record.currency,
        "action": record.action,
        "message_to_customer": record.message_to_customer,
        "deviates": record.deviates,
        "justification": record.justification,
        "authority": record.authority,
        "status": record.status,
        "decided_by": _person(record.decided_by),
        "decided_at": record.decided_at.isoformat(),
        "team_id": record.team_id,
        "approval": None
        if approval is None
        else {
            "status": approval.status,
            "approver": _person(approval.approver),
            "decided_by": _person(approval.decided_by),
            "decided_at": approval.decided_at.isoformat() if approval.decided_at else None,
            "due_at": approval.due_at.isoformat(),
            "comment": approval.comment,
            "reasons": [str(reason) for reason in approval.reasons],
        },
    }


def _created(request: HttpRequest, record: Record) -> HttpResponse:
    # The service's record has what the answer shows (no read-back: nothing follows it yet).
    body = json.dumps(decision_data(record, followed_by=[], fresh=True), ensure_ascii=False, default=str)
    response = HttpResponse(body, status=201, content_type="application/json")
    response["Location"] = f"{request.path.rstrip('/').rsplit('/decisions', 1)[0]}/decisions#{record.pk}"
    return response


def _case(request: HttpRequest, case_id: str) -> Any:
    """The visible case by id or reference, without the detail page's relations: the services
    lock the row and read what they need under the lock."""
    key = case_id.strip()
    related = ("case_type",)
    if key.isascii() and key.isdigit():
        number = int(key)
        if not 1 <= number <= MAX_ID:
            raise NotFound()
        return case_selectors.case_get(actor=request.user, case_id=number, related=related)
    return case_selectors.case_get(actor=request.user, reference=key, related=related)


def _case_id(case_id: str) -> int | None:
    """The case's id when the path gives one (None for a reference); NotFound out of range."""
    key = case_id.strip()
    if not (key.isascii() and key.isdigit()):
        return None
    number = int(key)
    if not 1 <= number <= MAX_ID:
        raise NotFound()
    return number


def _api_field(name: str) -> str:
    return name.replace("context.", "context/", 1)


@router.get(
    "/cases/{case_id}/decisions",
    response={200: list[DecisionOut], **ERRORS},
    url_name="case_decisions",
    summary="The decision records of a case",
)
def list_decisions(request: HttpRequest, case_id: str = CaseId) -> list[dict[str, Any]]:
    """Every record of the case, newest first: decisions, corrections and reversals, each with
    its input snapshot, the table version, the matched rules, the status and the approval."""
    require_scope(request, "read")
    case = _case(request, case_id)
    return [decision_data(record) for record in record_selectors.case_decisions(actor=request.user, case=case)[:200]]


@router.post(
    "/cases/{case_id}/decisions",
    response={201: DecisionOut, **WRITE_ERRORS},
    url_name="case_decision_create",
    summary="Record a decision on a case",
)
def create_decision(
    request: HttpRequest, payload: DecisionIn, case_id: str = CaseId, idempotency_key: str | None = IdempotencyKey
) -> HttpResponse:
    """Records the decision with the table's recommendation. Within the caller's authority and
    not marked by the table: `status` final. Otherwise `pending` with an approval request.
    Refusals (nothing saved): 422 `justification_required` (outside the recommended range
    without a justification), 422 `currency_mismatch` (not the case's currency), 422
    `validation_error` naming the field (`/context/disputed_amount`, `/table_key`)."""
    require_scope(request, "write")
    _require_json(request)
    # By id the service reads the case itself, with its row locked, and refuses it there
    # (404) when the caller may not see it: no read of the case before the lock.
    case = _case_id(case_id)
    if case is None:
        case = _case(request, case_id)

    def create() -> HttpResponse:
        with input_names(_api_field):
            record = record_services.decision_record(actor=request.user, case=case, **payload.model_dump())
        return _created(request, record)

    return idempotent(request, create)


@router.post(
    "/cases/{case_id}/decisions/{record_id}/correction",
    response={201: DecisionOut, **WRITE_ERRORS},
    url_name="case_decision_correct",
    summary="Correct a decision (the decider, or a lead)",
)
def correct_decision(
    request: HttpRequest,
    payload: CorrectionIn,
    record_id: IdParam,
    case_id: str = CaseId,
    idempotency_key: str | None = IdempotencyKey,
) -> HttpResponse:
    """A new record (`record_kind` correction, `refers_to` the old one) checked like a new
    decision: within the caller's authority final, otherwise `pending` with an approval
    request; the old record becomes `superseded`. Who: the decider, or whoever may reverse the
    record (a lead of the decider's team, someone who sees all cases); 403 for anyone else.
    Refusals (nothing saved): 409 `decision_not_current` (awaiting approval, already corrected
    or reversed — so a retry without Idempotency-Key never corrects twice), 409 `case_closed`,
    422 `justification_required`, `currency_mismatch`, `validation_error`."""
    require_scope(request, "write")
    _require_json(request)
    case = _case(request, case_id)
    record = record_selectors.decision_get(actor=request.user, case=case, record_id=record_id)

    def correct() -> HttpResponse:
        with input_names(_api_field):
            correction = record_services.decision_correct(actor=request.user, record=record, **payload.model_dump())
        return _created(request, correction)

    return idempotent(request, correct)


@router.post(
    "/cases/{case_id}/decisions/{record_id}/reversal",
    response={201: DecisionOut, **WRITE_ERRORS},
    url_name="case_decision_reverse",
    summary="Reverse a decision (leads)",
)
def reverse_decision(
    request: HttpRequest,
    payload: ReversalIn,
    record_id: IdParam,
    case_id: str = CaseId,
) -> HttpResponse:
    """A lead of the decider's team (or someone who sees all cases) overrules a final or
    approved decision of someone else: a reversal record with the justification, which the
    decider is sent. 403 for anyone else; 409 `decision_not_reversible` for a record that is
    pending, corrected or already reversed — so a retried reversal never reverses twice
    (no Idempotency-Key needed); 422 `reversal_exceeds_authority`."""
    require_scope(request, "write")
    _require_json(request)
    case = _case(request, case_id)
    record = record_selectors.decision_get(actor=request.user, case=case, record_id=record_id)
    reversal = record_services.decision_reverse(actor=request.user, record=record, **payload.model_dump())
    return _created(request, reversal)
