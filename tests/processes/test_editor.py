"""The process editor (Settings → Processes): who may use it, live validation with every
problem and its place, saving with the revision check, publishing, diagram, compare,
import/export, trying a state on a sample case."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leitplanke.processes.models import ProcessDefinition
from leitplanke.processes.shipped import COMPLAINT

PAGES = [
    ("get", "/settings/processes/"),
    ("get", "/settings/processes/complaint/1/"),
    ("get", "/settings/processes/complaint/compare/"),
    ("get", "/settings/processes/complaint/1/export.json"),
    ("get", "/settings/processes/import/"),
    ("post", "/settings/processes/complaint/validate/"),
    ("post", "/settings/processes/complaint/1/try/"),
    ("post", "/settings/processes/complaint/1/new-draft/"),
    ("post", "/settings/processes/complaint/1/publish/"),
]


@pytest.mark.parametrize(("method", "url"), PAGES)
@pytest.mark.parametrize(
    ("role", "allowed"),
    [("agent", False), ("team_lead", False), ("auditor", False), ("process_owner", True), ("administrator", True)],
)
def test_only_process_owners_use_the_editor(
    make_user: Any, client_for: Any, role: str, allowed: bool, method: str, url: str
) -> None:
    client = client_for(make_user(role))
    data = {"definition": "{}", "state": "new"} if method == "post" else None
    response = getattr(client, method)(url, data) if data is not None else client.get(url)
    if allowed:
        assert response.status_code in (200, 302)
    else:
        assert response.status_code == 403


def test_anonymous_is_sent_to_login(client: Any) -> None:
    assert client.get("/settings/processes/").status_code == 302


@pytest.fixture
def editor(owner: Any, client_for: Any) -> Any:
    return client_for(owner)


def test_list_and_published_version_page_with_diagram(editor: Any) -> None:
    page = editor.get("/settings/processes/").content.decode()
    assert "Complaint handling (ISO 10002)" in page and 'data-status="published"' in page
    page = editor.get("/settings/processes/complaint/1/").content.decode()
    assert "<svg" in page and 'data-state="acknowledged"' in page and 'data-transition="close"' in page
    assert 'name="definition"' not in page  # published versions are read-only


def test_live_validation_names_every_problem_with_its_place(editor: Any) -> None:
    broken = copy.deepcopy(COMPLAINT)
    broken["states"][2]["label_en"] = ""
    broken["transitions"][6]["guard"] = "case.priority >"
    response = editor.post("/settings/processes/complaint/validate/", {"definition": json.dumps(broken)})
    body = response.content.decode()
    assert "2 problems" in body
    assert "<code>states.assessment.label_en</code>" in body and "<code>transitions.close.guard</code>" in body
    assert 'id="process-diagram" hx-swap-oob="true"' in body
    body = editor.post("/settings/processes/complaint/validate/", {"definition": "{ nope"}).content.decode()
    assert "This is not valid JSON" in body
    body = editor.post("/settings/processes/complaint/validate/", {"definition": json.dumps(COMPLAINT)}).content.decode()
    assert "No problems" in body


def test_draft_save_publish_and_conflict(editor: Any) -> None:
    response = editor.post("/settings/processes/complaint/1/new-draft/")
    assert response.status_code == 302 and response["Location"] == "/settings/processes/complaint/2/"
    page = editor.get("/settings/processes/complaint/2/").content.decode()
    assert 'name="definition"' in page and "No problems" in page
    changed = copy.deepcopy(COMPLAINT)
    next(t for t in changed["transitions"] if t["key"] == "close")["requires"].append("redress_amount")
    form = {"name_de": "Beschwerden", "name_en": "Complaints", "definition": json.dumps(changed), "revision": 1}
    assert editor.post("/settings/processes/complaint/2/", form).status_code == 302
    stale = editor.post("/settings/processes/complaint/2/", form)
    assert stale.status_code == 412 and "Someone else saved this draft" in stale.content.decode()
    bad = {**form, "definition": "[1, 2]", "revision": 2}
    assert editor.post("/settings/processes/complaint/2/", bad).status_code == 422
    assert editor.post("/settings/processes/complaint/2/publish/").status_code == 302
    assert ProcessDefinition.objects.get(key="complaint", version=2).status == "published"
    assert "redress_amount" in ProcessDefinition.objects.get(key="complaint", version=2).definition["transitions"][6]["requires"]


def test_publishing_an_invalid_draft_is_refused_with_the_problems(editor: Any) -> None:
    editor.post("/settings/processes/complaint/1/new-draft/")
    broken = copy.deepcopy(COMPLAINT)
    broken["initial"] = "nowhere"
    form = {"name_de": "B", "name_en": "C", "definition": json.dumps(broken), "revision": 1}
    editor.post("/settings/processes/complaint/2/", form)
    page = editor.post("/settings/processes/complaint/2/publish/", follow=True).content.decode()
    assert "Not published" in page and "there is no state nowhere" in page
    assert ProcessDefinition.objects.get(key="complaint", version=2).status == "draft"


def test_compare_export_import(editor: Any) -> None:
    editor.post("/settings/processes/complaint/1/new-draft/")
    changed = copy.deepcopy(COMPLAINT)
    changed["states"].append({"key": "legal", "kind": "open", "label_de": "Recht", "label_en": "Legal"})
    changed["transitions"].append({"key": "to_legal", "from": ["in_progress"], "to": "legal", "label_de": "R", "label_en": "L"})
    changed["transitions"].append({"key": "from_legal", "from": ["legal"], "to": "in_progress", "label_de": "Z", "label_en": "B"})
    editor.post(
        "/settings/processes/complaint/2/", {"name_de": "B", "name_en": "C", "definition": json.dumps(changed), "revision": 1}
    )
    page = editor.get("/settings/processes/complaint/compare/?a=1&b=2").content.decode()
    assert "from_legal, to_legal" in page and 'class="diff-add"' in page

    exported = editor.get("/settings/processes/complaint/2/export.json")
    assert exported["Content-Disposition"] == 'attachment; filename="process-complaint-v2.json"'
    upload = SimpleUploadedFile("p.json", exported.content, content_type="application/json")
    response = editor.post(
        "/settings/processes/import/", {"key": "complaint_b2b", "name_de": "B2B", "name_en": "B2B", "file": upload}
    )
    assert response.status_code == 302
    imported = ProcessDefinition.objects.get(key="complaint_b2b")
    assert (imported.version, imported.status, imported.definition["states"][-1]["key"]) == (1, "draft", "legal")
    response = editor.post("/settings/processes/import/", {"key": "x", "name_de": "x", "name_en": "x", "text": "not json"})
    assert response.status_code == 422 and "This is not valid JSON" in response.content.decode()


def test_try_a_state_on_a_sample_case(editor: Any) -> None:
    data = {"state": "resolved", "roles": "agent", "context": json.dumps({"case.outcome": "upheld"})}
    body = editor.post("/settings/processes/complaint/1/try/", data).content.decode()
    assert "requires: Root cause" in body and 'data-available="true"' in body  # reopen is available
    body = editor.post("/settings/processes/complaint/1/try/", {**data, "context": "[1]"}).content.decode()
    assert "Write a JSON object." in body


def test_a_step_in_a_form_roles_guard_required_fields(editor: Any) -> None:
    editor.post("/settings/processes/complaint/1/new-draft/")
    page = editor.get("/settings/processes/complaint/2/").content.decode()
    assert 'href="/settings/processes/complaint/2/steps/close/"' in page
    form = editor.get("/settings/processes/complaint/2/steps/close/").content.decode()
    assert 'value="redress_amount"' in form and 'value="team_lead"' in form
    data = {
        "key": "close",
        "label_de": "Abschließen",
        "label_en": "Close",
        "roles": ["agent", "team_lead"],
        "guard": "case.priority >",
        "requires": ["outcome", "root_cause", "resolution_summary", "redress_amount"],
        "revision": 1,
    }
    response = editor.post("/settings/processes/complaint/2/steps/close/", data)
    assert response.status_code == 422 and "The condition does not parse" in response.content.decode()
    data["guard"] = "case.priority >= 1"
    assert editor.post("/settings/processes/complaint/2/steps/close/", data).status_code == 302
    close = next(
        t for t in ProcessDefinition.objects.get(key="complaint", version=2).definition["transitions"] if t["key"] == "close"
    )
    assert close["requires"] == ["outcome", "root_cause", "resolution_summary", "redress_amount"]
    assert (close["roles"], close["guard"]) == (["agent", "team_lead"], "case.priority >= 1")
    assert editor.get("/settings/processes/complaint/1/steps/close/").status_code == 404  # published: no form
    assert editor.get("/settings/processes/complaint/2/steps/fly/").status_code == 404
