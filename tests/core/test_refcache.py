"""Reference data cached per process (core.refcache): fresh on the next request after any
change, whether made here, in another process, or rolled back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leitplanke.accounts import services as accounts
from leitplanke.accounts.models import ApiToken, Role, User
from leitplanke.cases import selectors
from leitplanke.cases.models import CaseType, CustomFieldDefinition
from leitplanke.core import refcache
from leitplanke.core.context import RequestContext, reset_request_context, set_request_context
from leitplanke.core.models import ReferenceGeneration

pytestmark = pytest.mark.django_db


def loads(counter: list[int], value: Any) -> Callable[[], Any]:
    def load() -> Any:
        counter[0] += 1
        return value

    return load


def test_a_value_is_loaded_once_per_generation() -> None:
    counter = [0]
    assert refcache.cached("k", loads(counter, "a")) == "a"
    assert refcache.cached("k", loads(counter, "b")) == "a"
    assert counter == [1]
    refcache.changed()
    assert refcache.cached("k", loads(counter, "b")) == "b"
    assert counter == [2]


def test_a_change_by_another_process_is_seen_at_the_next_use() -> None:
    """Another process changes the row and the generation; it sends no signal here."""
    complaint = selectors.active_case_type("complaint")
    assert complaint is not None
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_casetype SET is_active = %s WHERE key = %s", [False, "complaint"])
    assert selectors.active_case_type("complaint") is not None  # generation unchanged: cached
    ReferenceGeneration.objects.filter(pk=refcache.ROW_ID).update(value=12345)
    assert selectors.active_case_type("complaint") is None


def test_saving_a_model_that_is_reference_data_changes_the_generation() -> None:
    before = ReferenceGeneration.objects.get(pk=refcache.ROW_ID).value
    CaseType.objects.filter(key="feedback").get().save()
    after = ReferenceGeneration.objects.get(pk=refcache.ROW_ID).value
    assert after != before


def test_a_rolled_back_change_leaves_no_trace_in_the_cache() -> None:
    assert selectors.active_case_type("feedback") is not None
    with pytest.raises(RuntimeError), transaction.atomic():
        feedback = CaseType.objects.get(key="feedback")
        feedback.is_active = False
        feedback.save()  # signal: new generation, seen inside this transaction
        assert selectors.active_case_type("feedback") is None
        raise RuntimeError("roll back")
    assert selectors.active_case_type("feedback") is not None


def test_a_request_reads_the_generation_once() -> None:
    selectors.active_case_type("complaint")
    selectors.active_case_type("inquiry")
    token = set_request_context(RequestContext(request_id="r", reference_generation=[None]))
    try:
        with CaptureQueriesContext(connection) as queries:
            assert selectors.active_case_type("complaint") is not None
            assert selectors.active_case_type("inquiry") is not None
    finally:
        reset_request_context(token)
    assert len(queries) == 1 and "core_referencegeneration" in queries[0]["sql"]


def test_custom_field_definitions_come_from_the_cache(make_user: Callable[..., User]) -> None:
    """Forms, the detail page, list filters and validation share one cached reader."""
    complaint = CaseType.objects.get(key="complaint")
    CustomFieldDefinition.objects.create(case_type=complaint, key="amount", label_de="Betrag", label_en="Amount", kind="money")
    selectors.custom_field_definitions(complaint)
    token = set_request_context(RequestContext(request_id="r", reference_generation=[None]))
    try:
        with CaptureQueriesContext(connection) as queries:
            assert [d.key for d in selectors.custom_field_definitions(complaint)] == ["amount"]
            assert selectors.custom_field_definitions(CaseType.objects.get(key="inquiry")) == []
    finally:
        reset_request_context(token)
    assert [q["sql"] for q in queries if "customfielddefinition" in q["sql"]] == []


def test_outside_a_request_every_use_reads_the_generation() -> None:
    selectors.active_case_type("complaint")
    with CaptureQueriesContext(connection) as queries:
        selectors.active_case_type("complaint")
        selectors.active_case_type("complaint")
    assert len(queries) == 2


def test_taking_a_role_away_takes_effect_on_the_next_request(
    make_user: Callable[..., User], api_client_for: Callable[..., Client]
) -> None:
    """Capabilities are cached per user; the role assignment itself changes the generation."""
    user = make_user("administrator")
    client = api_client_for(user, ("read", "write", "admin"))
    assert client.get("/api/v1/users").status_code == 200
    user.roles.set([Role.objects.get(key="agent")])
    assert client.get("/api/v1/users").status_code == 403


def test_a_case_type_switched_off_is_refused_on_the_next_create(
    make_user: Callable[..., User], api_client_for: Callable[..., Client]
) -> None:
    client = api_client_for(make_user("quality_manager"))

    def create() -> Any:
        body = {"case_type": "feedback", "subject": "Lob", "channel": "email"}
        return client.post("/api/v1/cases", json.dumps(body), content_type="application/json")

    assert create().status_code == 201
    feedback = CaseType.objects.get(key="feedback")
    feedback.is_active = False
    feedback.save()
    refused = create()
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "/case_type"


# --- API tokens and their users --------------------------------------------------------------


def test_a_known_token_costs_an_api_request_only_the_generation_read(
    make_user: Callable[..., User], api_client_for: Callable[..., Client]
) -> None:
    client = api_client_for(make_user("quality_manager"))
    assert client.get("/api/v1/case-types").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/case-types").status_code == 200
    assert not [q for q in queries if "accounts_apitoken" in q["sql"] or '"accounts_user"' in q["sql"]]


def test_a_revoked_token_fails_on_the_next_request(make_user: Callable[..., User]) -> None:
    user = make_user("quality_manager")
    token, plain = accounts.api_token_create(actor=user, name="t", scopes=["read"])
    client = Client(headers={"Authorization": f"Bearer {plain}"})
    assert client.get("/api/v1/case-types").status_code == 200
    accounts.api_token_revoke(actor=user, token=token)
    assert client.get("/api/v1/case-types").status_code == 401


def test_a_deactivated_user_fails_on_the_next_request(
    make_user: Callable[..., User], api_client_for: Callable[..., Client]
) -> None:
    user = make_user("quality_manager")
    client = api_client_for(user)
    assert client.get("/api/v1/case-types").status_code == 200
    user.is_active = False
    user.save()
    assert client.get("/api/v1/case-types").status_code == 401


def test_a_token_revoked_by_another_process_fails_on_the_next_request(make_user: Callable[..., User]) -> None:
    user = make_user("quality_manager")
    token, plain = accounts.api_token_create(actor=user, name="t", scopes=["read"])
    client = Client(headers={"Authorization": f"Bearer {plain}"})
    assert client.get("/api/v1/case-types").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())  # no signal here:
    ReferenceGeneration.objects.filter(pk=refcache.ROW_ID).update(value=424242)  # the other process's
    assert client.get("/api/v1/case-types").status_code == 401


def test_each_request_gets_its_own_token_and_user(make_user: Callable[..., User]) -> None:
    user = make_user("quality_manager")
    _token, plain = accounts.api_token_create(actor=user, name="t", scopes=["read"])
    first = accounts.api_token_authenticate(plain)
    assert first is not None
    first.user.full_name = "changed in one request"
    first.scopes = ["admin"]
    second = accounts.api_token_authenticate(plain)
    assert second is not None and second is not first and second.user is not first.user
    assert second.user.full_name != "changed in one request" and second.scopes == ["read"]


def test_unknown_tokens_leave_nothing_in_the_cache(make_user: Callable[..., User]) -> None:
    accounts.api_token_create(actor=make_user("agent"), name="t", scopes=["read"])
    refcache.current_generation()  # the generation the next lookups run under
    before = len(refcache._values)
    for n in range(50):
        assert accounts.api_token_authenticate(f"lpk_{n:012x}_secret") is None
    assert len(refcache._values) == before
