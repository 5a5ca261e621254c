"""Rule descriptions in German and English: `_description_de` beside `_description` in the
JDM, kept by the engine and the editor, shown in the reader's language, installed for the
shipped tables by a data migration that leaves an organisation's own wording alone."""

from __future__ import annotations

import copy
import importlib
import json
from typing import Any

import pytest

from leitplanke.decisions import engine, shipped
from leitplanke.decisions.models import DecisionTable
from leitplanke.decisions.table_diff import compare
from leitplanke.decisions.table_forms import grid_from_jdm, grid_from_post

pytestmark = pytest.mark.django_db


def _rules(jdm: dict[str, Any]) -> list[dict[str, Any]]:
    return next(n for n in jdm["nodes"] if n["type"] == "decisionTableNode")["content"]["rules"]


def test_every_shipped_rule_has_a_german_description() -> None:
    for key in shipped.KEYS:
        table = shipped.table(key)
        assert all(rule.description and rule.description_de for rule in table.rules), key
        assert engine.load(engine.to_jdm(table), engine.cases_to_json(table)) == table


def test_the_engine_keeps_and_reports_both() -> None:
    table = shipped.table("goodwill_energy_billing")
    loyal = next(rule for rule in table.rules if rule.id == "loyal")
    assert loyal.describe("de") == "Kundenbeziehung seit 10 Jahren oder länger"
    assert loyal.describe("en") == "Customer of 10 years or more"
    inputs = {"disputed_amount": 300, "segment": "private", "years_as_customer": 12, "complaints_12m": 1}
    match = engine.evaluate(table, inputs).matches[0]
    assert (match.description, match.description_de) == ("Customer of 10 years or more", loyal.description_de)
    jdm = shipped.jdm("routing")
    for rule in _rules(jdm):
        rule.pop("_description_de")
    plain = engine.load(jdm)
    assert all(rule.description_de == "" and rule.describe("de") == rule.description for rule in plain.rules)
    assert all("_description_de" not in rule for rule in _rules(engine.to_jdm(plain)))


def test_the_editor_grid_keeps_the_german_description() -> None:
    jdm = shipped.jdm("routing")
    grid = grid_from_jdm(jdm, shipped.tests("routing"))
    assert grid.rules[0].description_de == "Datenschutz immer an das Datenschutzteam"
    assert _rules(grid.to_jdm(jdm, "Routing"))[0]["_description_de"] == grid.rules[0].description_de
    posted, errors = grid_from_post(
        {"inputs": "0", "outputs": "0", "rules": "1", "rule-0-id": "r1", "rule-0-description": "en",
         "rule-0-description_de": "de \x00"}
    )  # fmt: skip
    assert list(errors) == ["rule-0-description_de"] and posted.rules[0].description_de == ""


def test_compare_names_a_changed_german_description() -> None:
    before = shipped.jdm("routing")
    after = copy.deepcopy(before)
    _rules(after)[1]["_description_de"] = "Geändert"
    diff = compare(before, [], after, [])
    assert [(c.rule_id, c.description_de, c.description) for c in diff.rules_changed] == [
        (_rules(before)[1]["_id"], (_rules(before)[1]["_description_de"], "Geändert"), None)
    ]


def test_the_migration_adds_german_descriptions_to_rules_still_as_shipped() -> None:
    from django.apps import apps

    from leitplanke.decisions.table_services import check

    migration = importlib.import_module("leitplanke.decisions.migrations.0004_shipped_rule_descriptions_de")
    jdm = shipped.jdm("routing")
    for rule in _rules(jdm):
        rule.pop("_description_de")
    _rules(jdm)[0]["_description"] = "Our own wording"
    _rules(jdm)[1]["_description_de"] = "Unsere eigene Fassung"
    DecisionTable.objects.filter(key="routing").delete()
    row = DecisionTable.objects.create(
        key="routing", version=1, status="published", name_de="Zuweisung", name_en="Routing", decision_kind="none",
        jdm=jdm, tests=shipped.tests("routing"), check_result=check(jdm, shipped.tests("routing")),
    )  # fmt: skip
    before = json.dumps(_rules(jdm))
    migration.forward(apps, None)
    row.refresh_from_db()
    rules = _rules(row.jdm)
    assert "_description_de" not in rules[0]  # the organisation's own English wording: left alone
    assert rules[1]["_description_de"] == "Unsere eigene Fassung"
    assert rules[2]["_description_de"] == _rules(shipped.jdm("routing"))[2]["_description_de"]
    assert row.revision == 2
    # Nothing that is evaluated changed.
    strip = [{k: v for k, v in rule.items() if not k.startswith("_description")} for rule in rules]
    assert strip == [{k: v for k, v in rule.items() if not k.startswith("_description")} for rule in json.loads(before)]
    migration.forward(apps, None)  # a second run changes nothing
    row.refresh_from_db()
    assert row.revision == 2


def test_panel_and_api_show_the_readers_language(
    tables: Any, complaint: Any, agent: Any, client_for: Any, api_client_for: Any
) -> None:
    url = f"/cases/{complaint.pk}/decisions/"
    query = {"table": "goodwill_energy_billing", "ctx_disputed_amount": "300", "evaluate": "1"}
    assert "Customer of 10 years or more" in client_for(agent).get(url, query).content.decode()
    agent.language = "de"
    agent.save()
    german = client_for(agent).get(url, query, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Kundenbeziehung seit 10 Jahren oder länger" in german and "Customer of 10 years" not in german
    body = {"inputs": {"disputed_amount": 300, "segment": "private", "years_as_customer": 12, "complaints_12m": 1}}
    answer = api_client_for(agent).post(
        "/api/v1/decision-tables/goodwill_energy_billing/evaluate", json.dumps(body), content_type="application/json"
    )
    assert answer.json()["matched_rules"][0]["description_de"] == "Kundenbeziehung seit 10 Jahren oder länger"
