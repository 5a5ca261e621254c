"""The process editor's forms (issue 20 item 3): states, the initial state, new and deleted
steps, a step's checklist and effects, the escalation levels. Each works on a draft only,
through `services.definition_change` (revision check, audit), and answers bad input with a
form error in the user's language that changes nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from leitplanke.core.models import AuditEvent
from leitplanke.processes.models import ProcessDefinition

BASE = "/settings/processes/complaint"


@pytest.fixture
def editor(owner: Any, client_for: Any) -> Any:
    client = client_for(owner)
    assert client.post(f"{BASE}/1/new-draft/")["Location"] == f"{BASE}/2/"
    return client


def draft() -> dict[str, Any]:
    return ProcessDefinition.objects.get(key="complaint", version=2).definition


def revision() -> int:
    return ProcessDefinition.objects.get(key="complaint", version=2).revision


def _state(key: str) -> dict[str, Any] | None:
    return next((s for s in draft()["states"] if s["key"] == key), None)


def _step(key: str) -> dict[str, Any]:
    return next(t for t in draft()["transitions"] if t["key"] == key)


def _management(prefix: str, total: int, initial: int) -> dict[str, Any]:
    return {
        f"{prefix}-TOTAL_FORMS": total,
        f"{prefix}-INITIAL_FORMS": initial,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 50,
    }


STATE = {"key": "legal", "kind": "open", "label_de": "Rechtsabteilung", "label_en": "Legal", "pauses": ["internal_resolution"]}


def test_add_edit_and_delete_a_state(editor: Any) -> None:
    page = editor.get(f"{BASE}/2/new-state/").content.decode()
    # the clocks offered are the deadline rules of the case types on this process
    assert 'value="internal_resolution"' in page and 'value="internal_first_response"' in page
    assert 'value="gdpr_12_3"' not in page
    assert 'id="process-diagram"' in page and 'id="problems"' in page
    before = AuditEvent.objects.filter(action="process.update").count()
    response = editor.post(f"{BASE}/2/new-state/", {**STATE, "revision": 1})
    assert response.status_code == 302 and response["Location"] == f"{BASE}/2/"
    assert _state("legal") == STATE
    assert AuditEvent.objects.filter(action="process.update").count() == before + 1
    # the version page lists it with its form, and the problem list names it as unreachable
    page = editor.get(f"{BASE}/2/").content.decode()
    assert f'href="{BASE}/2/states/legal/"' in page and "<code>states.legal</code>" in page

    # edit: the key stays (a new one would rename it: test_renaming_a_state…), the rest changes
    form = editor.get(f"{BASE}/2/states/legal/").content.decode()
    assert 'value="Rechtsabteilung"' in form and 'name="key" value="legal"' in form
    data = {"key": "legal", "kind": "waiting", "label_de": "Recht", "label_en": "Legal dept.", "revision": 2}
    assert editor.post(f"{BASE}/2/states/legal/", data).status_code == 302
    assert _state("legal") == {"key": "legal", "kind": "waiting", "label_de": "Recht", "label_en": "Legal dept.", "pauses": []}

    # delete
    assert editor.post(f"{BASE}/2/states/legal/delete/", {"revision": 3}).status_code == 302
    assert _state("legal") is None
    assert editor.post(f"{BASE}/2/states/legal/delete/", {"revision": 4}).status_code == 404


def test_deleting_a_state_in_use_or_the_initial_state_is_refused(editor: Any) -> None:
    page = editor.post(f"{BASE}/2/states/assessment/delete/", {"revision": 1}, follow=True).content.decode()
    assert "The state assessment is still used by the steps assess, start, wait, resolve, escalate" in page
    assert _state("assessment") is not None and revision() == 1
    # make "acknowledged" the initial state, then "new" is refused as initial… and in use
    page = editor.post(f"{BASE}/2/states/new/delete/", {"revision": 1}, follow=True).content.decode()
    assert "The state new is the initial state; choose another initial state first." in page
    assert editor.post(f"{BASE}/2/initial/", {"initial": "acknowledged", "revision": 1}).status_code == 302
    assert draft()["initial"] == "acknowledged"
    page = editor.post(f"{BASE}/2/initial/", {"initial": "nowhere", "revision": 2}, follow=True).content.decode()
    assert "nowhere" in page and draft()["initial"] == "acknowledged"


def test_state_form_errors_in_the_users_language_change_nothing(editor: Any, owner: Any) -> None:
    from leitplanke.accounts.models import User

    User.objects.filter(pk=owner.pk).update(language="de")
    bad = {**STATE, "key": "new", "label_en": "", "revision": 1}
    response = editor.post(f"{BASE}/2/new-state/", bad)
    body = response.content.decode()
    assert response.status_code == 422
    assert "Es gibt bereits einen Status mit diesem Schlüssel." in body and "Dieses Feld ist ein Pflichtfeld." in body
    response = editor.post(f"{BASE}/2/new-state/", {**STATE, "key": "kein Schlüssel", "revision": 1})
    assert response.status_code == 422 and "Ein Schlüssel besteht aus Buchstaben" in response.content.decode()
    response = editor.post(f"{BASE}/2/new-state/", {**STATE, "pauses": ["no_such_rule"], "revision": 1})
    assert response.status_code == 422
    assert revision() == 1 and _state("legal") is None


def test_revision_conflict_keeps_the_input_and_changes_nothing(editor: Any) -> None:
    assert editor.post(f"{BASE}/2/new-state/", {**STATE, "revision": 1}).status_code == 302
    stale = editor.post(f"{BASE}/2/new-state/", {**STATE, "key": "other", "label_de": "Anderes", "revision": 1})
    body = stale.content.decode()
    assert stale.status_code == 412 and "Someone else saved this draft" in body and 'value="Anderes"' in body
    assert _state("other") is None
    page = editor.post(f"{BASE}/2/states/legal/delete/", {"revision": 1}, follow=True).content.decode()
    assert "Someone else saved this draft" in page and _state("legal") is not None


def test_add_and_delete_a_step(editor: Any) -> None:
    editor.post(f"{BASE}/2/new-state/", {**STATE, "revision": 1})
    form = editor.get(f"{BASE}/2/new-step/?to=legal").content.decode()
    assert '<option value="legal" selected>' in form
    data = {
        "key": "to_legal",
        "sources": ["in_progress", "assessment"],
        "target": "legal",
        "label_de": "An Recht",
        "label_en": "To legal",
    }
    response = editor.post(f"{BASE}/2/new-step/", {**data, "revision": 2})
    assert response.status_code == 302
    assert _step("to_legal") == {
        "key": "to_legal",
        "from": ["in_progress", "assessment"],
        "to": "legal",
        "label_de": "An Recht",
        "label_en": "To legal",
    }
    # a key taken, a state that does not exist, no source: errors, nothing changes
    response = editor.post(f"{BASE}/2/new-step/", {**data, "target": "mars", "sources": [], "revision": 3})
    body = response.content.decode()
    assert response.status_code == 422 and "There is already a step with this key." in body
    assert "Select a valid choice. mars is not one of the available choices." in body
    assert revision() == 3
    assert editor.post(f"{BASE}/2/steps/to_legal/delete/", {"revision": 3}).status_code == 302
    assert all(t["key"] != "to_legal" for t in draft()["transitions"])


def _step_data(step: str, **more: Any) -> dict[str, Any]:
    transition = _step(step)
    return {
        "key": step,
        "label_de": transition["label_de"],
        "label_en": transition["label_en"],
        "roles": transition.get("roles") or [],
        "requires": transition.get("requires") or [],
        "revision": revision(),
        **_management("checklist", 2, 0),
        **_management("effects", 2, 0),
        **more,
    }


def test_checklist_and_effects_in_the_step_form(editor: Any) -> None:
    form = editor.get(f"{BASE}/2/steps/close/").content.decode()
    assert 'name="checklist-0-key"' in form and 'name="effects-1-type"' in form
    assert 'value="internal_resolution"' in form and 'value="severity"' in form
    data = _step_data(
        "close",
        **{
            "checklist-0-key": "informed",
            "checklist-0-label_de": "Kunde informiert",
            "checklist-0-label_en": "Customer informed",
            "effects-0-type": "clock",
            "effects-0-clock_action": "stop",
            "effects-0-clock": "internal_resolution",
            "effects-0-field": "outcome",  # a parameter of another type: ignored
            "effects-1-type": "set_field",
            "effects-1-field": "priority",
            "effects-1-value": "2",
        },
    )
    assert editor.post(f"{BASE}/2/steps/close/", data).status_code == 302
    close = _step("close")
    assert close["checklist"] == [{"key": "informed", "label_de": "Kunde informiert", "label_en": "Customer informed"}]
    assert close["effects"] == [
        {"type": "clock", "action": "stop", "clock": "internal_resolution"},
        {"type": "set_field", "field": "priority", "value": 2},
    ]
    assert close["requires"] == ["outcome", "root_cause", "resolution_summary"]

    # the stored rows come back in the form; one removed, one added
    form = editor.get(f"{BASE}/2/steps/close/").content.decode()
    assert 'value="informed"' in form and 'name="effects-3-type"' in form
    data = _step_data(
        "close",
        **_management("checklist", 3, 1),
        **_management("effects", 4, 2),
        **{
            "checklist-0-key": "informed",
            "checklist-0-label_de": "Kunde informiert",
            "checklist-0-label_en": "Customer informed",
            "checklist-0-DELETE": "on",
            "effects-0-type": "clock",
            "effects-0-clock_action": "stop",
            "effects-0-clock": "internal_resolution",
            "effects-1-type": "set_field",
            "effects-1-field": "priority",
            "effects-1-value": "2",
            "effects-2-type": "escalation",
            "effects-2-escalation_action": "set",
            "effects-2-level": "1",
        },
    )
    assert editor.post(f"{BASE}/2/steps/close/", data).status_code == 302
    close = _step("close")
    assert "checklist" not in close
    assert close["effects"][2] == {"type": "escalation", "action": "set", "level": 1}


def test_a_decision_step_is_added_and_removed_in_the_step_form(editor: Any) -> None:
    """The published decision tables are offered (the data migration publishes the shipped
    ones); the chosen one is stored as a `decide` effect, and removing the row removes it."""
    form = editor.get(f"{BASE}/2/steps/start/").content.decode()
    assert '<option value="decide">Decide with a decision table</option>' in form
    assert '<option value="routing">Routing by category and customer segment (routing)</option>' in form
    data = _step_data("start", **{"effects-0-type": "decide", "effects-0-table": "routing", "effects-0-field": "priority"})
    assert editor.post(f"{BASE}/2/steps/start/", data).status_code == 302
    assert _step("start")["effects"] == [{"type": "decide", "table": "routing"}]
    form = editor.get(f"{BASE}/2/steps/start/").content.decode()
    assert re.search(r'<option value="routing" selected>', form)
    data = _step_data(
        "start",
        **_management("effects", 3, 1),
        **{"effects-0-type": "decide", "effects-0-table": "routing", "effects-0-DELETE": "on"},
    )
    assert editor.post(f"{BASE}/2/steps/start/", data).status_code == 302
    assert _step("start").get("effects") in (None, [])


@pytest.mark.parametrize(
    ("rows", "error"),
    [
        ({"effects-0-type": "clock", "effects-0-clock_action": "stop"}, "This field is required for this effect."),
        ({"effects-0-type": "clock", "effects-0-clock_action": "stop", "effects-0-clock": "nope"}, "Select a valid choice."),
        ({"effects-0-type": "set_field", "effects-0-field": "priority", "effects-0-value": "7"}, "not one of the field"),
        ({"effects-0-type": "set_field", "effects-0-field": "redress_amount", "effects-0-value": "-1"}, "not one of the field"),
        ({"effects-0-type": "escalation", "effects-0-escalation_action": "set"}, "Give the level to set."),
        ({"effects-0-type": "send_template", "effects-0-template": "no-such"}, "Select a valid choice."),
        ({"effects-0-type": "teleport"}, "Select a valid choice."),
        ({"effects-0-type": "decide"}, "This field is required for this effect."),
        ({"effects-0-type": "decide", "effects-0-table": "no-such"}, "Select a valid choice."),
        ({"checklist-0-key": "a b", "checklist-0-label_de": "x", "checklist-0-label_en": "x"}, "A key is made of letters"),
        ({"checklist-0-key": "a", "checklist-0-label_de": "x"}, "This field is required."),
        (
            {
                "checklist-0-key": "a",
                "checklist-0-label_de": "x",
                "checklist-0-label_en": "x",
                "checklist-1-key": "a",
                "checklist-1-label_de": "y",
                "checklist-1-label_en": "y",
            },
            "This key is used twice in the checklist.",
        ),
    ],
)
def test_bad_rows_are_form_errors_and_change_nothing(editor: Any, rows: dict[str, str], error: str) -> None:
    response = editor.post(f"{BASE}/2/steps/close/", _step_data("close", **rows))
    assert response.status_code == 422 and error in response.content.decode()
    assert revision() == 1 and "effects" not in _step("close")


def test_live_preview_shows_the_problems_and_saves_nothing(editor: Any) -> None:
    response = editor.post(f"{BASE}/2/new-state/", {**STATE, "preview": "1", "revision": 1})
    body = response.content.decode()
    assert response.status_code == 200 and "<code>states.legal</code>" in body and 'hx-swap-oob="true"' in body
    assert 'data-state="legal"' in body  # the diagram as it would be
    body = editor.post(f"{BASE}/2/new-state/", {**STATE, "key": "", "preview": "1"}).content.decode()
    assert "This field is required." in body
    assert revision() == 1 and _state("legal") is None


def test_escalation_levels_and_escalate_on(editor: Any) -> None:
    form = editor.get(f"{BASE}/2/escalation/").content.decode()
    assert 'value="Teamleitung"' in form and 'value="quality_manager"' in form and 'value="handler"' in form
    data = {
        **_management("levels", 3, 2),
        "levels-0-level": "1",
        "levels-0-label_de": "Teamleitung",
        "levels-0-label_en": "Team lead",
        "levels-0-handled_by": "team_lead",
        "levels-0-assign_to": "team_lead",
        "levels-1-level": "2",
        "levels-1-label_de": "QM",
        "levels-1-label_en": "QM",
        "levels-1-handled_by": "quality_manager",
        "levels-2-level": "3",
        "levels-2-label_de": "Geschäftsführung",
        "levels-2-label_en": "Management",
        "levels-2-handled_by": "administrator",
        "levels-2-assign_to": "handler",
        "escalate_on": ["warning", "breach"],
        "revision": 1,
    }
    assert editor.post(f"{BASE}/2/escalation/", data).status_code == 302
    stored = draft()
    assert stored["escalate_on"] == ["warning", "breach"]
    assert stored["escalation_levels"] == [
        {"level": 1, "label_de": "Teamleitung", "label_en": "Team lead", "handled_by": "team_lead", "assign_to": "team_lead"},
        {"level": 2, "label_de": "QM", "label_en": "QM", "handled_by": "quality_manager"},
        {
            "level": 3,
            "label_de": "Geschäftsführung",
            "label_en": "Management",
            "handled_by": "administrator",
            "assign_to": "handler",
        },
    ]
    # remove level 3, tick nothing: no threshold raises the level
    data = {**data, "levels-2-DELETE": "on", "escalate_on": [], "revision": 2}
    data.pop("escalate_on")
    assert editor.post(f"{BASE}/2/escalation/", {**data, **_management("levels", 3, 3)}).status_code == 302
    assert draft()["escalate_on"] == [] and len(draft()["escalation_levels"]) == 2
    # errors: a level twice, a level out of range, an unknown role
    bad = {**data, **_management("levels", 3, 2), "levels-1-level": "1", "revision": 3}
    response = editor.post(f"{BASE}/2/escalation/", bad)
    assert response.status_code == 422 and "This level is used twice." in response.content.decode()
    bad = {**bad, "levels-1-level": "12", "levels-1-handled_by": "pope"}
    body = editor.post(f"{BASE}/2/escalation/", bad).content.decode()
    assert "Ensure this value is less than or equal to 9." in body and "pope is not one of the available choices" in body
    assert revision() == 3


def test_published_versions_have_no_forms(editor: Any) -> None:
    editor.post(f"{BASE}/2/publish/")
    assert ProcessDefinition.objects.get(key="complaint", version=2).status == "published"
    for url in ("new-state/", "states/new/", "new-step/", "steps/close/", "escalation/"):
        assert editor.get(f"{BASE}/2/{url}").status_code == 404, url
        assert editor.post(f"{BASE}/2/{url}", {**STATE, "revision": 2}).status_code == 404, url
    for url in ("states/closed/delete/", "steps/close/delete/", "initial/"):
        assert editor.post(f"{BASE}/2/{url}", {"initial": "new", "revision": 2}).status_code == 404, url
    assert ProcessDefinition.objects.get(key="complaint", version=2).revision == 1


def test_a_draft_published_meanwhile_is_refused_on_saving(editor: Any, owner: Any) -> None:
    from leitplanke.processes import services

    services.definition_publish(actor=owner, definition=ProcessDefinition.objects.get(key="complaint", version=2))
    from leitplanke.processes import editing

    with pytest.raises(Exception, match="Only a draft can be changed"):
        services.definition_change(
            actor=owner,
            definition=ProcessDefinition.objects.get(key="complaint", version=2),
            change=editing.state_save(STATE),
            expected_revision=1,
        )


FORM_URLS = [
    ("get", "new-state/"),
    ("post", "new-state/"),
    ("get", "states/closed/"),
    ("post", "states/closed/delete/"),
    ("post", "initial/"),
    ("get", "new-step/"),
    ("post", "new-step/"),
    ("post", "steps/close/delete/"),
    ("get", "escalation/"),
    ("post", "escalation/"),
]


@pytest.mark.parametrize(("method", "url"), FORM_URLS)
@pytest.mark.parametrize(("role", "allowed"), [("agent", False), ("team_lead", False), ("process_owner", True)])
def test_only_process_owners_use_the_forms(
    owner: Any, make_user: Any, client_for: Any, role: str, allowed: bool, method: str, url: str
) -> None:
    client_for(owner).post(f"{BASE}/1/new-draft/")
    client = client_for(make_user(role))
    response = getattr(client, method)(f"{BASE}/2/{url}", {"initial": "new"} if method == "post" else None)
    if allowed:
        assert response.status_code in (200, 302, 422), response.status_code
    else:
        assert response.status_code == 403
        assert revision() == 1


def test_template_and_webhook_effects_offer_what_exists(editor: Any) -> None:
    from leitplanke.intake.models import ReplyTemplate, WebhookEndpoint

    template = ReplyTemplate.objects.filter(is_active=True).first()
    assert template is not None
    WebhookEndpoint.objects.create(url="https://crm.example.org/hook", description="crm", secret="s" * 32)
    form = editor.get(f"{BASE}/2/steps/close/").content.decode()
    assert f'value="{template.key}"' in form and 'value="crm"' in form
    data = _step_data(
        "close",
        **{
            "effects-0-type": "send_template",
            "effects-0-template": template.key,
            "effects-1-type": "webhook",
            "effects-1-endpoint": "crm",
        },
    )
    assert editor.post(f"{BASE}/2/steps/close/", data).status_code == 302
    assert _step("close")["effects"] == [
        {"type": "send_template", "template": template.key},
        {"type": "webhook", "endpoint": "crm"},
    ]
    # a stored value no longer offered stays a choice: saving the form keeps it
    data = _step_data("close", **_management("effects", 4, 2))
    data.update({"effects-0-type": "send_template", "effects-0-template": template.key})
    data.update({"effects-1-type": "webhook", "effects-1-endpoint": "crm"})
    WebhookEndpoint.objects.filter(description="crm").update(is_active=False)
    assert 'value="crm"' in editor.get(f"{BASE}/2/steps/close/").content.decode()
    assert editor.post(f"{BASE}/2/steps/close/", data).status_code == 302
    assert _step("close")["effects"][1] == {"type": "webhook", "endpoint": "crm"}


def test_a_process_no_case_type_follows_offers_every_deadline_rule(owner: Any, client_for: Any) -> None:
    from leitplanke.processes import services
    from leitplanke.processes.shipped import COMPLAINT

    services.definition_create(actor=owner, key="b2b", name_de="B2B", name_en="B2B", definition=COMPLAINT)
    page = client_for(owner).get("/settings/processes/b2b/1/new-state/").content.decode()
    assert 'value="gdpr_12_3"' in page and 'value="internal_resolution"' in page and 'value="psd2_de"' in page


# --- renaming keys (issue 20 item 3: a state's and a step's key in the forms) ---------------


def _state_data(current: str, /, **more: Any) -> dict[str, Any]:
    state = _state(current)
    assert state is not None
    return {
        "key": current,
        "kind": state["kind"],
        "label_de": state["label_de"],
        "label_en": state["label_en"],
        "pauses": state.get("pauses") or [],
        "revision": revision(),
        **more,
    }


def _references(data: dict[str, Any], state: str) -> list[str]:
    """Where a definition names the state (initial, steps' from and to, guards on the status)."""
    found = ["initial"] if data["initial"] == state else []
    for t in data["transitions"]:
        found += [f"{t['key']}.from"] if state in t["from"] else []
        found += [f"{t['key']}.to"] if t["to"] == state else []
        found += [f"{t['key']}.guard"] if f'case.status in ["{state}"' in (t.get("guard") or "") else []
    return found


def test_renaming_a_state_renames_every_reference_in_one_audited_change(editor: Any) -> None:
    from leitplanke.processes import selectors

    # a guard on the status names the state too (a case's status is its state's key)
    guard = 'case.status in ["assessment", "in_progress"] or case.category == "assessment"'
    assert editor.post(f"{BASE}/2/steps/wait/", _step_data("wait", guard=guard)).status_code == 302
    before = _references(draft(), "assessment")
    assert before == ["assess.to", "start.from", "wait.from", "wait.guard", "resolve.from", "escalate.from"]
    order = [s["key"] for s in draft()["states"]]
    form = editor.get(f"{BASE}/2/states/assessment/").content.decode()
    assert 'name="key" value="assessment"' in form and "disabled" not in form.split('name="key"')[1][:80]
    assert "A new key renames the state in this draft" in form
    audits = AuditEvent.objects.filter(action="process.update").count()

    response = editor.post(f"{BASE}/2/states/assessment/", _state_data("assessment", key="triage", label_en="Triage"))
    assert response.status_code == 302 and response["Location"] == f"{BASE}/2/"
    data = draft()
    assert _references(data, "assessment") == [] and _state("assessment") is None
    assert _references(data, "triage") == before
    assert _step("wait")["guard"] == 'case.status in ["triage", "in_progress"] or case.category == "assessment"'
    assert [s["key"] for s in data["states"]] == [("triage" if k == "assessment" else k) for k in order]
    assert _state("triage") == {"key": "triage", "kind": "open", "label_de": "Erstbewertung", "label_en": "Triage", "pauses": []}
    assert selectors.problems("complaint", data) == []  # still publishable
    events = AuditEvent.objects.filter(action="process.update")
    assert events.count() == audits + 1
    event = events.order_by("-id").first()
    assert event is not None and event.after is not None and event.before is not None
    assert _references(event.before["definition"], "assessment") == before
    assert _references(event.after["definition"], "triage")

    # the initial state follows its rename
    assert editor.post(f"{BASE}/2/states/new/", _state_data("new", key="received")).status_code == 302
    assert draft()["initial"] == "received" and _references(draft(), "new") == []
    assert editor.get(f"{BASE}/2/states/new/").status_code == 404
    # the diagram on the version page draws the new keys
    page = editor.get(f"{BASE}/2/").content.decode()
    assert 'data-state="triage"' in page and 'data-state="received"' in page and 'data-state="assessment"' not in page


def test_renaming_a_state_to_a_taken_or_invalid_key_is_refused_in_the_users_language(editor: Any, owner: Any) -> None:
    from leitplanke.accounts.models import User

    User.objects.filter(pk=owner.pk).update(language="de")
    response = editor.post(f"{BASE}/2/states/assessment/", _state_data("assessment", key="resolved"))
    body = response.content.decode()
    assert response.status_code == 422 and "Es gibt bereits einen Status mit diesem Schlüssel." in body
    assert 'value="resolved"' in body  # the input is kept
    response = editor.post(f"{BASE}/2/states/assessment/", _state_data("assessment", key="Prüfung <b>"))
    assert response.status_code == 422 and "Ein Schlüssel besteht aus Buchstaben" in response.content.decode()
    response = editor.post(f"{BASE}/2/states/assessment/", _state_data("assessment", key=""))
    assert response.status_code == 422 and "Dieses Feld ist ein Pflichtfeld." in response.content.decode()
    assert revision() == 1 and _state("assessment") is not None


def test_a_rename_is_checked_again_under_the_lock(editor: Any, owner: Any) -> None:
    """The form's check sees the draft as it was loaded; the change checks the stored one."""
    from leitplanke.core.errors import ValidationFailed
    from leitplanke.processes import editing, services

    definition = ProcessDefinition.objects.get(key="complaint", version=2)
    values = {"key": "resolved", "kind": "open", "label_de": "Prüfung", "label_en": "Assessment"}
    with pytest.raises(ValidationFailed) as refused:
        services.definition_change(actor=owner, definition=definition, change=editing.state_save(values, key="assessment"))
    assert refused.value.field_errors == {"key": ["There is already a state with this key."]}
    with pytest.raises(ValidationFailed) as refused:
        change = editing.step_save("close", {"key": "a b", "label_de": "x", "label_en": "x"})
        services.definition_change(actor=owner, definition=definition, change=change)
    assert list(refused.value.field_errors) == ["key"]
    assert revision() == 1


def test_a_stale_rename_is_refused_and_keeps_the_input(editor: Any) -> None:
    stale = _state_data("assessment", key="triage")
    assert editor.post(f"{BASE}/2/states/assessment/", _state_data("assessment", label_de="Bewertung")).status_code == 302
    response = editor.post(f"{BASE}/2/states/assessment/", stale)
    body = response.content.decode()
    assert response.status_code == 412 and "Someone else saved this draft" in body and 'value="triage"' in body
    assert _state("triage") is None and _state("assessment") is not None
    stale = _step_data("close", key="finish")
    editor.post(f"{BASE}/2/steps/close/", _step_data("close", label_en="Close it"))
    response = editor.post(f"{BASE}/2/steps/close/", stale)
    assert response.status_code == 412 and 'value="finish"' in response.content.decode()
    assert all(t["key"] != "finish" for t in draft()["transitions"])


def test_renaming_a_step(editor: Any, owner: Any) -> None:
    form = editor.get(f"{BASE}/2/steps/close/").content.decode()
    assert 'name="key" value="close"' in form and "A new key renames the step" in form
    audits = AuditEvent.objects.filter(action="process.update").count()
    checklist = {"checklist-0-key": "informed", "checklist-0-label_de": "Informiert", "checklist-0-label_en": "Informed"}
    response = editor.post(f"{BASE}/2/steps/close/", _step_data("close", key="finish", **checklist))
    assert response.status_code == 302
    steps = [t["key"] for t in draft()["transitions"]]
    assert "close" not in steps and steps.index("finish") == 6  # in its place
    finish = _step("finish")
    assert (finish["from"], finish["to"], finish["checklist"][0]["key"]) == (["resolved"], "closed", "informed")
    assert finish["requires"] == ["outcome", "root_cause", "resolution_summary"]
    assert AuditEvent.objects.filter(action="process.update").count() == audits + 1
    assert editor.get(f"{BASE}/2/steps/close/").status_code == 404
    assert editor.get(f"{BASE}/2/steps/finish/").status_code == 200

    from leitplanke.accounts.models import User

    User.objects.filter(pk=owner.pk).update(language="de")
    for bad, error in (("resolve", "Es gibt bereits einen Schritt mit diesem Schlüssel."), ("fin ish", "Ein Schlüssel besteht")):
        response = editor.post(f"{BASE}/2/steps/finish/", _step_data("finish", key=bad))
        assert response.status_code == 422 and error in response.content.decode(), bad
    assert revision() == 2


def test_renames_in_published_versions_are_404(editor: Any) -> None:
    editor.post(f"{BASE}/2/publish/")
    for url, data in (("states/assessment/", {**STATE, "key": "triage"}), ("steps/close/", {"key": "finish"})):
        assert editor.post(f"{BASE}/2/{url}", {**data, "revision": 1}).status_code == 404
        assert editor.post(f"{BASE}/1/{url}", {**data, "revision": 1}).status_code == 404
    published = ProcessDefinition.objects.get(key="complaint", version=2)
    assert published.revision == 1 and any(s["key"] == "assessment" for s in published.definition["states"])


def test_the_live_check_draws_a_renamed_state(editor: Any) -> None:
    body = editor.post(f"{BASE}/2/states/assessment/", _state_data("assessment", key="triage", preview="1")).content.decode()
    assert 'data-state="triage"' in body and 'data-state="assessment"' not in body
    assert "No problems" in body
    body = editor.post(f"{BASE}/2/states/assessment/", _state_data("assessment", key="closed", preview="1")).content.decode()
    assert "There is already a state with this key." in body
    assert revision() == 1 and _state("triage") is None


@pytest.mark.parametrize(
    ("guard", "renamed"),
    [
        ('case.status == "a"', 'case.status == "b"'),
        ("'a' != case.status and case.category == 'a'", "'b' != case.status and case.category == 'a'"),
        ('case.status in ["x", "a"] or case.status not in [\'a\']', 'case.status in ["x", "b"] or case.status not in [\'b\']'),
        ('case . status=="a"', 'case . status=="b"'),
        ('case.status_code == "a" or x.case.status == "a"', 'case.status_code == "a" or x.case.status == "a"'),
        ('case.status == "ab" and "a" in case.status', 'case.status == "ab" and "a" in case.status'),
        ('case.status == "a" and (', 'case.status == "a" and ('),  # does not parse: unchanged
    ],
)
def test_guards_on_the_status_follow_a_renamed_state(guard: str, renamed: str) -> None:
    from leitplanke.processes.engine.expr import rename_value

    assert rename_value(guard, "case.status", "a", "b") == renamed


# --- "Add a row": one more empty row, what was typed kept, nothing saved -------------------


def test_add_a_row_keeps_what_was_typed_and_saves_nothing(editor: Any) -> None:
    typed = _step_data(
        "close",
        label_en="Close (typed)",
        **{
            "checklist-0-key": "informed",
            "checklist-0-label_de": "Kunde informiert",
            "checklist-0-label_en": "",  # incomplete: no error yet (checked on saving)
            "effects-0-type": "clock",
            "effects-0-clock_action": "stop",
            "effects-0-clock": "internal_resolution",
        },
    )
    audits = AuditEvent.objects.count()
    for extra in ({}, {"preview": ""}):  # without JavaScript; by htmx (the button clears the form's preview=1)
        response = editor.post(f"{BASE}/2/steps/close/", {**typed, "add_row": "checklist", **extra})
        body = response.content.decode()
        assert response.status_code == 200
        assert 'name="checklist-TOTAL_FORMS" value="3"' in body and 'name="checklist-2-key"' in body
        assert 'name="effects-TOTAL_FORMS" value="2"' in body
        assert 'value="Close (typed)"' in body and 'value="informed"' in body and 'value="Kunde informiert"' in body
        assert '<option value="internal_resolution" selected>' in body
        assert re.search(r'<input [^>]*name="checklist-2-key"[^>]* autofocus', body)  # the new row has the focus
        assert body.count("autofocus") == 1
        assert "This field is required." not in body and 'class="form-errors"' not in body
    # a live check fired just after the click carries the button's name too (htmx): still a check
    body = editor.post(f"{BASE}/2/steps/close/", {**typed, "add_row": "checklist", "preview": "1"}).content.decode()
    assert 'id="problems"' in body and "<html" not in body and 'name="checklist-2-key"' not in body
    body = editor.post(f"{BASE}/2/steps/close/", {**typed, "add_row": "effects"}).content.decode()
    assert 'name="effects-TOTAL_FORMS" value="3"' in body and 'name="effects-2-type"' in body
    assert AuditEvent.objects.count() == audits and revision() == 1 and "checklist" not in _step("close")

    # then saving the three rows as shown stores the filled ones
    saved = {
        **typed,
        **_management("checklist", 3, 0),
        "checklist-0-label_en": "Customer informed",
        "checklist-2-key": "archived",
        "checklist-2-label_de": "Abgelegt",
        "checklist-2-label_en": "Filed",
    }
    assert editor.post(f"{BASE}/2/steps/close/", saved).status_code == 302
    assert [c["key"] for c in _step("close")["checklist"]] == ["informed", "archived"]
    assert _step("close")["label_en"] == "Close (typed)"


def test_add_a_level_row(editor: Any) -> None:
    data = {
        **_management("levels", 3, 2),
        "levels-0-level": "1",
        "levels-0-label_de": "Teamleitung (neu)",
        "levels-0-label_en": "Team lead",
        "levels-1-level": "2",
        "levels-1-label_de": "QM",
        "levels-1-label_en": "QM",
        "escalate_on": ["warning"],
        "revision": 1,
        "add_row": "levels",
    }
    body = editor.post(f"{BASE}/2/escalation/", data).content.decode()
    assert 'name="levels-TOTAL_FORMS" value="4"' in body and 'name="levels-3-level"' in body
    assert 'value="Teamleitung (neu)"' in body and 'value="warning" id="id_escalate_on_0" checked' in body
    assert revision() == 1


@pytest.mark.parametrize(
    ("rows", "total"),
    [("abc", "abc"), ("-1", "-1"), ("50", "50"), ("", "")],
)
def test_add_a_row_with_a_broken_or_full_row_count_is_no_error(editor: Any, rows: str, total: str) -> None:
    data = {**_step_data("close"), "checklist-TOTAL_FORMS": rows, "add_row": "checklist"}
    response = editor.post(f"{BASE}/2/steps/close/", data)
    assert response.status_code == 200
    assert revision() == 1
    # an unknown prefix is no "Add a row": the form is saved as usual
    response = editor.post(f"{BASE}/2/steps/close/", {**_step_data("close"), "add_row": "nonsense"})
    assert response.status_code == 302


@pytest.mark.parametrize("url", ["steps/close/", "escalation/", "states/assessment/"])
def test_add_a_row_and_renames_are_for_process_owners_only(owner: Any, make_user: Any, client_for: Any, url: str) -> None:
    client_for(owner).post(f"{BASE}/1/new-draft/")
    agent = client_for(make_user("team_lead"))
    data = {"key": "renamed", "add_row": "levels" if url == "escalation/" else "checklist", "revision": 1}
    assert agent.post(f"{BASE}/2/{url}", {**data, **_management("checklist", 2, 0)}).status_code == 403
    assert revision() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_revision", [False, True])
def test_two_renames_to_the_same_key_at_once_leave_one(owner: Any, tmp_path: Any, with_revision: bool) -> None:
    """Two owners rename two states to the same key at once: the change runs under the
    draft's lock on the stored definition, so one rename wins and the other is refused
    (the key taken, or 412 with the revision each form was loaded with); never two states
    with one key."""
    from leitplanke.core.errors import PreconditionFailed, ValidationFailed
    from leitplanke.processes import editing, services
    from tests.concurrency import in_parallel, shared_database
    from tests.processes.test_services import draft_of

    definition = draft_of(owner)
    states = {s["key"]: s for s in definition.definition["states"]}
    with shared_database(tmp_path):

        def rename(index: int) -> str:
            old = ("assessment", "in_progress")[index]
            values = {**states[old], "key": "triage"}
            try:
                services.definition_change(
                    actor=owner,
                    definition=definition,
                    change=editing.state_save(values, key=old),
                    expected_revision=definition.revision if with_revision else None,
                )
            except ValidationFailed as error:
                return "taken" if "key" in error.field_errors else repr(error)
            except PreconditionFailed:
                return "stale"
            return "renamed"

        results = sorted(in_parallel(rename, 2))
        stored = ProcessDefinition.objects.get(pk=definition.pk)
        keys = [s["key"] for s in stored.definition["states"]]
        renames = AuditEvent.objects.filter(action="process.update", object_id=str(definition.pk)).count()
    assert results == ["renamed", "stale" if with_revision else "taken"]
    assert keys.count("triage") == 1 and len(keys) == len(set(keys)) == 7
    assert stored.revision == definition.revision + 1 and renames == 1


def test_a_state_rename_follows_every_shape_the_json_allows() -> None:
    """`from` as one string or a list, the initial state, guards; other parts stay."""
    from leitplanke.processes import editing

    data = {
        "initial": "a",
        "states": [{"key": "a", "kind": "open"}, {"key": "b", "kind": "closed"}],
        "transitions": [
            {"key": "x", "from": "a", "to": "b", "guard": "case.status != 'a'"},
            {"key": "y", "from": ["b", "a"], "to": "a"},
            "not a step",
        ],
        "escalate_on": ["breach"],
    }
    values = {"key": "c", "kind": "open", "label_de": "C", "label_en": "C"}
    changed = editing.state_save(values, key="a")(data)
    assert changed["initial"] == "c" and [s["key"] for s in changed["states"]] == ["c", "b"]
    assert changed["transitions"][0] == {"key": "x", "from": "c", "to": "b", "guard": "case.status != 'c'"}
    assert changed["transitions"][1] == {"key": "y", "from": ["b", "c"], "to": "c"}
    assert changed["transitions"][2] == "not a step" and changed["escalate_on"] == ["breach"]
