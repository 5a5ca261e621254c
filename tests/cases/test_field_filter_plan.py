"""Custom-field range filters driven by their matches (ADR 0025), and the typed side rows
(models.CaseFieldValue) they read, kept by every write.

Before, a range that matched few or no cases walked the list's whole sort index testing each
row's JSON (issue 23: 136–211 ms at 100,000 cases). These tests pin the results either way,
the plan shape on SQLite (no scan of cases), a constant number of queries, and the side rows
after create, update, clear, a change of case type, a process step and the migration;
`bench/field_filter.py` measures it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import importlib
from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leitplanke.cases import field_values, list_selectors, services
from leitplanke.cases.models import Case, CaseFieldValue, CaseType, CustomFieldDefinition
from leitplanke.demo.cases import DISPUTED_AMOUNT, seed_demo_cases

RARE_AMOUNT = "123456.78"


def define(case_type: CaseType, key: str, kind: str, **extra: Any) -> CustomFieldDefinition:
    return CustomFieldDefinition.objects.create(case_type=case_type, key=key, kind=kind, label_de=key, label_en=key, **extra)


def rows(case: Case) -> dict[str, Any]:
    """The case's side rows by field key: the number or the date."""
    found = CaseFieldValue.objects.filter(case=case).select_related("definition")
    return {row.definition.key: row.number if row.number is not None else row.date for row in found}


# --- the side rows -------------------------------------------------------------------------------


@pytest.fixture
def typed_fields(complaint_type: CaseType) -> dict[str, CustomFieldDefinition]:
    return {
        "count": define(complaint_type, "count", "number", order=1),
        "disputed": define(complaint_type, "disputed", "money", order=2),
        "incident_on": define(complaint_type, "incident_on", "date", order=3),
        "note": define(complaint_type, "note", "text", order=4),
    }


def test_create_update_and_clear_keep_the_side_rows(
    typed_fields: dict[str, Any], make_case: Callable[..., Case], make_user: Callable[..., Any]
) -> None:
    case = make_case(custom_fields={"count": "3", "disputed": "49,90", "incident_on": "2026-03-01", "note": "x"})
    assert rows(case) == {
        "count": decimal.Decimal("3"),
        "disputed": decimal.Decimal("49.90"),
        "incident_on": dt.date(2026, 3, 1),
    }
    lead = make_user("quality_manager")
    case = services.case_update(actor=lead, case=case, custom_fields={"count": "4.5", "incident_on": "2026-04-02"})
    assert rows(case) == {"count": decimal.Decimal("4.5"), "incident_on": dt.date(2026, 4, 2)}
    case = services.case_update(actor=lead, case=case, custom_fields={})
    assert rows(case) == {}
    plain = make_case(custom_fields={"note": "only text"})
    assert rows(plain) == {}


def test_a_change_of_case_type_moves_the_rows_to_the_new_types_fields(
    typed_fields: dict[str, Any], make_case: Callable[..., Case], make_user: Callable[..., Any]
) -> None:
    inquiry = CaseType.objects.get(key="inquiry")
    inquiry_count = define(inquiry, "count", "number")
    case = make_case(custom_fields={"count": "7"})
    case = services.case_update(actor=make_user("quality_manager"), case=case, case_type=inquiry, custom_fields={"count": "8"})
    assert list(CaseFieldValue.objects.filter(case=case).values_list("definition_id", "number")) == [
        (inquiry_count.pk, decimal.Decimal("8"))
    ]
    assert list_selectors.filter_cases(Case.objects.all(), {"cf.count.min": "8"}).get() == case


def test_a_value_entered_with_a_process_step_gets_its_row(
    typed_fields: dict[str, Any], make_case: Callable[..., Case], make_user: Callable[..., Any], team_a: Any
) -> None:
    agent = make_user("agent", teams=[team_a])
    case = make_case(actor=agent, team=team_a, custom_fields={"count": "1"})
    case = services.case_transition(actor=agent, case=case, transition="resolve", fields={"custom.disputed": "12,50"})
    assert rows(case) == {"count": decimal.Decimal("1"), "disputed": decimal.Decimal("12.50")}
    assert list_selectors.filter_cases(Case.objects.all(), {"cf.disputed.min": "12.5"}).get() == case


def test_the_migration_fills_the_rows_of_existing_cases(typed_fields: dict[str, Any], make_case: Callable[..., Case]) -> None:
    first = make_case(custom_fields={"count": "2", "disputed": {"amount": "10.00", "currency": "EUR"}})
    second = make_case(custom_fields={"incident_on": "2026-01-31"})
    expected = {first.pk: rows(first), second.pk: rows(second)}
    CaseFieldValue.objects.all().delete()
    importlib.import_module("leitplanke.cases.migrations.0015_case_field_values").forward(apps, None)
    assert {first.pk: rows(first), second.pk: rows(second)} == expected


def test_stored_values_that_are_no_value_of_the_kind_get_no_row() -> None:
    assert field_values.typed_value("number", "viel") is None
    assert field_values.typed_value("number", True) is None
    assert field_values.typed_value("number", "1e999999") is None  # no database column holds it
    assert field_values.typed_value("number", "-12.5") == (decimal.Decimal("-12.5"), None)
    assert field_values.typed_value("money", "49.90") is None  # an amount is stored with its currency
    assert field_values.typed_value("money", {"amount": "49.90", "currency": "EUR"}) == (decimal.Decimal("49.90"), None)
    assert field_values.typed_value("date", "2026-02-30") is None
    assert field_values.typed_value("date", 20260301) is None
    assert field_values.typed_value("text", "1") is None


# --- results: driven by the matches or walking, the same ---------------------------------------


@pytest.fixture
def mixed(typed_fields: dict[str, Any], make_case: Callable[..., Case]) -> dict[str, Case]:
    inquiry = CaseType.objects.get(key="inquiry")
    define(inquiry, "count", "date")  # the same key, another kind on another case type
    values = {
        "low": {"count": "-2.5", "disputed": "0.99", "incident_on": "2025-12-31"},
        "edge": {"count": 10, "disputed": "10.00", "incident_on": "2026-01-01"},
        "high": {"count": "10.01", "disputed": {"amount": "999999.99", "currency": "CHF"}, "incident_on": "2026-12-31"},
        "none": {"note": "no typed values"},
    }
    made = {subject: make_case(subject=subject, custom_fields=custom) for subject, custom in values.items()}
    made["inquiry"] = make_case(subject="inquiry", case_type=inquiry, custom_fields={"count": "2026-01-01"})
    return made


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"cf.count.min": "10"}, {"edge", "high"}),  # from only, inclusive
        ({"cf.count.max": "10"}, {"low", "edge"}),  # to only, inclusive
        ({"cf.count.min": "10", "cf.count.max": "10,00"}, {"edge"}),  # both, one value
        ({"cf.count.min": "-2,5", "cf.count.max": "10.005"}, {"low", "edge"}),  # decimals
        ({"cf.count.min": "2026-01-01"}, {"inquiry"}),  # a date: the other case type's field
        ({"cf.count": ["10", "-2.5"]}, {"low", "edge"}),
        ({"cf.disputed.min": "10"}, {"edge", "high"}),  # the currency is not compared
        ({"cf.disputed.max": "9.99"}, {"low"}),
        ({"cf.disputed.min": "1000000"}, set()),
        ({"cf.incident_on.min": "2026-01-01", "cf.incident_on.max": "2026-01-01"}, {"edge"}),
        ({"cf.incident_on.max": "2025-12-31"}, {"low"}),
        ({"cf.incident_on.min": "2026-01-02"}, {"high"}),
        ({"cf.count.min": "0", "cf.disputed.max": "100"}, {"edge"}),  # two keys
    ],
)
def test_range_filters_find_the_same_cases_driven_or_walking(
    mixed: dict[str, Case], params: dict[str, Any], expected: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def found(counting: bool) -> set[str]:
        qs = list_selectors.filter_cases(Case.objects.all(), params, counting=counting)
        return set(qs.values_list("subject", flat=True))

    assert found(False) == expected and found(True) == expected
    monkeypatch.setattr(list_selectors, "FIELD_MATCH_LIMIT", 0)  # every range is "common"
    assert found(False) == expected and found(True) == expected


# --- plans and query counts --------------------------------------------------------------------


@pytest.fixture
def seeded(db: Any, make_case: Callable[..., Case], team_a: Any) -> dict[str, Any]:
    seed_demo_cases(n=150)
    rare = make_case(team=team_a, subject="Sehr hoher Betrag", custom_fields={DISPUTED_AMOUNT: RARE_AMOUNT})
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"rare": rare}


RARE = {"cf.amount_disputed.min": "100000"}
ABSENT = {"cf.amount_disputed.min": "5000000"}
COMMON = {"cf.amount_disputed.min": "5"}


def _queries(run: Callable[[], Any]) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        run()
    return [query["sql"] for query in captured.captured_queries]


def _page_and_count(actor: Any, params: dict[str, str]) -> list[str]:
    sqls = _queries(lambda: list_selectors.case_list_page(actor=actor, params=params, cursor=None))
    return sqls + _queries(lambda: list_selectors.case_count_estimate(actor=actor, params=params))


def _case_queries(sqls: list[str]) -> list[str]:
    return [sql for sql in sqls if 'FROM "cases_case"' in sql]


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def test_rare_absent_and_common_ranges_find_their_cases(seeded: dict[str, Any], quality: Any, agent_in_a: Any) -> None:
    page = list_selectors.case_list_page(actor=quality, params=RARE, cursor=None)
    assert [case.pk for case in page.items] == [seeded["rare"].pk]
    assert list_selectors.case_count_estimate(actor=quality, params=RARE).value == 1
    assert [c.pk for c in list_selectors.case_list_page(actor=agent_in_a, params=RARE, cursor=None).items] == [seeded["rare"].pk]
    assert list_selectors.case_list_page(actor=quality, params=ABSENT, cursor=None).items == []
    common = list_selectors.case_count_estimate(actor=quality, params=COMMON).value
    assert common == CaseFieldValue.objects.count() > 1


def test_absent_range_reads_no_case_at_all(seeded: dict[str, Any], quality: Any, agent_in_a: Any) -> None:
    for actor in (quality, agent_in_a):
        assert _case_queries(_page_and_count(actor, ABSENT)) == []


@pytest.mark.skipif(connection.vendor != "sqlite", reason="EXPLAIN QUERY PLAN is SQLite's")
def test_rare_range_is_read_from_the_value_index_and_by_primary_key_not_a_scan(
    seeded: dict[str, Any], quality: Any, agent_in_a: Any
) -> None:
    for actor in (quality, agent_in_a):
        sqls = _page_and_count(actor, RARE)
        probes = [sql for sql in sqls if 'FROM "cases_casefieldvalue"' in sql]
        assert len(probes) == 2, sqls
        for sql in probes:
            assert "USING COVERING INDEX casefieldvalue_number_idx" in _plan(sql), _plan(sql)
        case_sqls = _case_queries(sqls)
        assert len(case_sqls) == 2, sqls
        for sql in case_sqls:
            plan = _plan(sql)
            assert "SEARCH cases_case USING INTEGER PRIMARY KEY" in plan, plan
            assert "SCAN cases_case" not in plan, plan


@pytest.mark.skipif(connection.vendor != "sqlite", reason="EXPLAIN QUERY PLAN is SQLite's")
def test_common_range_count_is_driven_by_the_value_index(
    seeded: dict[str, Any], quality: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(list_selectors, "FIELD_MATCH_LIMIT", 5)  # every amount range is common here
    count_sql = _case_queries(_queries(lambda: list_selectors.case_count_estimate(actor=quality, params=COMMON)))
    page_sql = _case_queries(_queries(lambda: list_selectors.case_list_page(actor=quality, params=COMMON, cursor=None)))
    assert "cases_casefieldvalue" in count_sql[0]
    assert "cases_casefieldvalue" not in page_sql[0]  # a page walks the sort index and stops early


def test_query_count_does_not_grow_with_the_table(seeded: dict[str, Any], quality: Any) -> None:
    _page_and_count(quality, RARE)  # warms the reference-data caches
    before = {name: len(_page_and_count(quality, params)) for name, params in (("rare", RARE), ("absent", ABSENT))}
    seed_demo_cases(n=150, seed=7)
    after = {name: len(_page_and_count(quality, params)) for name, params in (("rare", RARE), ("absent", ABSENT))}
    assert before == after
    probes = [sql for sql in _page_and_count(quality, ABSENT) if "cases_casefieldvalue" in sql]
    assert len(probes) == 2  # one probe for the page, one for the count


@pytest.fixture
def quality(make_user: Callable[..., Any]) -> Any:
    return make_user("quality_manager", name="Quinn Quality")


@pytest.fixture
def agent_in_a(make_user: Callable[..., Any], team_a: Any) -> Any:
    return make_user("agent", teams=[team_a], name="Berta Bearbeiterin")
