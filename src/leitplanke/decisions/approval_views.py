"""The approvals inbox of leads (by role or as a team's lead) and administrators: pending requests asked of them, due
first; approve, reject or send back with a comment."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from leitplanke.core.errors import DomainError
from leitplanke.core.forms import apply_domain_error
from leitplanke.core.pagination import InvalidCursor

from . import approval_selectors as selectors
from . import approval_services as services
from .authority_forms import ApprovalDecisionForm

DONE = {
    "approve": gettext_lazy("approved"),
    "reject": gettext_lazy("rejected"),
    "send_back": gettext_lazy("sent back"),
}


def _inbox(request: HttpRequest, *, failed: Any = None, failed_form: Any = None, status: int = 200) -> HttpResponse:
    try:
        page = selectors.inbox(request.user, cursor=request.GET.get("cursor") or None)
    except InvalidCursor:
        page = selectors.inbox(request.user)
    approvals = list(page.items)
    if failed is not None and all(a.pk != failed.pk for a in approvals):
        approvals.insert(0, failed)  # a stand-in's attempt: show the request with its error
    items = []
    for approval in approvals:
        is_failed = failed is not None and approval.pk == failed.pk
        form = failed_form if is_failed else ApprovalDecisionForm(auto_id=f"a{approval.pk}-%s")
        items.append({"approval": approval, "record": approval.record, "form": form})
    return render(
        request,
        "decisions/approval_inbox.html",
        {"items": items, "next_cursor": page.next_cursor, "now": timezone.now()},
        status=status,
    )


def _require_approver(view: Any) -> Any:
    """403 unless the user may be asked to approve (`approval_selectors.can_see_inbox`)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not selectors.can_see_inbox(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@login_required
@_require_approver
def inbox(request: HttpRequest) -> HttpResponse:
    return _inbox(request)


@never_cache
@require_GET
def badge(request: HttpRequest) -> HttpResponse:
    """The navigation's approvals count, which the page fetches again every minute (htmx
    `hx-trigger="every 60s"` on the badge; the menu button's count as an out-of-band swap).
    403 for anyone the inbox refuses, and for a signed-out browser too: a redirect to the
    login page would be followed and the login page put into the navigation, while htmx
    leaves the badge as it is on a 403."""
    if not request.user.is_authenticated or not selectors.can_see_inbox(request.user):
        raise PermissionDenied
    return render(request, "decisions/_approvals_badge.html", {"menu_out_of_band": True})


@login_required
@_require_approver
@require_POST
def decide(request: HttpRequest, approval_id: int) -> HttpResponse:
    approval = selectors.approval_get(request.user, approval_id)
    if approval is None:
        raise Http404
    form = ApprovalDecisionForm(request.POST, auto_id=f"a{approval.pk}-%s")
    if form.is_valid():
        action = form.cleaned_data["action"]
        try:
            services.approval_decide(actor=request.user, approval=approval, action=action, comment=form.cleaned_data["comment"])
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(
                request,
                _("The decision on %(ref)s was %(done)s.") % {"ref": approval.record.case.reference, "done": DONE[action]},
            )
            return redirect("approvals:inbox")
    return _inbox(request, failed=approval, failed_form=form, status=400)
