"""Idempotency-Key on POST endpoints: retries replay the first response and act once."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import close_old_connections, connection
from django.test import Client
from django.utils import timezone

from leitplanke.accounts.models import Team, User
from leitplanke.accounts.services import team_create
from leitplanke.api import idempotency
from leitplanke.cases import services
from leitplanke.cases.models import Case, CaseType, Interaction
from leitplanke.core.models import IdempotencyRecord
from leitplanke.core.tasks import prune_idempotency_records

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


def test_the_same_key_on_another_endpoint_is_refused(api: Client, agent: User, team: Team) -> None:
    case = services.case_create(actor=agent, case_type="complaint", subject="x", channel="email", team=team)
    assert post(api, f"/api/v1/cases/{case.pk}/interactions", {"kind": "internal_note", "body_text": "x"}).status_code == 201
    response = post(api, f"/api/v1/cases/{case.pk}/transitions", {"transition": "start"})
    assert response.status_code == 422 and response.json()["code"] == "idempotency_key_reused"
    case.refresh_from_db()
    assert case.status == "new"


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


def test_a_concurrent_twin_is_rolled_back_and_replays_the_winner(api: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two identical requests that both passed the look-up: the second one's insert hits the
    unique constraint, its case is rolled back with it, and it answers like the first."""
    first = post(api, "/api/v1/cases", NEW_CASE)
    real_lookup = idempotency._lookup
    calls = {"n": 0}

    def lookup_missing_once(user: Any, key: str) -> Any:
        calls["n"] += 1
        return None if calls["n"] == 1 else real_lookup(user, key)

    monkeypatch.setattr(idempotency, "_lookup", lookup_missing_once)
    twin = post(api, "/api/v1/cases", NEW_CASE)
    assert calls["n"] == 2
    assert twin.status_code == 201 and twin.json()["id"] == first.json()["id"]
    assert twin["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == 1


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


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_requests_create_one_case(
    make_user: Callable[..., User], api_client_for: Callable[..., Client]
) -> None:
    """Real parallel requests (PostgreSQL, or SQLite on a file): whoever loses the race on the
    unique (user, key) constraint rolls its case back and replays the winner's response."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():  # type: ignore[attr-defined]
        pytest.skip("in-memory shared-cache SQLite has table locks instead of the WAL file locks of production")
    for key in ("complaint", "inquiry"):
        CaseType.objects.get_or_create(key=key, defaults={"name_de": key, "name_en": key})
    team = team_create(actor=None, name="Team Parallel")
    client_count = 4
    agent = make_user("agent", teams=[team])
    clients = [api_client_for(agent) for _ in range(client_count)]
    start = threading.Barrier(client_count)
    responses: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(client: Client) -> None:
        try:
            start.wait()
            response = post(client, "/api/v1/cases", NEW_CASE, key="parallel-1")
            with lock:
                responses.append(response)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=work, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert [response.status_code for response in responses] == [201] * client_count
    assert len({response.json()["id"] for response in responses}) == 1
    assert Case.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    assert sum(response.has_header("Idempotent-Replayed") for response in responses) == client_count - 1
