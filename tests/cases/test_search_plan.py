"""Search for a rare or an absent word: driven by its matches, not by a walk over every case.

Before, a rare word walked the list's whole sort index (probing the full-text matches row by
row) and the capped count scanned every case, so the cost grew with the table (issue 23:
1.6–1.7× at 100,000 against 10,000 cases). These tests pin the plan shape on SQLite and the
results on both databases; `bench/search_rare.py` measures it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leitplanke.cases import list_selectors
from leitplanke.cases.models import Case
from leitplanke.demo.cases import seed_demo_cases

RARE = "Quittungsdrucker"


@pytest.fixture
def seeded(db: Any, make_case: Callable[..., Case], team_a: Any) -> dict[str, Any]:
    seed_demo_cases(n=150)
    rare = make_case(team=team_a, subject=f"{RARE} defekt", description="Der Drucker druckt nichts.")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"rare": rare}


def _queries(run: Callable[[], Any]) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        run()
    return [query["sql"] for query in captured.captured_queries]


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def _case_queries(sqls: list[str]) -> list[str]:
    return [sql for sql in sqls if 'FROM "cases_case"' in sql]


def test_rare_word_is_found_with_the_same_results_either_way(
    seeded: dict[str, Any], quality: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = list_selectors.case_list_page(actor=quality, params={"q": RARE}, cursor=None)
    assert [case.pk for case in page.items] == [seeded["rare"].pk]
    assert list_selectors.case_count_estimate(actor=quality, params={"q": RARE}).value == 1
    common = {"q": "Zählerstand"}
    driven = [c.pk for c in list_selectors.case_list_page(actor=quality, params=common, cursor=None, limit=100).items]
    count = list_selectors.case_count_estimate(actor=quality, params=common).value
    monkeypatch.setattr(list_selectors, "SEARCH_MATCH_LIMIT", 0)  # every word takes the walking path
    walked = [c.pk for c in list_selectors.case_list_page(actor=quality, params=common, cursor=None, limit=100).items]
    assert driven == walked and len(driven) > 1
    assert list_selectors.case_count_estimate(actor=quality, params=common).value == count
    assert list_selectors.export_count(actor=quality, params=common) == count


def test_absent_word_reads_no_case_at_all(seeded: dict[str, Any], quality: Any, agent_in_a: Any) -> None:
    for actor in (quality, agent_in_a):
        sqls = _queries(lambda: list_selectors.case_list_page(actor=actor, params={"q": "Quellwasserkarussell"}, cursor=None))  # noqa: B023
        sqls += _queries(lambda: list_selectors.case_count_estimate(actor=actor, params={"q": "Quellwasserkarussell"}))  # noqa: B023
        assert _case_queries(sqls) == []


@pytest.mark.skipif(connection.vendor != "sqlite", reason="EXPLAIN QUERY PLAN is SQLite's")
def test_rare_word_page_and_count_are_driven_by_primary_key_not_a_scan(
    seeded: dict[str, Any], quality: Any, agent_in_a: Any
) -> None:
    for actor in (quality, agent_in_a):
        sqls = _queries(lambda: list_selectors.case_list_page(actor=actor, params={"q": RARE}, cursor=None))  # noqa: B023
        sqls += _queries(lambda: list_selectors.case_count_estimate(actor=actor, params={"q": RARE}))  # noqa: B023
        case_sqls = _case_queries(sqls)
        assert len(case_sqls) == 2, sqls
        for sql in case_sqls:
            plan = _plan(sql)
            assert "SEARCH cases_case USING INTEGER PRIMARY KEY" in plan, plan
            assert "SCAN cases_case" not in plan, plan


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the unary plus is SQLite's")
def test_common_word_count_lets_the_matches_drive(seeded: dict[str, Any], quality: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A count of a word with many matches carries no unary plus (which forces a scan of
    every case); at 10,000 cases and more SQLite then reads the matches by primary key
    (bench/search_rare.py prints the plan; this small table is scanned either way)."""
    monkeypatch.setattr(list_selectors, "SEARCH_MATCH_LIMIT", 5)  # "Zählerstand" is no rare word here
    count_sql = _case_queries(_queries(lambda: list_selectors.case_count_estimate(actor=quality, params={"q": "Zählerstand"})))
    page_sql = _case_queries(
        _queries(lambda: list_selectors.case_list_page(actor=quality, params={"q": "Zählerstand"}, cursor=None))
    )
    assert "cases_search_fts" in count_sql[0] and '+"cases_case"."id" IN' not in count_sql[0]
    assert '+"cases_case"."id" IN' in page_sql[0]  # a page walks the sort index and stops early


@pytest.fixture
def quality(make_user: Callable[..., Any]) -> Any:
    return make_user("quality_manager", name="Quinn Quality")


@pytest.fixture
def agent_in_a(make_user: Callable[..., Any], team_a: Any) -> Any:
    return make_user("agent", teams=[team_a], name="Berta Bearbeiterin")
