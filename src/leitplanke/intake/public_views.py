"""Public pages: the complaint form, its confirmation, the customer's status page."""

from __future__ import annotations

import re
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
    """How the form is shown: on its own page, or inside another site's page (embed); for
    the organisation, or for one of its brands (`brand`: its id and short name)."""

    embed: bool = False
    brand_id: int | None = None
    brand_slug: str = ""

    @property
    def base_template(self) -> str:
        return "public_embed.html" if self.embed else "public_base.html"

    def thanks_url(self, token: str) -> str:
        if self.brand_slug:
            name = "brand:embed_thanks" if self.embed else "brand:thanks"
            return reverse(name, args=[self.brand_slug, token])
        return reverse("public:embed_thanks" if self.embed else "public:thanks", args=[token])

    def for_brand(self, brand: Any) -> Variant:
        return Variant(embed=self.embed, brand_id=brand.pk, brand_slug=brand.slug)


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
        form = PublicComplaintForm(initial={"started": public.form_started_token()}, brand_id=variant.brand_id)
        return render(request, "intake/public/form.html", {**context, "form": form})
    form = PublicComplaintForm(request.POST, request.FILES, brand_id=variant.brand_id)
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
                        brand_id=variant.brand_id,
                    )
                )
            except BaseException as error:
                allowance.give_back()  # not accepted: it does not count
                if not isinstance(error, DomainError):
                    raise
                apply_domain_error(form, error)
            else:
                return redirect(variant.thanks_url(submitted.status_token) + query)
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


def _access(request: HttpRequest, token: str) -> public.status_links.StatusAccess | HttpResponse:
    """The case (and, while unconfirmed, the submitter's contact) a status link opens; a
    404 page for an unknown or forged link, a 410 page for an expired or revoked one."""
    try:
        return public.status_access(token)
    except NotFound:
        return render(request, "errors/404.html", status=404)
    except public.status_links.StatusLinkExpired:
        context = {"branding": account_selectors.public_branding()}
        return render(request, "intake/public/expired.html", context, status=410)


def _thanks_page(request: HttpRequest, token: str, variant: Variant, branding: PublicBranding) -> HttpResponse:
    access = _access(request, token)
    if isinstance(access, HttpResponse):
        return access
    status_url = request.build_absolute_uri(reverse("public:status", args=[token]))
    context = {
        "case": access.case,
        "status_url": status_url,
        "unconfirmed": access.is_submitter_view,
        "base_template": variant.base_template,
        "embed": variant.embed,
    }
    return render(request, "intake/public/thanks.html", {**context, "branding": branding})


def contact_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the confirmation e-mail: GET asks (mail scanners open links), POST confirms."""
    try:
        contact = public.contact_for_confirm_token(token)
    except NotFound:
        return render(request, "errors/404.html", status=404)
    context: dict[str, Any] = {"case": contact.case, "confirmed": contact.confirmed_at is not None}
    context["branding"] = _case_branding(contact.case)
    if request.method == "POST":
        try:
            public.check_rate(client_ip(request), scope="confirm", per_hour=public.ACCEPTED_PER_ADDRESS_PER_HOUR)
        except RateLimited as error:
            response = render(request, "intake/public/confirm.html", {**context, "limited": True}, status=429)
            response["Retry-After"] = str(error.retry_after)
            return response
        try:
            case = public.public_contact_confirm(actor=None, contact=contact)
        except DomainError:
            return render(request, "errors/404.html", status=404)
        context.update(confirmed=True, status_url=public.status_links.status_url(case))
    return render(request, "intake/public/confirm.html", context)


@require_http_methods(["GET", "POST"])
def complaint_form(request: HttpRequest) -> HttpResponse:
    return _form_page(request, STANDALONE, account_selectors.public_branding())


@csrf_exempt  # a cookie does not reach a third-party frame; the signed form token stands in (ADR 0012)
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
    access = _access(request, token)
    if isinstance(access, HttpResponse):
        return access
    case, contact = access.case, access.contact
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
                    case=case, text=form.cleaned_data["message"], files=form.cleaned_data["attachments"], contact=contact
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
        "messages_shown": public.public_timeline(case, contact=contact),
        "submitter_view": contact is not None,
        "sent": request.GET.get("sent") == "1",
        "limit": _limit_notice(limited) if limited is not None else None,
        "branding": _case_branding(case),
    }
    response = render(request, "intake/public/status.html", context, status=status)
    if limited is not None:
        response["Retry-After"] = str(limited.retry_after)
    return response


def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/public/privacy.html")


# --- a brand's public form: /public/<slug>/ ----------------------------------------------------


def _brand(slug: str) -> tuple[Any, PublicBranding]:
    try:
        brand = account_selectors.brand_for_public(slug)
    except NotFound:
        raise Http404 from None
    return brand, account_selectors.brand_branding(brand)


@require_http_methods(["GET", "POST"])
def brand_form(request: HttpRequest, brand: str) -> HttpResponse:
    found, branding = _brand(brand)
    return _form_page(request, STANDALONE.for_brand(found), branding)


@csrf_exempt  # as complaint_form_embed
@require_http_methods(["GET", "POST"])
def brand_form_embed(request: HttpRequest, brand: str) -> HttpResponse:
    found, branding = _brand(brand)
    query = _embed_language(request)
    return _framable(_form_page(request, EMBED.for_brand(found), branding, query), branding)


def brand_thanks(request: HttpRequest, brand: str, token: str) -> HttpResponse:
    found, branding = _brand(brand)
    return _thanks_page(request, token, STANDALONE.for_brand(found), branding)


def brand_thanks_embed(request: HttpRequest, brand: str, token: str) -> HttpResponse:
    found, branding = _brand(brand)
    _embed_language(request)
    return _framable(_thanks_page(request, token, EMBED.for_brand(found), branding), branding)


def brand_logo(request: HttpRequest, brand: str) -> HttpResponse:
    found = account_selectors.brand_logo(brand)
    if found is None:
        raise Http404
    return _image_response(request, *found)


def brand_css(request: HttpRequest, brand: str) -> HttpResponse:
    """The brand's colour as a style sheet (the CSP allows no inline styles); the colour is
    checked as #rrggbb when saved. An accent line, so the header text keeps its contrast."""
    _found, branding = _brand(brand)
    colour = branding.colour if re.fullmatch(r"#[0-9a-f]{6}", branding.colour or "") else "#f0b429"
    css = (
        f".topbar {{ border-bottom: 6px solid {colour}; }}\n"
        f".page-public h1 {{ border-left: 6px solid {colour}; padding-left: .5rem; }}\n"
    )
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def _case_branding(case: Any) -> PublicBranding:
    """The status page in the look of the brand the customer wrote to, if any."""
    from . import selectors

    identity = selectors.sending_identity(case)
    brand = account_selectors.brand_active(identity.brand_id) if identity.brand_id else None
    return account_selectors.brand_branding(brand) if brand is not None else account_selectors.public_branding()
