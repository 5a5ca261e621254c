"""Authority pages: the administrators' list and form of authority limits (Settings ›
Authority limits) and every agent's "My authority"."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from leitplanke.accounts.actors import require_user
from leitplanke.accounts.decorators import require_capability
from leitplanke.accounts.permissions import MANAGE_ORGANISATION
from leitplanke.core.forms import attempt

from . import authority_selectors as selectors
from . import authority_services as services
from .authority_forms import AuthorityLimitForm


def _limit(limit_id: int) -> Any:
    limit = selectors.limit_get(limit_id)
    if limit is None:
        raise Http404
    return limit


def _form_page(request: HttpRequest, form: AuthorityLimitForm, **context: Any) -> HttpResponse:
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, "decisions/authority_limit_form.html", {**context, "form": form}, status=status)


@login_required
@require_capability(MANAGE_ORGANISATION)
def limit_list(request: HttpRequest) -> HttpResponse:
    limits = selectors.limits_list()
    return render(
        request,
        "decisions/authority_limit_list.html",
        {
            "role_limits": [limit for limit in limits if limit.role_id],
            "person_limits": [limit for limit in limits if limit.user_id],
        },
    )


@login_required
@require_capability(MANAGE_ORGANISATION)
@require_http_methods(["GET", "POST"])
def limit_create(request: HttpRequest) -> HttpResponse:
    form = AuthorityLimitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = attempt(form, lambda: services.authority_limit_create(actor=request.user, **form.cleaned_data))
        if created is not None:
            messages.success(request, _("The authority limit was created."))
            return redirect("authority_settings:list")
    return _form_page(request, form, creating=True)


@login_required
@require_capability(MANAGE_ORGANISATION)
@require_http_methods(["GET", "POST"])
def limit_edit(request: HttpRequest, limit_id: int) -> HttpResponse:
    limit = _limit(limit_id)
    initial = {
        "role": limit.role_id,
        "user": limit.user_id,
        "kind": limit.kind,
        "currency": limit.currency,
        "case_type": limit.case_type_id,
        "skill": limit.skill_id,
        "min_level": limit.min_level,
        "per_decision": limit.per_decision,
        "per_customer_year": limit.per_customer_year,
    }
    form = AuthorityLimitForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = attempt(form, lambda: services.authority_limit_update(actor=request.user, limit=limit, **form.cleaned_data))
        if saved is not None:
            messages.success(request, _("The authority limit was saved."))
            return redirect("authority_settings:list")
    return _form_page(request, form, limit=limit)


@login_required
@require_capability(MANAGE_ORGANISATION)
@require_POST
def limit_delete(request: HttpRequest, limit_id: int) -> HttpResponse:
    limit = _limit(limit_id)
    services.authority_limit_delete(actor=request.user, limit=limit)
    messages.success(request, _("The authority limit was deleted."))
    return redirect("authority_settings:list")


@login_required
def my_authority(request: HttpRequest) -> HttpResponse:
    """What the signed-in person may decide alone (every user: an empty list says nothing)."""
    user = require_user(request.user)
    return render(request, "decisions/my_authority.html", {"authority_lines": selectors.my_authority(user)})
