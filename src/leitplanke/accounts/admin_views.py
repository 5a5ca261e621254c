"""Administration in the app's own UI: organisation, users, teams, roles, skills, absences,
background tasks and the audit log."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .decorators import require_capability

from . import permissions


@login_required
@require_capability(permissions.MANAGE_ORGANISATION, permissions.VIEW_AUDIT)
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/settings/index.html")
