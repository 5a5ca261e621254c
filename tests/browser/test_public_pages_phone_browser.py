"""Every public page fits a phone (390 px): nothing makes the document wider than the
viewport, however long a status link, a subject or a customer's unbroken word is."""

from __future__ import annotations

from typing import Any

import pytest

from leitplanke.cases.models import CaseType
from leitplanke.core import ratelimit
from leitplanke.intake import public
from leitplanke.intake.replies import status_link_token
from leitplanke.maturity import services as maturity_services

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
UNBROKEN = "Zählerstandsablesungsdifferenzreklamation" * 6 + "-https://example.de/" + "x" * 120


def _case() -> Any:
    return public.public_complaint_submit(
        public.PublicSubmission(
            case_type=CaseType.objects.get(key="complaint"),
            subject="Betreff " + UNBROKEN[:180],
            description="Nachricht " + UNBROKEN,
            first_name="Erika",
            last_name="Mustermann" + "n" * 80,
            email="erika." + "x" * 60 + "@example.de",
            phone="",
            customer_number="",
            language="de",
            files=[],
        )
    ).case


def _assert_fits(page: Any, url: str, *, status: int | None = None) -> None:
    response = page.goto(url)
    if status is not None:
        assert response.status == status, (url, response.status)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{url}: document is {width} px wide at {PHONE['width']} px"


@pytest.mark.parametrize("locale", ["de-DE", "en-GB"])
def test_every_public_page_fits_a_phone(browser, live_server, locale, monkeypatch):
    monkeypatch.setattr(public, "MIN_FILL_SECONDS", 0)
    case = _case()
    token = status_link_token(case)
    _assessment, check_token = maturity_services.assessment_start(language=locale[:2])
    context = browser.new_context(viewport=PHONE, locale=locale)
    page = context.new_page()
    page.set_default_timeout(10_000)
    base = live_server.url
    try:
        _assert_fits(page, f"{base}/complaint/", status=200)
        _assert_fits(page, f"{base}/complaint/thanks/{token}/", status=200)
        _assert_fits(page, f"{base}/complaint/status/{token}/", status=200)
        _assert_fits(page, f"{base}/complaint/privacy/", status=200)
        _assert_fits(page, f"{base}/complaint/status/{'n' * 300}/", status=404)
        _assert_fits(page, f"{base}/complaint/thanks/{'n' * 300}/", status=404)
        _assert_fits(page, f"{base}/no-such-page/{'n' * 200}/", status=404)
        # The form sent back with errors keeps the long text and still fits.
        page.goto(f"{base}/complaint/")
        page.fill("#id_subject", "Betreff " + UNBROKEN[:180])
        page.fill("#id_description", UNBROKEN)
        page.fill("#id_email", "not-an-address-" + "y" * 100)
        page.locator("form.public-form button[type=submit]").click()
        page.wait_for_load_state()
        assert page.locator(".form-errors, .error").first.is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # The maturity check's public pages.
        _assert_fits(page, f"{base}/check/", status=200)
        _assert_fits(page, f"{base}/check/r/{check_token}/page/1/", status=200)
        _assert_fits(page, f"{base}/check/r/{check_token}/review/", status=200)
        _assert_fits(page, f"{base}/check/r/{'n' * 300}/page/1/")
        _assert_fits(page, f"{base}/check/invitation/{'n' * 300}/")
        # The rate-limit pages (429).
        monkeypatch.setattr(ratelimit, "hit", lambda key, **kwargs: 10_000)
        page.goto(f"{base}/complaint/status/{token}/")
        page.fill("#id_message", UNBROKEN)
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.locator("main form button[type=submit]").click()
        assert posted.value.status == 429
        page.wait_for_load_state()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.goto(f"{base}/check/")
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.locator("main form button.primary").click()
        assert posted.value.status == 429
        page.wait_for_load_state()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()
