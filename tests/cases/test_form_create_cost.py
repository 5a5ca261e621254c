"""The new-case form's cost (issue 23: the form's POST cost 2.3× the API's, 5.7× with the
form page): reference data from the process cache, no query the rendering alone needs on
POST, and `<select>` markup built in Python. Figures: bench/form_create.py, docs/benchmarks.md."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leitplanke.cases.forms import CaseForm, PlainSelect
from leitplanke.cases.models import Case, CaseType

NEW = "/cases/new/"


def _sqls(run: Callable[[], Any]) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        run()
    return [query["sql"] for query in captured.captured_queries]


def _post_data(chosen: CaseType, **extra: Any) -> dict[str, Any]:
    return {
        "case_type": chosen.pk,
        "subject": "Zähler klemmt",
        "description": "Seit Montag.",
        "channel": "phone",
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "language": "de",
        "priority": 3,
        "severity": "minor",
        **extra,
    }


@pytest.fixture
def agent(make_user: Callable[..., Any], team_a: Any) -> Any:
    return make_user("agent", teams=[team_a], name="Berta Bearbeiterin")


def test_form_post_reads_no_roles_and_no_case_type(client_for: Callable[..., Any], agent: Any, complaint_type: CaseType) -> None:
    client = client_for(agent)
    client.get(NEW)  # fills the process cache
    sqls = _sqls(lambda: client.post(NEW, _post_data(complaint_type)))
    assert Case.objects.filter(subject="Zähler klemmt").count() == 1
    assert not [sql for sql in sqls if 'FROM "accounts_role"' in sql], sqls
    assert not [sql for sql in sqls if 'FROM "cases_casetype"' in sql], sqls
    assert not [sql for sql in sqls if sql.startswith("SELECT") and 'FROM "accounts_user"' in sql and "DISTINCT" in sql]


def test_form_page_reads_case_types_and_candidates_from_the_cache(
    client_for: Callable[..., Any], agent: Any, complaint_type: CaseType
) -> None:
    client = client_for(agent)
    client.get(NEW)
    sqls = _sqls(lambda: client.get(NEW))
    assert not [sql for sql in sqls if "accounts_role" in sql or "cases_casetype" in sql], sqls
    body = client.get(NEW).content.decode()
    assert f'<option value="{complaint_type.pk}" selected>' in body
    assert '<option value="">—</option>' in body and "Berta Bearbeiterin</option>" in body


def test_responsible_choices_follow_user_and_role_changes(make_user: Callable[..., Any], complaint_type: CaseType) -> None:
    names = lambda: [label for _value, label in CaseForm(case_type=complaint_type).fields["responsible_user"].choices]  # noqa: E731
    assert "Neu Eingestellt" not in names()
    newcomer = make_user("agent", name="Neu Eingestellt")
    assert "Neu Eingestellt" in names()
    newcomer.is_active = False
    newcomer.save()
    assert "Neu Eingestellt" not in names()
    reader = make_user("auditor", name="Nur Lesend")
    assert "Nur Lesend" not in names()
    form = CaseForm(_post_data(complaint_type, responsible_user=reader.pk), case_type=complaint_type)
    assert not form.is_valid() and "responsible_user" in form.errors


def test_unknown_or_inactive_case_type_is_refused(complaint_type: CaseType) -> None:
    form = CaseForm(_post_data(complaint_type, case_type=999999), case_type=None)
    assert not form.is_valid() and "case_type" in form.errors
    other = CaseType.objects.exclude(pk=complaint_type.pk).first()
    assert other is not None
    other.is_active = False
    other.save()
    form = CaseForm(_post_data(complaint_type, case_type=other.pk), case_type=None)
    assert not form.is_valid() and "case_type" in form.errors
    form = CaseForm(_post_data(complaint_type), case_type=complaint_type)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["case_type"].pk == complaint_type.pk


@pytest.mark.parametrize("value", ["b", "", None])
def test_plain_select_renders_what_djangos_select_renders(value: Any) -> None:
    choices = [("", "—"), ("a", 'Ä <b>"&</b>'), ("b", "Zwei"), ("Gruppe", [("c", "Drei"), ("d", "Vier")])]
    attrs = {"id": "id_x", "required": True, "disabled": False, "data-case-type": "1", "aria-describedby": "id_x_help"}
    stock = forms.Select(attrs=attrs, choices=choices).render("x", value)
    plain = PlainSelect(attrs=attrs, choices=choices).render("x", value)
    assert re.sub(r">\s+<", "><", stock).strip() == plain
