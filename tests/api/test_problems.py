"""Every domain error becomes problem JSON with a stable code and the right status."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory
from ninja import NinjaAPI

from leitplanke.api import problems
from leitplanke.core.errors import Conflict, NotFound, PermissionDenied, PreconditionFailed, RateLimited, ValidationFailed

api = NinjaAPI(urls_namespace="problems-test", docs_url=None)
problems.install(api)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ValidationFailed(field_errors={"subject": ["required"]}), 422, "validation_error"),
        (PermissionDenied(), 403, "permission_denied"),
        (NotFound(), 404, "not_found"),
        (Conflict(), 409, "conflict"),
        (PreconditionFailed(), 412, "precondition_failed"),
        (RateLimited(retry_after=42), 429, "rate_limited"),
    ],
)
def test_domain_errors_map_to_problem_details(error, status, code) -> None:
    request = RequestFactory().get("/api/v1/anything")
    handler = api._lookup_exception_handler(error)
    response = handler(request, error)
    body = json.loads(response.content)
    assert response.status_code == status == body["status"]
    assert response["Content-Type"] == "application/problem+json"
    assert body["code"] == code and body["title"] and body["type"].endswith(code)
    if status == 429:
        assert response["Retry-After"] == "42"
    if status == 422:
        assert body["errors"] == [{"pointer": "/subject", "detail": "required"}]
