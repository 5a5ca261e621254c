"""Consistency analytics: the figures on a small known set, leads limited to their teams, a
constant number of queries, the drill-down and the page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leitplanke.accounts.models import Team
from leitplanke.core.errors import PermissionDenied
from leitplanke.decisions import analytics_selectors as sel
from leitplanke.decisions.analytics_selectors import ConsistencyFilter

from . import factories as f

pytestmark = pytest.mark.django_db


def _period() -> ConsistencyFilter:
    today = timezone.localdate()
    return ConsistencyFilter(start=today - dt.timedelta(days=400), end=today)


@pytest.fixture
def world(make_user: Any) -> dict[str, Any]:
    north = Team.objects.create(name="North")
    south = Team.objects.create(name="South")
    lead = make_user("team_lead", teams=[north], name="Lena Lead")
    north.lead = lead
    north.save()
    anna = make_user("agent", teams=[north], name="Anna Agent")
    bert = make_user("agent", teams=[south], name="Bert Agent")
    billing = f.category("billing", "Billing")
    power = f.product("power", "Power")
    private = f.customer("private")
    now = timezone.now()
    # North (Anna): 10, 20, 30, 40 goodwill; one deviating, one approved, one rejected, one reversed.
    amounts = [
        ("10", False, None, "final"),
        ("20", True, "approved", "approved"),
        ("30", False, "rejected", "rejected"),
        ("40", False, None, "reversed"),
    ]
    for amount, deviates, approval, status in amounts:
        f.record(
            case=f.case(category=billing, product=power, customer=private, team=north),
            by=anna,
            team=north,
            amount=amount,
            deviates=deviates,
            approval=approval,
            status=status,
            decided_at=now - dt.timedelta(days=40),
        )
    # South (Bert): 100 goodwill and 500 redress (never in the goodwill figures).
    f.record(
        case=f.case(category=billing, product=power, customer=private, team=south),
        by=bert,
        team=south,
        amount="100",
        decided_at=now - dt.timedelta(days=10),
    )
    f.record(
        case=f.case(category=billing, team=south),
        by=bert,
        team=south,
        amount="500",
        kind="redress",
        decided_at=now - dt.timedelta(days=10),
    )
    # A superseded decision and its correction: the case counts once (the correction).
    old = f.record(
        case=f.case(team=south), by=bert, team=south, amount="70", status="superseded", decided_at=now - dt.timedelta(days=5)
    )
    f.record(
        case=old.case,
        by=bert,
        team=south,
        amount="60",
        record_kind="correction",
        refers_to=old,
        decided_at=now - dt.timedelta(days=4),
    )
    # Outside the period.
    f.record(case=f.case(team=north), by=anna, team=north, amount="999", decided_at=now - dt.timedelta(days=800))
    return {"north": north, "south": south, "lead": lead, "anna": anna, "bert": bert, "billing": billing, "power": power}


def test_figures_on_a_known_set(world: dict[str, Any], make_user: Any) -> None:
    qm = make_user("quality_manager")
    result = sel.consistency(actor=qm, flt=_period(), lang="en")
    teams = {row.labels["l_team"]: row for row in result.teams}
    north = teams["North"]
    assert north.count == 4
    assert north.deviations == 1 and north.approvals == 2 and north.rejections == 1 and north.reversals == 1
    assert north.deviation_rate == 0.25 and north.approval_rate == 0.5 and north.rejection_rate == 0.5
    assert north.reversal_rate == 0.25
    assert north.spread is not None
    assert (north.spread.minimum, north.spread.q1, north.spread.median, north.spread.q3, north.spread.maximum) == (
        Decimal("10.00"),
        Decimal("17.50"),
        Decimal("25.00"),
        Decimal("32.50"),
        Decimal("40.00"),
    )
    south = teams["South"]
    assert south.count == 2  # 100 and the correction's 60; no redress, no superseded record
    assert south.spread is not None and south.spread.median == Decimal("80.00")
    group = next(row for row in result.groups if row.key["category"] == str(world["billing"].pk))
    assert group.key == {"category": str(world["billing"].pk), "product": str(world["power"].pk), "segment": "private"}
    assert group.count == 5 and group.labels["l_category"] == "Billing" and group.labels["l_product"] == "Power"
    agents = {row.labels["l_agent"]: row.count for row in result.agents}
    assert agents == {"Anna Agent": 4, "Bert Agent": 2}
    assert sum(row.count for row in result.months) == 6
    redress = sel.consistency(
        actor=qm, flt=ConsistencyFilter(start=_period().start, end=_period().end, kind="redress"), lang="en"
    )
    assert [(row.count, row.spread.median if row.spread else None) for row in redress.teams] == [(1, Decimal("500.00"))]
    everything = sel.consistency(actor=qm, flt=ConsistencyFilter(start=_period().start, end=_period().end, kind="all"), lang="en")
    assert everything.total == 7 and all(row.spread is None for row in everything.teams)


def test_odd_count_quartiles(world: dict[str, Any], make_user: Any) -> None:
    qm = make_user("quality_manager")
    flt = ConsistencyFilter(start=_period().start, end=_period().end, team=str(world["north"].pk), month="")
    # add a fifth record of 50 to North: 10 20 30 40 50 → q1 20, median 30, q3 40
    f.record(
        case=f.case(team=world["north"]),
        by=world["anna"],
        team=world["north"],
        amount="50",
        decided_at=timezone.now() - dt.timedelta(days=3),
    )
    north = sel.consistency(actor=qm, flt=flt, lang="en").teams[0]
    assert north.spread is not None
    assert (north.spread.q1, north.spread.median, north.spread.q3) == (Decimal("20.00"), Decimal("30.00"), Decimal("40.00"))


def test_leads_see_their_teams_only(world: dict[str, Any], make_user: Any) -> None:
    result = sel.consistency(actor=world["lead"], flt=_period(), lang="en")
    assert [row.labels["l_team"] for row in result.teams] == ["North"]
    assert {row.labels["l_agent"] for row in result.agents} == {"Anna Agent"}
    south = ConsistencyFilter(start=_period().start, end=_period().end, team=str(world["south"].pk))
    assert list(sel.consistency_drilldown(actor=world["lead"], flt=south)) == []
    assert sel.consistency(actor=world["lead"], flt=south).teams == []
    with pytest.raises(PermissionDenied):
        sel.consistency(actor=world["anna"], flt=_period())


def test_query_count_is_constant(world: dict[str, Any], make_user: Any, client_for: Any) -> None:
    qm = make_user("quality_manager")
    client = client_for(qm)
    url = reverse("decisions_analytics:consistency")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for n in range(30):
        team = Team.objects.create(name=f"Team {n}")
        agent = make_user("agent", teams=[team])
        cat = f.category(f"cat-{n}", f"Category {n}")
        f.record(
            case=f.case(category=cat, team=team),
            by=agent,
            team=team,
            amount=str(n * 3),
            deviates=n % 2 == 0,
            approval="approved" if n % 3 == 0 else None,
            decided_at=timezone.now() - dt.timedelta(days=n * 11),
        )
    client.get(url)  # reference data changed (new users, teams): caches are filled again once
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    assert response.content.decode().count("<svg") >= 30
    drill = reverse("decisions_analytics:records")
    client.get(drill)
    with CaptureQueriesContext(connection) as page:
        assert client.get(drill).status_code == 200
    f.record(case=f.case(), by=qm, team=None, amount="5")
    with CaptureQueriesContext(connection) as page_more:
        assert client.get(drill).status_code == 200
    assert len(page.captured_queries) == len(page_more.captured_queries)


def test_page_and_drilldown(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["lead"])
    response = client.get(reverse("decisions_analytics:consistency"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "North" in body and "South" not in body and "<svg" in body
    drill = client.get(reverse("decisions_analytics:records"), {"team": world["north"].pk})
    assert drill.status_code == 200
    text = drill.content.decode()
    assert text.count('class="record-row"') == 4
    assert reverse("cases:detail", args=[world["north"].members.first().decision_records.first().case_id]) in text


def test_keyset_pages(world: dict[str, Any], make_user: Any, client_for: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from leitplanke.decisions import analytics_views

    monkeypatch.setattr(analytics_views, "PAGE_SIZE", 4)
    client = client_for(make_user("quality_manager"))
    first = client.get(reverse("decisions_analytics:records"))
    assert first.content.decode().count('class="record-row"') == 4
    cursor = first.context["page"].next_cursor
    second = client.get(reverse("decisions_analytics:records"), {"cursor": cursor})
    assert second.content.decode().count('class="record-row"') == 2
    assert client.get(reverse("decisions_analytics:records"), {"cursor": "forged"}).status_code == 400


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-13"},
        {"start": "2026-05", "end": "2026-01"},
        {"start": "2000-01", "end": "2026-01"},
        {"start": "9999-08", "end": "9999-12"},  # the month after would be year 10000
        {"kind": "bonus"},
        {"currency": "euro"},
        {"category": "x'; drop"},
        {"month": "2026-99"},
        {"team": "\x00"},
    ],
)
def test_bad_filters_are_refused_in_words(params: dict[str, str], make_user: Any, client_for: Any) -> None:
    client = client_for(make_user("quality_manager"))
    for name in ("consistency", "records"):
        response = client.get(reverse(f"decisions_analytics:{name}"), params)
        assert response.status_code in (200, 400)
        if response.status_code == 200 or "\x00" not in "".join(params.values()):
            assert 'role="alert"' in response.content.decode()
