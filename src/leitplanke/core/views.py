"""Health endpoints, the start page and error pages."""

from __future__ import annotations

import sys
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db import utils as db_utils
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from leitplanke import __version__

from . import selectors
from .middleware import database_unavailable_response


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "version": __version__})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, Any] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        checks["migrations"] = "ok" if not pending else f"{len(pending)} pending"
        ready = not pending
        if ready:
            stale = selectors.stale_unsealed_audit_events()
            checks["audit_sealing"] = "ok" if not stale else f"alarm: {stale} events unsealed for over a minute"
            missing = selectors.audit_guard_problems()
            checks["audit_guards"] = "ok" if not missing else "alarm: " + "; ".join(missing)
    except db_utils.Error as error:  # OperationalError, InterfaceError and every other driver error
        checks["database"] = f"unreachable: {type(error).__name__}"
        return JsonResponse({"status": "unavailable", "checks": checks}, status=503)
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {"overview": selectors.home_overview(user=request.user)})


def _error(request: HttpRequest, template: str, status: int) -> HttpResponse:
    if request.path.startswith("/api/"):
        titles = {400: "Bad request", 403: "Forbidden", 404: "Not found", 500: "Internal error"}
        return JsonResponse(
            {"type": "about:blank", "title": titles[status], "status": status, "code": titles[status].lower().replace(" ", "_")},
            status=status,
            content_type="application/problem+json",
        )
    return render(request, template, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "errors/400.html", 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "errors/403.html", 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "errors/404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    # A database failure in a middleware (e.g. loading the session) arrives here, not at
    # DatabaseUnavailableMiddleware.process_exception: answer it with the same 503.
    unavailable = database_unavailable_response(request, sys.exc_info()[1])
    if unavailable is not None:
        return unavailable
    if request.path.startswith("/api/"):
        return _error(request, "errors/500.html", 500)
    # No context processors: they may need the database, which may be what failed.
    from django.template.loader import render_to_string

    return HttpResponse(render_to_string("errors/500.html"), status=500)
