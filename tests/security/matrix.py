"""The machinery of the authorisation matrix: which URLs exist, how a URL is filled for a
scope, what an answer means. The expected outcomes are in test_authorisation_matrix.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.db import transaction
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver

from tests.security.world import World

# Outcome codes of one request.
ALLOWED = "A"  # passed the authorisation: 2xx, 3xx other than to the login, 400/409/412/422/429
FORBIDDEN = "F"  # 403
NOT_FOUND = "N"  # 404 (also: the object is invisible to this user)
LOGIN = "L"  # redirect to the login page
UNAUTHENTICATED = "U"  # 401 (API)
GONE = "G"  # 410 (an expired or closed public link)
REFUSED = "R"  # a redirect with an error message and nothing changed (views that say so in words)
NOT_OFFERED = "-"  # 405: the method is not offered; says nothing about authorisation
SERVER_ERROR = "E"  # 5xx: always wrong

LOGIN_PATH = "/accounts/login/"
FORGED_TOKEN = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"  # well-formed, never issued


def outcome(response: HttpResponse) -> str:
    status = response.status_code
    if getattr(response, "refused", False):
        return REFUSED
    if status >= 500:
        return SERVER_ERROR
    if status in (301, 302, 303) and response["Location"].split("?")[0].endswith(LOGIN_PATH):
        return LOGIN
    if status in (301, 302, 303) and _error_messages(response):
        return REFUSED
    return {401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND, 405: NOT_OFFERED, 410: GONE}.get(status, ALLOWED)


def _error_messages(response: HttpResponse) -> list[Any]:
    from django.contrib import messages

    request = getattr(response, "wsgi_request", None)
    storage = getattr(request, "_messages", None)
    queued = getattr(storage, "_queued_messages", [])
    return [message for message in queued if message.level >= messages.ERROR]


# --- HTML views -----------------------------------------------------------------------------


def html_routes() -> Iterator[tuple[str, str, list[str]]]:
    """(qualified name, route, URL kwarg names) of every URL pattern Django resolves, walked
    recursively; the API's operations are covered by their OpenAPI rows instead."""

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> Iterator[tuple[str, str, list[str]]]:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = ":".join(part for part in (namespace, entry.namespace or "") if part)
                yield from walk(entry, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern):
                name = ":".join(part for part in (namespace, entry.name or f"<unnamed {entry.pattern}>") if part)
                route = prefix + str(entry.pattern)
                yield name, route, re.findall(r"<(?:\w+:)?(\w+)>", route)

    for name, route, kwargs in walk(get_resolver(), "", ""):
        if route.startswith("api/v1/") and not _api_meta(name):
            continue
        yield name, route, kwargs


def _api_meta(name: str) -> bool:
    """The API's own pages (OpenAPI document, docs, root) have no OpenAPI operation."""
    return name in {"api:openapi-json", "api:openapi-view", "api:api-root"}


def scopes_of(kwargs: list[str]) -> list[str]:
    if "case_id" in kwargs:
        return ["own", "other", "none"]
    if {"assessment_id", "view_id", "token_id"} & set(kwargs):
        return ["own", "other"]
    if ("token" in kwargs and "uidb64" not in kwargs) or "invitation" in kwargs:
        return ["valid", "forged"]
    return ["-"]


def fill(route: str, kwargs: list[str], *, world: World, principal: str, scope: str) -> str:
    """The path of `route` with its kwargs set to the objects of `scope`."""
    owner = principal if principal in world.own else "administrator"
    values: dict[str, Any] = {}
    for name in kwargs:
        if name == "case_id":
            values[name] = world.cases[scope].pk
        elif name == "attachment_id":
            values[name] = world.attachments[scope].pk
        elif name == "clock_id":
            values[name] = world.clocks[scope]
        elif name == "record_id":
            values[name] = world.records[scope]
        elif name == "assessment_id" and route.startswith("settings/maturity/contacts/"):
            # a contact request of the public check; "other": an in-app check without one
            values[name] = world.ids["contact_assessment"] if scope == "own" else world.other[name]
        elif name in {"assessment_id", "view_id", "token_id"}:
            values[name] = world.own[owner][name] if scope == "own" else world.other[name]
        elif name == "token" and route.startswith("complaint/confirm/"):
            values[name] = world.ids["confirm_token"] if scope == "valid" else FORGED_TOKEN
        elif name == "token" and route.startswith(("complaint/", "public/")):
            values[name] = world.status_tokens["own"] if scope == "valid" else FORGED_TOKEN
        elif name == "token" and route.startswith("check/"):
            values[name] = world.ids["maturity_token"] if scope == "valid" else FORGED_TOKEN
        elif name == "invitation":
            values[name] = world.ids["invitation"] if scope == "valid" else FORGED_TOKEN
        elif name == "uidb64":
            values[name] = "MQ"
        elif name == "token":
            values[name] = "forged-token"
        else:
            values[name] = world.ids[name]
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(values[match.group(1)]), route)
    return "/" + path


# --- API operations -------------------------------------------------------------------------


def api_operations() -> Iterator[tuple[str, str, list[str]]]:
    """(METHOD /path, path, path parameter names) of every operation in the OpenAPI document."""
    from leitplanke.api.api import api

    schema = api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        for method in operations:
            yield f"{method.upper()} {path}", path, re.findall(r"{(\w+)}", path)


def api_scopes_of(params: list[str]) -> list[str]:
    return ["own", "other", "none"] if "case_id" in params else ["-"]


def api_fill(path: str, params: list[str], *, world: World, scope: str) -> str:
    values = {
        name: world.cases[scope].pk
        if name == "case_id"
        else world.clocks[scope]
        if name == "clock_id"
        else world.records[scope]
        if name == "record_id"
        else world.ids[name]
        for name in params
    }
    return re.sub(r"{(\w+)}", lambda match: str(values[match.group(1)]), path)


def in_savepoint(send: Any, check: Any = None) -> HttpResponse:
    """One request whose writes are undone afterwards, so that every request meets the same
    world. `check()` (optional) tells whether the request changed what it should; an answer
    that passed as allowed without that change is marked as refused (`refused = True`)."""
    with transaction.atomic():
        response = send()
        if check is not None and outcome(response) == ALLOWED and not check():
            response.refused = True  # type: ignore[attr-defined]
        transaction.set_rollback(True)
    return response
