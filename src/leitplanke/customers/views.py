"""Customer pages: list and search, detail, create, edit, merge, consents, contracts (add
and end), the audited vulnerability reason, and the product catalogue. Thin: services
write, selectors read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from leitplanke.accounts import permissions
from leitplanke.accounts.decorators import require_capability
from leitplanke.cases import customer_services as merging
from leitplanke.cases import selectors as case_selectors
from leitplanke.core.errors import DomainError, NotFound, PermissionDenied, PreconditionFailed
from leitplanke.core.forms import apply_domain_error, attempt
from leitplanke.core.pagination import InvalidCursor

from . import forms as customer_forms
from . import selectors, services

SEE = (permissions.VIEW_TEAM_CASES, permissions.VIEW_ALL_CASES)
MANAGE = permissions.MANAGE_CUSTOMERS


def _call(getter: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return getter(**kwargs)
    except NotFound:
        raise Http404 from None
    except PermissionDenied:
        raise DjangoPermissionDenied from None


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], form: forms.Form | None = None, status: int | None = None
) -> HttpResponse:
    if form is not None:
        context = {**context, "form": form}
        if status is None:
            status = 400 if request.method == "POST" and form.errors else 200
    return render(request, template, context, status=status or 200)


def _context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    return {
        "can_manage": selectors.can_manage_customers(user),
        "can_merge": selectors.can_merge_customers(user),
        "can_see_sensitive": selectors.can_see_sensitive(user),
        "can_manage_products": selectors.can_manage_products(user),
    }


# --- list ---------------------------------------------------------------------------------


@login_required
@require_capability(*SEE)
def customer_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:200]
    try:
        page = selectors.customer_search(actor=request.user, q=q, cursor=request.GET.get("cursor") or None, limit=25)
    except InvalidCursor:
        page = selectors.customer_search(actor=request.user, q=q, limit=25)
    context = {**_context(request), "page": page, "customers": page.items, "q": q, "is_first_page": not request.GET.get("cursor")}
    return render(request, "customers/customer_list.html", context)


# --- detail -------------------------------------------------------------------------------


def _end_form_prefix(contract: Any) -> str:
    return f"end-{contract.pk}"  # one form per contract row: unique field ids on the page


def _detail_context(request: HttpRequest, customer: Any, end_forms: dict[int, forms.Form] | None = None) -> dict[str, Any]:
    """`end_forms`: bound "End contract" forms by contract id, to show their errors."""
    user = request.user
    consent_form = customer_forms.ConsentForm()
    can_manage = selectors.can_manage_customers(user)
    contracts = list(customer.contracts.all())
    today = timezone.localdate()
    for contract in contracts:
        if end_forms and contract.pk in end_forms:
            contract.end_form = end_forms[contract.pk]
        elif can_manage and contract.status != services.ContractStatus.ENDED:
            contract.end_form = customer_forms.ContractEndForm(prefix=_end_form_prefix(contract), initial={"ends_on": today})
    context = {
        **_context(request),
        "customer": customer,
        "can_create_case": permissions.has_capability(user, permissions.EDIT_CASES),
        "emails": list(customer.emails.all()),
        "phones": list(customer.phones.all()),
        "contracts": contracts,
        "consents": list(customer.consents.all()),
        "consent_states": selectors.consent_states(customer),
        # The view layer composes the apps: the cases app knows which cases the user may see.
        "cases": case_selectors.customer_cases(actor=user, customer_id=customer.pk),
        "consent_form": consent_form,
    }
    if context["can_manage"]:
        context["contract_form"] = customer_forms.ContractForm(
            products=selectors.product_list(active_only=True), prefix="contract"
        )
    return context


@login_required
@require_capability(*SEE)
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _call(selectors.customer_get, actor=request.user, customer_id=customer_id)
    return render(request, "customers/customer_detail.html", _detail_context(request, customer))


@login_required
@require_capability(permissions.VIEW_SENSITIVE)
@require_POST
def vulnerability_reason(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Shows the reason once, after writing an audit event (POST: reading it has an effect)."""
    customer = _call(selectors.customer_get, actor=request.user, customer_id=customer_id)
    reason = _call(services.vulnerability_view, actor=request.user, customer=customer)
    context = {**_context(request), "customer": customer, "reason": reason, "revealed": True}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "customers/_vulnerability_panel.html", context)
    return render(request, "customers/vulnerability_reason.html", context)


@login_required
@require_capability(MANAGE)
@require_POST
def consent_create(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _call(selectors.customer_get, actor=request.user, customer_id=customer_id)
    form = customer_forms.ConsentForm(request.POST)
    if form.is_valid() and attempt(
        form, lambda: services.consent_record(actor=request.user, customer=customer, **form.cleaned_data)
    ):
        messages.success(request, _("The consent was recorded."))
        return redirect("customers:detail", customer_id=customer.pk)
    context = {**_detail_context(request, customer), "consent_form": form}
    return render(request, "customers/customer_detail.html", context, status=400)


@login_required
@require_capability(MANAGE)
@require_POST
def contract_create(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _call(selectors.customer_get, actor=request.user, customer_id=customer_id)
    products = selectors.product_list(active_only=True)
    form = customer_forms.ContractForm(request.POST, products=products, prefix="contract")
    if form.is_valid():
        data = dict(form.cleaned_data)
        product = products.filter(pk=data.pop("product")).first()
        if product is None:
            form.add_error("product", _("Choose a product."))
        elif attempt(form, lambda: services.contract_create(actor=request.user, customer=customer, product=product, **data)):
            messages.success(request, _("The contract was added."))
            return redirect("customers:detail", customer_id=customer.pk)
    context = {**_detail_context(request, customer), "contract_form": form}
    return render(request, "customers/customer_detail.html", context, status=400)


@login_required
@require_capability(MANAGE)
@require_POST
def contract_end(request: HttpRequest, customer_id: int, contract_id: int) -> HttpResponse:
    contract = _call(selectors.customer_contract, actor=request.user, customer_id=customer_id, contract_id=contract_id)
    form = customer_forms.ContractEndForm(request.POST, prefix=_end_form_prefix(contract))
    if form.is_valid() and attempt(
        form, lambda: services.contract_end(actor=request.user, contract=contract, ends_on=form.cleaned_data["ends_on"])
    ):
        messages.success(request, _("The contract %(number)s was ended.") % {"number": contract.contract_number})
        return redirect("customers:detail", customer_id=customer_id)
    # Only a refused end shows the page again: the whole customer is read just for that.
    customer = _call(selectors.customer_get, actor=request.user, customer_id=customer_id)
    context = _detail_context(request, customer, end_forms={contract.pk: form})
    return render(request, "customers/customer_detail.html", context, status=400)


# --- create and edit ----------------------------------------------------------------------


@login_required
@require_capability(MANAGE)
@require_http_methods(["GET", "POST"])
def customer_create(request: HttpRequest) -> HttpResponse:
    sensitive = selectors.can_see_sensitive(request.user)
    form = customer_forms.CustomerForm(request.POST or None, creating=True, sensitive=sensitive)
    if request.method == "POST" and form.is_valid():
        customer = attempt(form, lambda: services.customer_create(actor=request.user, **form.service_kwargs()))
        if customer is not None:
            messages.success(request, _("The customer %(name)s was created.") % {"name": customer.display_name})
            return redirect("customers:detail", customer_id=customer.pk)
    return _page(request, "customers/customer_form.html", {"creating": True}, form)


def _initial(customer: Any) -> dict[str, Any]:
    initial = {
        name: getattr(customer, name)
        for name in (
            "kind",
            "salutation",
            "title",
            "first_name",
            "last_name",
            "organisation_name",
            "preferred_language",
            "segment",
            "value_amount",
            "value_currency",
            "customer_since",
            "street",
            "postal_code",
            "city",
            "country",
            "region",
            "version",
        )
    }
    initial["emails"] = "\n".join(e.address for e in customer.emails.all())
    initial["phones"] = "\n".join(p.number for p in customer.phones.all())
    initial["is_vulnerable"] = bool(customer.is_vulnerable)
    return initial


@login_required
@require_capability(MANAGE)
@require_http_methods(["GET", "POST"])
def customer_edit(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _call(selectors.customer_get, actor=request.user, customer_id=customer_id)
    if customer.merged_into_id:
        messages.warning(request, _("This customer was merged into another one and cannot be changed."))
        return redirect("customers:detail", customer_id=customer.pk)
    sensitive = selectors.can_see_sensitive(request.user)
    form = customer_forms.CustomerForm(request.POST or None, creating=False, sensitive=sensitive, initial=_initial(customer))
    conflict = False
    if request.method == "POST" and form.is_valid():
        data = form.service_kwargs()
        if sensitive and not data.get("vulnerability_reason"):
            data.pop("vulnerability_reason", None)  # empty means: keep the recorded reason
        try:
            services.customer_update(
                actor=request.user, customer=customer, expected_version=form.cleaned_data.get("version"), **data
            )
        except PreconditionFailed:
            conflict = True
            form.add_error(
                None,
                _(
                    "Someone else changed this customer while you were editing. Your input is kept below; "
                    "check the current data and save again."
                ),
            )
            current = _call(selectors.customer_get, actor=request.user, customer_id=customer_id)
            # The next save is checked against the version the user has now seen.
            data = request.POST.copy()
            data["version"] = str(current.version)
            form.data = data
            customer = current
        except NotFound:
            raise Http404 from None
        except DomainError as error:
            if isinstance(error, PermissionDenied) and not error.field_errors:
                form.add_error(None, str(error.message))
            else:
                apply_domain_error(form, error)
        else:
            messages.success(request, _("The customer %(name)s was saved.") % {"name": customer.display_name})
            return redirect("customers:detail", customer_id=customer.pk)
    return _page(
        request,
        "customers/customer_form.html",
        {"customer": customer, "conflict": conflict},
        form,
        status=409 if conflict else None,
    )


# --- merge --------------------------------------------------------------------------------


@login_required
@require_capability(permissions.MERGE_CUSTOMERS)
@require_http_methods(["GET", "POST"])
def customer_merge(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Step 1: choose the duplicate by number; step 2: confirm what moves; then merge."""
    survivor = _call(selectors.customer_get, actor=request.user, customer_id=customer_id)
    form = customer_forms.MergeForm(request.POST or request.GET or None)
    context: dict[str, Any] = {"survivor": survivor}
    if form.is_bound and form.is_valid():
        try:
            duplicate = selectors.customer_get_by_number(
                actor=request.user, customer_number=form.cleaned_data["duplicate_number"]
            )
        except NotFound:
            form.add_error("duplicate_number", _("No customer has this number."))
        else:
            if duplicate.pk == survivor.pk:
                form.add_error("duplicate_number", _("A customer cannot be merged into itself."))
            elif duplicate.merged_into_id:
                form.add_error("duplicate_number", _("This customer was merged already."))
            elif survivor.merged_into_id:
                form.add_error(None, _("This customer was merged into another one; merge into that one instead."))
            elif request.method == "POST" and request.POST.get("confirm") == "yes":
                moved = attempt(form, lambda: merging.customer_merge(actor=request.user, survivor=survivor, duplicate=duplicate))
                if moved is not None:
                    messages.success(
                        request,
                        _("%(duplicate)s was merged into %(survivor)s.")
                        % {"duplicate": duplicate.customer_number, "survivor": survivor.customer_number},
                    )
                    return redirect("customers:detail", customer_id=survivor.pk)
            else:
                context.update(
                    {
                        "duplicate": duplicate,
                        "confirming": True,
                        "preview": {
                            **selectors.merge_preview(actor=request.user, survivor=survivor, duplicate=duplicate),
                            "cases": case_selectors.customer_case_count(actor=request.user, customer_id=duplicate.pk),
                        },
                    }
                )
    status = 400 if form.is_bound and form.errors else 200
    return _page(request, "customers/customer_merge.html", context, form, status=status)


# --- products -----------------------------------------------------------------------------


@login_required
@require_capability(*SEE, permissions.MANAGE_PROCESSES, permissions.MANAGE_ORGANISATION)
@require_http_methods(["GET", "POST"])
def product_list(request: HttpRequest) -> HttpResponse:
    can_manage = selectors.can_manage_products(request.user)
    form = customer_forms.ProductForm(request.POST or None) if can_manage else None
    if request.method == "POST":
        if form is None:
            raise DjangoPermissionDenied
        if form.is_valid():
            product = attempt(form, lambda: services.product_create(actor=request.user, **form.cleaned_data))
            if product is not None:
                messages.success(request, _("The product %(name)s was added.") % {"name": product.label})
                return redirect("customers:products")
    context = {**_context(request), "products": selectors.product_list()}
    if form is not None:
        return _page(request, "customers/product_list.html", context, form)
    return render(request, "customers/product_list.html", context)


@login_required
@require_capability(permissions.MANAGE_PROCESSES, permissions.MANAGE_ORGANISATION)
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, product_id: int) -> HttpResponse:
    product = _call(selectors.product_get, product_id=product_id)
    initial = {name: getattr(product, name) for name in ("code", "name_de", "name_en", "sector", "payment_services", "is_active")}
    form = customer_forms.ProductForm(request.POST or None, initial=initial)
    if (
        request.method == "POST"
        and form.is_valid()
        and attempt(form, lambda: services.product_update(actor=request.user, product=product, **form.cleaned_data))
    ):
        messages.success(request, _("The product %(name)s was saved.") % {"name": form.cleaned_data["name_en"]})
        return redirect("customers:products")
    return _page(request, "customers/product_form.html", {"product": product}, form)
