"""Intake screens: the reply composer on a case, reply templates, mailboxes, the inbound
log and quarantine, and webhooks.

Thin views: forms check the shape of the input, services write (and audit), selectors
read. Changes are POST only; success redirects (PRG) with a message; errors re-render the
form with status 400 and keep what was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from leitplanke.accounts import permissions
from leitplanke.accounts.actors import Actor
from leitplanke.accounts.decorators import require_capability
from leitplanke.core.errors import DomainError, NotFound, PermissionDenied
from leitplanke.core.events import EVENTS
from leitplanke.core.forms import apply_domain_error
from leitplanke.core.pagination import InvalidCursor, keyset_page

from . import admin_services, reasons, replies, selectors, webhooks
from .forms import ComposerForm, InboundFilterForm, MailboxForm, ReplyForm, TemplateForm, WebhookForm

PAGE_SIZE = 50
ADMIN = permissions.MANAGE_ORGANISATION
TEMPLATES = permissions.MANAGE_TEMPLATES
SECRET_SESSION_KEY = "intake.webhook_secret.%s"  # noqa: S105 - a session key name, not a secret


def _get(getter: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return getter(**kwargs)
    except NotFound:
        raise Http404 from None


def _attempt(form: forms.Form, action: Callable[[], Any]) -> Any:
    """Runs a service call; on a domain error shows it on the form and returns None."""
    try:
        return action()
    except NotFound:
        raise Http404 from None
    except PermissionDenied:
        raise DjangoPermissionDenied from None
    except DomainError as error:
        apply_domain_error(form, error)
        return None


def _status(request: HttpRequest, form: forms.Form) -> int:
    return 400 if request.method == "POST" and form.errors else 200


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- reply composer -------------------------------------------------------------------------


def _reply_initial(case: Any, template: Any, to: str) -> dict[str, Any]:
    version = selectors.latest_version(template)
    return {
        "template": template.pk if template else None,
        "to": to,
        "subject": version.subject if version else "",
        "body": version.body if version else "",
    }


def _reply_problems(form: ReplyForm) -> None:
    """The checks reply_queue makes, shown before the preview instead of after it."""
    data = form.cleaned_data
    if not data.get("to"):
        form.add_error("to", _("Enter the recipient's e-mail address."))
    if not (data.get("subject") or "").strip():
        form.add_error("subject", _("This field is required."))
    if not (data.get("body") or "").strip():
        form.add_error("body", _("This field is required."))
    missing = replies.unknown_placeholders((data.get("subject") or "") + (data.get("body") or ""))
    if missing:
        form.add_error("body", _("Unknown placeholder: %(names)s") % {"names": ", ".join(missing)})


@login_required
@require_http_methods(["GET", "POST"])
def reply(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _get(selectors.reply_case_get, actor=request.user, case_id=case_id)
    if not selectors.may_reply(actor=request.user, case=case):
        raise DjangoPermissionDenied
    templates = selectors.reply_templates_for_case(case)
    by_id = {template.pk: template for template in templates}
    context: dict[str, Any] = {"case": case, "placeholders": replies.PLACEHOLDERS}

    if request.method == "GET":
        if "template" in request.GET:
            chosen = by_id.get(_int(request.GET.get("template")))  # type: ignore[arg-type]
        else:
            chosen = selectors.default_reply_template(case)
        to = request.GET.get("to", selectors.reply_recipient(case))
        form = ReplyForm(initial=_reply_initial(case, chosen, to), templates=templates)
        if getattr(request, "htmx", False) and request.GET.get("partial") == "fields":
            return render(request, "intake/_reply_fields.html", {**context, "form": form})
        return render(request, "intake/reply.html", {**context, "form": form})

    action = request.POST.get("action", "preview")
    if action == "load":
        chosen = by_id.get(_int(request.POST.get("template")))  # type: ignore[arg-type]
        form = ReplyForm(initial=_reply_initial(case, chosen, request.POST.get("to", "")), templates=templates)
        return render(request, "intake/reply.html", {**context, "form": form})

    form = ReplyForm(request.POST, templates=templates)
    if not form.is_valid():
        return render(request, "intake/reply.html", {**context, "form": form}, status=400)
    data = form.cleaned_data
    if action == "send":
        if (
            _attempt(
                form,
                lambda: replies.reply_queue(
                    actor=request.user, case=case, to=data["to"], subject=data["subject"], body=data["body"]
                ),
            )
            is not None
        ):
            messages.success(request, _("Reply queued"))
            return redirect("cases:detail", case_id=case.pk)
        return render(request, "intake/reply.html", {**context, "form": form}, status=400)
    if action == "preview":
        _reply_problems(form)
        if form.errors:
            return render(request, "intake/reply.html", {**context, "form": form}, status=400)
        values = replies.placeholder_values(case, agent=request.user)
        context["preview"] = {
            "to": data["to"],
            "subject": replies.with_reference(replies.render_template_text(data["subject"], values), case),
            "body": replies.render_template_text(data["body"], values),
        }
    return render(request, "intake/reply.html", {**context, "form": form})


# --- composer on the case page ---------------------------------------------------------------


def _transitions(actor: Actor, case: Any, language: str) -> list[tuple[str, str]]:
    """The steps of the case's own process version the actor may take right after sending:
    available ones only (a step that asks for input, such as closing a complaint, is taken
    on the case page where its fields are)."""
    from leitplanke.cases.selectors import available_transitions

    return [
        (a.transition.key, a.transition.label_de if language == "de" else a.transition.label_en)
        for a in available_transitions(actor=actor, case=case)
        if a.available
    ]


def _composer_initial(case: Any, template: Any, to: str, agent: Any) -> dict[str, Any]:
    """The chosen template's subject and text with the case's values already filled in."""
    version = selectors.latest_version(template)
    values = replies.placeholder_values(case, agent=agent, language=getattr(template, "language", None))
    return {
        "template": template.pk if template else None,
        "to": to,
        "subject": replies.render_template_text(version.subject, values) if version else "",
        "body": replies.render_template_text(version.body, values) if version else "",
        "version": case.version,
    }


def _composer_render(request: HttpRequest, case: Any, form: ComposerForm, *, status: int = 200, **extra: Any) -> HttpResponse:
    context = {
        "case": case,
        "form": form,
        "last_message": selectors.last_customer_message(case),
        "placeholders": replies.PLACEHOLDERS,
        **extra,
    }
    if getattr(request, "htmx", False):
        return render(request, "intake/_composer.html", context, status=status)
    return render(request, "intake/composer_page.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def composer(request: HttpRequest, case_id: int) -> HttpResponse:
    """The reply composer under the conversation (htmx; a page of its own without script):
    a template's placeholders filled in when it is chosen, Cc, attachments, preview on
    demand, and "send" with an optional next status in one step."""
    case = _get(selectors.reply_case_get, actor=request.user, case_id=case_id)
    if not selectors.may_reply(actor=request.user, case=case):
        raise DjangoPermissionDenied
    language = (getattr(request, "LANGUAGE_CODE", None) or "de")[:2]
    templates = selectors.reply_templates_for_case(case)
    by_id = {template.pk: template for template in templates}
    transitions = _transitions(request.user, case, language)
    if request.method == "GET":
        if "template" in request.GET:
            chosen = by_id.get(_int(request.GET.get("template")))  # type: ignore[arg-type]
        else:
            chosen = selectors.default_reply_template(case)
        to = request.GET.get("to") or selectors.reply_recipient(case)
        initial = _composer_initial(case, chosen, to, request.user)
        if "template" in request.GET:
            initial["cc"] = request.GET.get("cc", "")
            initial["transition"] = request.GET.get("transition", "")
        form = ComposerForm(initial=initial, templates=templates, transitions=transitions)
        return _composer_render(request, case, form)

    form = ComposerForm(request.POST, request.FILES, templates=templates, transitions=transitions)
    if not form.is_valid():
        return _composer_render(request, case, form, status=400)
    data = form.cleaned_data
    if request.POST.get("action") == "preview":
        _reply_problems(form)
        try:
            cc = replies.clean_cc(data.get("cc") or "")
        except DomainError as error:
            apply_domain_error(form, error)
            cc = []
        if form.errors:
            return _composer_render(request, case, form, status=400)
        values = replies.placeholder_values(case, agent=request.user)
        preview = {
            "to": data["to"],
            "cc": cc,
            "subject": replies.with_reference(replies.render_template_text(data["subject"], values), case),
            "body": replies.render_template_text(data["body"], values),
            "files": [f.name for f in data.get("attachments") or []],
            "transition": dict(transitions).get(data.get("transition") or ""),
        }
        return _composer_render(request, case, form, preview=preview)
    sent = _attempt(
        form,
        lambda: replies.reply_send(
            actor=request.user,
            case=case,
            to=data["to"] or "",
            cc=replies.clean_cc(data.get("cc") or ""),
            subject=data["subject"] or "",
            body=data["body"] or "",
            files=data.get("attachments") or [],
            transition=data.get("transition") or "",
            expected_version=data.get("version"),
        ),
    )
    if sent is None:
        return _composer_render(request, case, form, status=409 if form.errors.get("__all__") else 400)
    text = _("Reply queued")
    if data.get("transition"):
        text = _("Reply queued; status set to “%(status)s”.") % {"status": dict(transitions).get(data["transition"], "")}
    messages.success(request, text)
    target = reverse("cases:detail", args=[case.pk])
    if getattr(request, "htmx", False):
        # The same address (no fragment): the browser loads the page again, with the reply
        # and the new status; a fragment alone would only scroll.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target + f"#interaction-{sent.pk}")


# --- reply templates ------------------------------------------------------------------------


@login_required
@require_capability(TEMPLATES)
def template_list(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/template_list.html", {"templates": selectors.template_list()})


def _template_page(request: HttpRequest, template: Any = None) -> HttpResponse:
    editing = template is not None
    initial: dict[str, Any] = {}
    if editing:
        version = selectors.latest_version(template)
        initial = {
            "key": template.key,
            "language": template.language,
            "name": template.name,
            "purpose": template.purpose,
            "case_type": template.case_type_id,
            "subject": version.subject if version else "",
            "body": version.body if version else "",
        }
    form = TemplateForm(request.POST or None, initial=initial, editing=editing)
    context: dict[str, Any] = {
        "template": template,
        "creating": not editing,
        "placeholders": replies.PLACEHOLDERS,
        "versions": selectors.template_versions(template) if editing else [],
        "latest": selectors.latest_version(template) if editing else None,
        "sibling": selectors.template_sibling(template) if editing else None,
    }
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        action = request.POST.get("action", "save")
        text = data["subject"] + data["body"]
        if action == "check":
            context["check"] = {"unknown": replies.unknown_placeholders(text)}
        elif action == "preview":
            values, preview_case = selectors.SAMPLE_VALUES, None
            if data["preview_reference"]:
                try:
                    preview_case = selectors.preview_case_get(actor=request.user, reference=data["preview_reference"])
                except NotFound:
                    form.add_error("preview_reference", _("No case you can see has this reference."))
                else:
                    values = replies.placeholder_values(preview_case, agent=request.user)
            if not form.errors:
                context["preview"] = {
                    "case": preview_case,
                    "subject": replies.render_template_text(data["subject"], values),
                    "body": replies.render_template_text(data["body"], values),
                    "unknown": replies.unknown_placeholders(text),
                }
        else:
            if not editing and selectors.template_exists(key=data["key"], language=data["language"]):
                form.add_error("key", _("A template with this key and language exists already; edit it instead."))
            else:
                version = _attempt(
                    form,
                    lambda: replies.template_save(
                        actor=request.user,
                        key=data["key"],
                        name=data["name"],
                        language=data["language"],
                        subject=data["subject"],
                        body=data["body"],
                        purpose=data["purpose"],
                        case_type=data["case_type"],
                    ),
                )
                if version is not None:
                    messages.success(
                        request,
                        _("Version %(number)s of “%(name)s” was saved.")
                        % {"number": version.number, "name": version.template.name},
                    )
                    return redirect("intake:template_edit", template_id=version.template_id)
    return render(request, "intake/template_form.html", {**context, "form": form}, status=_status(request, form))


@login_required
@require_capability(TEMPLATES)
@require_http_methods(["GET", "POST"])
def template_create(request: HttpRequest) -> HttpResponse:
    return _template_page(request)


@login_required
@require_capability(TEMPLATES)
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    return _template_page(request, _get(selectors.template_get, template_id=template_id))


@login_required
@require_capability(TEMPLATES)
def template_version(request: HttpRequest, template_id: int, number: int) -> HttpResponse:
    template = _get(selectors.template_get, template_id=template_id)
    version = _get(selectors.template_version_get, template=template, number=number)
    latest = selectors.latest_version(template)
    return render(
        request,
        "intake/template_version.html",
        {
            "template": template,
            "version": version,
            "is_latest": latest is not None and latest.pk == version.pk,
        },
    )


@login_required
@require_capability(TEMPLATES)
@require_POST
def template_active(request: HttpRequest, template_id: int) -> HttpResponse:
    template = _get(selectors.template_get, template_id=template_id)
    active = request.POST.get("is_active") == "1"
    try:
        admin_services.template_set_active(actor=request.user, template=template, is_active=active)
    except PermissionDenied:
        raise DjangoPermissionDenied from None
    messages.success(
        request, _("The template is active again.") if active else _("The template was deactivated; it is no longer offered.")
    )
    return redirect("intake:template_edit", template_id=template.pk)


# --- mailboxes ------------------------------------------------------------------------------


@login_required
@require_capability(ADMIN)
def mailbox_list(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/mailbox_list.html", {"mailboxes": selectors.mailbox_list()})


def _mailbox_values(form: MailboxForm) -> tuple[str, dict[str, Any]]:
    data = dict(form.cleaned_data)
    return data.pop("password", ""), data


@login_required
@require_capability(ADMIN)
@require_http_methods(["GET", "POST"])
def mailbox_create(request: HttpRequest) -> HttpResponse:
    form = MailboxForm(request.POST or None, creating=True)
    if request.method == "POST" and form.is_valid():
        password, values = _mailbox_values(form)
        mailbox = _attempt(form, lambda: admin_services.mailbox_create(actor=request.user, password=password, **values))
        if mailbox is not None:
            messages.success(request, _("The mailbox %(address)s was created.") % {"address": mailbox.address})
            return redirect("intake:mailbox_edit", mailbox_id=mailbox.pk)
    return render(request, "intake/mailbox_form.html", {"form": form, "creating": True}, status=_status(request, form))


@login_required
@require_capability(ADMIN)
@require_http_methods(["GET", "POST"])
def mailbox_edit(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    mailbox = _get(selectors.mailbox_get, mailbox_id=mailbox_id)
    initial = {name: getattr(mailbox, name) for name in admin_services.MAILBOX_FIELDS}
    initial["default_case_type"], initial["default_team"] = mailbox.default_case_type_id, mailbox.default_team_id
    initial["brand"] = mailbox.brand_id
    form = MailboxForm(request.POST or None, initial=initial, creating=False)
    if request.method == "POST" and form.is_valid():
        password, values = _mailbox_values(form)
        if (
            _attempt(
                form, lambda: admin_services.mailbox_update(actor=request.user, mailbox=mailbox, password=password, **values)
            )
            is not None
        ):
            messages.success(request, _("The mailbox was saved."))
            return redirect("intake:mailbox_edit", mailbox_id=mailbox.pk)
    return render(
        request, "intake/mailbox_form.html", {"form": form, "creating": False, "mailbox": mailbox}, status=_status(request, form)
    )


@login_required
@require_capability(ADMIN)
@require_POST
def mailbox_fetch(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    mailbox = _get(selectors.mailbox_get, mailbox_id=mailbox_id)
    try:
        report = admin_services.mailbox_fetch_now(actor=request.user, mailbox=mailbox)
    except PermissionDenied:
        raise DjangoPermissionDenied from None
    summary = _("%(address)s: %(imported)s imported, %(skipped)s skipped.") % {
        "address": report.mailbox,
        "imported": report.imported,
        "skipped": report.skipped,
    }
    if report.errors:
        messages.error(request, summary + " " + _("Errors: %(errors)s") % {"errors": "; ".join(report.errors)[:500]})
    else:
        messages.success(request, summary)
    target = request.POST.get("next", "")
    if target == "edit":
        return redirect("intake:mailbox_edit", mailbox_id=mailbox.pk)
    return redirect("intake:mailboxes")


# --- inbound log and quarantine -------------------------------------------------------------


def _paged(request: HttpRequest, queryset: Any) -> Any:
    return keyset_page(queryset, ordering=["-received_at", "-id"], cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE)


@login_required
@require_capability(ADMIN)
def quarantine_list(request: HttpRequest) -> HttpResponse:
    include = request.GET.get("reprocessed") == "1"
    try:
        page = _paged(request, selectors.quarantine_list(include_reprocessed=include))
    except InvalidCursor:
        return HttpResponseBadRequest(_("The page link is not valid. Start again from the first page."))
    params = {"reprocessed": "1"} if include else {}
    next_url = "?" + urlencode({**params, "cursor": page.next_cursor}) if page.next_cursor else ""
    rows = [
        {
            "inbound": inbound,
            "reprocessable": selectors.is_reprocessable(inbound),
            "acceptable": selectors.is_acceptable(inbound),
            "reason": reasons.reason_text(inbound.reason_code) if inbound.reason_code else "",
        }
        for inbound in page.items
    ]
    return render(
        request,
        "intake/quarantine_list.html",
        {
            "page": page,
            "rows": rows,
            "include_reprocessed": include,
            "next_url": next_url,
            "is_later_page": bool(request.GET.get("cursor")),
        },
    )


@login_required
@require_capability(ADMIN)
def inbound_list(request: HttpRequest) -> HttpResponse:
    filter_form = InboundFilterForm(request.GET)
    status = filter_form.cleaned_data["status"] if filter_form.is_valid() else ""
    try:
        page = _paged(request, selectors.inbound_list(status=status))
    except InvalidCursor:
        return HttpResponseBadRequest(_("The page link is not valid. Start again from the first page."))
    params = {"status": status} if status else {}
    next_url = "?" + urlencode({**params, "cursor": page.next_cursor}) if page.next_cursor else ""
    return render(
        request,
        "intake/inbound_list.html",
        {
            "page": page,
            "filter_form": filter_form,
            "status": status,
            "next_url": next_url,
            "first_url": reverse("intake:inbound") + ("?" + urlencode(params) if params else ""),
            "is_later_page": bool(request.GET.get("cursor")),
        },
    )


@login_required
@require_capability(ADMIN)
def inbound_raw(request: HttpRequest, inbound_id: int) -> HttpResponse:
    inbound = _get(selectors.inbound_get, inbound_id=inbound_id)
    try:
        raw = selectors.inbound_raw(inbound)
    except (OSError, ValueError):
        raise Http404 from None
    response = HttpResponse(raw, content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="inbound-{inbound.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_capability(ADMIN)
@require_POST
def inbound_reprocess(request: HttpRequest, inbound_id: int) -> HttpResponse:
    inbound = _get(selectors.inbound_get, inbound_id=inbound_id)
    try:
        result = admin_services.inbound_reprocess(actor=request.user, inbound=inbound)
    except PermissionDenied:
        raise DjangoPermissionDenied from None
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("intake:quarantine")
    text = _("The message was processed again as #%(id)s: %(status)s.") % {
        "id": result.inbound.pk,
        "status": result.inbound.get_status_display(),
    }
    return _back_to_quarantine(request, result, text)


def _back_to_quarantine(request: HttpRequest, result: Any, text: str) -> HttpResponse:
    """Says what became of a reprocessed or accepted message, with its case."""
    if result.case is not None:
        text += " " + _("Case %(reference)s.") % {"reference": result.case.reference}
    (messages.warning if result.status == selectors.QUARANTINED else messages.success)(request, text)
    return redirect("intake:quarantine")


@login_required
@require_capability(ADMIN)
@require_POST
def inbound_accept(request: HttpRequest, inbound_id: int) -> HttpResponse:
    inbound = _get(selectors.inbound_get, inbound_id=inbound_id)
    try:
        result = admin_services.inbound_accept(actor=request.user, inbound=inbound)
    except PermissionDenied:
        raise DjangoPermissionDenied from None
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("intake:quarantine")
    text = _("The message was accepted: %(status)s.") % {"status": result.inbound.get_status_display()}
    return _back_to_quarantine(request, result, text)


# --- webhooks -------------------------------------------------------------------------------


@login_required
@require_capability(ADMIN)
def webhook_list(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/webhook_list.html", {"endpoints": selectors.webhook_list()})


@login_required
@require_capability(ADMIN)
@require_http_methods(["GET", "POST"])
def webhook_create(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST or None, creating=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        endpoint = _attempt(
            form,
            lambda: webhooks.webhook_endpoint_create(
                actor=request.user,
                url=data["url"],
                events=data["events"],
                description=data["description"],
                allow_private_address=data["allow_private_address"] or "",
            ),
        )
        if endpoint is not None:
            # Shown once, on the next page only: the session entry is removed when it is displayed.
            request.session[SECRET_SESSION_KEY % endpoint.pk] = endpoint.secret
            messages.success(request, _("The webhook was created."))
            return redirect("intake:webhook_edit", endpoint_id=endpoint.pk)
    return render(
        request, "intake/webhook_form.html", {"form": form, "creating": True, "events": EVENTS}, status=_status(request, form)
    )


@login_required
@require_capability(ADMIN)
@require_http_methods(["GET", "POST"])
def webhook_edit(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _get(selectors.webhook_get, endpoint_id=endpoint_id)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "allow_private_address": endpoint.allow_private_address,
        "is_active": endpoint.is_active,
    }
    form = WebhookForm(request.POST or None, initial=initial, creating=False)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if (
            _attempt(
                form,
                lambda: webhooks.webhook_endpoint_update(
                    actor=request.user,
                    endpoint=endpoint,
                    url=data["url"],
                    events=data["events"],
                    description=data["description"],
                    allow_private_address=data["allow_private_address"] or "",
                    is_active=data["is_active"],
                ),
            )
            is not None
        ):
            messages.success(request, _("The webhook was saved."))
            return redirect("intake:webhook_edit", endpoint_id=endpoint.pk)
    secret = request.session.pop(SECRET_SESSION_KEY % endpoint.pk, None) if request.method == "GET" else None
    return render(
        request,
        "intake/webhook_form.html",
        {
            "form": form,
            "creating": False,
            "endpoint": endpoint,
            "secret": secret,
            "deliveries": selectors.webhook_deliveries(endpoint, limit=50),
        },
        status=_status(request, form),
    )


@login_required
@require_capability(ADMIN)
@require_POST
def webhook_redeliver(request: HttpRequest, endpoint_id: int, delivery_id: int) -> HttpResponse:
    endpoint = _get(selectors.webhook_get, endpoint_id=endpoint_id)
    delivery = _get(selectors.webhook_delivery_get, endpoint=endpoint, delivery_id=delivery_id)
    try:
        webhooks.webhook_redeliver(actor=request.user, delivery=delivery)
    except PermissionDenied:
        raise DjangoPermissionDenied from None
    messages.success(request, _("The event “%(event)s” is being delivered again.") % {"event": delivery.event})
    return redirect(reverse("intake:webhook_edit", kwargs={"endpoint_id": endpoint.pk}) + "#deliveries")


# --- the case's public side: status links and an unconfirmed public-form contact -------------


@login_required
@require_http_methods(["GET", "POST"])
def public_access(request: HttpRequest, case_id: int) -> HttpResponse:
    """On the case page (loaded by htmx; a page of its own without JavaScript): the status
    link (revoke: every earlier link dies, a new one is shown once) and the unconfirmed
    contact of a public-form submission (confirm: the case gets the matched customer)."""
    from . import public, status_links

    case = _get(selectors.reply_case_get, actor=request.user, case_id=case_id)
    can_edit = selectors.may_reply(actor=request.user, case=case)
    new_link = ""
    if request.method == "POST":
        if not can_edit:
            raise DjangoPermissionDenied
        action = request.POST.get("action")
        try:
            if action == "revoke":
                new_link = status_links.status_link_revoke(actor=request.user, case=case)
                messages.success(request, _("Status link revoked: earlier links no longer work."))
            elif action == "confirm":
                state = selectors.public_access_state(actor=request.user, case=case)
                if state.contact is None:
                    raise Http404
                public.public_contact_confirm(actor=request.user, contact=state.contact)
                messages.success(request, _("Contact confirmed: the case is now linked to the customer."))
            else:
                return HttpResponseBadRequest()
        except NotFound:
            raise Http404 from None
        except PermissionDenied:
            raise DjangoPermissionDenied from None
        except DomainError as error:
            messages.error(request, str(error.message))
        if not new_link:
            return redirect(reverse("cases:detail", args=[case.pk]) + "#public-access")
    context = {
        "case": case,
        "state": selectors.public_access_state(actor=request.user, case=case),
        "can_edit": can_edit,
        "new_link": new_link,
    }
    partial = bool(getattr(request, "htmx", False)) and request.method == "GET"
    template = "intake/_public_access.html" if partial else "intake/public_access.html"
    return render(request, template, context)
