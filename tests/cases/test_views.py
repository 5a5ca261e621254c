"""Case pages: create form, detail, edit with conflicts, notes, attachments, downloads."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leitplanke.cases import services
from leitplanke.cases.models import Attachment, Case, CustomFieldDefinition, Interaction, InteractionKind
from leitplanke.core.models import AuditEvent
from leitplanke.customers.models import Customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(make_user: Any, team_a: Any) -> Any:
    return make_user("agent", teams=[team_a], language="en")


@pytest.fixture
def client(client_for: Any, agent: Any) -> Any:
    return client_for(agent)


@pytest.fixture
def case(make_case: Any, agent: Any, team_a: Any) -> Case:
    return make_case(actor=agent, team=team_a)


def form_data(complaint_type: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "case_type": complaint_type.pk,
        "subject": "Abschlag zu hoch",
        "description": "Bitte prüfen.",
        "channel": "phone",
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "language": "de",
        "priority": "3",
        "severity": "moderate",
        "tags": "abschlag, prüfen",
    }
    data.update(overrides)
    return data


def test_create_form_creates_case_and_redirects(client: Any, complaint_type: Any, team_a: Any) -> None:
    Customer.objects.create(customer_number="K-100", display_name="Müller, Anna")
    page = client.get("/cases/new/")
    assert page.status_code == 200 and b'name="subject"' in page.content
    response = client.post("/cases/new/", form_data(complaint_type, customer_number="k-100", team=team_a.pk))
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == f"/cases/{case.pk}/"
    assert case.customer.customer_number == "K-100" and case.priority == 3 and case.team == team_a
    assert sorted(case.tags.values_list("name", flat=True)) == ["abschlag", "prüfen"]
    assert AuditEvent.objects.filter(action="case.create", object_id=str(case.pk)).exists()


def test_create_form_errors_keep_input(client: Any, complaint_type: Any) -> None:
    response = client.post(
        "/cases/new/", form_data(complaint_type, subject="", customer_number="K-404", description="Mein langer Text")
    )
    assert response.status_code == 422
    content = response.content.decode()
    assert "Mein langer Text" in content and "No customer with this number." in content
    assert not Case.objects.exists()


def test_create_form_service_error_is_shown_on_field(client: Any, complaint_type: Any) -> None:
    future = (timezone.localtime() + timezone.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post("/cases/new/", form_data(complaint_type, received_at=future))
    assert response.status_code == 422
    assert "cannot be in the future" in response.content.decode()


def test_custom_fields_are_rendered_and_validated(client: Any, complaint_type: Any) -> None:
    CustomFieldDefinition.objects.create(
        case_type=complaint_type, key="amount", label_de="Betrag", label_en="Amount", kind="money", required=True
    )
    CustomFieldDefinition.objects.create(
        case_type=complaint_type,
        key="tariff",
        label_de="Tarif",
        label_en="Tariff",
        kind="choice",
        choices=[{"value": "basis", "label_de": "Basis", "label_en": "Basic"}],
    )
    CustomFieldDefinition.objects.create(
        case_type=complaint_type, key="callback", label_de="Rückruf", label_en="Callback", kind="boolean"
    )
    page = client.get(f"/cases/new/?case_type={complaint_type.pk}")
    assert b'name="cf_amount"' in page.content and b'<option value="basis">Basic</option>' in page.content
    assert b'name="cf_callback"' in page.content
    partial = client.get(f"/cases/new/?partial=custom_fields&case_type={complaint_type.pk}", HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and b'id="custom-fields"' in partial.content and b"<html" not in partial.content
    response = client.post("/cases/new/", form_data(complaint_type, cf_amount="zwölf"))
    assert response.status_code == 422 and "Enter an amount such as 12.50." in response.content.decode()
    response = client.post("/cases/new/", form_data(complaint_type, cf_amount="12,5"))
    assert response.status_code == 302
    assert Case.objects.get().custom_fields == {"amount": {"amount": "12.50", "currency": "EUR"}, "callback": False}


def test_detail_shows_facts_timeline_and_transitions(client: Any, case: Case, agent: Any) -> None:
    services.interaction_add(actor=agent, case=case, kind="internal_note", body_text="Kunde ruft zurück")
    services.case_transition(actor=agent, case=case, transition="start")
    content = client.get(f"/cases/{case.pk}/").content.decode()
    assert case.reference in content and "Kunde ruft zurück" in content
    assert "Investigation" in content and "Wait for customer" in content and "Give the response" in content


def test_vulnerability_flag_needs_sensitive_capability(make_user: Any, client_for: Any, make_case: Any, team_a: Any) -> None:
    customer = Customer.objects.create(
        customer_number="K-7", display_name="Schmidt, Otto", is_vulnerable=True, vulnerability_reason="Pflegefall"
    )
    case = make_case(actor=None, team=team_a, customer=customer)
    agent = make_user("agent", teams=[team_a], language="en")
    lead = make_user("team_lead", teams=[team_a], language="en")
    assert "Vulnerable customer" not in client_for(agent).get(f"/cases/{case.pk}/").content.decode()
    assert "Vulnerable customer" in client_for(lead).get(f"/cases/{case.pk}/").content.decode()


def test_edit_saves_with_version(client: Any, case: Case, complaint_type: Any) -> None:
    page = client.get(f"/cases/{case.pk}/edit/")
    assert b'name="version" value="1"' in page.content
    response = client.post(f"/cases/{case.pk}/edit/", form_data(complaint_type, subject="Geändert", version=1))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.subject == "Geändert" and case.version == 2
    assert Interaction.objects.filter(case=case, kind=InteractionKind.FIELD_CHANGE).count() == 1


def test_edit_conflict_answers_409_and_keeps_input(
    client: Any, case: Case, complaint_type: Any, make_user: Any, team_a: Any
) -> None:
    colleague = make_user("agent", teams=[team_a])
    services.case_update(actor=colleague, case=case, priority=4)  # saved meanwhile: version 2
    response = client.post(
        f"/cases/{case.pk}/edit/", form_data(complaint_type, subject="Mein Betreff", description="Meine Eingabe", version=1)
    )
    assert response.status_code == 409
    content = response.content.decode()
    assert "Someone else saved this case" in content
    assert "Mein Betreff" in content and "Meine Eingabe" in content
    assert 'name="version" value="2"' in content  # saving again applies the user's input on purpose
    case.refresh_from_db()
    assert case.subject != "Mein Betreff" and case.priority == 4


def test_transition_view_reports_invalid_and_stale(client: Any, case: Case) -> None:
    response = client.post(f"/cases/{case.pk}/transition/", {"transition": "close", "version": 1}, follow=True)
    assert "not possible in the current status" in response.content.decode()
    response = client.post(f"/cases/{case.pk}/transition/", {"transition": "start", "version": 99}, follow=True)
    assert "changed this case meanwhile" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "new"


def test_note_errors_keep_the_page(client: Any, case: Case) -> None:
    response = client.post(f"/cases/{case.pk}/notes/", {"kind": "inbound_message", "body_text": "Fake"})
    assert response.status_code == 422
    assert not Interaction.objects.filter(case=case, kind="inbound_message").exists()


def test_upload_and_download_attachment(client: Any, case: Case) -> None:
    upload = SimpleUploadedFile("Zählerfoto 03/2026.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, content_type="application/x-evil")
    response = client.post(f"/cases/{case.pk}/attachments/", {"file": upload})
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.original_name == "2026.png" or attachment.original_name.endswith(".png")
    download = client.get(f"/cases/{case.pk}/attachments/{attachment.pk}/")
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert download["X-Content-Type-Options"] == "nosniff"
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    assert b"".join(download.streaming_content).startswith(b"\x89PNG")
    # The attachment of another case is not reachable through this case's URL.
    assert client.get(f"/cases/{case.pk + 1000}/attachments/{attachment.pk}/").status_code == 404


def test_download_filename_is_rfc5987_encoded(client: Any, case: Case, agent: Any) -> None:
    attachment = services.attachment_add(actor=agent, case=case, uploaded_file=b"%PDF-1.4", name='Rechnung "März";.pdf')
    disposition = client.get(f"/cases/{case.pk}/attachments/{attachment.pk}/")["Content-Disposition"]
    assert "filename*=UTF-8''Rechnung%20%22M%C3%A4rz%22%3B.pdf" in disposition
    assert 'filename="Rechnung _M_rz__.pdf"' in disposition


def test_refused_upload_shows_error(client: Any, case: Case) -> None:
    upload = SimpleUploadedFile("tool.pdf", b"MZ\x90\x00" + b"\x00" * 64)
    response = client.post(f"/cases/{case.pk}/attachments/", {"file": upload})
    assert response.status_code == 422
    assert "not accepted" in response.content.decode()
    assert not Attachment.objects.exists()


def test_attachments_are_not_served_publicly(client: Any, case: Case, agent: Any) -> None:
    attachment = services.attachment_add(actor=agent, case=case, uploaded_file=b"%PDF-1.4", name="a.pdf")
    assert client.get(f"/media/{attachment.file.name}").status_code == 404
    assert client.get(f"/files/{attachment.file.name}").status_code == 404


def _detail_queries(client: Any, case: Case) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/cases/{case.pk}/").status_code == 200
    return len(captured)


def test_detail_query_count_is_constant(client: Any, make_case: Any, agent: Any, team_a: Any) -> None:
    small, large = make_case(actor=agent, team=team_a), make_case(actor=agent, team=team_a)
    services.interaction_add(actor=agent, case=small, kind="internal_note", body_text="eins")
    for n in range(10):
        services.interaction_add(actor=agent, case=large, kind="internal_note", body_text=f"Notiz {n}")
        services.attachment_add(actor=agent, case=large, uploaded_file=b"%PDF-1.4", name=f"{n}.pdf")
        services.case_update(actor=agent, case=Case.objects.get(pk=large.pk), priority=1 + n % 4)
    assert Interaction.objects.filter(case=small).count() == 2
    assert Interaction.objects.filter(case=large).count() >= 30
    _detail_queries(client, small)  # warm up session and caches
    small_count, large_count = _detail_queries(client, small), _detail_queries(client, large)
    print(f"detail queries: small={small_count} large={large_count}")
    assert large_count == small_count


def test_saving_the_edit_form_unchanged_records_nothing(
    client: Any, make_case: Any, agent: Any, team_a: Any, complaint_type: Any
) -> None:
    case = make_case(
        actor=agent,
        team=team_a,
        description="Zeile eins\nZeile zwei",
        received_at=timezone.now() - timezone.timedelta(hours=2, seconds=17),
        tags="a, b",
    )
    page = client.get(f"/cases/{case.pk}/edit/")
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {key: ("" if value is None else value) for key, value in data.items()}
    data["description"] = data["description"].replace("\n", "\r\n")  # as browsers send it
    data["received_at"] = timezone.localtime(case.received_at).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/cases/{case.pk}/edit/", data)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.version == 1
    assert not Interaction.objects.filter(case=case, kind=InteractionKind.FIELD_CHANGE).exists()


def test_detail_shows_custom_fields_readably(
    make_user: Any, client_for: Any, make_case: Any, team_a: Any, complaint_type: Any
) -> None:
    CustomFieldDefinition.objects.create(
        case_type=complaint_type, key="amount", label_de="Betrag", label_en="Amount", kind="money"
    )
    CustomFieldDefinition.objects.create(
        case_type=complaint_type,
        key="tariff",
        label_de="Tarif",
        label_en="Tariff",
        kind="choice",
        choices=[{"value": "oeko", "label_de": "Öko", "label_en": "Green"}],
    )
    case = make_case(actor=None, team=team_a, custom_fields={"amount": "1234.5", "tariff": "oeko"})
    german = client_for(make_user("agent", teams=[team_a], language="de")).get(f"/cases/{case.pk}/").content.decode()
    english = client_for(make_user("agent", teams=[team_a], language="en")).get(f"/cases/{case.pk}/").content.decode()
    assert "1.234,50 EUR" in german and "Öko" in german
    assert "1,234.50 EUR" in english and "Green" in english
