"""Issue 23, task 2: the composer under the conversation on the case page — template
filled in for the case, Cc, attachments, preview on demand, and send + status in one
transaction (nothing half-stored when a part is refused)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from leitplanke.accounts.models import Team, User
from leitplanke.cases.models import Case, CaseType, Interaction, InteractionKind
from leitplanke.cases.services import case_create, interaction_add
from leitplanke.customers.services import customer_create
from leitplanke.intake.models import ReplyTemplate

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "files"
    return settings.MEDIA_ROOT


@pytest.fixture
def team(db: Any) -> Team:
    return Team.objects.create(name="Beschwerde-Team")


@pytest.fixture
def case(team: Team) -> Case:
    customer = customer_create(actor=None, first_name="Erika", last_name="Muster", emails=["erika@example.de"])
    case = case_create(
        actor=None,
        case_type=CaseType.objects.get(key="complaint"),
        subject="Abschlag zu hoch",
        channel="email",
        customer=customer,
        team=team,
    )
    interaction_add(
        actor=None, case=case, kind="inbound_message", subject="Frage", body_text="Wann kommt das Geld?", channel="email"
    )
    return case


@pytest.fixture
def agent(make_user: Callable[..., User], team: Team) -> User:
    return make_user("agent", teams=[team], name="Anna Agent", language="en")


def url(case: Case) -> str:
    return f"/intake/cases/{case.pk}/composer/"


def test_composer_shows_the_last_message_and_the_template_filled_in(
    agent: User, case: Case, client_for: Callable[[User], Client]
) -> None:
    client = client_for(agent)
    response = client.get(url(case), headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Wann kommt das Geld?" in html
    assert "Ihr Anliegen: Abschlag zu hoch" in html  # the case's values, not {{case_subject}}
    assert "{{" not in html.split('name="body"')[1].split("</textarea>")[0]
    english = ReplyTemplate.objects.get(key="reply", language="en")
    html = client.get(url(case), {"template": english.pk, "cc": "x@example.org"}, headers={"HX-Request": "true"}).content.decode()
    assert "Your message: Abschlag zu hoch" in html and 'value="x@example.org"' in html
    assert client.get(url(case)).status_code == 200  # a page of its own without script


def test_send_with_cc_attachment_and_status_in_one_step(
    agent: User, case: Case, client_for: Callable[[User], Client], django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(agent)
    data = {
        "to": "erika@example.de",
        "cc": "berater@example.org, zweite@example.org",
        "subject": "Ihr Anliegen: {{case_subject}}",
        "body": "Guten Tag,\nwir haben korrigiert.",
        "transition": "wait",
        "version": case.version,
        "action": "send",
        "attachments": [SimpleUploadedFile("gutschrift.pdf", PDF, "application/pdf")],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(case), data, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"/cases/{case.pk}/"
    case.refresh_from_db()
    assert case.status == "waiting_customer"
    reply = Interaction.objects.get(case=case, kind=InteractionKind.OUTBOUND_MESSAGE)
    assert reply.data["cc"] == ["berater@example.org", "zweite@example.org"]
    assert [a.original_name for a in reply.attachments.all()] == ["gutschrift.pdf"]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.cc == ["berater@example.org", "zweite@example.org"]
    assert message.attachments[0][0] == "gutschrift.pdf" and message.attachments[0][1] == PDF
    assert "Abschlag zu hoch" in message.subject


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"cc": "not-an-address"}, "cc"),
        ({"transition": "close"}, "transition"),  # not possible from "new"
        (
            {"attachments": [SimpleUploadedFile("virus.exe", b"MZ\x90\x00" + b"\x00" * 100, "application/octet-stream")]},
            "attachments",
        ),
        ({"body": "{{nope}}"}, "body"),
    ],
)
def test_a_refused_part_stores_nothing_and_keeps_the_input(
    agent: User, case: Case, client_for: Callable[[User], Client], change: dict[str, Any], field: str
) -> None:
    data = {"to": "erika@example.de", "subject": "Betreff", "body": "Text", "action": "send", "version": case.version}
    data.update(change)
    response = client_for(agent).post(url(case), data, headers={"HX-Request": "true"})
    assert response.status_code in (400, 409)
    html = response.content.decode()
    assert 'value="Betreff"' in html
    assert not Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND_MESSAGE).exists()
    case.refresh_from_db()
    assert case.status == "new" and not mail.outbox


def test_preview_sends_nothing(agent: User, case: Case, client_for: Callable[[User], Client]) -> None:
    data = {"to": "erika@example.de", "subject": "Ihr Anliegen: {{case_subject}}", "body": "Hallo", "action": "preview"}
    response = client_for(agent).post(url(case), data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert f"Ihr Anliegen: Abschlag zu hoch [{case.reference}]" in response.content.decode()
    assert not Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND_MESSAGE).exists()


def test_only_who_may_edit_the_case_may_compose(
    case: Case, make_user: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    other_team = make_user("agent", teams=[Team.objects.create(name="Andere")], language="en")
    auditor = make_user("auditor", language="en")
    assert client_for(other_team).get(url(case)).status_code == 404
    assert client_for(auditor).get(url(case)).status_code in (403, 404)
    data = {"to": "erika@example.de", "subject": "S", "body": "T", "action": "send"}
    assert client_for(auditor).post(url(case), data).status_code in (403, 404)
    assert Client().get(url(case)).status_code == 302
    assert not Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND_MESSAGE).exists()


def test_the_next_status_choices_are_the_steps_of_the_cases_process(
    agent: User, case: Case, client_for: Callable[[User], Client]
) -> None:
    """The choices come from the case's own process version (not the old built-in
    lifecycle): its steps and labels, and no step that asks for input the composer does not
    have — closing a resolved complaint needs outcome, root cause and summary (case page)."""
    from leitplanke.cases.selectors import available_transitions
    from leitplanke.cases.services import case_transition

    client = client_for(agent)

    def offered_on_page(case: Case) -> None:
        html = client.get(url(case)).content.decode()
        offered = [a.transition for a in available_transitions(actor=agent, case=case) if a.available]
        assert offered and all(f'value="{t.key}"' in html and t.label_en in html for t in offered)

    offered_on_page(case)
    resolved = case_transition(actor=agent, case=case, transition="resolve")
    offered_on_page(resolved)
    assert 'value="close"' not in client.get(url(resolved)).content.decode()
