"""Reads for approvals: a person's inbox (pending requests asked of them; administrators also
see requests nobody could be found for), one request, and a case's requests."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from leitplanke.accounts.actors import Actor, is_user
from leitplanke.accounts.permissions import LEAD_TEAM, MANAGE_ORGANISATION, has_capability
from leitplanke.core.pagination import Page, keyset_page

from .approval_services import may_decide
from .models import ApprovalRequest, ApprovalStatus

INBOX_ORDERING = ["due_at", "id"]


def can_see_inbox(actor: Actor) -> bool:
    return has_capability(actor, LEAD_TEAM) or has_capability(actor, MANAGE_ORGANISATION)


def _inbox(actor: Actor) -> QuerySet[ApprovalRequest]:
    if not is_user(actor):
        return ApprovalRequest.objects.none()
    mine = Q(approver=actor)
    if has_capability(actor, MANAGE_ORGANISATION):
        mine |= Q(approver__isnull=True)
    return (
        ApprovalRequest.objects.filter(mine, status=ApprovalStatus.PENDING)
        .exclude(record__decided_by=actor)
        .select_related("record", "record__case", "record__decided_by", "record__table", "approver")
    )


def inbox(actor: Actor, *, cursor: str | None = None, limit: int = 50) -> Page[ApprovalRequest]:
    """Pending requests asked of `actor`, due first (keyset: due_at, id)."""
    return keyset_page(_inbox(actor), ordering=INBOX_ORDERING, cursor=cursor, limit=limit)


def approval_get(actor: Actor, approval_id: int) -> ApprovalRequest | None:
    """A request the actor may decide on (their own, or standing in as a lead or
    administrator); None otherwise."""
    approval = (
        ApprovalRequest.objects.select_related("record", "record__case", "record__decided_by", "approver")
        .filter(pk=approval_id)
        .first()
    )
    if approval is None or not may_decide(actor, approval):
        return None
    return approval


def approvals_of_case(case: Any) -> list[ApprovalRequest]:
    """Every request on a case's decisions, newest first (the case page shows the pending one
    and the outcome; the caller has checked that the user sees the case)."""
    return list(
        ApprovalRequest.objects.filter(record__case=case)
        .select_related("record", "approver", "decided_by")
        .order_by("-requested_at", "-id")
    )
