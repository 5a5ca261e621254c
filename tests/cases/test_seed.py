"""`leitplanke seed --cases N`: the fast bulk path for demo and benchmark data."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

from django.core.management import call_command

from leitplanke.cases.list_selectors import filter_cases
from leitplanke.cases.models import Case, CaseSearchDocument, Interaction, ReferenceCounter
from leitplanke.core.models import AuditEvent
from leitplanke.customers.models import Customer, CustomerPhone


def test_seed_cases_creates_cases_with_sequential_references_and_search_documents(db: Any) -> None:
    out = StringIO()
    call_command("leitplanke_seed", "--cases", "500", stdout=out)
    assert "Seeded 500 cases" in out.getvalue()
    assert Case.objects.count() == 500
    references = list(Case.objects.order_by("id").values_list("reference", "received_at"))
    assert len({ref for ref, _ in references}) == 500
    by_year: dict[int, list[int]] = {}
    for reference, received_at in references:
        match = re.fullmatch(r"LP-(\d{4})-(\d{6})", reference)
        assert match, reference
        assert int(match.group(1)) == received_at.year
        by_year.setdefault(int(match.group(1)), []).append(int(match.group(2)))
    for year, numbers in by_year.items():
        assert numbers == list(range(1, len(numbers) + 1)), year  # in order of receipt, no gaps
        assert ReferenceCounter.objects.get(year=year).last_value == len(numbers)
    assert CaseSearchDocument.objects.count() == 500
    assert 500 <= Interaction.objects.count() <= 2500
    assert Customer.objects.count() >= 100
    assert all(re.fullmatch(r"\+\d{8,15}", n) for n in CustomerPhone.objects.values_list("number", flat=True))
    assert filter_cases(Case.objects.all(), {"q": "Zählerstand"}).exists()
    assert filter_cases(Case.objects.all(), {"q": "meter reading"}).exists()
    assert AuditEvent.objects.filter(action="seed.bulk_cases").count() == 1


def test_seed_without_cases_loads_demo_cases_once_and_if_empty_keeps_them(db: Any, settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from leitplanke.demo.management.commands import leitplanke_seed

    leitplanke_seed.DEMO_CASES, original = 40, leitplanke_seed.DEMO_CASES
    try:
        call_command("leitplanke_seed", "--if-empty", stdout=StringIO())
        assert Case.objects.count() == 40
        call_command("leitplanke_seed", "--if-empty", stdout=StringIO())
        call_command("leitplanke_seed", stdout=StringIO())
        assert Case.objects.count() == 40
        call_command("leitplanke_seed", "--cases", "10", stdout=StringIO())
        assert Case.objects.count() == 50
        assert Case.objects.values("reference").distinct().count() == 50
    finally:
        leitplanke_seed.DEMO_CASES = original


def test_seeded_disputed_amounts_are_money_values_the_list_can_filter(db: Any) -> None:
    call_command("leitplanke_seed", "--cases", "400", stdout=StringIO())
    amounts = [c["amount_disputed"] for c in Case.objects.values_list("custom_fields", flat=True) if c]
    assert amounts and all(set(a) == {"amount", "currency"} for a in amounts)
    low = filter_cases(Case.objects.all(), {"case_type": "complaint", "cf.amount_disputed.max": "100"})
    high = filter_cases(Case.objects.all(), {"case_type": "complaint", "cf.amount_disputed.min": "100.01"})
    assert low.count() + high.count() == len(amounts)
    assert all(float(c.custom_fields["amount_disputed"]["amount"]) <= 100 for c in low)


def test_the_demo_starts_the_clocks_of_its_open_cases_with_past_thresholds_handled(db: Any, settings: Any) -> None:
    """Without clocks the agents' default list order (next due first) and the deadline panel
    would show nothing in the demo; old thresholds count as handled, so the escalation job
    does not raise every old case at the first minute."""
    from django.utils import timezone

    from leitplanke.cases.clock_services import escalate_due_clocks
    from leitplanke.cases.models import NO_DUE, CaseClock, StatusKind
    from leitplanke.demo.management.commands import leitplanke_seed

    leitplanke_seed.DEMO_CASES, original = 200, leitplanke_seed.DEMO_CASES
    try:
        call_command("leitplanke_seed", stdout=StringIO())
    finally:
        leitplanke_seed.DEMO_CASES = original
    open_cases = Case.objects.filter(status_kind__in=[StatusKind.OPEN, StatusKind.WAITING])
    with_rules = open_cases.exclude(case_type__deadline_rules=[])
    assert with_rules.exists()
    assert not with_rules.filter(clocks__isnull=True).exists()
    assert not with_rules.filter(status_kind=StatusKind.OPEN, next_due_at=NO_DUE).exists()  # waiting: maybe all paused
    now = timezone.now()
    assert not CaseClock.objects.filter(state="running", due_at__lte=now, breach_notified_at__isnull=True).exists()
    assert escalate_due_clocks(now=now) == {"warning": 0, "breach": 0}


def test_the_demo_pauses_the_clocks_of_its_waiting_cases_from_when_they_began_to_wait(db: Any) -> None:
    """A waiting case's clocks are paused as its process state prescribes (a waiting state
    naming no clocks pauses those whose rule lets pauses stop them: the internal first
    response, not the statutory EnWG period), from its last status change; an open case's
    clocks run."""
    import datetime as dt

    from django.utils import timezone

    from leitplanke.cases.models import CaseClock, CaseType, StatusKind
    from leitplanke.demo.clocks import seed_demo_clocks

    call_command("leitplanke_seed", "--cases", "300", stdout=StringIO())
    CaseType.objects.filter(key="complaint").update(deadline_rules=["internal_first_response", "enwg_111a"])
    complaints = Case.objects.filter(case_type__key="complaint")
    waiting = complaints.filter(status_kind=StatusKind.WAITING).order_by("-received_at").first()
    running = complaints.filter(status_kind=StatusKind.OPEN).order_by("-received_at").first()
    assert waiting is not None and running is not None
    Interaction.objects.filter(case=waiting, kind="status_change").delete()
    entered = max(waiting.received_at, timezone.now() - dt.timedelta(days=2))
    Interaction.objects.create(
        case=waiting, kind="status_change", occurred_at=entered, data={"from": "new", "to": waiting.status}
    )
    now = timezone.now()
    assert seed_demo_clocks(now=now) > 0
    clocks = {c.rule_key: c for c in CaseClock.objects.filter(case=waiting)}
    first = clocks["internal_first_response"]
    assert first.state == "paused" and first.paused_since == entered
    assert first.explanation["paused_since"] is not None
    assert clocks["enwg_111a"].state == "running"  # the statutory period runs on (its rule ignores pauses)
    assert {c.state for c in CaseClock.objects.filter(case=running)} == {"running"}
    waiting.refresh_from_db()
    assert waiting.next_due_at == clocks["enwg_111a"].due_at  # only running clocks count
