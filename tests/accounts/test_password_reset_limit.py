"""Password-reset requests are limited per address and per client IP (issue 19, item 12):
12 requests used to send 12 e-mails. Counted first (core/ratelimit.py), the same neutral
page over the limit, and no more e-mails than the limit under concurrency either."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from leitplanke.accounts.models import User
from tests.concurrency import in_parallel, shared_database

RESET = "/accounts/password-reset/"
SENT = "/accounts/password-reset/sent/"


@pytest.fixture(autouse=True)
def _one_window(fixed_rate_limit_window: None) -> None:
    """All requests of a test count in one rate-limit window."""


@pytest.mark.django_db
def test_twelve_requests_for_one_address_send_three_mails(agent_user: User) -> None:
    answers = [
        Client(REMOTE_ADDR=f"198.51.100.{n}").post(RESET, {"email": agent_user.email.upper() if n % 2 else agent_user.email})
        for n in range(12)
    ]
    assert {(a.status_code, a["Location"]) for a in answers} == {(302, SENT)}
    assert len(mail.outbox) == 3
    assert all(message.to == [agent_user.email] for message in mail.outbox)


@pytest.mark.django_db
def test_one_client_is_limited_across_addresses(make_user: Callable[..., User], settings: Any) -> None:
    settings.PASSWORD_RESET_RATE_LIMIT = {**settings.PASSWORD_RESET_RATE_LIMIT, "per_ip": 4}
    users = [make_user("agent") for _ in range(6)]
    client = Client(REMOTE_ADDR="203.0.113.50")
    answers = [client.post(RESET, {"email": user.email}) for user in users]
    assert {a["Location"] for a in answers} == {SENT}
    assert len(mail.outbox) == 4
    Client(REMOTE_ADDR="203.0.113.51").post(RESET, {"email": users[5].email})  # another client still gets one
    assert len(mail.outbox) == 5


@pytest.mark.django_db
def test_the_page_over_the_limit_is_the_same(agent_user: User) -> None:
    client = Client(REMOTE_ADDR="198.51.100.77")
    first = client.post(RESET, {"email": agent_user.email}, follow=True)
    for _ in range(5):
        last = client.post(RESET, {"email": agent_user.email}, follow=True)
    assert first.redirect_chain == last.redirect_chain == [(SENT, 302)]

    def without_csrf(content: bytes) -> str:
        return re.sub(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', "", content.decode())

    assert without_csrf(first.content) == without_csrf(last.content)
    assert len(mail.outbox) == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_send_no_more_than_the_limit(agent_user: User, tmp_path: Any) -> None:
    with shared_database(tmp_path):
        statuses = in_parallel(
            lambda n: Client(REMOTE_ADDR=f"192.0.2.{n + 1}").post(RESET, {"email": agent_user.email}).status_code, 8
        )
        assert statuses == [302] * 8
        assert len(mail.outbox) == 3
