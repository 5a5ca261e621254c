"""The manual escalation panel of the case page (a form with a required reason) and its
POST view; the service is `services.case_escalate`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leitplanke.core.errors import DomainError, NotFound, PermissionDenied, PreconditionFailed
from leitplanke.core.forms import apply_domain_error
from leitplanke.processes.engine import Process

from . import selectors, services
from .forms import EscalationForm


def escalation_panel(case: Any, process: Process, language: str, editable: bool, form: EscalationForm | None) -> dict[str, Any]:
    """Context for `cases/_escalate_form.html`: the next level (None at the top, or for a
    user who cannot edit: then the panel is not shown) and the form."""
    level = process.next_escalation_level(case.escalation_level) if editable else None
    return {
        "escalation_next": (
            {"level": level.level, "label": level.label_de if language == "de" else level.label_en} if level else None
        ),
        "escalate_form": form or EscalationForm(initial={"version": case.version}),
    }


@login_required
@require_POST
def case_escalate(request: HttpRequest, case_id: int) -> HttpResponse:
    from .views import _case_or_404, _render_detail

    case = _case_or_404(request, case_id)
    form = EscalationForm(request.POST)
    if form.is_valid():
        try:
            services.case_escalate(
                actor=request.user,
                case=case,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data.get("version"),
            )
        except NotFound:
            from django.http import Http404

            raise Http404() from None
        except PermissionDenied:
            raise DjangoPermissionDenied() from None
        except PreconditionFailed:
            form.add_error(None, _("Someone else changed this case meanwhile. Please check it and try again."))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("The case was escalated."))
            return redirect("cases:detail", case_id=case.pk)
    elif not selectors.can_edit(request.user, case):
        raise DjangoPermissionDenied()
    case = _case_or_404(request, case_id)
    data = request.POST.copy()
    data["version"] = str(case.version)  # a retry uses the version now shown
    form.data = data
    return _render_detail(request, case, escalate_form=form, status=422)
