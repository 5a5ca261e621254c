"""Case forms. They only shape input; the services validate and write."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from leitplanke.accounts.models import Language, Team, User
from leitplanke.core import refcache
from leitplanke.core.forms import Form
from leitplanke.customers.models import Product

from . import selectors
from .models import Case, CaseType, Category, Channel, CustomFieldDefinition, FieldKind, Priority, Severity

CUSTOM_PREFIX = "cf_"


def _label(obj: Any, de: str = "label_de", en: str = "label_en") -> str:
    key = de if (get_language() or "de").startswith("de") else en
    if isinstance(obj, dict):
        return str(obj.get(key) or obj.get(en) or obj.get("value") or "")
    return getattr(obj, key)


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return "\u2003" * obj.depth + obj.label


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.full_name


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def responsible_candidates() -> Any:
    """Active users whose roles let them work on cases (the roles are reference data, cached
    per process: building this queryset costs no query)."""
    return User.objects.filter(is_active=True, roles__in=selectors.case_editing_role_ids()).distinct().order_by("full_name")


def _responsible_choices() -> list[tuple[Any, str]]:
    """The responsible-user options (users and roles are reference data, cached per process)."""
    return refcache.cached("responsible_choices", lambda: [(user.pk, user.full_name) for user in responsible_candidates()])


class CaseTypeChoiceField(forms.ModelChoiceField):
    """Offers and resolves the active case types from the cached list: no query on GET or POST."""

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        for case_type in selectors.active_case_type_list():
            if str(case_type.pk) == str(value):
                return case_type
        raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})


class ResponsibleChoiceField(forms.ModelChoiceField):
    """Accepts only the cached candidates (active users whose roles edit cases)."""

    def label_from_instance(self, obj: User) -> str:
        return obj.full_name

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and str(value) not in {str(pk) for pk, _name in _responsible_choices()}:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return super().to_python(value)


def _attributes(attrs: dict[str, Any]) -> SafeString:
    """HTML attributes as Django's `attrs.html` writes them: in order, True as a bare name,
    False and None left out, values escaped."""
    return mark_safe(  # noqa: S308 - every part is built by format_html
        "".join(
            format_html(" {}", key) if value is True else format_html(' {}="{}"', key, value)
            for key, value in attrs.items()
            if value is not False and value is not None
        )
    )


class PlainSelect(forms.Select):
    """Django's `<select>` markup built in Python: the stock widget renders one template
    include per option, which made the form page's options (users, categories, products) its
    largest cost. Same attributes, order and escaping (`format_html`)."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts: list[str] = [format_html('<select name="{}"{}>', widget["name"], _attributes(widget["attrs"]))]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('<optgroup label="{}">', group_name))
            for option in options:
                parts.append(
                    format_html(
                        '<option value="{}"{}>{}</option>', option["value"], _attributes(option["attrs"]), option["label"]
                    )
                )
            if group_name:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every part is built by format_html


class CaseForm(Form):
    """Create and edit form; custom fields of the case type are added as `cf_<key>`."""

    # Querysets built once here: each form gets a cheap clone (ModelChoiceField.__deepcopy__),
    # not a freshly compiled filter per request; they are evaluated only when a value is chosen.
    case_type = CaseTypeChoiceField(label=_("Case type"), queryset=selectors.active_case_types(), empty_label=None)
    subject = forms.CharField(label=_("Subject"), max_length=255)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 6}), required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    received_at = forms.DateTimeField(
        label=_("Received"),
        widget=LocalDateTimeInput(),
        help_text=_("When the customer contacted us. Earlier times are allowed."),
    )
    language = forms.ChoiceField(label=_("Language of the customer"), choices=Language.choices)
    customer_number = forms.CharField(label=_("Customer number"), max_length=40, required=False)
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(is_active=True), required=False, empty_label="—"
    )
    category = CategoryChoiceField(label=_("Category"), queryset=selectors.active_categories(), required=False, empty_label="—")
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int, initial=Priority.NORMAL)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial=Severity.MINOR)
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.filter(is_active=True).order_by("name"), required=False, empty_label="—"
    )
    responsible_user = ResponsibleChoiceField(
        label=_("Responsible"), queryset=User.objects.filter(is_active=True), required=False, empty_label="—"
    )
    tags = forms.CharField(label=_("Tags"), required=False, max_length=1000, help_text=_("Separate tags with commas."))

    def __init__(self, *args: Any, case_type: CaseType | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        # Case types, users and roles are reference data (core.refcache): offered from memory.
        self.fields["case_type"].choices = [(t.pk, str(t)) for t in selectors.active_case_type_list()]  # type: ignore[attr-defined]
        self.fields["responsible_user"].choices = [("", "—"), *_responsible_choices()]  # type: ignore[attr-defined]
        for field in self.fields.values():
            if type(field.widget) is forms.Select:
                field.widget.__class__ = PlainSelect  # only render() differs; choices stay the field's
        self.fields["case_type"].widget.attrs["data-case-type"] = "1"
        self.custom_definitions = selectors.custom_field_definitions(case_type)
        for definition in self.custom_definitions:
            self.fields[CUSTOM_PREFIX + definition.key] = custom_form_field(definition)

    @property
    def custom_fields_bound(self) -> list[forms.BoundField]:
        return [self[CUSTOM_PREFIX + d.key] for d in self.custom_definitions]

    @property
    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith(CUSTOM_PREFIX) and name != "version"]

    def clean_customer_number(self) -> Any:
        number = self.cleaned_data.get("customer_number", "").strip()
        if not number:
            self.customer = None
            return ""
        self.customer = selectors.customer_by_number(number)
        if self.customer is None:
            raise forms.ValidationError(_("No customer with this number."))
        return number

    def custom_values(self) -> dict[str, Any]:
        """Raw custom field values for the service (which validates them per kind)."""
        values: dict[str, Any] = {}
        for definition in self.custom_definitions:
            value = self.cleaned_data.get(CUSTOM_PREFIX + definition.key)
            if definition.kind == FieldKind.BOOLEAN:
                values[definition.key] = bool(value)
            elif value not in (None, ""):
                values[definition.key] = value.isoformat() if isinstance(value, dt.date) else value
        return values

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "case_type": data["case_type"],
            "subject": data["subject"],
            "description": data.get("description", ""),
            "channel": data["channel"],
            "received_at": data["received_at"],
            "language": data["language"],
            "customer": getattr(self, "customer", None),
            "product": data.get("product"),
            "category": data.get("category"),
            "priority": data["priority"],
            "severity": data["severity"],
            "team": data.get("team"),
            "responsible_user": data.get("responsible_user"),
            "tags": data.get("tags", ""),
            "custom_fields": self.custom_values(),
        }


class CaseEditForm(CaseForm):
    version = forms.IntegerField(widget=forms.HiddenInput())


def custom_form_field(definition: CustomFieldDefinition) -> forms.Field:
    label = _label(definition)
    required = definition.required and definition.kind != FieldKind.BOOLEAN
    kind = definition.kind
    if kind == FieldKind.NUMBER:
        return forms.DecimalField(label=label, required=required)
    if kind == FieldKind.MONEY:
        return forms.CharField(
            label=label,
            required=required,
            max_length=30,
            help_text=_("Amount in euros, e.g. 12.50"),
            widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        )
    if kind == FieldKind.DATE:
        return forms.DateField(label=label, required=required, widget=forms.DateInput(attrs={"type": "date"}))
    if kind == FieldKind.CHOICE:
        choices = [("", "—")] + [(str(c.get("value")), _label(c)) for c in definition.choices or [] if isinstance(c, dict)]
        return forms.ChoiceField(label=label, required=required, choices=choices)
    if kind == FieldKind.BOOLEAN:
        return forms.BooleanField(label=label, required=False)
    return forms.CharField(label=label, required=required, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


def initial_for_case(case: Case) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "case_type": case.case_type_id,
        "subject": case.subject,
        "description": case.description,
        "channel": case.channel,
        "received_at": timezone.localtime(case.received_at),
        "language": case.language,
        "customer_number": case.customer.customer_number if case.customer is not None else "",
        "product": case.product_id,
        "category": case.category_id,
        "priority": case.priority,
        "severity": case.severity,
        "team": case.team_id,
        "responsible_user": case.responsible_user_id,
        "tags": ", ".join(tag.name for tag in case.tags.all()),
        "version": case.version,
    }
    for key, value in (case.custom_fields or {}).items():
        initial[CUSTOM_PREFIX + key] = value["amount"] if isinstance(value, dict) else value
    return initial


NOTE_KINDS = [
    ("internal_note", _("Internal note")),
    ("phone_note", _("Phone call")),
]


class NoteForm(Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    kind = forms.ChoiceField(label=_("Kind"), choices=NOTE_KINDS, initial="internal_note")
    body_text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 4}), max_length=100_000)


class AttachmentForm(Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    file = forms.FileField(label=_("File"))


class ClockExtensionForm(Form):
    event = forms.CharField(max_length=64)
    note = forms.CharField(required=False, max_length=2000)


class TransitionForm(Form):
    transition = forms.CharField(max_length=50)
    version = forms.IntegerField(required=False)
    note = forms.CharField(required=False, max_length=2000)


def _closing_choices(items: Any) -> list[tuple[str, str]]:
    german = (get_language() or "de").startswith("de")
    return [("", "—")] + [(key, de if german else en) for key, de, en in items]


class StepForm(Form):
    """A transition that asks for something: its required fields (the closing fields of a
    complaint), the checklist to confirm, a note. Built per transition; the service decides
    what is missing and names it (a 422 keeps what the user entered)."""

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    @staticmethod
    def form_name(name: str) -> str:
        """The form field of a service field name: custom.x → cf_x, checklist.x → checklist_x."""
        if name.startswith("custom."):
            return CUSTOM_PREFIX + name[len("custom.") :]
        if name.startswith("checklist."):
            return "checklist_" + name[len("checklist.") :]
        return name

    @staticmethod
    def custom_initial(case: Any, ask: list[str]) -> dict[str, Any]:
        out = {}
        for name in ask:
            if name.startswith("custom."):
                value = (case.custom_fields or {}).get(name[len("custom.") :])
                out[CUSTOM_PREFIX + name[len("custom.") :]] = value.get("amount") if isinstance(value, dict) else value
        return out

    def __init__(self, *args: Any, step: Any, ask: list[str], case_type: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        from leitplanke.processes import catalogue

        german = (get_language() or "de").startswith("de")
        required = set(step.requires)
        customs = {d.key: d for d in selectors.custom_field_definitions(case_type)} if case_type is not None else {}
        order: list[str] = []
        for name in ask:
            if name.startswith("custom."):
                definition = customs.get(name[len("custom.") :])
                if definition is None:
                    continue
                custom_field = custom_form_field(definition)
                custom_field.required = False
                custom_field.widget.attrs["data-required"] = "true"
                self.fields[CUSTOM_PREFIX + definition.key] = custom_field
                order.append(CUSTOM_PREFIX + definition.key)
                continue
            order.append(name)
            spec = catalogue.STANDARD_FIELDS[f"case.{name}"]
            label = spec.label_de if german else spec.label_en
            field: forms.Field
            if name == "outcome":
                field = forms.ChoiceField(choices=_closing_choices(catalogue.OUTCOMES))
            elif name == "root_cause":
                field = forms.ChoiceField(choices=_closing_choices(catalogue.ROOT_CAUSES))
            elif name == "currency":
                field = forms.ChoiceField(choices=[(c, c) for c in catalogue.CURRENCIES])
            elif name == "resolution_summary":
                field = forms.CharField(max_length=10_000, widget=forms.Textarea(attrs={"rows": 4}))
            elif name in ("redress_amount", "goodwill_amount"):
                field = forms.CharField(max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
            elif name == "priority":
                field = forms.TypedChoiceField(choices=[("", "—"), *Priority.choices], coerce=int, empty_value=None)
            elif name == "severity":
                field = forms.ChoiceField(choices=[("", "—"), *Severity.choices])
            else:  # pragma: no cover - every settable field is listed above
                field = forms.CharField(max_length=200)
            field.label = label
            field.required = False  # the service names what is missing (the engine's reasons)
            field.widget.attrs["data-required"] = "true" if name in required else "false"
            if name in required:
                field.widget.attrs["aria-required"] = "true"
            self.fields[name] = field
        for item in step.checklist:
            self.fields[f"checklist_{item.key}"] = forms.BooleanField(
                label=item.label_de if german else item.label_en, required=False
            )
        self.order_fields([*order, *(f"checklist_{item.key}" for item in step.checklist), "note"])

    def entered(self) -> dict[str, Any]:
        from leitplanke.processes import catalogue

        out = {name: self.cleaned_data.get(name) for name in self.fields if name in catalogue.SETTABLE}
        for name in self.fields:
            if name.startswith(CUSTOM_PREFIX):
                value = self.cleaned_data.get(name)
                if value not in (None, "", False):
                    out["custom." + name[len(CUSTOM_PREFIX) :]] = value
        return out

    def confirmed(self) -> list[str]:
        return [name[len("checklist_") :] for name, value in self.cleaned_data.items() if name.startswith("checklist_") and value]


class EscalationForm(Form):
    """Manual escalation from the case page: the reason is required."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("auto_id", "escalate_%s")
        super().__init__(*args, **kwargs)

    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
