"""The public maturity check (no login): /check/ and the invitation links of campaigns.

The resume link is the only credential of an answer set. Starting, answering and leaving
contact details are rate-limited per client; the counter key is a keyed hash of the
address, so not even the counters hold an IP address.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from leitplanke.core import ratelimit
from leitplanke.core.errors import DomainError, NotFound, RateLimited
from leitplanke.core.forms import apply_domain_error
from leitplanke.core.middleware import client_ip

from . import flow_views, links, pdf, selectors, services
from .forms import ContactForm

STARTS_PER_HOUR = 20
ANSWERS_PER_HOUR = 400
CONTACTS_PER_HOUR = 5
WINDOW = 3600


def check_rate(request: HttpRequest, scope: str, per_hour: int) -> None:
    secret = settings.SECRET_KEY.encode("utf-8")
    client = hmac.new(secret, (client_ip(request) or "-").encode("utf-8"), hashlib.sha256).hexdigest()[:32]
    if ratelimit.hit(f"maturity:{scope}:{client}", window_seconds=WINDOW) > per_hour:
        raise RateLimited(retry_after=ratelimit.seconds_until_reset(WINDOW))


def _rate_limited(request: HttpRequest, error: RateLimited) -> HttpResponse:
    response = render(request, "maturity/public/rate_limited.html", status=429)
    response["Retry-After"] = str(error.retry_after)
    return response


def _public_flow(request: HttpRequest, token: str, assessment: Any) -> flow_views.Flow:
    names = {
        "step": "check:step",
        "review": "check:review",
        "result": "check:result",
        "pdf": "check:pdf",
        "contact": "check:contact",
    }

    def url(name: str, *args: Any) -> str:
        return reverse(names[name], args=[token, *args])

    return flow_views.Flow(
        assessment=assessment,
        url=url,
        in_app=False,
        resume_url=request.build_absolute_uri(reverse("check:resume", args=[token])),
        exit_url=reverse("check:intro"),
    )


def with_flow(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Resolves the resume link; a changed or unknown link and an expired one get friendly pages."""

    @wraps(view)
    def wrapped(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            assessment = links.assessment_for_token(token)
        except NotFound:
            return flow_views.invalid(request)
        except links.LinkExpired as error:
            return flow_views.expired(request, error)
        flow = _public_flow(request, token, assessment)
        if request.method == "POST":
            try:
                check_rate(request, "answer", ANSWERS_PER_HOUR)
            except RateLimited as error:
                return _rate_limited(request, error)
        try:
            return view(request, flow, *args, **kwargs)
        except links.LinkExpired as error:
            return flow_views.expired(request, error)

    return never_cache(wrapped)


def _start(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    try:
        check_rate(request, "start", STARTS_PER_HOUR)
    except RateLimited as error:
        return _rate_limited(request, error)
    try:
        _assessment, token = services.assessment_start(language=flow_views.language(), **kwargs)
    except links.LinkExpired as error:
        return flow_views.expired(request, error)
    return redirect("check:step", token=token, number=1)


@require_http_methods(["GET", "POST"])
def intro(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _start(request)
    return render(request, "maturity/public/intro.html")


@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, invitation: str) -> HttpResponse:
    try:
        campaign, group = links.campaign_for_invitation(invitation)
    except NotFound:
        return flow_views.invalid(request)
    except links.LinkExpired as error:
        return flow_views.expired(request, error)
    if request.method == "POST":
        return _start(request, campaign=campaign, group=group)
    context = {"campaign": campaign, "group_label": selectors.group_label(group), "invitation": invitation}
    return render(request, "maturity/public/intro.html", context)


@with_flow
def resume(request: HttpRequest, flow: flow_views.Flow) -> HttpResponse:
    return flow_views.resume(flow)


@with_flow
@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, flow: flow_views.Flow, number: int) -> HttpResponse:
    return flow_views.step(request, flow, number)


@with_flow
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, flow: flow_views.Flow) -> HttpResponse:
    return flow_views.review(request, flow)


@with_flow
@require_http_methods(["GET"])
def result(request: HttpRequest, flow: flow_views.Flow) -> HttpResponse:
    view = flow_views.result_view(flow)
    if view is None:
        return redirect(flow.url("review"))
    form = ContactForm() if flow.assessment.campaign_id is None else None
    return _result_page(request, flow, view, form, status=200)


def _result_page(
    request: HttpRequest, flow: flow_views.Flow, view: Any, form: ContactForm | None, *, status: int
) -> HttpResponse:
    context = {
        "flow": flow,
        "view": view,
        "contact_form": form,
        "contact_saved": bool(flow.assessment.contact_consent_at),
        "pdf_url": flow.url("pdf"),
        "contact_url": flow.url("contact"),
    }
    return render(request, "maturity/public/result.html", context, status=status)


@with_flow
@require_http_methods(["POST"])
def contact(request: HttpRequest, flow: flow_views.Flow) -> HttpResponse:
    view = flow_views.result_view(flow)
    if view is None:
        return redirect(flow.url("review"))
    try:
        check_rate(request, "contact", CONTACTS_PER_HOUR)
    except RateLimited as error:
        return _rate_limited(request, error)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            services.assessment_contact(assessment=flow.assessment, **form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            return redirect(flow.url("result") + "#contact")
    return _result_page(request, flow, view, form, status=400)


@with_flow
@require_http_methods(["GET"])
def report(request: HttpRequest, flow: flow_views.Flow) -> HttpResponse:
    view = flow_views.result_view(flow)
    if view is None:
        return redirect(flow.url("review"))
    return pdf.response(pdf.result_report(view, language=flow_views.language()), "maturity-check.pdf")
