"""Inbound e-mail from mail gateways: POST the raw RFC 822 message."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from leitplanke.accounts.permissions import MANAGE_ORGANISATION, has_capability
from leitplanke.api.auth import require_scope
from leitplanke.api.schemas import Problem
from leitplanke.core.errors import PermissionDenied
from leitplanke.intake.services import email_ingest

router = Router(tags=["intake"])
ACCEPTED_TYPES = {"message/rfc822", "application/octet-stream", "text/plain"}


class InboundResult(Schema):
    id: int
    status: str
    case_id: int | None
    case_reference: str | None
    reason: str


@router.post(
    "/inbound/email",
    response={201: InboundResult, 200: InboundResult, 401: Problem, 403: Problem, 413: Problem, 415: Problem},
    summary="Receive one raw e-mail (RFC 822) from a mail gateway",
    description=(
        "Send the unmodified message as the request body with `Content-Type: message/rfc822`. "
        "The answer says what happened: `new_case`, `threaded`, `duplicate`, `auto_reply`, `bounce` or "
        "`quarantined` (kept for an administrator, with the reason). Needs a token with the admin scope."
    ),
    openapi_extra={
        "requestBody": {"required": True, "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}}}
    },
)
def inbound_email(request: HttpRequest):  # type: ignore[no-untyped-def]
    require_scope(request, "admin")
    if not has_capability(request.user, MANAGE_ORGANISATION):
        raise PermissionDenied("only administrators' tokens may deliver mail")
    content_type = (request.content_type or "").lower()
    if content_type not in ACCEPTED_TYPES:
        raise HttpError(415, "Send the raw message with Content-Type: message/rfc822")
    raw = request.body
    if len(raw) > getattr(settings, "LEITPLANKE_MAX_INBOUND_EMAIL_BYTES", 30 * 1024 * 1024):
        raise HttpError(413, "The message is too large")
    result = email_ingest(raw, source="api")
    body = {
        "id": result.inbound.pk,
        "status": result.status,
        "case_id": result.case.pk if result.case else None,
        "case_reference": result.case.reference if result.case else None,
        "reason": result.inbound.reason,
    }
    return (201 if result.status == "new_case" else 200), body
