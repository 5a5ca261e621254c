"""Idempotency-Key for POST endpoints: a retried request gets the first response again.

A client that does not know whether its POST arrived (timeout, dropped connection)
sends it again with the same `Idempotency-Key` header. For each (user, key):

- the first request runs; its successful response (status, JSON body, Location and
  ETag) is stored as a `core.models.IdempotencyRecord` *in the same transaction* as
  the change, so either both exist or neither does;
- a repeat with the same method, path and body gets the stored response replayed
  (with `Idempotent-Replayed: true`), nothing runs twice;
- a repeat with a different body or endpoint is a 422 problem `idempotency_key_reused`;
- two identical requests racing each other: both may run, but only one can insert the
  record (unique constraint on user and key). The loser's transaction — including its
  case — is rolled back and it replays the winner's response.

Error responses are not stored: the change was rolled back, so a retry may succeed.
Records older than `RETENTION` (24 h) count as absent and are pruned hourly by
`leitplanke.core.tasks.prune_idempotency_records`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leitplanke.core.errors import DomainError, ValidationFailed
from leitplanke.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
RETENTION = dt.timedelta(hours=24)
REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")
HEADER_DESCRIPTION = (
    "Optional. A unique client-chosen key (max. 255 characters, e.g. a UUID). Repeating the request with the "
    "same key and body within 24 hours returns the first response instead of acting twice; the same key with "
    "a different body is a 422 problem `idempotency_key_reused`."
)


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status = 422
    default_message = _("This Idempotency-Key was already used for a different request.")


def request_fingerprint(request: HttpRequest) -> str:
    """SHA-256 over method, path and body; JSON bodies are canonicalised first so that
    whitespace and key order do not make an identical retry look different."""
    body = request.body
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), canonical):  # type: ignore[union-attr]
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _clean_key(raw: str) -> str:
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed(field_errors={HEADER: [str(_("Use 1 to 255 printable characters."))]})
    return key


def _lookup(user: Any, key: str) -> IdempotencyRecord | None:
    cutoff = timezone.now() - RETENTION
    return IdempotencyRecord.objects.filter(user=user, key=key, created_at__gte=cutoff).first()


def _replay(record: IdempotencyRecord, request: HttpRequest, fingerprint: str) -> HttpResponse:
    if record.request_hash != fingerprint or record.method != request.method or record.path != request.path[:500]:
        raise IdempotencyKeyReused(field_errors={HEADER: [str(IdempotencyKeyReused.default_message)]})
    response = HttpResponse(json.dumps(record.body), status=record.status, content_type="application/json")
    for name, value in (record.headers or {}).items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def _stored_body(response: HttpResponse) -> Any:
    try:
        return json.loads(response.content) if response.content else None
    except ValueError:
        return response.content.decode("utf-8", errors="replace")


def idempotent(request: HttpRequest, produce: Callable[[], HttpResponse]) -> HttpResponse:
    """Runs `produce` (which performs the change and returns the response) at most once
    per Idempotency-Key; without the header it simply runs it."""
    raw_key = request.headers.get(HEADER)
    if raw_key is None:
        return produce()
    key = _clean_key(raw_key)
    user: Any = request.user  # authenticated: the API refuses anonymous callers before this
    fingerprint = request_fingerprint(request)
    existing = _lookup(user, key)
    if existing is not None:
        return _replay(existing, request, fingerprint)
    try:
        with transaction.atomic():
            response = produce()
            if not 200 <= response.status_code < 300:
                transaction.set_rollback(True)
                return response
            # An expired record of the same key would block the insert; it counts as absent.
            IdempotencyRecord.objects.filter(user=user, key=key, created_at__lt=timezone.now() - RETENTION).delete()
            IdempotencyRecord.objects.create(
                key=key,
                user=user,
                method=request.method or "POST",
                path=request.path[:500],
                request_hash=fingerprint,
                status=response.status_code,
                body=_stored_body(response),
                headers={name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)},
            )
    except IntegrityError:
        # A concurrent request with the same key committed first: our change is rolled
        # back with the failed insert, and the client gets the winner's response.
        winner = _lookup(user, key)
        if winner is None:
            raise
        return _replay(winner, request, fingerprint)
    return response
