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


def _limit_notice(error: RateLimited) -> dict[str, Any]:
    """What the page says when a limit applies: which one, and when to try again."""
    return {"scope": error.extra.get("limit", ""), "minutes": max(1, (error.retry_after + 59) // 60)}


@embeddable
def complaint_form(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        form = PublicComplaintForm(initial={"started": public.form_started_token()})
        return render(request, "intake/public/form.html", {"form": form})
    form = PublicComplaintForm(request.POST, request.FILES)
    ip = client_ip(request)
    limited: RateLimited | None = None
    try:
        public.check_rate(ip, scope="form-attempts", per_hour=public.ATTEMPTS_PER_ADDRESS_PER_HOUR)
    except RateLimited as error:
        limited = error
    if limited is None and form.is_valid():
        data = form.cleaned_data
        try:
            public.check_not_a_bot(honeypot=data["website"], started_token=data["started"])
            allowance = public.submission_allowance(ip=ip, email=data["email"])
        except RateLimited as error:
            limited = error
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            try:
                case = public.public_complaint_submit(
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
            except BaseException as error:
                allowance.give_back()  # not accepted: it does not count
                if not isinstance(error, DomainError):
                    raise
                apply_domain_error(form, error)
            else:
                return redirect("public:thanks", token=public.status_link_token(case))
    # Keep what was typed, but give the timing check a fresh start.
    data = request.POST.copy()
    data["started"] = public.form_started_token()
    form.data = data
    if limited is not None:
        context = {"form": form, "limit": _limit_notice(limited)}
        response = render(request, "intake/public/form.html", context, status=429)
        response["Retry-After"] = str(limited.retry_after)
        return response
    return render(request, "intake/public/form.html", {"form": form}, status=400)


@embeddable
def complaint_thanks(request: HttpRequest, token: str) -> HttpResponse:
    try:
        case = public.case_for_status_token(token)
    except NotFound:
        return render(request, "errors/404.html", status=404)
    status_url = request.build_absolute_uri(reverse("public:status", args=[token]))
    return render(request, "intake/public/thanks.html", {"case": case, "status_url": status_url})


def status_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        case = public.case_for_status_token(token)
    except NotFound:
        return render(request, "errors/404.html", status=404)
    form = StatusMessageForm(request.POST or None, request.FILES or None)
    status = 200
    limited: RateLimited | None = None
    if request.method == "POST":
        try:
            public.check_rate(client_ip(request), scope="status-attempts", per_hour=public.ATTEMPTS_PER_ADDRESS_PER_HOUR)
        except RateLimited as error:
            limited = error
        if limited is None and form.is_valid():
            try:
                public.public_message_add_limited(
                    case=case, text=form.cleaned_data["message"], files=form.cleaned_data["attachments"]
                )
            except RateLimited as error:
                limited = error
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                return redirect(f"{reverse('public:status', args=[token])}?sent=1")
        status = 429 if limited is not None else 400
    context: dict[str, Any] = {
        "case": case,
        "form": form,
        "status_label": public.public_status_label(case, get_language() or "de"),
        "messages_shown": public.public_timeline(case),
        "sent": request.GET.get("sent") == "1",
        "limit": _limit_notice(limited) if limited is not None else None,
    }
    response = render(request, "intake/public/status.html", context, status=status)
    if limited is not None:
        response["Retry-After"] = str(limited.retry_after)
    return response


def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/public/privacy.html")
