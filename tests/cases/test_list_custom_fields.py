"""Typed custom-field filters of the case list (`cf.<key>`, `cf.<key>.min`, `cf.<key>.max`):
the shared selector, the form's "Additional fields", saved views and export."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import translation

from leitplanke.cases import list_selectors
from leitplanke.cases.models import Case, CaseType, CustomFieldDefinition, SavedView
from leitplanke.core.models import AuditEvent

LIST = "/cases/"
NO_RANGE = "The field “%s” can only be filtered by exact values, not by a range."
QUOTED_MIN = "“cf.amount.min”"
BRANCHES = [
    {"value": "koeln", "label_de": "Köln", "label_en": "Cologne"},
    {"value": "bonn", "label_de": "Bonn", "label_en": "Bonn"},
]


def define(case_type: CaseType, key: str, kind: str, **extra: Any) -> CustomFieldDefinition:
    labels = {"label_de": f"{key} (de)", "label_en": f"{key} (en)", **extra}
    return CustomFieldDefinition.objects.create(case_type=case_type, key=key, kind=kind, **labels)


def matching(params: dict[str, Any]) -> set[str]:
    """The subjects of the cases the shared filter finds."""
    return set(list_selectors.filter_cases(Case.objects.all(), params).values_list("subject", flat=True))


@pytest.fixture
def fields(complaint_type: CaseType) -> dict[str, CustomFieldDefinition]:
    definitions = [
        define(complaint_type, "amount", "number", label_de="Anzahl Zähler", label_en="Number of meters", order=1),
        define(complaint_type, "disputed", "money", label_de="Strittiger Betrag", label_en="Disputed amount", order=2),
        define(complaint_type, "incident_on", "date", label_de="Vorfall am", label_en="Incident on", order=3),
        define(complaint_type, "branch", "choice", label_de="Filiale", label_en="Branch", choices=BRANCHES, order=4),
        define(complaint_type, "callback", "boolean", label_de="Rückruf", label_en="Call back", order=5),
        define(complaint_type, "note", "text", label_de="Notiz", label_en="Note", order=6),
    ]
    return {definition.key: definition for definition in definitions}


@pytest.fixture
def cases(fields: dict[str, Any], make_case: Callable[..., Case]) -> dict[str, Case]:
    """Four complaints whose custom fields are stored by the services, as in production."""
    values = {
        "nine": {"amount": "9", "disputed": "5", "incident_on": "2026-02-28", "branch": "koeln", "callback": "ja"},
        "ten": {"amount": 10, "disputed": {"amount": "49,90", "currency": "EUR"}, "incident_on": "2026-03-01", "note": "Zähler"},
        "ten and a half": {"amount": "10.5", "disputed": {"amount": "120", "currency": "CHF"}, "incident_on": "2026-03-31"},
        "empty": {"branch": "bonn", "callback": False},
    }
    return {subject: make_case(subject=subject, custom_fields=custom) for subject, custom in values.items()}


# --- the shared selector -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"cf.amount.min": "9,5"}, {"ten", "ten and a half"}),  # as text, "10" < "9,5"
        ({"cf.amount.max": "10"}, {"nine", "ten"}),
        ({"cf.amount.min": "10", "cf.amount.max": "10"}, {"ten"}),
        ({"cf.amount": "10,50"}, {"ten and a half"}),  # stored as the decimal string "10.5"
        ({"cf.amount": "10.5"}, {"ten and a half"}),
        ({"cf.amount": ["9", "10"]}, {"nine", "ten"}),  # repeated: any of them
        ({"cf.amount.min": "-1000"}, {"nine", "ten", "ten and a half"}),  # no value: no match
    ],
)
def test_numbers_compare_as_numbers(cases: dict[str, Case], params: dict[str, Any], expected: set[str]) -> None:
    assert matching(params) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"cf.disputed.min": "49.9"}, {"ten", "ten and a half"}),  # 120 CHF counts: the currency is ignored
        ({"cf.disputed.max": "49,90"}, {"nine", "ten"}),
        ({"cf.disputed.min": "6", "cf.disputed.max": "100"}, {"ten"}),
        ({"cf.disputed": "49.9"}, {"ten"}),
        ({"cf.disputed": "5"}, {"nine"}),
    ],
)
def test_money_compares_the_amount(cases: dict[str, Case], params: dict[str, Any], expected: set[str]) -> None:
    assert matching(params) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"cf.incident_on.min": "2026-03-01"}, {"ten", "ten and a half"}),  # inclusive
        ({"cf.incident_on.max": "2026-03-01"}, {"nine", "ten"}),
        ({"cf.incident_on.min": "2026-03-01", "cf.incident_on.max": "2026-03-30"}, {"ten"}),
        ({"cf.incident_on": "2026-03-31"}, {"ten and a half"}),
    ],
)
def test_dates_compare_as_iso_dates(cases: dict[str, Case], params: dict[str, Any], expected: set[str]) -> None:
    assert matching(params) == expected


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("true", {"nine"}),
        ("yes", {"nine"}),
        ("ja", {"nine"}),
        ("1", {"nine"}),
        ("TRUE", {"nine"}),
        ("false", {"empty"}),
        ("no", {"empty"}),
        ("nein", {"empty"}),
        ("0", {"empty"}),
    ],
)
def test_yes_no_accepts_the_usual_spellings(cases: dict[str, Case], spelling: str, expected: set[str]) -> None:
    assert matching({"cf.callback": spelling}) == expected


def test_choice_and_text_match_exactly_and_any_of(cases: dict[str, Case]) -> None:
    assert matching({"cf.branch": "koeln"}) == {"nine"}
    assert matching({"cf.branch": ["koeln", "bonn"]}) == {"nine", "empty"}
    assert matching({"cf.note": "Zähler"}) == {"ten"}
    assert matching({"cf.note": "Zäh"}) == set()  # exact, not a substring


def test_empty_values_are_no_filter(cases: dict[str, Case]) -> None:
    """The plain GET form sends every input, the empty ones too."""
    params = QueryDict("cf.amount.min=&cf.amount.max=&cf.branch=&cf.unknown=")
    assert matching(params) == set(cases)
    assert list_selectors.custom_field_filters(params).errors == {}


def test_values_another_kind_left_behind_never_cause_a_database_error(cases: dict[str, Case]) -> None:
    """A field's kind changed after values were stored: those rows simply do not match."""
    leftovers = [
        {"amount": "viel", "disputed": "49.90", "incident_on": 20260301},
        {"amount": "12 Stück", "disputed": {"amount": "viel"}, "incident_on": "gestern"},
        {"amount": True, "disputed": [1, 2], "incident_on": {"day": 1}},
        {"amount": {"value": 12}, "disputed": None, "incident_on": None},
    ]
    ranges = [{"cf.amount.min": "0"}, {"cf.amount.max": "1000"}, {"cf.disputed.min": "0"}, {"cf.incident_on.min": "2000-01-01"}]
    for number, custom in enumerate(leftovers):
        Case.objects.filter(pk=cases["empty"].pk).update(custom_fields=custom)
        for params in ranges:
            assert "empty" not in matching(params), (number, params)
    # Numeric text too large for PostgreSQL's numeric is not cast there (SQLite reads infinity).
    Case.objects.filter(pk=cases["empty"].pk).update(custom_fields={"amount": "1e999999"})
    assert matching({"cf.amount.min": "0"}) >= {"nine", "ten", "ten and a half"}


def test_a_key_with_different_kinds_per_case_type_compares_each_by_its_kind(
    cases: dict[str, Case], make_case: Callable[..., Case]
) -> None:
    inquiry = CaseType.objects.get(key="inquiry")
    define(inquiry, "amount", "money")
    make_case(subject="inquiry 60 EUR", case_type=inquiry, custom_fields={"amount": "60"})
    make_case(subject="inquiry 8 EUR", case_type=inquiry, custom_fields={"amount": "8"})
    assert matching({"cf.amount.min": "9,5"}) == {"ten", "ten and a half", "inquiry 60 EUR"}
    assert matching({"cf.amount": "8"}) == {"inquiry 8 EUR"}
    assert matching({"cf.amount.max": "9"}) == {"nine", "inquiry 8 EUR"}


@pytest.mark.parametrize(
    ("params", "parameter", "message"),
    [
        ({"cf.unknown": "1"}, "cf.unknown", "There is no field “unknown” to filter by."),
        ({"cf.Amount": "1"}, "cf.Amount", "There is no field “Amount” to filter by."),
        ({"cf.amount.between": "1"}, "cf.amount.between", "There is no field “amount.between” to filter by."),
        ({"cf.note.min": "a"}, "cf.note.min", "The field “note” can only be filtered by exact values, not by a range."),
        ({"cf.branch.max": "koeln"}, "cf.branch.max", "The field “branch” can only be filtered by exact values, not by a range."),
        (
            {"cf.callback.min": "1"},
            "cf.callback.min",
            "The field “callback” can only be filtered by exact values, not by a range.",
        ),
        ({"cf.amount.min": "viel"}, "cf.amount.min", "Enter a number."),
        ({"cf.amount": ["9", "1.234,5"]}, "cf.amount", "Enter a number."),
        ({"cf.amount.max": "1e5"}, "cf.amount.max", "Enter a number."),
        ({"cf.disputed.min": "12 EUR"}, "cf.disputed.min", "Enter an amount such as 12.50."),
        ({"cf.incident_on.max": "31.03.2026"}, "cf.incident_on.max", "Enter a date as YYYY-MM-DD."),
        ({"cf.callback": "vielleicht"}, "cf.callback", "Choose yes or no."),
        ({"cf.branch": "Köln"}, "cf.branch", "Choose one of the offered values."),  # the value, not the label
        ({"cf.amount.min": "10", "cf.amount.max": "9"}, "cf.amount.max", "Must not be below the lower bound."),
    ],
)
def test_problems_name_the_parameter_and_the_filter_is_ignored(
    cases: dict[str, Case], params: dict[str, Any], parameter: str, message: str
) -> None:
    with translation.override("en"):
        assert list_selectors.custom_field_filters(params).errors == {parameter: [message]}
    unfiltered = {key: value for key, value in params.items() if key != parameter}
    assert matching(params) == matching(unfiltered)


def test_inactive_fields_are_unknown(cases: dict[str, Case], fields: dict[str, CustomFieldDefinition]) -> None:
    CustomFieldDefinition.objects.filter(pk=fields["amount"].pk).delete()
    define(CaseType.objects.get(key="complaint"), "amount", "number", is_active=False)
    with translation.override("en"):
        errors = list_selectors.custom_field_filters({"cf.amount": "9"}).errors
    assert errors == {"cf.amount": ["There is no field “amount” to filter by."]}


# --- the case list: "Additional fields" --------------------------------------------------------


@pytest.fixture
def lead(make_user: Callable[..., Any]) -> Any:
    return make_user("quality_manager", name="Quinn Quality")


def page_subjects(response: Any) -> set[str]:
    assert response.status_code == 200
    return {case.subject for case in response.context["page"].items}


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("de", ["Zusatzfelder", "Anzahl Zähler", "Strittiger Betrag", "Vorfall am", "Filiale", "Köln", ">von<", ">bis<"]),
        ("en", ["Additional fields", "Number of meters", "Disputed amount", "Incident on", "Cologne", ">from<", ">to<"]),
    ],
)
def test_choosing_one_case_type_shows_its_fields_in_the_users_language(
    client_for: Callable[..., Any], make_user: Callable[..., Any], cases: dict[str, Case], language: str, texts: list[str]
) -> None:
    user = make_user("quality_manager", language=language)
    body = client_for(user).get(LIST, {"case_type": "complaint"}).content.decode()
    for text in texts:
        assert text in body, text
    assert 'name="cf.amount.min" inputmode="decimal"' in body
    assert 'name="cf.amount.max" inputmode="decimal"' in body
    assert 'type="date" name="cf.incident_on.min"' in body
    assert '<select name="cf.branch"' in body and '<option value="koeln">' in body
    assert '<select name="cf.callback"' in body and '<option value="true">' in body
    assert 'type="text" name="cf.note"' in body


def test_without_a_single_case_type_there_are_no_custom_field_inputs(
    client_for: Callable[..., Any], lead: Any, cases: dict[str, Case]
) -> None:
    client = client_for(lead)
    for params in ({}, {"case_type": ""}, {"q": "x"}):
        body = client.get(LIST, params).content.decode()
        assert "Additional fields" not in body and 'name="cf.' not in body


def test_the_list_filters_by_the_inputs_and_keeps_what_was_typed(
    client_for: Callable[..., Any], lead: Any, cases: dict[str, Case]
) -> None:
    client = client_for(lead)
    response = client.get(LIST, {"case_type": "complaint", "cf.disputed.min": "49,90", "cf.disputed.max": "", "cf.branch": ""})
    assert page_subjects(response) == {"ten", "ten and a half"}
    assert 'value="49,90"' in response.content.decode()
    assert page_subjects(client.get(LIST, {"case_type": "complaint", "cf.callback": "true"})) == {"nine"}


def test_a_malformed_value_is_shown_as_an_error_and_ignored(
    client_for: Callable[..., Any], make_user: Callable[..., Any], cases: dict[str, Case]
) -> None:
    client = client_for(make_user("quality_manager", language="de"))
    response = client.get(LIST, {"case_type": "complaint", "cf.amount.min": "viel", "cf.branch": "koeln"})
    assert page_subjects(response) == {"nine"}  # only the branch filters
    assert response.context["form"].errors == {"cf.amount.min": ["Bitte eine Zahl eingeben."]}
    assert "cf.amount.min" not in response.context["filter_query"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"cf.amount.min": "10"},
            "Choose one case type to filter by its additional fields; the filter “cf.amount.min” is ignored.",
        ),
        (
            {"case_type": "inquiry", "cf.amount.min": "10"},
            "This case type offers no filter “cf.amount.min”; it is ignored.",
        ),
        (
            {"case_type": "complaint", "cf.unknown": "1"},
            "This case type offers no filter “cf.unknown”; it is ignored.",
        ),
        (
            {"case_type": "complaint", "cf.amount": "10"},  # numbers are offered as from/to
            "This case type offers no filter “cf.amount”; it is ignored.",
        ),
    ],
)
def test_filters_the_form_does_not_show_are_reported_and_ignored(
    client_for: Callable[..., Any], lead: Any, cases: dict[str, Case], params: dict[str, str], message: str
) -> None:
    """A filter without an input would narrow the list invisibly (and could not be removed)."""
    response = client_for(lead).get(LIST, params)
    assert response.context["form"].non_field_errors() == [message]
    assert message in response.content.decode()
    expected = set(cases) if "case_type" not in params or params["case_type"] == "complaint" else set()
    assert page_subjects(response) == expected


def test_changing_the_case_type_swaps_form_and_results_with_htmx(
    client_for: Callable[..., Any], lead: Any, cases: dict[str, Case]
) -> None:
    client = client_for(lead)
    results_only = client.get(LIST, {"case_type": "complaint"}, headers={"HX-Request": "true", "HX-Target": "case-results"})
    assert results_only.content.decode().strip().startswith('<section id="case-results"')
    both = client.get(LIST, {"case_type": "complaint"}, headers={"HX-Request": "true", "HX-Target": "case-list"})
    body = both.content.decode()
    assert '<div id="case-list">' in body and 'name="cf.amount.min"' in body
    # The case type select leaves the old type's custom-field filters out of its request.
    assert 'hx-trigger="change consume"' in body
    assert 'hx-include="#case-filter-form [name]:not([name^=&quot;cf.&quot;])"' in body


def test_saved_view_and_csv_export_keep_a_range_filter(client_for: Callable[..., Any], lead: Any, cases: dict[str, Case]) -> None:
    client = client_for(lead)
    params = {"case_type": "complaint", "cf.amount.min": "9,5", "cf.amount.max": ""}
    page = client.get(LIST, params)
    query = page.context["filter_query"]
    assert QueryDict(query).dict() == {"case_type": "complaint", "cf.amount.min": "9,5"}

    response = client.post(reverse("case_list:saved_view_create"), {"query": query, "name": "Ab 9,5 Zähler"})
    assert response.status_code == 302
    view = SavedView.objects.get(name="Ab 9,5 Zähler")
    assert view.filters == {"case_type": "complaint", "cf.amount.min": "9,5"}
    saved = client.get(LIST).context["saved_views"][0]
    assert page_subjects(client.get(f"{LIST}?{saved.query_string}")) == {"ten", "ten and a half"}

    export = client.get(f"/cases/export.csv?{query}")
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert {row[0] for row in rows[1:]} == {cases["ten"].reference, cases["ten and a half"].reference}
    event = AuditEvent.objects.filter(action="case.export").get()
    assert event.after["filters"] == {"case_type": "complaint", "cf.amount.min": "9,5"} and event.after["rows"] == 2
