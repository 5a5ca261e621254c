"""The decision table editor (Settings → Decision tables, issue 21 item 1) through the Django
test client: the list, a new table, the grid (cells, rules, columns, hit policy), test cases,
errors marked in their cell, publish / retire / new version / delete, import and export,
compare, "try it", the revision conflict and the refusals for people who are not process
owners."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leitplanke.decisions import shipped
from leitplanke.decisions.models import DecisionTable
from leitplanke.decisions.table_forms import MAX_UPLOAD, grid_from_jdm

pytestmark = pytest.mark.django_db

BASE = "/settings/decisions"


def form_data(table: DecisionTable, **changes: Any) -> dict[str, Any]:
    """The editor's form as the page posts it (every cell by position), with `changes`."""
    grid = grid_from_jdm(table.jdm, table.tests)
    data: dict[str, Any] = {
        "name_de": table.name_de,
        "name_en": table.name_en,
        "description": table.description,
        "decision_kind": table.decision_kind,
        "hit_policy": grid.hit_policy,
        "revision": table.revision,
        "inputs": len(grid.inputs),
        "outputs": len(grid.outputs),
        "rules": len(grid.rules),
        "tests": len(grid.tests) + 1,  # the blank row for a new test case
        "op": "save",
    }
    for part, columns in (("in", grid.inputs), ("out", grid.outputs)):
        for i, column in enumerate(columns):
            data.update({f"{part}-{i}-id": column.id, f"{part}-{i}-name": column.name, f"{part}-{i}-field": column.field})
    for r, rule in enumerate(grid.rules):
        data[f"rule-{r}-id"] = rule.id
        data[f"rule-{r}-description"] = rule.description
        data[f"rule-{r}-description_de"] = rule.description_de
        data.update({f"rule-{r}-in-{i}": value for i, value in enumerate(rule.inputs)})
        data.update({f"rule-{r}-out-{j}": value for j, value in enumerate(rule.outputs)})
    for t, case in enumerate(grid.tests):
        data.update({f"test-{t}-name": case.name, f"test-{t}-inputs": case.inputs, f"test-{t}-expected": case.expected})
    data.update(changes)
    return data


def routing(version: int = 2) -> DecisionTable:
    return DecisionTable.objects.get(key="routing", version=version)


@pytest.fixture
def editor(owner: Any, client_for: Any) -> Any:
    """A process owner with a draft version 2 of the shipped routing table."""
    client = client_for(owner)
    assert client.post(f"{BASE}/routing/1/new-version/")["Location"] == f"{BASE}/routing/2/"
    return client


def rule_ids(table: DecisionTable) -> list[str]:
    return [rule.id for rule in grid_from_jdm(table.jdm, table.tests).rules]


# --- list, table page, new table -------------------------------------------------------------


def test_the_list_shows_each_table_with_its_versions_and_kind(editor: Any) -> None:
    page = editor.get(f"{BASE}/").content.decode()
    for key in shipped.KEYS:
        assert f'data-table="{key}"' in page
    assert "Goodwill for energy billing complaints" in page and "Goodwill" in page
    row = page[page.index('data-table="routing"') :].split("</tr>")[0]
    assert "Version 2" in row and 'data-status="draft"' in row and 'data-status="published"' in row
    german = editor.get(f"{BASE}/", HTTP_ACCEPT_LANGUAGE="de")
    assert german.status_code == 200
    table_page = editor.get(f"{BASE}/routing/").content.decode()
    assert "Version 1" in table_page and "Version 2" in table_page and f"{BASE}/routing/compare/" in table_page
    assert editor.get(f"{BASE}/no-such-table/").status_code == 404
    assert editor.get(f"{BASE}/routing/9/").status_code == 404


def test_a_new_table_starts_as_a_draft_with_one_rule(editor: Any) -> None:
    response = editor.post(f"{BASE}/new/", {"key": "fees", "name_de": "Gebühren", "name_en": "Fees", "decision_kind": "goodwill"})
    assert response["Location"] == f"{BASE}/fees/1/"
    table = DecisionTable.objects.get(key="fees")
    assert (table.status, table.decision_kind, len(rule_ids(table))) == ("draft", "goodwill", 1)
    page = editor.get(f"{BASE}/fees/1/").content.decode()
    assert 'name="rule-0-in-0"' in page and 'name="in-0-field"' in page
    # a key in use, a bad key, a missing name: errors on the form, nothing created
    response = editor.post(f"{BASE}/new/", {"key": "fees", "name_de": "X", "name_en": "X", "decision_kind": "none"})
    assert response.status_code in (409, 422) and "form-errors" in response.content.decode()
    response = editor.post(f"{BASE}/new/", {"key": "no spaces!", "name_de": "", "name_en": "X", "decision_kind": "none"})
    assert response.status_code == 422
    assert DecisionTable.objects.filter(key="fees").count() == 1


# --- cells, errors in the cell --------------------------------------------------------------


def test_a_cell_that_does_not_compile_is_marked_in_the_cell_and_kept_as_draft(editor: Any) -> None:
    response = editor.post(f"{BASE}/routing/2/", form_data(routing(), **{"rule-1-in-0": '"billing" ,, >'}))
    assert response.status_code == 422
    page = response.content.decode()
    cell = re.search(r'<input[^>]*name="rule-1-in-0"[^>]*>', page)
    assert cell is not None
    assert 'aria-invalid="true"' in cell.group(0) and 'aria-describedby="err-rule-1-in-0"' in cell.group(0)
    assert 'id="err-rule-1-in-0"' in page  # the message the cell points at exists
    assert "does not compile" in page[page.index('id="err-rule-1-in-0"') :].split("</small>")[0]
    # the summary at the top links to the cell and takes the focus
    summary = page[page.index('id="check-summary"') - 200 : page.index("</ul>", page.index('id="check-summary"'))]
    assert 'href="#id_rule-1-in-0"' in summary and "form-errors" in summary and 'tabindex="-1"' in summary
    assert "Rule 2" in summary
    # the edit is stored as a draft, with the problem
    table = routing()
    content = next(n for n in table.jdm["nodes"] if n["type"] == "decisionTableNode")["content"]
    assert '"billing" ,, >' in content["rules"][1].values()
    assert table.check_result["problems"] and table.revision == 2
    # a reload shows the mark again, without moving the focus
    page = editor.get(f"{BASE}/routing/2/").content.decode()
    assert 'aria-describedby="err-rule-1-in-0"' in page and '<div id="check-summary" class="dt-summary">' in page
    # fixed: saved, no problems
    response = editor.post(f"{BASE}/routing/2/", form_data(routing(), **{"rule-1-in-0": '"billing", "meter"'}))
    assert response.status_code == 302
    assert routing().check_result["problems"] == [] and routing().check_result["publishable"]
    assert "no problems" in editor.get(response["Location"]).content.decode().lower()


def test_bad_output_and_column_field_are_marked_where_they_are(editor: Any) -> None:
    data = form_data(routing(), **{"rule-0-out-0": "round(", "out-1-field": "not a field"})
    page = editor.post(f"{BASE}/routing/2/", data).content.decode()
    assert 'aria-describedby="err-rule-0-out-0"' in page and 'id="err-rule-0-out-0"' in page
    assert 'aria-describedby="err-out-1-field"' in page and 'id="err-out-1-field"' in page


def test_texts_that_cannot_be_stored_or_are_too_long_are_refused_in_the_cell(editor: Any) -> None:
    before = routing().revision
    response = editor.post(
        f"{BASE}/routing/2/", form_data(routing(), **{"rule-0-description": "a\x00b", "rule-1-in-0": "x" * 3000})
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'aria-describedby="err-rule-0-description"' in page and 'aria-describedby="err-rule-1-in-0"' in page
    assert routing().revision == before  # nothing stored
    response = editor.post(f"{BASE}/routing/2/", form_data(routing(), name_en=""))
    assert response.status_code == 422 and routing().revision == before


def test_rules_are_added_moved_and_deleted(editor: Any) -> None:
    ids = rule_ids(routing())
    response = editor.post(f"{BASE}/routing/2/", form_data(routing(), op="add_rule"))
    assert response.status_code == 302 and response["Location"].startswith(f"{BASE}/routing/2/#rule-row-")
    after = rule_ids(routing())
    assert after[:-1] == ids and after[-1] not in ids
    editor.post(f"{BASE}/routing/2/", form_data(routing(), op="add_rule:0"))
    assert len(rule_ids(routing())) == len(ids) + 2 and rule_ids(routing())[0] == ids[0]
    editor.post(f"{BASE}/routing/2/", form_data(routing(), op="delete_rule:1"))
    editor.post(f"{BASE}/routing/2/", form_data(routing(), op=f"delete_rule:{len(ids)}"))
    assert rule_ids(routing()) == ids
    editor.post(f"{BASE}/routing/2/", form_data(routing(), op="down:0"))
    assert rule_ids(routing())[:2] == [ids[1], ids[0]]
    editor.post(f"{BASE}/routing/2/", form_data(routing(), op="up:1"))
    assert rule_ids(routing()) == ids
    # a move also keeps what was typed in the same post
    editor.post(f"{BASE}/routing/2/", form_data(routing(), op="down:0", **{"rule-0-description": "moved"}))
    assert grid_from_jdm(routing().jdm, []).rules[1].description == "moved"
    # out of range or unknown: nothing moves
    editor.post(f"{BASE}/routing/2/", form_data(routing(), op="up:0"))
    editor.post(f"{BASE}/routing/2/", form_data(routing(), op="delete_rule:99"))
    editor.post(f"{BASE}/routing/2/", form_data(routing(), op="bogus"))
    assert len(rule_ids(routing())) == len(ids)


def test_columns_are_added_and_removed(editor: Any) -> None:
    editor.post(f"{BASE}/routing/2/", form_data(routing(), op="add_input"))
    grid = grid_from_jdm(routing().jdm, [])
    assert len(grid.inputs) == 3 and all(len(rule.inputs) == 3 for rule in grid.rules)
    # the new column has no field yet: marked in its header
    page = editor.get(f"{BASE}/routing/2/").content.decode()
    assert 'aria-describedby="err-in-2-field"' in page
    data = form_data(routing(), **{"in-2-name": "Product", "in-2-field": "product", "rule-0-in-2": '"card"'})
    editor.post(f"{BASE}/routing/2/", data)  # compiles; the data-protection test now fails (no product)
    assert grid_from_jdm(routing().jdm, []).rules[0].inputs[2] == '"card"'
    assert not routing().check_result["problems"] and routing().check_result["failures"]
    editor.post(f"{BASE}/routing/2/", form_data(routing(), op="remove_input:2"))
    editor.post(f"{BASE}/routing/2/", form_data(routing(), op="add_output"))
    assert len(grid_from_jdm(routing().jdm, []).outputs) == 4
    editor.post(f"{BASE}/routing/2/", form_data(routing(), op="remove_output:3"))
    grid = grid_from_jdm(routing().jdm, [])
    assert (len(grid.inputs), len(grid.outputs)) == (2, 3)
    assert routing().check_result["problems"] == []


def test_the_hit_policy_is_chosen(editor: Any) -> None:
    # routing's tests expect objects: collect makes them malformed, which is shown at the tests
    response = editor.post(f"{BASE}/routing/2/", form_data(routing(), hit_policy="collect"))
    assert response.status_code == 422
    assert grid_from_jdm(routing().jdm, []).hit_policy == "collect"
    assert 'aria-describedby="err-test-0-expected"' in response.content.decode()
    response = editor.post(f"{BASE}/routing/2/", form_data(routing(), hit_policy="first"))
    assert response.status_code == 302


# --- test cases ---------------------------------------------------------------------------


def test_a_test_case_is_added_and_a_failing_one_shows_expected_and_actual(editor: Any) -> None:
    n = len(routing().tests)
    new = {
        f"test-{n}-name": "billing to the billing team",
        f"test-{n}-inputs": '{"category": "billing", "segment": "private"}',
        f"test-{n}-expected": '{"team": "nobody"}',
    }
    response = editor.post(f"{BASE}/routing/2/", form_data(routing(), **new))
    assert response.status_code == 422
    page = response.content.decode()
    assert len(routing().tests) == n + 1
    assert routing().check_result["failures"][0]["name"] == "billing to the billing team"
    assert "1 test fails" in page and "nobody" in page and "billing" in page
    assert f'aria-describedby="err-test-{n}-expected"' in page and f'href="#id_test-{n}-expected"' in page
    expected = routing().check_result["failures"][0]["actual"]["team"]
    fixed = {f"test-{n}-expected": json.dumps({"team": expected})}
    response = editor.post(f"{BASE}/routing/2/", form_data(routing(), **fixed))
    assert response.status_code == 302
    assert f"All {n + 1} tests pass" in editor.get(f"{BASE}/routing/2/").content.decode()
    # deleted again
    editor.post(f"{BASE}/routing/2/", form_data(routing(), op=f"delete_test:{n}"))
    assert len(routing().tests) == n


def test_test_json_that_does_not_parse_is_marked_and_kept(editor: Any) -> None:
    n = len(routing().tests)
    data = form_data(routing(), **{f"test-{n}-name": "broken", f"test-{n}-inputs": "{nope", f"test-{n}-expected": "{}"})
    response = editor.post(f"{BASE}/routing/2/", data)
    assert response.status_code == 422
    page = response.content.decode()
    assert f'aria-describedby="err-test-{n}-inputs"' in page and "not valid JSON" in page
    assert routing().tests[n]["inputs"] == "{nope"  # kept as typed
    assert "{nope" in editor.get(f"{BASE}/routing/2/").content.decode()


# --- revision conflict, published versions --------------------------------------------------


def test_a_stale_revision_is_refused_and_keeps_what_was_typed(editor: Any) -> None:
    stale = form_data(routing())
    editor.post(f"{BASE}/routing/2/", form_data(routing(), **{"rule-0-description": "first"}))
    stale["rule-0-description"] = "second"
    response = editor.post(f"{BASE}/routing/2/", stale)
    assert response.status_code in (409, 412)
    page = response.content.decode()
    assert "Someone else saved this draft meanwhile" in page and "second" in page
    assert grid_from_jdm(routing().jdm, []).rules[0].description == "first"


def test_a_published_version_is_read_only(editor: Any) -> None:
    page = editor.get(f"{BASE}/routing/1/").content.decode()
    assert "readonly" in page and 'id="save"' not in page and 'id="new-version"' in page
    before = routing(1).jdm
    response = editor.post(f"{BASE}/routing/1/", form_data(routing(1), **{"rule-0-description": "changed"}))
    assert response.status_code == 302 and routing(1).jdm == before


# --- publish, retire, new version, delete -------------------------------------------------------


def test_publish_is_refused_with_the_reason_while_there_are_problems(editor: Any) -> None:
    editor.post(f"{BASE}/routing/2/", form_data(routing(), **{"rule-0-out-0": "round("}))
    response = editor.post(f"{BASE}/routing/2/publish/", {"revision": routing().revision}, follow=True)
    page = response.content.decode()
    assert "Not published" in page and routing().status == "draft" and routing(1).status == "published"
    editor.post(f"{BASE}/routing/2/", form_data(routing(), **{"rule-0-out-0": '"data_protection"'}))
    response = editor.post(f"{BASE}/routing/2/publish/", {"revision": routing().revision}, follow=True)
    assert "is published" in response.content.decode()
    assert (routing(1).status, routing(2).status) == ("retired", "published")


def test_publish_is_refused_while_a_test_fails(editor: Any) -> None:
    n = len(routing().tests)
    data = form_data(
        routing(),
        **{f"test-{n}-name": "wrong", f"test-{n}-inputs": '{"category": "billing"}', f"test-{n}-expected": '{"team": "x"}'},
    )
    editor.post(f"{BASE}/routing/2/", data)
    response = editor.post(f"{BASE}/routing/2/publish/", {"revision": routing().revision}, follow=True)
    assert "Not published" in response.content.decode() and routing().status == "draft"


def test_retire_new_version_and_delete_draft(editor: Any) -> None:
    # one draft per key: a second new version is refused in words
    response = editor.post(f"{BASE}/routing/1/new-version/", follow=True)
    assert "message-error" in response.content.decode()
    response = editor.post(f"{BASE}/routing/2/delete/", {"revision": routing().revision})
    assert response["Location"] == f"{BASE}/routing/"
    assert not DecisionTable.objects.filter(key="routing", version=2).exists()
    response = editor.post(f"{BASE}/routing/1/retire/", follow=True)
    assert "is retired" in response.content.decode() and routing(1).status == "retired"
    # a published version cannot be deleted, a retired one cannot be retired again
    response = editor.post(f"{BASE}/card_fee_refund/1/delete/", follow=True)
    assert "message-error" in response.content.decode() and DecisionTable.objects.filter(key="card_fee_refund").exists()
    response = editor.post(f"{BASE}/routing/1/retire/", follow=True)
    assert "message-error" in response.content.decode()


# --- import, export -------------------------------------------------------------------------


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/json")


def test_export_and_import_round_trip(editor: Any) -> None:
    jdm = editor.get(f"{BASE}/routing/1/export.json")
    assert jdm["Content-Disposition"] == 'attachment; filename="routing-v1.json"'
    tests = editor.get(f"{BASE}/routing/1/tests.json")
    assert json.loads(tests.content) == routing(1).tests
    response = editor.post(
        f"{BASE}/import/",
        {
            "key": "routing-copy",
            "name_de": "Kopie",
            "name_en": "Copy",
            "decision_kind": "none",
            "file": _upload("routing.json", jdm.content),
            "tests_file": _upload("routing.tests.json", tests.content),
        },
    )
    assert response["Location"] == f"{BASE}/routing-copy/1/"
    copy = DecisionTable.objects.get(key="routing-copy")
    assert copy.status == "draft" and copy.check_result["publishable"] and copy.tests == routing(1).tests


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must hold a JSON object"),
        (b"\xff\xfe", "not UTF-8"),
        (b" " * (MAX_UPLOAD + 1), "too large"),
    ],
)
def test_a_bad_import_file_is_refused_with_the_reason(editor: Any, content: bytes, message: str) -> None:
    data = {"key": "imported", "name_de": "I", "name_en": "I", "decision_kind": "none", "file": _upload("t.json", content)}
    response = editor.post(f"{BASE}/import/", data)
    assert response.status_code == 422 and message in response.content.decode()
    assert not DecisionTable.objects.filter(key="imported").exists()


def test_an_import_that_is_not_a_table_is_refused_or_kept_with_its_problems(editor: Any) -> None:
    data = {"key": "imported", "name_de": "I", "name_en": "I", "decision_kind": "none"}
    response = editor.post(f"{BASE}/import/", {**data, "file": _upload("t.json", b'{"nodes": 3}')})
    assert response.status_code in (302, 422)
    broken = shipped.jdm("routing")
    next(n for n in broken["nodes"] if n["type"] == "decisionTableNode")["content"]["rules"][0]["out1"] = "round("
    response = editor.post(
        f"{BASE}/import/", {**data, "key": "imported2", "file": _upload("t.json", json.dumps(broken).encode())}
    )
    assert response.status_code in (302, 422)
    if response.status_code == 302:
        assert DecisionTable.objects.get(key="imported2").check_result["problems"]


# --- compare, try it ----------------------------------------------------------------------------


def test_compare_shows_rules_added_removed_and_changed(editor: Any) -> None:
    data = form_data(routing(), op="add_rule", **{"rule-0-out-0": '"privacy"'})
    editor.post(f"{BASE}/routing/2/", data)
    editor.post(f"{BASE}/routing/2/", form_data(routing(), op="delete_rule:1"))
    page = editor.get(f"{BASE}/routing/compare/?a=1&b=2").content.decode()
    removed = page[page.index('id="rules-removed"') : page.index('id="rules-added"')]
    added = page[page.index('id="rules-added"') : page.index('id="rules-changed"')]
    changed = page[page.index('id="rules-changed"') :]
    assert rule_ids(routing(1))[1] in removed
    assert rule_ids(routing())[-1] in added
    assert "&quot;privacy&quot;" in changed and "&quot;data_protection&quot;" in changed
    assert editor.get(f"{BASE}/routing/compare/?a=x&b=2").status_code == 200
    assert editor.get(f"{BASE}/routing/compare/?a=7&b=2").status_code == 404


def test_try_it_shows_outputs_and_matched_rules(editor: Any) -> None:
    inputs = json.dumps({"category": "data_protection", "segment": "premium"})
    response = editor.post(f"{BASE}/routing/1/try/", {"inputs": inputs}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and "data_protection" in page and "Rule 1" in page
    response = editor.post(f"{BASE}/routing/2/try/", {"inputs": "{oops"}, HTTP_HX_REQUEST="true")
    assert "not valid JSON" in response.content.decode()
    response = editor.post(f"{BASE}/routing/2/try/", {"inputs": "[1]"})
    assert response.status_code == 422 and "must be a JSON object" in response.content.decode()
    # a draft with problems cannot be tried
    editor.post(f"{BASE}/routing/2/", form_data(routing(), **{"rule-0-out-0": "round("}))
    response = editor.post(f"{BASE}/routing/2/try/", {"inputs": inputs}, HTTP_HX_REQUEST="true")
    assert "Fix the problems" in response.content.decode()


# --- who may -----------------------------------------------------------------------------------


def test_only_process_owners_see_and_change_tables(agent: Any, client_for: Any, client: Any) -> None:
    before = routing(1).jdm
    other = client_for(agent)
    for path in (f"{BASE}/", f"{BASE}/routing/", f"{BASE}/routing/1/", f"{BASE}/routing/1/export.json", f"{BASE}/import/"):
        assert other.get(path).status_code == 403
        assert client.get(path).status_code == 302  # anonymous: to the login
    for path in ("routing/1/", "routing/1/publish/", "routing/1/retire/", "routing/1/new-version/", "routing/1/delete/", "new/"):
        assert other.post(f"{BASE}/{path}", {"key": "x"}).status_code == 403
    assert routing(1).jdm == before and routing(1).status == "published"
    assert DecisionTable.objects.filter(key="routing").count() == 1


def test_the_live_check_names_problems_while_typing_and_saves_nothing(editor: Any) -> None:
    before = routing().revision
    response = editor.post(f"{BASE}/routing/2/check/", form_data(routing(), **{"rule-1-in-0": '"billing" ,, >'}))
    page = response.content.decode()
    assert response.status_code == 200 and "1 problem" in page and 'href="#id_rule-1-in-0"' in page
    n = len(routing().tests)
    data = form_data(
        routing(), **{f"test-{n}-name": "x", f"test-{n}-inputs": '{"category": "billing"}', f"test-{n}-expected": "{"}
    )
    assert "not valid JSON" in editor.post(f"{BASE}/routing/2/check/", data).content.decode()
    page = editor.post(f"{BASE}/routing/2/check/", form_data(routing())).content.decode()
    assert f"all {n} tests pass" in page
    assert editor.post(f"{BASE}/routing/2/check/", {}).status_code == 200  # an empty grid: its problems
    assert routing().revision == before


def test_an_import_without_names_takes_them_from_the_file_or_the_latest_version(editor: Any) -> None:
    jdm = json.dumps(shipped.jdm("routing")).encode()
    response = editor.post(f"{BASE}/import/", {"key": "fresh", "file": _upload("t.json", jdm)})
    assert response["Location"] == f"{BASE}/fresh/1/"
    assert DecisionTable.objects.get(key="fresh").name_en
    # an existing key: the next version, named as the latest
    editor.post(f"{BASE}/routing/2/delete/", {"revision": routing().revision})
    response = editor.post(f"{BASE}/import/", {"key": "routing", "file": _upload("t.json", jdm)})
    assert response["Location"] == f"{BASE}/routing/2/"
    assert routing().name_en == routing(1).name_en and routing().decision_kind == routing(1).decision_kind
