"""Decision tables over the API: who may read, write and evaluate; create and import with
every problem named; If-Match; publishing refused with the reason; evaluation and its 422s."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from leitplanke.decisions import engine, shipped
from leitplanke.decisions.models import DecisionTable

pytestmark = pytest.mark.django_db


def send(client: Any, method: str, url: str, data: Any, **headers: str) -> Any:
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return getattr(client, method)(url, json.dumps(data), content_type="application/json", **extra)


def table_node(jdm: dict[str, Any]) -> dict[str, Any]:
    return next(n for n in jdm["nodes"] if n["type"] == "decisionTableNode")


@pytest.fixture
def owner_api(owner: Any, api_client_for: Any) -> Any:
    return api_client_for(owner)


@pytest.fixture
def agent_api(agent: Any, api_client_for: Any) -> Any:
    return api_client_for(agent)


def new_body(key: str = "routing_api", **changes: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name_de": "Zuweisung",
        "name_en": "Routing",
        "decision_kind": "none",
        "jdm": shipped.jdm("routing"),
        "tests": shipped.tests("routing"),
        **changes,
    }


@pytest.mark.parametrize(
    ("role", "read", "evaluate", "write"),
    [
        ("agent", 200, 200, 403),
        ("team_lead", 200, 200, 403),
        ("quality_manager", 200, 200, 403),
        ("auditor", 403, 403, 403),
        ("process_owner", 200, 200, 201),
        ("administrator", 200, 200, 201),
    ],
)
def test_who_may_read_evaluate_and_write(
    make_user: Any, api_client_for: Any, role: str, read: int, evaluate: int, write: int
) -> None:
    client = api_client_for(make_user(role))
    assert client.get("/api/v1/decision-tables").status_code == read
    assert client.get("/api/v1/decision-tables/routing").status_code == read
    assert client.get("/api/v1/decision-tables/routing/jdm").status_code == read
    inputs = {"inputs": {"category": "billing", "segment": "private"}}
    assert send(client, "post", "/api/v1/decision-tables/routing/evaluate", inputs).status_code == evaluate
    assert send(client, "post", "/api/v1/decision-tables", new_body()).status_code == write


def test_read_scope_token_cannot_write(owner: Any, api_client_for: Any) -> None:
    client = api_client_for(owner, scopes=("read",))
    assert send(client, "post", "/api/v1/decision-tables", new_body()).status_code == 403
    assert send(client, "post", "/api/v1/decision-tables/routing/evaluate", {"inputs": {}}).status_code == 200


def test_list_read_and_export(owner_api: Any, agent_api: Any) -> None:
    listed = {t["key"]: t for t in agent_api.get("/api/v1/decision-tables").json()}
    assert set(listed) == set(shipped.KEYS)
    assert listed["goodwill_energy_billing"]["published_version"] == 1
    assert listed["goodwill_energy_billing"]["decision_kind"] == "goodwill"
    response = agent_api.get("/api/v1/decision-tables/goodwill_energy_billing")
    body = response.json()
    assert response["ETag"] == 'W/"1"' and body["status"] == "published"
    assert body["check"]["publishable"] and body["check"]["tests"] == len(shipped.tests("goodwill_energy_billing"))
    assert agent_api.get("/api/v1/decision-tables/goodwill_energy_billing?version=1").json()["version"] == 1
    assert agent_api.get("/api/v1/decision-tables/goodwill_energy_billing?version=9").status_code == 404
    assert agent_api.get("/api/v1/decision-tables/nope").status_code == 404
    exported = agent_api.get("/api/v1/decision-tables/routing/jdm")
    assert exported.status_code == 200 and "attachment" in exported["Content-Disposition"]
    assert engine.load(exported.json()) == engine.load(shipped.jdm("routing"))


def test_create_with_bad_jdm_names_every_problem(owner_api: Any) -> None:
    jdm = shipped.jdm("routing")
    content = table_node(jdm)["content"]
    content["hitPolicy"] = "any"
    first = content["rules"][0]
    column = content["inputs"][0]
    first[column["id"]] = '"billing" >>> 3'
    response = send(owner_api, "post", "/api/v1/decision-tables", new_body(jdm=jdm))
    assert response.status_code == 422 and response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "table_invalid"
    pointers = [error["pointer"] for error in problem["errors"]]
    assert "/jdm/hitPolicy" in pointers
    assert f"/jdm/rules[0] ({first['_id']}).{column['field']}" in pointers
    assert not DecisionTable.objects.filter(key="routing_api").exists()
    not_a_table = send(owner_api, "post", "/api/v1/decision-tables", new_body(jdm={"nodes": []}))
    assert not_a_table.status_code == 422 and not_a_table.json()["errors"][0]["pointer"] == "/jdm/nodes"


def test_create_change_and_publish(owner_api: Any, agent_api: Any) -> None:
    created = send(owner_api, "post", "/api/v1/decision-tables", new_body())
    assert created.status_code == 201, created.content
    assert created["Location"] == "/api/v1/decision-tables/routing_api?version=1"
    assert created.json()["status"] == "draft" and created["ETag"] == 'W/"1"'
    assert agent_api.get("/api/v1/decision-tables/routing_api?version=1").status_code == 404  # drafts: owners only
    url = "/api/v1/decision-tables/routing_api/versions/1"
    change = {k: v for k, v in new_body().items() if k != "key"}
    change["name_en"] = "Routing (changed)"
    assert send(owner_api, "put", url, change).status_code == 428
    assert send(owner_api, "put", url, change, if_match='W/"7"').status_code == 412
    changed = send(owner_api, "put", url, change, if_match='W/"1"')
    assert changed.status_code == 200 and changed["ETag"] == 'W/"2"' and changed.json()["name_en"] == "Routing (changed)"
    assert send(owner_api, "post", f"{url}/publish", {}, if_match='W/"1"').status_code == 412
    published = send(owner_api, "post", f"{url}/publish", {}, if_match='W/"2"')
    assert published.status_code == 200 and published.json()["status"] == "published"
    again = send(owner_api, "post", f"{url}/publish", {})
    assert again.status_code == 409 and again.json()["code"] == "table_not_draft"
    assert send(owner_api, "put", url, change, if_match='W/"2"').json()["code"] == "table_not_draft"
    # The same key again: an import of its next version.
    imported = send(owner_api, "post", "/api/v1/decision-tables", {"key": "routing_api", "jdm": shipped.jdm("routing")})
    assert imported.status_code == 201 and imported.json()["version"] == 2
    assert imported.json()["name_en"] == "Routing (changed)"
    duplicate = send(owner_api, "post", "/api/v1/decision-tables", {"key": "routing_api", "jdm": shipped.jdm("routing")})
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "table_draft_exists"


def test_publish_with_failing_tests_is_refused_with_the_reason(owner_api: Any) -> None:
    tests = shipped.tests("routing")
    tests[1]["expected"] = {"team": "nowhere"}
    created = send(owner_api, "post", "/api/v1/decision-tables", new_body(tests=tests))
    assert created.status_code == 201
    check = created.json()["check"]
    assert [f["name"] for f in check["failures"]] == [tests[1]["name"]] and not check["publishable"]
    assert "nowhere" in check["failures"][0]["message"]
    refused = send(owner_api, "post", "/api/v1/decision-tables/routing_api/versions/1/publish", {})
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["code"] == "table_tests_failing"
    assert [e["pointer"] for e in problem["errors"]] == [f"/tests/{tests[1]['name']}"]
    assert DecisionTable.objects.get(key="routing_api").status == "draft"
    untested = send(owner_api, "post", "/api/v1/decision-tables", new_body(key="untested", tests=[]))
    refused = send(owner_api, "post", f"/api/v1/decision-tables/untested/versions/{untested.json()['version']}/publish", {})
    assert refused.status_code == 422 and refused.json()["code"] == "table_untested"


def test_evaluate(agent_api: Any) -> None:
    url = "/api/v1/decision-tables/goodwill_energy_billing/evaluate"
    inputs = {"disputed_amount": 240, "segment": "private", "years_as_customer": 12, "complaints_12m": 1}
    response = send(agent_api, "post", url, {"inputs": inputs})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] == 1 and body["outputs"]["recommended_amount"] is not None
    assert body["matched_rules"][0]["id"] and body["trace"] is None
    traced = send(agent_api, "post", url + "?trace=true", {"inputs": inputs}).json()
    assert traced["trace"][0]["id"] == body["matched_rules"][0]["id"] and traced["trace"][0]["outputs"]
    collect = send(agent_api, "post", "/api/v1/decision-tables/priority_scoring/evaluate", {"inputs": {"vulnerable": True}})
    assert isinstance(collect.json()["outputs"], list)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"inputs": {"disputed_amount": 2**70}}, "evaluation_input_invalid"),
        ({"inputs": [1, 2]}, "validation_error"),
        ({"inputs": "x"}, "validation_error"),
        ({}, "validation_error"),
        ({"inputs": {}, "extra": 1}, "validation_error"),
    ],
)
def test_evaluate_bad_inputs_are_422(agent_api: Any, body: Any, code: str) -> None:
    response = send(agent_api, "post", "/api/v1/decision-tables/goodwill_energy_billing/evaluate", body)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == code


def test_evaluate_without_published_version(owner: Any, owner_api: Any) -> None:
    from leitplanke.decisions import table_services

    table_services.table_retire(actor=owner, table=DecisionTable.objects.get(key="routing", status="published"))
    response = send(owner_api, "post", "/api/v1/decision-tables/routing/evaluate", {"inputs": {}})
    assert response.status_code == 404 and response.json()["code"] == "no_published_version"


def test_nan_in_a_body_is_refused(owner_api: Any) -> None:
    raw = json.dumps(new_body()).replace('"decision_kind": "none"', '"decision_kind": "none", "description": "x"')
    raw = raw.replace('"tests": [', '"tests": [{"name": "n", "inputs": {"x": NaN}, "expected": {}}, ', 1)
    response = owner_api.post("/api/v1/decision-tables", raw, content_type="application/json")
    assert response.status_code == 422, response.content


def test_german_problem_texts(owner: Any, api_client_for: Any) -> None:
    client = api_client_for(owner)
    jdm = copy.deepcopy(shipped.jdm("routing"))
    table_node(jdm)["content"]["hitPolicy"] = "any"
    response = send(client, "post", "/api/v1/decision-tables", new_body(jdm=jdm), accept_language="de")
    assert response.status_code == 422
    assert response.json()["errors"][0]["detail"] != "the hit policy must be first or collect"


def _publish_v1_and_draft_v2(owner_api: Any) -> dict[str, Any]:
    """routing_api v1 published; v2 a draft with one rule changed, one removed, one added, a
    test renamed."""
    assert send(owner_api, "post", "/api/v1/decision-tables", new_body()).status_code == 201
    assert send(owner_api, "post", "/api/v1/decision-tables/routing_api/versions/1/publish", {}).status_code == 200
    jdm = shipped.jdm("routing")
    rules = table_node(jdm)["content"]["rules"]
    changed, removed = rules[0], rules[1]
    rules.remove(removed)
    changed["_description"] = "changed description"
    rules.append({**copy.deepcopy(changed), "_id": "r-new", "_description": "new"})
    tests = shipped.tests("routing")
    tests[0]["name"] = "renamed test"
    draft = send(owner_api, "post", "/api/v1/decision-tables", {"key": "routing_api", "jdm": jdm, "tests": tests})
    assert draft.status_code == 201 and draft.json()["version"] == 2
    return {"changed": changed["_id"], "removed": removed["_id"], "etag": draft["ETag"]}


def test_compare_versions(owner_api: Any, agent_api: Any, make_user: Any, api_client_for: Any) -> None:
    ids = _publish_v1_and_draft_v2(owner_api)
    diff = owner_api.get("/api/v1/decision-tables/routing_api/compare?from=1&to=2")
    assert diff.status_code == 200, diff.content
    data = diff.json()
    assert (data["from_version"], data["to_version"], data["changed"]) == (1, 2, True)
    assert data["rules_added"] == ["r-new"] and data["rules_removed"] == [ids["removed"]]
    changed = next(rule for rule in data["rules_changed"] if rule["rule_id"] == ids["changed"])
    assert changed["description"]["after"] == "changed description"
    assert data["tests_added"] == ["renamed test"] and len(data["tests_removed"]) == 1
    # Defaults: the latest version against the one before it.
    assert owner_api.get("/api/v1/decision-tables/routing_api/compare").json()["from_version"] == 1
    same = owner_api.get("/api/v1/decision-tables/routing_api/compare?from=1&to=1").json()
    assert same["changed"] is False and same["rules_changed"] == []
    # Case workers compare what they may read: not the draft.
    assert agent_api.get("/api/v1/decision-tables/routing_api/compare?from=1&to=2").status_code == 404
    assert agent_api.get("/api/v1/decision-tables/routing_api/compare").json()["to_version"] == 1
    assert owner_api.get("/api/v1/decision-tables/routing_api/compare?from=9&to=2").status_code == 404
    assert owner_api.get("/api/v1/decision-tables/routing_api/compare?from=0").status_code == 422
    assert owner_api.get("/api/v1/decision-tables/nothing/compare").status_code == 404
    assert api_client_for(make_user("auditor")).get("/api/v1/decision-tables/routing_api/compare").status_code == 403


def test_retire_and_delete_a_draft(owner_api: Any, agent_api: Any) -> None:
    ids = _publish_v1_and_draft_v2(owner_api)
    base = "/api/v1/decision-tables/routing_api/versions"
    assert send(agent_api, "post", f"{base}/1/retire", {}).status_code == 403
    assert send(agent_api, "delete", f"{base}/2", {}, if_match=ids["etag"]).status_code == 403
    not_published = send(owner_api, "post", f"{base}/2/retire", {})
    assert not_published.status_code == 409 and not_published.json()["code"] == "table_not_published"
    retired = send(owner_api, "post", f"{base}/1/retire", {})
    assert retired.status_code == 200 and retired.json()["status"] == "retired" and retired.json()["retired_at"]
    again = send(owner_api, "post", f"{base}/1/retire", {})
    assert again.status_code == 409 and again.json()["code"] == "table_not_published"
    evaluated = send(agent_api, "post", "/api/v1/decision-tables/routing_api/evaluate", {"inputs": {}})
    assert evaluated.status_code == 404 and evaluated.json()["code"] == "no_published_version"
    # Deleting: drafts only, with If-Match like the PUT.
    assert send(owner_api, "delete", f"{base}/2", {}).status_code == 428
    assert send(owner_api, "delete", f"{base}/2", {}, if_match='W/"99"').status_code == 412
    kept = send(owner_api, "delete", f"{base}/1", {}, if_match='W/"1"')
    assert kept.status_code == 409 and kept.json()["code"] == "table_not_draft"
    deleted = send(owner_api, "delete", f"{base}/2", {}, if_match=ids["etag"])
    assert deleted.status_code == 204 and deleted.content == b""
    assert list(DecisionTable.objects.filter(key="routing_api").values_list("version", flat=True)) == [1]
    assert send(owner_api, "delete", f"{base}/2", {}, if_match=ids["etag"]).status_code == 404
    from leitplanke.core.models import AuditEvent

    assert AuditEvent.objects.filter(action="decision_table.delete").count() == 1
    assert AuditEvent.objects.filter(action="decision_table.retire").count() == 1
