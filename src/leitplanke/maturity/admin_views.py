"""Settings › the recommendation library of the maturity check and the contact requests
left on the public check (maturity.manage). Every change goes through the services and is
audited."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from leitplanke.accounts.decorators import require_capability
from leitplanke.accounts.permissions import MANAGE_MATURITY
from leitplanke.core.errors import NotFound
from leitplanke.core.forms import attempt
from leitplanke.core.pagination import InvalidCursor, keyset_page

from . import presentation, selectors, services
from .forms import RecommendationForm

PAGE_SIZE = 50
FIELDS = list(RecommendationForm.base_fields)


@login_required
@require_capability(MANAGE_MATURITY)
def recommendation_list(request: HttpRequest) -> HttpResponse:
    try:
        page = keyset_page(
            selectors.recommendation_list(actor=request.user),
            ordering=["dimension", "priority", "key", "id"],
            cursor=request.GET.get("cursor") or None,
            limit=PAGE_SIZE,
        )
    except InvalidCursor:
        return HttpResponseBadRequest(_("The page link is not valid. Start again from the first page."))
    language = (get_language() or "de")[:2]
    for row in page.items:
        row.dimension_name = presentation.dimension_name(row.dimension, language)  # type: ignore[attr-defined]
        names = [presentation.level_view(level, language).name for level in row.levels]
        row.level_names = names  # type: ignore[attr-defined]
    next_url = "?" + urlencode({"cursor": page.next_cursor}) if page.next_cursor else ""
    return render(request, "maturity/settings/recommendation_list.html", {"page": page, "next_url": next_url})


@login_required
@require_capability(MANAGE_MATURITY)
@require_http_methods(["GET", "POST"])
def recommendation_create(request: HttpRequest) -> HttpResponse:
    form = RecommendationForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and attempt(form, lambda: services.recommendation_create(actor=request.user, **form.cleaned_data))
    ):
        messages.success(request, _("The recommendation was added to the library."))
        return redirect("maturity_settings:recommendations")
    status = 400 if request.method == "POST" else 200
    return render(request, "maturity/settings/recommendation_form.html", {"form": form, "creating": True}, status=status)


@login_required
@require_capability(MANAGE_MATURITY)
@require_http_methods(["GET", "POST"])
def recommendation_edit(request: HttpRequest, recommendation_id: int) -> HttpResponse:
    try:
        recommendation = selectors.recommendation_get(actor=request.user, recommendation_id=recommendation_id)
    except NotFound:
        raise Http404 from None
    form = RecommendationForm(request.POST or None, initial={field: getattr(recommendation, field) for field in FIELDS})

    def save() -> object:
        return services.recommendation_update(actor=request.user, recommendation=recommendation, **form.cleaned_data)

    if request.method == "POST" and form.is_valid() and attempt(form, save):
        messages.success(request, _("The recommendation was saved."))
        return redirect("maturity_settings:recommendations")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "recommendation": recommendation}
    return render(request, "maturity/settings/recommendation_form.html", context, status=status)


@login_required
@require_capability(MANAGE_MATURITY)
def contact_list(request: HttpRequest) -> HttpResponse:
    """Respondents of the public check who asked to be contacted, newest consent first."""
    try:
        page = keyset_page(
            selectors.contact_requests(actor=request.user),
            ordering=["-contact_consent_at", "-id"],
            cursor=request.GET.get("cursor") or None,
            limit=PAGE_SIZE,
        )
    except InvalidCursor:
        return HttpResponseBadRequest(_("The page link is not valid. Start again from the first page."))
    language = (get_language() or "de")[:2]
    for row in page.items:
        row.level_name = presentation.level_view(row.level, language).name if row.level else ""  # type: ignore[attr-defined]
    next_url = "?" + urlencode({"cursor": page.next_cursor}) if page.next_cursor else ""
    return render(request, "maturity/settings/contact_list.html", {"page": page, "next_url": next_url})


@login_required
@require_capability(MANAGE_MATURITY)
@require_POST
def contact_erase(request: HttpRequest, assessment_id: int) -> HttpResponse:
    try:
        services.assessment_contact_erase(actor=request.user, assessment_id=assessment_id)
    except NotFound:
        raise Http404 from None
    messages.success(request, _("The contact details were erased. The anonymous answers remain."))
    return redirect("maturity_settings:contacts")
