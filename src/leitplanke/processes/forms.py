"""Forms of the process editor: they shape input, the services validate and write."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from leitplanke.core.forms import Form

MAX_JSON = 500_000


def parse_definition(text: str) -> tuple[dict[str, Any] | None, str]:
    """The definition from JSON text, or an error message."""
    if len(text) > MAX_JSON:
        return None, str(_("The definition is too large."))
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        return None, str(_("This is not valid JSON: %(error)s") % {"error": error})
    if not isinstance(data, dict):
        return None, str(_("The definition must be a JSON object."))
    return data, ""


class DefinitionForm(Form):
    name_de = forms.CharField(label=_("Name (German)"), max_length=200)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200)
    definition = forms.CharField(
        label=_("Definition (JSON)"),
        max_length=MAX_JSON,
        widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false", "class": "code"}),
    )
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean_definition(self) -> dict[str, Any]:
        data, error = parse_definition(self.cleaned_data["definition"])
        if data is None:
            raise forms.ValidationError(error)
        return data


class ImportForm(Form):
    key = forms.SlugField(label=_("Process key"), max_length=50)
    name_de = forms.CharField(label=_("Name (German)"), max_length=200)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200)
    file = forms.FileField(label=_("JSON file"), required=False)
    text = forms.CharField(
        label=_("or paste the JSON"), required=False, max_length=MAX_JSON, widget=forms.Textarea(attrs={"rows": 6})
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("file")
        text = cleaned.get("text") or ""
        if upload is not None:
            if upload.size > MAX_JSON:
                raise forms.ValidationError(_("The definition is too large."))
            try:
                text = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError(_("The file is not UTF-8 text.")) from None
        if not text.strip():
            raise forms.ValidationError(_("Choose a JSON file or paste the JSON."))
        data, error = parse_definition(text)
        if data is None:
            raise forms.ValidationError(error)
        # An export carries names and the definition; a bare definition is taken as it is.
        if isinstance(data.get("definition"), dict):
            data = data["definition"]
        cleaned["definition"] = data
        return cleaned


class TryForm(Form):
    """Try the steps of a state on a sample case: field values as JSON, roles by key."""

    state = forms.CharField(label=_("State"), max_length=50)
    context = forms.CharField(
        label=_('Sample case (JSON, e.g. {"case.priority": 3, "customer.segment": "business"})'),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "code"}),
    )
    roles = forms.CharField(label=_("Roles (comma-separated keys)"), required=False, max_length=500)

    def clean_context(self) -> dict[str, Any]:
        text = self.cleaned_data.get("context") or "{}"
        try:
            data = json.loads(text)
        except ValueError:
            raise forms.ValidationError(_("This is not valid JSON.")) from None
        if not isinstance(data, dict):
            raise forms.ValidationError(_("Write a JSON object."))
        return data


class StepForm(Form):
    """One transition of a draft in a form: labels, roles allowed, the guard with its words,
    the fields it requires. The rest of the definition stays as it is."""

    label_de = forms.CharField(label=_("Label (German)"), max_length=200)
    label_en = forms.CharField(label=_("Label (English)"), max_length=200)
    roles = forms.MultipleChoiceField(
        label=_("Roles allowed (none ticked: everyone who may edit the case)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    guard = forms.CharField(label=_("Condition (guard)"), required=False, max_length=2000)
    guard_label_de = forms.CharField(label=_("Condition in words (German)"), required=False, max_length=300)
    guard_label_en = forms.CharField(label=_("Condition in words (English)"), required=False, max_length=300)
    requires = forms.MultipleChoiceField(label=_("Required fields"), required=False, widget=forms.CheckboxSelectMultiple)
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, roles: list[tuple[str, str]], fields: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = roles  # type: ignore[attr-defined]
        self.fields["requires"].choices = fields  # type: ignore[attr-defined]

    def clean_guard(self) -> str:
        from .engine import GuardSyntaxError, compile_guard

        guard = (self.cleaned_data.get("guard") or "").strip()
        if guard:
            try:
                compile_guard(guard)
            except GuardSyntaxError as error:
                raise forms.ValidationError(_("The condition does not parse: %(error)s") % {"error": error}) from None
        return guard
