"""The decision panel of the case page (/cases/<id>/decisions/…): choose a table, type the
context, see the recommendation with its rationale and matched rule and one's own authority,
then decide; the case's records with their status; a correction by the decider (or a lead);
a lead's reversal.

Thin: forms shape input, `record_services` writes, `record_selectors` reads. With htmx the
panel replaces itself; without JavaScript the same URLs answer with a page of their own.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from leitplanke.cases import selectors as case_selectors
from leitplanke.core.errors import DomainError, NotFound, PermissionDenied
from leitplanke.core.forms import apply_domain_error

from . import record_selectors, record_services
from .engine import describe
from .record_forms import CONTEXT_PREFIX, ContextForm, CorrectionForm, DecisionForm, ReversalForm


def _case_or_404(request: HttpRequest, case_id: int) -> Any:
    try:
        return case_selectors.case_get(actor=request.user, case_id=case_id)
    except NotFound:
        raise Http404() from None


def _language() -> str:
    return (get_language() or "de")[:2]


def _form_errors(form: Any, error: DomainError) -> None:
    """Service field names (`context.disputed_amount`) → the form's (`ctx_disputed_amount`)."""
    if error.field_errors:
        error.field_errors = {
            (CONTEXT_PREFIX + name[len("context.") :] if name.startswith("context.") else name): errors
            for name, errors in error.field_errors.items()
        }
    apply_domain_error(form, error)


def _status_text(entry: dict[str, Any]) -> str:
    record = entry["record"]
    approval = entry["approval"]
    names = {
        "approver": _name(approval.approver) if approval is not None and approval.approver_id else "",
        "by": _name(approval.decided_by) if approval is not None and approval.decided_by_id else "",
    }
    if record.status == "final":
        return _("Final (within authority)")
    if record.status == "pending":
        if names["approver"]:
            return _("Awaiting approval by %(approver)s") % names
        return _("Awaiting approval")
    if record.status == "approved":
        return _("Approved by %(by)s") % names if names["by"] else _("Approved")
    if record.status == "rejected":
        return _("Rejected by %(by)s") % names if names["by"] else _("Rejected")
    if record.status == "sent_back":
        return _("Sent back by %(by)s") % names if names["by"] else _("Sent back")
    if record.status == "superseded":
        return _("Corrected")
    if record.status == "reversed":
        reversal = entry["reversal"]
        return _("Reversed by %(by)s") % {"by": _name(reversal.decided_by)} if reversal is not None else _("Reversed")
    return str(record.get_status_display())


def _name(user: Any) -> str:
    return str(user.full_name or user.email) if user is not None else ""


def _due(approval: Any, now: Any) -> dict[str, Any]:
    """A pending request's due time as the user reads it: in the organisation's time zone
    (where the two business days were counted), formatted for the active language."""
    zone = ZoneInfo(record_selectors.organisation_time_zone())
    local = approval.due_at.astimezone(zone)
    return {
        "at": approval.due_at,
        "text": formats.date_format(local, "SHORT_DATETIME_FORMAT"),
        "overdue": approval.due_at <= now,
    }


def _records(
    request: HttpRequest,
    case: Any,
    reversal_forms: dict[int, ReversalForm] | None = None,
    correction_forms: dict[int, CorrectionForm] | None = None,
) -> list[dict[str, Any]]:
    entries = []
    open_case = case.status_kind != "closed"
    now = timezone.now()
    for record in record_selectors.case_decisions(actor=request.user, case=case)[:100]:
        approval = getattr(record, "approval", None)  # None: no approval request for this record
        followers = list(record.followed_by.all())
        reversal = next((r for r in followers if r.record_kind == "reversal"), None)
        entry: dict[str, Any] = {"record": record, "approval": approval, "reversal": reversal}
        entry["status_text"] = _status_text(entry)
        if approval is not None and approval.status == "pending":
            entry["due"] = _due(approval, now)
        if record.status in record_services.REVERSIBLE and record_selectors.may_reverse(request.user, record):
            entry["reversal_form"] = (reversal_forms or {}).get(record.pk) or ReversalForm(auto_id=f"id_reverse{record.pk}_%s")
        if open_case and record.status in record_services.CORRECTABLE and record_selectors.may_correct(request.user, record):
            entry["correction_form"] = (correction_forms or {}).get(record.pk) or CorrectionForm(
                initial=CorrectionForm.initial_of(record), auto_id=f"id_correct{record.pk}_%s"
            )
        entries.append(entry)
    return entries


def _panel(
    request: HttpRequest,
    case: Any,
    *,
    table_key: str = "",
    data: Any = None,
    decision_form: DecisionForm | None = None,
    reversal_forms: dict[int, ReversalForm] | None = None,
    correction_forms: dict[int, CorrectionForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    language = _language()
    editable = case_selectors.can_edit(request.user, case)
    tables = record_selectors.decision_tables()
    row = next((t for t in tables if t.key == table_key), None)
    context: dict[str, Any] = {
        "case": case,
        "can_edit": editable,
        "tables": [{"key": t.key, "name": t.name(language), "version": t.version} for t in tables],
        "table": row,
        "table_name": row.name(language) if row is not None else "",
        "records": _records(request, case, reversal_forms, correction_forms),
        "currency": (case.currency or "EUR").upper(),
    }
    if row is not None and editable:
        specs = record_selectors.context_fields(row)
        context_form = (
            ContextForm(data, specs=specs) if data is not None else ContextForm(initial={"table": row.key}, specs=specs)
        )
        context["context_form"] = context_form
        if data is not None and context_form.is_valid():
            try:
                recommendation = record_selectors.recommend(row, case, context_form.context())
            except DomainError as error:
                _form_errors(context_form, error)
            else:
                context["recommendation"] = recommendation
                context["rationale"] = recommendation.rationale(language)
                context["matched_rules"] = [
                    {"id": rule["id"], "description": describe(rule["description"], rule.get("description_de", ""), language)}
                    for rule in recommendation.matched
                ]
                if decision_form is None:
                    initial = {
                        "table": row.key,
                        "kind": recommendation.kind or row.decision_kind,
                        "amount": recommendation.amount if recommendation.amount is not None else 0,
                        "currency": context["currency"],
                        "action": recommendation.action,
                        **{
                            CONTEXT_PREFIX + k: ("true" if v is True else "false" if v is False else v)
                            for k, v in recommendation.context.items()
                        },
                    }
                    decision_form = DecisionForm(initial=initial, specs=specs)
                if recommendation.minimum is not None and recommendation.maximum is not None:
                    decision_form.fields["justification"].help_text = _(
                        "Required when the amount is outside %(low)s to %(high)s %(currency)s."
                    ) % {"low": recommendation.minimum, "high": recommendation.maximum, "currency": context["currency"]}
                context["decision_form"] = decision_form
                context["recommendation_kind"] = record_selectors.kind_label(recommendation.kind)
                context["authority"] = record_selectors.authority_summary(
                    actor=request.user,
                    case=case,
                    kind=str(decision_form["kind"].value() or recommendation.kind or row.decision_kind),
                    currency=context["currency"],
                )
    template = "decisions/_panel.html" if getattr(request, "htmx", False) else "decisions/case_decisions.html"
    return render(request, template, context, status=status)


@login_required
@require_GET
def decision_panel(request: HttpRequest, case_id: int) -> HttpResponse:
    """The panel; with `table` the context form, with the context the recommendation."""
    case = _case_or_404(request, case_id)
    table_key = str(request.GET.get("table") or "")[:50]
    asked = any(name.startswith(CONTEXT_PREFIX) for name in request.GET) or request.GET.get("evaluate")
    return _panel(request, case, table_key=table_key, data=request.GET if asked else None)


@login_required
@require_POST
def decision_create(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    if not case_selectors.can_edit(request.user, case):
        raise DjangoPermissionDenied()
    table_key = str(request.POST.get("table") or "")[:50]
    try:
        row = record_selectors.decision_table(table_key)
    except NotFound:
        return _panel(request, case, status=422)
    specs = record_selectors.context_fields(row)
    form = DecisionForm(request.POST, specs=specs)
    if form.is_valid():
        try:
            record = record_services.decision_record(
                actor=request.user, case=case, table_key=row.key, context=form.context(), **form.decision()
            )
        except NotFound:
            raise Http404() from None
        except PermissionDenied:
            raise DjangoPermissionDenied() from None
        except record_services.JustificationRequired as error:
            form = DecisionForm(request.POST, specs=specs, justification_required=True)
            form.is_valid()
            _form_errors(form, error)
        except DomainError as error:
            _form_errors(form, error)
        else:
            if record.status == "final":
                messages.success(request, _("The decision is final."))
            else:
                messages.info(request, _("The decision awaits approval."))
            if getattr(request, "htmx", False):
                return _panel(request, case)
            return redirect("case_decisions:panel", case_id=case.pk)
    return _panel(request, case, table_key=row.key, data=request.POST, decision_form=form, status=422)


@login_required
@require_POST
def decision_reverse(request: HttpRequest, case_id: int, record_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    try:
        record = record_selectors.decision_get(actor=request.user, case=case, record_id=record_id)
    except NotFound:
        raise Http404() from None
    if not record_selectors.may_reverse(request.user, record):
        raise DjangoPermissionDenied()
    form = ReversalForm(request.POST, auto_id=f"id_reverse{record.pk}_%s")
    if form.is_valid():
        try:
            record_services.decision_reverse(
                actor=request.user,
                record=record,
                justification=form.cleaned_data["justification"],
                amount=form.cleaned_data["amount"],
                message_to_customer=form.cleaned_data["message_to_customer"],
            )
        except NotFound:
            raise Http404() from None
        except PermissionDenied:
            raise DjangoPermissionDenied() from None
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("The decision was reversed; the decider is told."))
            if getattr(request, "htmx", False):
                return _panel(request, case)
            return redirect("case_decisions:panel", case_id=case.pk)
    return _panel(request, case, reversal_forms={record.pk: form}, status=422)


@login_required
@require_POST
def decision_correct(request: HttpRequest, case_id: int, record_id: int) -> HttpResponse:
    """The decider's (or a lead's) correction: a new record; the old one is superseded.
    Refusals keep what was typed and open the form again (422)."""
    case = _case_or_404(request, case_id)
    try:
        record = record_selectors.decision_get(actor=request.user, case=case, record_id=record_id)
    except NotFound:
        raise Http404() from None
    if not record_selectors.may_correct(request.user, record):
        raise DjangoPermissionDenied()
    form = CorrectionForm(request.POST, auto_id=f"id_correct{record.pk}_%s")
    if form.is_valid():
        try:
            correction = record_services.decision_correct(actor=request.user, record=record, **form.decision())
        except NotFound:
            raise Http404() from None
        except PermissionDenied:
            raise DjangoPermissionDenied() from None
        except (record_services.RecordNotCurrent, record_services.CaseClosed) as error:
            # Corrected, reversed or closed meanwhile: the record offers no form any more, so
            # the reason is a message above the panel.
            messages.error(request, str(error.message))
            return _panel(request, case, status=409)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            if correction.status == "final":
                messages.success(request, _("The decision is corrected; the correction is final."))
            else:
                messages.info(request, _("The decision is corrected; the correction awaits approval."))
            if getattr(request, "htmx", False):
                return _panel(request, case)
            return redirect("case_decisions:panel", case_id=case.pk)
    return _panel(request, case, correction_forms={record.pk: form}, status=422)
