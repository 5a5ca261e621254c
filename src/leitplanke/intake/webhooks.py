"""Webhooks: signed JSON deliveries to endpoints administrators registered.

Signature header (like Stripe's): `X-Leitplanke-Signature: t=<unix time>,v1=<hex>`
where v1 = HMAC-SHA256(secret, "<t>.<raw body>"). Receivers should reject
timestamps older than five minutes.

SSRF protection: the host is resolved once, every address is checked, and the
connection goes to that checked address (no second DNS lookup, so no rebinding);
loopback, link-local, private, reserved and multicast addresses are refused unless the
administrator allowed that exact address on the endpoint. Redirects are not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leitplanke.accounts.actors import Actor
from leitplanke.accounts.permissions import MANAGE_ORGANISATION, has_capability
from leitplanke.core import refcache
from leitplanke.core.audit import audit_record
from leitplanke.core.background import background_task, enqueue_on_commit
from leitplanke.core.errors import PermissionDenied, ValidationFailed
from leitplanke.core.events import EVENTS

from .models import WebhookDelivery, WebhookEndpoint

MAX_ATTEMPTS = 8
TIMEOUT_SECONDS = 10
USER_AGENT = "Leitplanke-Webhooks/1"


class DeliveryRefused(Exception):
    """The target address is not allowed (SSRF protection); not retried."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _require_admin(actor: Actor) -> None:
    if actor is not None and not has_capability(actor, MANAGE_ORGANISATION):
        raise PermissionDenied()


def _validate(url: str, events: list[str], allow_private_address: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    parts = urlsplit(url or "")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        errors["url"] = [_("Enter an http or https URL.")]
    if parts.username or parts.password:
        errors["url"] = [_("The URL must not contain credentials; use the signature to authenticate.")]
    unknown = [event for event in events if event not in EVENTS]
    if not events or unknown:
        errors["events"] = [
            _("Choose at least one event.") if not events else _("Unknown event: %(names)s") % {"names": ", ".join(unknown)}
        ]
    if allow_private_address:
        try:
            ipaddress.ip_address(allow_private_address)
        except ValueError:
            errors["allow_private_address"] = [_("Enter one IP address, e.g. 10.0.0.5.")]
    return errors


@transaction.atomic
def webhook_endpoint_create(
    *, actor: Actor, url: str, events: list[str], description: str = "", allow_private_address: str = ""
) -> WebhookEndpoint:
    _require_admin(actor)
    if errors := _validate(url, events, allow_private_address):
        raise ValidationFailed(field_errors=errors)
    endpoint = WebhookEndpoint.objects.create(
        url=url,
        events=sorted(set(events)),
        description=description[:200],
        secret=secrets.token_urlsafe(32),
        allow_private_address=allow_private_address,
    )
    audit_record(
        actor=actor or "system",
        action="webhook.create",
        obj=endpoint,
        after={"url": url, "events": endpoint.events, "allow_private_address": allow_private_address},
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_update(*, actor: Actor, endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    _require_admin(actor)
    before = {
        "url": endpoint.url,
        "events": endpoint.events,
        "is_active": endpoint.is_active,
        "allow_private_address": endpoint.allow_private_address,
    }
    url = changes.get("url", endpoint.url)
    events = changes.get("events", endpoint.events)
    allow = changes.get("allow_private_address", endpoint.allow_private_address)
    if errors := _validate(url, events, allow):
        raise ValidationFailed(field_errors=errors)
    endpoint.url, endpoint.events, endpoint.allow_private_address = url, sorted(set(events)), allow
    endpoint.is_active = changes.get("is_active", endpoint.is_active)
    endpoint.description = changes.get("description", endpoint.description)[:200]
    endpoint.save()
    audit_record(
        actor=actor,
        action="webhook.update",
        obj=endpoint,
        before=before,
        after={
            "url": endpoint.url,
            "events": endpoint.events,
            "is_active": endpoint.is_active,
            "allow_private_address": endpoint.allow_private_address,
        },
    )
    return endpoint


def on_event(event: str, payload: dict[str, Any]) -> None:
    """Subscriber of core.events: one delivery row per interested endpoint, sent after commit."""
    endpoints = refcache.cached("webhook_endpoints", lambda: list(WebhookEndpoint.objects.filter(is_active=True)))
    for endpoint in endpoints:
        if event in endpoint.events:
            delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, payload=payload)
            enqueue_on_commit(deliver_webhook, delivery.pk)


@transaction.atomic
def webhook_redeliver(*, actor: Actor, delivery: WebhookDelivery) -> WebhookDelivery:
    _require_admin(actor)
    copy = WebhookDelivery.objects.create(endpoint=delivery.endpoint, event=delivery.event, payload=delivery.payload)
    audit_record(actor=actor, action="webhook.redeliver", obj=copy, after={"original": delivery.pk})
    enqueue_on_commit(deliver_webhook, copy.pk)
    return copy


# Where an IPv6 address carries an IPv4 address inside it (RFC 6052 NAT64, 6to4, Teredo,
# IPv4-mapped and -compatible): the IPv4 address is where the packet ends up.
NAT64_PREFIXES = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    inner: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        inner.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        inner.append(ip.sixtofour)
    if ip.teredo is not None:
        inner.extend(ip.teredo)  # (server, client)
    if any(ip in prefix for prefix in NAT64_PREFIXES) or int(ip) >> 32 == 0:
        inner.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))  # NAT64, IPv4-compatible ::a.b.c.d
    return inner


def address_is_public(address: str) -> bool:
    """Only globally reachable unicast addresses: not loopback, private, link-local,
    carrier-grade NAT (100.64.0.0/10), reserved, multicast or unspecified — also not when
    such an address is wrapped in IPv6 (NAT64, 6to4, Teredo, IPv4-mapped/-compatible)."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        candidates.extend(embedded_ipv4(ip))
    return all(candidate.is_global and not candidate.is_multicast for candidate in candidates)


def _resolve_allowed(host: str, port: int, allowed: str) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise OSError(f"cannot resolve {host}: {error}") from error
    for info in infos:
        address = str(info[4][0])
        if not address_is_public(address) and address != allowed:
            raise DeliveryRefused(f"{host} resolves to {address}, an internal address that is not allowed for this endpoint")
    return str(infos[0][4][0])


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, address: str, **kwargs: Any):
        super().__init__(host, **kwargs)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, **kwargs: Any):
        super().__init__(host, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post(url: str, body: bytes, headers: dict[str, str], *, allowed_address: str = "") -> tuple[int, str]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _resolve_allowed(parts.hostname or "", port, allowed_address)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = _PinnedHTTPSConnection(
            parts.hostname or "", address, port=port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        connection = _PinnedHTTPConnection(parts.hostname or "", address, port=port, timeout=TIMEOUT_SECONDS)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(2000).decode("utf-8", "replace")
    finally:
        connection.close()


@background_task(max_attempts=MAX_ATTEMPTS, base_delay_seconds=30)
def deliver_webhook(delivery_id: int) -> int:
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if delivery.delivered_at is not None:
        return 0
    endpoint = delivery.endpoint
    body = json.dumps(
        {"id": delivery.pk, "event": delivery.event, "created_at": delivery.created_at.isoformat(), "data": delivery.payload},
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Leitplanke-Event": delivery.event,
        "X-Leitplanke-Delivery": str(delivery.pk),
        "X-Leitplanke-Signature": sign(endpoint.secret, timestamp, body),
    }
    status, excerpt, error, refused = None, "", "", False
    try:
        status, excerpt = post(endpoint.url, body, headers, allowed_address=endpoint.allow_private_address)
    except DeliveryRefused as refusal:
        error, refused = f"refused: {refusal}", True
    except (OSError, http.client.HTTPException) as failure:
        error = f"{type(failure).__name__}: {failure}"
    _record_attempt(delivery.pk, status, excerpt, error)
    if refused:
        return 0  # SSRF protection: retrying cannot help
    if status is None or not 200 <= status < 300:
        raise RuntimeError(error or f"endpoint answered {status}")
    return status


def _record_attempt(delivery_id: int, status: int | None, excerpt: str, error: str) -> None:
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        delivery.attempts += 1
        delivery.last_attempt_at = timezone.now()
        delivery.response_status, delivery.response_excerpt, delivery.error = status, excerpt[:2000], error[:2000]
        if status is not None and 200 <= status < 300:
            delivery.delivered_at = delivery.last_attempt_at
        delivery.save()
        audit_record(
            actor="webhooks",
            action="webhook.attempt",
            obj=delivery,
            after={"status": status, "error": error[:200], "attempt": delivery.attempts},
        )
