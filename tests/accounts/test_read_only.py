"""Read-only means read-only (issue 19, item 10): API tokens never exceed the capabilities of
their owner — capped when minted and again on every request — and saved views need a
capability that changes data."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from leitplanke.accounts import services
from leitplanke.accounts.models import ApiToken, Role, User
from leitplanke.accounts.permissions import token_scopes_allowed
from leitplanke.cases import list_services
from leitplanke.cases.models import SavedView
from leitplanke.core.errors import PermissionDenied, ValidationFailed


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("agent", {"read", "write"}),
        ("team_lead", {"read", "write"}),
        ("process_owner", {"read", "write"}),
        ("quality_manager", {"read", "write"}),
        ("administrator", {"read", "write", "admin"}),
        ("auditor", {"read"}),
    ],
)
def test_token_scopes_allowed_per_role(make_user: Callable[..., User], role: str, allowed: set[str]) -> None:
    assert token_scopes_allowed(make_user(role)) == allowed


@pytest.mark.parametrize("scopes", [["write"], ["read", "write"], ["admin"]])
def test_the_auditor_cannot_mint_a_token_that_writes(make_user: Callable[..., User], scopes: list[str]) -> None:
    auditor = make_user("auditor")
    with pytest.raises(ValidationFailed) as caught:
        services.api_token_create(actor=auditor, name="sneaky", scopes=scopes)
    assert "scopes" in caught.value.field_errors
    assert not ApiToken.objects.filter(user=auditor).exists()
    token, _plain = services.api_token_create(actor=auditor, name="reading", scopes=["read"])
    assert token.scopes == ["read"]


def test_the_profile_page_offers_the_auditor_only_the_read_scope(
    make_user: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    client = client_for(make_user("auditor"))
    html = client.get(reverse("accounts:profile")).content.decode()
    assert 'value="read"' in html and 'value="write"' not in html and 'value="admin"' not in html
    response = client.post(reverse("accounts:token_create"), {"name": "x", "scopes": ["read", "write"]})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_a_token_loses_the_write_scope_when_its_owner_loses_the_capability(
    make_user: Callable[..., User], admin_user: User
) -> None:
    """Capped at use as well: an agent's write token, then the agent becomes an auditor."""
    user = make_user("agent")
    _token, plain = services.api_token_create(actor=user, name="crm", scopes=["read", "write"])
    client = Client(headers={"Authorization": f"Bearer {plain}"})
    assert client.get("/api/v1/me").json()["scopes"] == ["read", "write"]
    services.user_update(actor=admin_user, user=user, roles=[Role.objects.get(key="auditor")])
    assert client.get("/api/v1/me").json()["scopes"] == ["read"]
    response = client.post(
        "/api/v1/cases",
        data=json.dumps({"case_type": "complaint", "subject": "x", "channel": "email"}),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["required_scope"] == "write"


def test_an_admin_token_loses_the_admin_scope_with_the_role(make_user: Callable[..., User], admin_user: User) -> None:
    user = make_user("administrator")
    _token, plain = services.api_token_create(actor=user, name="ops", scopes=["admin"])
    client = Client(headers={"Authorization": f"Bearer {plain}"})
    assert client.get("/api/v1/me").json()["scopes"] == ["admin", "read", "write"]
    services.user_update(actor=admin_user, user=user, roles=[Role.objects.get(key="agent")])
    assert client.get("/api/v1/me").json()["scopes"] == ["read", "write"]
    services.user_update(actor=admin_user, user=user, roles=[Role.objects.get(key="auditor")])
    assert client.get("/api/v1/me").json()["scopes"] == ["read"]


def test_the_auditor_session_has_only_the_read_scope(
    make_user: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    assert client_for(make_user("auditor")).get("/api/v1/me").json()["scopes"] == ["read"]


def test_the_auditor_cannot_save_a_view(make_user: Callable[..., User], client_for: Callable[[User], Client]) -> None:
    auditor = make_user("auditor")
    client = client_for(auditor)
    assert "saved_view_create" not in client.get("/cases/").content.decode()
    assert 'action="/cases/views/"' not in client.get("/cases/").content.decode()
    response = client.post(reverse("case_list:saved_view_create"), {"name": "Mine", "query": "priority=4"})
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        list_services.saved_view_create(actor=auditor, name="Mine", filters={})
    assert not SavedView.objects.exists()


def test_an_agent_still_saves_views(make_user: Callable[..., User], client_for: Callable[[User], Client]) -> None:
    client = client_for(make_user("agent"))
    assert 'action="/cases/views/"' in client.get("/cases/").content.decode()
    client.post(reverse("case_list:saved_view_create"), {"name": "Mine", "query": "priority=4"})
    assert SavedView.objects.filter(name="Mine").exists()
