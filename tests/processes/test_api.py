"""Process definitions over the API: who may read and write, drafts, If-Match, publishing
with every problem named, validation without storing."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from leitplanke.processes.models import ProcessDefinition
from leitplanke.processes.shipped import COMPLAINT


def send(client: Any, method: str, url: str, data: Any, **headers: str) -> Any:
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return getattr(client, method)(url, json.dumps(data), content_type="application/json", **extra)


@pytest.fixture
def owner_api(owner: Any, api_client_for: Any) -> Any:
    return api_client_for(owner)


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        ("agent", 200, 403),
        ("auditor", 200, 403),
        ("team_lead", 200, 403),
        ("process_owner", 200, 201),
        ("administrator", 200, 201),
    ],
)
def test_who_may_read_and_write(make_user: Any, api_client_for: Any, role: str, read: int, write: int) -> None:
    client = api_client_for(make_user(role))
    assert client.get("/api/v1/processes").status_code == read
    assert client.get("/api/v1/processes/complaint/versions/1").status_code == read
    body = {"key": "complaint", "name_de": "B", "name_en": "C", "definition": copy.deepcopy(COMPLAINT)}
    assert send(client, "post", "/api/v1/processes", body).status_code == write


def test_read_scope_token_cannot_write(owner: Any, api_client_for: Any) -> None:
    client = api_client_for(owner, scopes=("read",))
    body = {"key": "complaint", "name_de": "B", "name_en": "C", "definition": {}}
    assert send(client, "post", "/api/v1/processes", body).status_code == 403


def test_list_and_read(owner_api: Any) -> None:
    listed = {p["key"]: p for p in owner_api.get("/api/v1/processes").json()}
    assert listed["complaint"]["published_version"] == 1
    assert [v["status"] for v in listed["complaint"]["versions"]] == ["published"]
    response = owner_api.get("/api/v1/processes/complaint/versions/1")
    assert response["ETag"] == 'W/"1"' and response.json()["definition"]["initial"] == "new"
    assert owner_api.get("/api/v1/processes/complaint/versions/99").status_code == 404
    assert owner_api.get("/api/v1/processes/nope/versions/1").status_code == 404


def test_draft_change_and_publish(owner_api: Any) -> None:
    broken = copy.deepcopy(COMPLAINT)
    broken["transitions"][0]["guard"] = "case.priority >="
    created = send(
        owner_api, "post", "/api/v1/processes", {"key": "complaint", "name_de": "B", "name_en": "C", "definition": broken}
    )
    assert created.status_code == 201 and created["Location"] == "/api/v1/processes/complaint/versions/2"
    assert [p["place"] for p in created.json()["problems"]] == ["transitions.acknowledge.guard"]

    refused = owner_api.post("/api/v1/processes/complaint/versions/2/publish")
    assert refused.status_code == 422
    assert refused.json()["code"] == "definition_invalid"
    assert [e["pointer"] for e in refused.json()["errors"]] == ["/definition/transitions.acknowledge.guard"]

    url = "/api/v1/processes/complaint/versions/2"
    fixed = {"name_de": "B", "name_en": "C", "definition": copy.deepcopy(COMPLAINT)}
    assert send(owner_api, "put", url, fixed).status_code == 428
    assert send(owner_api, "put", url, fixed, **{"If-Match": 'W/"7"'}).status_code == 412
    changed = send(owner_api, "put", url, fixed, **{"If-Match": 'W/"1"'})
    assert changed.status_code == 200 and changed["ETag"] == 'W/"2"' and changed.json()["problems"] == []

    published = owner_api.post("/api/v1/processes/complaint/versions/2/publish")
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert ProcessDefinition.objects.get(key="complaint", version=1).status == "retired"
    assert send(owner_api, "put", url, fixed, **{"If-Match": 'W/"2"'}).status_code == 409


def test_validate_without_storing(make_user: Any, api_client_for: Any) -> None:
    client = api_client_for(make_user("agent"))
    bad = copy.deepcopy(COMPLAINT)
    bad["states"][0]["label_de"] = ""
    response = send(
        client, "post", "/api/v1/processes/validate", {"key": "complaint", "definition": bad}, **{"Accept-Language": "en"}
    )
    assert response.status_code == 200
    assert response.json() == [{"place": "states.new.label_de", "code": "empty_text", "message": "the German text is missing"}]
    assert ProcessDefinition.objects.count() == 3


def test_unstorable_text_in_a_definition_is_refused(owner_api: Any) -> None:
    bad = copy.deepcopy(COMPLAINT)
    bad["states"][0]["label_de"] = "Neu\u0000"
    response = send(
        owner_api, "post", "/api/v1/processes", {"key": "complaint", "name_de": "B", "name_en": "C", "definition": bad}
    )
    assert response.status_code == 422


def test_a_definition_with_a_fractional_number_is_refused_naming_the_place(owner_api: Any) -> None:
    """Found by the fuzzer: a float in the JSON reached the audit log's strict snapshot (500)."""
    definition = copy.deepcopy(COMPLAINT)
    definition["escalation_levels"] = [{"level": 1.5, "label_de": "A", "label_en": "A", "handled_by": "team_lead"}]
    response = send(
        owner_api, "post", "/api/v1/processes", {"key": "complaint", "name_de": "B", "name_en": "C", "definition": definition}
    )
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert "/definition/escalation_levels/0/level" in str(response.json())
