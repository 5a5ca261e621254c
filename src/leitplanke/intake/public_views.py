"""Public pages: the complaint form, its confirmation, the customer's status page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from leitplanke.accounts import selectors as account_selectors
from leitplanke.accounts.selectors import PublicBranding
from leitplanke.core.errors import DomainError, NotFound, RateLimited
from leitplanke.core.forms import apply_domain_error
from leitplanke.core.middleware import client_ip

from . import public
from .public_forms import PublicComplaintForm, StatusMessageForm


@dataclass(frozen=True)
class Variant:
    """How the form is shown: on its own page, or inside another site's page (embed)."""

    embed: bool = False

    @property
    def base_template(self) -> str:
        return "public_embed.html" if self.embed else "public_base.html"

    @property
    def thanks_route(self) -> str:
        return "public:embed_thanks" if self.embed else "public:thanks"


STANDALONE = Variant()
EMBED = Variant(embed=True)


def frame_ancestors(branding: PublicBranding) -> list[str]:
    """The sites that may frame the embed pages: the organisation's setting plus
    LEITPLANKE_FORM_FRAME_ANCESTORS (validated origins, so nothing can be injected)."""
    configured = list(getattr(settings, "LEITPLANKE_FORM_FRAME_ANCESTORS", []))
    return list(dict.fromkeys([*branding.frame_ancestors, *configured]))


def _framable(response: HttpResponse, branding: PublicBranding) -> HttpResponse:
    ancestors = frame_ancestors(branding)
    if ancestors:
        response._csp_replace = {"frame-ancestors": ancestors}  # type: ignore[attr-defined]
        response.xframe_options_exempt = True  # type: ignore[attr-defined]
    return response


def _embed_language(request: HttpRequest) -> str:
    """The embedding page chooses the language with ?lang=de|en (a cookie set by the
    language switch would be a third-party cookie inside the frame)."""
    lang = request.GET.get("lang", "")
    if lang in ("de", "en"):
        translation.activate(lang)
        request.LANGUAGE_CODE = lang
        return f"?lang={lang}"
    return ""


def _limit_notice(error: RateLimited) -> dict[str, Any]:
    """What the page says when a limit applies: which one, and when to try again."""
    return {"scope": error.extra.get("limit", ""), "minutes": max(1, (error.retry_after + 59) // 60)}


def _form_page(request: HttpRequest, variant: Variant, branding: PublicBranding, query: str = "") -> HttpResponse:
    context: dict[str, Any] = {"base_template": variant.base_template, "embed": variant.embed, "branding": branding}
    if request.method != "POST":
        form = PublicComplaintForm(initial={"started": public.form_started_token()})
        return render(request, "intake/public/form.html", {**context, "form": form})
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
            # The signed start time is also the embed form's token against forged posts:
            # only a form this server handed out in the last hours carries a valid one.
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
                return redirect(reverse(variant.thanks_route, args=[public.status_link_token(case)]) + query)
    # Keep what was typed, but give the timing check a fresh start.
    data = request.POST.copy()
    data["started"] = public.form_started_token()
    form.data = data
    if limited is not None:
        response = render(
            request, "intake/public/form.html", {**context, "form": form, "limit": _limit_notice(limited)}, status=429
        )
        response["Retry-After"] = str(limited.retry_after)
        return response
    return render(request, "intake/public/form.html", {**context, "form": form}, status=400)


def _thanks_page(request: HttpRequest, token: str, variant: Variant, branding: PublicBranding) -> HttpResponse:
    try:
        case = public.case_for_status_token(token)
    except NotFound:
        return render(request, "errors/404.html", status=404)
    status_url = request.build_absolute_uri(reverse("public:status", args=[token]))
    context = {"case": case, "status_url": status_url, "base_template": variant.base_template, "embed": variant.embed}
    return render(request, "intake/public/thanks.html", {**context, "branding": branding})


@require_http_methods(["GET", "POST"])
def complaint_form(request: HttpRequest) -> HttpResponse:
    return _form_page(request, STANDALONE, account_selectors.public_branding())


@csrf_exempt  # a cookie does not reach a third-party frame; the signed form token stands in (ADR)
@require_http_methods(["GET", "POST"])
def complaint_form_embed(request: HttpRequest) -> HttpResponse:
    branding = account_selectors.public_branding()
    query = _embed_language(request)
    return _framable(_form_page(request, EMBED, branding, query), branding)


def complaint_thanks(request: HttpRequest, token: str) -> HttpResponse:
    return _thanks_page(request, token, STANDALONE, account_selectors.public_branding())


def complaint_thanks_embed(request: HttpRequest, token: str) -> HttpResponse:
    branding = account_selectors.public_branding()
    _embed_language(request)
    return _framable(_thanks_page(request, token, EMBED, branding), branding)


def logo(request: HttpRequest) -> HttpResponse:
    """The organisation's logo (PNG or JPEG, checked on upload), from the database."""
    found = account_selectors.organisation_logo()
    if found is None:
        raise Http404
    return _image_response(request, *found)


def _image_response(request: HttpRequest, content: bytes, content_type: str, sha256: str) -> HttpResponse:
    etag = f'"{sha256[:32]}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(content, content_type=content_type)
    response["ETag"] = etag
    response["Content-Disposition"] = "inline"
    # Versioned URLs (?v=<hash>) may be cached for long; the bare URL is revalidated.
    response["Cache-Control"] = "public, max-age=31536000, immutable" if request.GET.get("v") else "no-cache"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


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
