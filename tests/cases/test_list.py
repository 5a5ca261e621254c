"""The case list: filters, full-text search, keyset pages, query counts, export, bulk actions,
saved views."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leitplanke.cases import field_values, list_selectors, list_services, services
from leitplanke.cases.models import Case, CaseType, Category, CustomFieldDefinition, SavedView
from leitplanke.core.models import AuditEvent
from leitplanke.core.pagination import InvalidCursor
from leitplanke.customers.models import Customer, Product
from leitplanke.demo.cases import ensure_reference_data, seed_demo_cases
from tests.concurrency import in_parallel, shared_database

LIST = "/cases/"


def ids(qs: Any) -> set[int]:
    return set(qs.values_list("pk", flat=True))


@pytest.fixture
def refs(db: Any) -> dict[str, Any]:
    return ensure_reference_data()


@pytest.fixture
def quality(make_user: Callable[..., Any]) -> Any:
    return make_user("quality_manager", name="Quinn Quality")


@pytest.fixture
def sample(
    make_case: Callable[..., Case], refs: dict[str, Any], team_a: Any, team_b: Any, make_user: Callable[..., Any]
) -> dict[str, Any]:
    """Three cases that differ in every filterable attribute."""
    agent = make_user("agent", teams=[team_a], name="Berta Bearbeiterin")
    meyer = Customer.objects.create(customer_number="K-1", display_name="Meyer, Jürgen", last_name="Meyer")
    smith = Customer.objects.create(
        customer_number="K-2", display_name="Smith, Amelia", last_name="Smith", preferred_language="en"
    )
    meter = Category.objects.get(key="billing-meter-reading")
    fees = Category.objects.get(key="payments-card-fees")
    now = timezone.now()
    german = make_case(
        team=team_a,
        subject="Zählerstand falsch übernommen",
        description="Der Zählerstand 4711 wurde geschätzt, die Jahresabrechnung ist zu hoch.",
        channel="phone",
        priority=4,
        customer=meyer,
        product=Product.objects.get(code="strom-basis"),
        category=meter,
        responsible_user=agent,
        tags=["Presse"],
        received_at=now - dt.timedelta(days=3),
    )
    english = make_case(
        team=team_b,
        subject="Unexpected card fee",
        language="en",
        description="I was charged a foreign transaction fee on my RheinPay card.",
        channel="email",
        priority=1,
        customer=smith,
        product=Product.objects.get(code="rheinpay-karte"),
        category=fees,
        received_at=now - dt.timedelta(days=40),
        case_type="inquiry",
    )
    other = make_case(
        subject="Rückruf nicht erfolgt",
        description="Niemand hat mich zurückgerufen.",
        channel="letter",
        priority=2,
        category=Category.objects.get(key="service"),
        received_at=now - dt.timedelta(days=400),
    )
    services.case_transition(actor=None, case=english, transition="resolve")
    CustomFieldDefinition.objects.create(
        case_type=CaseType.objects.get(key="inquiry"), key="amount_disputed", label_de="Betrag", label_en="Amount", kind="number"
    )
    Case.objects.filter(pk=english.pk).update(custom_fields={"amount_disputed": "12.50"})
    # Written around the services: its typed row as they would write it (ADR 0025).
    field_values.sync(Case.objects.get(pk=english.pk))
    return {
        "german": german,
        "english": english,
        "other": other,
        "agent": agent,
        "meyer": meyer,
        "meter": meter,
        "team_a": team_a,
        "billing": Category.objects.get(key="billing"),
    }


# --- filters and search ------------------------------------------------------------------------


def test_each_filter_narrows_to_the_matching_cases(sample: dict[str, Any]) -> None:
    g, e, o = sample["german"].pk, sample["english"].pk, sample["other"].pk
    base = Case.objects.all()
    today = timezone.localdate()
    expectations: list[tuple[dict[str, Any], set[int]]] = [
        ({}, {g, e, o}),
        ({"status": "resolved"}, {e}),
        ({"status_kind": "open"}, {g, o}),
        ({"case_type": "inquiry"}, {e}),
        ({"team": str(sample["team_a"].pk)}, {g}),
        ({"responsible": str(sample["agent"].pk)}, {g}),
        ({"responsible": "none"}, {e, o}),
        ({"category": str(sample["billing"].pk)}, {g}),  # the subtree: billing → meter reading
        ({"priority": "4"}, {g}),
        ({"priority": ["1", "4"]}, {g, e}),
        ({"channel": "letter"}, {o}),
        ({"customer": str(sample["meyer"].pk)}, {g}),
        ({"product": str(Product.objects.get(code="rheinpay-karte").pk)}, {e}),
        ({"received_from": (today - dt.timedelta(days=10)).isoformat()}, {g}),
        ({"received_to": (today - dt.timedelta(days=30)).isoformat()}, {e, o}),
        ({"tags": "Presse,VIP"}, {g}),
        ({"cf.amount_disputed": "12.50"}, {e}),
        ({"received_from": "not-a-date", "priority": "x"}, {g, e, o}),  # malformed values are ignored
    ]
    for params, expected in expectations:
        assert ids(list_selectors.filter_cases(base, params)) == expected, params


def test_full_text_search_finds_german_words_with_umlauts_and_english_words(sample: dict[str, Any]) -> None:
    g, e = sample["german"].pk, sample["english"].pk
    search = lambda q: ids(list_selectors.filter_cases(Case.objects.all(), {"q": q}))  # noqa: E731
    assert search("Zählerstand") == {g}
    assert search("zählerstand geschätzt") == {g}
    assert search("transaction fee") == {e}
    assert search("RheinPay") == {e}
    assert search("Kündigung") == set()


def test_search_treats_fts_syntax_as_words_and_matches_references(sample: dict[str, Any]) -> None:
    search = lambda q: ids(list_selectors.filter_cases(Case.objects.all(), {"q": q}))  # noqa: E731
    for hostile in ['"', "fee OR", "NEAR(a b)", "text: fee", "*", "(", "-fee", "a AND", "^"]:
        search(hostile)  # never an FTS syntax error
    assert list_selectors.fts5_query('fee" OR x') == '"fee"""* "OR"* "x"*'
    assert search(sample["english"].reference.lower()) == {sample["english"].pk}


def test_list_page_filters_by_words(client_for: Callable[..., Any], quality: Any, sample: dict[str, Any]) -> None:
    response = client_for(quality).get(LIST, {"q": "Zählerstand"})
    assert response.status_code == 200
    body = response.content.decode()
    assert sample["german"].reference in body
    assert sample["english"].reference not in body


def test_htmx_request_gets_only_the_results(client_for: Callable[..., Any], quality: Any, sample: dict[str, Any]) -> None:
    response = client_for(quality).get(LIST, {"q": "fee"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.strip().startswith('<section id="case-results"')
    assert sample["english"].reference in body and "<html" not in body


def test_agent_sees_only_own_team_cases(client_for: Callable[..., Any], sample: dict[str, Any]) -> None:
    body = client_for(sample["agent"]).get(LIST).content.decode()
    assert sample["german"].reference in body
    assert sample["english"].reference not in body and sample["other"].reference not in body


# --- keyset pages -----------------------------------------------------------------------------


def test_cursor_pages_have_no_duplicates_or_gaps(make_case: Callable[..., Case], quality: Any) -> None:
    same_time = timezone.now() - dt.timedelta(hours=1)
    created = [
        make_case(subject=f"Fall {i}", received_at=same_time if i % 2 else same_time - dt.timedelta(minutes=i)) for i in range(23)
    ]
    for sort in list_selectors.SORTS:
        seen: list[int] = []
        cursor = None
        while True:
            page = list_selectors.case_list_page(actor=quality, params={"sort": sort}, cursor=cursor, limit=5)
            seen += [case.pk for case in page.items]
            if not page.next_cursor:
                break
            cursor = page.next_cursor
        assert len(seen) == len(set(seen)) == len(created), sort
        assert set(seen) == {case.pk for case in created}


def test_invalid_cursor_is_a_clear_400(client_for: Callable[..., Any], quality: Any) -> None:
    response = client_for(quality).get(LIST, {"cursor": "garbage", "q": "x"})
    assert response.status_code == 400
    assert response.templates[0].name == "cases/list_bad_cursor.html"
    assert reverse("case_list:list") + "?q=x" in response.content.decode()  # a link back to the first page
    with pytest.raises(InvalidCursor):
        list_selectors.case_list_page(actor=quality, params={}, cursor="abc:def")


def _list_queries(client: Any, params: dict[str, str] | None = None) -> int:
    # A first request loads reference data changed since (roles, case types): count the second.
    client.get(LIST, params or {})
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(LIST, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_page_query_count_is_the_same_for_10_and_200_cases(
    client_for: Callable[..., Any], quality: Any, refs: dict[str, Any]
) -> None:
    client = client_for(quality)
    seed_demo_cases(10, seed=1)  # defines the complaints' money field amount_disputed
    small = _list_queries(client)
    small_next = client.get(LIST).context["next_url"]
    seed_demo_cases(190, seed=2)
    assert Case.objects.count() == 200
    assert _list_queries(client) == small
    # A search adds one bounded full-text probe each for the page and the count (rare words
    # are then read by primary key, see test_search_plan.py).
    assert _list_queries(client, {"q": "Zählerstand", "sort": "priority"}) == small + 2
    # The custom-field inputs and filters read cached definitions; a range adds one bounded
    # probe of the typed values' index each for the page and the count (ADR 0025).
    disputed = Case.objects.filter(custom_fields__has_key="amount_disputed").select_related("case_type").first()
    assert disputed is not None
    custom_filter = {"case_type": disputed.case_type.key, "cf.amount_disputed.min": "5,00"}
    assert client.get(LIST, custom_filter).context["page"].items
    assert _list_queries(client, custom_filter) == small + 2
    assert small_next == ""  # 10 rows fit on one page
    next_url = client.get(LIST).context["next_url"]
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(next_url).status_code == 200
    assert len(ctx.captured_queries) == small


def test_count_is_capped(quality: Any, refs: dict[str, Any]) -> None:
    seed_demo_cases(30, seed=3)
    estimate = list_selectors.case_count_estimate(actor=quality, params={}, cap=20)
    assert (estimate.value, estimate.capped) == (20, True)
    exact = list_selectors.case_count_estimate(actor=quality, params={"status_kind": "closed"}, cap=1000)
    assert not exact.capped and exact.value == Case.objects.filter(status_kind="closed").count()


# --- export ------------------------------------------------------------------------------------


def _csv(response: Any) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_csv_export_neutralises_formulas_and_respects_visibility(
    client_for: Callable[..., Any], make_user: Callable[..., Any], make_case: Callable[..., Case], team_a: Any, team_b: Any
) -> None:
    lead = make_user("team_lead", teams=[team_a])
    mine = make_case(team=team_a, subject="=cmd|' /C calc'!A0")
    plus = make_case(team=team_a, subject="+SUM(A1:A9)")
    hidden = make_case(team=team_b, subject="Fremdes Team")
    response = client_for(lead).get("/cases/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = _csv(response)
    references = {row[0] for row in rows[1:]}
    assert references == {mine.reference, plus.reference}
    assert hidden.reference not in references
    subjects = {row[1] for row in rows[1:]}
    assert subjects == {"'=cmd|' /C calc'!A0", "'+SUM(A1:A9)"}
    event = AuditEvent.objects.filter(action="case.export").get()
    assert event.after["rows"] == 2 and event.after["format"] == "csv"


def _xlsx(response: Any) -> Any:
    import openpyxl

    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)


def test_xlsx_export_is_audited_with_filters_and_reads_back(
    client_for: Callable[..., Any], quality: Any, sample: dict[str, Any]
) -> None:
    response = client_for(quality).get("/cases/export.xlsx", {"q": "fee"})
    assert response.status_code == 200
    assert (response["X-Export-Rows"], response["X-Export-Matching"]) == ("1", "1")
    workbook = _xlsx(response)
    assert workbook.sheetnames == ["Cases"]
    rows = list(workbook["Cases"].iter_rows(values_only=True))
    assert rows[0][:2] == ("Reference", "Subject") and len(rows) == 2
    assert isinstance(rows[1][5], int)  # priority stays a number
    event = AuditEvent.objects.filter(action="case.export").get()
    assert event.after == {"format": "xlsx", "filters": {"q": "fee"}, "rows": 1, "matching": 1}


def test_xlsx_export_keeps_hostile_text_as_text(
    client_for: Callable[..., Any], make_user: Callable[..., Any], make_case: Callable[..., Case], team_a: Any
) -> None:
    lead = make_user("team_lead", teams=[team_a])
    subjects = ['=HYPERLINK("http://x")', "@SUM(A1)", "<b>&amp; _x0041_ \u202e", "Steuer\x07zeichen"]
    for subject in subjects:
        make_case(team=team_a, subject=subject)
    rows = list(_xlsx(client_for(lead).get("/cases/export.xlsx"))["Cases"].iter_rows(values_only=True))
    # openpyxl returns inline strings undecoded; Excel and LibreOffice decode _xHHHH_ (ST_Xstring).
    decoded = {re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m.group(1), 16)), row[1]) for row in rows[1:]}
    assert decoded == {'\'=HYPERLINK("http://x")', "'@SUM(A1)", "<b>&amp; _x0041_ \u202e", "Steuer\x07zeichen"}


def test_an_export_that_cannot_hold_every_case_says_what_it_left_out(
    client_for: Callable[..., Any], quality: Any, sample: dict[str, Any], monkeypatch: Any
) -> None:
    from leitplanke.cases import export

    matching = Case.objects.count()
    monkeypatch.setattr(export, "EXPORT_CAP", 2)
    client = client_for(quality)
    csv_response = client.get("/cases/export.csv")
    assert len(_csv(csv_response)) == 3
    assert f"-first-2-of-{matching}.csv" in csv_response["Content-Disposition"]
    assert (csv_response["X-Export-Rows"], csv_response["X-Export-Matching"]) == ("2", str(matching))
    workbook = _xlsx(client.get("/cases/export.xlsx", HTTP_ACCEPT_LANGUAGE="en"))
    assert len(list(workbook["Cases"].iter_rows())) == 3
    note = [row[0] for row in workbook[workbook.sheetnames[1]].iter_rows(values_only=True)]
    assert note[0] == f"This export holds the first 2 of {matching:,} matching cases, in the list's order."
    assert note[1].startswith(f"{matching - 2:,} cases were left out.")
    assert [event.after["rows"] for event in AuditEvent.objects.filter(action="case.export")] == [2, 2]


def test_xlsx_export_sends_its_first_bytes_before_reading_every_row() -> None:
    from leitplanke.core import xlsx

    read = []

    def rows() -> Any:
        for number in range(5000):
            read.append(number)
            yield [number, f"row {number}"]

    pieces = xlsx.stream_workbook(sheet="Cases", header=["n", "text"], rows=rows())
    next(pieces)  # the fixed parts
    next(pieces)  # the first batch of rows
    assert len(read) < 1000
    rest = b"".join(pieces)
    assert rest and len(read) == 5000


def test_agent_without_export_capability_gets_403(client_for: Callable[..., Any], agent_user: Any) -> None:
    client = client_for(agent_user)
    assert client.get("/cases/export.csv").status_code == 403
    assert client.get("/cases/export.xlsx").status_code == 403
    assert not AuditEvent.objects.filter(action="case.export").exists()


def test_neutralise_leaves_numbers_and_plain_text() -> None:
    from leitplanke.cases.export import neutralise

    assert neutralise(-5) == -5
    assert neutralise("Rechnung") == "Rechnung"
    for dangerous in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(dangerous) == "'" + dangerous


def test_neutralise_looks_at_the_first_visible_character() -> None:
    """Spaces, line breaks, zero-width and direction marks before the formula character do
    not hide it, nor do the full-width forms (found by the hostile-input suite)."""
    from leitplanke.cases.export import neutralise

    for dangerous in (" =1+1", "\n=1+1", "\u200b=1+1", "\ufeff+1", "\u202e-1", "\u00a0@A1", "\uff1d1+1", "\uff20A1"):
        assert neutralise(dangerous) == "'" + dangerous, repr(dangerous)
    for harmless in ("Herr = Kunde", "E-Mail", "a+b", " Text"):
        assert neutralise(harmless) == harmless


# --- bulk actions -------------------------------------------------------------------------------


def test_bulk_transition_reports_each_case(client_for: Callable[..., Any], quality: Any, make_case: Callable[..., Case]) -> None:
    fresh = make_case(subject="Neu")
    done = make_case(subject="Erledigt")
    services.case_transition(actor=None, case=done, transition="resolve")
    response = client_for(quality).post(
        "/cases/bulk/", {"ids": [fresh.pk, done.pk], "action": "transition", "transition": "start", "confirmed": "1"}
    )
    assert response.status_code == 200
    results = {r.case_id: r for r in response.context["results"]}
    assert results[fresh.pk].ok
    assert not results[done.pk].ok and results[done.pk].message
    body = response.content.decode()
    assert fresh.reference in body and done.reference in body
    fresh.refresh_from_db()
    done.refresh_from_db()
    assert (fresh.status, done.status) == ("in_progress", "resolved")


def test_bulk_assign_and_tag(quality: Any, make_case: Callable[..., Case], make_user: Callable[..., Any], team_a: Any) -> None:
    first, second = make_case(subject="Eins"), make_case(subject="Zwei")
    agent = make_user("agent", teams=[team_a])
    results = list_services.case_bulk_apply(
        actor=quality, case_ids=[first.pk, second.pk, 999_999], action="assign_responsible", value=agent.pk
    )
    assert [r.ok for r in results] == [True, True, False]
    list_services.case_bulk_apply(actor=quality, case_ids=[first.pk], action="add_tag", value="Ombudsstelle")
    assert list(first.tags.values_list("name", flat=True)) == ["Ombudsstelle"]
    assert Case.objects.get(pk=second.pk).responsible_user_id == agent.pk


@pytest.mark.django_db(transaction=True)
def test_concurrent_bulk_tags_are_all_kept(
    quality: Any, make_case: Callable[..., Case], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """Two people add different tags to the same case at the same moment. Each change is a
    delta applied under the case's row lock; reading the tags before the lock and writing the
    whole list back lost one of them. The barrier lets both reach the service together."""
    case = make_case(subject="Zweimal verschlagwortet", tags=["alt"])
    together = threading.Barrier(2, timeout=60)
    real_update = services.case_update

    def case_update(**kwargs: Any) -> Case:
        together.wait()
        return real_update(**kwargs)

    monkeypatch.setattr(services, "case_update", case_update)
    with shared_database(tmp_path):
        tags = ["Ombudsstelle", "Presse"]
        results = in_parallel(
            lambda index: list_services.case_bulk_apply(actor=quality, case_ids=[case.pk], action="add_tag", value=tags[index]),
            2,
        )
        assert [result[0].ok for result in results] == [True, True]
        case = Case.objects.get(pk=case.pk)
        assert sorted(case.tags.values_list("name", flat=True)) == ["Ombudsstelle", "Presse", "alt"]
        assert case.version == 3
        assert AuditEvent.objects.filter(action="case.update", object_id=str(case.pk)).count() == 2


def test_bulk_needs_edit_capability(
    client_for: Callable[..., Any], make_user: Callable[..., Any], make_case: Callable[..., Case]
) -> None:
    auditor = make_user("auditor")
    case = make_case()
    response = client_for(auditor).post("/cases/bulk/", {"ids": [case.pk], "action": "transition", "transition": "start"})
    assert response.status_code == 403


# --- saved views -----------------------------------------------------------------------------


def test_saved_views_private_shared_and_deletable(
    client_for: Callable[..., Any], make_user: Callable[..., Any], team_a: Any
) -> None:
    owner = make_user("agent", teams=[team_a])
    colleague = make_user("agent", teams=[team_a])
    stranger = make_user("agent")
    client = client_for(owner)
    client.post(reverse("case_list:saved_view_create"), {"name": "Meine offenen", "query": "status_kind=open&q=fee"})
    client.post(reverse("case_list:saved_view_create"), {"name": "Team-Ansicht", "query": "priority=4", "team": str(team_a.pk)})
    private, shared = SavedView.objects.order_by("name")
    assert private.filters == {"status_kind": "open", "q": "fee"}
    assert shared.team_id == team_a.pk
    assert {v.name for v in list_selectors.saved_views_for(actor=colleague)} == {"Team-Ansicht"}
    assert list_selectors.saved_views_for(actor=stranger) == []
    page = client.get(LIST).content.decode()
    assert "Meine offenen" in page and "status_kind=open" in page
    assert client_for(colleague).post(reverse("case_list:saved_view_delete", args=[shared.pk])).status_code == 404
    assert client.post(reverse("case_list:saved_view_delete", args=[shared.pk])).status_code == 302
    assert not SavedView.objects.filter(pk=shared.pk).exists()


def test_saved_view_cannot_be_shared_with_a_foreign_team(make_user: Callable[..., Any], team_a: Any, team_b: Any) -> None:
    from leitplanke.core.errors import ValidationFailed

    owner = make_user("agent", teams=[team_a])
    with pytest.raises(ValidationFailed):
        list_services.saved_view_create(actor=owner, name="X", filters={}, team_id=team_b.pk)
