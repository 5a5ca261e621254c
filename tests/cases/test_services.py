"""Case services: create, update (versions), transitions, timeline, attachments, custom fields."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from leitplanke.cases import selectors, services
from leitplanke.cases.models import (
    Attachment,
    Case,
    CaseSearchDocument,
    Category,
    CustomFieldDefinition,
    FieldKind,
    Interaction,
    InteractionKind,
)
from leitplanke.core.errors import PermissionDenied, PreconditionFailed, ValidationFailed
from leitplanke.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def audit_actions(obj: Any) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


@pytest.fixture
def agent(make_user: Any, team_a: Any) -> Any:
    return make_user("agent", teams=[team_a])


@pytest.fixture
def case(make_case: Any, agent: Any, team_a: Any) -> Case:
    return make_case(actor=agent, team=team_a)


# --- create -------------------------------------------------------------------------------


def test_create_sets_initial_status_timeline_search_and_audit(case: Case, agent: Any) -> None:
    assert case.status == "new" and case.status_kind == "open" and case.version == 1
    assert case.created_by == agent
    entries = list(case.interactions.all())
    assert [e.kind for e in entries] == [InteractionKind.SYSTEM]
    assert entries[0].data["event"] == "created"
    document = CaseSearchDocument.objects.get(case=case)
    assert "Zählerstand" in document.text and "Rechnung" in document.text
    assert audit_actions(case) == ["case.create"]


def test_create_validates_fields_with_field_errors(agent: Any, complaint_type: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.case_create(
            actor=agent, case_type=complaint_type, subject="  ", channel="fax", priority=9, severity="huge", language="fr"
        )
    assert set(caught.value.field_errors) >= {"subject", "channel", "priority", "severity", "language"}
    assert not Case.objects.exists()


def test_received_in_the_past_is_allowed_and_audited_future_refused(agent: Any, make_case: Any, team_a: Any) -> None:
    past = timezone.now() - dt.timedelta(days=3)
    case = make_case(actor=agent, team=team_a, received_at=past)
    assert case.received_at == past
    event = AuditEvent.objects.get(action="case.create", object_id=str(case.pk))
    assert event.after["backdated"] is True and event.after["received_at"].startswith(past.date().isoformat())
    with pytest.raises(ValidationFailed) as caught:
        make_case(actor=agent, received_at=timezone.now() + dt.timedelta(days=1))
    assert "received_at" in caught.value.field_errors


def test_contract_must_belong_to_customer(agent: Any, make_case: Any) -> None:
    from leitplanke.customers.models import Contract, Customer, Product

    product = Product.objects.create(code="strom", name_de="Strom", name_en="Power")
    alice = Customer.objects.create(customer_number="K-1", display_name="Alice")
    bob = Customer.objects.create(customer_number="K-2", display_name="Bob")
    contract = Contract.objects.create(customer=bob, product=product, contract_number="V-1")
    with pytest.raises(ValidationFailed) as caught:
        make_case(actor=agent, customer=alice, contract=contract)
    assert "contract" in caught.value.field_errors
    case = make_case(actor=agent, customer=bob, contract=contract)
    assert case.product == product  # taken from the contract


def test_case_without_team_lands_in_agent_team(agent: Any, make_case: Any, team_a: Any) -> None:
    case = make_case(actor=agent)
    assert case.team == team_a
    assert selectors.case_get(actor=agent, case_id=case.pk) == case


def test_system_can_create_without_actor(make_case: Any) -> None:
    case = make_case(actor=None)
    assert AuditEvent.objects.get(action="case.create", object_id=str(case.pk)).actor_label == "system"


# --- update and versions --------------------------------------------------------------------


def test_update_increments_version_writes_one_change_entry_and_audit(case: Case, agent: Any, make_user: Any, team_a: Any) -> None:
    colleague = make_user("agent", teams=[team_a], name="Clara Colleague")
    category = Category.objects.get(key="billing-meter-reading")
    updated = services.case_update(
        actor=agent,
        case=case,
        expected_version=1,
        subject="Neuer Betreff",
        priority=4,
        category=category,
        tags="Zähler, dringend",
        watchers=[colleague],
        responsible_user=colleague,
    )
    assert updated.version == 2
    assert sorted(updated.tags.values_list("name", flat=True)) == ["Zähler", "dringend"]
    changes = Interaction.objects.filter(case=case, kind=InteractionKind.FIELD_CHANGE)
    assert changes.count() == 1
    data = changes.get().data
    assert set(data["fields"]) == {"subject", "priority", "category", "tags", "watchers", "responsible_user"}
    assert data["from"]["priority"] == 2 and data["to"]["priority"] == 4
    assert data["display_to"]["responsible_user"] == "Clara Colleague"
    event = AuditEvent.objects.get(action="case.update", object_id=str(case.pk))
    assert event.before["subject"] == "Zählerstand falsch abgelesen" and event.after["subject"] == "Neuer Betreff"
    assert "Neuer Betreff" in CaseSearchDocument.objects.get(case=case).text


def test_update_without_changes_writes_nothing(case: Case, agent: Any) -> None:
    services.case_update(actor=agent, case=case, subject=case.subject)
    assert Case.objects.get(pk=case.pk).version == 1
    assert audit_actions(case) == ["case.create"]


def test_version_conflict(case: Case, agent: Any) -> None:
    services.case_update(actor=agent, case=case, expected_version=1, priority=3)
    stale = Case.objects.get(pk=case.pk)
    with pytest.raises(PreconditionFailed):
        services.case_update(actor=agent, case=stale, expected_version=1, priority=1)
    with pytest.raises(PreconditionFailed):
        services.case_transition(actor=agent, case=stale, transition="start", expected_version=1)
    assert Case.objects.get(pk=case.pk).priority == 3


def test_update_applies_tag_and_watcher_deltas_to_what_is_stored(case: Case, agent: Any, make_user: Any, team_a: Any) -> None:
    colleague = make_user("agent", teams=[team_a])
    services.case_update(actor=agent, case=case, tags=["Presse", "vip"])
    services.case_update(actor=agent, case=case, tags_add=["VIP", "Ombudsstelle"], tags_remove=["presse"])
    assert sorted(case.tags.values_list("name", flat=True)) == ["Ombudsstelle", "vip"]
    services.case_update(actor=agent, case=case, watchers_add=[colleague.pk, agent])
    services.case_update(actor=agent, case=case, watchers_remove=[agent.pk])
    assert list(case.watchers.all()) == [colleague]
    case.refresh_from_db()
    version = case.version
    services.case_update(actor=agent, case=case, tags_add=["vip"])  # there already: no change, no new version
    case.refresh_from_db()
    assert case.version == version
    with pytest.raises(ValidationFailed) as excinfo:
        services.case_update(actor=agent, case=case, tags=["a"], tags_add=["b"])
    assert list(excinfo.value.field_errors) == ["tags"]
    with pytest.raises(ValidationFailed) as excinfo:
        services.case_update(actor=agent, case=case, tags_add=["a,b"])
    assert list(excinfo.value.field_errors) == ["tags"]


def test_update_refuses_unknown_and_status_fields(case: Case, agent: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.case_update(actor=agent, case=case, status="closed")
    assert "status" in caught.value.field_errors


# --- transitions --------------------------------------------------------------------------


def test_valid_transitions_set_status_kind_and_closed_at(case: Case, agent: Any) -> None:
    case = services.case_transition(actor=agent, case=case, transition="start", note="Ich kümmere mich")
    assert (case.status, case.status_kind, case.version) == ("in_progress", "open", 2)
    case = services.case_transition(actor=agent, case=case, transition="resolve")
    assert case.status_kind == "resolved" and case.closed_at is None
    closing = {"outcome": "upheld", "root_cause": "billing", "resolution_summary": "Refunded."}
    case = services.case_transition(actor=agent, case=case, transition="close", fields=closing)
    assert case.status_kind == "closed" and case.closed_at is not None
    case = services.case_transition(actor=agent, case=case, transition="reopen")
    assert case.status == "in_progress" and case.closed_at is None
    entries = Interaction.objects.filter(case=case, kind=InteractionKind.STATUS_CHANGE).order_by("id")
    assert [(e.data["from"], e.data["to"]) for e in entries] == [
        ("new", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
        ("closed", "in_progress"),
    ]
    assert entries[0].body_text == "Ich kümmere mich"
    assert audit_actions(case).count("case.transition") == 4


@pytest.mark.parametrize(
    ("transition", "code"), [("fly", "unknown_transition"), ("close", "transition_not_available"), ("", "unknown_transition")]
)
def test_invalid_transitions(case: Case, agent: Any, transition: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.case_transition(actor=agent, case=case, transition=transition)
    assert caught.value.code == code
    assert "transition" in caught.value.field_errors
    assert Case.objects.get(pk=case.pk).status == "new"


def test_available_transitions_follow_lifecycle(case: Case, agent: Any, make_user: Any) -> None:
    offered = selectors.available_transitions(actor=agent, case=case)
    # The complaint process (ISO 10002 steps) from a new complaint, all available.
    assert [t.transition.key for t in offered] == ["acknowledge", "assess", "start", "wait", "resolve", "escalate"]
    assert all(t.available for t in offered)
    auditor = make_user("auditor")
    assert selectors.available_transitions(actor=auditor, case=case) == []


# --- timeline -----------------------------------------------------------------------------


def test_notes_are_sanitised_searchable_and_audited(case: Case, agent: Any) -> None:
    html = (
        '<p onclick="steal()">Hallo <b>Kunde</b><script>alert(1)</script>'
        '<a href="javascript:alert(1)">x</a><a href="https://example.org">ok</a>'
        '<img src=x onerror=alert(1)><style>p{}</style><iframe src="https://evil"></iframe></p>'
    )
    note = services.interaction_add(actor=agent, case=case, kind="internal_note", body_html=html)
    lowered = note.body_html.lower()
    for forbidden in ("script", "onclick", "onerror", "javascript:", "<img", "<style", "<iframe"):
        assert forbidden not in lowered
    assert "<b>Kunde</b>" in note.body_html and 'href="https://example.org"' in note.body_html
    assert "Hallo Kunde" in note.body_text
    assert "Hallo Kunde" in CaseSearchDocument.objects.get(case=case).text
    assert "interaction.add" in audit_actions(note)
    assert Case.objects.get(pk=case.pk).last_activity_at >= note.occurred_at


def test_agents_cannot_add_inbound_or_system_entries(case: Case, agent: Any) -> None:
    for kind in ("inbound_message", "status_change", "system", "bogus"):
        with pytest.raises(ValidationFailed):
            services.interaction_add(actor=agent, case=case, kind=kind, body_text="x")
    with pytest.raises(ValidationFailed):
        services.interaction_add(actor=agent, case=case, kind="internal_note", body_text="   ")


def test_intake_adds_inbound_message_as_system(case: Case) -> None:
    message = services.interaction_add(
        actor=None,
        case=case,
        kind="inbound_message",
        body_text="Guten Tag",
        subject="Re: Rechnung",
        channel="email",
        is_internal=False,
        author_label="kunde@example.org",
        message_id="<abc@example.org>",
    )
    assert message.author is None and message.author_label == "kunde@example.org"
    assert "Guten Tag" in CaseSearchDocument.objects.get(case=case).text


# --- attachments --------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_attachment_is_stored_outside_static_under_random_name(case: Case, agent: Any, media_root: Path) -> None:
    upload = SimpleUploadedFile("../../etc/Rechnung März.pdf", PDF, content_type="text/html")
    attachment = services.attachment_add(actor=agent, case=case, uploaded_file=upload)
    assert attachment.content_type == "application/pdf"  # sniffed, the client's claim ignored
    assert attachment.original_name == "Rechnung März.pdf"
    assert attachment.stored_name.endswith(".pdf") and len(attachment.stored_name) == 36
    assert "Rechnung" not in attachment.file.name
    path = Path(attachment.file.path).resolve()
    assert path.is_relative_to(Path(media_root).resolve())
    assert not path.is_relative_to(Path(settings.STATIC_ROOT).resolve())
    assert path.read_bytes() == PDF
    import hashlib

    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest() and attachment.size == len(PDF)
    assert attachment.interaction.kind == InteractionKind.ATTACHMENT
    assert audit_actions(attachment) == ["attachment.add"]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
        (b"GIF89a" + b"\x00" * 10, "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        ("Grüße\nvom Kunden".encode(), "text/plain"),
        (b"From: a@example.org\nTo: b@example.org\nSubject: Hallo\n\nText", "message/rfc822"),
    ],
)
def test_attachment_types_are_detected(case: Case, agent: Any, content: bytes, content_type: str) -> None:
    attachment = services.attachment_add(actor=agent, case=case, uploaded_file=content, name="upload.bin")
    assert attachment.content_type == content_type


def test_office_documents_are_detected(case: Case, agent: Any) -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    attachment = services.attachment_add(actor=agent, case=case, uploaded_file=("Brief.docx", buffer.getvalue()))
    assert attachment.content_type.endswith("wordprocessingml.document")


@pytest.mark.parametrize(
    "content",
    [
        b"MZ\x90\x00" + b"\x00" * 64,
        b"\x7fELF\x02\x01\x01" + b"\x00" * 32,
        b"#!/bin/sh\nrm -rf /\n",
        b"<html><script>alert(1)</script></html>",
        b"\x00\x01\x02\x03\x04binary garbage\x00\x00",
    ],
)
def test_programs_scripts_and_unknown_binaries_are_refused(case: Case, agent: Any, content: bytes) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.attachment_add(actor=agent, case=case, uploaded_file=content, name="harmlos.pdf")
    assert "file" in caught.value.field_errors
    assert not Attachment.objects.exists()


def test_archives_with_programs_are_refused(case: Case, agent: Any) -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("setup.exe", "MZ")
    with pytest.raises(ValidationFailed):
        services.attachment_add(actor=agent, case=case, uploaded_file=buffer.getvalue(), name="a.zip")


def test_attachment_size_limit(case: Case, agent: Any, settings: Any) -> None:
    settings.LEITPLANKE_MAX_ATTACHMENT_BYTES = 1024
    with pytest.raises(ValidationFailed) as caught:
        services.attachment_add(actor=agent, case=case, uploaded_file=PDF + b"0" * 2000, name="big.pdf")
    assert "file" in caught.value.field_errors
    with pytest.raises(ValidationFailed):
        services.attachment_add(actor=agent, case=case, uploaded_file=b"", name="empty.txt")
    assert not Attachment.objects.exists()


def test_long_names_are_truncated(case: Case, agent: Any) -> None:
    attachment = services.attachment_add(actor=agent, case=case, uploaded_file=PDF, name="a" * 400 + ".pdf")
    assert len(attachment.original_name) == 255 and attachment.original_name.endswith(".pdf")


# --- custom fields ------------------------------------------------------------------------


@pytest.fixture
def custom_type(complaint_type: Any) -> Any:
    def define(key: str, kind: str, **extra: Any) -> None:
        CustomFieldDefinition.objects.create(case_type=complaint_type, key=key, label_de=key, label_en=key, kind=kind, **extra)

    define("note", FieldKind.TEXT)
    define("meter", FieldKind.NUMBER)
    define("amount", FieldKind.MONEY)
    define("reading_date", FieldKind.DATE)
    define(
        "tariff",
        FieldKind.CHOICE,
        choices=[
            {"value": "basis", "label_de": "Basis", "label_en": "Basic"},
            {"value": "oeko", "label_de": "Öko", "label_en": "Green"},
        ],
    )
    define("callback", FieldKind.BOOLEAN)
    define("contract_ref", FieldKind.TEXT, required=True)
    return complaint_type


def test_custom_fields_are_cleaned_per_kind(custom_type: Any) -> None:
    cleaned = services.validate_custom_fields(
        custom_type,
        {
            "note": " Hinweis ",
            "meter": "12,5",
            "amount": "12.5",
            "reading_date": "2026-03-01",
            "tariff": "oeko",
            "callback": "ja",
            "contract_ref": "V-1",
        },
    )
    assert cleaned == {
        "note": "Hinweis",
        "meter": "12.5",
        "amount": {"amount": "12.50", "currency": "EUR"},
        "reading_date": "2026-03-01",
        "tariff": "oeko",
        "callback": True,
        "contract_ref": "V-1",
    }
    assert services.validate_custom_fields(
        custom_type, {"meter": 7, "contract_ref": "x", "amount": {"amount": "3", "currency": "gbp"}}
    )["amount"] == {"amount": "3.00", "currency": "GBP"}


@pytest.mark.parametrize(
    ("values", "bad_field"),
    [
        ({"note": "x" * 2001}, "custom_fields.note"),
        ({"meter": "viele"}, "custom_fields.meter"),
        ({"meter": "1e999999"}, "custom_fields.meter"),
        ({"meter": "1000000000000000"}, "custom_fields.meter"),
        ({"meter": "0.0000001"}, "custom_fields.meter"),
        ({"meter": "NaN"}, "custom_fields.meter"),
        ({"amount": "12.505"}, "custom_fields.amount"),
        ({"amount": 1.5}, "custom_fields.amount"),
        ({"amount": {"amount": "1", "currency": "EURO"}}, "custom_fields.amount"),
        ({"reading_date": "01.03.2026"}, "custom_fields.reading_date"),
        ({"tariff": "gold"}, "custom_fields.tariff"),
        ({"callback": "vielleicht"}, "custom_fields.callback"),
        ({"unknown_field": "x"}, "custom_fields.unknown_field"),
    ],
)
def test_custom_field_errors_name_the_field(custom_type: Any, values: dict, bad_field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.validate_custom_fields(custom_type, {"contract_ref": "V-1", **values})
    assert bad_field in caught.value.field_errors


def test_required_custom_fields_are_enforced(custom_type: Any, agent: Any, make_case: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        make_case(actor=agent, custom_fields={"note": "x"})
    assert "custom_fields.contract_ref" in caught.value.field_errors
    case = make_case(actor=agent, custom_fields={"contract_ref": "V-9", "amount": "4,20"})
    assert case.custom_fields == {"contract_ref": "V-9", "amount": {"amount": "4.20", "currency": "EUR"}}
    case = services.case_update(actor=agent, case=case, custom_fields={"contract_ref": "V-10"})
    assert case.custom_fields == {"contract_ref": "V-10"}


# --- links, watching, categories ---------------------------------------------------------


def test_link_and_watch(case: Case, agent: Any, make_case: Any, team_a: Any) -> None:
    other = make_case(actor=agent, team=team_a)
    services.case_link(actor=agent, case=case, other=other, kind="duplicate")
    with pytest.raises(ValidationFailed):
        services.case_link(actor=agent, case=other, other=case, kind="related")
    with pytest.raises(ValidationFailed):
        services.case_link(actor=agent, case=case, other=case)
    assert [link["case"] for link in selectors.case_links(actor=agent, case=other)] == [case]
    services.case_watch(actor=agent, case=case, watching=True)
    services.case_watch(actor=agent, case=case, watching=True)  # idempotent, no second audit event
    assert list(case.watchers.all()) == [agent]
    services.case_watch(actor=agent, case=case, watching=False)
    assert audit_actions(case).count("case.watch") == 1 and "case.unwatch" in audit_actions(case)
    assert "case.link" in audit_actions(case)


def test_category_create_maintains_path_and_depth(make_user: Any) -> None:
    admin = make_user("administrator")
    root = services.category_create(actor=admin, parent=None, key="energie", name_de="Energie", name_en="Energy")
    child = services.category_create(actor=admin, parent=root, key="energie-netz", name_de="Netz", name_en="Grid")
    assert root.path == f"{root.pk}/" and root.depth == 0
    assert child.path == f"{root.pk}/{child.pk}/" and child.depth == 1
    assert audit_actions(child) == ["category.create"]
    with pytest.raises(ValidationFailed):
        services.category_create(actor=admin, parent=None, key="energie", name_de="x", name_en="x")
    with pytest.raises(PermissionDenied):
        services.category_create(actor=make_user("agent"), parent=None, key="neu", name_de="x", name_en="x")


def test_default_case_types_and_categories_exist(complaint_type: Any) -> None:
    from leitplanke.cases.models import CaseType

    assert set(CaseType.objects.values_list("key", flat=True)) >= {"complaint", "inquiry", "feedback", "data_protection"}
    assert complaint_type.is_complaint
    child = Category.objects.get(key="payments-chargeback")
    assert child.depth == 1 and child.path == f"{child.parent.path}{child.pk}/"


def test_creator_without_team_keeps_sight_of_the_case(make_user: Any, make_case: Any) -> None:
    loner = make_user("agent")
    case = make_case(actor=loner, case_type="inquiry")
    assert case.case_type.key == "inquiry" and case.team is None
    assert list(case.watchers.all()) == [loner]
    assert selectors.case_get(actor=loner, case_id=case.pk) == case
    with pytest.raises(ValidationFailed) as caught:
        make_case(actor=loner, case_type="no-such-type")
    assert "case_type" in caught.value.field_errors
