"""The maturity check inside the app: taking it as a logged-in user, results with the
evidence of Leitplanke's own data, campaigns with invitation links per group, and roadmaps.

Thin views: services write (and audit), selectors read and check what the user may see.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from leitplanke.core.errors import DomainError, NotFound, PermissionDenied
from leitplanke.core.forms import attempt
from leitplanke.core.pagination import InvalidCursor, keyset_page

from . import exports, flow_views, pdf, permissions, presentation, selectors, services
from .engine import scoring
from .engine.model import DIMENSION_KEYS, DIMENSIONS
from .forms import CampaignForm, RoadmapForm, RoadmapItemForm

PAGE_SIZE = 25


def _get(getter: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return getter(**kwargs)
    except NotFound:
        raise Http404 from None
    except PermissionDenied:
        raise Forbidden from None


def _page(request: HttpRequest, queryset: Any, ordering: list[str]) -> Any:
    return keyset_page(queryset, ordering=ordering, cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE)


def _next_url(page: Any) -> str:
    return "?" + urlencode({"cursor": page.next_cursor}) if page.next_cursor else ""


# --- overview and the in-app check --------------------------------------------------------


@login_required
def index(request: HttpRequest) -> HttpResponse:
    try:
        page = _page(request, selectors.completed_checks(actor=request.user), ["-completed_at", "-id"])
    except InvalidCursor:
        return HttpResponseBadRequest(_("The page link is not valid. Start again from the first page."))
    context = {
        "page": page,
        "next_url": _next_url(page),
        "open_checks": list(selectors.open_checks(actor=request.user)[:5]),
        "may_view": permissions.may_view(request.user),
        "may_manage": permissions.may_manage(request.user),
        "public_url": request.build_absolute_uri(reverse("check:intro")),
    }
    return render(request, "maturity/app/index.html", context)


@login_required
@require_POST
def check_start(request: HttpRequest) -> HttpResponse:
    assessment, _token = services.assessment_start(actor=request.user, language=flow_views.language())
    return redirect("maturity:check_step", assessment_id=assessment.pk, number=1)


def _app_flow(assessment: Any) -> flow_views.Flow:
    names = {
        "step": "maturity:check_step",
        "review": "maturity:check_review",
        "result": "maturity:check",
        "pdf": "maturity:check_pdf",
    }

    def url(name: str, *args: Any) -> str:
        return reverse(names[name], args=[assessment.pk, *args])

    return flow_views.Flow(assessment=assessment, url=url, in_app=True, exit_url=reverse("maturity:index"))


@login_required
@require_http_methods(["GET", "POST"])
def check_step(request: HttpRequest, assessment_id: int, number: int) -> HttpResponse:
    assessment = _get(selectors.own_check_get, actor=request.user, assessment_id=assessment_id)
    return flow_views.step(request, _app_flow(assessment), number)


@login_required
@require_http_methods(["GET", "POST"])
def check_review(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = _get(selectors.own_check_get, actor=request.user, assessment_id=assessment_id)
    return flow_views.review(request, _app_flow(assessment))


def _changes_view(changes: tuple[scoring.Change, ...], language: str) -> list[dict[str, Any]]:
    return [
        {
            "name": DIMENSIONS[change.dimension].name.get(language),
            "before": float(change.before),
            "after": float(change.after),
            "delta": float(change.delta),
            "direction": change.direction,
        }
        for change in changes
    ]


@login_required
def check_result(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = _get(selectors.check_get, actor=request.user, assessment_id=assessment_id)
    flow = _app_flow(assessment)
    if not assessment.is_complete:
        if assessment.owner_id == request.user.pk:
            return flow_views.resume(flow)
        raise Http404
    language = flow_views.language()
    result = selectors.result_of(assessment)
    view = presentation.result_view(result, selectors.recommendation_rules(), language)
    previous = selectors.previous_check(actor=request.user, assessment=assessment)
    kpis = selectors.live_kpis(actor=request.user)
    context = {
        "assessment": assessment,
        "flow": flow,
        "view": view,
        "evidence": selectors.evidence_rows(actor=request.user, result=result, kpis=kpis),
        "previous": previous,
        "changes": _changes_view(scoring.changes(selectors.result_of(previous), result), language) if previous else [],
        "may_manage": permissions.may_manage(request.user),
        "pdf_url": flow.url("pdf"),
    }
    context["evidence"] = _evidence_view(context["evidence"], language)
    return render(request, "maturity/app/check_result.html", context)


def _evidence_view(rows: list[selectors.EvidenceRow], language: str) -> list[dict[str, Any]]:
    from .engine.model import QUESTIONS

    return [
        {
            "number": QUESTIONS[row.item.question].number,
            "question": QUESTIONS[row.item.question].text.get(language),
            "answered": presentation.level_view(row.answered, language).name if row.answered else "–",
            "finding": row.item.finding.get(language),
            "supported": " – ".join(
                dict.fromkeys(presentation.level_view(value, language).name for value in (row.item.lowest, row.item.highest))
            ),
            "comparison": row.comparison,
        }
        for row in rows
    ]


@login_required
def check_pdf(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = _get(selectors.check_get, actor=request.user, assessment_id=assessment_id)
    if not assessment.is_complete:
        raise Http404
    language = flow_views.language()
    view = presentation.result_view(selectors.result_of(assessment), selectors.recommendation_rules(), language)
    return pdf.response(pdf.result_report(view, language=language), f"maturity-check-{assessment.pk}.pdf")


# --- campaigns ----------------------------------------------------------------------------


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    queryset = _get(selectors.campaign_list, actor=request.user)
    try:
        page = _page(request, queryset, ["-created_at", "-id"])
    except InvalidCursor:
        return HttpResponseBadRequest(_("The page link is not valid. Start again from the first page."))
    context = {"page": page, "next_url": _next_url(page), "may_manage": permissions.may_manage(request.user)}
    return render(request, "maturity/app/campaign_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    if not permissions.may_manage(request.user):
        raise Forbidden
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        campaign = attempt(form, lambda: services.campaign_create(actor=request.user, **form.cleaned_data))
        if campaign is not None:
            messages.success(request, _("The campaign was created. Send each group its invitation link."))
            return redirect("maturity:campaign", campaign_id=campaign.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "maturity/app/campaign_form.html", {"form": form, "creating": True}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _get(selectors.campaign_get, actor=request.user, campaign_id=campaign_id)
    if not permissions.may_manage(request.user):
        raise Forbidden
    initial = {field: getattr(campaign, field) for field in ("name", "description", "closes_at", "min_group_size")}
    form = CampaignForm(request.POST or None, initial=initial)
    if (
        request.method == "POST"
        and form.is_valid()
        and attempt(form, lambda: services.campaign_update(actor=request.user, campaign=campaign, **form.cleaned_data))
    ):
        messages.success(request, _("The campaign was saved."))
        return redirect("maturity:campaign", campaign_id=campaign.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "maturity/app/campaign_form.html", {"form": form, "campaign": campaign}, status=status)


def _group_rows(results: selectors.CampaignResults, language: str) -> list[dict[str, Any]]:
    shown = results.shown
    rows = []
    for key in DIMENSION_KEYS:
        rows.append(
            {
                "name": DIMENSIONS[key].name.get(language),
                "cells": [
                    {
                        "score": float(group.result.dimension(key).score),
                        "level": presentation.level_view(group.result.dimension(key).level, language),
                    }
                    for group in shown
                    if group.result is not None
                ],
            }
        )
    return rows


def _gap_texts(results: selectors.CampaignResults, language: str) -> list[str]:
    labels = {group.key: group.label for group in results.groups}
    texts = []
    for gap in results.gaps:
        values = {
            "dimension": DIMENSIONS[gap.dimension].name.get(language),
            "higher": labels[gap.higher_group],
            "lower": labels[gap.lower_group],
            "difference": f"{float(gap.difference):.1f}".replace(".", "," if language == "de" else "."),
        }
        texts.append(_("%(dimension)s: %(higher)s sees it %(difference)s points higher than %(lower)s.") % values)
    return texts


def _campaign_context(request: HttpRequest, campaign: Any) -> dict[str, Any]:
    language = flow_views.language()
    results = selectors.campaign_results(actor=request.user, campaign=campaign)
    context: dict[str, Any] = {
        "campaign": campaign,
        "results": results,
        "invitations": selectors.invitations(actor=request.user, campaign=campaign, base_url=request.build_absolute_uri("/")),
        "may_manage": permissions.may_manage(request.user),
        "group_rows": _group_rows(results, language),
        "gap_texts": _gap_texts(results, language),
        "changes": _changes_view(results.changes, language),
    }
    if results.overall is not None:
        context["view"] = presentation.result_view(results.overall, selectors.recommendation_rules(), language)
        context["group_radar"] = presentation.group_radar(
            {group.key: group.result for group in results.shown if group.result is not None}, language
        )
        kpis = selectors.live_kpis(actor=request.user)
        context["evidence"] = _evidence_view(
            selectors.evidence_rows(actor=request.user, result=results.overall, kpis=kpis), language
        )
    return context


@login_required
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _get(selectors.campaign_get, actor=request.user, campaign_id=campaign_id)
    return render(request, "maturity/app/campaign_detail.html", _campaign_context(request, campaign))


@login_required
def campaign_pdf(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _get(selectors.campaign_get, actor=request.user, campaign_id=campaign_id)
    context = _campaign_context(request, campaign)
    if "view" not in context:
        raise Http404
    language = flow_views.language()
    results = context["results"]
    groups = [
        {"label": group.label, "scores": [f"{float(d.score):.1f}" for d in group.result.dimensions]}
        for group in results.shown
        if group.result is not None
    ]
    content = pdf.result_report(
        context["view"],
        language=language,
        heading=campaign.name,
        groups=groups,
        group_radar=context["group_radar"],
        gaps=context["gap_texts"],
    )
    return pdf.response(content, f"maturity-campaign-{campaign.pk}.pdf")


@login_required
@require_POST
def campaign_close(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _get(selectors.campaign_get, actor=request.user, campaign_id=campaign_id)
    _run(request, lambda: services.campaign_close(actor=request.user, campaign=campaign), _("The campaign was closed."))
    return redirect("maturity:campaign", campaign_id=campaign.pk)


@login_required
@require_POST
def campaign_renew_links(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _get(selectors.campaign_get, actor=request.user, campaign_id=campaign_id)
    _run(
        request,
        lambda: services.campaign_renew_links(actor=request.user, campaign=campaign),
        _("New invitation links were made; the old ones no longer work."),
    )
    return redirect("maturity:campaign", campaign_id=campaign.pk)


def _run(request: HttpRequest, action: Callable[[], Any], success: str) -> Any:
    try:
        result = action()
    except PermissionDenied:
        raise Forbidden from None
    except DomainError as error:
        messages.error(request, str(error.message))
        return None
    messages.success(request, success)
    return result


# --- roadmaps -----------------------------------------------------------------------------


@login_required
def roadmap_list(request: HttpRequest) -> HttpResponse:
    queryset = _get(selectors.roadmap_list, actor=request.user)
    try:
        page = _page(request, queryset, ["-created_at", "-id"])
    except InvalidCursor:
        return HttpResponseBadRequest(_("The page link is not valid. Start again from the first page."))
    return render(request, "maturity/app/roadmap_list.html", {"page": page, "next_url": _next_url(page)})


@login_required
@require_POST
def roadmap_create(request: HttpRequest) -> HttpResponse:
    """Drafts a roadmap from a completed in-app check or a campaign (POST check= or campaign=)."""
    source: dict[str, Any] = {}
    if request.POST.get("check"):
        source["assessment"] = _get(selectors.check_get, actor=request.user, assessment_id=request.POST["check"])
    elif request.POST.get("campaign"):
        source["campaign"] = _get(selectors.campaign_get, actor=request.user, campaign_id=request.POST["campaign"])
    else:
        return HttpResponseBadRequest(_("Choose a check or a campaign to plan from."))
    title = request.POST.get("title") or _("Service roadmap")
    roadmap = _run(
        request,
        lambda: services.roadmap_create(actor=request.user, title=title, language=flow_views.language(), **source),
        _("A draft roadmap was made from the result. Adjust it to your plans."),
    )
    if roadmap is None:
        return redirect(request.META.get("HTTP_REFERER") or reverse("maturity:index"))
    return redirect("maturity:roadmap", roadmap_id=roadmap.pk)


def _quarters(items: list[Any], language: str) -> list[dict[str, Any]]:
    labels = {
        1: _("Quarter 1 – quick wins (first 90 days)"),
        2: _("Quarter 2"),
        3: _("Quarter 3"),
        4: _("Quarter 4"),
    }
    return [{"number": n, "label": labels[n], "items": [item for item in items if item.quarter == n]} for n in (1, 2, 3, 4)]


def _roadmap_context(request: HttpRequest, roadmap: Any) -> dict[str, Any]:
    language = flow_views.language()
    items = selectors.roadmap_items(actor=request.user, roadmap=roadmap)
    now = selectors.kpi_values(actor=request.user)
    baseline = roadmap.baseline.get("kpis", {})
    for item in items:
        # Display values for the template and the exports.
        item.dimension_name = presentation.dimension_name(item.dimension, language)  # type: ignore[attr-defined]
        item.kpi_now = selectors.format_kpi(item.kpi, now.get(item.kpi)) if item.kpi else None  # type: ignore[attr-defined]
        item.kpi_then = selectors.format_kpi(item.kpi, baseline.get(item.kpi)) if item.kpi else None  # type: ignore[attr-defined]
    return {
        "roadmap": roadmap,
        "quarters": _quarters(items, language),
        "may_manage": permissions.may_manage(request.user),
        "item_form": RoadmapItemForm(initial={"quarter": 1, "status": "planned"}),
    }


@login_required
@require_http_methods(["GET", "POST"])
def roadmap_detail(request: HttpRequest, roadmap_id: int) -> HttpResponse:
    roadmap = _get(selectors.roadmap_get, actor=request.user, roadmap_id=roadmap_id)
    form = RoadmapForm(request.POST or None, initial={"title": roadmap.title})
    if request.method == "POST":
        if not permissions.may_manage(request.user):
            raise Forbidden
        if form.is_valid() and attempt(
            form, lambda: services.roadmap_update(actor=request.user, roadmap=roadmap, **form.cleaned_data)
        ):
            messages.success(request, _("The roadmap was saved."))
            return redirect("maturity:roadmap", roadmap_id=roadmap.pk)
    context = {**_roadmap_context(request, roadmap), "form": form}
    return render(request, "maturity/app/roadmap_detail.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def roadmap_item_create(request: HttpRequest, roadmap_id: int) -> HttpResponse:
    roadmap = _get(selectors.roadmap_get, actor=request.user, roadmap_id=roadmap_id)
    if not permissions.may_manage(request.user):
        raise Forbidden
    form = RoadmapItemForm(request.POST or None, initial={"quarter": request.GET.get("quarter", 1), "status": "planned"})
    if (
        request.method == "POST"
        and form.is_valid()
        and attempt(form, lambda: services.roadmap_item_create(actor=request.user, roadmap=roadmap, **form.cleaned_data))
    ):
        messages.success(request, _("The item was added."))
        return redirect("maturity:roadmap", roadmap_id=roadmap.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "maturity/app/roadmap_item_form.html", {"form": form, "roadmap": roadmap, "creating": True}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def roadmap_item_edit(request: HttpRequest, roadmap_id: int, item_id: int) -> HttpResponse:
    roadmap = _get(selectors.roadmap_get, actor=request.user, roadmap_id=roadmap_id)
    item = _get(selectors.roadmap_item_get, actor=request.user, roadmap=roadmap, item_id=item_id)
    if not permissions.may_manage(request.user):
        raise Forbidden
    fields = ("quarter", "horizon", "title", "goal", "owner", "indicator", "kpi", "dimension", "status")
    form = RoadmapItemForm(request.POST or None, initial={field: getattr(item, field) for field in fields})
    if (
        request.method == "POST"
        and form.is_valid()
        and attempt(form, lambda: services.roadmap_item_update(actor=request.user, item=item, **form.cleaned_data))
    ):
        messages.success(request, _("The item was saved."))
        return redirect("maturity:roadmap", roadmap_id=roadmap.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "maturity/app/roadmap_item_form.html", {"form": form, "roadmap": roadmap, "item": item}, status=status)


@login_required
@require_POST
def roadmap_item_delete(request: HttpRequest, roadmap_id: int, item_id: int) -> HttpResponse:
    roadmap = _get(selectors.roadmap_get, actor=request.user, roadmap_id=roadmap_id)
    item = _get(selectors.roadmap_item_get, actor=request.user, roadmap=roadmap, item_id=item_id)
    _run(request, lambda: services.roadmap_item_delete(actor=request.user, item=item), _("The item was removed."))
    return redirect("maturity:roadmap", roadmap_id=roadmap.pk)


def _export_rows(request: HttpRequest, roadmap: Any) -> list[dict[str, Any]]:
    context = _roadmap_context(request, roadmap)
    return [item for quarter in context["quarters"] for item in quarter["items"]]


@login_required
def roadmap_csv(request: HttpRequest, roadmap_id: int) -> HttpResponse:
    roadmap = _get(selectors.roadmap_get, actor=request.user, roadmap_id=roadmap_id)
    return exports.roadmap_csv_response(roadmap, _export_rows(request, roadmap))


@login_required
def roadmap_pdf(request: HttpRequest, roadmap_id: int) -> HttpResponse:
    roadmap = _get(selectors.roadmap_get, actor=request.user, roadmap_id=roadmap_id)
    quarters = _roadmap_context(request, roadmap)["quarters"]
    data = [
        {
            "label": str(quarter["label"]),
            "items": [
                {
                    "title": item.title,
                    "goal": item.goal,
                    "owner": item.owner,
                    "indicator": item.indicator + (f" ({item.get_kpi_display()}: {item.kpi_now})" if item.kpi else ""),
                    "status": item.get_status_display(),
                }
                for item in quarter["items"]
            ],
        }
        for quarter in quarters
    ]
    return pdf.response(
        pdf.roadmap_report(title=roadmap.title, starts_on=roadmap.starts_on, quarters=data), f"roadmap-{roadmap.pk}.pdf"
    )
