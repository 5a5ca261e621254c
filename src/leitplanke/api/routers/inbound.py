"""Inbound e-mail from mail gateways: POST the raw RFC 822 message."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError

from leitplanke.accounts.permissions import MANAGE_ORGANISATION, has_capability
from leitplanke.api.auth import require_scope
from leitplanke.api.schemas import Problem
from leitplanke.core.errors import PermissionDenied
from leitplanke.intake.services import email_ingest

router = Router(tags=["intake"])
ACCEPTED_TYPES = {"message/rfc822", "application/octet-stream", "text/plain"}
DEFAULT_MAX_BYTES = 30 * 1024 * 1024


class InboundResult(Schema):
    id: int
    status: str
    case_id: int | None
    case_reference: str | None
    reason: str


def max_message_bytes() -> int:
    return int(getattr(settings, "LEITPLANKE_MAX_INBOUND_EMAIL_BYTES", DEFAULT_MAX_BYTES))


def _read_message(request: HttpRequest) -> bytes:
    """The raw message, at most the configured size (413 beyond it). The stream is read
    here, not through `request.body`: Django's form-data limit would answer 400 first."""
    limit = max_message_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    too_large = HttpError(413, _("The message is larger than %(mb)s MB.") % {"mb": round(limit / (1024 * 1024), 1)})
    if declared > limit:
        raise too_large
    raw = request.body if hasattr(request, "_body") else request.read(limit + 1)
    if len(raw) > limit:
        raise too_large
    return raw


@router.post(
    "/inbound/email",
    response={201: InboundResult, 200: InboundResult, 401: Problem, 403: Problem, 413: Problem, 415: Problem},
    summary="Receive one raw e-mail (RFC 822) from a mail gateway",
    description=(
        "Send the unmodified message as the request body with `Content-Type: message/rfc822`. "
        "The answer says what happened: `new_case`, `threaded`, `duplicate`, `auto_reply`, `bounce` or "
        "`review` (held for an administrator: upstream spam verdict, or a sender unknown on the case the subject "
        "names) or `quarantined` (kept for an administrator, with the reason). Delivering the same message again, "
        "also in parallel, answers `duplicate` with the first delivery's case. A message larger than "
        "`LEITPLANKE_MAX_INBOUND_EMAIL_BYTES` (default 30 MiB) is refused with 413. Needs a token with the admin scope."
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
    raw = _read_message(request)
    result = email_ingest(raw, source="api")
    body = {
        "id": result.inbound.pk,
        "status": result.status,
        "case_id": result.case.pk if result.case else None,
        "case_reference": result.case.reference if result.case else None,
        "reason": result.inbound.reason,
    }
    return (201 if result.status == "new_case" else 200), body
