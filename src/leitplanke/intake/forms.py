"""Forms of the intake screens: they check the shape of the input; services check the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from leitplanke.accounts.models import Brand, Team
from leitplanke.accounts.selectors import brand_choices
from leitplanke.cases.models import CaseType
from leitplanke.core.events import EVENTS
from leitplanke.core.forms import Form

from .models import InboundStatus, ReplyTemplate

LANGUAGES = [("de", _("German")), ("en", _("English"))]
PURPOSES = [("reply", _("Reply")), ("acknowledgement", _("Acknowledgement"))]


class ReplyForm(Form):
    template = forms.TypedChoiceField(label=_("Template"), coerce=int, required=False, empty_value=None)
    to = forms.EmailField(label=_("To"), max_length=320, required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    subject = forms.CharField(label=_("Subject"), max_length=255, required=False)
    body = forms.CharField(label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 14}))

    def __init__(self, *args: Any, templates: list[ReplyTemplate] = (), **kwargs: Any):  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        language_names = dict(LANGUAGES)
        field = self.fields["template"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("— no template —"))] + [
            (template.pk, f"{template.name} ({language_names.get(template.language, template.language)})")
            for template in templates
        ]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; an empty list when none was chosen."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class ComposerForm(ReplyForm):
    """The composer under the conversation on the case page: a reply with Cc, attachments
    and, optionally, the next status in the same step."""

    cc = forms.CharField(
        label=_("Cc"),
        max_length=2000,
        required=False,
        help_text=_("Further recipients, separated by commas."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    attachments = MultipleFileField(label=_("Attachments"), required=False)
    transition = forms.ChoiceField(label=_("Then set status"), required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    field_order = ["template", "to", "cc", "subject", "body", "attachments", "transition", "version"]

    def __init__(self, *args: Any, transitions: list[tuple[str, str]] = (), **kwargs: Any):  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["body"].widget.attrs["rows"] = 10
        field = self.fields["transition"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("— keep the status —")), *transitions]


class TemplateForm(Form):
    key = forms.SlugField(
        label=_("Key"), max_length=80, help_text=_("Short name shared by the German and English variant, e.g. “refund-approved”.")
    )
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGES)
    name = forms.CharField(label=_("Name"), max_length=200)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=PURPOSES, initial="reply")
    case_type = forms.ModelChoiceField(
        label=_("Case type"), queryset=CaseType.objects.none(), required=False, empty_label=_("any case type")
    )
    subject = forms.CharField(label=_("Subject"), max_length=255, required=False)
    body = forms.CharField(
        label=_("Text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=_("Placeholders in double curly braces, e.g. {{customer_name}}."),
    )
    preview_reference = forms.CharField(
        label=_("Preview with case"),
        max_length=40,
        required=False,
        help_text=_("Reference of a case you can see, e.g. LP-2026-000123. Empty: sample values."),
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        case_type = self.fields["case_type"]
        assert isinstance(case_type, forms.ModelChoiceField)
        case_type.queryset = CaseType.objects.filter(is_active=True).order_by("key")
        if editing:
            # Key and language identify the template; a new version keeps them.
            for name in ("key", "language"):
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Fixed for this template; create a new template for another language.")


class MailboxForm(Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    address = forms.EmailField(label=_("E-mail address"))
    host = forms.CharField(label=_("IMAP host"), max_length=255)
    port = forms.IntegerField(label=_("Port"), min_value=1, max_value=65535, initial=993)
    use_ssl = forms.BooleanField(label=_("IMAPS (TLS)"), required=False, initial=True)
    username = forms.CharField(label=_("User name"), max_length=255)
    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    folder = forms.CharField(label=_("Folder"), max_length=255, initial="INBOX")
    processed_folder = forms.CharField(
        label=_("Move processed mail to"),
        max_length=255,
        required=False,
        help_text=_("Leave empty to flag processed mail as seen instead of moving it."),
    )
    default_case_type = forms.ModelChoiceField(label=_("Case type for new cases"), queryset=CaseType.objects.none())
    default_team = forms.ModelChoiceField(
        label=_("Team for new cases"), queryset=Team.objects.none(), required=False, empty_label=_("no team (routing decides)")
    )
    brand = forms.ModelChoiceField(
        label=_("Brand"),
        queryset=Brand.objects.none(),
        required=False,
        empty_label=_("none (the case type's or the default sender)"),
        help_text=_("Acknowledgements and replies to mail that arrived here come from this brand."),
    )
    is_active = forms.BooleanField(label=_("Active (fetched regularly)"), required=False, initial=True)

    def __init__(self, *args: Any, creating: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = brand_choices()  # type: ignore[attr-defined]
        case_type = self.fields["default_case_type"]
        team = self.fields["default_team"]
        assert isinstance(case_type, forms.ModelChoiceField) and isinstance(team, forms.ModelChoiceField)
        case_type.queryset = CaseType.objects.filter(is_active=True).order_by("key")
        team.queryset = Team.objects.filter(is_active=True).order_by("name")
        self.fields["password"].help_text = (
            _("Stored encrypted.") if creating else _("Stored encrypted and never shown. Leave empty to keep it.")
        )
        if creating:
            self.fields["password"].required = True


class InboundFilterForm(Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("all")), *InboundStatus.choices])


class WebhookForm(Form):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(label=_("Events"), widget=forms.CheckboxSelectMultiple, required=False)
    allow_private_address = forms.GenericIPAddressField(
        label=_("Allowed private address"),
        required=False,
        help_text=_("Deliveries to loopback, link-local or private addresses are refused unless this exact address is allowed."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, creating: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        events = self.fields["events"]
        assert isinstance(events, forms.MultipleChoiceField)
        events.choices = [(key, f"{key} — {label}") for key, label in EVENTS.items()]
        if creating:
            del self.fields["is_active"]
