"""Forms of the case page's decision panel: the decision context a table asks for (built from
the table's inputs), the decision itself, its correction and a lead's reversal."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from leitplanke.core.forms import Form

from .models import DecisionKind
from .record_selectors import ContextField

CONTEXT_PREFIX = "ctx_"
YES_NO = [("", _("—")), ("true", _("Yes")), ("false", _("No"))]


def context_form_fields(specs: list[ContextField]) -> dict[str, forms.Field]:
    """One form field per context fact the table asks for (`ctx_<name>`)."""
    fields: dict[str, forms.Field] = {}
    for spec in specs:
        name = CONTEXT_PREFIX + spec.name
        if spec.type == "boolean":
            fields[name] = forms.ChoiceField(label=spec.label, choices=YES_NO, required=False)
        elif spec.type == "choice":
            fields[name] = forms.ChoiceField(label=spec.label, choices=[("", "—"), *[(v, v) for v in spec.choices]])
        elif spec.type == "number":
            fields[name] = forms.DecimalField(
                label=spec.label, min_value=Decimal(0), max_value=Decimal("9999999999"), max_digits=12, decimal_places=2
            )
        else:
            fields[name] = forms.CharField(label=spec.label, max_length=200)
    return fields


def context_of(cleaned: dict[str, Any], specs: list[ContextField]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for spec in specs:
        value = cleaned.get(CONTEXT_PREFIX + spec.name)
        if spec.type == "boolean":
            context[spec.name] = value == "true"
        elif value is not None:
            context[spec.name] = str(value) if isinstance(value, Decimal) else value
    return context


class ContextForm(Form):
    """Step one: the table and the context it asks for; evaluated without saving."""

    table = forms.CharField(widget=forms.HiddenInput, max_length=50)

    def __init__(self, *args: Any, specs: list[ContextField] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.specs = specs or []
        self.fields.update(context_form_fields(self.specs))

    def context(self) -> dict[str, Any]:
        return context_of(self.cleaned_data, self.specs)


# What the record services take of a decision (`decision_record`, `decision_correct`).
DECISION_FIELDS = ("kind", "amount", "currency", "action", "message_to_customer", "justification")


class DecisionFields(Form):
    """The decision itself, the same for a new decision and a correction (each declares its
    own justification: optional for a decision, required for a correction)."""

    kind = forms.ChoiceField(label=_("Kind"), choices=DecisionKind.choices)
    amount = forms.DecimalField(
        label=_("Amount"), min_value=Decimal(0), max_value=Decimal("9999999999.99"), max_digits=12, decimal_places=2
    )
    currency = forms.CharField(widget=forms.HiddenInput, max_length=3)
    action = forms.CharField(label=_("Action"), max_length=100, required=False)
    message_to_customer = forms.CharField(
        label=_("Text to the customer"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def decision(self) -> dict[str, Any]:
        """The cleaned values as the record services take them."""
        return {name: self.cleaned_data[name] for name in DECISION_FIELDS}


class DecisionForm(DecisionFields, ContextForm):
    """Step two: the decision itself, with the context it was recommended for."""

    justification = forms.CharField(
        label=_("Justification"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when the amount is outside the recommended range."),
    )

    def __init__(self, *args: Any, justification_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The context fields are shown in step one; here they travel along hidden.
        for spec in self.specs:
            self.fields[CONTEXT_PREFIX + spec.name].widget = forms.HiddenInput()
        if justification_required:
            self.fields["justification"].help_text = _("Required: the amount is outside the recommended range.")
            self.fields["justification"].widget.attrs["aria-required"] = "true"


class ReversalForm(Form):
    justification = forms.CharField(
        label=_("Justification"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required. The decider is sent it by e-mail and sees it on the case."),
    )
    amount = forms.DecimalField(
        label=_("Amount instead"),
        min_value=Decimal(0),
        max_value=Decimal("9999999999.99"),
        max_digits=12,
        decimal_places=2,
        initial=Decimal(0),
    )
    message_to_customer = forms.CharField(
        label=_("Text to the customer"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CorrectionForm(DecisionFields):
    """A correction of a record, prefilled from it (`initial_of`); checked by the service like
    a new decision against the record's recommended range."""

    justification = forms.CharField(
        label=_("Justification"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required: say why the decision is corrected."),
    )

    @staticmethod
    def initial_of(record: Any) -> dict[str, Any]:
        return {
            "kind": record.kind,
            "amount": record.amount,
            "currency": record.currency,
            "action": record.action,
            "message_to_customer": record.message_to_customer,
        }
