"""Text the database cannot store (NUL, lone surrogates) in the HTML interface: a form error
that keeps what was typed, for every form (core/forms.py), a 400 for query strings
(core/middleware.py), and nothing stored — where PostgreSQL answered 500 before."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import pytest
from django import forms
from django.test import Client
from django.urls import reverse
from django.utils import translation

from leitplanke.cases.models import Case, CaseType, SavedView, Tag
from leitplanke.core.checks import forms_refuse_unstorable_text, project_forms_without_text_check
from leitplanke.core.models import AuditEvent

from ..intake.test_public import form_data

pytestmark = pytest.mark.django_db

ENGLISH = "This text contains a character that cannot be stored (NUL or an unpaired surrogate)."
GERMAN = "Dieser Text enthält ein Zeichen, das nicht gespeichert werden kann (NUL oder ein einzelnes Surrogat)."


def test_every_form_of_the_project_refuses_unstorable_text() -> None:
    assert project_forms_without_text_check() == []
    assert forms_refuse_unstorable_text(None) == []


def test_the_system_check_names_a_form_without_the_check() -> None:
    bare = type("BareForm", (forms.Form,), {"__module__": "leitplanke.cases.forms", "name": forms.CharField()})
    try:
        errors = forms_refuse_unstorable_text(None)
        assert [error.id for error in errors] == ["leitplanke.E001"]
        assert "leitplanke.cases.forms.BareForm" in errors[0].msg
    finally:
        del bare
        gc.collect()


def test_case_form_shows_the_error_on_the_field_and_keeps_the_input(
    client_for: Callable[..., Client], make_user: Callable[..., Any], complaint_type: CaseType
) -> None:
    client = client_for(make_user("agent", language="de"))
    response = client.post(
        reverse("cases:create"),
        {
            "case_type": complaint_type.pk,
            "subject": "Abschlag zu hoch",
            "description": "Bitte prüfen\x00 Sie den Abschlag.",
            "channel": "email",
            "priority": 2,
            "severity": "minor",
            "language": "de",
            "received_at": "2026-03-02T09:15",
        },
    )
    assert response.status_code == 422
    assert response.context["form"].errors["description"] == [GERMAN]
    assert "Abschlag zu hoch" in response.content.decode()  # what was typed stays
    assert Case.objects.count() == 0


def multipart(fields: dict[str, Any]) -> bytes:
    parts = [f'--BB\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n' for name, value in fields.items()]
    return ("".join(parts) + "--BB--\r\n").encode()


def test_public_form_shows_the_error_and_keeps_the_input(complaint_type: CaseType) -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="203.0.113.9").post(
        "/complaint/", form_data(last_name="Muster\x00mann")
    )
    assert response.status_code == 400
    assert response.context["form"].errors["last_name"] == [ENGLISH]
    assert "Mein monatlicher Abschlag" in response.content.decode()
    assert Case.objects.count() == 0


def test_a_multipart_body_in_another_charset_is_refused(complaint_type: CaseType) -> None:
    """Browsers send UTF-8, and Django refuses other charsets for urlencoded bodies; a
    multipart body may declare UTF-7, in which "+2AA-" is a lone surrogate — which not even
    the page showing the form error could encode."""
    response = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="203.0.113.9").post(
        "/complaint/",
        multipart(form_data(last_name="Muster+2AA-mann")),
        content_type="multipart/form-data; boundary=BB",
        CONTENT_TYPE="multipart/form-data; boundary=BB; charset=utf-7",  # as sent: the test client would transcode
    )
    assert response.status_code == 400
    assert "Send forms encoded as UTF-8." in response.content.decode()
    assert Case.objects.count() == 0


def test_forms_refuse_lone_surrogates_too() -> None:
    from leitplanke.accounts.forms import ApiTokenForm

    # In English explicitly: the settings' language is German, and a request of an earlier
    # test on the same worker may have left either language active.
    with translation.override("en"):
        form = ApiTokenForm(data={"name": "CRM \ud800", "scopes": ["read", "\udfff"]})
        assert not form.is_valid()
    assert form.errors["name"] == [ENGLISH] and form.errors["scopes"] == [ENGLISH]


def test_query_strings_are_refused_with_a_400_that_names_the_parameter(
    client_for: Callable[..., Client], make_user: Callable[..., Any]
) -> None:
    client = client_for(make_user("quality_manager", language="de"))
    # Django decodes query strings with replacement: invalid UTF-8 such as %ED%A0%80 arrives as
    # U+FFFD, so only NUL gets this far.
    for url, names in (
        ("/customers/?q=M%00ller", "q"),
        ("/cases/?q=fee&tag=%00x&cursor=%00", "cursor, tag"),
        ("/cases/export.csv?q=%00", "q"),
    ):
        response = client.get(url)
        assert response.status_code == 400, url
        assert f"(NUL oder ein einzelnes Surrogat), in: {names}." in response.content.decode()
    assert client.get("/customers/?q=M%C3%BCller").status_code == 200
    assert client.get("/cases/?q=%ED%A0%80").status_code == 200
    assert not AuditEvent.objects.filter(action__startswith="case.export").exists()


def test_bulk_tag_and_saved_view_posted_outside_a_form_are_refused(
    client_for: Callable[..., Client], make_user: Callable[..., Any], make_case: Callable[..., Case]
) -> None:
    client = client_for(make_user("quality_manager"))
    case = make_case()
    response = client.post(reverse("case_list:bulk"), {"ids": [case.pk], "action": "add_tag", "tag": "VIP\x00"}, follow=True)
    assert ENGLISH in response.content.decode()
    assert not Tag.objects.filter(name__startswith="VIP").exists()
    response = client.post(reverse("case_list:saved_view_create"), {"name": "Meine\x00", "query": "q=fee"}, follow=True)
    assert ENGLISH in response.content.decode()
    client.post(reverse("case_list:saved_view_create"), {"name": "Meine", "query": "q=f%00ee"})
    assert not SavedView.objects.exists()
