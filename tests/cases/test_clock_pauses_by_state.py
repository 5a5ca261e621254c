"""A process state names the clocks it pauses (`pauses` in the definition): entering it
pauses exactly those (where the rule lets pauses stop it), leaving it resumes them; a
waiting state that names none pauses every clock (tested in test_clocks.py)."""

from __future__ import annotations

import copy
import datetime as dt
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from leitplanke.cases import clock_services, services
from leitplanke.cases.models import CaseClock
from leitplanke.processes import services as process_services
from leitplanke.processes.models import ProcessDefinition

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch):
    def set_now(value: dt.datetime) -> None:
        monkeypatch.setattr(services, "timezone", SimpleNamespace(**{**vars(timezone), "now": lambda: value}))

    return set_now


def states(case: Any) -> dict[str, str]:
    return {c.rule_key: c.state for c in CaseClock.objects.filter(case=case).order_by("id")}


@pytest.fixture
def named_pauses(make_user, complaint_type):
    """Complaints whose initial assessment pauses the first-response clock and whose waiting
    state pauses the resolution clock and EnWG § 111a (which has no clock stop)."""
    complaint_type.deadline_rules = ["internal_first_response", "internal_resolution", "enwg_111a"]
    complaint_type.save()
    owner = make_user("process_owner")
    data = copy.deepcopy(ProcessDefinition.objects.get(key="complaint", version=1).definition)
    for state in data["states"]:
        if state["key"] == "assessment":
            state["pauses"] = ["internal_first_response"]
        if state["key"] == "waiting_customer":
            state["pauses"] = ["internal_resolution", "enwg_111a"]
    draft = process_services.definition_create(
        actor=owner, key="complaint", name_de="Beschwerden", name_en="Complaints", definition=data
    )
    process_services.definition_publish(actor=owner, definition=draft)


def test_a_state_pauses_exactly_the_clocks_it_names(named_pauses, make_case, make_user, team_a, at):
    agent = make_user("agent", teams=[team_a])
    received = dt.datetime(2026, 1, 12, 9, tzinfo=BERLIN)  # Monday
    at(received)
    case = make_case(actor=agent, team=team_a, received_at=received)
    at(received + dt.timedelta(hours=1))
    case = services.case_transition(actor=agent, case=case, transition="assess")  # an open state that names one
    assert states(case) == {"internal_first_response": "paused", "internal_resolution": "running", "enwg_111a": "running"}
    at(received + dt.timedelta(hours=2))
    case = services.case_transition(actor=agent, case=case, transition="wait")
    # first response resumes (the old state paused it, the new one does not); resolution
    # pauses; EnWG § 111a runs on: its rule does not let pauses stop it
    assert states(case) == {"internal_first_response": "running", "internal_resolution": "paused", "enwg_111a": "running"}
    first = CaseClock.objects.get(case=case, rule_key="internal_first_response")
    # 8 business hours from Monday 09:00 end at 17:00; one paused hour moves it to Tuesday 10:00
    assert first.due_at == dt.datetime(2026, 1, 13, 10, tzinfo=BERLIN)
    at(received + dt.timedelta(hours=3))
    case = services.case_transition(actor=agent, case=case, transition="resume")
    assert set(states(case).values()) == {"running"}


def test_paused_in_keeps_todays_behaviour_for_a_waiting_state_naming_none():
    assert clock_services.paused_in("waiting") is clock_services.ALL
    assert clock_services.paused_in("open") == frozenset()
    assert clock_services.paused_in("open", ["gdpr_12_3"]) == frozenset({"gdpr_12_3"})
    assert clock_services.paused_in("waiting", ["gdpr_12_3"]) == frozenset({"gdpr_12_3"})
