"""Audit log: recording, sealing into a hash chain, and verification.

Services call `audit_record` inside their transaction. The sealer (`audit_seal`, run
by the worker every few seconds) numbers unsealed events in the order it finds them
and chains them: hash = SHA-256(canonical JSON of the event + previous hash). Writers
therefore never queue on one global lock; see docs/adr/0002-audit-chain.md.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from .context import current_request_context
from .inserts import insert_row
from .models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64
# Unsealed events older than this are an alarm: the worker is not running or failing.
SEAL_ALARM_AFTER = dt.timedelta(minutes=1)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, Model):
        return value.pk
    return str(value)


def to_json_data(value: Any) -> Any:
    """Turns any snapshot into plain JSON data, so the stored form equals the hashed form."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=_json_default, ensure_ascii=False))


def snapshot(instance: Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of a model instance (foreign keys by id), for before/after."""
    data: dict[str, Any] = {}
    for name in fields:
        model_field = instance._meta.get_field(name)
        attname = getattr(model_field, "attname", name)
        if model_field.many_to_many:
            data[name] = sorted((instance.pk and getattr(instance, name).values_list("pk", flat=True)) or [])
        else:
            data[name] = getattr(instance, attname)
    return to_json_data(data)


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> tuple[dict, dict]:
    """Reduces two snapshots to the keys whose values differ."""
    before, after = before or {}, after or {}
    keys = [key for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in keys}, {key: after.get(key) for key in keys}


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    before: Any = None,
    after: Any = None,
) -> AuditEvent:
    """Writes one audit event in the caller's transaction (which must be open)."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must be called inside the transaction of the change")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    context = current_request_context()
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor=actor if is_user else None,
        actor_label=(getattr(actor, "email", "") if is_user else str(actor or "system"))[:255],
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        before=to_json_data(before),
        after=to_json_data(after),
        request_id=context.request_id[:64],
        ip=context.ip,
    )
    return insert_row(event)  # append-only: AuditEvent.save() only refuses updates


def audit_update(*, actor: Any, action: str, obj: Model, before: Mapping[str, Any], fields: Iterable[str]) -> None:
    """Records an update with the fields that changed since the `before` snapshot; nothing
    when none did."""
    old, new = changed_fields(before, snapshot(obj, fields))
    if new:
        audit_record(actor=actor, action=action, obj=obj, before=old, after=new)


def event_payload(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(dt.UTC).isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": event.before,
        "after": event.after,
        "request_id": event.request_id,
        "ip": event.ip,
        "prev_hash": event.prev_hash,
    }


def compute_hash(event: AuditEvent) -> str:
    canonical = json.dumps(event_payload(event), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


SEAL_SQL = "UPDATE core_auditevent SET seq = %s, prev_hash = %s, hash = %s, sealed_at = %s WHERE id = %s AND seq IS NULL"


def audit_seal(*, batch_size: int = 2000) -> int:
    """Chains up to `batch_size` unsealed events; returns how many were sealed."""
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        events = list(AuditEvent.objects.filter(seq__isnull=True).order_by("id")[:batch_size])
        if not events:
            return 0
        now = timezone.now()
        seq, prev_hash = head.last_seq, head.last_hash or GENESIS_HASH
        rows = []
        for event in events:
            seq += 1
            event.seq, event.prev_hash = seq, prev_hash
            event.hash = compute_hash(event)
            rows.append((seq, prev_hash, event.hash, now, event.pk))
            prev_hash = event.hash
        with connection.cursor() as cursor:
            cursor.executemany(SEAL_SQL, rows)
        head.last_seq, head.last_hash = seq, prev_hash
        head.save(update_fields=["last_seq", "last_hash", "updated_at"])
        return len(events)


def audit_seal_all() -> int:
    total = 0
    while sealed := audit_seal():
        total += sealed
    return total


@dataclass
class VerifyReport:
    checked: int = 0
    unsealed: int = 0
    stale_unsealed: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_broken(self) -> str | None:
        return self.problems[0] if self.problems else None

    def summary(self) -> str:
        lines = [f"Checked {self.checked} sealed audit events; {self.unsealed} not yet sealed."]
        if self.stale_unsealed:
            lines.append(f"ALARM: {self.stale_unsealed} events unsealed for over a minute (is the worker running?)")
        if self.ok:
            lines.append("OK: the audit chain is intact.")
        else:
            lines.append(f"BROKEN: {self.first_broken}")
            lines.extend(f"  also: {problem}" for problem in self.problems[1:10])
        return "\n".join(lines)


def audit_verify() -> VerifyReport:
    """Recomputes the whole chain in sequence order and names the first broken event."""
    report = VerifyReport()
    expected_seq, prev_hash = 1, GENESIS_HASH
    sealed = AuditEvent.objects.filter(seq__isnull=False).order_by("seq")
    for event in sealed.iterator(chunk_size=5000):
        report.checked += 1
        where = f"event id={event.pk} seq={event.seq} ({event.action} {event.object_type}:{event.object_id})"
        if event.seq != expected_seq:
            report.problems.append(f"{where}: expected seq {expected_seq}; events before it are missing")
        if event.prev_hash != prev_hash:
            report.problems.append(f"{where}: prev_hash does not match the hash of the event before it")
        if compute_hash(event) != event.hash:
            report.problems.append(f"{where}: content was altered after sealing (hash mismatch)")
        expected_seq, prev_hash = (event.seq or 0) + 1, event.hash
    head = AuditChainHead.objects.filter(pk=1).first()
    if head and (head.last_seq != expected_seq - 1 or (head.last_seq and head.last_hash != prev_hash)):
        report.problems.append(
            f"chain head says seq {head.last_seq}, but the log ends at seq {expected_seq - 1}: events were removed"
        )
    unsealed = AuditEvent.objects.filter(seq__isnull=True)
    report.unsealed = unsealed.count()
    report.stale_unsealed = unsealed.filter(occurred_at__lt=timezone.now() - SEAL_ALARM_AFTER).count()
    return report


def unsealed_alarm_count() -> int:
    return AuditEvent.objects.filter(seq__isnull=True, occurred_at__lt=timezone.now() - SEAL_ALARM_AFTER).count()
