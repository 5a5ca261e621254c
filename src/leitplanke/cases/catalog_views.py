"""Administration of the case catalogue in Settings: case types with their custom fields,
and the category tree.

Thin views: forms shape the input, catalog_services write (and audit), catalog_selectors
read. Changes are POST only; success redirects with a message; errors re-render the form
with status 400 and keep what was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from leitplanke.accounts import permissions
from leitplanke.accounts.decorators import require_capability
from leitplanke.core.errors import NotFound
from leitplanke.core.forms import attempt

from . import catalog_selectors as selectors
from . import catalog_services as services
from .catalog_forms import CaseTypeForm, CategoryCreateForm, CategoryEditForm, CustomFieldForm

ADMIN = permissions.MANAGE_ORGANISATION


def _get(getter: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return getter(**kwargs)
    except NotFound:
        raise Http404 from None


def _status(request: HttpRequest, *forms_: forms.Form) -> int:
    return 400 if request.method == "POST" and any(form.is_bound and form.errors for form in forms_) else 200


# --- case types ---------------------------------------------------------------------------------


@login_required
@require_capability(ADMIN)
def case_type_list(request: HttpRequest) -> HttpResponse:
    return render(request, "cases/catalog/case_type_list.html", {"case_types": selectors.case_type_list(actor=request.user)})


@login_required
@require_capability(ADMIN)
@require_http_methods(["GET", "POST"])
def case_type_create(request: HttpRequest) -> HttpResponse:
    form = CaseTypeForm(request.POST or None, creating=True, initial={"acknowledgement_enabled": True, "is_active": True})
    if request.method == "POST" and form.is_valid():
        case_type = attempt(form, lambda: services.case_type_create(actor=request.user, **form.cleaned_data))
        if case_type is not None:
            messages.success(request, _("The case type %(name)s was created.") % {"name": case_type.label})
            return redirect("catalog:case_type_edit", case_type_id=case_type.pk)
    return render(request, "cases/catalog/case_type_form.html", {"creating": True, "form": form}, status=_status(request, form))


def _case_type_page(request: HttpRequest, case_type: Any, form: forms.Form, field_form: forms.Form, status: int) -> HttpResponse:
    context = {
        "case_type": case_type,
        "form": form,
        "field_form": field_form,
        "custom_fields": selectors.custom_field_list(actor=request.user, case_type=case_type),
    }
    return render(request, "cases/catalog/case_type_form.html", context, status=status)


def _case_type_initial(case_type: Any) -> dict[str, Any]:
    initial = {name: getattr(case_type, name) for name in services.CASE_TYPE_EDITABLE if name != "brand"}
    initial["brand"] = case_type.brand_id
    return initial


@login_required
@require_capability(ADMIN)
@require_http_methods(["GET", "POST"])
def case_type_edit(request: HttpRequest, case_type_id: int) -> HttpResponse:
    case_type = _get(selectors.case_type_get, actor=request.user, case_type_id=case_type_id)
    form = CaseTypeForm(request.POST or None, initial=_case_type_initial(case_type))
    if request.method == "POST" and form.is_valid():
        saved = attempt(form, lambda: services.case_type_update(actor=request.user, case_type=case_type, **form.cleaned_data))
        if saved is not None:
            messages.success(request, _("The case type %(name)s was saved.") % {"name": saved.label})
            return redirect("catalog:case_type_edit", case_type_id=saved.pk)
    field_form = CustomFieldForm(creating=True, auto_id="id_field_%s")
    return _case_type_page(request, case_type, form, field_form, _status(request, form))


# --- custom fields ------------------------------------------------------------------------------


@login_required
@require_capability(ADMIN)
@require_http_methods(["GET", "POST"])
def custom_field_create(request: HttpRequest, case_type_id: int) -> HttpResponse:
    case_type = _get(selectors.case_type_get, actor=request.user, case_type_id=case_type_id)
    if request.method == "GET":
        return redirect("catalog:case_type_edit", case_type_id=case_type.pk)
    field_form = CustomFieldForm(request.POST, creating=True, auto_id="id_field_%s")
    if field_form.is_valid():
        definition = attempt(
            field_form,
            lambda: services.custom_field_create(actor=request.user, case_type=case_type, **field_form.cleaned_data),
        )
        if definition is not None:
            messages.success(request, _("The field %(label)s was added.") % {"label": definition.label_en})
            return redirect("catalog:case_type_edit", case_type_id=case_type.pk)
    form = CaseTypeForm(initial=_case_type_initial(case_type))
    return _case_type_page(request, case_type, form, field_form, 400)


@login_required
@require_capability(ADMIN)
@require_http_methods(["GET", "POST"])
def custom_field_edit(request: HttpRequest, case_type_id: int, field_id: int) -> HttpResponse:
    case_type = _get(selectors.case_type_get, actor=request.user, case_type_id=case_type_id)
    definition = _get(selectors.custom_field_get, actor=request.user, case_type=case_type, field_id=field_id)
    initial = {name: getattr(definition, name) for name in services.CUSTOM_FIELD_EDITABLE}
    initial["choices"] = services.choices_to_lines(definition.choices)
    form = CustomFieldForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = attempt(
            form, lambda: services.custom_field_update(actor=request.user, definition=definition, **form.cleaned_data)
        )
        if saved is not None:
            messages.success(request, _("The field %(label)s was saved.") % {"label": saved.label_en})
            return redirect("catalog:case_type_edit", case_type_id=case_type.pk)
    return render(
        request,
        "cases/catalog/custom_field_form.html",
        {"case_type": case_type, "definition": definition, "form": form},
        status=_status(request, form),
    )


# --- categories ---------------------------------------------------------------------------------


@login_required
@require_capability(ADMIN)
def category_list(request: HttpRequest) -> HttpResponse:
    # Indentation by depth with em spaces: the content security policy forbids inline styles.
    rows = [
        {"category": category, "indent": "\u2003\u2003" * category.depth + ("\u21b3 " if category.depth else "")}
        for category in selectors.category_tree(actor=request.user)
    ]
    return render(request, "cases/catalog/category_list.html", {"rows": rows})


@login_required
@require_capability(ADMIN)
@require_http_methods(["GET", "POST"])
def category_create(request: HttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {}
    parent_id = request.GET.get("parent", "")
    if parent_id.isdigit():
        initial["parent"] = _get(selectors.category_get, actor=request.user, category_id=int(parent_id))
    form = CategoryCreateForm(request.POST or None, actor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        category = attempt(form, lambda: services.category_create(actor=request.user, **form.cleaned_data))
        if category is not None:
            messages.success(request, _("The category %(name)s was added.") % {"name": category.label})
            return redirect("catalog:categories")
    return render(
        request,
        "cases/catalog/category_form.html",
        {"creating": True, "parent": initial.get("parent"), "form": form},
        status=_status(request, form),
    )


@login_required
@require_capability(ADMIN)
@require_http_methods(["GET", "POST"])
def category_edit(request: HttpRequest, category_id: int) -> HttpResponse:
    category = _get(selectors.category_get, actor=request.user, category_id=category_id)
    initial = {name: getattr(category, name) for name in services.CATEGORY_FIELDS}
    form = CategoryEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = attempt(form, lambda: services.category_update(actor=request.user, category=category, **form.cleaned_data))
        if saved is not None:
            messages.success(request, _("The category %(name)s was saved.") % {"name": saved.label})
            return redirect("catalog:categories")
    return render(
        request, "cases/catalog/category_form.html", {"category": category, "form": form}, status=_status(request, form)
    )
