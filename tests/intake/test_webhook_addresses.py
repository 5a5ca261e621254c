"""Webhooks go only to globally reachable addresses (issue 19, item 12): carrier-grade NAT
and IPv6 wrappings of loopback and private addresses are refused like the plain ones."""

from __future__ import annotations

from typing import Any

import pytest

from leitplanke.core.events import emit
from leitplanke.intake import webhooks
from leitplanke.intake.models import WebhookDelivery

ADDRESSES = [
    # address, public?
    ("8.8.8.8", True),
    ("93.184.216.34", True),
    ("2606:4700:4700::1111", True),
    ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
    ("2002:808:808::1", True),  # 6to4 of 8.8.8.8
    ("127.0.0.1", False),
    ("10.1.2.3", False),
    ("172.16.0.1", False),
    ("192.168.1.1", False),
    ("169.254.169.254", False),  # cloud metadata
    ("100.64.0.1", False),  # carrier-grade NAT
    ("100.127.255.254", False),
    ("0.0.0.0", False),  # noqa: S104 - an address to refuse, not to bind
    ("255.255.255.255", False),
    ("224.0.0.1", False),
    ("192.0.2.1", False),  # documentation
    ("198.18.0.1", False),  # benchmarking
    ("240.0.0.1", False),  # reserved
    ("::1", False),
    ("::", False),
    ("fe80::1", False),
    ("fe80::1%eth0", False),
    ("fc00::1", False),
    ("fd12:3456::1", False),
    ("ff02::1", False),
    ("2001:db8::1", False),
    ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
    ("::ffff:10.0.0.1", False),
    ("::127.0.0.1", False),  # IPv4-compatible loopback
    ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
    ("2002:a00:1::1", False),  # 6to4 of 10.0.0.1
    ("2002:a9fe:a9fe::1", False),  # 6to4 of 169.254.169.254
    ("2002:6440:1::1", False),  # 6to4 of 100.64.0.1
    ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
    ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
    ("64:ff9b::6440:1", False),  # NAT64 of 100.64.0.1
    ("64:ff9b:1::a00:1", False),  # local-use NAT64 of 10.0.0.1
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),  # Teredo, client 127.0.0.1
    ("not an address", False),
]


@pytest.mark.parametrize(("address", "public"), ADDRESSES)
def test_only_global_addresses_are_public(address: str, public: bool) -> None:
    assert webhooks.address_is_public(address) is public


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "http://100.64.0.1:9/x",
        "http://[2002:7f00:1::1]:9/x",
        "http://[64:ff9b::7f00:1]:9/x",
        "http://[::ffff:127.0.0.1]:9/x",
        "http://[2002:a9fe:a9fe::1]/latest/meta-data",
    ],
)
def test_wrapped_internal_addresses_are_refused_without_sending(
    url: str, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    def no_connection(*args: object, **kwargs: object) -> None:
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(webhooks.socket, "create_connection", no_connection)
    webhooks.webhook_endpoint_create(actor=None, url=url, events=["case.created"])
    with django_capture_on_commit_callbacks(execute=True):
        emit("case.created", {"reference": "LP-2026-000003"})
    delivery = WebhookDelivery.objects.get()
    assert delivery.error.startswith("refused:"), delivery.error
    assert delivery.delivered_at is None


@pytest.mark.django_db
def test_the_one_allowed_private_address_still_works_and_only_it() -> None:
    endpoint_address = "100.64.0.1"
    with pytest.raises(webhooks.DeliveryRefused):
        webhooks._resolve_allowed("100.64.0.2", 80, endpoint_address)
    assert webhooks._resolve_allowed("100.64.0.1", 80, endpoint_address) == "100.64.0.1"
