from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext_lazy as _

from leitplanke.core.forms import Form, StorableTextMixin

from .models import Language, TokenScope


class LoginForm(Form):
    email = forms.EmailField(
        label=_("E-mail address"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class LanguageForm(Form):
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)


class ApiTokenForm(Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What the token is for, e.g. “CRM sync”."))
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=TokenScope.choices, widget=forms.CheckboxSelectMultiple, initial=[TokenScope.READ]
    )
    expires_at = forms.DateTimeField(
        label=_("Expires"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def __init__(self, *args: Any, allowed_scopes: frozenset[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if allowed_scopes is not None:
            # Offer only what the user's roles allow (the service refuses the rest anyway).
            field: Any = self.fields["scopes"]
            field.choices = [(value, label) for value, label in TokenScope.choices if value in allowed_scopes]


class PasswordResetForm(StorableTextMixin, auth_forms.PasswordResetForm):
    email = forms.EmailField(label=_("E-mail address"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))

    def get_users(self, email: str) -> Any:
        """Active users with this address, including those an administrator created without a
        password (Django skips them; here the reset link is how they choose their first one)."""
        from .models import User

        return (user for user in User.objects.filter(email__iexact=email, is_active=True))


class SetPasswordForm(StorableTextMixin, auth_forms.SetPasswordForm):
    def save(self, commit: bool = True) -> Any:
        from . import services

        return services.user_set_password(actor=None, user=self.user, password=self.cleaned_data["new_password1"], via="reset")


class PasswordChangeForm(StorableTextMixin, auth_forms.PasswordChangeForm):
    def save(self, commit: bool = True) -> Any:
        from . import services

        return services.user_set_password(actor=self.user, user=self.user, password=self.cleaned_data["new_password1"])
