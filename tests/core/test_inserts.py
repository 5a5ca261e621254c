"""core.inserts.insert_row: the same row as save() would write, with the statement compiled
once, and a refusal wherever it would skip something save() does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leitplanke.cases.models import Case, CaseSearchDocument, CaseType, Interaction, InteractionKind
from leitplanke.core import inserts
from leitplanke.core.inserts import insert_row
from leitplanke.core.models import AuditEvent, RateLimitCounter, ScheduledJob
from leitplanke.customers.models import Customer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_statements() -> Iterator[None]:
    """Refusals happen when a statement is compiled: each test starts with none compiled."""
    saved = dict(inserts._STATEMENTS)
    inserts._STATEMENTS.clear()
    yield
    inserts._STATEMENTS.clear()
    inserts._STATEMENTS.update(saved)


def test_a_row_reads_back_as_written_with_its_new_primary_key() -> None:
    occurred = timezone.now() - dt.timedelta(minutes=3)
    event = AuditEvent(
        occurred_at=occurred,
        actor_label="system",
        action="test.insert",
        object_type="core.test",
        object_id="7",
        before={"a": [1, "zwei"], "ü": None},
        after={"amount": "12.50"},
        ip="2001:db8::1",
    )
    assert insert_row(event) is event
    assert event.pk is not None and not event._state.adding and event._state.db == "default"
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.occurred_at == occurred
    assert (stored.before, stored.after, stored.ip) == ({"a": [1, "zwei"], "ü": None}, {"amount": "12.50"}, "2001:db8::1")
    assert stored.seq is None and stored.hash == ""


def test_rows_get_increasing_primary_keys_and_the_statement_is_compiled_once() -> None:
    first = insert_row(RateLimitCounter(key="a", window_start=timezone.now()))
    second = insert_row(RateLimitCounter(key="b", window_start=timezone.now()))
    assert second.pk > first.pk
    assert list(inserts._STATEMENTS) == [(RateLimitCounter, connection.vendor)]


def test_auto_now_fields_and_defaults_are_filled_in_like_save() -> None:
    case_type = CaseType.objects.get(key="complaint")
    case = Case(
        reference="LP-2000-000001", case_type=case_type, subject="Zählerstand", channel="email", received_at=timezone.now()
    )
    before = timezone.now()
    insert_row(case)
    stored = Case.objects.get(pk=case.pk)
    assert stored.registered_at >= before and stored.updated_at >= before
    assert (stored.registered_at, stored.updated_at) == (case.registered_at, case.updated_at)
    assert (stored.custom_fields, stored.version, stored.priority) == ({}, 1, case.priority)
    entry = insert_row(Interaction(case=case, kind=InteractionKind.SYSTEM, occurred_at=timezone.now(), data={"event": "created"}))
    assert Interaction.objects.get(pk=entry.pk).data == {"event": "created"}
    document = insert_row(CaseSearchDocument(case=case, text="LP-2000-000001 Zählerstand"))
    assert document.pk == case.pk  # a primary key the row brings along is written, not returned
    assert CaseSearchDocument.objects.get(pk=case.pk).updated_at == document.updated_at


def test_a_primary_key_that_is_not_numbered_by_the_database_is_written() -> None:
    job = insert_row(ScheduledJob(name="test.job", next_run_at=timezone.now()))
    assert ScheduledJob.objects.get(pk="test.job").next_run_at == job.next_run_at


def test_database_errors_are_djangos_and_leave_nothing_behind() -> None:
    start = timezone.now()
    insert_row(RateLimitCounter(key="same", window_start=start))
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_row(RateLimitCounter(key="same", window_start=start))
    assert RateLimitCounter.objects.filter(key="same").count() == 1


def test_a_model_with_save_receivers_is_refused() -> None:
    calls: list[Any] = []

    def receiver(**kwargs: Any) -> None:
        calls.append(kwargs)

    for signal in (pre_save, post_save):
        signal.connect(receiver, sender=RateLimitCounter, weak=False)
        try:
            with pytest.raises(TypeError, match="signal receivers"):
                insert_row(RateLimitCounter(key="x", window_start=timezone.now()))
        finally:
            signal.disconnect(receiver, sender=RateLimitCounter)
    assert not RateLimitCounter.objects.exists() and calls == []


def test_a_caller_that_does_what_the_receivers_do_may_insert() -> None:
    def receiver(instance: Any, **kwargs: Any) -> None:
        instance.count = 7

    pre_save.connect(receiver, sender=RateLimitCounter, weak=False)
    try:
        row = RateLimitCounter(key="done", window_start=timezone.now(), count=7)  # what the receiver would set
        insert_row(row, receivers_done=True)
    finally:
        pre_save.disconnect(receiver, sender=RateLimitCounter)
    assert RateLimitCounter.objects.get(pk=row.pk).count == 7


def test_a_model_that_overrides_save_is_refused_unless_it_only_guards_updates() -> None:
    with pytest.raises(TypeError, match="overrides save"):
        insert_row(Customer(kind="person", display_name="Erika Mustermann"))
    assert insert_row(AuditEvent(occurred_at=timezone.now(), action="test.guarded")).pk is not None


def test_expressions_and_preset_numbered_keys_are_refused() -> None:
    with pytest.raises(TypeError, match="expressions"):
        insert_row(RateLimitCounter(key="x", window_start=timezone.now(), count=F("count") + 1))
    with pytest.raises(TypeError, match="already has a primary key"):
        insert_row(RateLimitCounter(pk=4711, key="y", window_start=timezone.now()))
    assert not RateLimitCounter.objects.exists()


def test_one_statement_per_row() -> None:
    with CaptureQueriesContext(connection) as queries:
        insert_row(AuditEvent(occurred_at=timezone.now(), action="test.one"))
    assert len(queries) == 1 and queries[0]["sql"].startswith('INSERT INTO "core_auditevent"')


def test_several_rows_in_one_statement_get_their_keys_in_order() -> None:
    events = [AuditEvent(occurred_at=timezone.now(), action=f"test.many.{n}", after={"n": n}) for n in range(3)]
    with CaptureQueriesContext(connection) as queries:
        assert inserts.insert_rows(events) is events
    assert len(queries) == 1 and queries[0]["sql"].count("%s") == 0  # parameters, one VALUES list per row
    stored = {event.pk: (event.action, event.after) for event in AuditEvent.objects.filter(action__startswith="test.many.")}
    assert stored == {event.pk: (event.action, {"n": n}) for n, event in enumerate(events)}
    assert events[0].pk < events[1].pk < events[2].pk and not any(event._state.adding for event in events)
    with pytest.raises(TypeError, match="one model"):
        inserts.insert_rows(
            [AuditEvent(occurred_at=timezone.now(), action="x"), RateLimitCounter(key="z", window_start=timezone.now())]
        )
    assert inserts.insert_rows([]) == []


def test_plain_values_pass_unconverted_and_give_what_get_db_prep_save_gives() -> None:
    """The fast path (issue 23, mail import): str, int, bool and None of plain field types go
    to the database as they are; anything else still goes through get_db_prep_save."""
    from django.db import models

    statement = inserts._statement(Case, connection)
    plain = dict(zip((field.name for field in statement.fields), statement.plain, strict=True))
    assert plain["subject"] is str and plain["priority"] is int and plain["case_type"] is int
    assert plain["custom_fields"] is None  # JSON converts
    # Date-times: aware ones pass as they are on PostgreSQL (issue 20), convert elsewhere.
    assert plain["received_at"] is (inserts._Aware if connection.vendor == "postgresql" else None)
    for field in statement.fields:
        kind = plain[field.name]
        if kind is inserts._Aware:
            continue
        samples = {str: ["", "Zähler"], int: [0, 7], bool: [True, False]}.get(kind, []) if kind else []
        for value in [*samples, None] if kind else []:
            assert field.get_db_prep_save(value, connection=connection) == value, (field.name, value)
    assert inserts._plain_type(models.IntegerField()) is int and inserts._plain_type(models.DecimalField()) is None
    # A bool given to an integer column is not of the plain type: converted as before.
    assert models.IntegerField().get_db_prep_save(True, connection=connection) == 1


# --- insert_family: a new row and rows that point at it (issue 20: case creation with clocks) ---


def _family() -> tuple[Case, list[Any]]:
    from leitplanke.cases.models import CaseClock
    from leitplanke.deadlines.models import DeadlineRule

    case_type = CaseType.objects.get(key="complaint")
    rule = DeadlineRule.objects.order_by("pk").first()
    assert rule is not None
    now = timezone.now()
    case = Case(reference="~family-000001", case_type=case_type, subject="Zählerstand", channel="email", received_at=now)
    clocks = [
        CaseClock(
            case=case,
            rule_id=rule.pk,
            rule_key=f"rule_{n}",
            jurisdiction="DE-NW",
            time_zone="Europe/Berlin",
            started_at=now,
            due_at=now + dt.timedelta(days=n + 1),
            explanation={"n": n, "ü": [None, "zwei"]},
        )
        for n in range(3)
    ]
    entry = Interaction(case=case, kind=InteractionKind.SYSTEM, occurred_at=now, data={"event": "created"})
    document = CaseSearchDocument(case=case, text="~family-000001\nZählerstand")
    return case, [("case", clocks), ("case", [entry]), ("case", [document])]


def test_a_family_is_one_statement_on_postgresql_and_reads_back_as_written() -> None:
    from leitplanke.cases.models import CaseClock

    case, children = _family()
    with CaptureQueriesContext(connection) as queries:
        inserts.insert_family(case, children)
    writes = [q["sql"] for q in queries.captured_queries]
    if connection.vendor == "postgresql":
        assert len(writes) == 1 and writes[0].startswith('WITH parent AS (INSERT INTO "cases_case"')
    else:
        assert len(writes) == 4  # one insert_rows per table
    clocks, (entry,), (document,) = (rows for _name, rows in children)
    assert case.pk is not None and not case._state.adding
    stored = Case.objects.get(pk=case.pk)
    assert (stored.reference, stored.subject, stored.registered_at) == (case.reference, "Zählerstand", case.registered_at)
    assert [clock.case_id for clock in clocks] == [case.pk] * 3 and clocks[0].pk < clocks[1].pk < clocks[2].pk
    assert {c.pk: (c.rule_key, c.due_at, c.explanation) for c in CaseClock.objects.filter(case=case)} == {
        c.pk: (c.rule_key, c.due_at, c.explanation) for c in clocks
    }
    assert not any(clock._state.adding for clock in clocks)
    assert Interaction.objects.get(pk=entry.pk).case_id == case.pk and entry.case_id == case.pk
    assert document.pk == case.pk and CaseSearchDocument.objects.get(pk=case.pk).text == "~family-000001\nZählerstand"


def test_a_family_without_children_is_one_row_and_refusals_hold() -> None:
    case, _children = _family()
    inserts.insert_family(case, [("case", [])])
    assert Case.objects.filter(pk=case.pk).exists()
    again, children = _family()
    again.pk = 4711
    if connection.vendor == "postgresql":
        with pytest.raises(TypeError, match="numbers a new"):
            inserts.insert_family(again, children)
    assert not Case.objects.filter(pk=4711).exists()


def test_a_failing_child_leaves_no_parent_behind() -> None:
    """One statement on PostgreSQL, so all or nothing; elsewhere the caller's transaction."""
    case, children = _family()
    clocks = children[0][1]
    clocks[-1].rule_key = None  # NOT NULL everywhere
    with pytest.raises(IntegrityError), transaction.atomic():
        inserts.insert_family(case, children)
    assert not Case.objects.filter(reference="~family-000001").exists()


def test_aware_date_times_pass_as_get_db_prep_save_gives_them_and_naive_ones_still_convert() -> None:
    from zoneinfo import ZoneInfo

    statement = inserts._statement(AuditEvent, connection)
    aware = dt.datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    event = AuditEvent(occurred_at=aware, action="test.aware")
    values = dict(zip((f.name for f in statement.fields), inserts._values(statement, event, connection), strict=True))
    field = AuditEvent._meta.get_field("occurred_at")
    assert values["occurred_at"] == field.get_db_prep_save(aware, connection=connection)
    assert values["sealed_at"] == field.get_db_prep_save(None, connection=connection)
    naive = dt.datetime(2026, 3, 29, 1, 30)
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        converted = inserts._values(statement, AuditEvent(occurred_at=naive, action="test.naive"), connection)
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        expected = field.get_db_prep_save(naive, connection=connection)
    assert converted[[f.name for f in statement.fields].index("occurred_at")] == expected


def test_a_family_can_take_a_value_the_statement_makes_and_write_an_unlinked_row() -> None:
    """PostgreSQL: a WITH part before the parent, column expressions that read it and the
    parent's id, a row that does not point at the parent, and one integer read back (ADR 0032).
    Elsewhere these are refused: the caller composes its writes itself."""
    case, children = _family()
    event = AuditEvent(occurred_at=timezone.now(), action="test.family", after={"reference": ""})
    arguments: dict[str, Any] = {
        "lead": [("number", "SELECT %s::integer AS value", [41])],
        "expressions": {
            Case: {"reference": "'~family-' || ((SELECT value FROM number) + 1)::text"},
            AuditEvent: {
                "object_id": "(SELECT id FROM parent)::text",
                "after": "jsonb_set(%s, '{n}', to_jsonb((SELECT value FROM number)))",
            },
        },
        "report": "(SELECT value FROM number)",
    }
    if connection.vendor != "postgresql":
        with pytest.raises(TypeError, match="need PostgreSQL"):
            inserts.insert_family(case, [*children, (None, [event])], **arguments)
        return
    with CaptureQueriesContext(connection) as queries:
        reported = inserts.insert_family(case, [*children, (None, [event])], **arguments)
    assert len(queries.captured_queries) == 1 and reported == 41
    assert Case.objects.get(pk=case.pk).reference == "~family-42"
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.object_id, stored.after) == (str(case.pk), {"reference": "", "n": 41})
    with pytest.raises(TypeError, match="no column"):
        again, more = _family()
        inserts.insert_family(again, more, expressions={Case: {"no_such_column": "1"}})


def test_rows_of_several_models_are_one_statement_on_postgresql_and_get_their_keys() -> None:
    """`write_rows`: a change's timeline entries and audit events at its end (issue 21)."""
    case, _children = _family()
    inserts.insert_row(case)
    now = timezone.now()
    rows = [
        Interaction(case=case, kind=InteractionKind.SYSTEM, occurred_at=now, data={"event": "one"}),
        AuditEvent(occurred_at=now, action="test.rows", object_id=str(case.pk), after={"n": 1}),
        Interaction(case=case, kind=InteractionKind.SYSTEM, occurred_at=now, data={"event": "two"}),
        AuditEvent(occurred_at=now, action="test.rows", object_id=str(case.pk), after={"n": 2}),
    ]
    with CaptureQueriesContext(connection) as queries:
        inserts.write_rows(rows)
    assert len(queries.captured_queries) == (1 if connection.vendor == "postgresql" else 2)
    assert all(row.pk is not None and not row._state.adding for row in rows)
    assert Interaction.objects.get(pk=rows[0].pk).data == {"event": "one"}
    assert Interaction.objects.get(pk=rows[2].pk).data == {"event": "two"} and rows[0].pk < rows[2].pk
    assert AuditEvent.objects.get(pk=rows[3].pk).after == {"n": 2} and rows[1].pk < rows[3].pk


def test_an_update_is_a_part_of_the_statement_that_writes_rows_naming_the_new_row() -> None:
    """`update_statement`: `update_row`'s statement, not run (`auto_now` filled in), for a WITH
    part: on PostgreSQL a new row, an UPDATE of another row and rows naming the new one's id
    are one statement (a final decision, issue 21); elsewhere the caller runs it itself."""
    case, _children = _family()
    inserts.insert_row(case)
    before = Case.objects.get(pk=case.pk).updated_at
    case.subject = "Zählerstand falsch"
    sql, params = inserts.update_statement(case, ["subject", "updated_at"])
    assert sql.startswith('UPDATE "cases_case" SET') and params[0] == "Zählerstand falsch" and params[-1] == case.pk
    assert case.updated_at > before  # pre_save ran; nothing written yet
    assert Case.objects.get(pk=case.pk).subject == "Zählerstand"
    entry = Interaction(case=case, kind=InteractionKind.SYSTEM, occurred_at=timezone.now(), data={"event": "x", "entry": None})
    event = AuditEvent(occurred_at=timezone.now(), action="test.update", object_id="")
    other = AuditEvent(occurred_at=timezone.now(), action="test.update", object_id=str(case.pk))
    if connection.vendor != "postgresql":
        assert inserts.update_row(case, ["subject", "updated_at"]) == 1
        assert Case.objects.get(pk=case.pk).subject == "Zählerstand falsch"
        return
    with CaptureQueriesContext(connection) as queries:
        inserts.insert_family(
            entry,
            [(None, [event, other])],
            lead=[("changed", sql, params)],
            expressions={AuditEvent: {"object_id": "COALESCE(NULLIF(%s, ''), (SELECT id FROM parent)::text)"}},
        )
    assert len(queries.captured_queries) == 1
    stored = Case.objects.get(pk=case.pk)
    assert (stored.subject, stored.updated_at) == ("Zählerstand falsch", case.updated_at)
    assert AuditEvent.objects.get(pk=event.pk).object_id == str(entry.pk)
    assert AuditEvent.objects.get(pk=other.pk).object_id == str(case.pk) and event.pk < other.pk


def test_rows_can_be_written_with_an_update_in_one_statement_on_postgresql() -> None:
    """`write_rows(lead=…)`: a change's UPDATE of its own row with its timeline entries and
    audit events (a decision awaiting approval, a correction, issue 21); refused elsewhere."""
    case, _children = _family()
    inserts.insert_row(case)
    case.subject = "Zählerstand korrigiert"
    update = inserts.update_statement(case, ["subject"])
    rows = [
        Interaction(case=case, kind=InteractionKind.SYSTEM, occurred_at=timezone.now(), data={"event": "one"}),
        AuditEvent(occurred_at=timezone.now(), action="test.rows", object_id=str(case.pk)),
    ]
    if connection.vendor != "postgresql":
        with pytest.raises(TypeError, match="lead needs PostgreSQL"):
            inserts.write_rows(rows, lead=[("changed", *update)])
        return
    with CaptureQueriesContext(connection) as queries:
        inserts.write_rows(rows[:1], lead=[("changed", *update)])  # one model: still one statement
        inserts.write_rows([], lead=[("again", *inserts.update_statement(case, ["subject"]))])
    assert len(queries.captured_queries) == 2
    assert Case.objects.get(pk=case.pk).subject == "Zählerstand korrigiert"
    assert rows[0].pk is not None and Interaction.objects.get(pk=rows[0].pk).data == {"event": "one"}
