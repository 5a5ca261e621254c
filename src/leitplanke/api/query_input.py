"""Refuses a query parameter sent more than once where the operation takes one value.

Django's QueryDict hands a scalar parameter its last value, so `?q=a&q=b` silently
searched for `b` (the fuzzing suite found it: a schema-violating request accepted). Around
every operation, `refuse_repeated_parameters` looks up which query parameters the
operation documents as single values (from the API's own OpenAPI document, read once) and
answers a 422 problem naming each one that arrived repeatedly. Parameters documented as
lists (`status`, `tag`, ...) and those the document does not name (the case list's
`cf.<key>` filters, read by name) are left alone.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI

from leitplanke.core.errors import ValidationFailed

ROUTE_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


def _is_list(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "array" or any(_is_list(option) for option in schema.get("anyOf", []))


def scalar_query_parameters(document: dict[str, Any]) -> dict[tuple[str, str], frozenset[str]]:
    """(OpenAPI path, method) → the query parameters that take one value."""
    out: dict[tuple[str, str], frozenset[str]] = {}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            out[(path, method.upper())] = frozenset(
                parameter["name"]
                for parameter in operation.get("parameters", [])
                if parameter.get("in") == "query" and not _is_list(parameter.get("schema", {}))
            )
    return out


def openapi_path(route: str) -> str:
    """Django's route (`api/v1/cases/<case_id>`) as the document writes it (`/api/v1/cases/{case_id}`)."""
    return "/" + ROUTE_PARAMETER.sub(r"{\1}", route)


def refuse_repeated_parameters(api: NinjaAPI) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    @functools.cache
    def scalars() -> dict[tuple[str, str], frozenset[str]]:
        return scalar_query_parameters(api.get_openapi_schema())

    def decorate(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(run)
        def checked(request: HttpRequest, *args: Any, **path: Any) -> HttpResponse:
            match = request.resolver_match
            if match is not None and request.GET:
                names = scalars().get((openapi_path(match.route), request.method or "GET"), frozenset())
                repeated = sorted(name for name in names if len(request.GET.getlist(name)) > 1)
                if repeated:
                    message = _("Send this parameter once.")
                    return api.on_exception(request, ValidationFailed(field_errors={name: [message] for name in repeated}))
            return run(request, *args, **path)

        return checked

    return decorate
