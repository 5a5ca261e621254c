"""Four-eyes approvals and authority over the API.

`GET /approvals`: the pending requests asked of the caller (administrators also see those
nobody could be found for), due first, one keyset page at a time. `POST /approvals/{id}/approve`,
`/reject`, `/send-back`: decide one (reject and send back need a comment). Refusals are problem
documents with stable codes: `self_approval`, `not_approver`, `authority_insufficient` (403),
`approval_already_decided` (409), `comment_required` (422). `GET /me/authority`: the caller's
effective authority limits.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema
from pydantic import ConfigDict, Field

from leitplanke.api.auth import require_scope
from leitplanke.api.schemas import MAX_ID, Problem
from leitplanke.core.errors import NotFound
from leitplanke.decisions import approval_selectors, approval_services, authority_selectors

router = Router(tags=["approvals"])
ERRORS: dict[int, Any] = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 422: Problem}
WRITE_ERRORS: dict[int, Any] = {**ERRORS, 409: Problem}
ApprovalId = Path(..., ge=1, le=MAX_ID, examples=[1])


class DecisionSummary(Schema):
    id: int
    case_id: int
    case_reference: str = Field(examples=["LP-2026-000123"])
    kind: str = Field(examples=["goodwill"], description="goodwill, redress or none")
    amount: Decimal = Field(examples=["250.00"])
    currency: str = Field(examples=["EUR"])
    recommended_min: Decimal | None
    recommended_max: Decimal | None
    deviates: bool
    status: str = Field(examples=["pending"])
    decided_by: int
    decided_at: dt.datetime


class ApprovalOut(Schema):
    id: int
    status: str = Field(examples=["pending"], description="pending, approved, rejected or sent_back")
    reasons: list[str] = Field(examples=[["above_authority"]], description="above_authority, table_requires, deviation")
    approver: int | None
    requested_at: dt.datetime
    due_at: dt.datetime
    decided_by: int | None
    decided_at: dt.datetime | None
    comment: str
    decision: DecisionSummary


class ApprovalPage(Schema):
    items: list[ApprovalOut]
    next_cursor: str | None = Field(examples=[None], description="Pass as `cursor` for the next page; null on the last.")


class DecideIn(Schema):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field("", max_length=5000, description="Required to reject or send back.")


class LimitSource(Schema):
    id: int | None
    holder: str = Field(examples=["role"], description="person or role")
    role: str | None = Field(examples=["agent"])
    skill: str | None
    min_level: int
    case_type: int | None
    per_decision: str = Field(examples=["100.00"])
    per_customer_year: str | None


class AuthorityOut(Schema):
    kind: str = Field(examples=["goodwill"])
    currency: str = Field(examples=["EUR"])
    case_type: int | None
    per_decision: Decimal = Field(examples=["100.00"])
    per_customer_year: Decimal | None = Field(description="null: no cumulative limit per customer and year.")
    level: str = Field(examples=["role"], description="person, role or none")
    sources: list[LimitSource]


def _out(approval: Any) -> dict[str, Any]:
    record = approval.record
    return {
        "id": approval.pk,
        "status": approval.status,
        "reasons": [str(r) for r in approval.reasons or []],
        "approver": approval.approver_id,
        "requested_at": approval.requested_at,
        "due_at": approval.due_at,
        "decided_by": approval.decided_by_id,
        "decided_at": approval.decided_at,
        "comment": approval.comment,
        "decision": {
            "id": record.pk,
            "case_id": record.case_id,
            "case_reference": record.case.reference,
            "kind": record.kind,
            "amount": record.amount,
            "currency": record.currency,
            "recommended_min": record.recommended_min,
            "recommended_max": record.recommended_max,
            "deviates": record.deviates,
            "status": record.status,
            "decided_by": record.decided_by_id,
            "decided_at": record.decided_at,
        },
    }


@router.get("/approvals", response={200: ApprovalPage, **ERRORS}, url_name="approvals", summary="Approvals asked of me")
def list_approvals(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=500, description="next_cursor of the previous page."),
    limit: int = Query(50, ge=1, le=200, description="1 to 200."),
) -> dict[str, Any]:
    """Pending requests asked of the caller, due first (due_at, id)."""
    require_scope(request, "read")
    page = approval_selectors.inbox(request.user, cursor=cursor, limit=limit)
    return {"items": [_out(a) for a in page.items], "next_cursor": page.next_cursor}


def _decide(request: HttpRequest, approval_id: int, action: str, payload: DecideIn | None) -> dict[str, Any]:
    require_scope(request, "write")
    approval = approval_selectors.approval_get(request.user, approval_id)
    if approval is None:
        raise NotFound()
    decided = approval_services.approval_decide(
        actor=request.user, approval=approval, action=action, comment=payload.comment if payload else ""
    )
    return _out(decided)


@router.post(
    "/approvals/{approval_id}/approve",
    response={200: ApprovalOut, **WRITE_ERRORS},
    url_name="approval_approve",
    summary="Approve",
)
def approve(request: HttpRequest, payload: DecideIn | None = None, approval_id: int = ApprovalId) -> dict[str, Any]:
    """Approves a pending request: the decision takes effect (status approved)."""
    return _decide(request, approval_id, "approve", payload)


@router.post(
    "/approvals/{approval_id}/reject", response={200: ApprovalOut, **WRITE_ERRORS}, url_name="approval_reject", summary="Reject"
)
def reject(request: HttpRequest, payload: DecideIn | None = None, approval_id: int = ApprovalId) -> dict[str, Any]:
    """Rejects a pending request (a comment is required)."""
    return _decide(request, approval_id, "reject", payload)


@router.post(
    "/approvals/{approval_id}/send-back",
    response={200: ApprovalOut, **WRITE_ERRORS},
    url_name="approval_send_back",
    summary="Send back",
)
def send_back(request: HttpRequest, payload: DecideIn | None = None, approval_id: int = ApprovalId) -> dict[str, Any]:
    """Sends a pending request back to the decider (a comment is required)."""
    return _decide(request, approval_id, "send_back", payload)


@router.get("/me/authority", response={200: list[AuthorityOut], **ERRORS}, url_name="my_authority", summary="My authority")
def my_authority(request: HttpRequest) -> list[dict[str, Any]]:
    """The caller's effective limits per decision kind, currency and case type (a kind not
    listed: limit 0, nothing may be decided alone)."""
    require_scope(request, "read")
    from leitplanke.accounts.actors import require_user

    user = require_user(request.user)
    out = []
    for line in authority_selectors.my_authority(user):
        view = line.view
        out.append(
            {
                "kind": view.kind,
                "currency": view.currency,
                "case_type": line.case_type_id,
                "per_decision": view.per_decision,
                "per_customer_year": view.per_customer_year,
                "level": view.level,
                "sources": [s.as_dict() for s in view.sources],
            }
        )
    return out
