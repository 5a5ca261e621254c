"""Public pages: the complaint form, its confirmation, the customer's status page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.clickjacking import xframe_options_exempt

from leitplanke.core.errors import DomainError, NotFound, RateLimited
from leitplanke.core.forms import apply_domain_error
from leitplanke.core.middleware import client_ip

from . import public
from .public_forms import PublicComplaintForm, StatusMessageForm


def embeddable(view: Callable[..., HttpResponse]) -> Callable[..., Any]:
    """Lets the organisation's own sites frame the form (LEITPLANKE_FORM_FRAME_ANCESTORS)."""
    ancestors = list(getattr(settings, "LEITPLANKE_FORM_FRAME_ANCESTORS", []))
    if not ancestors:
        return view
    from csp.decorators import csp_update

    return xframe_options_exempt(csp_update({"frame-ancestors": ancestors})(view))


def _rate_limited(request: HttpRequest, error: RateLimited) -> HttpResponse:
    response = render(request, "intake/public/rate_limited.html", status=429)
    response["Retry-After"] = str(error.retry_after)
    return response


@embeddable
def complaint_form(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        form = PublicComplaintForm(initial={"started": public.form_started_token()})
        return render(request, "intake/public/form.html", {"form": form})
    form = PublicComplaintForm(request.POST, request.FILES)
    try:
        public.check_rate(client_ip(request), scope="form", per_hour=public.SUBMISSIONS_PER_HOUR)
    except RateLimited as error:
        return _rate_limited(request, error)
    if form.is_valid():
        data = form.cleaned_data
        try:
            public.check_not_a_bot(honeypot=data["website"], started_token=data["started"])
            submitted = public.public_complaint_submit(
                public.PublicSubmission(
                    case_type=data["case_type"],
                    subject=data["subject"],
                    description=data["description"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    email=data["email"],
                    phone=data["phone"],
                    customer_number=data["customer_number"],
                    language=(get_language() or "de")[:2],
                    files=data["attachments"],
                )
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            return redirect("public:thanks", token=submitted.status_token)
    # Keep what was typed, but give the timing check a fresh start.
    data = request.POST.copy()
    data["started"] = public.form_started_token()
    form.data = data
    return render(request, "intake/public/form.html", {"form": form}, status=400)


def _access(request: HttpRequest, token: str) -> public.status_links.StatusAccess | HttpResponse:
    try:
        return public.status_access(token)
    except NotFound:
        return render(request, "errors/404.html", status=404)
    except public.status_links.StatusLinkExpired:
        return render(request, "intake/public/expired.html", status=410)


@embeddable
def complaint_thanks(request: HttpRequest, token: str) -> HttpResponse:
    access = _access(request, token)
    if isinstance(access, HttpResponse):
        return access
    status_url = request.build_absolute_uri(reverse("public:status", args=[token]))
    context = {"case": access.case, "status_url": status_url, "unconfirmed": access.is_submitter_view}
    return render(request, "intake/public/thanks.html", context)


def contact_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the confirmation e-mail: GET asks (mail scanners open links), POST confirms."""
    try:
        contact = public.contact_for_confirm_token(token)
    except NotFound:
        return render(request, "errors/404.html", status=404)
    context: dict[str, Any] = {"case": contact.case, "confirmed": contact.confirmed_at is not None}
    if request.method == "POST":
        try:
            public.check_rate(client_ip(request), scope="confirm", per_hour=public.STATUS_MESSAGES_PER_HOUR)
        except RateLimited as error:
            return _rate_limited(request, error)
        try:
            case = public.public_contact_confirm(actor=None, contact=contact)
        except DomainError:
            return render(request, "errors/404.html", status=404)
        context.update(confirmed=True, status_url=public.status_links.status_url(case))
    return render(request, "intake/public/confirm.html", context)


def status_page(request: HttpRequest, token: str) -> HttpResponse:
    access = _access(request, token)
    if isinstance(access, HttpResponse):
        return access
    case, contact = access.case, access.contact
    form = StatusMessageForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        try:
            public.check_rate(client_ip(request), scope="status", per_hour=public.STATUS_MESSAGES_PER_HOUR)
        except RateLimited as error:
            return _rate_limited(request, error)
        if form.is_valid():
            try:
                public.public_message_add(
                    case=case, text=form.cleaned_data["message"], files=form.cleaned_data["attachments"], contact=contact
                )
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                return redirect(f"{reverse('public:status', args=[token])}?sent=1")
        status = 400
    context: dict[str, Any] = {
        "case": case,
        "form": form,
        "status_label": public.public_status_label(case, get_language() or "de"),
        "messages_shown": public.public_timeline(case, contact=contact),
        "sent": request.GET.get("sent") == "1",
        "submitter_view": contact is not None,
    }
    return render(request, "intake/public/status.html", context, status=status)


def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/public/privacy.html")
