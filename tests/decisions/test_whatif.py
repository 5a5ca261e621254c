"""What-if simulation: the comparison on a known set, progress, a second concurrent start
refused, bad periods refused, and the pages."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from leitplanke.core.errors import Conflict, PermissionDenied, ValidationFailed
from leitplanke.decisions import engine, shipped, simulation_services, whatif
from leitplanke.decisions.models import Simulation, SimulationStatus

from . import factories as f

KEY = "goodwill_energy_billing"


def new_version() -> dict[str, Any]:
    """v2: established customers get 12 % instead of 10 %; billing review from EUR 800 on."""
    document = copy.deepcopy(shipped.jdm(KEY))
    for rule in document["nodes"][1]["content"]["rules"]:
        if rule["_id"] == "established":
            rule["out-recommended_amount"] = "round(disputed_amount * 0.12)"
        if rule["_id"] == "large-amount":
            rule["in-disputed_amount"] = "> 800"
    return document


def decided(table_v1: Any, by: Any, inputs: Any, segment: str, days_ago: int = 10, recommendation: Any = None) -> Any:
    if recommendation is None:
        recommendation = engine.evaluate(shipped.table(KEY), inputs).outputs
    return f.record(
        case=f.case(customer=f.customer(segment)),
        by=by,
        team=None,
        table=table_v1,
        inputs=inputs,
        recommendation=recommendation,
        amount=str(recommendation.get("recommended_amount", 0)) if isinstance(recommendation, dict) else "0",
        decided_at=timezone.now() - dt.timedelta(days=days_ago),
    )


@pytest.fixture
def known(make_user: Any) -> dict[str, Any]:
    agent = make_user("agent")
    v1 = f.table(version=1, status="published")
    v2 = f.table(version=2, status="draft", jdm=new_version())
    base = {"segment": "private", "complaints_12m": 1}
    records = {
        "up": decided(v1, agent, {**base, "disputed_amount": 100, "years_as_customer": 4}, "private"),  # 10 → 12
        "action": decided(
            v1, agent, {**base, "segment": "business", "disputed_amount": 900, "years_as_customer": 1}, "business"
        ),  # 45 → review 0
        "same": decided(v1, agent, {**base, "disputed_amount": 0, "years_as_customer": 4}, "private"),
        "loyal": decided(v1, agent, {**base, "disputed_amount": 200, "years_as_customer": 12}, "private"),  # 30 → 30
        "broken": decided(v1, agent, [1, 2], "private", recommendation={"action": "goodwill_credit", "recommended_amount": 5}),
    }
    # Not part of the run: another table's decision, and one outside the period.
    card = f.table(key="card_fee_refund", version=1)
    f.record(case=f.case(), by=agent, team=None, table=card, inputs={"fee_type": "late"}, decided_at=timezone.now())
    decided(v1, agent, {**base, "disputed_amount": 100, "years_as_customer": 4}, "private", days_ago=500)
    return {"v1": v1, "v2": v2, "agent": agent, "records": records}


def period() -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    return today - dt.timedelta(days=365), today


@pytest.mark.django_db
def test_results_on_a_known_set(known: dict[str, Any], make_user: Any, django_capture_on_commit_callbacks: Any) -> None:
    owner = make_user("process_owner")
    start, end = period()
    with django_capture_on_commit_callbacks(execute=True):
        run = simulation_services.simulation_start(actor=owner, table_id=known["v2"].pk, start=start, end=end)
    run.refresh_from_db()
    assert run.status == SimulationStatus.DONE, run.error
    result = run.result
    assert result["evaluated"] == 5 and run.total == 5 and run.progress == 5
    assert result["changed"] == 2
    assert result["counts"]["amount_up"] == 1 and result["counts"]["action"] == 1
    assert result["counts"]["unchanged"] == 2 and result["counts"]["error"] == 1
    assert result["totals"] == [{"kind": "goodwill", "currency": "EUR", "then": "85.00", "now": "42.00", "delta": "-43.00"}]
    segments = {row["segment"]: row for row in result["segments"]}
    assert segments["business"]["delta"] == "-45.00" and segments["business"]["changed"] == 1
    assert segments["private"]["delta"] == "2.00" and segments["private"]["records"] == 3
    example = result["examples"]["action"][0]
    assert example["record"] == known["records"]["action"].pk
    assert example["then"] == {"action": "goodwill_credit", "amount": "45.00", "rules": []}
    assert example["now"]["action"] == "billing_review" and example["now"]["rules"] == ["large-amount"]
    assert result["examples"]["amount_up"][0]["delta"] == "2.00"
    assert "unchanged" not in result["examples"]


@pytest.mark.django_db
def test_progress_is_stored_per_chunk(known: dict[str, Any], make_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    owner = make_user("process_owner")
    monkeypatch.setattr(simulation_services, "CHUNK", 2)
    monkeypatch.setattr(simulation_services, "enqueue_on_commit", lambda *args, **kwargs: None)
    start, end = period()
    run = simulation_services.simulation_start(actor=owner, table_id=known["v2"].pk, start=start, end=end)
    seen: list[tuple[str, int, int]] = []
    original = simulation_services._tally_chunk

    def watch(*args: Any) -> None:
        row = Simulation.objects.get(pk=run.pk)
        seen.append((row.status, row.progress, row.total))
        original(*args)

    monkeypatch.setattr(simulation_services, "_tally_chunk", watch)
    done = simulation_services.simulation_run(simulation_id=run.pk)
    assert seen == [("running", 0, 5), ("running", 2, 5), ("running", 4, 5)]
    assert done is not None and done.status == "done" and done.progress == 5
    assert done.started_at and done.finished_at
    assert simulation_services.simulation_run(simulation_id=run.pk) is None  # claimed once only


@pytest.mark.django_db
def test_refusals(known: dict[str, Any], make_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    owner = make_user("process_owner")
    monkeypatch.setattr(simulation_services, "enqueue_on_commit", lambda *args, **kwargs: None)
    start, end = period()
    with pytest.raises(ValidationFailed):
        simulation_services.simulation_start(actor=owner, table_id=known["v2"].pk, start=end, end=start)
    with pytest.raises(ValidationFailed):
        simulation_services.simulation_start(actor=owner, table_id=known["v2"].pk, start=end - dt.timedelta(days=2000), end=end)
    with pytest.raises(PermissionDenied):
        simulation_services.simulation_start(actor=known["agent"], table_id=known["v2"].pk, start=start, end=end)
    simulation_services.simulation_start(actor=owner, table_id=known["v2"].pk, start=start, end=end)
    with pytest.raises(Conflict):
        simulation_services.simulation_start(actor=owner, table_id=known["v2"].pk, start=start, end=end)
    # Another period, or the same once the first run has finished, is fine.
    simulation_services.simulation_start(actor=owner, table_id=known["v2"].pk, start=start + dt.timedelta(days=1), end=end)
    Simulation.objects.filter(period_start=start).update(status="done")
    simulation_services.simulation_start(actor=owner, table_id=known["v2"].pk, start=start, end=end)
    # A run abandoned by a killed worker (requested over an hour ago) gives way to a new start.
    Simulation.objects.filter(period_start=start, status="queued").update(
        status="running", requested_at=timezone.now() - dt.timedelta(hours=2)
    )
    fresh = simulation_services.simulation_start(actor=owner, table_id=known["v2"].pk, start=start, end=end)
    assert Simulation.objects.filter(period_start=start, status="failed", error="abandoned").count() == 1
    assert fresh.status == "queued"
    broken = f.table(key="broken", version=1, status="draft", jdm={"nodes": []})
    with pytest.raises(ValidationFailed):
        simulation_services.simulation_start(actor=owner, table_id=broken.pk, start=start, end=end)


@pytest.mark.django_db(transaction=True)
def test_two_starts_at_once_one_is_refused(make_user: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.concurrency import in_parallel, shared_database

    owner = make_user("process_owner")
    table = f.table(version=1, status="draft")
    monkeypatch.setattr(simulation_services, "enqueue_on_commit", lambda *args, **kwargs: None)
    start, end = period()

    def work(index: int) -> str:
        try:
            simulation_services.simulation_start(actor=owner, table_id=table.pk, start=start, end=end)
        except Conflict:
            return "refused"
        return "started"

    with shared_database(tmp_path):
        outcomes = in_parallel(work, 2)
        assert sorted(outcomes) == ["refused", "started"]
        assert Simulation.objects.filter(table=table).count() == 1


@pytest.mark.django_db
def test_pages(known: dict[str, Any], make_user: Any, client_for: Any, django_capture_on_commit_callbacks: Any) -> None:
    owner = client_for(make_user("process_owner"))
    start, end = period()
    assert owner.get(reverse("decisions_analytics:simulations")).status_code == 200
    bad = owner.post(reverse("decisions_analytics:simulations"), {"table": known["v2"].pk, "start": end, "end": start})
    assert bad.status_code == 200 and "The period ends before it starts." in bad.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(reverse("decisions_analytics:simulations"), {"table": known["v2"].pk, "start": start, "end": end})
    assert response.status_code == 302
    page = owner.get(response["Location"])
    text = page.content.decode()
    assert 'data-status="done"' in text and 'data-testid="changed">2<' in text and "-43.00" in text
    assert "hx-trigger" not in text
    queued = Simulation.objects.create(table=known["v1"], period_start=start, period_end=end, requested_at=timezone.now())
    polling = owner.get(reverse("decisions_analytics:simulation", args=[queued.pk]), HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 1s"' in polling.content.decode() and "<html" not in polling.content.decode()
    assert client_for(make_user("quality_manager")).get(reverse("decisions_analytics:simulations")).status_code == 403


def test_classify() -> None:
    assert whatif.classify({"action": "a", "recommended_amount": 1}, {"action": "a", "recommended_amount": 1}) == "unchanged"
    assert whatif.classify({"action": "a", "rationale_en": "x"}, {"action": "a", "rationale_en": "y"}) == "unchanged"
    assert whatif.classify({"action": "a"}, {}) == "no_rule"
    assert whatif.classify({"action": "a", "recommended_amount": 1}, {"action": "a", "recommended_amount": 0}) == "amount_down"
    assert whatif.classify({"action": "a", "approval_needed": False}, {"action": "a", "approval_needed": True}) == "other"
    assert whatif.classify([{"points": 1}], [{"points": 2}]) == "other"
    tally = whatif.Tally(default_kind="goodwill")
    past = whatif.Past(1, 1, "R-1", "private", "EUR", {"refund_type": "redress", "action": "refund", "recommended_amount": 10})
    tally.add(past, {"refund_type": "redress", "action": "refund", "recommended_amount": 20}, ["r"])
    assert tally.result()["totals"] == [{"kind": "redress", "currency": "EUR", "then": "10.00", "now": "20.00", "delta": "10.00"}]
    assert Decimal(tally.result()["segments"][0]["delta"]) == Decimal(10)
