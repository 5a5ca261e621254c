"""Webhooks: signed deliveries to a real HTTP server on 127.0.0.1, SSRF refusals, retries."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction

from leitplanke.core import events
from leitplanke.core.errors import PermissionDenied, ValidationFailed
from leitplanke.intake import webhooks
from leitplanke.intake.models import WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True)


class Receiver:
    def __init__(self, status: int = 200):
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = status
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/leitplanke"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


def emit(event: str, payload: dict) -> None:
    with transaction.atomic():
        events.emit(event, payload)


def test_signed_delivery_to_an_allowed_local_endpoint(receiver) -> None:
    endpoint = webhooks.webhook_endpoint_create(
        actor=None, url=receiver.url, events=["case.created"], allow_private_address="127.0.0.1"
    )
    emit("case.created", {"reference": "LP-2026-000001"})
    emit("case.transitioned", {"reference": "LP-2026-000001"})  # not subscribed
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    timestamp, signature = (part.split("=", 1)[1] for part in headers["X-Leitplanke-Signature"].split(","))
    expected = hmac.new(endpoint.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, expected)
    assert json.loads(body)["data"] == {"reference": "LP-2026-000001"}
    delivery = WebhookDelivery.objects.get()
    assert delivery.response_status == 200 and delivery.delivered_at is not None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/hook",
        "http://[::1]:9/x",
        "http://localhost:9/x",
    ],
)
def test_internal_addresses_are_refused_without_sending(url) -> None:
    webhooks.webhook_endpoint_create(actor=None, url=url, events=["case.created"])
    emit("case.created", {"reference": "LP-2026-000002"})
    delivery = WebhookDelivery.objects.get()
    assert delivery.error.startswith("refused:")
    assert delivery.delivered_at is None and delivery.attempts == 1


def test_failed_delivery_is_logged_and_can_be_redelivered(receiver, admin_user) -> None:
    receiver.status = 500
    webhooks.webhook_endpoint_create(
        actor=admin_user, url=receiver.url, events=["case.created"], allow_private_address="127.0.0.1"
    )
    emit("case.created", {"reference": "LP-2026-000003"})
    failed = WebhookDelivery.objects.get()
    assert failed.response_status == 500 and failed.delivered_at is None
    receiver.status = 204
    webhooks.webhook_redeliver(actor=admin_user, delivery=failed)
    assert WebhookDelivery.objects.filter(delivered_at__isnull=False).count() == 1
    assert len(receiver.requests) == 2


def test_endpoint_validation_and_permissions(agent_user) -> None:
    with pytest.raises(ValidationFailed) as error:
        webhooks.webhook_endpoint_create(actor=None, url="ftp://example.org", events=["nope"])
    assert set(error.value.field_errors) == {"url", "events"}
    with pytest.raises(PermissionDenied):
        webhooks.webhook_endpoint_create(actor=agent_user, url="https://example.org/h", events=["case.created"])


def test_case_services_emit_events_that_reach_webhooks(receiver, admin_user) -> None:
    from leitplanke.cases import services as case_services
    from leitplanke.cases.models import CaseType

    webhooks.webhook_endpoint_create(
        actor=admin_user, url=receiver.url, allow_private_address="127.0.0.1", events=["case.created", "case.transitioned"]
    )
    case_type = CaseType.objects.get_or_create(key="complaint", defaults={"name_de": "Beschwerde", "name_en": "Complaint"})[0]
    case = case_services.case_create(actor=admin_user, case_type=case_type, subject="Webhook test", channel="phone")
    case_services.case_transition(actor=admin_user, case=case, transition="start")
    events_seen = [json.loads(body)["event"] for _headers, body in receiver.requests]
    assert events_seen == ["case.created", "case.transitioned"]
    assert json.loads(receiver.requests[1][1])["data"]["reference"] == case.reference
