"""A process owner adds a required field to the closing transition of the complaint
process in the editor (validated live), publishes it, and an agent closing a new
complaint is then asked for it."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from leitplanke.accounts.models import Team, User
from leitplanke.cases import services as case_services
from leitplanke.cases.models import Case
from leitplanke.processes.models import ProcessDefinition
from leitplanke.processes.shipped import COMPLAINT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("LEITPLANKE_SCREENSHOTS", "")


def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_owner_adds_a_required_field_and_the_agent_is_asked_for_it(
    browser: Any, page: Any, live_server: Any, login: Callable[[Any, User], None], make_user: Callable[..., User]
) -> None:
    owner = make_user("process_owner", language="en")
    team = Team.objects.create(name="Beschwerden")
    agent = make_user("agent", teams=[team], language="en")

    # The owner opens the published complaint process and starts a new draft from it.
    login(page, owner)
    page.locator("#main-nav a[href='/settings/']").click()
    page.locator("main a[href='/settings/processes/']").click()
    page.locator("main a[href='/settings/processes/complaint/1/']").click()
    page.wait_for_url(f"{live_server.url}/settings/processes/complaint/1/")
    assert page.locator("#process-diagram svg g.state").count() == 7
    shot(page, "process-published-diagram")
    page.locator("form[action$='/new-draft/'] button").click()
    page.wait_for_url(f"{live_server.url}/settings/processes/complaint/2/")

    # A mistake first: the live validation names it with its place.
    editor = page.locator("#id_definition")
    broken = copy.deepcopy(COMPLAINT)
    next(t for t in broken["transitions"] if t["key"] == "close")["requires"].append("shoe_size")
    editor.fill(json.dumps(broken, indent=2))
    page.locator("#problems code", has_text="transitions.close.requires").wait_for()
    assert "there is no field shoe_size" in page.locator("#problems").inner_text()
    shot(page, "process-editor-live-validation")

    # Then the real change, in the step's form: closing asks for the redress amount too.
    page.goto(f"{live_server.url}/settings/processes/complaint/2/")
    page.locator('a[data-step="close"]').click()
    page.wait_for_url(f"{live_server.url}/settings/processes/complaint/2/steps/close/")
    page.locator("#field-requires input[value='redress_amount']").check()
    shot(page, "process-step-form")
    page.locator("#save-step").click()
    page.wait_for_url(f"{live_server.url}/settings/processes/complaint/2/")
    assert "No problems" in page.locator("#problems").inner_text()
    page.locator("#publish").click()
    page.locator(".message-success", has_text="published").wait_for()
    assert ProcessDefinition.objects.get(key="complaint", version=2).status == "published"

    # A new complaint starts on version 2; the agent is asked for the redress amount.
    case = case_services.case_create(actor=agent, case_type="complaint", subject="Doppelte Abbuchung", channel="email")
    case = case_services.case_transition(actor=agent, case=case, transition="resolve")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    agent_page = context.new_page()
    agent_page.set_default_timeout(10_000)
    try:
        login(agent_page, agent)
        agent_page.goto(f"{live_server.url}/cases/{case.pk}/")
        step = agent_page.locator('[data-transition="close"]')
        assert "requires: Redress amount" in step.inner_text()
        shot(agent_page, "case-steps-with-reasons")
        step.locator("a").click()
        agent_page.wait_for_url(f"{live_server.url}/cases/{case.pk}/steps/close/")
        agent_page.locator("#id_outcome").select_option("partly_upheld")
        agent_page.locator("#id_root_cause").select_option("billing")
        agent_page.locator("#id_resolution_summary").fill("Doppelte Abbuchung erstattet.")
        agent_page.locator("form.step-form button[type=submit]").click()
        agent_page.locator(".field.has-error", has_text="requires: Redress amount").wait_for()
        assert Case.objects.get(pk=case.pk).status == "resolved"
        shot(agent_page, "case-close-asks-for-redress")
        agent_page.locator("#id_redress_amount").fill("49.90")
        agent_page.locator("#id_goodwill_amount").fill("10")
        agent_page.locator("form.step-form button[type=submit]").click()
        agent_page.wait_for_url(f"{live_server.url}/cases/{case.pk}/")
    finally:
        context.close()
    closed = Case.objects.get(pk=case.pk)
    assert (closed.status, str(closed.redress_amount), str(closed.goodwill_amount)) == ("closed", "49.90", "10.00")


def test_owner_adds_a_state_a_step_a_checklist_item_and_a_clock_effect_in_forms(
    page: Any, live_server: Any, login: Callable[[Any, User], None], make_user: Callable[..., User]
) -> None:
    from playwright.sync_api import expect

    owner = make_user("process_owner", language="de")
    login(page, owner)
    page.goto(f"{live_server.url}/settings/processes/complaint/1/")
    page.locator("form[action$='/new-draft/'] button").click()
    page.wait_for_url(f"{live_server.url}/settings/processes/complaint/2/")

    # A closed state "withdrawn", in the state form; the live check shows it unreachable.
    page.locator("#add-state").click()
    page.wait_for_url(f"{live_server.url}/settings/processes/complaint/2/new-state/")
    page.locator("#id_key").fill("withdrawn")
    page.locator("#id_kind").select_option("closed")
    page.locator("#id_label_de").fill("Zurückgezogen")
    page.locator("#id_label_en").fill("Withdrawn")
    page.locator("#problems code", has_text="states.withdrawn").wait_for()
    page.locator("#process-diagram g[data-state='withdrawn']").wait_for()
    shot(page, "process-state-form")
    page.locator("#save-state").click()
    page.wait_for_url(f"{live_server.url}/settings/processes/complaint/2/")
    assert "states.withdrawn" in page.locator("#problems").inner_text()

    # A step to it from "new" and "in_progress".
    page.locator("#add-step").click()
    page.locator("#id_key").fill("withdraw")
    page.locator("#field-sources input[value='new']").check()
    page.locator("#field-sources input[value='in_progress']").check()
    page.locator("#id_target").select_option("withdrawn")
    page.locator("#id_label_de").fill("Zurückziehen")
    page.locator("#id_label_en").fill("Withdraw")
    page.locator("#save-transition").click()
    page.wait_for_url(f"{live_server.url}/settings/processes/complaint/2/")
    assert "Keine Probleme" in page.locator("#problems").inner_text()
    assert page.locator("#process-diagram g[data-transition='withdraw']").count() == 2  # one arrow per source

    # Its checklist item and a clock effect, in the step's form.
    page.locator('a[data-step="withdraw"]').click()
    page.wait_for_url(f"{live_server.url}/settings/processes/complaint/2/steps/withdraw/")
    page.locator("#id_checklist-0-key").fill("customer_confirmed")
    page.locator("#id_checklist-0-label_de").fill("Rücknahme vom Kunden bestätigt")
    page.locator("#id_checklist-0-label_en").fill("Withdrawal confirmed by the customer")
    assert not page.locator("#id_effects-0-clock").is_visible()  # only the chosen type's fields
    page.locator("#id_effects-0-type").select_option("clock")
    page.locator("#id_effects-0-clock_action").select_option("stop")
    page.locator("#id_effects-0-clock").select_option("internal_resolution")
    assert not page.locator("#id_effects-0-field").is_visible()
    shot(page, "process-step-form-checklist-effects")
    # One more checklist row (htmx, nothing saved): what was typed stays, the new row has the focus.
    page.locator("#add-checklist-row").click()
    expect(page.locator("#id_checklist-2-key")).to_be_focused()
    expect(page.locator("#id_checklist-0-key")).to_have_value("customer_confirmed")
    expect(page.locator("#id_effects-0-clock")).to_have_value("internal_resolution")
    expect(page.locator("#id_effects-0-field")).to_be_hidden()  # the rows swapped in still show only their type's fields
    assert ProcessDefinition.objects.get(key="complaint", version=2).revision == 3
    page.locator("#id_checklist-2-key").fill("reason_recorded")
    page.locator("#id_checklist-2-label_de").fill("Grund festgehalten")
    page.locator("#id_checklist-2-label_en").fill("Reason recorded")
    page.locator("#id_checklist-2-label_en").press("Enter")  # Enter saves; it does not add a row
    page.wait_for_url(f"{live_server.url}/settings/processes/complaint/2/")

    # Rename the state "assessment" in its form: the live diagram follows, then the steps.
    page.locator("a[href$='/settings/processes/complaint/2/states/assessment/']").first.click()
    page.wait_for_url(f"{live_server.url}/settings/processes/complaint/2/states/assessment/")
    page.locator("#id_key").fill("triage")
    page.locator("#process-diagram g[data-state='triage']").wait_for()
    assert page.locator("#process-diagram g[data-state='assessment']").count() == 0
    assert ProcessDefinition.objects.get(key="complaint", version=2).revision == 4  # the preview saved nothing
    page.locator("#save-state").click()
    page.wait_for_url(f"{live_server.url}/settings/processes/complaint/2/")
    assert page.locator("#process-diagram g[data-state='triage']").count() == 1
    assert "Keine Probleme" in page.locator("#problems").inner_text()

    page.locator("#publish").click()
    page.locator(".message-success", has_text="veröffentlicht").wait_for()
    published = ProcessDefinition.objects.get(key="complaint", version=2)
    assert published.status == "published"
    states = {s["key"]: s for s in published.definition["states"]}
    assert states["withdrawn"]["kind"] == "closed" and states["withdrawn"]["label_en"] == "Withdrawn"
    withdraw = next(t for t in published.definition["transitions"] if t["key"] == "withdraw")
    assert (withdraw["from"], withdraw["to"]) == (["new", "in_progress"], "withdrawn")
    assert withdraw["checklist"] == [
        {
            "key": "customer_confirmed",
            "label_de": "Rücknahme vom Kunden bestätigt",
            "label_en": "Withdrawal confirmed by the customer",
        },
        {"key": "reason_recorded", "label_de": "Grund festgehalten", "label_en": "Reason recorded"},
    ]
    assert "assessment" not in states and states["triage"]["label_en"] == "Initial assessment"
    assess = next(t for t in published.definition["transitions"] if t["key"] == "assess")
    assert assess["to"] == "triage"
    assert all("assessment" not in t["from"] for t in published.definition["transitions"])
    assert withdraw["effects"] == [{"type": "clock", "action": "stop", "clock": "internal_resolution"}]


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("width", [1280, 390])
def test_rename_field_and_add_a_row_at_both_widths(
    page: Any, live_server: Any, login: Callable[[Any, User], None], make_user: Callable[..., User], language: str, width: int
) -> None:
    """The state form with its key to rename and the step form after "Add a checklist item",
    in German and English, on a desktop and a phone (screenshots for docs/processes.md)."""
    page.set_viewport_size({"width": width, "height": 900})
    owner = make_user("process_owner", language=language)
    login(page, owner)
    page.goto(f"{live_server.url}/settings/processes/complaint/1/")
    page.locator("form[action$='/new-draft/'] button").click()
    page.wait_for_url(f"{live_server.url}/settings/processes/complaint/2/")

    page.goto(f"{live_server.url}/settings/processes/complaint/2/states/assessment/")
    page.locator("#id_key").fill("triage")
    page.locator("#process-diagram g[data-state='triage']").wait_for()
    help_text = {"de": "benennt den Status in diesem Entwurf um", "en": "renames the state in this draft"}[language]
    assert help_text in page.locator("main").inner_text()
    page.locator("#id_key").focus()
    shot(page, f"process-state-rename-{language}-{width}")

    page.goto(f"{live_server.url}/settings/processes/complaint/2/steps/close/")
    page.locator("#id_checklist-0-key").fill("informed")
    page.locator("#id_checklist-0-label_de").fill("Kunde informiert")
    page.locator("#id_checklist-0-label_en").fill("Customer informed")
    page.locator("#add-checklist-row").click()
    page.locator("#id_checklist-2-key").wait_for()
    assert page.locator("#id_checklist-0-label_de").input_value() == "Kunde informiert"
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_checklist-2-key'")
    page.locator("#checklist").scroll_into_view_if_needed()
    shot(page, f"process-step-add-row-{language}-{width}")
    assert ProcessDefinition.objects.get(key="complaint", version=2).revision == 1
