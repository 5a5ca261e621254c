"""Idempotency-Key on POST endpoints: retries replay the first response and act once."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from leitplanke.accounts.models import Team, User
from leitplanke.accounts.services import team_create
from leitplanke.api import idempotency
from leitplanke.api.routers import cases as cases_router
from leitplanke.cases import services
from leitplanke.cases.models import Case, CaseType, Interaction
from leitplanke.core.models import AuditEvent, IdempotencyRecord
from leitplanke.core.tasks import prune_idempotency_records
from tests.concurrency import in_parallel, shared_database

pytestmark = pytest.mark.django_db

NEW_CASE = {"case_type": "complaint", "subject": "Rechnung doppelt abgebucht", "channel": "email"}


@pytest.fixture(autouse=True)
def case_types(db: Any) -> None:
    for key in ("complaint", "inquiry"):
        CaseType.objects.get_or_create(key=key, defaults={"name_de": key, "name_en": key})


@pytest.fixture
def team(db: Any) -> Team:
    return team_create(actor=None, name="Team A")


@pytest.fixture
def agent(make_user: Callable[..., User], team: Team) -> User:
    return make_user("agent", teams=[team])


@pytest.fixture
def api(agent: User, api_client_for: Callable[..., Client]) -> Client:
    return api_client_for(agent)


def post(client: Client, url: str, data: Any, key: str | None = "key-1", raw: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(url, raw if raw is not None else json.dumps(data), content_type="application/json", headers=headers)


def test_a_repeated_create_replays_the_first_response(api: Client) -> None:
    first = post(api, "/api/v1/cases", NEW_CASE)
    assert first.status_code == 201, first.content
    # the same body with other whitespace and key order is the same request
    again = post(api, "/api/v1/cases", None, raw=json.dumps(dict(reversed(list(NEW_CASE.items()))), indent=2))
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Location"] == first["Location"] and again["ETag"] == first["ETag"]
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert Case.objects.count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.key, record.status, record.path) == ("key-1", 201, "/api/v1/cases")


def test_the_same_key_with_another_body_is_refused(api: Client) -> None:
    assert post(api, "/api/v1/cases", NEW_CASE).status_code == 201
    response = post(api, "/api/v1/cases", {**NEW_CASE, "subject": "Etwas anderes"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "idempotency_key_reused"
    assert Case.objects.count() == 1


def test_a_key_belongs_to_one_endpoint(api: Client, agent: User, team: Team) -> None:
    """Keys are claimed per user, method and path: the same key on another endpoint is
    another request (and acts), on the same endpoint with another body a 422."""
    case = services.case_create(actor=agent, case_type="complaint", subject="x", channel="email", team=team)
    assert post(api, f"/api/v1/cases/{case.pk}/interactions", {"kind": "internal_note", "body_text": "x"}).status_code == 201
    response = post(api, f"/api/v1/cases/{case.pk}/transitions", {"transition": "start"})
    assert response.status_code == 200 and not response.has_header("Idempotent-Replayed")
    case.refresh_from_db()
    assert case.status == "in_progress"
    assert IdempotencyRecord.objects.filter(key="key-1").count() == 2


def test_without_a_key_every_request_acts(api: Client) -> None:
    assert post(api, "/api/v1/cases", NEW_CASE, key=None).status_code == 201
    assert post(api, "/api/v1/cases", NEW_CASE, key=None).status_code == 201
    assert Case.objects.count() == 2
    assert not IdempotencyRecord.objects.exists()


def test_keys_belong_to_one_user(
    api: Client, make_user: Callable[..., User], team: Team, api_client_for: Callable[..., Client]
) -> None:
    other = api_client_for(make_user("agent", teams=[team]))
    one = post(api, "/api/v1/cases", NEW_CASE)
    two = post(other, "/api/v1/cases", NEW_CASE)
    assert one.status_code == two.status_code == 201
    assert one.json()["id"] != two.json()["id"]
    assert Case.objects.count() == 2


def test_errors_are_not_stored_so_a_corrected_retry_works(api: Client) -> None:
    assert post(api, "/api/v1/cases", {**NEW_CASE, "case_type": "unknown"}).status_code == 422
    assert not IdempotencyRecord.objects.exists()
    assert post(api, "/api/v1/cases", NEW_CASE).status_code == 201


@pytest.mark.parametrize("key", ["", "k" * 256, "tab\there"])
def test_unusable_keys_are_refused(api: Client, key: str) -> None:
    response = post(api, "/api/v1/cases", NEW_CASE, key=key)
    assert response.status_code == 422 and response.json()["code"] == "validation_error"
    assert Case.objects.count() == 0


def test_a_key_of_255_characters_works(api: Client) -> None:
    assert post(api, "/api/v1/cases", NEW_CASE, key="k" * 255).status_code == 201
    assert post(api, "/api/v1/cases", NEW_CASE, key="k" * 255)["Idempotent-Replayed"] == "true"


def claim_in_progress(agent: User, *, path: str = "/api/v1/cases", age: dt.timedelta = dt.timedelta(0)) -> Any:
    """The record a request leaves while it is still acting on the key (or died doing so)."""
    request = RequestFactory().post(path, json.dumps(NEW_CASE), content_type="application/json")
    record = IdempotencyRecord.objects.create(
        key="key-1", user=agent, method="POST", path=path, request_hash=idempotency.request_fingerprint(request)
    )
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - age)
    return record


def test_a_repeat_while_the_first_still_runs_is_a_409(api: Client, agent: User, monkeypatch: pytest.MonkeyPatch) -> None:
    claim_in_progress(agent)
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.0)
    response = post(api, "/api/v1/cases", NEW_CASE)
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json" and response["Retry-After"] == "1"
    assert response.json()["code"] == "idempotency_request_in_progress"
    assert Case.objects.count() == 0


def test_a_claim_whose_request_died_is_taken_over(api: Client, agent: User) -> None:
    claim_in_progress(agent, age=idempotency.ABANDONED_AFTER + dt.timedelta(seconds=1))
    response = post(api, "/api/v1/cases", NEW_CASE)
    assert response.status_code == 201 and not response.has_header("Idempotent-Replayed")
    assert Case.objects.count() == 1
    assert post(api, "/api/v1/cases", NEW_CASE)["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("key", ["with-key", None])
def test_a_response_that_cannot_be_built_rolls_the_change_back(
    api: Client, agent: User, monkeypatch: pytest.MonkeyPatch, key: str | None
) -> None:
    """Otherwise the client sees a 500 for a case that exists, retries, and has two."""
    api.raise_request_exception = False
    real_response = cases_router._case_body_response

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("serialisation failed")

    monkeypatch.setattr(cases_router, "_case_body_response", broken)
    assert post(api, "/api/v1/cases", NEW_CASE, key=key).status_code == 500
    assert Case.objects.count() == 0 and not AuditEvent.objects.filter(action="case.create").exists()
    assert not IdempotencyRecord.objects.exists()  # the claim was released: the retry acts
    monkeypatch.setattr(cases_router, "_case_body_response", real_response)
    assert post(api, "/api/v1/cases", NEW_CASE, key=key).status_code == 201
    assert Case.objects.count() == 1


def test_a_transition_whose_response_fails_is_not_stored(
    api: Client, agent: User, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = services.case_create(actor=agent, case_type="complaint", subject="x", channel="email", team=team)
    api.raise_request_exception = False
    monkeypatch.setattr(cases_router, "_case_response", lambda *args, **kwargs: 1 / 0)
    assert post(api, f"/api/v1/cases/{case.pk}/transitions", {"transition": "start"}, key=None).status_code == 500
    case.refresh_from_db()
    assert (case.status, case.version) == ("new", 1)


def test_expired_records_count_as_absent_and_are_pruned(api: Client) -> None:
    first = post(api, "/api/v1/cases", NEW_CASE)
    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    second = post(api, "/api/v1/cases", NEW_CASE)
    assert second.status_code == 201 and second.json()["id"] != first.json()["id"]
    assert IdempotencyRecord.objects.count() == 1  # the expired one was replaced
    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    fresh = post(api, "/api/v1/cases", NEW_CASE, key="key-2")
    assert fresh.status_code == 201
    assert prune_idempotency_records.call() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["key-2"]


def test_transitions_and_notes_are_idempotent(api: Client, agent: User, team: Team) -> None:
    case = services.case_create(actor=agent, case_type="complaint", subject="x", channel="email", team=team)
    url = f"/api/v1/cases/{case.pk}/transitions"
    first = post(api, url, {"transition": "start"}, key="t-1")
    again = post(api, url, {"transition": "start"}, key="t-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again["ETag"] == first["ETag"] == 'W/"2"'
    case.refresh_from_db()
    assert case.version == 2 and case.status == "in_progress"
    url = f"/api/v1/cases/{case.pk}/interactions"
    note = {"kind": "internal_note", "body_text": "Einmal bitte"}
    assert post(api, url, note, key="n-1").json() == post(api, url, note, key="n-1").json()
    assert Interaction.objects.filter(case=case, kind="internal_note").count() == 1


def test_a_replay_still_needs_the_write_scope(agent: User, api: Client, api_client_for: Callable[..., Client]) -> None:
    assert post(api, "/api/v1/cases", NEW_CASE).status_code == 201
    reader = api_client_for(agent, ("read",))
    response = post(reader, "/api/v1/cases", NEW_CASE)
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


# --- concurrency ------------------------------------------------------------------------------

# Every operation whose OpenAPI description lists the Idempotency-Key header, with a
# request and the check that it acted exactly once (`{record_id}`: a decision of the agent
# on the case, made before the requests). An operation that starts to accept the
# header needs a row here (the test below fails without one).
IDEMPOTENT_OPERATIONS: dict[tuple[str, str], tuple[str, dict[str, Any], int, Callable[[Case], None]]] = {
    ("post", "/api/v1/cases"): (
        "/api/v1/cases",
        NEW_CASE,
        201,
        lambda case: None if Case.objects.filter(subject=NEW_CASE["subject"]).count() == 1 else pytest.fail("created twice"),
    ),
    ("post", "/api/v1/cases/{case_id}/transitions"): (
        "/api/v1/cases/{case_id}/transitions",
        {"transition": "start"},
        200,
        lambda case: None if case.interactions.filter(kind="status_change").count() == 1 else pytest.fail("moved twice"),
    ),
    ("post", "/api/v1/cases/{case_id}/escalations"): (
        "/api/v1/cases/{case_id}/escalations",
        {"reason": "Nur eine Stufe, bitte"},
        200,
        lambda case: (
            None
            if case.interactions.filter(kind="system", data__event="escalated").count() == 1
            else pytest.fail("escalated twice")
        ),
    ),
    ("post", "/api/v1/cases/{case_id}/decisions"): (
        "/api/v1/cases/{case_id}/decisions",
        {"kind": "none", "amount": "0.00", "currency": "EUR", "action": "explain"},
        201,
        lambda case: None if case.decisions.count() == 1 else pytest.fail("decided twice"),
    ),
    ("post", "/api/v1/cases/{case_id}/decisions/{record_id}/correction"): (
        "/api/v1/cases/{case_id}/decisions/{record_id}/correction",
        {"kind": "none", "amount": "0.00", "currency": "EUR", "action": "explain", "justification": "Nur einmal"},
        201,
        lambda case: None if case.decisions.filter(record_kind="correction").count() == 1 else pytest.fail("corrected twice"),
    ),
    ("post", "/api/v1/cases/{case_id}/interactions"): (
        "/api/v1/cases/{case_id}/interactions",
        {"kind": "internal_note", "body_text": "Nur einmal, bitte"},
        201,
        lambda case: None if case.interactions.filter(kind="internal_note").count() == 1 else pytest.fail("noted twice"),
    ),
}


def operations_accepting_the_header() -> set[tuple[str, str]]:
    from leitplanke.api.api import api as ninja_api

    schema = ninja_api.get_openapi_schema()
    return {
        (method, path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if any(p["in"] == "header" and p["name"] == idempotency.HEADER for p in operation.get("parameters", []))
    }


def test_every_operation_accepting_the_header_has_a_concurrency_test() -> None:
    assert operations_accepting_the_header() == set(IDEMPOTENT_OPERATIONS)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("operation", sorted(IDEMPOTENT_OPERATIONS), ids=lambda op: f"{op[0]} {op[1]}")
def test_concurrent_identical_requests_act_once(
    operation: tuple[str, str], make_user: Callable[..., User], api_client_for: Callable[..., Client], tmp_path: Any
) -> None:
    """Ten identical requests at the same moment: the key is claimed before anything is
    done, so exactly one acts; the others wait for it and replay its response (or, had it
    run longer than they wait, get a 409). Before, only the winner of the final insert
    counted: nine transitions answered 422 "not possible in the current status"."""
    path_template, body, status, acted_once = IDEMPOTENT_OPERATIONS[operation]
    for key in ("complaint", "inquiry"):
        CaseType.objects.get_or_create(key=key, defaults={"name_de": key, "name_en": key})
    team = team_create(actor=None, name="Team Parallel")
    agent = make_user("agent", teams=[team])
    case = services.case_create(actor=agent, case_type="complaint", subject="Parallel", channel="email", team=team)
    clients = [api_client_for(agent) for _ in range(10)]
    record_id = ""
    if "{record_id}" in path_template:
        from leitplanke.decisions import record_services

        record_id = record_services.decision_record(
            actor=agent, case=case, kind="none", amount="0", currency="EUR", action="explain"
        ).pk
    path = path_template.format(case_id=case.pk, record_id=record_id)
    with shared_database(tmp_path):
        responses = in_parallel(lambda index: post(clients[index], path, body, key="parallel-1"), len(clients))
        statuses = [response.status_code for response in responses]
        assert set(statuses) <= {status, 409}, [r.content for r in responses]
        answered = [response for response in responses if response.status_code == status]
        assert sum(not response.has_header("Idempotent-Replayed") for response in answered) == 1
        assert len({json.dumps(response.json(), sort_keys=True) for response in answered}) == 1
        for response in responses:
            if response.status_code == 409:
                assert response.json()["code"] == "idempotency_request_in_progress"
        acted_once(Case.objects.get(pk=case.pk))
        record = IdempotencyRecord.objects.get()
        assert record.status == status
