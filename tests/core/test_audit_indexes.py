"""The audit screen's filters are served by indexes (issue 19, item 12): the query plan
names an index for actor, action, object and time, and never scans the whole table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leitplanke.accounts import selectors
from leitplanke.accounts.models import User
from leitplanke.core.audit import audit_record

pytestmark = pytest.mark.django_db


def plan(qs: Any) -> str:
    sql, params = qs[:50].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return " | ".join(str(row[-1]) for row in cursor.fetchall())


@pytest.fixture
def auditor(make_user: Callable[..., User]) -> User:
    return make_user("auditor")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's query plan")
@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({"actor_email": "{email}"}, "audit_actor_idx"),
        ({"actor_email": "system"}, "audit_actor_label_idx"),
        ({"action": "user."}, "core_auditevent_action_"),
        ({"action": "case.transition"}, "core_auditevent_action_"),
        ({"object_type": "accounts.user", "object_id": "7"}, "audit_object_idx"),
        ({"object_type": "accounts.user"}, "audit_object_idx"),
        ({"occurred_from": "from"}, "audit_time_idx"),
    ],
)
def test_each_filter_of_the_audit_screen_uses_an_index(auditor: User, filters: dict[str, str], index: str) -> None:
    for n in range(20):
        audit_record(actor=auditor, action=f"user.x{n}", object_type="accounts.user", object_id=str(n))
    filters = {key: value.format(email=auditor.email) for key, value in filters.items()}
    if "occurred_from" in filters:
        filters["occurred_from"] = timezone.now() - dt.timedelta(hours=1)  # type: ignore[assignment]
    query_plan = plan(selectors.audit_event_list(actor=auditor, **filters))  # type: ignore[arg-type]
    assert index in query_plan, query_plan
    assert "SCAN core_auditevent" not in query_plan.replace(f"USING INDEX {index}", ""), query_plan


def test_the_actor_filter_finds_the_users_events_and_labels(auditor: User, make_user: Callable[..., User]) -> None:
    other = make_user("agent")
    audit_record(actor=auditor, action="test.mine", object_type="x", object_id="1")
    audit_record(actor=other, action="test.theirs", object_type="x", object_id="2")
    audit_record(actor="system", action="test.system", object_type="x", object_id="3")
    mine = selectors.audit_event_list(actor=auditor, actor_email=auditor.email.upper(), action="test.")
    assert [e.action for e in mine] == ["test.mine"]
    system = selectors.audit_event_list(actor=auditor, actor_email="system", action="test.")
    assert [e.action for e in system] == ["test.system"]
    assert [e.action for e in selectors.audit_event_list(actor=auditor, action="test.t")] == ["test.theirs"]


def test_the_screen_filters_by_day(auditor: User, client_for: Callable[[User], Client]) -> None:
    audit_record(actor=auditor, action="test.today", object_type="x", object_id="1")
    client = client_for(auditor)
    today = timezone.localdate()
    url = reverse("settings:audit")
    shown = client.get(url, {"action": "test.", "occurred_from": today.isoformat(), "occurred_until": today.isoformat()})
    assert shown.status_code == 200 and "test.today" in shown.content.decode()
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert "test.today" not in client.get(url, {"action": "test.", "occurred_from": tomorrow}).content.decode()
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    assert "test.today" not in client.get(url, {"action": "test.", "occurred_until": yesterday}).content.decode()
