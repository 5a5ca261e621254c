"""Issue 23, task 3: customers are greeted properly in German and English."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from leitplanke.customers.greeting import formal_greeting, full_name


@pytest.mark.parametrize(
    ("language", "person", "expected"),
    [
        ("de", {"salutation": "ms", "first_name": "Erika", "last_name": "Mustermann"}, "Sehr geehrte Frau Mustermann"),
        ("de", {"salutation": "mr", "title": "Dr.", "last_name": "Mustermann"}, "Sehr geehrter Herr Dr. Mustermann"),
        ("en", {"salutation": "ms", "first_name": "Erika", "last_name": "Mustermann"}, "Dear Ms Mustermann"),
        ("en", {"salutation": "mr", "last_name": "Smith"}, "Dear Mr Smith"),
        ("en", {"salutation": "ms", "title": "Dr.", "last_name": "Smith"}, "Dear Dr Smith"),
        ("de", {"first_name": "Erika", "last_name": "Mustermann"}, "Guten Tag Erika Mustermann"),
        ("en", {"first_name": "Erika", "last_name": "Mustermann"}, "Dear Erika Mustermann"),
        ("de", {"salutation": "neutral", "first_name": "Kim", "last_name": "Berg"}, "Guten Tag Kim Berg"),
        ("en", {"salutation": "neutral", "first_name": "Kim", "last_name": "Berg"}, "Dear Kim Berg"),
        ("de", {"kind": "organisation", "organisation_name": "Stadtwerke"}, "Sehr geehrte Damen und Herren"),
        ("en", {"kind": "organisation", "organisation_name": "Stadtwerke"}, "Dear Sir or Madam"),
        ("de", {}, "Sehr geehrte Damen und Herren"),
    ],
)
def test_formal_greeting(language: str, person: dict[str, str], expected: str) -> None:
    assert formal_greeting(language, **person) == expected


def test_full_name_reads_naturally() -> None:
    assert (
        full_name(title="Dr.", first_name="Erika", last_name="Mustermann", display_name="Mustermann, Erika")
        == "Dr. Erika Mustermann"
    )
    assert full_name(kind="organisation", organisation_name="Stadtwerke Rheinfeld") == "Stadtwerke Rheinfeld"


def test_default_acknowledgement_greets_formally(make_user: Callable[..., Any], db: Any, settings: Any, tmp_path: Any) -> None:
    from leitplanke.cases.services import case_create
    from leitplanke.customers.services import customer_create, customer_update
    from leitplanke.intake import replies
    from leitplanke.intake.selectors import template_for

    settings.MEDIA_ROOT = tmp_path
    lead = make_user("team_lead")
    erika = customer_create(actor=lead, first_name="Erika", last_name="Mustermann", emails=["erika@example.org"])
    case = case_create(actor=None, case_type="complaint", subject="Abschlag", channel="email", customer=erika)
    version = template_for(case, "acknowledgement")
    assert version is not None and version.body.startswith("{{salutation}},")
    text = replies.render_template_text(version.body, replies.placeholder_values(case))
    assert text.startswith("Guten Tag Erika Mustermann,\n")
    customer_update(actor=lead, customer=erika, salutation="ms", title="Dr.")
    case.refresh_from_db()
    assert replies.render_template_text("{{salutation}}, {{customer_name}}", replies.placeholder_values(case)) == (
        "Sehr geehrte Frau Dr. Mustermann, Dr. Erika Mustermann"
    )


def test_salutation_through_the_api_and_refused_when_unknown(
    make_user: Callable[..., Any], api_client_for: Callable[..., Any], db: Any
) -> None:
    import json

    client = api_client_for(make_user("team_lead"))
    body = {"salutation": "mr", "title": "Prof.", "first_name": "Max", "last_name": "Muster"}
    response = client.post("/api/v1/customers", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["salutation"] == "mr" and response.json()["title"] == "Prof."
    bad = client.post("/api/v1/customers", json.dumps({**body, "salutation": "sir"}), content_type="application/json")
    assert bad.status_code == 422


def test_migration_gives_old_default_templates_a_formal_version(db: Any) -> None:
    import importlib

    from django.apps import apps

    from leitplanke.intake.models import ReplyTemplate, ReplyTemplateVersion

    template = ReplyTemplate.objects.get(key="reply", language="de")
    ReplyTemplateVersion.objects.create(template=template, number=99, subject="S", body="Guten Tag {{customer_name}},\n\nText")
    importlib.import_module("leitplanke.intake.migrations.0006_default_templates_formal_salutation").forward(apps, None)
    latest = template.versions.order_by("-number").first()
    assert latest.number == 100 and latest.body == "{{salutation}},\n\nText"
