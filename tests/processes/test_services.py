"""Process definitions in the database and cases running on them through case_transition."""

from __future__ import annotations

import copy
import importlib
from typing import Any

import pytest
from django.apps import apps
from django.utils import translation

from leitplanke.cases import selectors as case_selectors
from leitplanke.cases import services as case_services
from leitplanke.cases.models import Case, Interaction, InteractionKind
from leitplanke.core import events
from leitplanke.core.audit import AuditEvent
from leitplanke.core.errors import Conflict, PermissionDenied, ValidationFailed
from leitplanke.processes import selectors, services
from leitplanke.processes.models import ProcessDefinition, ProcessStatus
from tests.concurrency import in_parallel, shared_database

CLOSING = {"outcome": "partly_upheld", "root_cause": "billing", "resolution_summary": "Gutschrift erteilt."}


def complaint_v1() -> ProcessDefinition:
    return ProcessDefinition.objects.get(key="complaint", version=1)


def draft_of(owner: Any, change: Any = None) -> ProcessDefinition:
    data = copy.deepcopy(complaint_v1().definition)
    if change is not None:
        change(data)
    return services.definition_create(actor=owner, key="complaint", name_de="Beschwerden", name_en="Complaints", definition=data)


def require_redress(data: dict) -> None:
    close = next(t for t in data["transitions"] if t["key"] == "close")
    close["requires"].append("redress_amount")


def to_closed(agent: Any, case: Case, **fields: Any) -> Case:
    case = case_services.case_transition(actor=agent, case=case, transition="start")
    case = case_services.case_transition(actor=agent, case=case, transition="resolve")
    return case_services.case_transition(actor=agent, case=case, transition="close", fields=fields)


def test_shipped_processes_are_published_and_new_cases_start_on_them(make_case: Any, agent: Any, team_a: Any) -> None:
    published = {d.key: d.version for d in ProcessDefinition.objects.filter(status=ProcessStatus.PUBLISHED)}
    assert published == {"complaint": 1, "inquiry": 1, "data_protection": 1}
    case = make_case(actor=agent, team=team_a)
    assert case.process_version == complaint_v1() and case.status == "new"


def test_publish_refuses_an_invalid_draft_naming_every_problem(owner: Any) -> None:
    def breaks(data: dict) -> None:
        data["states"][1]["label_en"] = ""
        close = next(t for t in data["transitions"] if t["key"] == "close")
        close["guard"] = "case.priority >>> 3"
        close["requires"].append("shoe_size")

    draft = draft_of(owner, breaks)
    assert (draft.version, draft.status) == (2, "draft")
    with translation.override("de"), pytest.raises(ValidationFailed) as caught:
        services.definition_publish(actor=owner, definition=draft)
    assert caught.value.code == "definition_invalid"
    assert set(caught.value.field_errors) == {
        "definition/states.acknowledged.label_en",
        "definition/transitions.close.guard",
        "definition/transitions.close.requires",
    }
    assert caught.value.field_errors["definition/transitions.close.requires"] == ["es gibt kein Feld shoe_size"]
    draft.refresh_from_db()
    assert draft.status == "draft" and complaint_v1().status == "published"


def test_publish_retires_the_previous_version_and_published_ones_do_not_change(owner: Any) -> None:
    draft = draft_of(owner, require_redress)
    services.definition_publish(actor=owner, definition=draft)
    assert complaint_v1().status == "retired"
    assert selectors.published("complaint").version == 2
    with pytest.raises(Conflict):
        services.definition_update(actor=owner, definition=draft, data=draft.definition)
    with pytest.raises(Conflict):
        services.definition_publish(actor=owner, definition=complaint_v1())
    actions = list(AuditEvent.objects.filter(object_type__contains="processdefinition").values_list("action", flat=True))
    assert {"process.create", "process.publish", "process.retire"} <= set(actions)


def test_only_process_owners_write_definitions(agent: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.definition_create(actor=agent, key="x", name_de="x", name_en="x", definition={})


def test_running_cases_keep_their_version(owner: Any, agent: Any, make_case: Any, team_a: Any) -> None:
    old = make_case(actor=agent, team=team_a)
    services.definition_publish(actor=owner, definition=draft_of(owner, require_redress))
    new = make_case(actor=agent, team=team_a)
    assert new.process_version.version == 2
    assert to_closed(agent, old, **CLOSING).status == "closed"  # version 1: no redress asked
    with translation.override("en"), pytest.raises(ValidationFailed) as caught:
        to_closed(agent, new, **CLOSING)
    assert caught.value.code == "transition_requirements_missing"
    assert caught.value.field_errors == {"redress_amount": ["requires: Redress amount"]}


def test_missing_closing_fields_are_named_and_nothing_changes(agent: Any, make_case: Any, team_a: Any) -> None:
    case = make_case(actor=agent, team=team_a)
    case = case_services.case_transition(actor=agent, case=case, transition="resolve")
    audit_before = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        case_services.case_transition(
            actor=agent, case=case, transition="close", fields={"outcome": "upheld", "goodwill_amount": "10"}
        )
    assert caught.value.code == "transition_requirements_missing"
    assert set(caught.value.field_errors) == {"root_cause", "resolution_summary"}
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.status, fresh.version, fresh.outcome, fresh.goodwill_amount) == ("resolved", case.version, "", None)
    assert AuditEvent.objects.count() == audit_before


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"outcome": "maybe"}, "outcome"),
        ({"root_cause": "gremlins"}, "root_cause"),
        ({"redress_amount": "-5"}, "redress_amount"),
        ({"goodwill_amount": "1.234"}, "goodwill_amount"),
        ({"goodwill_amount": "NaN"}, "goodwill_amount"),
        ({"currency": "XXX"}, "currency"),
        ({"subject": "sneaky"}, "subject"),
    ],
)
def test_bad_closing_values_are_refused(agent: Any, make_case: Any, team_a: Any, fields: dict, field: str) -> None:
    case = case_services.case_transition(actor=agent, case=make_case(actor=agent, team=team_a), transition="resolve")
    with pytest.raises(ValidationFailed) as caught:
        case_services.case_transition(actor=agent, case=case, transition="close", fields={**CLOSING, **fields})
    assert field in caught.value.field_errors
    assert Case.objects.get(pk=case.pk).status == "resolved"


def test_closing_stores_redress_and_goodwill_apart(agent: Any, make_case: Any, team_a: Any) -> None:
    case = to_closed(
        agent,
        make_case(actor=agent, team=team_a),
        **CLOSING,
        redress_amount="25,50",
        goodwill_amount="10",
        currency="gbp",
    )
    case.refresh_from_db()
    assert (case.outcome, case.root_cause, str(case.redress_amount), str(case.goodwill_amount), case.currency) == (
        "partly_upheld",
        "billing",
        "25.50",
        "10.00",
        "GBP",
    )
    event = AuditEvent.objects.filter(action="case.transition", object_id=str(case.pk)).order_by("id").last()
    assert event.after["outcome"] == "partly_upheld" and event.after["redress_amount"] == "25.50"


def test_guards_roles_and_effects(owner: Any, agent: Any, make_user: Any, make_case: Any, team_a: Any, monkeypatch: Any) -> None:
    def change(data: dict) -> None:
        escalate = next(t for t in data["transitions"] if t["key"] == "escalate")
        escalate["roles"] = ["team_lead"]
        escalate["guard"] = "case.priority >= 3"
        escalate["guard_label_en"] = "high priority"
        escalate["guard_label_de"] = "hohe Priorität"
        escalate["effects"] += [
            {"type": "set_field", "field": "severity", "value": "major"},
            {"type": "clock", "action": "pause", "clock": "internal_resolution"},
            {"type": "send_template", "template": "escalated"},
        ]

    services.definition_publish(actor=owner, definition=draft_of(owner, change))
    lead = make_user("team_lead", teams=[team_a])
    case = make_case(actor=agent, team=team_a, priority=2)

    offered = {o.transition.key: o for o in case_selectors.available_transitions(actor=agent, case=case)}
    assert [r.text("en") for r in offered["escalate"].reasons] == ["only for: team_lead", "condition: high priority"]
    with pytest.raises(PermissionDenied):
        case_services.case_transition(actor=agent, case=case, transition="escalate")
    with translation.override("en"), pytest.raises(ValidationFailed) as caught:
        case_services.case_transition(actor=lead, case=case, transition="escalate")
    assert caught.value.code == "transition_not_available"
    assert caught.value.field_errors == {"transition": ["condition not met: high priority"]}

    clocks: list[dict] = []
    monkeypatch.setattr(case_services, "apply_clock_effect", lambda *, case, effect, at: clocks.append(effect) or {})
    seen: list[tuple[str, dict]] = []
    events.subscribe(handler := lambda name, payload: seen.append((name, payload)))
    try:
        case = case_services.case_update(actor=lead, case=case, priority=3)
        case = case_services.case_transition(actor=lead, case=case, transition="escalate")
    finally:
        events._subscribers.remove(handler)
    case.refresh_from_db()
    assert (case.status, case.escalation_level, case.severity) == ("in_progress", 1, "major")
    assert clocks == [{"type": "clock", "action": "pause", "clock": "internal_resolution"}]
    transitioned = [payload for name, payload in seen if name == "case.transitioned"]
    assert transitioned[-1]["effects"] == [{"type": "send_template", "template": "escalated"}]


def test_system_actor_may_take_role_restricted_steps(owner: Any, make_case: Any, team_a: Any) -> None:
    def change(data: dict) -> None:
        next(t for t in data["transitions"] if t["key"] == "start")["roles"] = ["team_lead"]

    services.definition_publish(actor=owner, definition=draft_of(owner, change))
    case = make_case(actor=None, team=team_a)
    assert case_services.case_transition(actor=None, case=case, transition="start").status == "in_progress"


def test_migration_moves_existing_cases_and_loses_nothing(make_case: Any, agent: Any, team_a: Any) -> None:
    kept = make_case(actor=agent, team=team_a)
    kept = case_services.case_transition(actor=agent, case=kept, transition="wait")
    odd = make_case(actor=agent, team=team_a)
    Case.objects.filter(pk__in=[kept.pk, odd.pk]).update(process_version=None)
    Case.objects.filter(pk=odd.pk).update(status="legacy_hold", status_kind="waiting")
    migration = importlib.import_module("leitplanke.cases.migrations.0012_processes_and_closing")
    migration.move_cases_onto_processes(apps, None)
    kept.refresh_from_db()
    odd.refresh_from_db()
    assert (kept.status, kept.status_kind, kept.process_version) == ("waiting_customer", "waiting", complaint_v1())
    assert (odd.status, odd.status_kind, odd.process_version) == ("waiting_customer", "waiting", complaint_v1())
    note = Interaction.objects.filter(case=odd, kind=InteractionKind.STATUS_CHANGE).last()
    assert note.data == {"transition": "process_migration", "from": "legacy_hold", "to": "waiting_customer"}


@pytest.mark.django_db(transaction=True)
def test_two_publishes_at_once_leave_exactly_one_published(owner: Any, tmp_path: Any) -> None:
    drafts = [draft_of(owner), draft_of(owner)]
    with shared_database(tmp_path):

        def publish(index: int) -> str:
            try:
                services.definition_publish(actor=owner, definition=drafts[index])
            except Conflict:
                return "conflict"
            return "published"

        results = in_parallel(publish, 2)
        statuses = sorted(ProcessDefinition.objects.filter(key="complaint").values_list("status", flat=True))
    assert results == ["published", "published"]
    assert statuses == ["published", "retired", "retired"]


def test_a_case_type_chooses_its_process(owner: Any, make_user: Any, agent: Any, team_a: Any) -> None:
    from leitplanke.cases import catalog_services
    from leitplanke.cases.models import CaseType

    admin = make_user("administrator")
    feedback = CaseType.objects.get(key="feedback")
    with pytest.raises(ValidationFailed) as caught:
        catalog_services.case_type_update(actor=admin, case_type=feedback, process_key="nope")
    assert "process_key" in caught.value.field_errors
    catalog_services.case_type_update(actor=admin, case_type=feedback, process_key="complaint")
    case = case_services.case_create(actor=agent, team=team_a, case_type="feedback", subject="Lob", channel="email")
    assert case.process_version == complaint_v1()
    created = catalog_services.case_type_create(
        actor=admin, key="privacy_b2b", name_de="DS B2B", name_en="DP B2B", process_key="data_protection"
    )
    assert created.process_key == "data_protection"


def test_clock_keys_are_checked_against_the_deadline_rules(owner: Any) -> None:
    """The cases app names the deadline rules' keys at start-up: a clock effect on a rule
    that exists passes, one on an unknown key is a problem with its place."""

    def stopping(clock: str) -> Any:
        def change(data: dict) -> None:
            next(t for t in data["transitions"] if t["key"] == "close")["effects"] = [
                {"type": "clock", "action": "stop", "clock": clock}
            ]

        return change

    assert "fca_disp_final" in (selectors.known_clocks() or [])
    assert selectors.problems("complaint", draft_of(owner, stopping("fca_disp_final")).definition) == []
    problems = selectors.problems("complaint", draft_of(owner, stopping("no_such_rule")).definition)
    assert [(p.place, p.code) for p in problems] == [("transitions.close.effects[0].clock", "unknown_clock")]
