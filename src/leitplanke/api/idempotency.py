"""Idempotency-Key for POST endpoints: a retried request gets the first response again.

A client that does not know whether its POST arrived (timeout, dropped connection)
sends it again with the same `Idempotency-Key` header. The operations that accept the
header list it among their parameters in the OpenAPI description. For each (user, key,
method, path):

- the first request **claims** the key before it does anything: it inserts the record
  (unique on user, key, method and path) without a response, in a transaction of its
  own. Only the request whose insert succeeded goes on to act;
- it then acts and stores its successful response (status, JSON body, Location and ETag)
  in the record *in the same transaction* as the change, so either both exist or
  neither does. The record's row is locked for the whole transaction;
- a repeat with the same body gets the stored response replayed (with
  `Idempotent-Replayed: true`); nothing runs twice;
- a repeat while the first is still running waits for it (up to `WAIT_SECONDS`) and then
  gets the replay, or a 409 problem `idempotency_request_in_progress` with Retry-After;
- a repeat with a different body is a 422 problem `idempotency_key_reused`.

An error releases the claim (the change was rolled back), so a corrected retry acts.
A claim whose request died without releasing it (the process was killed) is taken over
after `ABANDONED_AFTER`; should its request still be running, its row lock makes the
takeover wait until it has finished. Records older than `RETENTION` (24 h) count as
absent and are pruned hourly by `leitplanke.core.tasks.prune_idempotency_records`.

Without the header the request simply acts — but like a keyed one, the response is built
inside the change's transaction: an error while building it rolls the change back, so a
500 never hides a change that was stored (a client would retry and act twice).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leitplanke.core.errors import Conflict, DomainError, ValidationFailed
from leitplanke.core.models import IdempotencyRecord
from leitplanke.core.transactions import all_or_nothing

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
RETENTION = dt.timedelta(hours=24)
ABANDONED_AFTER = dt.timedelta(minutes=5)
WAIT_SECONDS = 5.0
POLL_SECONDS = 0.05
REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")
HEADER_DESCRIPTION = (
    "Optional. A unique client-chosen key (max. 255 characters, e.g. a UUID). Repeating the request with the "
    "same key and body within 24 hours returns the first response instead of acting twice; the same key with "
    "a different body is a 422 problem `idempotency_key_reused`. A repeat sent while the first request is still "
    "running waits for it, or gets a 409 problem `idempotency_request_in_progress` with Retry-After."
)


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status = 422
    default_message = _("This Idempotency-Key was already used for a different request.")


class IdempotencyRequestInProgress(Conflict):
    code = "idempotency_request_in_progress"
    default_message = _("A request with this Idempotency-Key is still being processed. Try again in a moment.")

    def __init__(self) -> None:
        super().__init__()
        self.retry_after = 1


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


def _replay(record: IdempotencyRecord, fingerprint: str) -> HttpResponse:
    if record.request_hash != fingerprint:
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


def _is_success(response: HttpResponse) -> bool:
    return 200 <= response.status_code < 300


def acting(produce: Callable[[], HttpResponse]) -> HttpResponse:
    """Runs `produce` (the change and its response) in one transaction: a response that
    cannot be built, or an error status, rolls the change back. Every error leaves the
    transaction, so the services in it take no savepoints (`core.transactions`)."""
    with all_or_nothing():
        response = produce()
        if not _is_success(response):
            transaction.set_rollback(True)
        return response


def idempotent(request: HttpRequest, produce: Callable[[], HttpResponse]) -> HttpResponse:
    """Runs `produce` (which performs the change and returns the response) at most once
    per Idempotency-Key; without the header it simply runs it (see the module docstring)."""
    raw_key = request.headers.get(HEADER)
    if raw_key is None:
        return acting(produce)
    endpoint = {
        "user": request.user,  # authenticated: the API refuses anonymous callers before this
        "key": _clean_key(raw_key),
        "method": request.method or "POST",
        "path": request.path[:500],
    }
    fingerprint = request_fingerprint(request)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        mine, holder = _claim(endpoint, fingerprint)
        if mine is not None:
            return _act(mine, produce)
        if holder is not None and (holder.status is not None or holder.request_hash != fingerprint):
            return _replay(holder, fingerprint)  # IdempotencyKeyReused for another body
        if time.monotonic() >= deadline:
            raise IdempotencyRequestInProgress()
        time.sleep(POLL_SECONDS)


def _claim(endpoint: dict[str, Any], fingerprint: str) -> tuple[IdempotencyRecord | None, IdempotencyRecord | None]:
    """(the new record, None) when this request now holds the key; else (None, the record of
    the request that holds it — None if it vanished in between: try again)."""
    if not connection.in_atomic_block:
        # A new key (nearly every request) is one INSERT committed on its own; when the
        # unique constraint refuses it, nothing was written and the key is looked at below.
        try:
            return _new_claim(endpoint, fingerprint), None
        except IntegrityError:
            pass
    now = timezone.now()
    with transaction.atomic():
        existing = IdempotencyRecord.objects.filter(**endpoint).first()
        if existing is not None:
            expired = existing.created_at < now - RETENTION
            abandoned = existing.status is None and existing.created_at < now - ABANDONED_AFTER
            if not (expired or abandoned):
                return None, existing
            # Conditional: a completion that committed meanwhile keeps its record.
            IdempotencyRecord.objects.filter(pk=existing.pk, claim_token=existing.claim_token, status=existing.status).delete()
        try:
            with transaction.atomic():
                record = _new_claim(endpoint, fingerprint)
        except IntegrityError:  # a twin claimed it first
            return None, IdempotencyRecord.objects.filter(**endpoint).first()
    return record, None


def _new_claim(endpoint: dict[str, Any], fingerprint: str) -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        **endpoint, request_hash=fingerprint, claim_token=secrets.token_hex(16), status=None, body=None
    )


def _act(record: IdempotencyRecord, produce: Callable[[], HttpResponse]) -> HttpResponse:
    """Performs the change holding the claim; stores the response with it, or releases the claim."""
    mine = IdempotencyRecord.objects.filter(pk=record.pk, claim_token=record.claim_token)
    try:
        with all_or_nothing():  # every error leaves it: _release below, then re-raised
            # The row lock makes a takeover of this claim wait until the change is done.
            if not list(mine.select_for_update().values_list("pk", flat=True)):
                raise IdempotencyRequestInProgress()  # taken over: the other request acts
            response = produce()
            if _is_success(response):
                mine.update(
                    status=response.status_code,
                    body=_stored_body(response),
                    headers={name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)},
                )
                return response
            transaction.set_rollback(True)
    except BaseException:
        _release(mine)
        raise
    _release(mine)
    return response


def _release(mine: Any) -> None:
    """Gives the key back after a failure: the change was rolled back, a retry may act."""
    with transaction.atomic():
        mine.filter(status__isnull=True).delete()
