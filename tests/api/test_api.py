"""The REST API: documentation, token and session authentication, problem details, pagination."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leitplanke.accounts import services
from leitplanke.accounts.models import ApiToken, User

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code)
    assert body["title"]
    return body


# --- public endpoints ----------------------------------------------------------------------


def test_health_needs_no_authentication(client: Client) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_openapi_lists_the_endpoints(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/me", "/api/v1/users", "/api/v1/teams", "/api/v1/health"} <= set(paths)


def test_interactive_docs_render(client: Client) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content


# --- token authentication ------------------------------------------------------------------


def test_me_with_a_token(agent_user: User, api_client_for: Callable[..., Client]) -> None:
    response = api_client_for(agent_user, ("read",)).get("/api/v1/me")
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == agent_user.email
    assert [r["key"] for r in body["roles"]] == ["agent"]
    assert "cases.edit" in body["capabilities"] and "org.manage" not in body["capabilities"]
    assert body["scopes"] == ["read"]


def test_a_token_request_ignores_the_browser_session_it_carries(
    make_user: Callable[..., User], api_client_for: Callable[..., Client]
) -> None:
    """The token decides who calls; a session cookie of someone else (here a German-speaking
    user) neither sets the language nor costs the session and user lookups."""
    token_user = make_user("agent", language="en")
    session_user = make_user("agent", language="de")
    client = api_client_for(token_user, ("read",))
    client.force_login(session_user)
    assert client.get("/api/v1/me").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()["email"] == token_user.email
    assert response["Content-Language"] == "en"
    assert not [q for q in queries if "django_session" in q["sql"]]


def test_missing_token_is_a_401_problem(client: Client) -> None:
    body = assert_problem(client.get("/api/v1/me"), 401, "not_authenticated")
    assert body["instance"] == "/api/v1/me"


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer lpk_abc_def", "Basic dXNlcjpwYXNz", "Bearer "])
def test_invalid_token_is_a_401_problem(db: Any, header: str) -> None:
    response = Client(headers={"Authorization": header}).get("/api/v1/me")
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_is_refused(agent_user: User) -> None:
    token, plain = services.api_token_create(actor=agent_user, name="t", scopes=["read"])
    client = Client(headers={"Authorization": f"Bearer {plain}"})
    assert client.get("/api/v1/me").status_code == 200
    services.api_token_revoke(actor=agent_user, token=token)
    assert_problem(client.get("/api/v1/me"), 401, "not_authenticated")


def test_expired_token_is_refused(agent_user: User) -> None:
    token, plain = services.api_token_create(
        actor=agent_user, name="t", scopes=["read"], expires_at=timezone.now() + dt.timedelta(days=1)
    )
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert_problem(Client(headers={"Authorization": f"Bearer {plain}"}).get("/api/v1/me"), 401, "not_authenticated")


def test_token_of_a_deactivated_user_is_refused(
    admin_user: User, agent_user: User, api_client_for: Callable[..., Client]
) -> None:
    client = api_client_for(agent_user)
    services.user_update(actor=admin_user, user=agent_user, is_active=False)
    assert_problem(client.get("/api/v1/me"), 401, "not_authenticated")


# --- users and teams -----------------------------------------------------------------------


def test_users_for_admins_with_keyset_pagination(
    admin_user: User, make_user: Callable[..., User], api_client_for: Callable[..., Client]
) -> None:
    for _ in range(4):
        make_user("agent")
    client = api_client_for(admin_user, ("read",))
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        response = client.get("/api/v1/users", {"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.content
        body = response.json()
        assert len(body["items"]) <= 2
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted(User.objects.values_list("id", flat=True))
    first = client.get("/api/v1/users", {"limit": 50}).json()["items"][0]
    assert set(first) >= {"id", "email", "full_name", "roles", "teams", "is_active", "language"}


def test_user_detail_for_admins(admin_user: User, agent_user: User, api_client_for: Callable[..., Client]) -> None:
    client = api_client_for(admin_user, ("read",))
    assert client.get(f"/api/v1/users/{agent_user.pk}").json()["email"] == agent_user.email
    assert_problem(client.get("/api/v1/users/999999"), 404, "not_found")


def test_auditor_may_read_users_and_teams(make_user: Callable[..., User], api_client_for: Callable[..., Client]) -> None:
    client = api_client_for(make_user("auditor"), ("read",))
    assert client.get("/api/v1/users").status_code == 200
    assert client.get("/api/v1/teams").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/users/1", "/api/v1/teams"])
def test_agents_may_not_read_users_or_teams(agent_user: User, api_client_for: Callable[..., Client], path: str) -> None:
    assert_problem(api_client_for(agent_user).get(path), 403, "permission_denied")


def test_teams_for_admins(admin_user: User, agent_user: User, api_client_for: Callable[..., Client]) -> None:
    team = services.team_create(actor=admin_user, name="Energie", lead=agent_user)
    response = api_client_for(admin_user, ("read",)).get("/api/v1/teams")
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": team.pk,
            "name": "Energie",
            "description": "",
            "email": "",
            "is_active": True,
            "lead_id": agent_user.pk,
            "member_ids": [agent_user.pk],
        }
    ]


@pytest.mark.parametrize("cursor", ["garbage", "W10:bad-signature", ""])
def test_invalid_cursor_is_a_422_problem(admin_user: User, api_client_for: Callable[..., Client], cursor: str) -> None:
    client = api_client_for(admin_user)
    response = client.get("/api/v1/users", {"cursor": cursor})
    if cursor == "":  # an empty cursor means the first page
        assert response.status_code == 200
        return
    body = assert_problem(response, 422, "invalid_cursor")
    assert body["errors"][0]["pointer"] == "/cursor"


def test_cursor_of_another_shape_is_refused(admin_user: User, api_client_for: Callable[..., Client]) -> None:
    from leitplanke.core.pagination import encode_cursor

    response = api_client_for(admin_user).get("/api/v1/users", {"cursor": encode_cursor(["a", 1])})
    assert_problem(response, 422, "invalid_cursor")


def test_cursor_with_values_of_another_type_is_refused(admin_user: User, api_client_for: Callable[..., Client]) -> None:
    from leitplanke.core.pagination import encode_cursor

    response = api_client_for(admin_user).get("/api/v1/users", {"cursor": encode_cursor(["Energie-Service"])})
    assert_problem(response, 422, "invalid_cursor")


def test_token_scopes_imply_each_other(agent_user: User, rf: Any) -> None:
    from leitplanke.api.auth import require_scope
    from leitplanke.core.errors import PermissionDenied

    request = rf.get("/api/v1/me")
    request.api_scopes = frozenset({"read"})
    require_scope(request, "read")
    with pytest.raises(PermissionDenied) as caught:
        require_scope(request, "write")
    assert caught.value.extra == {"required_scope": "write"}
    request.api_scopes = frozenset({"admin"})
    for scope in ("read", "write", "admin"):
        require_scope(request, scope)
    request.api_scopes = frozenset()
    with pytest.raises(PermissionDenied):
        require_scope(request, "read")


def test_validation_error_is_a_422_problem_with_pointers(admin_user: User, api_client_for: Callable[..., Client]) -> None:
    body = assert_problem(api_client_for(admin_user).get("/api/v1/users", {"limit": "abc"}), 422, "validation_error")
    assert body["errors"]
    assert body["errors"][0]["pointer"] == "/limit"
    assert body["errors"][0]["detail"]


def test_bad_path_parameter_is_a_422_problem(admin_user: User, api_client_for: Callable[..., Client]) -> None:
    body = assert_problem(api_client_for(admin_user).get("/api/v1/users/abc"), 422, "validation_error")
    assert body["errors"][0]["pointer"] == "/user_id"


def test_unknown_api_path_is_a_404_problem(client: Client) -> None:
    response = client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


# --- session authentication ----------------------------------------------------------------


def test_browser_session_can_read(admin_user: User, client_for: Callable[[User], Client]) -> None:
    client = client_for(admin_user)
    assert client.get("/api/v1/me").json()["email"] == admin_user.email
    assert client.get("/api/v1/users").status_code == 200


def test_session_of_an_agent_is_still_checked(agent_user: User, client_for: Callable[[User], Client]) -> None:
    client = client_for(agent_user)
    assert client.get("/api/v1/me").status_code == 200
    assert_problem(client.get("/api/v1/users"), 403, "permission_denied")


def test_after_logout_the_session_no_longer_works(agent_user: User, client_for: Callable[[User], Client]) -> None:
    client = client_for(agent_user)
    client.post("/accounts/logout/")
    assert_problem(client.get("/api/v1/me"), 401, "not_authenticated")


def test_user_list_costs_the_same_number_of_queries_as_rows_grow(
    admin_user: User, make_user: Callable[..., User], api_client_for: Callable[..., Client]
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_client_for(admin_user, ("read",))
    team = services.team_create(actor=admin_user, name="Energie")

    def queries() -> int:
        # A first request loads reference data changed since (roles, case types): count the second.
        client.get("/api/v1/users", {"limit": 50})
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/users", {"limit": 50}).status_code == 200
        return len(captured)

    make_user("agent", teams=[team])
    queries()  # the first request also records the token's last use
    few = queries()
    for _ in range(10):
        make_user("team_lead", teams=[team])
    assert queries() == few
