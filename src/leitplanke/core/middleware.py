"""Request id and client IP for the audit log, X-Queries for benchmarks, a clear 503 page
(not a stack trace) when the database cannot be reached, and a 400 for input the database
cannot store."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from .context import RequestContext, reset_request_context, set_request_context
from .text import multi_fields, storable, unstorable_paths

logger = logging.getLogger(__name__)
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR; a reverse proxy in front must set it (e.g. gunicorn --forwarded-allow-ips)."""
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = set_request_context(RequestContext(request_id=request_id, ip=client_ip(request), reference_generation=[None]))
        try:
            response = self._counting(request) if settings.LEITPLANKE_QUERY_COUNT_HEADER else self.get_response(request)
        finally:
            reset_request_context(token)
        response["X-Request-ID"] = request_id
        return response

    def _counting(self, request: HttpRequest) -> HttpResponse:
        count = 0

        def counter(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        response["X-Queries"] = str(count)
        return response


class DatabaseUnavailableMiddleware:
    """Turns a database that cannot be reached or used into a 503 (HTML page or problem JSON).

    `process_exception` covers errors in views; errors raised earlier, in middleware
    (the session lookup, say), reach `handler500`, which calls `database_unavailable_response`.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return database_unavailable_response(request, exception)


def database_unavailable_response(request: HttpRequest, exception: BaseException | None) -> HttpResponse | None:
    """The 503 response for a database error, or None for any other exception."""
    if not isinstance(exception, OperationalError | InterfaceError):
        return None
    logger.error("database unavailable: %s", exception)
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "type": "about:blank",
                "title": "Service unavailable",
                "status": 503,
                "code": "database_unavailable",
                "detail": "The database cannot be reached. Please try again shortly.",
            },
            status=503,
            content_type="application/problem+json",
            headers={"Retry-After": "30"},
        )
    # No request context: context processors may need the database, which is what failed.
    html = render_to_string("errors/503.html")
    return HttpResponse(html, status=503, headers={"Retry-After": "30"})


class UnstorableInputMiddleware:
    """Pages (not the API, which answers 422 problems itself: api/text_input.py) refuse with
    a 400 what would send unstorable text (NUL, lone surrogates) to the database or back to
    the browser:

    - a query string holding such text — searches, filters, cursors and exports would send
      it to the database, which fails on PostgreSQL;
    - a multipart body that declares a charset other than UTF-8 (in UTF-7, "+2AA-" is a lone
      surrogate, which not even the form page showing the error could encode). Browsers send
      UTF-8, and Django refuses other charsets for urlencoded bodies the same way.

    NUL in posted fields is refused by the forms, as an error on the field (core/forms.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            return self.get_response(request)
        fields = sorted({path[0] for path in unstorable_paths(multi_fields(request.GET))})
        if fields:
            detail = _("The address contains a character that cannot be stored (NUL or an unpaired surrogate) in: %(fields)s.")
            return self._refuse(request, detail % {"fields": ", ".join(storable(field) for field in fields)})
        charset = (
            (request.content_params or {}).get("charset", "utf-8") if request.content_type == "multipart/form-data" else "utf-8"
        )
        if charset.strip().lower().replace("_", "-") not in ("utf-8", "utf8"):
            return self._refuse(request, _("Send forms encoded as UTF-8."))
        return self.get_response(request)

    def _refuse(self, request: HttpRequest, detail: str) -> HttpResponse:
        return render(request, "errors/400.html", {"detail": detail}, status=400)
