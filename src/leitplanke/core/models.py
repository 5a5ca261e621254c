"""Shared models: the append-only audit log, rate-limit counters and the periodic scheduler."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditLogIsAppendOnly(Exception):
    """Raised when code tries to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AuditLogIsAppendOnly("audit events cannot be updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("audit events cannot be deleted")

    def _raw_delete(self, using: Any) -> int:
        raise AuditLogIsAppendOnly("audit events cannot be deleted")


class AuditEvent(models.Model):
    """One change, written in the same transaction as the change itself.

    `seq`, `prev_hash` and `hash` are empty when the event is written and are filled
    in (once) by the sealer, which chains events in the order it sees them. See
    docs/adr/0002-audit-chain.md for why the chain is sealed after commit.
    """

    # Indexed for the audit screen's filters (docs/audit-log.md): actor (actor, -id) and, for
    # labels without a user, (actor_label, -id); action (its own index) as a prefix range;
    # object (object_type, object_id); time (-occurred_at, -id), the screen's order when it
    # filters by time. Each index costs every write of
    # the application, so nothing else is indexed.
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    actor_label = models.CharField(max_length=255, blank=True)
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)
    sealed_at = models.DateTimeField(null=True, blank=True)
    # Which audit key sealed the event (empty: sealed before the chain was keyed).
    key_id = models.CharField(max_length=16, blank=True, default="")

    objects = AuditEventQuerySet.as_manager()
    # save() below only refuses updates, so core.inserts.insert_row may write new events.
    INSERT_ROW_SKIPS_NOTHING = True

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["actor", "-id"], name="audit_actor_idx"),
            models.Index(fields=["actor_label", "-id"], name="audit_actor_label_idx"),
            models.Index(fields=["-occurred_at", "-id"], name="audit_time_idx"),
            models.Index(fields=["id"], name="audit_unsealed_idx", condition=models.Q(seq__isnull=True)),
        ]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditLogIsAppendOnly("audit events cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("audit events cannot be deleted")

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """The last sealed event: lets `audit verify` notice removed events at the end. One row
    (id 1), created by a migration; database triggers refuse to remove it or move it back."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, blank=True)
    # The key that sealed the head, and its HMAC over (last_seq, last_hash, key_id).
    key_id = models.CharField(max_length=16, blank=True, default="")
    mac = models.CharField(max_length=64, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"audit chain at seq {self.last_seq}"


class ReferenceGeneration(models.Model):
    """One row whose value changes with every change to cached reference data
    (`core.refcache`): processes compare it with the value their copies were read under."""

    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"reference generation {self.value}"


class RateLimitCounter(models.Model):
    """Fixed-window counters shared by every app server (no cache server needed)."""

    key = models.CharField(max_length=255)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="ratelimit_key_window")]
        indexes = [models.Index(fields=["window_start"], name="ratelimit_window_idx")]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start:%Y-%m-%d %H:%M}: {self.count}"


class ScheduledJob(models.Model):
    """When a periodic job (registered in code) is due next; claimed atomically by one worker."""

    name = models.CharField(max_length=200, primary_key=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_worker = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return f"{self.name} next {self.next_run_at:%Y-%m-%d %H:%M:%S}"


class IdempotencyRecord(models.Model):
    """An Idempotency-Key claimed by the first request that carried it (`status` null while
    it runs), then the response that request got, replayed for repeats (api/idempotency.py)."""

    key = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    # Which request holds the claim; a claim taken over after its holder died gets a new one.
    claim_token = models.CharField(max_length=32, default="")
    status = models.PositiveSmallIntegerField(null=True)
    body = models.JSONField(null=True)
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key", "method", "path"], name="idempotency_user_key_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
