"""Manual escalation with a reason (services.case_escalate, the case page's form,
POST /api/v1/cases/{id}/escalations): one level up the case's process, refused at the top,
only for those who may edit the case, serialized when two escalate at once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core import mail

from leitplanke.cases import services
from leitplanke.cases.models import Case, Interaction
from leitplanke.core.errors import PermissionDenied, PreconditionFailed
from leitplanke.core.models import AuditEvent

PROBLEM = "application/problem+json"


@pytest.fixture
def setup(make_case, make_user, team_a, team_b):
    lead = make_user("team_lead", email="lead@example.org", teams=[team_a])
    team_a.lead = lead
    team_a.save()
    agent = make_user("agent", email="agent@example.org", teams=[team_a])
    quality = make_user("quality_manager", email="qm@example.org")
    case = make_case(actor=agent, team=team_a, responsible_user=agent)
    return {"agent": agent, "lead": lead, "quality": quality, "case": case, "team_b": team_b}


def escalations(case: Case) -> list[Interaction]:
    return [i for i in Interaction.objects.filter(case=case, kind="system") if i.data.get("event") == "escalated"]


def post_json(client: Any, url: str, body: Any, **headers: str) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


def test_escalating_raises_one_level_records_the_reason_and_tells_the_handlers(setup, django_capture_on_commit_callbacks):
    case, agent = setup["case"], setup["agent"]
    with django_capture_on_commit_callbacks(execute=True):
        services.case_escalate(actor=agent, case=case, reason="Kunde droht mit BaFin.", expected_version=case.version)
    case.refresh_from_db()
    assert case.escalation_level == 1
    [entry] = escalations(case)
    assert entry.author == agent and entry.body_text == "Kunde droht mit BaFin." and entry.data["cause"] == "manual"
    assert entry.data["notified"] == [setup["lead"].pk]
    event = AuditEvent.objects.get(action="case.escalate", object_id=str(case.pk))
    assert event.after["reason"] == "Kunde droht mit BaFin." and event.before["escalation_level"] == 0
    assert [m.to for m in mail.outbox] == [["lead@example.org"]] and "Kunde droht mit BaFin." in mail.outbox[0].body
    assert case.watchers.filter(pk=setup["lead"].pk).exists()
    services.case_escalate(actor=agent, case=case, reason="Keine Einigung.")
    case.refresh_from_db()
    assert case.escalation_level == 2
    [second] = [e for e in escalations(case) if e.data["level"] == 2]
    assert second.data["notified"] == [setup["quality"].pk]  # level 2: quality management


def test_the_event_is_announced(setup, monkeypatch):
    from leitplanke.core import events

    seen: list[tuple[str, dict]] = []
    monkeypatch.setattr(events, "_subscribers", [lambda name, payload: seen.append((name, payload))])
    services.case_escalate(actor=setup["agent"], case=setup["case"], reason="x")
    assert [(n, p["level"]) for n, p in seen if n == "case.escalated"] == [("case.escalated", 1)]


def test_at_the_top_level_it_is_refused_and_nothing_changes(setup):
    case, agent = setup["case"], setup["agent"]
    Case.objects.filter(pk=case.pk).update(escalation_level=2)
    with pytest.raises(services.EscalationNotPossible) as refused:
        services.case_escalate(actor=agent, case=case, reason="noch höher")
    assert refused.value.status == 422 and "escalation_level" in refused.value.field_errors
    case.refresh_from_db()
    assert case.escalation_level == 2 and not escalations(case)


def test_a_reason_is_required_and_the_version_checked(setup):
    from leitplanke.core.errors import ValidationFailed

    case, agent = setup["case"], setup["agent"]
    with pytest.raises(ValidationFailed) as missing:
        services.case_escalate(actor=agent, case=case, reason="  ")
    assert "reason" in missing.value.field_errors
    with pytest.raises(ValidationFailed):
        services.case_escalate(actor=agent, case=case, reason="a\x00b")
    with pytest.raises(PreconditionFailed):
        services.case_escalate(actor=agent, case=case, reason="x", expected_version=case.version - 1)
    case.refresh_from_db()
    assert case.escalation_level == 0


def test_permissions_auditor_may_not_other_team_does_not_see(setup, make_user):
    from leitplanke.core.errors import NotFound

    case = setup["case"]
    with pytest.raises(PermissionDenied):
        services.case_escalate(actor=make_user("auditor"), case=case, reason="x")
    with pytest.raises(NotFound):
        services.case_escalate(actor=make_user("agent", teams=[setup["team_b"]]), case=case, reason="x")


# --- the case page --------------------------------------------------------------------------


def test_the_case_page_offers_the_form_and_escalates(setup, client_for):
    case, agent = setup["case"], setup["agent"]
    client = client_for(agent)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="escalate"' in html and "Raises the case to level 1 (Team lead)" in html
    response = client.post(f"/cases/{case.pk}/escalate/", {"reason": "", "version": case.version})
    assert response.status_code == 422 and "This field is required." in response.content.decode()
    response = client.post(f"/cases/{case.pk}/escalate/", {"reason": "Dringend", "version": case.version})
    assert response.status_code == 302
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Escalated to level 1 (Team lead)." in html and "Dringend" in html


def test_the_case_page_shows_the_top_level_refusal_as_a_form_error(setup, client_for):
    case = setup["case"]
    Case.objects.filter(pk=case.pk).update(escalation_level=2)
    client = client_for(setup["agent"])
    assert 'id="escalate"' not in client.get(f"/cases/{case.pk}/").content.decode()
    response = client.post(f"/cases/{case.pk}/escalate/", {"reason": "x"})
    assert response.status_code == 422
    assert "This case is at the highest escalation level of its process." in response.content.decode()


def test_the_case_page_refuses_the_auditor_and_hides_from_other_teams(setup, client_for, make_user):
    case = setup["case"]
    auditor = client_for(make_user("auditor"))
    assert 'id="escalate"' not in auditor.get(f"/cases/{case.pk}/").content.decode()
    assert auditor.post(f"/cases/{case.pk}/escalate/", {"reason": "x"}).status_code == 403
    other = client_for(make_user("agent", teams=[setup["team_b"]]))
    assert other.post(f"/cases/{case.pk}/escalate/", {"reason": "x"}).status_code == 404
    case.refresh_from_db()
    assert case.escalation_level == 0


# --- the API ----------------------------------------------------------------------------------


def test_api_escalates_with_if_match_and_idempotency_key(setup, api_client_for):
    case = setup["case"]
    client = api_client_for(setup["agent"])
    url = f"/api/v1/cases/{case.pk}/escalations"
    stale = post_json(client, url, {"reason": "x"}, **{"If-Match": f'W/"{case.version - 1}"'})
    assert stale.status_code == 412
    first = post_json(client, url, {"reason": "Dringend"}, **{"If-Match": f'W/"{case.version}"', "Idempotency-Key": "esc-1"})
    assert first.status_code == 200 and first.json()["escalation_level"] == 1
    again = post_json(client, url, {"reason": "Dringend"}, **{"Idempotency-Key": "esc-1"})
    assert again.status_code == 200 and again.json()["escalation_level"] == 1
    case.refresh_from_db()
    assert case.escalation_level == 1 and len(escalations(case)) == 1
    assert first["ETag"] == f'W/"{case.version}"'


def test_api_refusals(setup, api_client_for, make_user):
    case = setup["case"]
    url = f"/api/v1/cases/{case.pk}/escalations"
    client = api_client_for(setup["agent"])
    missing = post_json(client, url, {})
    assert missing.status_code == 422 and missing["Content-Type"].startswith(PROBLEM)
    assert post_json(client, url, {"reason": "x", "extra": 1}).status_code == 422
    auditor = api_client_for(make_user("auditor"), ("read",))
    assert post_json(auditor, url, {"reason": "x"}).status_code == 403
    other = api_client_for(make_user("agent", teams=[setup["team_b"]]))
    assert post_json(other, url, {"reason": "x"}).status_code == 404
    Case.objects.filter(pk=case.pk).update(escalation_level=2)
    top = post_json(client, url, {"reason": "x"})
    assert top.status_code == 422 and top.json()["code"] == "escalation_not_possible"
    case.refresh_from_db()
    assert case.escalation_level == 2 and not escalations(case)


# --- two at once ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_escalations_at_once_raise_one_level_each_never_skipping(make_case, make_user, team_a, tmp_path):
    from tests.concurrency import in_parallel, shared_database

    agent = make_user("agent", teams=[team_a])
    case = make_case(actor=agent, team=team_a)

    def work(index: int) -> int:
        from django.db import connection

        try:
            changed = services.case_escalate(actor=agent, case=Case.objects.get(pk=case.pk), reason=f"Grund {index}")
            return changed.escalation_level
        finally:
            connection.close()

    with shared_database(tmp_path):
        levels = in_parallel(work, 2)
        assert sorted(levels) == [1, 2]
        case.refresh_from_db()
        assert case.escalation_level == 2
        assert sorted((e.data["from_level"], e.data["level"]) for e in escalations(case)) == [(0, 1), (1, 2)]


def test_the_form_and_the_entry_speak_german(setup, client_for, make_user, team_a):
    case = setup["case"]
    german = make_user("agent", teams=[team_a], language="de")
    client = client_for(german)
    response = client.post(f"/cases/{case.pk}/escalate/", {"reason": ""})
    html = response.content.decode()
    assert response.status_code == 422 and "Hebt den Vorgang auf Stufe 1 (Teamleitung)" in html
    client.post(f"/cases/{case.pk}/escalate/", {"reason": "Dringend"})
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Auf Stufe 1 eskaliert (Teamleitung)." in html
    Case.objects.filter(pk=case.pk).update(escalation_level=2)
    html = client.post(f"/cases/{case.pk}/escalate/", {"reason": "x"}).content.decode()
    assert "Dieser Vorgang ist bereits auf der höchsten Eskalationsstufe seines Prozesses." in html
