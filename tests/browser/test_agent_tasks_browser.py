"""Issue 23, the agent's daily tasks in a browser: each test counts the clicks and page
loads the task takes now (the figures in the docstrings were measured by these tests;
"before" is the issue's measurement)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from leitplanke.accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Counter:
    """Counts full page loads (htmx swaps are none) and the clicks a test makes."""

    def __init__(self, page: Any) -> None:
        self.page, self.loads, self.clicks = page, 0, 0
        page.on("load", self._loaded)

    def _loaded(self, _page: Any) -> None:
        self.loads += 1

    def reset(self) -> None:
        self.loads = self.clicks = 0

    def click(self, locator: Any) -> None:
        self.clicks += 1
        locator.click()

    def settled_loads(self) -> int:
        self.page.wait_for_load_state("load")
        return self.loads


def _reference_data() -> None:
    from tests.conftest import restore_reference_data

    restore_reference_data()


def _team_and_lead(make_user: Callable[..., User]) -> tuple[Any, User]:
    from leitplanke.accounts.models import Team

    team = Team.objects.create(name="Team Rhein")
    lead = make_user("team_lead", teams=[team], email="lead-tasks@example.org", name="Lena Lead", language="en")
    return team, lead


def test_task1_find_a_case_by_the_customer(
    page: Any, live_server: Any, login: Callable[..., None], make_user: Callable[..., User]
) -> None:
    """Before: 0 results for the customer's name; 4 clicks through the customer list.
    Now: type the name (or number, e-mail, phone) into the case search: 1 click, 1 page
    load to the list, 1 click to the case; the case page links the customer and lists the
    customer's other cases with their status."""
    from playwright.sync_api import expect

    from leitplanke.cases import services
    from leitplanke.customers import services as customers

    _reference_data()
    team, lead = _team_and_lead(make_user)
    erika = customers.customer_create(
        actor=lead, first_name="Erika", last_name="Müller", customer_number="K-4711", emails=["erika@example.org"]
    )
    first = services.case_create(
        actor=lead, team=team, case_type="complaint", subject="Abschlag zu hoch", channel="email", customer=erika
    )
    second = services.case_create(
        actor=lead, team=team, case_type="complaint", subject="Zähler defekt", channel="phone", customer=erika
    )
    services.case_create(actor=lead, team=team, case_type="complaint", subject="Anderer Kunde", channel="phone")
    login(page, lead)
    page.goto(f"{live_server.url}/cases/")
    counter = Counter(page)
    rows = page.locator("#case-results tbody tr")
    for query in ("muller", "K-4711", "erika@example.org"):
        page.get_by_label("Search").fill(query)
        counter.reset()
        counter.click(page.get_by_role("button", name="Filter"))
        expect(rows).to_have_count(2)
        expect(page.locator("#case-results")).to_contain_text(first.reference)
        assert counter.clicks == 1
    counter.reset()
    counter.click(page.get_by_role("link", name=first.reference))
    expect(page).to_have_url(re.compile(rf"/cases/{first.pk}/$"))
    assert counter.settled_loads() == 1
    others = page.locator(".customer-cases")
    expect(others).to_contain_text(second.reference)
    expect(others).to_contain_text("Zähler defekt")
    expect(others).to_contain_text("Received")  # the complaint process names its first state so
    expect(page.get_by_role("link", name="Müller, Erika")).to_have_attribute("href", f"/customers/{erika.pk}/")


def test_task2_answer_the_customer_on_the_case_page(
    page: Any, live_server: Any, login: Callable[..., None], make_user: Callable[..., User], settings: Any, tmp_path: Any
) -> None:
    """Before: a separate page without the conversation, raw {{placeholders}}, a compulsory
    preview, status unchanged: 3 clicks, 3 page loads. Now: the composer under the
    conversation with the customer's last message, the template filled in for the case,
    Cc and an attachment, and "send and set status" in one click and one page load."""
    from django.core import mail
    from playwright.sync_api import expect

    from leitplanke.cases import services
    from leitplanke.customers import services as customers

    settings.MEDIA_ROOT = tmp_path / "files"
    _reference_data()
    team, lead = _team_and_lead(make_user)
    erika = customers.customer_create(actor=lead, first_name="Erika", last_name="Muster", emails=["erika@example.org"])
    case = services.case_create(
        actor=lead, team=team, case_type="complaint", subject="Abschlag zu hoch", channel="email", customer=erika, language="en"
    )
    services.interaction_add(
        actor=None,
        case=case,
        kind="inbound_message",
        subject="Noch eine Frage",
        body_text="Wann kommt die Gutschrift?",
        channel="email",
    )
    upload = tmp_path / "gutschrift.pdf"
    upload.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    login(page, lead)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    counter = Counter(page)
    composer = page.locator("#composer")
    expect(composer.locator(".composer-last")).to_contain_text("Wann kommt die Gutschrift?")
    expect(composer.get_by_label("To")).to_have_value("erika@example.org")
    expect(composer.get_by_label("Subject")).to_have_value("Your message: Abschlag zu hoch")  # the case's language
    composer.get_by_label("Template").select_option(label="Antwort (allgemein) (German)")
    expect(composer.get_by_label("Subject")).to_have_value("Ihr Anliegen: Abschlag zu hoch")
    body = composer.get_by_label("Text")
    expect(body).to_have_value(re.compile(r"^Guten Tag Erika Muster,\n"))  # filled in, no {{placeholders}}
    body.fill(body.input_value() + "\nWe have corrected your instalment.")
    composer.get_by_label("Cc").fill("berater@example.org")
    composer.get_by_label("Attachments").set_input_files(str(upload))
    # the preview is still there on demand (and sends nothing)
    counter.click(composer.get_by_role("button", name="Preview"))
    expect(page.locator(".reply-preview")).to_contain_text(f"Ihr Anliegen: Abschlag zu hoch [{case.reference}]")
    assert counter.settled_loads() == 0 and not mail.outbox
    composer = page.locator("#composer")
    composer.get_by_label("Attachments").set_input_files(str(upload))
    composer.get_by_label("Then set status").select_option(label="Wait for customer")
    counter.reset()
    counter.click(composer.get_by_role("button", name="Send"))
    expect(page.locator(".messages")).to_contain_text("Reply queued")
    assert counter.clicks == 1 and counter.settled_loads() == 1
    expect(page.locator(".case-ref .status")).to_have_text("Waiting for customer")
    outbound = page.locator("#timeline .kind-outbound_message")
    expect(outbound).to_contain_text("We have corrected your instalment.")
    expect(outbound).to_contain_text("gutschrift.pdf")
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.cc == ["berater@example.org"] and sent.attachments[0][0] == "gutschrift.pdf"


def test_task3_greet_the_customer_properly(
    page: Any, live_server: Any, login: Callable[..., None], make_user: Callable[..., User]
) -> None:
    """Before: "Guten Tag Mustermann, Erika," in every acknowledgement and reply. Now: the
    salutation is set on the customer (1 click to save) and every reply begins formally."""
    from playwright.sync_api import expect

    from leitplanke.cases import services
    from leitplanke.customers import services as customers

    _reference_data()
    team, lead = _team_and_lead(make_user)
    erika = customers.customer_create(actor=lead, first_name="Erika", last_name="Mustermann", emails=["erika@example.org"])
    case = services.case_create(actor=lead, team=team, case_type="complaint", subject="Abschlag", channel="email", customer=erika)
    login(page, lead)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.locator("#composer").get_by_label("Text")).to_have_value(re.compile(r"^Guten Tag Erika Mustermann,"))
    page.goto(f"{live_server.url}/customers/{erika.pk}/edit/")
    page.get_by_label("Salutation").select_option(label="Ms")
    page.get_by_label("Title").fill("Dr.")
    counter = Counter(page)
    counter.click(page.get_by_role("button", name="Save"))
    assert counter.settled_loads() == 1
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.locator("#composer").get_by_label("Text")).to_have_value(re.compile(r"^Sehr geehrte Frau Dr\. Mustermann,"))


def test_task4_take_it_and_assign_quickly(
    page: Any, live_server: Any, login: Callable[..., None], make_user: Callable[..., User], admin_user: User
) -> None:
    """Before: the full 15-field edit form with every user of the organisation: 3 clicks, 2
    page loads. Now: "Take it" is 1 click, 1 page load; a quick assignment offers the team's
    members first, shows who is absent, and takes 2 clicks and a choice, 1 page load."""
    import datetime as dt

    from django.utils import timezone
    from playwright.sync_api import expect

    from leitplanke.accounts import services as accounts
    from leitplanke.cases import services

    _reference_data()
    team, lead = _team_and_lead(make_user)
    anna = make_user("agent", teams=[team], email="anna-tasks@example.org", name="Anna Agent", language="en")
    accounts.absence_create(
        actor=admin_user,
        user=anna,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + dt.timedelta(days=2),
        kind="vacation",
    )
    case = services.case_create(actor=lead, team=team, case_type="complaint", subject="Abschlag", channel="email")
    login(page, lead)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    counter = Counter(page)
    counter.click(page.get_by_role("button", name="Take it"))
    expect(page.locator(".messages")).to_contain_text("Lena Lead is responsible now.")
    assert counter.clicks == 1 and counter.settled_loads() == 1
    counter.reset()
    counter.click(page.get_by_text("Assign", exact=True).first)
    select = page.locator("#assign-responsible")
    expect(select.locator("optgroup").first).to_have_attribute("label", "Team Rhein")
    expect(select).to_contain_text("absent until")
    select.select_option(value=str(anna.pk))
    counter.click(page.get_by_role("button", name="Assign", exact=True))
    expect(page.locator(".messages")).to_contain_text("Anna Agent is responsible now.")
    assert counter.clicks == 2 and counter.settled_loads() == 1


def test_task5_start_a_case_during_a_phone_call(
    page: Any, live_server: Any, login: Callable[..., None], make_user: Callable[..., User]
) -> None:
    """Before: the customer only by typed customer number. Now: type the name (or e-mail,
    phone, number) and pick the match (1 click, no page load); or "New case" on the
    customer page (1 click, the customer preselected)."""
    from playwright.sync_api import expect

    from leitplanke.cases.models import Case
    from leitplanke.customers import services as customers

    _reference_data()
    _team, lead = _team_and_lead(make_user)
    erika = customers.customer_create(
        actor=lead, first_name="Erika", last_name="Mustermann", emails=["erika@example.org"], phones=["0221 123456"]
    )
    login(page, lead)
    page.goto(f"{live_server.url}/cases/new/")
    counter = Counter(page)
    page.get_by_label("Find the customer").fill("0221 123456")
    pick = page.locator("[data-pick-customer]")
    expect(pick).to_have_count(1)
    counter.click(pick)
    expect(page.get_by_label("Customer number")).to_have_value(erika.customer_number)
    expect(page.locator(".customer-chosen")).to_contain_text("Mustermann, Erika")
    page.get_by_label("Subject").fill("Anruf: Abschlag zu hoch")
    counter.click(page.get_by_role("button", name="Create case"))
    expect(page.locator(".messages")).to_contain_text("was created")
    assert counter.clicks == 2 and counter.settled_loads() == 1
    assert Case.objects.get(subject="Anruf: Abschlag zu hoch").customer_id == erika.pk

    page.goto(f"{live_server.url}/customers/{erika.pk}/")
    counter.reset()
    counter.click(page.get_by_role("link", name="New case for this customer"))
    expect(page.get_by_label("Customer number")).to_have_value(erika.customer_number)
    assert counter.settled_loads() == 1


@pytest.mark.parametrize("width", [1280, 390])
def test_task6_bulk_action_with_confirmation_near_the_selection(
    page: Any, live_server: Any, login: Callable[..., None], make_user: Callable[..., User], width: int
) -> None:
    """Before: the default action with "nobody" silently unassigned; the panel 2,300 px below
    the first row (9,000 px on a phone); users offered who cannot be assigned. Now: the bar
    sits above the first row (sticky), nothing happens without a choice, and a confirmation
    says what will change for how many cases: 2 choices, 2 clicks, 1 page load."""
    from playwright.sync_api import expect

    from leitplanke.cases import services
    from leitplanke.cases.models import Case

    _reference_data()
    team, lead = _team_and_lead(make_user)
    cases = [
        services.case_create(actor=lead, team=team, case_type="complaint", subject=f"Fall {n}", channel="email")
        for n in range(30)
    ]
    page.set_viewport_size({"width": width, "height": 900})
    login(page, lead)
    page.goto(f"{live_server.url}/cases/")
    boxes = page.locator("#case-results tbody input[name=ids]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    bar = page.locator("#bulk-bar")
    expect(bar.locator("[data-bulk-count]")).to_have_text("(2)")
    first_row = page.locator("#case-results tbody tr").first.bounding_box()
    bar_box = bar.bounding_box()
    assert bar_box is not None and first_row is not None
    assert abs(first_row["y"] - (bar_box["y"] + bar_box["height"])) < 400  # right above the first row
    bar.get_by_label("Action").select_option("assign_responsible")
    expect(bar.locator("#bulk-team")).to_be_hidden()
    options = bar.locator("#bulk-responsible option")
    expect(options.first).to_have_text("— choose —")
    counter = Counter(page)
    # nothing chosen: refused, nothing changes
    counter.click(bar.get_by_role("button", name="Apply to selected…"))
    expect(page.locator("#bulk-confirm")).to_contain_text("Choose who is responsible.")
    bar.locator("#bulk-responsible").select_option(label="Lena Lead")
    counter.click(bar.get_by_role("button", name="Apply to selected…"))
    expect(page.locator("#bulk-confirm")).to_contain_text("Make Lena Lead responsible for 2 cases?")
    assert counter.settled_loads() == 0
    counter.click(page.get_by_role("button", name="Yes, change them"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bulk action result")
    assert counter.settled_loads() == 1
    assert Case.objects.filter(responsible_user=lead).count() == 2
    # the sticky bar stays in view while scrolling the list
    page.goto(f"{live_server.url}/cases/")
    page.locator("#case-results tbody input[name=ids]").nth(20).scroll_into_view_if_needed()
    page.locator("#case-results tbody input[name=ids]").nth(20).check()
    box = page.locator("#bulk-bar").bounding_box()
    assert box is not None and -1 <= box["y"] < 900
    assert len(cases) == 30


@pytest.mark.parametrize("language", ["en", "de"])
def test_task7_read_the_list(
    page: Any, live_server: Any, login: Callable[..., None], make_user: Callable[..., User], language: str, settings: Any
) -> None:
    """Before: 6 complete rows at 1440×900; "12/01/2026 2:05 p.m." on the case page. Now: at
    least 12 complete rows, last activity and who waits for whom in the list, English dates
    day first with a 24-hour clock."""
    from playwright.sync_api import expect

    from leitplanke.accounts.models import User as UserModel
    from leitplanke.cases import services

    _reference_data()
    team, lead = _team_and_lead(make_user)
    UserModel.objects.filter(pk=lead.pk).update(language=language)
    cases = [
        services.case_create(
            actor=lead, team=team, case_type="complaint", subject=f"Abschlag nach Umzug zu hoch, Fall {n}", channel="email"
        )
        for n in range(20)
    ]
    services.interaction_add(
        actor=None, case=cases[-1], kind="inbound_message", subject="Noch da?", body_text="Hallo?", channel="email"
    )
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, lead)
    page.goto(f"{live_server.url}/cases/")
    rows = page.locator("#case-results tbody tr")
    complete = sum(
        1 for i in range(rows.count()) if (box := rows.nth(i).bounding_box()) is not None and box["y"] + box["height"] <= 900
    )
    assert complete >= 12, complete
    assert page.evaluate("document.querySelector('.table-wrap').scrollWidth <= document.querySelector('.table-wrap').clientWidth")
    waiting = "Customer waiting since" if language == "en" else "Kunde wartet seit"
    expect(rows.first).to_contain_text(waiting)
    page.goto(f"{live_server.url}/cases/{cases[0].pk}/")
    received = page.locator(".facts time").first.inner_text()
    if language == "en":
        assert re.fullmatch(r"\d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}", received), received
    else:
        assert re.fullmatch(r"\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}", received), received


def test_task8_glitches(page: Any, live_server: Any, login: Callable[..., None], make_user: Callable[..., User]) -> None:
    """One delivery badge per message; focus on the error summary after a failed submit; a
    focus ring and input borders of at least 3:1; "Change" as a verb in German."""
    from playwright.sync_api import expect

    from leitplanke.cases import services

    _reference_data()
    team, lead = _team_and_lead(make_user)
    case = services.case_create(actor=lead, team=team, case_type="complaint", subject="Abschlag", channel="email")
    services.interaction_add(
        actor=lead, case=case, kind="outbound_message", body_text="Antwort", channel="email", delivery_status="sent"
    )
    login(page, lead)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.locator("#timeline .kind-outbound_message .badge")).to_have_count(1)
    # a failed submit: focus lands on the first error
    page.goto(f"{live_server.url}/cases/new/")
    page.get_by_role("button", name="Create case").click()
    expect(page.locator(".has-error").first).to_be_visible()
    focused = page.evaluate("document.activeElement.closest('.has-error, .form-errors') !== null")
    assert focused

    def contrast(a: str, b: str) -> float:
        def lum(rgb: str) -> float:
            parts = [int(x) / 255 for x in re.findall(r"\d+", rgb)[:3]]
            lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
            return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

        high, low = sorted([lum(a), lum(b)], reverse=True)
        return (high + 0.05) / (low + 0.05)

    subject = page.get_by_label("Subject")
    border = subject.evaluate("e => getComputedStyle(e).borderTopColor")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.get_by_role("link", name="Edit").focus()
    ring = page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    assert contrast(border, "rgb(255, 255, 255)") >= 3, border
    assert contrast(ring, "rgb(255, 255, 255)") >= 3, ring
