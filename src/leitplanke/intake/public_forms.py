from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from leitplanke.cases.models import CaseType
from leitplanke.core.forms import Form

from .public import MAX_FILE_BYTES, MAX_FILES


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_FILES:
            raise forms.ValidationError(_("At most %(n)s files.") % {"n": MAX_FILES})
        cleaned = [super(MultipleFileField, self).clean(item, initial) for item in files]
        for upload in cleaned:
            if upload.size > MAX_FILE_BYTES:
                raise forms.ValidationError(
                    _("“%(name)s” is larger than %(mb)s MB.") % {"name": upload.name, "mb": MAX_FILE_BYTES // (1024 * 1024)}
                )
        return cleaned


class PublicComplaintForm(Form):
    case_type = forms.ModelChoiceField(label=_("What is it about?"), queryset=CaseType.objects.none(), empty_label=None)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("Your message"), max_length=20000, widget=forms.Textarea(attrs={"rows": 8}))
    first_name = forms.CharField(
        label=_("First name"), max_length=100, required=False, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    email = forms.EmailField(label=_("E-mail address"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    customer_number = forms.CharField(label=_("Customer or contract number (optional)"), max_length=40, required=False)
    attachments = MultipleFileField(
        label=_("Attachments (optional)"),
        required=False,
        # Formatted when shown, in the visitor's language (a lazy text % values would be
        # translated once, at import time).
        help_text=lazy(
            lambda: (
                gettext("Up to %(n)s files, each at most %(mb)s MB (PDF, images, office documents).")
                % {"n": MAX_FILES, "mb": MAX_FILE_BYTES // (1024 * 1024)}
            ),
            str,
        )(),
    )
    consent = forms.BooleanField(label=_("I agree that my data is processed to handle my concern."), required=True)
    # Spam protection without third parties: a field people do not see, and the time the form was open.
    website = forms.CharField(
        label=_("Leave this field empty"), required=False, widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"})
    )
    started = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, brand_id: int | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        case_types = CaseType.objects.filter(is_active=True).order_by("order", "id")
        if brand_id is not None:  # a brand's form: its own case types and the shared ones
            case_types = case_types.filter(Q(brand__isnull=True) | Q(brand_id=brand_id))
        self.fields["case_type"].queryset = case_types  # type: ignore[attr-defined]


class StatusMessageForm(Form):
    message = forms.CharField(label=_("Your message"), max_length=20000, required=False, widget=forms.Textarea(attrs={"rows": 5}))
    attachments = MultipleFileField(label=_("Attachments (optional)"), required=False)
