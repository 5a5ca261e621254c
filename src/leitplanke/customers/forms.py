"""Customer forms: they check shape only; the services validate content (and their
errors land on these fields via apply_domain_error)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leitplanke.accounts.models import Language
from leitplanke.core.forms import Form

from .models import ConsentPurpose, ContractStatus, CustomerKind, Salutation, Sector, Segment


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").replace(",", "\n").splitlines() if line.strip()]


class CustomerForm(Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CustomerKind.choices, initial=CustomerKind.PERSON)
    salutation = forms.ChoiceField(
        label=_("Salutation"),
        choices=[("", _("not known")), *Salutation.choices],
        required=False,
        help_text=_("How letters address the person (“Sehr geehrte Frau …”, “Dear Ms …”)."),
    )
    title = forms.CharField(label=_("Title"), max_length=50, required=False, help_text=_("e.g. Dr., Prof. Dr."))
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False, help_text=_("Required for persons."))
    organisation_name = forms.CharField(
        label=_("Organisation name"), max_length=200, required=False, help_text=_("Required for organisations.")
    )
    customer_number = forms.CharField(
        label=_("Customer number"), max_length=40, required=False, help_text=_("Leave empty to generate one.")
    )
    emails = forms.CharField(
        label=_("E-mail addresses"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
        help_text=_("One per line; the first is the primary address."),
    )
    phones = forms.CharField(
        label=_("Phone numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
        help_text=_("One per line, e.g. 0221 123456 or +44 20 7946 0018; the first is the primary number."),
    )
    preferred_language = forms.ChoiceField(label=_("Preferred language"), choices=Language.choices, initial=Language.GERMAN)
    segment = forms.ChoiceField(label=_("Segment"), choices=Segment.choices, initial=Segment.PRIVATE)
    value_amount = forms.DecimalField(label=_("Customer value"), required=False, min_value=0, max_digits=14, decimal_places=2)
    value_currency = forms.CharField(label=_("Currency"), max_length=3, initial="EUR")
    customer_since = forms.DateField(
        label=_("Customer since"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    street = forms.CharField(label=_("Street and number"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    country = forms.CharField(label=_("Country"), max_length=2, initial="DE", help_text=_("Two letters, e.g. DE, AT, GB."))
    region = forms.CharField(label=_("State or nation"), max_length=16, required=False, help_text=_("e.g. DE-BY, GB-SCT"))
    is_vulnerable = forms.BooleanField(label=_("Vulnerable customer"), required=False)
    vulnerability_reason = forms.CharField(
        label=_("Reason for vulnerability"), required=False, widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, creating: bool = True, sensitive: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not creating:
            del self.fields["customer_number"]
        else:
            del self.fields["version"]
        if not sensitive:
            del self.fields["is_vulnerable"]
            del self.fields["vulnerability_reason"]
        elif not creating:
            # The stored reason is never put into the page (that would bypass the audited view).
            self.fields["vulnerability_reason"].help_text = _("Leave empty to keep the recorded reason.")
        for name in ("emails", "phones"):
            self.fields[name].widget.attrs["spellcheck"] = "false"

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        data["emails"] = _lines(data.get("emails", ""))
        data["phones"] = _lines(data.get("phones", ""))
        if "customer_number" in data:
            data["customer_number"] = data["customer_number"] or None
        return data


class ConsentForm(Form):
    purpose = forms.ChoiceField(label=_("Purpose"), choices=ConsentPurpose.choices)
    granted = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("granted")), ("0", _("withdrawn or refused"))],
        coerce=lambda v: v == "1",
        initial="1",
    )
    source = forms.CharField(label=_("Source"), max_length=100, required=False, help_text=_("e.g. web form, phone, letter"))
    note = forms.CharField(label=_("Note"), max_length=255, required=False)


class MergeForm(Form):
    duplicate_number = forms.CharField(
        label=_("Customer number of the duplicate"),
        max_length=40,
        help_text=_("This customer stays; the duplicate's data moves here and it is deactivated."),
    )


class ProductForm(Form):
    code = forms.SlugField(label=_("Code"), max_length=50)
    name_de = forms.CharField(label=_("Name (German)"), max_length=200)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200)
    sector = forms.ChoiceField(label=_("Sector"), choices=Sector.choices, initial=Sector.OTHER)
    payment_services = forms.BooleanField(
        label=_("Payment-services related"), required=False, help_text=_("Complaints about it fall under PSD2 deadlines.")
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class ContractForm(Form):
    product = forms.ChoiceField(label=_("Product"))
    contract_number = forms.CharField(label=_("Contract number"), max_length=40)
    starts_on = forms.DateField(
        label=pgettext_lazy("contract", "Start"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(label=_("End"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(label=_("Status"), choices=ContractStatus.choices)

    def __init__(self, *args: Any, products: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        product_field = self.fields["product"]
        assert isinstance(product_field, forms.ChoiceField)
        product_field.choices = [(str(p.pk), p.label) for p in products]


class ContractEndForm(Form):
    ends_on = forms.DateField(
        label=_("End date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), required=False
    )
