"""API authentication: personal bearer tokens (with scopes) or the browser session."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from leitplanke.accounts.permissions import effective_token_scopes, token_scopes_allowed
from leitplanke.accounts.services import api_token_authenticate
from leitplanke.core.errors import PermissionDenied

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class NotAuthenticated(Exception):
    """Raised for a missing or invalid token; mapped to a 401 problem."""


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = api_token_authenticate(token)
        if api_token is None:
            raise NotAuthenticated("invalid, expired or revoked token")
        request.user = api_token.user
        # Capped by what the owner's roles allow now, not when the token was minted.
        request.api_scopes = effective_token_scopes(api_token.scopes, api_token.user)  # type: ignore[attr-defined]
        return api_token.user


class SessionAuth(APIKeyCookie):
    """The logged-in browser session (CSRF checked for unsafe methods)."""

    param_name = "sessionid"

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if request.user.is_authenticated:
            request.api_scopes = token_scopes_allowed(request.user)  # type: ignore[attr-defined]
            return request.user
        return None


def require_scope(request: HttpRequest, scope: str) -> None:
    """Token scopes: read < write < admin. Sessions have every scope their roles allow."""
    scopes: frozenset[str] = getattr(request, "api_scopes", frozenset())
    implied = {"read": {"read", "write", "admin"}, "write": {"write", "admin"}, "admin": {"admin"}}[scope]
    if not scopes & implied:
        raise PermissionDenied(f"this token lacks the '{scope}' scope", required_scope=scope)


def scope_for(request: HttpRequest) -> str:
    return "read" if request.method in SAFE_METHODS else "write"


auth = [BearerToken(), SessionAuth()]
