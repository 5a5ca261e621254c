"""Audit log: recording, sealing into a keyed hash chain, and verification.

Services call `audit_record` inside their transaction. The sealer (`audit_seal`, run
by the worker every few seconds) numbers unsealed events in the order it finds them
and chains them: hash = HMAC-SHA-256(audit key, canonical JSON of the event + previous
hash). Writers therefore never queue on one global lock, and nobody who only holds the
database can recompute the chain; see docs/adr/0002-audit-chain.md.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from leitplanke.core.actors import AuditActor, is_authenticated_user

from . import audit_guards
from .context import current_request_context
from .inserts import insert_row
from .models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64
# Unsealed events older than this are an alarm: the worker is not running or failing.
SEAL_ALARM_AFTER = dt.timedelta(minutes=1)
# An event that claims to have occurred this long before an event already in the chain
# was inserted late or back-dated (a transaction open this long would be one too).
BACKDATED_AFTER = dt.timedelta(minutes=10)
KEY_ID_LENGTH = 16
KEY_MIN_LENGTH = 32
CHAIN_KEYED_ACTION = "audit.chain_keyed"

# `leitplanke audit verify` exit codes (2 is argparse's and the settings' usage error).
EXIT_INTACT, EXIT_BROKEN, EXIT_ALARM = 0, 1, 3


class AuditChainBroken(Exception):
    """The sealer cannot continue the chain (its head is gone)."""


# --- snapshots -----------------------------------------------------------------------------


def to_json_data(value: Any) -> Any:
    """Turns a snapshot into plain JSON data, so the stored form equals the hashed form.

    Refuses floats (databases normalise JSON numbers differently, so a float's text would not
    survive the round trip: pass a Decimal or a string) and types it does not know (instead
    of `str()`, whose text may change with a library version)."""
    return _plain(value, "")


def _plain(value: Any, path: str) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value if type(value) is str else str.__str__(value)  # choices, safe strings → str
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        raise TypeError(f"audit snapshot{path or ''}: float {value!r}; pass a Decimal or a string")
    if isinstance(value, dict):
        return {_key(key, path): _plain(item, f"{path}.{key}") for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, set | frozenset):
        return [_plain(item, f"{path}[]") for item in sorted(value)]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, Model):
        return value.pk
    raise TypeError(f"audit snapshot{path or ''}: {type(value).__name__} is not JSON data; convert it first")


def _key(key: Any, path: str) -> str:
    if isinstance(key, str):
        return key if type(key) is str else str.__str__(key)
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)  # as json.dumps writes it
    raise TypeError(f"audit snapshot{path or ''}: key {key!r} is not a string")


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


# --- recording -----------------------------------------------------------------------------


def audit_record(
    *,
    actor: AuditActor,
    action: str,
    obj: Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    before: Any = None,
    after: Any = None,
) -> AuditEvent:
    """Writes one audit event in the caller's transaction (which must be open)."""
    return insert_row(
        audit_event(actor=actor, action=action, obj=obj, object_type=object_type, object_id=object_id, before=before, after=after)
    )  # append-only: AuditEvent.save() only refuses updates


def audit_event(
    *,
    actor: AuditActor,
    action: str,
    obj: Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    before: Any = None,
    after: Any = None,
) -> AuditEvent:
    """The unsaved event `audit_record` writes, for a caller that writes it in a statement of
    its own (`cases.services._write_new_case`); inside the change's transaction only."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must be called inside the transaction of the change")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    context = current_request_context()
    user = actor if is_authenticated_user(actor) else None
    return AuditEvent(
        occurred_at=timezone.now(),
        actor_id=user.pk if user is not None else None,
        actor_label=(getattr(user, "email", "") if user is not None else str(actor or "system"))[:255],
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        before=to_json_data(before),
        after=to_json_data(after),
        request_id=context.request_id[:64],
        ip=context.ip,
    )


def audit_update(*, actor: AuditActor, action: str, obj: Model, before: Mapping[str, Any], fields: Iterable[str]) -> None:
    """Records an update with the fields that changed since the `before` snapshot; nothing
    when none did."""
    old, new = changed_fields(before, snapshot(obj, fields))
    if new:
        audit_record(actor=actor, action=action, obj=obj, before=old, after=new)


# --- keys ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainKey:
    key_id: str
    secret: bytes


def _chain_key(secret: str) -> ChainKey:
    if len(secret) < KEY_MIN_LENGTH:
        raise ImproperlyConfigured(f"audit keys need at least {KEY_MIN_LENGTH} characters")
    raw = secret.encode()
    # The id names the key in every event without revealing it: an HMAC of a constant.
    key_id = hmac.new(raw, b"leitplanke audit key id", hashlib.sha256).hexdigest()[:KEY_ID_LENGTH]
    return ChainKey(key_id=key_id, secret=raw)


def sealing_key() -> ChainKey:
    """The key new events are sealed with (`LEITPLANKE_AUDIT_KEY`)."""
    secret = getattr(settings, "LEITPLANKE_AUDIT_KEY", "")
    if not secret:
        raise ImproperlyConfigured("LEITPLANKE_AUDIT_KEY is not set: the audit log cannot be sealed")
    return _chain_key(secret)


def verification_keys() -> dict[str, ChainKey]:
    """Every configured key by id: the sealing key and `LEITPLANKE_AUDIT_KEY_FALLBACKS`."""
    secrets = [getattr(settings, "LEITPLANKE_AUDIT_KEY", ""), *getattr(settings, "LEITPLANKE_AUDIT_KEY_FALLBACKS", [])]
    keys = [_chain_key(secret) for secret in secrets if secret]
    return {key.key_id: key for key in keys}


# --- hashing -------------------------------------------------------------------------------


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value else None


def event_payload(event: AuditEvent) -> dict[str, Any]:
    """What an unkeyed (legacy) event's hash covers."""
    return {
        "id": event.pk,
        "seq": event.seq,
        "occurred_at": _iso(event.occurred_at),
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


def _canonical(payload: dict[str, Any]) -> bytes:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # surrogatepass: total over every string a database can hold (SQLite stores lone
    # surrogates); for every other string it is byte for byte the strict UTF-8 encoding,
    # so the hashes sealed before it stay valid.
    return text.encode("utf-8", "surrogatepass")


def compute_hash(event: AuditEvent, key: ChainKey | None = None) -> str:
    """SHA-256 of an unkeyed event (sealed before the chain was keyed); with its key,
    HMAC-SHA-256 over the same payload plus the sealing time and the key id."""
    if key is None:
        return hashlib.sha256(_canonical(event_payload(event))).hexdigest()
    payload = {**event_payload(event), "sealed_at": _iso(event.sealed_at), "key_id": event.key_id}
    return hmac.new(key.secret, _canonical(payload), hashlib.sha256).hexdigest()


def head_mac(head: AuditChainHead, key: ChainKey) -> str:
    """Vouches for the head's position, so that removing the newest events and moving the
    head back needs the key too."""
    message = f"head:{head.last_seq}:{head.last_hash}:{head.key_id}".encode()
    return hmac.new(key.secret, message, hashlib.sha256).hexdigest()


# --- sealing -------------------------------------------------------------------------------

SEAL_SQL = (
    "UPDATE core_auditevent SET seq = %s, prev_hash = %s, hash = %s, sealed_at = %s, key_id = %s WHERE id = %s AND seq IS NULL"
)


def audit_seal(*, batch_size: int = 2000) -> int:
    """Chains up to `batch_size` unsealed events; returns how many were sealed."""
    key = sealing_key()
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            raise AuditChainBroken("the audit chain head is missing (run `leitplanke migrate`; see `leitplanke audit verify`)")
        unsealed = AuditEvent.objects.filter(seq__isnull=True).order_by("id")
        events: list[AuditEvent] = []
        if head.key_id not in verification_keys():
            # The first keyed seal (or after a key this process does not know): the chain says
            # so with the first event the key seals.
            marker = audit_record(
                actor="system", action=CHAIN_KEYED_ACTION, after={"key_id": key.key_id, "previous": head.key_id}
            )
            events.append(AuditEvent.objects.get(pk=marker.pk))  # as stored, which is what is hashed
            unsealed = unsealed.exclude(pk=marker.pk)
        events += unsealed[: batch_size - len(events)]
        if not events:
            return 0
        now = timezone.now()
        seq, prev_hash = head.last_seq, head.last_hash or GENESIS_HASH
        rows = []
        for event in events:
            seq += 1
            event.seq, event.prev_hash, event.sealed_at, event.key_id = seq, prev_hash, now, key.key_id
            event.hash = compute_hash(event, key)
            rows.append((seq, prev_hash, event.hash, now, key.key_id, event.pk))
            prev_hash = event.hash
        # The head moves first: the database lets an event be sealed only up to the head's seq.
        head.last_seq, head.last_hash, head.key_id = seq, prev_hash, key.key_id
        head.mac = head_mac(head, key)
        head.save(update_fields=["last_seq", "last_hash", "key_id", "mac", "updated_at"])
        with connection.cursor() as cursor:
            cursor.executemany(SEAL_SQL, rows)
            sealed = cursor.rowcount
        if sealed != len(rows):  # someone else sealed one meanwhile: roll back, retry next tick
            raise AuditChainBroken(f"sealed {sealed} of {len(rows)} events; another writer changed them")
        return len(events)


def audit_seal_all() -> int:
    total = 0
    while sealed := audit_seal():
        total += sealed
    return total


# --- verification --------------------------------------------------------------------------


@dataclass
class VerifyReport:
    checked: int = 0
    unsealed: int = 0
    stale_unsealed: int = 0
    problems: list[str] = field(default_factory=list)
    backdated: list[str] = field(default_factory=list)
    guard_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def alarm(self) -> bool:
        return bool(self.stale_unsealed or self.backdated or self.guard_problems)

    @property
    def first_broken(self) -> str | None:
        return self.problems[0] if self.problems else None

    @property
    def exit_code(self) -> int:
        if not self.ok:
            return EXIT_BROKEN
        return EXIT_ALARM if self.alarm else EXIT_INTACT

    def summary(self) -> str:
        lines = [f"Checked {self.checked} sealed audit events; {self.unsealed} not yet sealed."]
        if self.stale_unsealed:
            lines.append(f"ALARM: {self.stale_unsealed} events unsealed for over a minute (is the worker running?)")
        lines.extend(f"ALARM: {problem}" for problem in self.guard_problems)
        if self.backdated:
            lines.append(
                f"ALARM: {len(self.backdated)} events were sealed long after they occurred, "
                "after events that occurred later (inserted late or back-dated):"
            )
            lines.extend(f"  {line}" for line in self.backdated[:10])
        if self.ok:
            lines.append("OK: the audit chain is intact.")
        else:
            lines.append(f"BROKEN: {self.first_broken}")
            lines.extend(f"  also: {problem}" for problem in self.problems[1:10])
        return "\n".join(lines)


@dataclass
class _Walk:
    """State of one pass over the chain in seq order."""

    keys: dict[str, ChainKey]
    report: VerifyReport
    expected_seq: int = 1
    prev_hash: str = GENESIS_HASH
    keyed_seen: bool = False
    last_keyed: bool = False
    latest_occurred: dt.datetime | None = None
    unknown_keys: set[str] = field(default_factory=set)

    def check(self, event: AuditEvent) -> None:
        problems = self.report.problems
        where = f"event id={event.pk} seq={event.seq} ({event.action} {event.object_type}:{event.object_id})"
        if event.seq != self.expected_seq:
            problems.append(f"{where}: expected seq {self.expected_seq}; events before it are missing")
        if event.prev_hash != self.prev_hash:
            problems.append(f"{where}: prev_hash does not match the hash of the event before it")
        self._check_hash(event, where)
        self._check_time(event, where)
        self.report.checked += 1
        self.expected_seq, self.prev_hash = (event.seq or 0) + 1, event.hash

    def _check_hash(self, event: AuditEvent, where: str) -> None:
        problems = self.report.problems
        self.last_keyed = bool(event.key_id)
        if not event.key_id:
            if self.keyed_seen:
                problems.append(f"{where}: sealed without the key after keyed events (the chain was extended without it)")
            elif compute_hash(event) != event.hash:
                problems.append(f"{where}: content was altered after sealing (hash mismatch)")
            return
        self.keyed_seen = True
        key = self.keys.get(event.key_id)
        if key is None:
            if event.key_id not in self.unknown_keys:
                self.unknown_keys.add(event.key_id)
                problems.append(
                    f"{where}: sealed with key {event.key_id}, which is not configured "
                    "(LEITPLANKE_AUDIT_KEY or LEITPLANKE_AUDIT_KEY_FALLBACKS); its events cannot be checked"
                )
        elif compute_hash(event, key) != event.hash:
            problems.append(f"{where}: content was altered after sealing (hash mismatch)")

    def _check_time(self, event: AuditEvent, where: str) -> None:
        latest = self.latest_occurred
        if latest is not None and event.occurred_at < latest - BACKDATED_AFTER:
            self.report.backdated.append(
                f"{where}: occurred {_iso(event.occurred_at)}, sealed {_iso(event.sealed_at)}, after an event of {_iso(latest)}"
            )
        # The sealer's own marker occurs when it seals, ahead of the backlog it then seals.
        if event.action != CHAIN_KEYED_ACTION and (latest is None or event.occurred_at > latest):
            self.latest_occurred = event.occurred_at

    def check_head(self, head: AuditChainHead | None) -> None:
        problems = self.report.problems
        last_seq = self.expected_seq - 1
        if head is None:
            if last_seq:
                problems.append(f"the chain head is missing while {last_seq} sealed events exist")
            return
        if head.last_seq != last_seq or (head.last_seq and head.last_hash != self.prev_hash):
            problems.append(f"chain head says seq {head.last_seq}, but the log ends at seq {last_seq}: events were removed")
        elif head.key_id:
            key = self.keys.get(head.key_id)
            if key is None and head.key_id not in self.unknown_keys:
                problems.append(f"the chain head is sealed with key {head.key_id}, which is not configured")
            elif key is not None and not hmac.compare_digest(head.mac, head_mac(head, key)):
                problems.append(f"the chain head at seq {head.last_seq} was rewritten (its seal does not match)")
        elif self.last_keyed:
            problems.append(f"the chain head at seq {head.last_seq} is not sealed with a key although the chain is")
        if self.keys and last_seq and not self.keyed_seen:
            problems.append(
                "no event is sealed with a key although one is configured: if the key was only just set, "
                "run the worker once (it seals an audit.chain_keyed event); otherwise the chain was rewritten without it"
            )


def audit_verify() -> VerifyReport:
    """Recomputes the whole chain in sequence order and names the first broken event."""
    report = VerifyReport()
    walk = _Walk(keys=verification_keys(), report=report)
    sealed = AuditEvent.objects.filter(seq__isnull=False).order_by("seq")
    for event in sealed.iterator(chunk_size=5000):
        walk.check(event)
    walk.check_head(AuditChainHead.objects.filter(pk=1).first())
    unsealed = AuditEvent.objects.filter(seq__isnull=True)
    report.unsealed = unsealed.count()
    report.stale_unsealed = unsealed.filter(occurred_at__lt=timezone.now() - SEAL_ALARM_AFTER).count()
    report.guard_problems = audit_guards.guard_problems(connection)
    return report


def unsealed_alarm_count() -> int:
    return AuditEvent.objects.filter(seq__isnull=True, occurred_at__lt=timezone.now() - SEAL_ALARM_AFTER).count()
