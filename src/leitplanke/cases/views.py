"""Case pages: create, detail, edit, timeline actions and attachment downloads.

Thin: forms shape input, services write, selectors read. Domain errors become form errors
(422/409, keeping what the user typed), 403 or 404.
"""

from __future__ import annotations

import decimal
import mimetypes
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leitplanke.core.errors import DomainError, NotFound, PermissionDenied, PreconditionFailed
from leitplanke.core.forms import apply_domain_error
from leitplanke.core.pagination import InvalidCursor
from leitplanke.deadlines import presentation as deadline_presentation
from leitplanke.processes import catalogue
from leitplanke.processes.texts import reason_text

from . import clock_services, permissions, selectors, services
from .escalation_views import escalation_panel
from .forms import (
    CUSTOM_PREFIX,
    AttachmentForm,
    CaseEditForm,
    CaseForm,
    ClockExtensionForm,
    NoteForm,
    StepForm,
    TransitionForm,
    initial_for_case,
)
from .process import process_of


def _raise_http(error: DomainError) -> None:
    if isinstance(error, NotFound):
        raise Http404()
    if isinstance(error, PermissionDenied):
        raise DjangoPermissionDenied()


def _case_or_404(request: HttpRequest, case_id: int) -> Any:
    try:
        return selectors.case_get(actor=request.user, case_id=case_id)
    except NotFound:
        raise Http404() from None


def _map_custom_errors(error: DomainError) -> DomainError:
    """Service keys `custom_fields.<key>` map onto the form's `cf_<key>` fields."""
    if error.field_errors:
        error.field_errors = {
            (
                CUSTOM_PREFIX + key.split(".", 1)[1]
                if key.startswith("custom_fields.")
                else "customer_number"
                if key == "customer"
                else key
            ): messages_
            for key, messages_ in error.field_errors.items()
        }
    return error


def _chosen_case_type(value: Any) -> Any:
    """The active case type with this id (the first one for none), from the cached list."""
    case_types = selectors.active_case_type_list()
    if value in (None, ""):
        return case_types[0] if case_types else None
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return next((case_type for case_type in case_types if case_type.pk == pk), None)


# --- create -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_create(request: HttpRequest) -> HttpResponse:
    if not permissions.may_edit_cases(request.user):
        raise DjangoPermissionDenied()
    status = 200
    if request.method == "POST":
        case_type = _chosen_case_type(request.POST.get("case_type"))
        form = CaseForm(request.POST, case_type=case_type)
        if form.is_valid():
            try:
                case = services.case_create(actor=request.user, **form.service_arguments())
            except DomainError as error:
                _raise_http(error)
                apply_domain_error(form, _map_custom_errors(error))
                status = 422
            else:
                messages.success(request, _("Case %(reference)s was created.") % {"reference": case.reference})
                return redirect("cases:detail", case_id=case.pk)
        else:
            status = 422
    else:
        # GET parameters (from the case type switch) pre-fill the form without validating it.
        case_type = _chosen_case_type(request.GET.get("case_type"))
        initial: dict[str, Any] = {
            "received_at": timezone.localtime().replace(second=0, microsecond=0),
            "language": getattr(request.user, "language", "de") or "de",
            "channel": "phone",
        }
        initial.update({key: value for key, value in request.GET.items() if value})
        if case_type is not None:
            initial["case_type"] = case_type.pk
        team_ids = permissions.team_ids_of(request.user)
        if "team" not in initial and team_ids:
            initial["team"] = team_ids[0]
        form = CaseForm(initial=initial, case_type=case_type)
    template = "cases/case_form.html"
    if getattr(request, "htmx", False) and request.GET.get("partial") == "custom_fields":
        template = "cases/_custom_fields.html"
    return render(request, template, {"form": form, "mode": "create"}, status=status)


@login_required
@require_GET
def customer_lookup(request: HttpRequest) -> HttpResponse:
    """The customer picker of the new-case form (htmx): up to eight customers by name
    (prefix, "Erika Mustermann" as well as "Mustermann, Erika"), e-mail address, phone
    number or customer number."""
    from leitplanke.customers.selectors import customer_search

    query = (request.GET.get("customer_query") or "").strip()[:200]
    found: list[Any] = []
    if len(query) >= 2 and permissions.may_edit_cases(request.user):
        try:
            found = list(customer_search(actor=request.user, q=query, limit=8).items)
            words = query.split()
            if not found and len(words) >= 2 and "@" not in query:
                reordered = f"{words[-1]}, {' '.join(words[:-1])}"
                found = list(customer_search(actor=request.user, q=reordered, limit=8).items)
        except PermissionDenied:
            found = []
    return render(request, "cases/_customer_matches.html", {"found": found, "query": query})


# --- detail -------------------------------------------------------------------------------

KIND_ICONS: dict[str, str] = {
    "inbound_message": "✉",
    "outbound_message": "➦",
    "phone_note": "☎",
    "internal_note": "✎",
    "status_change": "⇄",
    "field_change": "✱",
    "attachment": "⇩",
    "system": "●",
}


def _field_labels() -> dict[str, str]:
    labels = selectors.case_field_labels()
    labels.update(
        {
            "tags": _("Tags"),
            "watchers": _("Watchers"),
            "custom_fields": _("Additional fields"),
            "responsible_user": _("Responsible"),
            "parent": _("Parent case"),
        }
    )
    return labels


def _state_label(key: Any, language: str) -> Any:
    """Label of a lifecycle state for entries that stored only its key (bulk-seeded history)."""
    if not key:
        return key
    return selectors.process_state_labels(language).get(str(key), key)


def _timeline_entries(request: HttpRequest, items: list[Any]) -> list[dict[str, Any]]:
    language = (getattr(request, "LANGUAGE_CODE", None) or "de")[:2]
    labels = _field_labels()
    coded = selectors.case_choice_labels()
    entries = []
    for item in items:
        entry: dict[str, Any] = {"item": item, "icon": KIND_ICONS.get(item.kind, "●"), "kind_label": item.get_kind_display()}
        if item.kind == "system" and item.data.get("event") == "created":
            entry["kind_label"] = _("Registered")
        if item.kind == "system" and isinstance(item.data.get("texts"), dict):
            # Written in both languages when it happened (intake notes, delivery failures).
            texts, titles = item.data["texts"], item.data.get("title") or {}
            entry["texts"] = texts.get(language) or texts.get("en") or []
            entry["title"] = titles.get(language) or titles.get("en") or item.subject
        if item.kind == "status_change":
            entry["from_label"] = item.data.get(f"from_label_{language}") or _state_label(item.data.get("from"), language)
            entry["to_label"] = item.data.get(f"to_label_{language}") or _state_label(item.data.get("to"), language)
        elif item.kind == "field_change":
            shown_from, shown_to = item.data.get("display_from", {}), item.data.get("display_to", {})
            raw_from, raw_to = item.data.get("from", {}), item.data.get("to", {})
            changes = []
            for name in item.data.get("fields", []):
                if name in coded:  # coded values: labels in the reader's language
                    shown = (coded[name].get(raw_from.get(name), "—"), coded[name].get(raw_to.get(name), "—"))
                else:
                    shown = (shown_from.get(name, raw_from.get(name)), shown_to.get(name, raw_to.get(name)))
                changes.append({"label": labels.get(name, name), "from": shown[0], "to": shown[1]})
            entry["changes"] = changes
        entries.append(entry)
    return entries


def money_display(value: dict[str, Any]) -> str:
    """12.50/EUR as "12,50 EUR" or "12.50 EUR", in the reader's number format."""
    try:
        amount = formats.number_format(decimal.Decimal(str(value.get("amount"))), 2, use_l10n=True, force_grouping=True)
    except (decimal.InvalidOperation, ValueError, TypeError):
        amount = str(value.get("amount"))
    return f"{amount} {value.get('currency') or ''}".strip()


def _render_detail(
    request: HttpRequest,
    case: Any,
    *,
    note_form: NoteForm | None = None,
    attachment_form: AttachmentForm | None = None,
    escalate_form: Any = None,
    status: int = 200,
) -> HttpResponse:
    language = (getattr(request, "LANGUAGE_CODE", None) or "de")[:2]
    running = process_of(case).process
    state = running.state(case.status)
    level = next((lv for lv in running.escalation_levels if lv.level == case.escalation_level), None)
    editable = selectors.can_edit(request.user, case)
    transitions = [
        {
            "key": offer.transition.key,
            "label": offer.transition.label(language),
            "available": offer.available,
            "blocked": offer.blocked,
            # Fields or ticks the user can give on the step's own page.
            "asks": _asks(offer.transition, offer.target.kind) or bool(offer.transition.checklist),
            "reasons": [reason_text(reason, language) for reason in offer.reasons],
        }
        for offer in (selectors.available_transitions(actor=request.user, case=case) if editable else [])
    ]
    definitions = {d.key: d for d in selectors.custom_field_definitions(case.case_type)}
    custom = []
    for key, value in (case.custom_fields or {}).items():
        definition = definitions.get(key)
        label = (definition.label_de if language == "de" else definition.label_en) if definition else key
        if isinstance(value, dict):
            value = money_display(value)
        elif isinstance(value, bool):
            value = _("Yes") if value else _("No")
        elif definition is not None and definition.kind == "choice":
            labels = {str(c.get("value")): c.get(f"label_{language}", value) for c in definition.choices}
            value = labels.get(str(value), value)
        custom.append({"label": label, "value": value})
    context = {
        "case": case,
        "status_label": state.label(language) if state else selectors.status_label(case, language),
        "closing": _closing_facts(case, language),
        "escalation": (
            {"level": case.escalation_level, "label": (level.label_de if language == "de" else level.label_en) if level else ""}
            if case.escalation_level
            else None
        ),
        "status_kind": case.status_kind,
        **_timeline_context(request, case, cursor=None),
        "attachments": selectors.case_attachments(actor=request.user, case=case),
        "tags": list(case.tags.all()),
        "watching": case.watchers.filter(pk=request.user.pk).exists(),
        "custom": custom,
        "transitions": transitions,
        "can_edit": editable,
        "show_sensitive": permissions.may_see_sensitive(request.user),
        "note_form": note_form or NoteForm(),
        "attachment_form": attachment_form or AttachmentForm(),
        "clocks": _clock_rows(request, case, language),
        "customer_cases": _other_cases_of_customer(request, case),
        "assignable": selectors.assignable_users(team_id=case.team_id) if editable else [],
        **escalation_panel(case, running, language, editable, escalate_form),
    }
    return render(request, "cases/case_detail.html", context, status=status)


CLOCK_STATES = {
    "running": gettext_lazy("running"),
    "paused": gettext_lazy("paused"),
    "stopped": gettext_lazy("stopped"),
    "met": gettext_lazy("met"),
    "breached": gettext_lazy("breached"),
}


def _clock_rows(request: HttpRequest, case: Any, language: str) -> list[dict[str, Any]]:
    """The Deadlines panel: each clock with due time, time left in the rule's terms, marks
    and the explanation in the reader's language."""
    editable = selectors.can_edit(request.user, case)
    rows = []
    for clock in selectors.case_clocks(actor=request.user, case=case):
        rows.append(
            {
                **clock,
                "name": clock["name_de"] if language == "de" else clock["name_en"],
                "state_label": CLOCK_STATES.get(clock["state"], clock["state"]),
                "left": deadline_presentation.time_left_text(clock["time_left"]),
                "lines": deadline_presentation.explanation_lines(clock["explanation"], language),
                "extensions": [
                    {"event": e, "label": deadline_presentation.extension_label(e)} for e in clock["available_extensions"]
                ]
                if editable
                else [],
            }
        )
    return rows


def _other_cases_of_customer(request: HttpRequest, case: Any) -> list[Any]:
    """The customer's other cases the user may see (latest first, at most ten)."""
    if case.customer_id is None:
        return []
    others = selectors.customer_cases(actor=request.user, customer_id=case.customer_id, limit=11)
    return [other for other in others if other.pk != case.pk][:10]


@login_required
@require_GET
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    return _render_detail(request, _case_or_404(request, case_id))


def _timeline_context(request: HttpRequest, case: Any, *, cursor: str | None) -> dict[str, Any]:
    """The newest entries (25 at a time) and the link to the next older ones."""
    page = selectors.case_timeline_page(actor=request.user, case=case, cursor=cursor)
    more = reverse("cases:timeline", args=[case.pk]) + "?" + urlencode({"cursor": page.next_cursor}) if page.next_cursor else ""
    return {"timeline": _timeline_entries(request, page.items), "timeline_more_url": more, "case": case}


@login_required
@require_GET
def case_timeline(request: HttpRequest, case_id: int) -> HttpResponse:
    """Older timeline entries: for htmx the next entries (they replace the "load more" item),
    without JavaScript a page of their own."""
    case = _case_or_404(request, case_id)
    try:
        context = _timeline_context(request, case, cursor=request.GET.get("cursor") or None)
    except InvalidCursor:
        return HttpResponseBadRequest(_("The page link is not valid. Start again from the first page."))
    if getattr(request, "htmx", False):
        return render(request, "cases/_timeline_entries.html", context)
    return render(request, "cases/timeline_page.html", context)


# --- edit ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_edit(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    if not selectors.can_edit(request.user, case):
        raise DjangoPermissionDenied()
    status = 200
    conflict = False
    if request.method == "POST":
        case_type = _chosen_case_type(request.POST.get("case_type")) or case.case_type
        form = CaseEditForm(request.POST, case_type=case_type)
        if form.is_valid():
            changes = form.service_arguments()
            # The form shows minutes only: an unchanged minute keeps the stored seconds.
            shown = timezone.localtime(case.received_at).replace(second=0, microsecond=0)
            if changes["received_at"] is not None and timezone.localtime(changes["received_at"]) == shown:
                del changes["received_at"]
            try:
                services.case_update(actor=request.user, case=case, expected_version=form.cleaned_data["version"], **changes)
            except PreconditionFailed:
                conflict = True
                status = 409
                # Saving again deliberately overwrites: the form now carries the current version.
                data = request.POST.copy()
                data["version"] = str(selectors.case_current_version(case_id=case.pk))
                form.data = data
            except DomainError as error:
                _raise_http(error)
                apply_domain_error(form, _map_custom_errors(error))
                status = 422
            else:
                messages.success(request, _("The changes were saved."))
                return redirect("cases:detail", case_id=case.pk)
        else:
            status = 422
    else:
        form = CaseEditForm(initial=initial_for_case(case), case_type=case.case_type)
    return render(
        request, "cases/case_form.html", {"form": form, "mode": "edit", "case": case, "conflict": conflict}, status=status
    )


# --- actions on the detail page -------------------------------------------------------------


def _asks(step: Any, target_kind: str) -> list[str]:
    """The fields a step's page asks for: what it requires, and on closing or resolving
    steps that require any closing field, the other closing fields too (redress and
    goodwill are entered apart)."""
    asks = [name for name in step.requires if name in catalogue.SETTABLE or name.startswith("custom.")]
    if asks and target_kind in ("closed", "resolved") and any(name in catalogue.CLOSING_FIELDS for name in asks):
        asks += [name for name in catalogue.CLOSING_FIELDS if name not in asks]
    return asks


def _closing_facts(case: Any, language: str) -> list[dict[str, Any]]:
    """The closing fields that are filled in, for the key facts."""
    facts = []
    names = {
        "outcome": {k: (de, en) for k, de, en in catalogue.OUTCOMES},
        "root_cause": {k: (de, en) for k, de, en in catalogue.ROOT_CAUSES},
    }
    for name in catalogue.CLOSING_FIELDS:
        value = getattr(case, name)
        if value in (None, "") or name == "currency":
            continue
        if name in names:
            labels = names[name].get(value)
            value = (labels[0] if language == "de" else labels[1]) if labels else value
        elif name in ("redress_amount", "goodwill_amount"):
            value = money_display({"amount": value, "currency": case.currency})
        spec = catalogue.STANDARD_FIELDS[f"case.{name}"]
        facts.append({"label": spec.label(language), "value": value})
    return facts


@login_required
@require_http_methods(["GET", "POST"])
def case_step(request: HttpRequest, case_id: int, transition: str) -> HttpResponse:
    """A step that asks for something (closing fields, a checklist): its own small form.
    What is missing comes back as form errors naming it (422), nothing changed."""
    case = _case_or_404(request, case_id)
    if not selectors.can_edit(request.user, case):
        raise DjangoPermissionDenied()
    language = (getattr(request, "LANGUAGE_CODE", None) or "de")[:2]
    offer = next(
        (o for o in selectors.available_transitions(actor=request.user, case=case) if o.transition.key == transition), None
    )
    if offer is None:
        messages.error(request, _("This step is not possible in the current status."))
        return redirect("cases:detail", case_id=case.pk)
    ask = _asks(offer.transition, offer.target.kind)
    status = 200
    if request.method == "POST":
        form = StepForm(request.POST, step=offer.transition, ask=ask, case_type=case.case_type)
        if form.is_valid():
            try:
                moved = services.case_transition(
                    actor=request.user,
                    case=case,
                    transition=transition,
                    expected_version=form.cleaned_data.get("version"),
                    note=form.cleaned_data.get("note", ""),
                    fields=form.entered(),
                    checklist=form.confirmed(),
                )
            except PreconditionFailed:
                form.add_error(None, _("Someone else changed this case meanwhile. Please check its status and try again."))
                status = 409
            except DomainError as error:
                _raise_http(error)
                error.field_errors = {StepForm.form_name(k): v for k, v in error.field_errors.items()}
                apply_domain_error(form, error)
                status = 422
            else:
                return _after_step(request, moved)
        else:
            status = 422
    else:
        initial = {name: getattr(case, name) for name in ask if not name.startswith("custom.")}
        initial.update(StepForm.custom_initial(case, ask))
        initial["version"] = case.version
        form = StepForm(initial=initial, step=offer.transition, ask=ask, case_type=case.case_type)
    context = {
        "case": case,
        "form": form,
        "step": offer.transition,
        "step_label": offer.transition.label(language),
        "blocked": [reason_text(r, language) for r in offer.reasons if not r.fixable],
    }
    return render(request, "cases/case_step.html", context, status=status)


@login_required
@require_POST
def case_clock_extend(request: HttpRequest, case_id: int, clock_id: int) -> HttpResponse:
    """Records a holding reply or extension notice on a deadline of the case."""
    case = _case_or_404(request, case_id)
    form = ClockExtensionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The extension could not be recorded."))
        return redirect("cases:detail", case_id=case.pk)
    try:
        clock_services.clock_extend(
            actor=request.user, case=case, clock_id=clock_id, event=form.cleaned_data["event"], note=form.cleaned_data["note"]
        )
    except DomainError as error:
        _raise_http(error)
        messages.error(request, "; ".join(str(m) for ms in error.field_errors.values() for m in ms) or str(error.message))
        return redirect("cases:detail", case_id=case.pk)
    messages.success(request, _("The extension was recorded; the deadline was recomputed."))
    return redirect(reverse("cases:detail", args=[case.pk]) + "#deadlines")


@login_required
@require_POST
def case_transition(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("This step is not possible in the current status."))
        return redirect("cases:detail", case_id=case.pk)
    try:
        case = services.case_transition(
            actor=request.user,
            case=case,
            transition=form.cleaned_data["transition"],
            expected_version=form.cleaned_data.get("version"),
            note=form.cleaned_data.get("note", ""),
        )
    except PreconditionFailed:
        messages.error(request, _("Someone else changed this case meanwhile. Please check its status and try again."))
        return redirect("cases:detail", case_id=case.pk)
    except services.TransitionRequirementsMissing:
        # The step asks for something: its own page says what.
        return redirect("cases:step", case_id=case.pk, transition=form.cleaned_data["transition"])
    except DomainError as error:
        _raise_http(error)
        messages.error(request, "; ".join(str(m) for ms in error.field_errors.values() for m in ms) or str(error.message))
        return redirect("cases:detail", case_id=case.pk)
    return _after_step(request, case)


def _after_step(request: HttpRequest, case: Any) -> HttpResponse:
    """Back to the case; to the case list when the step handed it to a team the user does not
    see (a decision step's routing), which the message says."""
    if not selectors.is_visible(request.user, case):
        messages.success(request, _("Status changed. The case was handed to another team."))
        return redirect("case_list:list")
    messages.success(request, _("Status changed."))
    return redirect("cases:detail", case_id=case.pk)


@login_required
@require_POST
def case_note_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    if not selectors.can_edit(request.user, case):
        raise DjangoPermissionDenied()
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.interaction_add(
                actor=request.user, case=case, kind=form.cleaned_data["kind"], body_text=form.cleaned_data["body_text"]
            )
        except DomainError as error:
            _raise_http(error)
            apply_domain_error(form, error)
        else:
            messages.success(request, _("The note was added."))
            return redirect(reverse("cases:detail", kwargs={"case_id": case.pk}) + "#timeline")
    return _render_detail(request, case, note_form=form, status=422)


@login_required
@require_POST
def case_attachment_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    if not selectors.can_edit(request.user, case):
        raise DjangoPermissionDenied()
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attachment_add(actor=request.user, case=case, uploaded_file=form.cleaned_data["file"])
        except DomainError as error:
            _raise_http(error)
            apply_domain_error(form, error)
        else:
            messages.success(request, _("The file was attached."))
            return redirect(reverse("cases:detail", kwargs={"case_id": case.pk}) + "#attachments")
    return _render_detail(request, case, attachment_form=form, status=422)


@login_required
@require_POST
def case_assign(request: HttpRequest, case_id: int) -> HttpResponse:
    """ "Take it" (`responsible=me`) or a quick assignment from the case page. An explicit
    choice only: `responsible=none` unassigns, an empty or unknown value changes nothing.
    The page is loaded again afterwards, so that every form on it carries the new version."""
    case = _case_or_404(request, case_id)
    if not selectors.can_edit(request.user, case):
        raise DjangoPermissionDenied()
    value = (request.POST.get("responsible") or "").strip()
    if value == "me":
        target: Any = request.user.pk
    elif value == "none":
        target = None
    elif value.isdigit() and any(user.pk == int(value) for user in selectors.assignable_users()):
        target = int(value)
    else:
        messages.error(request, _("Choose who is responsible."))
        return redirect("cases:detail", case_id=case.pk)
    version = request.POST.get("version")
    try:
        case = services.case_update(
            actor=request.user,
            case=case,
            expected_version=int(version) if version and version.isdigit() else None,
            responsible_user=target,
        )
    except PreconditionFailed:
        messages.error(request, _("Someone else changed this case in the meantime. Please check and try again."))
    except DomainError as error:
        _raise_http(error)
        messages.error(request, " ".join(str(m) for ms in (error.field_errors or {}).values() for m in ms) or str(error.message))
    else:
        if case.responsible_user is None:
            messages.success(request, _("Nobody is responsible for this case now."))
        else:
            messages.success(request, _("%(name)s is responsible now.") % {"name": case.responsible_user.full_name})
    return redirect("cases:detail", case_id=case.pk)


@login_required
@require_POST
def case_watch(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    try:
        services.case_watch(actor=request.user, case=case, watching=request.POST.get("watching") == "1")
    except DomainError as error:
        _raise_http(error)
    return redirect("cases:detail", case_id=case.pk)


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the exact name as RFC 5987 `filename*`."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@login_required
@require_GET
def attachment_download(request: HttpRequest, case_id: int, attachment_id: int) -> FileResponse:
    try:
        attachment = selectors.attachment_get(actor=request.user, case_id=case_id, attachment_id=attachment_id)
    except NotFound:
        raise Http404() from None
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404() from None
    content_type = attachment.content_type or mimetypes.guess_type(attachment.original_name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = content_disposition(attachment.original_name)
    response["Content-Length"] = str(attachment.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
