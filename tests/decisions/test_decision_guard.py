"""Processes and decisions: the guard field `case.decision_pending` (the shipped complaint
is not closed while a decision awaits approval), through the service, the case page and the
API (422 with the reason); read only where a guard of the case's state asks for it."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from leitplanke.cases import process as case_process
from leitplanke.cases import services as case_services
from leitplanke.cases.models import Case
from leitplanke.cases.services import TransitionNotAvailable
from leitplanke.decisions import approval_services
from leitplanke.decisions.models import RecordStatus

from .conftest import make_record

CLOSING = {"outcome": "partly_upheld", "root_cause": "billing", "resolution_summary": "Gutschrift erteilt."}


@pytest.fixture
def pending(setup):
    """The setup's complaint, resolved, with a goodwill decision of 250 EUR (above the agent's
    100) waiting for the team lead's approval."""
    case = case_services.case_transition(actor=setup["agent"], case=setup["case"], transition="resolve")
    record = make_record(case, setup["agent"], 250, status=RecordStatus.PENDING)
    approval = approval_services.approval_request_open(record=record, reasons=["above_authority"], actor=setup["agent"])
    return {**setup, "case": Case.objects.get(pk=case.pk), "record": record, "approval": approval}


def test_closing_is_refused_while_pending_and_allowed_after_approval(pending):
    agent, case = pending["agent"], pending["case"]
    for language, text in (
        ("en", "condition not met: no decision awaiting approval"),
        ("de", "Bedingung nicht erfüllt: keine Entscheidung wartet auf Freigabe"),
    ):
        with translation.override(language), pytest.raises(TransitionNotAvailable) as refused:
            case_services.case_transition(actor=agent, case=case, transition="close", fields=CLOSING)
        assert refused.value.field_errors == {"transition": [text]}
    assert Case.objects.get(pk=case.pk).status == "resolved"
    approval_services.approval_decide(actor=pending["lead"], approval=pending["approval"], action="approve")
    closed = case_services.case_transition(actor=agent, case=Case.objects.get(pk=case.pk), transition="close", fields=CLOSING)
    assert closed.status == "closed"


def test_a_rejected_decision_no_longer_blocks(pending):
    approval_services.approval_decide(actor=pending["lead"], approval=pending["approval"], action="reject", comment="Zu hoch")
    case = Case.objects.get(pk=pending["case"].pk)
    assert case_services.case_transition(actor=pending["agent"], case=case, transition="close", fields=CLOSING).status == "closed"


def test_case_page_shows_the_blocked_close_with_its_reason(pending, client_for):
    page = client_for(pending["agent"]).get(f"/cases/{pending['case'].pk}/").content.decode()
    assert 'data-transition="close"' in page and "condition not met: no decision awaiting approval" in page


def test_api_answers_422_with_the_reason_in_both_languages(pending, api_client_for):
    client = api_client_for(pending["agent"])
    url = f"/api/v1/cases/{pending['case'].pk}/transitions"
    close = {item["key"]: item for item in client.get(url).json()}["close"]
    assert close["available"] is False
    guard = next(r for r in close["reasons"] if r["code"] == "guard")
    assert (guard["text_en"], guard["text_de"]) == (
        "condition not met: no decision awaiting approval",
        "Bedingung nicht erfüllt: keine Entscheidung wartet auf Freigabe",
    )
    response = client.post(
        url, json.dumps({"transition": "close", "fields": CLOSING}), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "transition_not_available"
    assert body["errors"] == [{"pointer": "/transition", "detail": "condition not met: no decision awaiting approval"}]
    assert Case.objects.get(pk=pending["case"].pk).status == "resolved"


def test_the_field_is_read_only_where_a_guard_asks(setup):
    """A new complaint: no step out of "new" reads it, so offering the steps asks nothing of
    the decisions; a resolved one asks once."""
    case = setup["case"]
    with CaptureQueriesContext(connection) as queries:
        case_process.offered(actor=setup["agent"], case=case)
    assert not [q for q in queries.captured_queries if "decisions_decisionrecord" in q["sql"]]
    resolved = case_services.case_transition(actor=setup["agent"], case=case, transition="resolve")
    with CaptureQueriesContext(connection) as queries:
        case_process.offered(actor=setup["agent"], case=resolved)
    assert len([q for q in queries.captured_queries if "decisions_decisionrecord" in q["sql"]]) == 1


def test_the_migration_gives_an_old_install_version_2_with_the_guard(db):
    """An install whose published complaint is the shipped version 1 without the guard gets
    version 2 with it; version 1 is retired, unchanged."""
    import copy
    import importlib

    from django.apps import apps

    from leitplanke.processes.models import ProcessDefinition

    v1 = ProcessDefinition.objects.get(key="complaint", version=1)
    old = copy.deepcopy(v1.definition)
    close = next(t for t in old["transitions"] if t["key"] == "close")
    for key in ("guard", "guard_label_de", "guard_label_en"):
        close.pop(key)
    ProcessDefinition.objects.filter(pk=v1.pk).update(definition=old)
    migration = importlib.import_module("leitplanke.processes.migrations.0002_complaint_close_guard")
    migration.add_guard(apps, None)
    v1.refresh_from_db()
    v2 = ProcessDefinition.objects.get(key="complaint", version=2)
    assert (v1.status, v2.status) == ("retired", "published")
    assert v1.definition == old
    assert next(t for t in v2.definition["transitions"] if t["key"] == "close")["guard"] == "not case.decision_pending"
    migration.add_guard(apps, None)  # again: nothing more
    assert ProcessDefinition.objects.filter(key="complaint").count() == 2
