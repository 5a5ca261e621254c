"""Administration in the app's own UI: organisation, users, teams, roles, skills, absences,
background tasks and the audit log.

Thin views: forms check the shape of the input, services write (and audit), selectors read.
Changes are POST only; success redirects (PRG) with a message; errors re-render the form
with status 400 and keep what was typed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from leitplanke.core import selectors as core_selectors
from leitplanke.core.days import day_start
from leitplanke.core.errors import DomainError, NotFound
from leitplanke.core.forms import attempt
from leitplanke.core.pagination import InvalidCursor, keyset_page

from . import admin_forms, permissions, selectors, services
from .decorators import require_capability

PAGE_SIZE = 50
ADMIN = permissions.MANAGE_ORGANISATION
AUDIT = permissions.VIEW_AUDIT


def _posted(request: HttpRequest, form: forms.Form) -> bool:
    return request.method == "POST" and form.is_valid()


def _form_page(request: HttpRequest, template: str, context: dict[str, Any], form: forms.Form) -> HttpResponse:
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, template, {**context, "form": form}, status=status)


def _get(getter: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return getter(**kwargs)
    except NotFound:
        raise Http404 from None


# --- overview ---------------------------------------------------------------------------------


@login_required
@require_capability(ADMIN, AUDIT, permissions.MANAGE_TEMPLATES, permissions.MANAGE_MATURITY, permissions.MANAGE_PROCESSES)
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/settings/index.html",
        {
            "can_manage_templates": permissions.has_capability(request.user, permissions.MANAGE_TEMPLATES),
        },
    )


# --- organisation -----------------------------------------------------------------------------


@login_required
@require_capability(ADMIN)
@require_http_methods(["GET", "POST"])
def organisation(request: HttpRequest) -> HttpResponse:
    current = services.organisation_get()
    initial = {field: getattr(current, field) for field in services.ORG_FIELDS}
    form = admin_forms.OrganisationForm(request.POST or None, request.FILES or None, initial=initial)

    def save() -> bool:
        data = dict(form.cleaned_data)
        logo, remove_logo = data.pop("logo", None), data.pop("remove_logo", False)
        with transaction.atomic():
            services.organisation_update(actor=request.user, **data)
            if logo is not None or remove_logo:
                services.organisation_logo_set(actor=request.user, upload=logo)
        return True

    if _posted(request, form) and attempt(form, save):
        messages.success(request, _("The organisation settings were saved."))
        return redirect("settings:organisation")
    context = {"has_logo": bool(current.logo_sha256), "logo_version": current.logo_sha256[:16]}
    return _form_page(request, "accounts/settings/organisation.html", context, form)


# --- brands (sending identities) ---------------------------------------------------------------


@login_required
@require_capability(ADMIN)
def brand_list(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/settings/brand_list.html", {"brands": selectors.brand_list(actor=request.user)})


def _save_brand(request: HttpRequest, form: forms.Form, brand: Any = None) -> Any:
    data = dict(form.cleaned_data)
    logo, remove_logo = data.pop("logo", None), data.pop("remove_logo", False)
    with transaction.atomic():
        if brand is None:
            brand = services.brand_create(actor=request.user, **data)
        else:
            brand = services.brand_update(actor=request.user, brand=brand, **data)
        if logo is not None or remove_logo:
            brand = services.brand_logo_set(actor=request.user, brand=brand, upload=logo)
    return brand


@login_required
@require_capability(ADMIN)
@require_http_methods(["GET", "POST"])
def brand_create(request: HttpRequest) -> HttpResponse:
    form = admin_forms.BrandForm(request.POST or None, request.FILES or None)
    if _posted(request, form):
        brand = attempt(form, lambda: _save_brand(request, form))
        if brand is not None:
            messages.success(request, _("The brand %(name)s was created.") % {"name": brand.name})
            return redirect("settings:brands")
    return _form_page(request, "accounts/settings/brand_form.html", {"creating": True}, form)


@login_required
@require_capability(ADMIN)
@require_http_methods(["GET", "POST"])
def brand_edit(request: HttpRequest, brand_id: int) -> HttpResponse:
    brand = _get(selectors.brand_get, actor=request.user, brand_id=brand_id)
    initial = {field: getattr(brand, field) for field in services.BRAND_FIELDS}
    form = admin_forms.BrandForm(request.POST or None, request.FILES or None, initial=initial)
    if _posted(request, form) and attempt(form, lambda: _save_brand(request, form, brand)):
        messages.success(request, _("The brand %(name)s was saved.") % {"name": brand.name})
        return redirect("settings:brands")
    return _form_page(request, "accounts/settings/brand_form.html", {"brand": brand}, form)


# --- users ------------------------------------------------------------------------------------


@login_required
@require_capability(ADMIN)
def user_list(request: HttpRequest) -> HttpResponse:
    search_form = admin_forms.UserSearchForm(request.GET)
    search = search_form.cleaned_data["q"].strip() if search_form.is_valid() else ""
    try:
        page = keyset_page(
            selectors.user_list(actor=request.user, search=search),
            ordering=["full_name", "id"],
            cursor=request.GET.get("cursor") or None,
            limit=PAGE_SIZE,
        )
    except InvalidCursor:
        return HttpResponseBadRequest(_("The page link is not valid. Start again from the first page."))
    next_url = "?" + urlencode({**({"q": search} if search else {}), "cursor": page.next_cursor}) if page.next_cursor else ""
    return render(
        request,
        "accounts/settings/user_list.html",
        {
            "page": page,
            "search_form": search_form,
            "search": search,
            "next_url": next_url,
            "is_later_page": bool(request.GET.get("cursor")),
        },
    )


@login_required
@require_capability(ADMIN)
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    form = admin_forms.UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        password = data.pop("password", "") or None
        user = attempt(form, lambda: services.user_create(actor=request.user, password=password, **data))
        if user is not None:
            messages.success(request, _("The user %(name)s was created.") % {"name": user.full_name})
            if password is None:
                _send_password_link(request, user)
            return redirect("settings:user_edit", user_id=user.pk)
    return _form_page(request, "accounts/settings/user_form.html", {"creating": True}, form)


def _send_password_link(request: HttpRequest, user: Any) -> None:
    try:
        services.user_send_password_link(actor=request.user, user=user, base_url=request.build_absolute_uri("/"))
    except DomainError as error:
        messages.error(request, str(error.message))
    except OSError:
        # The mail server is unreachable: say so instead of pretending the mail went out.
        messages.warning(
            request,
            _(
                "The e-mail with the password link could not be sent. Check the mail settings, then use "
                "“Send password link” on this page."
            ),
        )
    else:
        messages.info(request, _("An e-mail with a link to choose a password was sent to %(email)s.") % {"email": user.email})


def _user_initial(user: Any) -> dict[str, Any]:
    return {
        "email": user.email,
        "full_name": user.full_name,
        "language": user.language,
        "is_active": user.is_active,
        "roles": list(user.roles.all()),
        "teams": list(user.teams.all()),
    }


def _user_edit_context(request: HttpRequest, user: Any, **forms_: Any) -> dict[str, Any]:
    return {
        "edited_user": user,
        "skill_form": forms_.get("skill_form") or admin_forms.UserSkillForm(prefix="skill"),
        "absence_form": forms_.get("absence_form") or admin_forms.AbsenceForm(prefix="absence"),
        "user_skills": list(user.skills.all()),
        "absences": list(selectors.user_absences(actor=request.user, user=user)[:50]),
        "has_password": user.has_usable_password(),
    }


@login_required
@require_capability(ADMIN)
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _get(selectors.user_get, actor=request.user, user_id=user_id)
    form = admin_forms.UserForm(request.POST or None, initial=_user_initial(user), user=user)
    if _posted(request, form) and attempt(form, lambda: services.user_update(actor=request.user, user=user, **form.cleaned_data)):
        messages.success(request, _("The user %(name)s was saved.") % {"name": form.cleaned_data["full_name"]})
        return redirect("settings:user_edit", user_id=user.pk)
    return _form_page(request, "accounts/settings/user_form.html", _user_edit_context(request, user), form)


@login_required
@require_capability(ADMIN)
@require_POST
def user_password_link(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _get(selectors.user_get, actor=request.user, user_id=user_id)
    _send_password_link(request, user)
    return redirect("settings:user_edit", user_id=user.pk)


@login_required
@require_capability(ADMIN)
@require_POST
def user_skill_add(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _get(selectors.user_get, actor=request.user, user_id=user_id)
    form = admin_forms.UserSkillForm(request.POST, prefix="skill")
    if form.is_valid() and attempt(form, lambda: services.user_skill_set(actor=request.user, user=user, **form.cleaned_data)):
        messages.success(request, _("%(skill)s was saved.") % {"skill": form.cleaned_data["skill"].label})
        return redirect("settings:user_edit", user_id=user.pk)
    user_form = admin_forms.UserForm(initial=_user_initial(user), user=user)
    context = _user_edit_context(request, user, skill_form=form)
    return render(request, "accounts/settings/user_form.html", {**context, "form": user_form}, status=400)


@login_required
@require_capability(ADMIN)
@require_POST
def user_skill_remove(request: HttpRequest, user_id: int, skill_id: int) -> HttpResponse:
    user = _get(selectors.user_get, actor=request.user, user_id=user_id)
    skill = _get(selectors.skill_get, actor=request.user, skill_id=skill_id)
    try:
        services.user_skill_remove(actor=request.user, user=user, skill=skill)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("%(skill)s was removed.") % {"skill": skill.label})
    return redirect("settings:user_edit", user_id=user.pk)


@login_required
@require_capability(ADMIN)
@require_POST
def user_absence_add(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _get(selectors.user_get, actor=request.user, user_id=user_id)
    form = admin_forms.AbsenceForm(request.POST, prefix="absence")
    if form.is_valid() and attempt(form, lambda: services.absence_create(actor=request.user, user=user, **form.cleaned_data)):
        messages.success(request, _("The absence was added."))
        return redirect("settings:user_edit", user_id=user.pk)
    user_form = admin_forms.UserForm(initial=_user_initial(user), user=user)
    context = _user_edit_context(request, user, absence_form=form)
    return render(request, "accounts/settings/user_form.html", {**context, "form": user_form}, status=400)


@login_required
@require_capability(ADMIN)
@require_POST
def absence_delete(request: HttpRequest, absence_id: int) -> HttpResponse:
    absence = _get(selectors.absence_get, actor=request.user, absence_id=absence_id)
    user_id = absence.user_id
    try:
        services.absence_delete(actor=request.user, absence=absence)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The absence was removed."))
    if request.POST.get("next") == "absences":
        return redirect("settings:absences")
    return redirect("settings:user_edit", user_id=user_id)


# --- teams ------------------------------------------------------------------------------------


@login_required
@require_capability(ADMIN)
def team_list(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/settings/team_list.html", {"teams": selectors.team_list_for_admin(actor=request.user)})


@login_required
@require_capability(ADMIN)
@require_http_methods(["GET", "POST"])
def team_create(request: HttpRequest) -> HttpResponse:
    form = admin_forms.TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        is_active = data.pop("is_active")

        def create() -> Any:
            team = services.team_create(actor=request.user, **data)
            if not is_active:
                team = services.team_update(actor=request.user, team=team, is_active=False)
            return team

        team = attempt(form, create)
        if team is not None:
            messages.success(request, _("The team %(name)s was created.") % {"name": team.name})
            return redirect("settings:teams")
    return _form_page(request, "accounts/settings/team_form.html", {"creating": True}, form)


@login_required
@require_capability(ADMIN)
@require_http_methods(["GET", "POST"])
def team_edit(request: HttpRequest, team_id: int) -> HttpResponse:
    team = _get(selectors.team_get, actor=request.user, team_id=team_id)
    initial = {
        "name": team.name,
        "description": team.description,
        "email": team.email,
        "lead": team.lead,
        "members": list(team.members.all()),
        "parent": team.parent_id,
        "is_active": team.is_active,
    }
    form = admin_forms.TeamForm(request.POST or None, initial=initial, team=team)
    if _posted(request, form) and attempt(form, lambda: services.team_update(actor=request.user, team=team, **form.cleaned_data)):
        messages.success(request, _("The team %(name)s was saved.") % {"name": form.cleaned_data["name"]})
        return redirect("settings:teams")
    return _form_page(request, "accounts/settings/team_form.html", {"team": team}, form)


# --- roles ------------------------------------------------------------------------------------


@login_required
@require_capability(ADMIN)
def role_list(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/settings/role_list.html", {"roles": selectors.role_list_with_counts(actor=request.user)})


@login_required
@require_capability(ADMIN)
@require_http_methods(["GET", "POST"])
def role_create(request: HttpRequest) -> HttpResponse:
    form = admin_forms.RoleForm(request.POST or None, creating=True)
    if request.method == "POST" and form.is_valid():
        role = attempt(form, lambda: services.role_create(actor=request.user, **form.cleaned_data))
        if role is not None:
            messages.success(request, _("The role %(name)s was created.") % {"name": role.label})
            return redirect("settings:roles")
    return _form_page(request, "accounts/settings/role_form.html", {"creating": True}, form)


@login_required
@require_capability(ADMIN)
@require_http_methods(["GET", "POST"])
def role_edit(request: HttpRequest, role_id: int) -> HttpResponse:
    role = _get(selectors.role_get, actor=request.user, role_id=role_id)
    initial = {
        "name_de": role.name_de,
        "name_en": role.name_en,
        "description": role.description,
        "capabilities": list(role.capabilities),
    }
    form = admin_forms.RoleForm(request.POST or None, initial=initial)
    if _posted(request, form) and attempt(form, lambda: services.role_update(actor=request.user, role=role, **form.cleaned_data)):
        messages.success(request, _("The role was saved."))
        return redirect("settings:roles")
    return _form_page(request, "accounts/settings/role_form.html", {"role": role}, form)


# --- skills and qualifications ----------------------------------------------------------------


@login_required
@require_capability(ADMIN)
@require_http_methods(["GET", "POST"])
def skill_list(request: HttpRequest) -> HttpResponse:
    """The catalogue of skills and qualifications, with the form to add one below it."""
    form = admin_forms.SkillForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        skill = attempt(form, lambda: services.skill_create(actor=request.user, **form.cleaned_data))
        if skill is not None:
            messages.success(request, _("%(skill)s was created.") % {"skill": skill.label})
            return redirect("settings:skills")
    context = {"skills": selectors.skill_list_with_counts(actor=request.user)}
    return _form_page(request, "accounts/settings/skill_list.html", context, form)


# --- absences ---------------------------------------------------------------------------------


@login_required
@require_capability(ADMIN)
def absence_list(request: HttpRequest) -> HttpResponse:
    absences = selectors.absence_list(actor=request.user, current_only=True).order_by("starts_on", "user__full_name", "id")
    return render(request, "accounts/settings/absence_list.html", {"absences": absences[:500]})


# --- background tasks -------------------------------------------------------------------------


@login_required
@require_capability(ADMIN)
def task_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/settings/task_list.html",
        {
            "failures": selectors.task_failures(actor=request.user, limit=100),
            "ready_count": selectors.task_ready_count(actor=request.user),
            "unsealed_alarm": core_selectors.stale_unsealed_audit_events(),
        },
    )


# --- audit log --------------------------------------------------------------------------------


@login_required
@require_capability(AUDIT)
def audit_list(request: HttpRequest) -> HttpResponse:
    filter_form = admin_forms.AuditFilterForm(request.GET)
    filters = filter_form.cleaned_data if filter_form.is_valid() else {}
    events = selectors.audit_event_list(
        actor=request.user,
        action=filters.get("action", ""),
        object_type=filters.get("object_type", ""),
        object_id=filters.get("object_id", ""),
        actor_email=filters.get("actor", ""),
        occurred_from=_day_start(filters.get("occurred_from")),
        occurred_until=_day_start(filters.get("occurred_until"), days_later=1),
    )
    try:
        by_time = bool(filters.get("occurred_from") or filters.get("occurred_until"))
        ordering = selectors.AUDIT_TIME_ORDERING if by_time else selectors.AUDIT_ORDERING
        page = keyset_page(events, ordering=ordering, cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE)
    except InvalidCursor:
        return HttpResponseBadRequest(_("The page link is not valid. Start again from the first page."))
    for event in page.items:
        # Shown as JSON, the same shape as stored and hashed.
        event.before_json = _pretty_json(event.before)  # type: ignore[attr-defined]
        event.after_json = _pretty_json(event.after)  # type: ignore[attr-defined]
    active_filters = {key: str(value) for key, value in filters.items() if value}
    next_url = "?" + urlencode({**active_filters, "cursor": page.next_cursor}) if page.next_cursor else ""
    first_url = "?" + urlencode(active_filters) if active_filters else "?"
    return render(
        request,
        "accounts/settings/audit_list.html",
        {
            "page": page,
            "filter_form": filter_form,
            "next_url": next_url,
            "first_url": first_url,
            "has_filters": bool(active_filters),
            "is_later_page": bool(request.GET.get("cursor")),
        },
    )


def _day_start(day: dt.date | None, *, days_later: int = 0) -> dt.datetime | None:
    """Midnight (local time) at the start of `day` (+ days_later), for the audit log's date filter."""
    if day is None:
        return None
    return day_start(day, days_later=days_later)


def _pretty_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
