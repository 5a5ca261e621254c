"""Settings → Deadlines: the organisation's choices where the law leaves one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from leitplanke.accounts.decorators import require_capability
from leitplanke.accounts.permissions import MANAGE_ORGANISATION
from leitplanke.core.forms import attempt

from . import selectors, services
from .forms import DeadlineSettingsForm


@login_required
@require_capability(MANAGE_ORGANISATION)
@require_http_methods(["GET", "POST"])
def deadline_settings(request: HttpRequest) -> HttpResponse:
    row = selectors.deadline_settings_row()
    form = DeadlineSettingsForm(request.POST or None, initial=DeadlineSettingsForm.initial_for(row))
    if (
        request.method == "POST"
        and form.is_valid()
        and attempt(form, lambda: services.deadline_settings_update(actor=request.user, **form.service_arguments()))
    ):
        messages.success(request, _("The deadline settings were saved."))
        return redirect("deadlines:settings")
    status = 400 if request.method == "POST" and form.errors else 200
    context = {"form": form, "rules": selectors.rule_versions()}
    return render(request, "deadlines/settings.html", context, status=status)
