"""Correcting a decision in the browser: the decider opens "Correct this decision" on the case's
decision panel, the form is prefilled from the record; saved without a justification it comes
back with an error summary that takes the focus and keeps what was typed; with one, the
correction beyond the agent's authority waits for approval and the old record reads "Corrected".
Screenshots of the refused form (German and English, 1280 and 390 px wide) go to the folder in
LEITPLANKE_SCREENSHOTS (docs/img/decisions for the docs)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from leitplanke.accounts.models import User
from tests.browser.test_decisions_browser import _world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LABELS = {
    "en": {"open": "Correct this decision", "save": "Save correction", "summary": "The correction was not saved:",
           "waits": "the correction awaits approval", "corrected": "Corrected"},
    "de": {"open": "Diese Entscheidung korrigieren", "save": "Korrektur speichern",
           "summary": "Die Korrektur wurde nicht gespeichert:", "waits": "die Korrektur wartet auf Freigabe",
           "corrected": "Korrigiert"},
}  # fmt: skip


@pytest.mark.parametrize("language", ["en", "de"])
def test_correct_a_decision(
    browser: Any,
    live_server: Any,
    login: Callable[..., None],
    make_user: Callable[..., User],
    language: str,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    from leitplanke.decisions import record_services

    shots = Path(os.environ.get("LEITPLANKE_SCREENSHOTS") or tmp_path)
    labels = LABELS[language]
    world = _world(make_user, language)
    for width in (1280, 390):
        case = world["complaint"](f"Abschlag falsch ({width})")
        record = record_services.decision_record(
            actor=world["agent"], case=case, table_key="goodwill_energy_billing", context={"disputed_amount": 300},
            kind="goodwill", amount="45", currency="EUR", action="goodwill_credit",
            message_to_customer="Wir schreiben Ihnen 45 Euro gut.",
        )  # fmt: skip
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="de-DE" if language == "de" else "en-GB")
        page = context.new_page()
        page.set_default_timeout(10_000)
        login(page, world["agent"])
        page.goto(f"{live_server.url}/cases/{case.pk}/")
        panel = page.locator("#decisions")
        entry = panel.locator(f"#decision-{record.pk}")
        expect(entry).to_be_visible()
        page.wait_for_load_state("networkidle")
        details = entry.locator("details.correct-decision")
        details.locator("summary").click()
        expect(details.locator("input[name=amount]")).to_have_value("45.00")
        expect(details.locator("input[name=action]")).to_have_value("goodwill_credit")
        details.locator("input[name=amount]").fill("150")
        details.get_by_role("button", name=labels["save"]).click()
        summary = page.locator(f"#correct{record.pk}-errors")
        expect(summary).to_contain_text(labels["summary"])
        expect(summary).to_be_focused()
        expect(page.locator(f"#decision-{record.pk} input[name=amount]")).to_have_value("150")
        page.locator(f"#decision-{record.pk}").screenshot(path=str(shots / f"correction-form-{language}-{width}.png"))
        page.locator(f"#decision-{record.pk} textarea[name=justification]").fill("Zwei Abrechnungen waren betroffen.")
        page.locator(f"#decision-{record.pk}").get_by_role("button", name=labels["save"]).click()
        expect(page.locator("#decisions")).to_contain_text(labels["waits"])
        expect(page.locator(f"#decision-{record.pk}")).to_contain_text(labels["corrected"])
        expect(page.locator(f"#decision-{record.pk} details.correct-decision")).to_have_count(0)
        context.close()
