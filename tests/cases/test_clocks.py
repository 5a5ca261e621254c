"""Deadline clocks on cases: started at receipt by the case type's rules (the version valid
on that day), paused in waiting states, stopped as met or breached, started again by a
customer's message on a closed case; GET /api/v1/cases/{id}/clocks."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from leitplanke.cases import services
from leitplanke.cases.models import CaseClock, CaseType
from leitplanke.core.models import AuditEvent
from leitplanke.deadlines.models import DeadlineRule

# What closing a complaint asks for (its process requires it).
CLOSING = {"outcome": "upheld", "root_cause": "billing", "resolution_summary": "Korrigiert."}

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def agent(make_user: Any, team_a: Any) -> Any:
    return make_user("agent", teams=[team_a])


@pytest.fixture
def energy_complaint(complaint_type: CaseType) -> CaseType:
    complaint_type.deadline_rules = ["enwg_111a", "internal_first_response"]
    complaint_type.save()
    return complaint_type


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch):
    """Sets the case services' "now" to a fixed instant (the audit log keeps the real time:
    its guard insists on it)."""

    def set_now(value: dt.datetime) -> None:
        monkeypatch.setattr(services, "timezone", SimpleNamespace(**{**vars(timezone), "now": lambda: value}))

    return set_now


def clocks(case) -> dict[str, CaseClock]:
    return {c.rule_key: c for c in CaseClock.objects.filter(case=case).order_by("id")}


def test_a_new_case_starts_its_types_clocks_at_receipt(make_case, agent, team_a, energy_complaint):
    received = dt.datetime(2026, 1, 31, 10, tzinfo=BERLIN)  # a Saturday
    case = make_case(actor=agent, team=team_a, received_at=received)
    found = clocks(case)
    assert set(found) == {"enwg_111a", "internal_first_response"}
    enwg = found["enwg_111a"]
    assert enwg.started_at == received
    assert enwg.due_at.astimezone(BERLIN).date() == dt.date(2026, 3, 2)  # 4 weeks, BGB § 193
    assert enwg.explanation["roll"]["source"] == "BGB § 193"
    assert enwg.explanation["calendar"]["jurisdiction"] == "DE-NW"  # the organisation's region
    assert enwg.state == "running" and enwg.rule.version == 1
    first = found["internal_first_response"]
    assert first.due_at == dt.datetime(2026, 2, 2, 17, tzinfo=BERLIN)  # 8 business hours from Monday 09:00


def test_a_rule_changed_by_the_regulator_applies_to_complaints_received_after_the_change(
    make_case, agent, team_a, energy_complaint
):
    old = DeadlineRule.objects.get(key="enwg_111a", version=1)
    old.valid_to = dt.date(2026, 2, 28)
    old.save()
    DeadlineRule.objects.create(
        key="enwg_111a", version=2, name_de="EnWG neu", name_en="EnWG new", valid_from=dt.date(2026, 3, 1),
        country="DE", parameters={**old.parameters, "duration": 2},
    )  # fmt: skip
    before = make_case(actor=agent, team=team_a, received_at=dt.datetime(2026, 2, 27, 10, tzinfo=BERLIN))
    after = make_case(actor=agent, team=team_a, received_at=dt.datetime(2026, 3, 2, 10, tzinfo=BERLIN))
    assert clocks(before)["enwg_111a"].rule.version == 1
    assert clocks(before)["enwg_111a"].due_at.astimezone(BERLIN).date() == dt.date(2026, 3, 27)
    assert clocks(after)["enwg_111a"].rule.version == 2
    assert clocks(after)["enwg_111a"].due_at.astimezone(BERLIN).date() == dt.date(2026, 3, 16)


def test_waiting_pauses_only_the_clocks_whose_rule_allows_it_and_resuming_moves_the_due_time(
    make_case, agent, team_a, energy_complaint, at
):
    received = dt.datetime(2026, 1, 12, 9, tzinfo=BERLIN)  # Monday
    at(received)
    case = make_case(actor=agent, team=team_a, received_at=received)
    assert clocks(case)["internal_first_response"].due_at == dt.datetime(2026, 1, 12, 17, tzinfo=BERLIN)
    at(dt.datetime(2026, 1, 12, 11, tzinfo=BERLIN))
    case = services.case_transition(actor=agent, case=case, transition="wait")
    found = clocks(case)
    assert found["internal_first_response"].state == "paused"
    assert found["enwg_111a"].state == "running"  # EnWG § 111a has no clock stop
    at(dt.datetime(2026, 1, 13, 11, tzinfo=BERLIN))  # one business day later
    case = services.case_transition(actor=agent, case=case, transition="resume")
    first = clocks(case)["internal_first_response"]
    assert first.state == "running" and first.paused_since is None
    assert first.due_at == dt.datetime(2026, 1, 13, 17, tzinfo=BERLIN)  # moved by the 8 paused business hours
    assert first.pauses[0]["reason"] == "waiting"
    assert any(s["reason"] == "pause" for s in first.explanation["skipped"]) or first.explanation["pauses"]
    # the clock changes are part of each transition's audit event
    transitions = AuditEvent.objects.filter(action="case.transition").order_by("id")
    assert [event.after.get("clocks") for event in transitions] == [
        {"internal_first_response": "paused"},
        {"internal_first_response": "running"},
    ]


def test_resolving_stops_clocks_as_met_or_breached(make_case, agent, team_a, energy_complaint, at):
    received = dt.datetime(2026, 1, 12, 9, tzinfo=BERLIN)
    at(received)
    case = make_case(actor=agent, team=team_a, received_at=received)
    at(dt.datetime(2026, 1, 14, 10, tzinfo=BERLIN))  # after the first-response target, within 4 weeks
    case = services.case_transition(actor=agent, case=case, transition="resolve")
    found = clocks(case)
    assert found["enwg_111a"].state == "met"
    assert found["internal_first_response"].state == "breached"
    assert found["enwg_111a"].stopped_at == dt.datetime(2026, 1, 14, 10, tzinfo=BERLIN)


def test_reopening_continues_the_stopped_clocks(make_case, agent, team_a, energy_complaint, at):
    at(dt.datetime(2026, 1, 12, 9, tzinfo=BERLIN))
    case = make_case(actor=agent, team=team_a, received_at=dt.datetime(2026, 1, 12, 9, tzinfo=BERLIN))
    at(dt.datetime(2026, 1, 12, 10, tzinfo=BERLIN))
    case = services.case_transition(actor=agent, case=case, transition="resolve")
    due = clocks(case)["enwg_111a"].due_at
    at(dt.datetime(2026, 1, 20, 10, tzinfo=BERLIN))
    case = services.case_transition(actor=agent, case=case, transition="reopen")
    enwg = clocks(case)["enwg_111a"]
    assert enwg.state == "running" and enwg.due_at == due and enwg.stopped_at is None
    assert CaseClock.objects.filter(case=case).count() == 2


def test_a_customer_message_on_a_closed_case_starts_the_clocks_from_its_arrival(make_case, agent, team_a, energy_complaint, at):
    at(dt.datetime(2026, 1, 12, 9, tzinfo=BERLIN))
    case = make_case(actor=agent, team=team_a, received_at=dt.datetime(2026, 1, 12, 9, tzinfo=BERLIN))
    case = services.case_transition(actor=agent, case=case, transition="resolve")
    case = services.case_transition(actor=agent, case=case, transition="close", fields=CLOSING)
    arrived = dt.datetime(2026, 3, 2, 8, 30, tzinfo=BERLIN)
    at(dt.datetime(2026, 3, 2, 9, 15, tzinfo=BERLIN))
    services.interaction_add(actor=None, case=case, kind="inbound_message", body_text="Schon wieder falsch!", occurred_at=arrived)
    live = CaseClock.objects.filter(case=case, state="running")
    assert {c.rule_key for c in live} == {"enwg_111a", "internal_first_response"}
    assert all(c.started_at == arrived for c in live)
    assert live.get(rule_key="enwg_111a").explanation["started_because"] == "message_on_closed_case"
    # a second message does not start them again
    services.interaction_add(actor=None, case=case, kind="inbound_message", body_text="Hallo?", occurred_at=arrived)
    assert CaseClock.objects.filter(case=case, state="running").count() == 2


def test_a_reply_on_a_waiting_case_ends_the_pause(make_case, agent, team_a, energy_complaint, at):
    at(dt.datetime(2026, 1, 12, 9, tzinfo=BERLIN))
    case = make_case(actor=agent, team=team_a, received_at=dt.datetime(2026, 1, 12, 9, tzinfo=BERLIN))
    at(dt.datetime(2026, 1, 12, 10, tzinfo=BERLIN))
    case = services.case_transition(actor=agent, case=case, transition="wait")
    at(dt.datetime(2026, 1, 12, 14, tzinfo=BERLIN))
    services.interaction_add(actor=None, case=case, kind="inbound_message", body_text="Hier die Zählernummer")
    first = clocks(case)["internal_first_response"]
    assert first.state == "running"
    assert first.due_at == dt.datetime(2026, 1, 13, 13, tzinfo=BERLIN)  # 4 paused business hours added


def test_a_case_type_without_rules_starts_no_clocks(make_case, agent, team_a, complaint_type):
    complaint_type.deadline_rules = []
    complaint_type.save()
    case = make_case(actor=agent, team=team_a)
    assert not CaseClock.objects.filter(case=case).exists()


def test_the_clocks_api(make_case, agent, team_a, energy_complaint, api_client_for, make_user):
    case = make_case(actor=agent, team=team_a, received_at=dt.datetime(2026, 1, 31, 10, tzinfo=BERLIN))
    response = api_client_for(agent, scopes=("read",)).get(f"/api/v1/cases/{case.reference}/clocks")
    assert response.status_code == 200, response.content
    body = {c["rule_key"]: c for c in response.json()}
    enwg = body["enwg_111a"]
    assert dt.datetime.fromisoformat(enwg["due_at"]) == dt.datetime(2026, 3, 2, 23, 59, 59, 999000, tzinfo=BERLIN)
    assert enwg["overdue"] is True and enwg["state"] == "running"
    assert enwg["time_left"]["unit"] == "days" and enwg["time_left"]["value"] < 0
    assert enwg["explanation"]["rule"]["key"] == "enwg_111a"
    assert enwg["legal_basis"].startswith("EnWG")
    # someone who cannot see the case gets 404
    stranger = make_user("agent", email="other@example.org")
    assert api_client_for(stranger, scopes=("read",)).get(f"/api/v1/cases/{case.pk}/clocks").status_code == 404


def test_the_case_page_shows_the_deadlines_panel_with_the_explanation(make_case, agent, team_a, energy_complaint, client_for):
    case = make_case(actor=agent, team=team_a, received_at=dt.datetime(2026, 1, 31, 10, tzinfo=BERLIN))
    client = client_for(agent)
    response = client.get(f"/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="deadlines"' in html
    assert "Energy complaint (EnWG § 111a, 4 weeks)" in html
    assert "Overdue" in html  # received in January, the page is looked at later
    assert "How this due time was computed" in html
    assert "BGB § 193" in html  # the end roll, in the explanation
    assert "Not counted:" in html or "The period ended on" in html


def test_the_case_page_has_no_deadlines_panel_without_clocks(make_case, agent, team_a, complaint_type, client_for):
    complaint_type.deadline_rules = []
    complaint_type.save()
    case = make_case(actor=agent, team=team_a)
    html = client_for(agent).get(f"/cases/{case.pk}/").content.decode()
    assert 'id="deadlines"' not in html


def test_the_list_sorts_next_due_first_and_marks_overdue_and_at_risk(make_case, agent, team_a, energy_complaint, client_for):
    now = timezone.now()
    overdue = make_case(actor=agent, team=team_a, subject="Alt", received_at=now - dt.timedelta(days=60))
    fresh = make_case(actor=agent, team=team_a, subject="Neu", received_at=now - dt.timedelta(minutes=1))
    energy_complaint.deadline_rules = []
    energy_complaint.save()
    without = make_case(actor=agent, team=team_a, subject="Ohne Frist", received_at=now - dt.timedelta(minutes=2))
    assert overdue.next_due_at < fresh.next_due_at < without.next_due_at
    client = client_for(agent)
    html = client.get("/cases/?sort=due", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    positions = [html.index(subject) for subject in ("Alt", "Neu", "Ohne Frist")]
    assert positions == sorted(positions)
    assert "Next due first" in html
    assert html.count('class="badge badge-danger"') >= 1
    only_overdue = client.get("/cases/?deadline=overdue").content.decode()
    assert ">Alt<" in only_overdue and ">Neu<" not in only_overdue and "Ohne Frist" not in only_overdue
    running = client.get("/cases/?deadline=running").content.decode()
    assert "Ohne Frist" not in running and ">Neu<" in running


def test_next_due_follows_the_clocks(make_case, agent, team_a, energy_complaint, at):
    from leitplanke.cases.models import NO_DUE, Case

    at(dt.datetime(2026, 1, 12, 9, tzinfo=BERLIN))
    case = make_case(actor=agent, team=team_a, received_at=dt.datetime(2026, 1, 12, 9, tzinfo=BERLIN))
    assert Case.objects.get(pk=case.pk).next_due_at == dt.datetime(2026, 1, 12, 17, tzinfo=BERLIN)  # first response
    case = services.case_transition(actor=agent, case=case, transition="wait")
    # the first-response clock pauses; the EnWG clock runs on and is now the earliest
    assert Case.objects.get(pk=case.pk).next_due_at == clocks(case)["enwg_111a"].due_at
    case = services.case_transition(actor=agent, case=case, transition="resolve")
    assert Case.objects.get(pk=case.pk).next_due_at == NO_DUE


@pytest.mark.django_db(transaction=True)
def test_two_messages_at_once_on_a_closed_case_start_one_set_of_clocks(make_case, complaint_type, tmp_path):
    from tests.concurrency import in_parallel, shared_database

    complaint_type.deadline_rules = ["enwg_111a", "internal_first_response"]
    complaint_type.save()
    case = make_case(received_at=timezone.now() - dt.timedelta(days=3))
    case = services.case_transition(actor=None, case=case, transition="resolve")
    case = services.case_transition(actor=None, case=case, transition="close", fields=CLOSING)

    def work(index: int) -> None:
        from django.db import connection

        from leitplanke.cases.models import Case

        try:
            services.interaction_add(
                actor=None, case=Case.objects.get(pk=case.pk), kind="inbound_message", body_text=f"Nachricht {index}"
            )
        finally:
            connection.close()

    with shared_database(tmp_path):
        in_parallel(work, 4)
        assert CaseClock.objects.filter(case=case, state="running").count() == 2


def test_the_acknowledgement_can_state_when_the_customer_hears_back(make_case, agent, team_a, energy_complaint):
    from leitplanke.intake.replies import PLACEHOLDERS, placeholder_values, render_template_text

    assert {"response_due_date", "response_period"} <= set(PLACEHOLDERS)
    case = make_case(actor=agent, team=team_a, received_at=dt.datetime(2026, 1, 31, 10, tzinfo=BERLIN), language="en")
    values = placeholder_values(case)
    # the regulatory clock (EnWG, 4 weeks) rather than the internal targets
    assert values["response_period"] == "4 weeks"
    assert values["response_due_date"] == "2 March 2026"
    text = render_template_text("You will hear from us by {{ response_due_date }} ({{ response_period }}).", values)
    assert text == "You will hear from us by 2 March 2026 (4 weeks)."


def test_a_new_cases_acknowledgement_takes_the_clocks_just_written(make_case, agent, team_a, energy_complaint):
    """case_create hands its clocks on (the acknowledgement of a new e-mail case reads no clock
    back): the same placeholder values as from the stored clocks."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from leitplanke.cases.models import Case
    from leitplanke.intake.replies import placeholder_values

    case = make_case(actor=agent, team=team_a, received_at=dt.datetime(2026, 1, 31, 10, tzinfo=BERLIN), language="en")
    assert case.created_clocks
    with CaptureQueriesContext(connection) as captured:
        given = placeholder_values(case, clocks=case.created_clocks)
    assert not [q for q in captured.captured_queries if "cases_caseclock" in q["sql"]]
    stored = placeholder_values(Case.objects.get(pk=case.pk))
    assert {k: v for k, v in given.items() if k != "status_url"} == {k: v for k, v in stored.items() if k != "status_url"}
    assert given["response_due_date"] == "2 March 2026"


@pytest.fixture
def payment_complaint(complaint_type: CaseType) -> CaseType:
    complaint_type.deadline_rules = ["psd2_de"]
    complaint_type.save()
    return complaint_type


def test_a_holding_reply_extends_a_psd2_clock_to_35_business_days(make_case, agent, team_a, payment_complaint, api_client_for):
    received = timezone.now() - dt.timedelta(days=2)
    case = make_case(actor=agent, team=team_a, received_at=received)
    clock = clocks(case)["psd2_de"]
    original = clock.due_at
    client = api_client_for(agent)
    url = f"/api/v1/cases/{case.pk}/clocks/{clock.pk}/extensions"
    listed = client.get(f"/api/v1/cases/{case.pk}/clocks").json()[0]
    assert listed["available_extensions"] == ["holding_reply"]
    response = client.post(
        url, {"event": "holding_reply", "note": "Rückfrage bei der Partnerbank"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["explanation"]["extension"]["applied"] is True
    assert body["available_extensions"] == []
    clock.refresh_from_db()
    assert clock.due_at > original and clock.extensions[0]["event"] == "holding_reply"
    assert AuditEvent.objects.filter(action="case.clock_extend").exists()
    # unknown extension, and a read-only token, are refused
    bad = client.post(url, {"event": "gdpr_notice"}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/event"
    read_only = api_client_for(agent, scopes=("read",)).post(url, {"event": "holding_reply"}, content_type="application/json")
    assert read_only.status_code == 403


def test_an_extension_after_the_due_time_is_refused(make_case, agent, team_a, payment_complaint, api_client_for):
    case = make_case(actor=agent, team=team_a, received_at=timezone.now() - dt.timedelta(days=60))
    clock = clocks(case)["psd2_de"]
    response = api_client_for(agent).post(
        f"/api/v1/cases/{case.pk}/clocks/{clock.pk}/extensions", {"event": "holding_reply"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/at"


def test_the_case_page_records_a_holding_reply(make_case, agent, team_a, payment_complaint, client_for):
    case = make_case(actor=agent, team=team_a, received_at=timezone.now() - dt.timedelta(days=1))
    client = client_for(agent)
    html = client.get(f"/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Record holding reply" in html
    clock = clocks(case)["psd2_de"]
    response = client.post(f"/cases/{case.pk}/clocks/{clock.pk}/extend/", {"event": "holding_reply"})
    assert response.status_code == 302
    clock.refresh_from_db()
    page = client.get(f"/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert clock.extensions and "Record holding reply" not in page
    assert "Deadline extended: psd2_de (holding_reply)" in page


def test_the_api_lists_cases_by_next_due_and_filters_by_deadline(make_case, agent, team_a, energy_complaint, api_client_for):
    now = timezone.now()
    old = make_case(actor=agent, team=team_a, received_at=now - dt.timedelta(days=60))
    new = make_case(actor=agent, team=team_a, received_at=now - dt.timedelta(minutes=5))
    client = api_client_for(agent, scopes=("read",))
    listed = client.get("/api/v1/cases?ordering=next_due_at").json()["items"]
    assert [c["id"] for c in listed][:2] == [old.pk, new.pk]
    overdue = client.get("/api/v1/cases?deadline=overdue").json()["items"]
    assert [c["id"] for c in overdue] == [old.pk]
    assert client.get("/api/v1/cases?deadline=soon").status_code == 422
