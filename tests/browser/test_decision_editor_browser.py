"""A process owner edits a decision table in the browser: a cell that does not compile is
marked in that cell (and the error summary takes the focus), the fix saves, a test case is
added and passes, the version is published. Then the editor with a failing cell at 1280 and
390 px, German and English: the grid scrolls inside its box, the page does not."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from leitplanke.accounts.models import User
from leitplanke.decisions.models import DecisionTable

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("LEITPLANKE_SCREENSHOTS", "")


def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_owner_fixes_a_failing_cell_adds_a_test_and_publishes(
    page: Any, live_server: Any, login: Callable[[Any, User], None], make_user: Callable[..., User]
) -> None:
    owner = make_user("process_owner", language="en")
    login(page, owner)
    page.locator("#main-nav a[href='/settings/']").click()
    page.locator("main a[href='/settings/decisions/']").click()
    page.locator("#table-list a[href='/settings/decisions/routing/']").click()
    page.locator("main a[href='/settings/decisions/routing/1/']").first.click()
    page.wait_for_url(f"{live_server.url}/settings/decisions/routing/1/")
    page.locator("#new-version").click()
    page.wait_for_url(f"{live_server.url}/settings/decisions/routing/2/")

    # A cell that does not compile: marked in the cell, the summary links to it and has the focus.
    cell = page.locator("#id_rule-1-in-0")
    cell.fill('"billing" ,, >')
    # the live check names it while typing (nothing saved yet)
    page.locator("#live-check a[href='#id_rule-1-in-0']").wait_for()
    assert DecisionTable.objects.get(key="routing", version=2).revision == 1
    page.locator("#save").click()
    page.locator("#check-summary.form-errors").wait_for()
    assert page.evaluate("document.activeElement.id") == "check-summary"
    assert cell.get_attribute("aria-invalid") == "true"
    described = cell.get_attribute("aria-describedby")
    message = page.locator(f"#{described}")
    assert "does not compile" in message.inner_text()
    assert page.locator(".dt-cell.has-error #id_rule-1-in-0").count() == 1
    border = cell.evaluate("e => getComputedStyle(e).borderTopColor")
    assert border == "rgb(180, 35, 24)"  # --danger
    page.locator("#check-summary a[href='#id_rule-1-in-0']").click()
    assert page.evaluate("location.hash") == "#id_rule-1-in-0"
    assert DecisionTable.objects.get(key="routing", version=2).check_result["problems"]  # kept as a draft

    # The fix: saved, no problems.
    page.locator("#id_rule-1-in-0").fill('"billing", "meter"')
    page.locator("#save").click()
    page.locator(".message-success", has_text="no problems").first.wait_for()
    assert page.locator("[aria-invalid='true']").count() == 0

    # A new test case in the blank row: it runs on save and passes.
    n = len(DecisionTable.objects.get(key="routing", version=2).tests)
    page.locator(f"#id_test-{n}-name").fill("meter complaints go to billing")
    page.locator(f"#id_test-{n}-inputs").fill('{"category": "meter", "segment": "private"}')
    page.locator(f"#id_test-{n}-expected").fill('{"team": "billing"}')
    page.locator("#save").click()
    page.locator("#test-results", has_text=f"All {n + 1} tests pass").wait_for()
    assert DecisionTable.objects.get(key="routing", version=2).tests[n]["name"] == "meter complaints go to billing"

    # Try it on the draft, then publish.
    page.locator("#id_inputs").fill('{"category": "meter", "segment": "private"}')
    page.locator("#try-button").click()
    page.locator("#try-result", has_text="Matched rules").wait_for()
    assert '"billing"' in page.locator("#try-result pre").inner_text()
    page.locator("#publish").click()
    page.locator(".message-success", has_text="is published").wait_for()
    statuses = dict(DecisionTable.objects.filter(key="routing").values_list("version", "status"))
    assert statuses == {1: "retired", 2: "published"}


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_editor_with_a_failing_cell_fits_desktop_and_phone(
    browser: Any, live_server: Any, login: Callable[[Any, User], None], make_user: Callable[..., User], language: str
) -> None:
    owner = make_user("process_owner", language=language)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE" if language == "de" else "en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        login(page, owner)
        page.goto(f"{live_server.url}/settings/decisions/goodwill_energy_billing/1/")
        page.locator("#new-version").click()
        page.wait_for_url(f"{live_server.url}/settings/decisions/goodwill_energy_billing/2/")
        page.locator("#id_rule-2-out-0").fill("round(disputed_amount * )")
        page.locator("#save").click()
        page.locator("#check-summary.form-errors").wait_for()
        assert page.locator("#id_rule-2-out-0").get_attribute("aria-invalid") == "true"
        page.locator("#id_rule-2-out-0").scroll_into_view_if_needed()
        shot(page, f"editor-failing-cell-{language}-1280")
        for width, height in ((1280, 900), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            # the page does not scroll sideways; the grid scrolls inside its box
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width
            wrap = "(w => [w.scrollWidth, w.clientWidth])(document.querySelector('.dt-grid-wrap'))"
            scroll_width, client_width = page.evaluate(wrap)
            assert client_width <= width and scroll_width > client_width
        page.locator("#id_rule-2-out-0").scroll_into_view_if_needed()
        shot(page, f"editor-failing-cell-{language}-390")
    finally:
        context.close()
