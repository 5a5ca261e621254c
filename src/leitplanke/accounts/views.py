"""Login, logout, password reset, the user's own profile, language and API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leitplanke.core.errors import DomainError, RateLimited
from leitplanke.core.forms import apply_domain_error
from leitplanke.core.middleware import client_ip

from . import permissions, selectors, services
from .forms import ApiTokenForm, LanguageForm, LoginForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm


def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("core:home")
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    form = LoginForm(request.POST or None)
    status, retry_after = 200, 0
    if request.method == "POST" and form.is_valid():
        email, ip = form.cleaned_data["email"], client_ip(request)
        try:
            attempt = services.login_attempt_start(email=email, ip=ip)
        except RateLimited as error:
            services.login_refused(email=email, ip=ip)
            form.add_error(None, str(error.message))
            status, retry_after = 429, error.retry_after
        else:
            user = authenticate(request, email=email, password=form.cleaned_data["password"])
            if user is None:
                services.login_failed(attempt=attempt)
                form.add_error(None, _("E-mail address or password is wrong."))
                status = 400
            else:
                login(request, user)
                services.login_succeeded(user=user, attempt=attempt)
                if not url_has_allowed_host_and_scheme(
                    next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
                ):
                    next_url = reverse("core:home")
                return HttpResponseRedirect(next_url)
    response = render(request, "accounts/login.html", {"form": form, "next": next_url}, status=status)
    if status == 429:
        response["Retry-After"] = str(retry_after)
    return response


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.logout_recorded(user=request.user)  # type: ignore[arg-type]
    logout(request)
    messages.info(request, _("You have been logged out."))
    return redirect("accounts:login")


def _profile_context(request: HttpRequest, token_form: ApiTokenForm) -> dict[str, Any]:
    user: Any = request.user  # login_required: an authenticated User
    return {
        "language_form": LanguageForm(initial={"language": user.language}),
        "tokens": selectors.api_token_list(actor=user),
        "token_form": token_form,
        "allowed_scopes": permissions.token_scopes_allowed(user),
        "absences": selectors.user_absences(actor=user, user=user)[:20],
    }


def _token_form(request: HttpRequest, data: Any = None) -> ApiTokenForm:
    return ApiTokenForm(data, allowed_scopes=permissions.token_scopes_allowed(request.user))


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/profile.html", _profile_context(request, _token_form(request)))


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Language switch: stored on the user when logged in, in a cookie otherwise."""
    form = LanguageForm(request.POST)
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    response = HttpResponseRedirect(target)
    if form.is_valid():
        language = form.cleaned_data["language"]
        if request.user.is_authenticated:
            services.user_set_language(actor=request.user, language=language)
        response.set_cookie("django_language", language, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = _token_form(request, request.POST)
    if form.is_valid():
        try:
            token, plain = services.api_token_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=form.cleaned_data["expires_at"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            return render(request, "accounts/token_created.html", {"token": token, "plain": plain})
    return render(request, "accounts/profile.html", _profile_context(request, form), status=400)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        services.api_token_revoke(actor=request.user, token=selectors.api_token_get(actor=request.user, token_id=token_id))
        messages.success(request, _("The token was revoked."))
    except DomainError as error:
        messages.error(request, str(error.message))
    return redirect("accounts:profile")


class PasswordResetView(auth_views.PasswordResetView):
    """Sends the reset e-mail at most `PASSWORD_RESET_RATE_LIMIT` times per address and per
    client IP address and hour (counted first); over the limit the requester gets the same
    neutral page, and no e-mail is sent."""

    form_class = PasswordResetForm
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        if not services.password_reset_request_counts(email=form.cleaned_data["email"], ip=client_ip(self.request)):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = SetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = PasswordChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        response = super().form_valid(form)
        messages.success(self.request, _("Your password was changed."))
        return response
