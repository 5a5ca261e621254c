"""Decision tables as app data: drafts checked on every save, publishing, versions, import,
the shipped tables, evaluation through the selectors and the version diff."""

from __future__ import annotations

import copy
import importlib
from typing import Any

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.utils import translation

from leitplanke.core.audit import AuditEvent
from leitplanke.core.errors import NotFound, PermissionDenied, PreconditionFailed, ValidationFailed
from leitplanke.decisions import engine, shipped, table_selectors, table_services
from leitplanke.decisions.errors import (
    DraftExists,
    EvaluationInputInvalid,
    NoPublishedTable,
    TableInvalid,
    TableKeyExists,
    TableNotDraft,
    TableNotPublished,
    TableTestsFailing,
    TableUntested,
)
from leitplanke.decisions.models import DecisionTable, TableStatus
from leitplanke.decisions.table_diff import compare
from tests.concurrency import in_parallel, interleave, shared_database

pytestmark = pytest.mark.django_db


def routing_jdm() -> dict[str, Any]:
    return copy.deepcopy(shipped.jdm("routing"))


def rules_of(jdm: dict[str, Any]) -> list[dict[str, Any]]:
    return next(n for n in jdm["nodes"] if n["type"] == "decisionTableNode")["content"]["rules"]


def create(owner: Any, key: str = "routing_b", **changes: Any) -> DecisionTable:
    values: dict[str, Any] = {
        "key": key,
        "name_de": "Zuweisung",
        "name_en": "Routing",
        "description": "",
        "decision_kind": "none",
        "jdm": routing_jdm(),
        "tests": shipped.tests("routing"),
        **changes,
    }
    return table_services.table_create(actor=owner, **values)


def test_the_shipped_tables_are_published_as_version_1() -> None:
    rows = {t.key: t for t in DecisionTable.objects.filter(status=TableStatus.PUBLISHED)}
    assert set(rows) == set(shipped.KEYS)
    assert {t.version for t in rows.values()} == {1}
    assert rows["goodwill_energy_billing"].decision_kind == "goodwill"
    assert rows["routing"].decision_kind == "none"
    assert all(t.check_result["publishable"] and t.name_de and t.name_en for t in rows.values())


def test_create_saves_a_checked_draft_and_audits_it(owner: Any) -> None:
    table = create(owner)
    assert (table.version, table.status, table.revision) == (1, "draft", 1)
    assert table.check_result["problems"] == [] and table.check_result["publishable"]
    assert table.check_result["tests"] == len(shipped.tests("routing"))
    event = AuditEvent.objects.get(action="decision_table.create", object_id=str(table.pk))
    assert event.after["key"] == "routing_b" and event.after["jdm"]["nodes"]


def test_floats_in_tests_are_audited_as_text(owner: Any) -> None:
    table = create(owner, "cards", jdm=shipped.jdm("card_fee_refund"), tests=shipped.tests("card_fee_refund"))
    event = AuditEvent.objects.get(action="decision_table.create", object_id=str(table.pk))
    assert event.after["tests"][3]["expected"]["refund_share"] == "0.5"


@pytest.mark.parametrize("key", ["", "a b", "x" * 51, "ümlaut", "../etc"])
def test_a_bad_key_is_refused(owner: Any, key: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create(owner, key)
    assert "key" in caught.value.field_errors


def test_an_existing_key_is_refused(owner: Any) -> None:
    with pytest.raises(TableKeyExists):
        create(owner, "routing")


def test_shape_errors_name_their_fields(owner: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create(owner, name_de=" ", name_en="x" * 201, description="d" * 2001, decision_kind="bribe", jdm=[], tests={})
    assert set(caught.value.field_errors) == {"name_de", "name_en", "description", "decision_kind", "jdm", "tests"}


def test_non_finite_numbers_and_unstorable_text_are_refused(owner: Any) -> None:
    tests = shipped.tests("routing")
    tests[0]["inputs"]["x"] = float("nan")
    with pytest.raises(ValidationFailed) as caught:
        create(owner, tests=tests)
    assert "tests/0/inputs/x" in caught.value.field_errors
    with pytest.raises(ValidationFailed):
        create(owner, name_en="a\x00b")


def test_only_process_owners_write(agent: Any) -> None:
    with pytest.raises(PermissionDenied):
        create(agent)


def test_a_draft_with_a_broken_cell_is_saved_with_its_problems(owner: Any) -> None:
    table = create(owner)
    jdm = routing_jdm()
    first = rules_of(jdm)[0]
    column = next(k for k in first if not k.startswith("_"))
    first[column] = '"billing" >>> 3'
    table = table_services.table_update(actor=owner, table=table, revision=1, jdm=jdm)
    assert table.revision == 2 and table.jdm == jdm
    problems = table.check_result["problems"]
    assert [p["code"] for p in problems] == ["cell_syntax"]
    assert problems[0]["place"].startswith(f"rules[0] ({first['_id']}).")
    assert table.check_result["publishable"] is False
    with pytest.raises(TableInvalid) as caught:
        table_services.table_publish(actor=owner, table=table, revision=2)
    assert list(caught.value.field_errors) == [f"jdm/{problems[0]['place']}"]
    with pytest.raises(TableInvalid):
        table_services.table_update(actor=owner, table=table, revision=2, jdm=jdm, strict=True)


def test_a_stale_revision_is_412(owner: Any) -> None:
    table = create(owner)
    table_services.table_update(actor=owner, table=table, revision=1, name_en="Routing 2")
    with pytest.raises(PreconditionFailed):
        table_services.table_update(actor=owner, table=table, revision=1, name_en="Routing 3")
    with pytest.raises(PreconditionFailed):
        table_services.table_publish(actor=owner, table=table, revision=1)


def test_failing_tests_keep_the_draft_but_block_publishing(owner: Any) -> None:
    tests = shipped.tests("routing")
    tests[0]["expected"] = {"team": "nowhere"}
    table = create(owner, tests=tests)
    assert table.check_result["problems"] == []
    assert [f["name"] for f in table.check_result["failures"]] == [tests[0]["name"]]
    assert table.check_result["failures"][0]["expected"] == {"team": "nowhere"}
    with pytest.raises(TableTestsFailing) as caught:
        table_services.table_publish(actor=owner, table=table, revision=table.revision)
    assert list(caught.value.field_errors) == [f"tests/{tests[0]['name']}"]
    assert DecisionTable.objects.get(pk=table.pk).status == "draft"


def test_a_table_without_tests_is_not_published(owner: Any) -> None:
    table = create(owner, tests=[])
    with pytest.raises(TableUntested):
        table_services.table_publish(actor=owner, table=table, revision=1)


def test_new_version_publish_retires_the_previous(owner: Any, agent: Any) -> None:
    v1 = DecisionTable.objects.get(key="routing", version=1)
    draft = table_services.table_new_version(actor=owner, key="routing")
    assert (draft.version, draft.status, draft.jdm) == (2, "draft", v1.jdm)
    with pytest.raises(DraftExists):
        table_services.table_new_version(actor=owner, key="routing")
    jdm = routing_jdm()
    rules_of(jdm)[0]["_description"] = "Changed wording"
    draft = table_services.table_update(actor=owner, table=draft, revision=1, jdm=jdm)
    published = table_services.table_publish(actor=owner, table=draft, revision=draft.revision)
    assert published.status == "published" and published.published_by == owner
    v1.refresh_from_db()
    assert v1.status == "retired" and v1.retired_at is not None
    assert table_selectors.table_published(actor=agent, key="routing").version == 2
    events = AuditEvent.objects.filter(action__startswith="decision_table.").order_by("pk")
    actions = list(events.values_list("action", flat=True))
    assert actions == ["decision_table.new_version", "decision_table.update", "decision_table.retire", "decision_table.publish"]
    with pytest.raises(TableNotDraft):
        table_services.table_update(actor=owner, table=published, revision=None, name_en="x")
    diff = table_selectors.compare_versions(v1, published)
    assert [c.rule_id for c in diff.rules_changed] == [rules_of(jdm)[0]["_id"]] and diff.changed
    assert diff.rules_changed[0].description == (rules_of(routing_jdm())[0]["_description"], "Changed wording")


def test_retire_and_delete_draft(owner: Any, agent: Any) -> None:
    v1 = DecisionTable.objects.get(key="priority_scoring", version=1)
    draft = table_services.table_new_version(actor=owner, key="priority_scoring")
    with pytest.raises(TableNotPublished):
        table_services.table_retire(actor=owner, table=draft)
    with pytest.raises(TableNotDraft):
        table_services.table_delete_draft(actor=owner, table=v1)
    table_services.table_delete_draft(actor=owner, table=draft)
    assert not DecisionTable.objects.filter(pk=draft.pk).exists()
    table_services.table_retire(actor=owner, table=v1)
    with pytest.raises(NoPublishedTable):
        table_selectors.evaluate(actor=agent, key="priority_scoring", inputs={})


def test_import_a_gorules_document_as_a_new_key_and_as_a_next_version(owner: Any) -> None:
    imported = table_services.table_import(actor=owner, key="cards2", jdm=shipped.jdm("card_fee_refund"))
    assert (imported.version, imported.name_en, imported.status) == (1, "Card-fee refunds", "draft")
    assert imported.check_result["tests"] == 0 and not imported.check_result["publishable"]
    table_services.table_delete_draft(actor=owner, table=imported)
    again = table_services.table_import(
        actor=owner, key="card_fee_refund", jdm=shipped.jdm("card_fee_refund"), tests=shipped.tests("card_fee_refund")
    )
    assert (again.version, again.name_de, again.decision_kind) == (2, "Erstattung von Kartengebühren", "goodwill")
    exported = table_services.table_export(again)
    assert engine.load(exported) == engine.load(shipped.jdm("card_fee_refund"))
    with pytest.raises(TableInvalid) as caught:
        table_services.table_import(actor=owner, key="broken", jdm={"nodes": "x"}, strict=True)
    assert "jdm/nodes" in caught.value.field_errors


def test_visibility_of_drafts(owner: Any, agent: Any, make_user: Any) -> None:
    draft = table_services.table_new_version(actor=owner, key="routing")
    assert {t.version for t in table_selectors.tables(actor=owner, key="routing")} == {1, 2}
    assert {t.version for t in table_selectors.tables(actor=agent, key="routing")} == {1}
    with pytest.raises(NotFound):
        table_selectors.table_get(actor=agent, key="routing", version=draft.version)
    assert table_selectors.table_draft(actor=owner, key="routing") == draft
    with pytest.raises(PermissionDenied):
        table_selectors.tables(actor=make_user("auditor"))
    keys = {entry["key"]: entry for entry in table_selectors.table_keys(actor=owner)}
    assert keys["routing"]["draft"] == draft and keys["routing"]["published"].version == 1
    page = table_selectors.tables(actor=owner, limit=2)
    rest = table_selectors.tables(actor=owner, after=(page[-1].key, page[-1].version), limit=100)
    assert [(t.key, t.version) for t in page + rest] == [(t.key, t.version) for t in table_selectors.tables(actor=owner)]


def test_evaluate_the_published_version(agent: Any) -> None:
    result = table_selectors.evaluate(actor=agent, key="routing", inputs={"category": "data_protection", "segment": "private"})
    assert result["version"] == 1 and result["outputs"]["team"]
    assert result["matched_rules"][0]["id"] and result["trace"] is None
    traced = table_selectors.evaluate(
        actor=agent, key="routing", inputs={"category": "data_protection", "segment": "private"}, trace=True
    )
    assert traced["trace"][0]["outputs"]["team"] == result["outputs"]["team"]
    with pytest.raises(EvaluationInputInvalid):
        table_selectors.evaluate(actor=agent, key="routing", inputs={"category": 2**70})
    with pytest.raises(EvaluationInputInvalid):
        table_selectors.evaluate(actor=agent, key="routing", inputs=[1, 2])
    with pytest.raises(NotFound):
        table_selectors.evaluate(actor=agent, key="nope", inputs={})


def test_compiled_tables_are_cached_per_revision(owner: Any) -> None:
    table = create(owner)
    first = table_selectors.compiled(table)
    assert table_selectors.compiled(table) is first
    changed = table_services.table_update(actor=owner, table=table, revision=1, name_en="Other")
    assert table_selectors.compiled(changed) is not first


def test_compare_rules_columns_hit_policy_and_tests() -> None:
    before, after = routing_jdm(), routing_jdm()
    content = next(n for n in after["nodes"] if n["type"] == "decisionTableNode")["content"]
    content["hitPolicy"] = "collect"
    removed = content["rules"].pop(0)
    content["rules"].append({**content["rules"][0], "_id": "new-rule"})
    changed_rule = content["rules"][1]
    output = content["outputs"][0]
    changed_rule[output["id"]] = '"elsewhere"'
    content["outputs"].append({"id": "out-extra", "name": "Extra", "field": "extra"})
    tests_before = shipped.tests("routing")
    tests_after = [*copy.deepcopy(tests_before)[1:], {"name": "new", "inputs": {}, "expected": {}}]
    tests_after[0]["expected"] = {"team": "x"}
    diff = compare(before, tests_before, after, tests_after)
    assert diff.hit_policy == ("first", "collect")
    assert diff.rules_removed == (removed["_id"],) and diff.rules_added == ("new-rule",)
    assert [c.rule_id for c in diff.rules_changed] == [changed_rule["_id"]]
    assert diff.rules_changed[0].cells[0].column == output["field"]
    assert [c.field for c in diff.columns_added] == ["extra"] and not diff.columns_removed
    assert diff.tests_removed == (tests_before[0]["name"],) and diff.tests_added == ("new",)
    assert diff.tests_changed == (tests_before[1]["name"],)
    assert compare(before, tests_before, before, tests_before).changed is False
    assert compare(None, "x", {"nodes": 3}, None).changed is False
    assert diff.as_dict()["changed"] is True


@pytest.mark.django_db(transaction=True)
def test_publish_concurrently_one_wins(owner: Any, tmp_path: Any) -> None:
    draft = table_services.table_new_version(actor=owner, key="routing")
    with shared_database(tmp_path):

        def publish(index: int) -> str:
            try:
                table_services.table_publish(actor=owner, table=draft, revision=draft.revision)
            except TableNotDraft:
                return "not_draft"
            return "published"

        results = in_parallel(publish, 2)
        statuses = sorted(DecisionTable.objects.filter(key="routing").values_list("status", flat=True))
        publishes = AuditEvent.objects.filter(action="decision_table.publish").count()
    assert sorted(results) == ["not_draft", "published"]
    assert statuses == ["published", "retired"]
    assert publishes == 1


def new_version_outcome(owner: Any, key: str = "routing") -> tuple[str, Any]:
    """("created", version) or ("exists", (message, version)) — what a caller is told (in
    English, in whichever thread it runs)."""
    try:
        with translation.override("en"):
            return "created", table_services.table_new_version(actor=owner, key=key).version
    except DraftExists as refused:
        return "exists", (str(refused.message), refused.extra["version"])


def assert_one_draft_and_one_refusal(owner: Any, outcomes: list[tuple[str, Any]]) -> None:
    """One call made version 2, the other was refused exactly as a call after both is."""
    assert sorted(kind for kind, _ in outcomes) == ["created", "exists"]
    assert dict(outcomes)["created"] == 2
    refusal = ("This decision table already has a draft (version 2).", 2)
    assert dict(outcomes)["exists"] == new_version_outcome(owner)[1] == refusal
    assert list(DecisionTable.objects.filter(key="routing", status="draft").values_list("version", flat=True)) == [2]
    assert AuditEvent.objects.filter(action="decision_table.new_version").count() == 1


@pytest.mark.django_db(transaction=True)
def test_new_version_concurrently_makes_one_draft(owner: Any, tmp_path: Any) -> None:
    with shared_database(tmp_path):
        outcomes = in_parallel(lambda index: new_version_outcome(owner), 2)
        assert_one_draft_and_one_refusal(owner, outcomes)


@pytest.mark.django_db(transaction=True)
def test_new_version_while_another_commits_between_its_queries(owner: Any) -> None:
    """The failure seen once on PostgreSQL, forced: the first call stops right after its first
    query of the key's versions; the second runs to its end (the service before the fix: it
    made version 2 while the first had seen no draft, and the first then made version 3) or
    until it waits for the first's lock (now); then the first goes on."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite write transactions hold the database from BEGIN: this interleaving cannot happen")

    outcomes = interleave(
        lambda: new_version_outcome(owner),
        lambda: new_version_outcome(owner),
        pause_after=lambda sql: '"decisions_decisiontable"' in sql,
    )
    assert outcomes[0] == ("created", 2)  # the second waited for the first's lock
    assert_one_draft_and_one_refusal(owner, outcomes)


def test_a_draft_appearing_after_the_look_is_refused_by_the_database(owner: Any, monkeypatch: Any) -> None:
    """A draft committed between the service's look and its insert (a path that does not take
    the lock): the one-draft constraint refuses the insert, the service looks again and
    answers as it does for a draft it sees."""
    real_check = table_services.check

    def check_while_someone_drafts(jdm: Any, tests: Any) -> Any:
        if not DecisionTable.objects.filter(key="routing", status=TableStatus.DRAFT).exists():
            DecisionTable.objects.create(key="routing", version=7, name_de="Z", name_en="R", jdm=jdm, tests=tests)
        return real_check(jdm, tests)

    monkeypatch.setattr(table_services, "check", check_while_someone_drafts)
    with pytest.raises(DraftExists) as refused:
        table_services.table_new_version(actor=owner, key="routing")
    assert refused.value.extra["version"] == 7  # the refusal names the draft found on looking again
    assert not AuditEvent.objects.filter(action="decision_table.new_version").exists()


def test_the_database_refuses_a_second_draft_of_a_key(owner: Any) -> None:
    draft = table_services.table_new_version(actor=owner, key="routing")
    with pytest.raises(IntegrityError), transaction.atomic():
        DecisionTable.objects.create(key="routing", version=draft.version + 1, name_de="Z", name_en="R")
    DecisionTable.objects.create(key="routing_other", version=1, name_de="Z", name_en="R")  # another key may


def test_the_migration_retires_all_but_the_newest_draft_of_a_key(owner: Any) -> None:
    """Keys that got two drafts before the constraint: the newest stays the draft, the others
    are retired (content kept) with an audit event each; other keys are left alone."""
    with connection.cursor() as cursor:  # the state before decisions 0005 (rolled back with the test)
        cursor.execute('DROP INDEX "decision_table_one_draft_per_key"')
    older = table_services.table_new_version(actor=owner, key="routing")
    newer = DecisionTable.objects.create(key="routing", version=3, name_de="Z", name_en="R")
    alone = table_services.table_new_version(actor=owner, key="priority_scoring")
    migration = importlib.import_module("leitplanke.decisions.migrations.0005_one_draft_per_key")
    migration.retire_extra_drafts(apps, None)
    statuses = dict(DecisionTable.objects.filter(pk__in=[older.pk, newer.pk, alone.pk]).values_list("pk", "status"))
    assert statuses == {older.pk: "retired", newer.pk: "draft", alone.pk: "draft"}
    event = AuditEvent.objects.get(action="decision_table.retire", object_id=str(older.pk))
    assert event.after["reason"] == "second_draft" and event.after["draft_kept"] == 3


@pytest.mark.django_db(transaction=True)
def test_two_saves_on_the_same_revision_one_wins(owner: Any, tmp_path: Any) -> None:
    draft = table_services.table_new_version(actor=owner, key="routing")
    with shared_database(tmp_path):

        def save(index: int) -> str:
            try:
                table_services.table_update(actor=owner, table=draft, revision=draft.revision, name_en=f"Routing {index}")
            except PreconditionFailed:
                return "stale"
            return "saved"

        results = in_parallel(save, 2)
        stored = DecisionTable.objects.get(pk=draft.pk)
        updates = AuditEvent.objects.filter(action="decision_table.update").count()
    assert sorted(results) == ["saved", "stale"]
    assert stored.revision == draft.revision + 1 and updates == 1


def test_a_draft_with_problems_cannot_be_evaluated(owner: Any) -> None:
    jdm = routing_jdm()
    rules_of(jdm)[0]["_id"] = ""
    table = create(owner, jdm=jdm)
    with pytest.raises(TableInvalid) as caught:
        table_selectors.evaluate_table(table, {"category": "billing"})
    assert any(pointer.startswith("jdm/rules[0]") for pointer in caught.value.field_errors)


def test_a_reused_row_id_is_not_served_from_the_compiled_cache(owner: Any) -> None:
    """A row created (and compiled) in a transaction that rolled back leaves its id to the
    next row (SQLite's sequence rolls back too), which starts at revision 1 again."""
    from django.db import transaction

    with transaction.atomic():
        draft = table_services.table_new_version(actor=owner, key="routing")
        first = table_selectors.compiled(draft)
        transaction.set_rollback(True)
    jdm = routing_jdm()
    rules_of(jdm)[0]["_description"] = "Other content"
    again = table_services.table_import(actor=owner, key="routing", jdm=jdm, tests=shipped.tests("routing"))
    assert table_selectors.compiled(again) is not first
    assert table_selectors.compiled(again).rules[0].description == "Other content"
