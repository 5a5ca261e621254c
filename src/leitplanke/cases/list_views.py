"""The case list at /cases/: filters, full-text search, sorting, keyset pages, saved views,
bulk actions and export. Thin views: list_selectors read, list_services write.

Filtering is a plain GET form (works without JavaScript); htmx swaps only the results
partial when a filter changes, and the form with the results when the case type changes
(its custom fields are the "Additional fields" inputs). A page costs the same fixed number
of queries at any size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language, gettext_lazy, pgettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from leitplanke.accounts.permissions import (
    EDIT_CASES,
    EXPORT_CASES,
    VIEW_ALL_CASES,
    VIEW_TEAM_CASES,
    can_save_views,
    has_capability,
)
from leitplanke.core import errors
from leitplanke.core.forms import Form
from leitplanke.core.pagination import InvalidCursor
from leitplanke.core.text import multi_fields
from leitplanke.processes.selectors import state_labels, transition_labels

from . import export, list_rows, list_selectors, list_services, selectors
from .forms import PlainSelect

SORT_CHOICES = [
    ("received_desc", gettext_lazy("Newest first")),
    ("received_asc", gettext_lazy("Oldest first")),
    ("priority", gettext_lazy("Priority")),
    ("updated", gettext_lazy("Recently updated")),
    ("due", gettext_lazy("Next due first")),
]


def deadline_mark(case: Any, now: dt.datetime) -> str:
    """ "overdue" or "at_risk" from the case's earliest running deadline clock, or ""."""
    if case.next_due_at < now:
        return "overdue"
    if case.next_warn_at is not None and case.next_warn_at <= now:
        return "at_risk"
    return ""


DEADLINE_CHOICES = [
    ("overdue", gettext_lazy("Overdue")),
    ("at_risk", gettext_lazy("At risk")),
    ("running", gettext_lazy("Deadline running")),
]
# The element holding the filter form and the results: changing the case type swaps both,
# because the form's custom-field inputs depend on it (other filters swap only the results).
FILTER_AREA_ID = "case-list"


def _require_list(request: HttpRequest) -> None:
    if not (has_capability(request.user, VIEW_ALL_CASES) or has_capability(request.user, VIEW_TEAM_CASES)):
        raise PermissionDenied


class Choices:
    """The option lists of the page, each read at most once per request and only if shown."""

    def __init__(self, user: Any):
        self.user = user

    @cached_property
    def case_types(self) -> list[tuple[str, str]]:
        return [(t.key, t.label) for t in selectors.active_case_types()]

    @cached_property
    def teams(self) -> list[tuple[str, str]]:
        return [(str(pk), name) for pk, name in list_selectors.team_choices()]

    @cached_property
    def categories(self) -> list[tuple[str, str]]:
        return [(str(c.pk), "\u2003" * c.depth + c.label) for c in selectors.active_categories()]

    @cached_property
    def users(self) -> list[tuple[str, str]]:
        return [(str(pk), name) for pk, name in list_selectors.user_choices()]

    @cached_property
    def assignable(self) -> list[tuple[str, str]]:
        """Only users who may work on cases can be made responsible (bulk assignment)."""
        return [(str(user.pk), user.full_name) for user in selectors.assignable_users()]

    @cached_property
    def statuses(self) -> list[tuple[str, str]]:
        german = (get_language() or "de").startswith("de")
        return list(state_labels("de" if german else "en").items())

    @cached_property
    def status_labels(self) -> dict[str, str]:
        return dict(self.statuses)

    @cached_property
    def transitions(self) -> list[tuple[str, str]]:
        german = (get_language() or "de").startswith("de")
        return list(transition_labels("de" if german else "en").items())


def _is_german() -> bool:
    return (get_language() or "de").startswith("de")


def _field_label(definition: Any) -> str:
    return str(definition.label_de if _is_german() else definition.label_en)


def chosen_case_type(params: Any) -> str | None:
    """The case type key when exactly one is chosen (only then are its custom fields offered)."""
    keys = {value for value in params.getlist("case_type") if value} if params else set()
    return keys.pop() if len(keys) == 1 else None


RANGE_FROM = pgettext_lazy("filter range", "from")
RANGE_TO = pgettext_lazy("filter range", "to")


def custom_filter_inputs(definition: Any) -> dict[str, forms.Field]:
    """The inputs filtering by one custom field, named by their query parameters: a from/to pair
    for numbers, amounts and dates, a select for choices and yes/no, else a text (exact match)."""
    kind, key, label = definition.kind, definition.key, _field_label(definition)
    if kind in list_selectors.ORDERED_KINDS:
        # Text inputs, not type=number: a German user types "49,90".
        attrs = {"type": "date"} if kind == list_selectors.FieldKind.DATE else {"inputmode": "decimal", "autocomplete": "off"}
        return {
            list_selectors.custom_field_parameter(key, bound): forms.CharField(
                label=bound_label, required=False, widget=forms.TextInput(attrs=attrs)
            )
            for bound, bound_label in ((list_selectors.MIN, RANGE_FROM), (list_selectors.MAX, RANGE_TO))
        }
    parameter = list_selectors.custom_field_parameter(key)
    if kind == list_selectors.FieldKind.CHOICE:
        options = [("", _("All")), *_choice_options(definition)]
        return {parameter: forms.CharField(label=label, required=False, widget=forms.Select(choices=options))}
    if kind == list_selectors.FieldKind.BOOLEAN:
        options = [("", _("All")), ("true", _("Yes")), ("false", _("No"))]
        return {parameter: forms.CharField(label=label, required=False, widget=forms.Select(choices=options))}
    return {parameter: forms.CharField(label=label, required=False)}


def _choice_options(definition: Any) -> list[tuple[str, str]]:
    language_label = "label_de" if _is_german() else "label_en"
    choices = [choice for choice in definition.choices or [] if isinstance(choice, dict)]
    return [(str(choice.get("value")), str(choice.get(language_label) or choice.get("value"))) for choice in choices]


@dataclass(frozen=True)
class CustomFilterGroup:
    """One custom field in the form: its label and its input (or its from/to pair)."""

    label: str
    fields: list[forms.BoundField]

    @property
    def is_range(self) -> bool:
        return len(self.fields) == 2

    @property
    def errors(self) -> list[str]:
        return [str(error) for field in self.fields for error in field.errors]


class CaseFilterForm(Form):
    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": gettext_lazy("Words or LP-2026-000123")}),
    )
    case_type = forms.ChoiceField(label=gettext_lazy("Case type"), required=False, widget=PlainSelect)
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False, widget=PlainSelect)
    # Several kinds at once ("open" and "waiting" are what people mean by "not done yet").
    status_kind = forms.MultipleChoiceField(
        label=gettext_lazy("Status kind"), required=False, widget=forms.CheckboxSelectMultiple
    )
    deadline = forms.MultipleChoiceField(
        label=gettext_lazy("Deadlines"), required=False, widget=forms.CheckboxSelectMultiple, choices=DEADLINE_CHOICES
    )
    team = forms.ChoiceField(label=gettext_lazy("Team"), required=False, widget=PlainSelect)
    responsible = forms.ChoiceField(label=gettext_lazy("Responsible"), required=False, widget=PlainSelect)
    priority = forms.ChoiceField(label=gettext_lazy("Priority"), required=False, widget=PlainSelect)
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), required=False, widget=PlainSelect)
    category = forms.ChoiceField(label=gettext_lazy("Category"), required=False, widget=PlainSelect)
    received_from = forms.DateField(
        label=gettext_lazy("Received from"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    received_to = forms.DateField(
        label=gettext_lazy("Received until"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    tags = forms.CharField(
        label=gettext_lazy("Tags"), required=False, max_length=200, help_text=gettext_lazy("Comma-separated; any of them")
    )
    sort = forms.ChoiceField(label=gettext_lazy("Sort"), required=False, choices=SORT_CHOICES, widget=PlainSelect)

    def __init__(self, *args: Any, choices: Choices, **kwargs: Any):
        super().__init__(*args, **kwargs)
        every = [("", _("All"))]
        fields = self.fields
        fields["case_type"].widget.attrs.update(_case_type_swap_attributes())
        case_type = chosen_case_type(self.data)
        # (label, parameters) per custom field of the chosen case type, in the type's order.
        self._custom_groups: list[tuple[str, list[str]]] = []
        for definition in list_selectors.custom_fields_of_case_type(case_type) if case_type else []:
            inputs = custom_filter_inputs(definition)
            fields.update(inputs)
            self._custom_groups.append((_field_label(definition), list(inputs)))
        fields["case_type"].choices = lambda: every + choices.case_types  # type: ignore[attr-defined]
        fields["status"].choices = lambda: every + choices.statuses  # type: ignore[attr-defined]
        fields["status_kind"].choices = list_selectors.STATUS_KIND_CHOICES  # type: ignore[attr-defined]
        fields["team"].choices = lambda: every + choices.teams  # type: ignore[attr-defined]
        fields["responsible"].choices = lambda: [*every, ("none", _("Nobody")), *choices.users]  # type: ignore[attr-defined]
        fields["priority"].choices = every + list_selectors.PRIORITY_CHOICES  # type: ignore[attr-defined]
        fields["channel"].choices = every + list_selectors.CHANNEL_CHOICES  # type: ignore[attr-defined]
        fields["category"].choices = lambda: every + choices.categories  # type: ignore[attr-defined]

    def standard_fields(self) -> list[forms.BoundField]:
        """The fixed filters of the "More filters" grid (not the search, not custom fields)."""
        return [field for field in self if field.name != "q" and field.name not in self._custom_parameters]

    @property
    def _custom_parameters(self) -> set[str]:
        return {name for _label, names in self._custom_groups for name in names}

    def custom_filter_groups(self) -> list[CustomFilterGroup]:
        return [CustomFilterGroup(label=label, fields=[self[name] for name in names]) for label, names in self._custom_groups]

    @cached_property
    def custom_field_problems(self) -> dict[str, list[str]]:
        """Custom-field parameters the list ignores, with the reason: values the shared filter
        cannot read, and filters the form does not offer (no single case type chosen, or a
        field of another case type), which would otherwise filter invisibly."""
        sent = list_selectors.custom_field_parameters(self.data) if self.is_bound else {}
        offered = {name: values for name, values in sent.items() if name in self._custom_parameters}
        problems = list_selectors.custom_field_filters(offered).errors
        for parameter in sent.keys() - offered.keys():
            problems[parameter] = [self._not_offered_message(parameter)]
        return problems

    def _not_offered_message(self, parameter: str) -> str:
        if chosen_case_type(self.data) is None:
            return _("Choose one case type to filter by its additional fields; the filter “%(parameter)s” is ignored.") % {
                "parameter": parameter
            }
        return _("This case type offers no filter “%(parameter)s”; it is ignored.") % {"parameter": parameter}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for parameter, reasons in self.custom_field_problems.items():
            for reason in reasons:
                self.add_error(parameter if parameter in self.fields else None, reason)
        return cleaned

    def list_params(self) -> QueryDict:
        """The request's parameters without the custom-field filters the form reports as ignored:
        the list, its count, the export links and saved views all use the same filters."""
        params = self.data.copy() if isinstance(self.data, QueryDict) else QueryDict(mutable=True)
        for parameter in self.custom_field_problems:
            params.pop(parameter, None)
        return params


def _case_type_swap_attributes() -> dict[str, str]:
    """Choosing a case type re-renders the form (its custom-field inputs) and the results; the
    old type's custom-field filters are left out of that request (htmx `consume` keeps the
    form's own change trigger from firing as well)."""
    url = reverse("case_list:list")
    return {
        "hx-get": url,
        "hx-trigger": "change consume",
        "hx-include": '#case-filter-form [name]:not([name^="cf."])',
        "hx-target": f"#{FILTER_AREA_ID}",
        "hx-select": f"#{FILTER_AREA_ID}",
        "hx-swap": "outerHTML",
        "hx-push-url": "true",
    }


def _filter_query(filters: QueryDict, **overrides: Any) -> str:
    """The current filters as a query string, without the cursor (and with overrides)."""
    params = filters.copy()
    params.pop("cursor", None)
    for key, value in overrides.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    items = [(k, v) for k in params for v in params.getlist(k) if v != ""]
    return urlencode(items)


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    _require_list(request)
    user = request.user
    choices = Choices(user)
    form = CaseFilterForm(request.GET or None, choices=choices)
    if form.is_bound:
        form.is_valid()  # shows malformed values as errors; the selector ignores them
    params = form.list_params()
    cursor = params.get("cursor") or None
    base_query = _filter_query(params)
    try:
        page = list_selectors.case_list_page(actor=user, params=params, cursor=cursor)
    except InvalidCursor:
        first = reverse("case_list:list") + (f"?{base_query}" if base_query else "")
        return render(request, "cases/list_bad_cursor.html", {"first_url": first}, status=400)
    count = list_selectors.case_count_estimate(actor=user, params=params)
    now = timezone.now()
    conversation = list_selectors.conversation_states([case.pk for case in page.items])
    for case in page.items:
        case.status_label = choices.status_labels.get(case.status, case.status)  # type: ignore[attr-defined]
        case.deadline_mark = deadline_mark(case, now)  # type: ignore[attr-defined]
        case.conversation = _conversation_note(case, conversation.get(case.pk, {}))  # type: ignore[attr-defined]
    saved_views = list_selectors.saved_views_for(actor=user)
    for view in saved_views:
        view.query_string = urlencode(  # type: ignore[attr-defined]
            [(k, v) for k, values in view.filters.items() for v in (values if isinstance(values, list) else [values])]
        )
    sort = list_selectors.sort_key(params, user)
    can_edit = has_capability(user, EDIT_CASES)
    list_url = reverse("case_list:list")
    htmx = getattr(request, "htmx", None)
    swaps_filter_area = bool(htmx and htmx.target == FILTER_AREA_ID)
    has_filters = any(k not in ("sort", "cursor") and request.GET.get(k) for k in request.GET)
    context = {
        "form": form,
        "page": page,
        "count": count,
        "count_cap": list_selectors.COUNT_CAP,
        "sort": sort,
        "sort_choices": SORT_CHOICES,
        "sort_links": [(key, label, f"{list_url}?{_filter_query(params, sort=key)}") for key, label in SORT_CHOICES],
        "is_later_page": bool(cursor),
        "first_url": f"{list_url}?{base_query}" if base_query else list_url,
        "next_url": f"{list_url}?{_filter_query(params, cursor=page.next_cursor)}" if page.next_cursor else "",
        "filter_query": base_query,
        "has_filters": has_filters,
        # A re-rendered form stays open where the user was choosing (even with "All" chosen).
        "filters_open": has_filters or swaps_filter_area,
        "saved_views": saved_views,
        "can_export": has_capability(user, EXPORT_CASES),
        "can_save_views": can_save_views(user),
        "can_edit": can_edit,
        "rows": list_rows.rows_html(page.items, can_edit=can_edit),
        "choices": choices,
        "my_teams": [(str(pk), name) for pk, name in choices.teams if int(pk) in _team_ids(user)],
        "export_cap": export.EXPORT_CAP,
        "filter_area_id": FILTER_AREA_ID,
    }
    only_results = htmx and not htmx.boosted and not swaps_filter_area
    template = "cases/list.html#results" if only_results else "cases/list.html"
    response = render(request, template, context)
    response["Vary"] = "HX-Request, HX-Target"
    return response


def _conversation_note(case: Any, state: dict[str, Any]) -> dict[str, Any] | None:
    """Who is waiting for whom, in words for the list: the customer replied after our last
    answer; the customer waits since their message (nothing answered yet); or we wait for
    the customer since our answer (status "waiting")."""
    last_in, last_out = state.get("last_in"), state.get("last_out")
    if case.status_kind == "closed":
        return None
    if last_in is not None and (last_out is None or last_in > last_out):
        if last_out is not None:
            return {"kind": "replied", "label": _("Customer replied"), "at": last_in}
        return {"kind": "unanswered", "label": _("Customer waiting since"), "at": last_in}
    if case.status_kind == "waiting" and last_out is not None:
        return {"kind": "waiting", "label": _("Waiting for the customer since"), "at": last_out}
    return None


def _team_ids(user: Any) -> set[int]:
    from . import permissions

    return set(permissions.team_ids_of(user))


# --- bulk actions ---------------------------------------------------------------------------


BULK_VALUE_FIELDS = {"assign_responsible": "responsible", "assign_team": "team", "add_tag": "tag", "transition": "transition"}


def _bulk_choice(request: HttpRequest, choices: Choices) -> tuple[str, Any, str]:
    """The chosen action, the value for the service and the change in words. Nothing is
    chosen by default: an empty action or value is refused (ValidationFailed); "none"
    explicitly removes the responsible user or team."""
    action = request.POST.get("action", "")
    if action not in BULK_VALUE_FIELDS:
        raise errors.ValidationFailed(field_errors={"action": [_("Choose an action.")]})
    raw = (request.POST.get(BULK_VALUE_FIELDS[action]) or "").strip()
    errors.refuse_unstorable_text(raw)  # posted outside a form: checked here
    if action == "assign_responsible":
        if raw == "none":
            return action, None, _("Remove the responsible person")
        label = dict(choices.assignable).get(raw)
        if label is None:
            raise errors.ValidationFailed(field_errors={"responsible": [_("Choose who is responsible.")]})
        return action, int(raw), _("Make %(name)s responsible") % {"name": label}
    if action == "assign_team":
        if raw == "none":
            return action, None, _("Remove the team")
        label = dict(choices.teams).get(raw)
        if label is None:
            raise errors.ValidationFailed(field_errors={"team": [_("Choose a team.")]})
        return action, int(raw), _("Assign to team %(name)s") % {"name": label}
    if action == "add_tag":
        if not raw:
            raise errors.ValidationFailed(field_errors={"tag": [_("Enter a tag.")]})
        return action, raw, _("Add the tag “%(name)s”") % {"name": raw}
    label = dict(choices.transitions).get(raw)
    if label is None:
        raise errors.ValidationFailed(field_errors={"transition": [_("Choose a status step.")]})
    return action, raw, _("Status step “%(name)s”") % {"name": label}


@login_required
@require_POST
def case_bulk(request: HttpRequest) -> HttpResponse:
    """Two steps: the chosen action with the selected cases first comes back as a
    confirmation that says what will change for how many cases; only the confirmed form
    (`confirmed=1`) changes anything."""
    _require_list(request)
    if not has_capability(request.user, EDIT_CASES):
        raise PermissionDenied
    back = reverse("case_list:list") + (f"?{request.POST['query']}" if request.POST.get("query") else "")
    htmx = getattr(request, "htmx", False)
    ids = [raw for raw in request.POST.getlist("ids") if str(raw).isdigit()][: list_services.MAX_BULK]
    try:
        if not ids:
            raise errors.ValidationFailed(field_errors={"ids": [_("Select at least one case.")]})
        action, value, change = _bulk_choice(request, Choices(request.user))
        if request.POST.get("confirmed") != "1":
            count = len(list_selectors.cases_for_bulk(actor=request.user, ids=[int(i) for i in ids]))
            context = {
                "change": change,
                "count": count,
                "ids": ids,
                "post": {k: request.POST.get(k, "") for k in ("action", "responsible", "team", "tag", "transition", "query")},
                "back_url": back,
            }
            template = "cases/_bulk_confirm.html" if htmx else "cases/list_bulk_confirm.html"
            return render(request, template, context)
        results = list_services.case_bulk_apply(actor=request.user, case_ids=ids, action=action, value=value)
    except errors.PermissionDenied:
        raise PermissionDenied from None
    except errors.DomainError as error:
        text = " ".join(str(m) for ms in error.field_errors.values() for m in ms) or str(error.message)
        if htmx:
            return render(request, "cases/_bulk_confirm.html", {"error": text}, status=400)
        messages.error(request, text)
        return redirect(back)
    ok = sum(1 for r in results if r.ok)
    return render(
        request,
        "cases/list_bulk_result.html",
        {"results": results, "ok_count": ok, "error_count": len(results) - ok, "back_url": back, "change": change},
    )


# --- saved views ----------------------------------------------------------------------------


@login_required
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    _require_list(request)
    from django.http import QueryDict

    query = request.POST.get("query", "")
    filters = QueryDict(query)
    try:
        errors.refuse_unstorable_text({"name": request.POST.get("name", ""), "query": multi_fields(filters)})
        view = list_services.saved_view_create(
            actor=request.user,
            name=request.POST.get("name", ""),
            filters=filters,
            team_id=int(request.POST["team"]) if request.POST.get("team", "").isdigit() else None,
        )
    except errors.PermissionDenied:
        raise PermissionDenied from None
    except errors.DomainError as error:
        text = " ".join(str(m) for ms in error.field_errors.values() for m in ms) or str(error.message)
        messages.error(request, text)
    else:
        messages.success(request, _("Saved view “%(name)s” created.") % {"name": view.name})
    return redirect(reverse("case_list:list") + (f"?{query}" if query else ""))


@login_required
@require_POST
def saved_view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    _require_list(request)
    try:
        list_services.saved_view_delete(actor=request.user, saved_view_id=view_id)
    except errors.NotFound:
        raise Http404 from None
    messages.success(request, _("Saved view deleted."))
    return redirect("case_list:list")


# --- export ------------------------------------------------------------------------------------

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _export_prepare(request: HttpRequest, export_format: str) -> tuple[int, int]:
    """Checks the right, counts and audits; returns (rows exported, cases matching)."""
    _require_list(request)
    if not has_capability(request.user, EXPORT_CASES):
        raise PermissionDenied
    matching = list_selectors.export_count(actor=request.user, params=request.GET)
    rows = min(matching, export.EXPORT_CAP)
    list_services.case_export_record(
        actor=request.user, params=request.GET, export_format=export_format, row_count=rows, matching=matching
    )
    return rows, matching


def _export_response(content: Any, content_type: str, extension: str, rows: int, matching: int) -> StreamingHttpResponse:
    stem = f"cases-{timezone.localtime().strftime('%Y%m%d-%H%M')}"
    if matching > rows:
        stem += f"-first-{rows}-of-{matching}"
    response = StreamingHttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{stem}.{extension}"'
    response["X-Export-Rows"] = str(rows)
    response["X-Export-Matching"] = str(matching)
    return response


@login_required
@require_GET
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    rows, matching = _export_prepare(request, "csv")
    content = export.csv_stream(export.export_rows(actor=request.user, params=request.GET))
    return _export_response(content, "text/csv; charset=utf-8", "csv", rows, matching)


@login_required
@require_GET
def export_xlsx(request: HttpRequest) -> StreamingHttpResponse:
    rows, matching = _export_prepare(request, "xlsx")
    content = export.xlsx_stream(export.export_rows(actor=request.user, params=request.GET), exported=rows, matching=matching)
    return _export_response(content, XLSX_TYPE, "xlsx", rows, matching)
