"""Reads for approvals: a person's inbox (pending requests asked of them; administrators also
see requests nobody could be found for), one request, and a case's requests."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from leitplanke.accounts.actors import Actor, is_user
from leitplanke.accounts.permissions import MANAGE_ORGANISATION, has_capability, may_approve
from leitplanke.core.pagination import Page, keyset_page

from .approval_services import may_decide
from .models import ApprovalRequest, ApprovalStatus

INBOX_ORDERING = ["due_at", "id"]


WAITING_SHOWN_MAX = 99  # the badge says "99+" beyond; counting further costs for nothing


def can_see_inbox(actor: Actor) -> bool:
    """Holders of `teams.lead` or `org.manage`, and team leads (whom routing asks up the
    hierarchy whatever their roles)."""
    return may_approve(actor)


def _waiting(actor: Actor) -> QuerySet[ApprovalRequest]:
    if not is_user(actor):
        return ApprovalRequest.objects.none()
    mine = Q(approver=actor)
    if has_capability(actor, MANAGE_ORGANISATION):
        mine |= Q(approver__isnull=True)
    # approval_inbox_idx (approver, status, due_at) answers the filter.
    return ApprovalRequest.objects.filter(mine, status=ApprovalStatus.PENDING).exclude(record__decided_by=actor)


def _inbox(actor: Actor) -> QuerySet[ApprovalRequest]:
    return _waiting(actor).select_related("record", "record__case", "record__decided_by", "record__table", "approver")


def waiting_count(actor: Actor) -> int:
    """How many pending requests wait on `actor` (as in their inbox), counted up to
    `WAITING_SHOWN_MAX` + 1: one indexed query, for the badge in the navigation."""
    if not can_see_inbox(actor):
        return 0
    return _waiting(actor).values("pk")[: WAITING_SHOWN_MAX + 1].count()


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
