"""Consistency analytics and the what-if simulation: thin views over analytics_selectors and
simulation_services (authorisation lives there; the decorators only keep others out early)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from leitplanke.accounts.decorators import require_capability
from leitplanke.accounts.permissions import LEAD_TEAM, MANAGE_PROCESSES, VIEW_QUALITY
from leitplanke.core.errors import NotFound, PermissionDenied
from leitplanke.core.forms import attempt
from leitplanke.core.pagination import InvalidCursor, keyset_page

from . import analytics_selectors as selectors
from . import simulation_services
from .analytics_forms import ConsistencyFilterForm, SimulationForm, default_period
from .whatif import CHANGES

PAGE_SIZE = 50
GROUPS_SHOWN = 25  # the largest groups of similar cases; the rest through the filters
PLOT_WIDTH = 240
FILTER_FIELDS = ("start", "end", "kind", "currency", "category", "product", "segment", "team")


def _lang() -> str:
    return (get_language() or "de")[:2]


def _filter_form(request: HttpRequest) -> ConsistencyFilterForm:
    data = request.GET.copy()
    first, last = default_period()
    data.setdefault("start", first)
    data.setdefault("end", last)
    data.setdefault("kind", "goodwill")
    data.setdefault("currency", "EUR")
    return ConsistencyFilterForm(data, choices=selectors.filter_choices(actor=request.user))


def _box(spread: Any, scale: Decimal) -> dict[str, float] | None:
    """Where the box plot's marks lie, in SVG units (0 … PLOT_WIDTH), on the page's common scale."""
    if spread is None:
        return None
    top = float(scale) or 1.0
    inner = PLOT_WIDTH - 8

    def x(value: Decimal) -> float:
        return round(4 + inner * float(value) / top, 1)

    return {
        "min": x(spread.minimum),
        "q1": x(spread.q1),
        "median": x(spread.median),
        "q3": x(spread.q3),
        "max": x(spread.maximum),
        "box_width": max(round(x(spread.q3) - x(spread.q1), 1), 1.0),
    }


def _drill(base: dict[str, str], key: dict[str, str]) -> str:
    return reverse("decisions_analytics:records") + "?" + urlencode({**base, **key})


@login_required
@require_capability(VIEW_QUALITY, LEAD_TEAM)
@require_GET
def consistency(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    context: dict[str, Any] = {"form": form, "plot_width": PLOT_WIDTH}
    if form.is_valid():
        flt = form.to_filter()
        try:
            result = selectors.consistency(actor=request.user, flt=flt, lang=_lang())
        except PermissionDenied:
            raise Forbidden from None
        base = {name: str(form.cleaned_data.get(name) or "") for name in FILTER_FIELDS}
        base["start"], base["end"] = flt.start.strftime("%Y-%m"), flt.end.strftime("%Y-%m")
        base = {name: value for name, value in base.items() if value}
        for rows in (result.groups, result.teams, result.agents, result.months):
            for row in rows:
                row.plot = {"box": _box(row.spread, result.scale_max), "url": _drill(base, row.key)}
        kinds = dict(form.fields["kind"].choices)  # type: ignore[attr-defined]
        context.update(
            result=result,
            all_url=_drill(base, {}),
            scale_max=result.scale_max,
            kind_label=kinds.get(flt.kind, flt.kind),
            groups=result.groups[:GROUPS_SHOWN],
            groups_hidden=max(len(result.groups) - GROUPS_SHOWN, 0),
        )
    return render(request, "decisions/consistency.html", context)


@login_required
@require_capability(VIEW_QUALITY, LEAD_TEAM)
@require_GET
def records(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    if not form.is_valid():
        return render(request, "decisions/consistency_records.html", {"form": form}, status=400)
    try:
        queryset = selectors.consistency_drilldown(actor=request.user, flt=form.to_filter())
        page = keyset_page(queryset, ordering=["-decided_at", "-id"], cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE)
    except InvalidCursor:
        return HttpResponseBadRequest(_("The page link is not valid. Start again from the first page."))
    except PermissionDenied:
        raise Forbidden from None
    params = request.GET.copy()
    params.pop("cursor", None)
    next_url = (
        "?" + urlencode({**{name: str(value) for name, value in params.items()}, "cursor": page.next_cursor})
        if page.next_cursor
        else ""
    )
    back = (
        reverse("decisions_analytics:consistency")
        + "?"
        + urlencode({name: str(params[name]) for name in FILTER_FIELDS if params.get(name)})
    )
    return render(
        request,
        "decisions/consistency_records.html",
        {"form": form, "page": page, "next_url": next_url, "back_url": back, "filter": form.to_filter()},
    )


# --- what-if simulation ------------------------------------------------------------------------


def _table_choices(request: HttpRequest) -> list[tuple[str, str]]:
    return [
        (str(table.pk), f"{table.name(_lang())} · v{table.version} ({table.get_status_display()})")
        for table in selectors.simulation_tables(actor=request.user)
    ]


@login_required
@require_capability(MANAGE_PROCESSES)
@require_http_methods(["GET", "POST"])
def simulations(request: HttpRequest) -> HttpResponse:
    tables = _table_choices(request)
    if request.method == "POST":
        form = SimulationForm(request.POST, tables=tables)
        if form.is_valid():
            data = form.cleaned_data
            simulation = attempt(
                form,
                lambda: simulation_services.simulation_start(
                    actor=request.user, table_id=int(data["table"]), start=data["start"], end=data["end"]
                ),
            )
            if simulation is not None:
                messages.success(request, _("The simulation has started."))
                return redirect("decisions_analytics:simulation", simulation.pk)
    else:
        start, _end = default_period()
        initial = {"start": f"{start}-01", "end": _today_text()}
        if request.GET.get("table") in {value for value, _label in tables}:
            initial["table"] = request.GET["table"]
        form = SimulationForm(initial=initial, tables=tables)
    recent = list(selectors.simulation_list(actor=request.user)[:20])
    return render(request, "decisions/simulations.html", {"form": form, "simulations": recent})


def _today_text() -> str:
    from django.utils import timezone

    return timezone.localdate().isoformat()


@login_required
@require_capability(MANAGE_PROCESSES)
@require_GET
def simulation(request: HttpRequest, simulation_id: int) -> HttpResponse:
    try:
        run = selectors.simulation_get(actor=request.user, simulation_id=simulation_id)
    except NotFound:
        raise Http404 from None
    except PermissionDenied:
        raise Forbidden from None
    result = run.result or {}
    counts = result.get("counts", {})
    labels = selectors.result_labels()
    for row in [*result.get("segments", []), *result.get("totals", [])]:
        row["segment_label"] = labels["segment"].get(row.get("segment", ""), row.get("segment", ""))
        row["kind_label"] = labels["kind"].get(row["kind"], row["kind"])
    seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at and run.started_at else None
    context = {
        "run": run,
        "active": selectors.simulation_is_active(run),
        "percent": int(100 * run.progress / run.total) if run.total else 0,
        "seconds": seconds,
        "result": result,
        "changes": [(name, counts.get(name, 0), result.get("examples", {}).get(name, [])) for name in CHANGES],
    }
    template = "decisions/_simulation_status.html" if request.htmx else "decisions/simulation.html"  # type: ignore[attr-defined]
    return render(request, template, context)
