"""Hostile input in the real browser: the payloads of tests/security/payloads.py stored in
every place a page shows free text (cases: subject, description, tags, custom field, notes,
mail; customers and their title; the public status page, the public form and a brand's form; the
reply composer; Settings' catalogue, templates, brands and process editor; the maturity
campaigns and roadmap), then each page opened in chromium with a dialog listener.

Nothing may execute: no dialog, no element carrying the payloads' `data-xss` attribute in
the DOM, no request to the payloads' evil.example. Many payloads share one page, so the
suite stays at about a dozen page loads."""

from __future__ import annotations

import contextlib
import copy
import importlib
from collections.abc import Callable
from typing import Any

import pytest

from leitplanke.accounts.models import Team, User
from leitplanke.core.errors import ValidationFailed
from tests.security.payloads import STORABLE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Text that fits the short fields (names, subjects); the long ones go into descriptions.
SHORT = [payload for payload in STORABLE if len(payload) <= 100]


def _seed(admin: User) -> dict[str, Any]:
    """Everything a page shows, filled with payloads, through the services."""
    from leitplanke.cases import catalog_services
    from leitplanke.cases import services as cases
    from leitplanke.cases.models import CaseType
    from leitplanke.customers import services as customers
    from leitplanke.intake import public, replies
    from leitplanke.intake.replies import template_save
    from leitplanke.intake.services import email_ingest
    from leitplanke.maturity import services as maturity
    from tests.maturity.conftest import answers_at

    complaint = CaseType.objects.get(key="complaint")
    catalog_services.custom_field_create(
        actor=admin, case_type=complaint, key="hx_note", label_de=SHORT[3], label_en=SHORT[3], kind="text"
    )
    customer = customers.customer_create(actor=admin, first_name=SHORT[0], last_name=SHORT[4], organisation_name=SHORT[5])
    main = cases.case_create(
        actor=admin,
        case_type=complaint,
        subject=SHORT[1],
        description="\n".join(STORABLE),
        channel="email",
        customer=customer,
        tags=[p for p in SHORT if not set(p) & set(",<>") and len(p.strip()) <= 60 and p.strip()][:12],
        custom_fields={"hx_note": SHORT[6]},
    )
    for n, payload in enumerate(SHORT):
        cases.interaction_add(actor=admin, case=main, kind="internal_note", body_text=payload, subject=payload[:200])
        if n % 4 == 0:  # HTML notes are sanitised; one that is nothing but a script is refused as empty
            with contextlib.suppress(ValidationFailed):
                cases.interaction_add(actor=admin, case=main, kind="internal_note", body_html=payload + " text")
    for payload in SHORT:
        other = customers.customer_create(actor=admin, first_name=payload[:100], last_name=payload[:100])
        cases.case_create(actor=admin, case_type=complaint, subject=payload, channel="email", customer=other)
        catalog_services.category_create(
            actor=admin, parent=None, key=f"hx-{abs(hash(payload)) % 10**8}", name_de=payload, name_en=payload
        )
        maturity.campaign_create(actor=admin, name=payload[:200], description=payload)
    public.public_message_add(case=main, text="\n".join(SHORT), files=[])
    mail = (
        "From: Mallory <mallory@example.org>\r\nTo: service@example.org\r\nSubject: <svg onload=alert('mail') data-xss>\r\n"
        "Message-ID: <hx-browser@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        + "".join(f"<p>{payload}</p>" for payload in SHORT)
    ).encode("utf-8")
    mailed = email_ingest(mail, source="api").case
    template_save(
        actor=admin,
        key="hx-template",
        language="en",
        name=SHORT[2],
        purpose="reply",
        case_type=None,
        subject=SHORT[7],
        body="\n".join(p for p in SHORT if "{" not in p),
    )
    assessment, _ = maturity.assessment_start(actor=admin)
    maturity.assessment_answer(assessment=assessment, answers=answers_at(2))
    assessment = maturity.assessment_complete(assessment=assessment)
    roadmap = maturity.roadmap_create(actor=admin, title=SHORT[9], assessment=assessment)
    for item, payload in zip(roadmap.items.all(), SHORT, strict=False):
        maturity.roadmap_item_update(actor=admin, item=item, title=payload[:200], goal=payload, owner=payload[:200])
    # Public-page texts of the organisation and a brand (phone numbers are checked as such), a process draft, a customer's title.
    from leitplanke.accounts import services as accounts
    from leitplanke.processes import services as processes
    from leitplanke.processes.shipped import COMPLAINT

    accounts.organisation_update(actor=admin, public_name=SHORT[10], contact_address=SHORT[12])
    brand = accounts.brand_create(
        actor=admin,
        name=SHORT[13],
        slug="hx-brand",
        display_name=SHORT[14],
        from_address="service@hx.example",
        signature="\n".join(SHORT)[:2000],
    )
    definition = copy.deepcopy(COMPLAINT)
    definition["states"][0]["label_en"] = definition["transitions"][0]["label_en"] = SHORT[16]
    draft = processes.definition_create(actor=admin, key="complaint", name_de=SHORT[17], name_en=SHORT[17], definition=definition)
    customers.customer_update(actor=admin, customer=customer, title=SHORT[18][:50])
    return {
        "brand": brand.slug,
        "draft": draft.version,
        "case": main.pk,
        "mailed": mailed.pk if mailed else main.pk,
        "customer": customer.pk,
        "status_token": replies.status_link_token(main),
        "roadmap": roadmap.pk,
    }


def test_no_stored_payload_executes_on_any_page(
    page: Any, live_server: Any, login: Callable[..., None], make_user: Callable[..., User], settings: Any, tmp_path: Any
) -> None:
    from django.apps import apps

    settings.MEDIA_ROOT = tmp_path / "files"
    importlib.import_module("leitplanke.cases.migrations.0003_default_case_types").forward(apps, None)
    importlib.import_module("leitplanke.intake.migrations.0002_default_templates").create(apps, None)
    admin = make_user("administrator", email="hostile-browser@example.org", language="en", teams=[Team.objects.create(name="T")])
    ids = _seed(admin)

    dialogs: list[str] = []
    evil_requests: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: evil_requests.append(request.url) if "evil.example" in request.url else None)
    login(page, admin)

    pages = [
        "/",
        "/cases/",
        f"/cases/{ids['case']}/",
        f"/cases/{ids['mailed']}/",
        f"/cases/{ids['case']}/edit/",
        f"/intake/cases/{ids['case']}/reply/",
        "/customers/",
        f"/customers/{ids['customer']}/",
        "/settings/catalog/categories/",
        "/intake/templates/",
        "/maturity/campaigns/",
        f"/maturity/roadmaps/{ids['roadmap']}/",
        f"/complaint/status/{ids['status_token']}/",
        f"/intake/cases/{ids['case']}/composer/",
        "/settings/brands/",
        f"/public/{ids['brand']}/",
        "/complaint/",
        "/settings/processes/",
        f"/settings/processes/complaint/{ids['draft']}/",
    ]
    problems = []
    for path in pages:
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status < 500, (path, response and response.status)
        page.wait_for_load_state("load")
        page.wait_for_timeout(150)  # onload/onfocus/ontoggle handlers and autofocus run now
        injected = page.locator("[data-xss]").count()
        if injected:
            problems.append(f"{path}: {injected} injected elements")
        if dialogs:
            problems.append(f"{path}: dialogs {dialogs}")
            dialogs.clear()
        if response.status != 200:
            problems.append(f"{path}: {response.status}")
        if path == f"/cases/{ids['case']}/":
            # the payloads are on the page, as text
            assert "alert('xss-1')" in page.inner_text("body")
    if evil_requests:
        problems.append(f"requests to evil.example: {evil_requests}")
    assert not problems, "\n".join(problems)
