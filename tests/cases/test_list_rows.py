"""The list's rows are built in Python (cases/list_rows.py): what each cell says, escaped."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone, translation

from leitplanke.cases import list_rows
from leitplanke.cases.models import Case, Priority, Tag
from leitplanke.customers.models import Customer


def row_of(html: str, case: Case) -> str:
    match = re.search(rf'<tr><td class="select-col"[^>]*><input type="checkbox" name="ids" value="{case.pk}".*?</tr>', html)
    assert match, "row not found"
    return match.group(0)


def test_a_row_shows_every_cell_with_its_label(
    make_user: Callable[..., Any], make_case: Callable[..., Case], team_a: Any, client_for: Callable[..., Any]
) -> None:
    lead = make_user("team_lead", teams=[team_a], name="Miriam Schulz", language="de")
    customer = Customer.objects.create(kind="person", first_name="Erika", last_name="Mustermann", display_name="Erika Mustermann")
    case = make_case(team=team_a, subject="Zählerstand falsch", customer=customer, priority=Priority.HIGH)
    Case.objects.filter(pk=case.pk).update(
        responsible_user=lead,
        received_at=dt.datetime(2026, 3, 5, 8, 7, tzinfo=dt.UTC),
        last_activity_at=dt.datetime(2026, 3, 6, 17, 45, tzinfo=dt.UTC),
    )
    case.tags.add(Tag.objects.create(name="Rückruf", name_key="rückruf"))
    row = row_of(client_for(lead).get("/cases/").content.decode(), case)
    assert f'href="/cases/{case.pk}/"' in row and case.reference in row
    assert 'data-label="Kunde" class="customer-cell">Erika Mustermann</td>' in row
    assert 'data-label="Verantwortlich · Team" class="two-facts"><div><span class="fact">Miriam Schulz</span>' in row
    assert f'<span class="fact-sub" title="Team">{team_a.name}</span>' in row
    assert '<span class="badge badge-muted">Rückruf</span>' in row
    assert 'class="priority priority-2"' in row or f'class="priority priority-{int(Priority.HIGH)}"' in row
    # Berlin time, German short date; the time zone of the organisation (Europe/Berlin in tests)
    assert '<time class="fact" datetime="2026-03-05T09:07:00+01:00">05.03.2026 <span class="muted">09:07</span></time>' in row
    assert '<span class="fact-sub" title="Letzte Aktivität"><time datetime="2026-03-06T18:45:00+01:00">06.03.2026 18:45' in row
    assert f'aria-label="{case.reference} auswählen"' in row


def test_english_rows_use_the_english_short_date(
    make_user: Callable[..., Any], make_case: Callable[..., Case], team_a: Any, client_for: Callable[..., Any]
) -> None:
    lead = make_user("team_lead", teams=[team_a], language="en")
    case = make_case(team=team_a)
    Case.objects.filter(pk=case.pk).update(received_at=dt.datetime(2026, 12, 1, 13, 5, tzinfo=dt.UTC))
    html = client_for(lead).get("/cases/").content.decode()
    row = row_of(html, case)
    assert "01 Dec 2026" in row and 'data-label="Customer"' in row


def test_hostile_values_are_escaped_in_every_cell(
    make_user: Callable[..., Any], make_case: Callable[..., Case], team_a: Any, client_for: Callable[..., Any]
) -> None:
    lead = make_user("team_lead", teams=[team_a])
    hostile = '"><script>alert(1)</script>&'
    customer = Customer.objects.create(kind="person", last_name=hostile, display_name=hostile)
    case = make_case(team=team_a, subject=hostile, customer=customer)
    case.tags.add(Tag.objects.create(name=hostile, name_key="hostile"))
    row = row_of(client_for(lead).get("/cases/").content.decode(), case)
    assert "<script>" not in row
    assert row.count("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;") == 4  # subject (title and text), customer, tag


def test_deadline_marks_carry_the_due_time(
    make_user: Callable[..., Any], make_case: Callable[..., Case], team_a: Any, client_for: Callable[..., Any]
) -> None:
    lead = make_user("team_lead", teams=[team_a])
    overdue, at_risk = make_case(team=team_a), make_case(team=team_a)
    now = timezone.now()
    Case.objects.filter(pk=overdue.pk).update(next_due_at=now - dt.timedelta(hours=1), next_warn_at=now - dt.timedelta(days=1))
    Case.objects.filter(pk=at_risk.pk).update(next_due_at=now + dt.timedelta(hours=5), next_warn_at=now - dt.timedelta(hours=1))
    html = client_for(lead).get("/cases/?sort=due").content.decode()
    assert re.search(r'<span class="badge badge-danger" title="[^"]+">', row_of(html, overdue))
    assert 'class="badge badge-warn"' in row_of(html, at_risk)


@pytest.mark.parametrize(
    ("django_format", "expected"),
    [("d.m.Y", "05.03.2026"), ("d.m.Y H:i", "05.03.2026 09:07"), ("d M Y H:i", "05 Mar 2026 09:07"), ("j. F Y", "5. March 2026")],
)
def test_the_fast_date_formatter_writes_what_django_writes(django_format: str, expected: str) -> None:
    moment = dt.datetime(2026, 3, 5, 9, 7)
    with translation.override("en"):
        assert list_rows.date_formatter(django_format)(moment) == expected
