"""Forms of the process editor: they shape input, the services validate and write."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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


KEY_PATTERN = r"^[A-Za-z0-9_-]{1,50}$"
KEY_ERROR = _("A key is made of letters, digits, '_' and '-' (at most 50).")
KINDS = [
    ("open", _("open (being worked on)")),
    ("waiting", _("waiting (for someone outside)")),
    ("resolved", _("resolved (answer given)")),
    ("closed", _("closed")),
]


def key_field(label: Any = None, help_text: Any = None) -> forms.RegexField:
    return forms.RegexField(
        label=label or _("Key"),
        regex=KEY_PATTERN,
        max_length=50,
        error_messages={"invalid": KEY_ERROR},
        help_text=help_text or _("Letters, digits, '_' and '-'."),
    )


def with_current(choices: list[tuple[str, str]], current: Any) -> list[tuple[str, str]]:
    """The choices plus values the definition holds that are not among them (an imported
    draft, a rule or template since removed), so that saving a form loses nothing."""
    known = {value for value, _label in choices}
    values = current if isinstance(current, (list, tuple)) else [current]
    extra = [(str(v), str(v)) for v in values if isinstance(v, (str, int)) and str(v) and str(v) not in known]
    return [*choices, *extra]


class StateForm(Form):
    """A state of a draft: its key (a new one renames the state and every step, guard and
    the initial state naming it), kind, labels, the clocks it pauses."""

    key = key_field()
    kind = forms.ChoiceField(label=_("Kind"), choices=KINDS)
    label_de = forms.CharField(label=_("Label (German)"), max_length=200)
    label_en = forms.CharField(label=_("Label (English)"), max_length=200)
    pauses = forms.MultipleChoiceField(
        label=_("Clocks paused in this state (deadline rules)"), required=False, widget=forms.CheckboxSelectMultiple
    )
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, clocks: list[tuple[str, str]], taken: set[str], current: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.taken, self.current = taken, current
        self.fields["pauses"].choices = clocks  # type: ignore[attr-defined]
        if current:
            self.fields["key"].help_text = _(
                "A new key renames the state in this draft: its steps, the initial state and "
                "conditions on the status follow. Open cases need the mapping old=new when "
                "they are moved to the new version."
            )

    def clean_key(self) -> str:
        key = str(self.cleaned_data["key"])
        if key != self.current and key in self.taken:
            raise forms.ValidationError(_("There is already a state with this key."))
        return key


class StepForm(Form):
    """One transition of a draft in a form: its key (a new one renames the step), labels,
    roles allowed, the guard with its words, the fields it requires. The rest of the
    definition stays as it is."""

    key = key_field(help_text=_("Letters, digits, '_' and '-'. A new key renames the step in this draft."))
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

    def __init__(
        self,
        *args: Any,
        roles: list[tuple[str, str]],
        fields: list[tuple[str, str]],
        current: str = "",
        taken: set[str] | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.current, self.taken = current, taken or set()
        self.fields["roles"].choices = roles  # type: ignore[attr-defined]
        self.fields["requires"].choices = fields  # type: ignore[attr-defined]

    def clean_key(self) -> str:
        key = str(self.cleaned_data["key"])
        if key != self.current and key in self.taken:
            raise forms.ValidationError(_("There is already a step with this key."))
        return key

    def clean_guard(self) -> str:
        from .engine import GuardSyntaxError, compile_guard

        guard = (self.cleaned_data.get("guard") or "").strip()
        if guard:
            try:
                compile_guard(guard)
            except GuardSyntaxError as error:
                raise forms.ValidationError(_("The condition does not parse: %(error)s") % {"error": error}) from None
        return guard


class InitialForm(Form):
    # Named as the definition's key; the form metaclass takes it off the class (form.initial stays the dict).
    initial = forms.ChoiceField(label=_("Initial state (new cases start in it)"))  # type: ignore[assignment]
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, states: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["initial"].choices = states  # type: ignore[attr-defined]


class TransitionAddForm(Form):
    """A new step of a draft: key, from which states, to which, its labels. Roles, guard,
    required fields, checklist and effects are then set in the step's form."""

    key = key_field()
    sources = forms.MultipleChoiceField(label=_("From the states"), widget=forms.CheckboxSelectMultiple)
    target = forms.ChoiceField(label=_("To the state"))
    label_de = forms.CharField(label=_("Label (German)"), max_length=200)
    label_en = forms.CharField(label=_("Label (English)"), max_length=200)
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, states: list[tuple[str, str]], taken: set[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.taken = taken
        self.fields["sources"].choices = states  # type: ignore[attr-defined]
        self.fields["target"].choices = [("", "—"), *states]  # type: ignore[attr-defined]

    def clean_key(self) -> str:
        key = str(self.cleaned_data["key"])
        if key in self.taken:
            raise forms.ValidationError(_("There is already a step with this key."))
        return key


class ChecklistItemForm(Form):
    """One row of a step's checklist; a row left empty is skipped, a ticked row removed."""

    key = forms.RegexField(label=_("Key"), regex=KEY_PATTERN, max_length=50, error_messages={"invalid": KEY_ERROR})
    label_de = forms.CharField(label=_("Label (German)"), max_length=300)
    label_en = forms.CharField(label=_("Label (English)"), max_length=300)


class RowsFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    """Rows kept on saving: the existing ones not ticked for removal, and the empty rows
    that were filled in (an empty row is skipped)."""

    def kept(self) -> list[Any]:
        initial = self.initial_form_count()
        return [
            form
            for index, form in enumerate(self.forms)
            if not self._should_delete_form(form)  # type: ignore[attr-defined]
            and (index < initial or form.has_changed())
            and hasattr(form, "cleaned_data")
        ]


class BaseChecklistFormSet(RowsFormSet):
    def clean(self) -> None:
        seen: set[str] = set()
        for form in self.kept():
            key = form.cleaned_data.get("key")
            if key in seen:
                form.add_error("key", _("This key is used twice in the checklist."))
            elif key:
                seen.add(key)

    def rows(self) -> list[dict[str, Any]]:
        return [{name: form.cleaned_data[name] for name in ("key", "label_de", "label_en")} for form in self.kept()]


ChecklistFormSet = forms.formset_factory(ChecklistItemForm, formset=BaseChecklistFormSet, extra=2, can_delete=True, max_num=50)

EFFECT_TYPES = [
    ("set_field", _("Set a field")),
    ("send_template", _("Send a reply template")),
    ("clock", _("Start, stop, pause or resume a clock")),
    ("escalation", _("Raise, lower or set the escalation level")),
    ("webhook", _("Call a webhook")),
    ("decide", _("Decide with a decision table")),
]
CLOCK_ACTIONS = [
    ("start", pgettext_lazy("clock action", "start")),
    ("stop", pgettext_lazy("clock action", "stop")),
    ("pause", pgettext_lazy("clock action", "pause")),
    ("resume", pgettext_lazy("clock action", "resume")),
]
ESCALATION_ACTIONS = [("raise", _("raise by one")), ("lower", _("lower by one")), ("set", _("set to a level"))]
EFFECT_PARAMS = {
    "set_field": ("field", "value"),
    "send_template": ("template",),
    "clock": ("clock_action", "clock"),
    "escalation": ("escalation_action", "level"),
    "webhook": ("endpoint",),
    "decide": ("table",),
}


class EffectForm(Form):
    """One effect of a step: its type and the parameters of that type (the others are
    ignored). A row without a type is skipped."""

    type = forms.ChoiceField(label=_("Effect"), choices=[("", "—"), *EFFECT_TYPES])
    field = forms.ChoiceField(label=_("Field"), required=False)
    value = forms.CharField(label=_("Value"), required=False, max_length=10_000)
    template = forms.ChoiceField(label=_("Reply template"), required=False)
    clock_action = forms.ChoiceField(label=_("Clock action"), required=False, choices=[("", "—"), *CLOCK_ACTIONS])
    clock = forms.ChoiceField(label=_("Clock (deadline rule)"), required=False)
    escalation_action = forms.ChoiceField(label=_("Escalation action"), required=False, choices=[("", "—"), *ESCALATION_ACTIONS])
    level = forms.IntegerField(label=_("Level (for “set”)"), required=False, min_value=0, max_value=9)
    endpoint = forms.ChoiceField(label=_("Webhook endpoint"), required=False)
    table = forms.ChoiceField(label=_("Decision table (published)"), required=False)

    def __init__(
        self,
        *args: Any,
        fields: dict[str, Any],
        templates: list[tuple[str, str]],
        clocks: list[tuple[str, str]],
        endpoints: list[tuple[str, str]],
        tables: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.specs = fields  # settable field name → FieldSpec
        initial = self.initial or {}
        from django.utils.translation import get_language

        language = (get_language() or "de")[:2]
        field_choices = [(name, spec.label(language)) for name, spec in fields.items()]
        self.fields["field"].choices = [("", "—"), *with_current(field_choices, initial.get("field"))]  # type: ignore[attr-defined]
        self.fields["template"].choices = [("", "—"), *with_current(templates, initial.get("template"))]  # type: ignore[attr-defined]
        self.fields["clock"].choices = [("", "—"), *with_current(clocks, initial.get("clock"))]  # type: ignore[attr-defined]
        self.fields["endpoint"].choices = [("", "—"), *with_current(endpoints, initial.get("endpoint"))]  # type: ignore[attr-defined]
        self.fields["table"].choices = [("", "—"), *with_current(tables or [], initial.get("table"))]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("type")
        if not kind:
            return cleaned
        for name in EFFECT_PARAMS.get(kind, ()):
            if name in ("value", "level"):
                continue
            if not cleaned.get(name) and name not in self.errors:
                self.add_error(name, _("This field is required for this effect."))
        if kind == "escalation" and cleaned.get("escalation_action") == "set" and cleaned.get("level") is None:
            self.add_error("level", _("Give the level to set."))
        if kind == "set_field" and cleaned.get("field") and "value" not in self.errors:
            value = self._value(cleaned["field"], cleaned.get("value") or "")
            if value is _INVALID:
                self.add_error("value", _("This value is not one of the field's values."))
            else:
                cleaned["value"] = value
        return cleaned

    def _value(self, name: str, text: str) -> Any:
        from .engine.validate import _settable_value_ok

        spec = self.specs.get(name)
        if spec is None:
            return text  # a field the definition named before: the problem list says more
        value: Any = text.strip() if spec.kind != "text" else text
        if value != "" and spec.choices and all(isinstance(c, int) for c in spec.choices):
            try:
                value = int(value)
            except ValueError:
                return _INVALID
        return value if _settable_value_ok(spec, value) else _INVALID

    def effect(self) -> dict[str, Any]:
        cleaned = self.cleaned_data
        kind = cleaned["type"]
        if kind == "set_field":
            return {"type": kind, "field": cleaned["field"], "value": cleaned["value"]}
        if kind == "send_template":
            return {"type": kind, "template": cleaned["template"]}
        if kind == "clock":
            return {"type": kind, "action": cleaned["clock_action"], "clock": cleaned["clock"]}
        if kind == "escalation":
            effect: dict[str, Any] = {"type": kind, "action": cleaned["escalation_action"]}
            if cleaned["escalation_action"] == "set":
                effect["level"] = cleaned["level"]
            return effect
        if kind == "decide":
            return {"type": kind, "table": cleaned["table"]}
        return {"type": kind, "endpoint": cleaned["endpoint"]}


_INVALID = object()


class BaseEffectFormSet(RowsFormSet):
    def rows(self) -> list[dict[str, Any]]:
        return [form.effect() for form in self.kept() if form.cleaned_data.get("type")]


EffectFormSet = forms.formset_factory(EffectForm, formset=BaseEffectFormSet, extra=2, can_delete=True, max_num=50)


def effect_initial(effect: Any) -> dict[str, Any]:
    """A stored effect as a form row."""
    if not isinstance(effect, dict):
        return {}
    row: dict[str, Any] = {"type": effect.get("type", "")}
    row.update({k: effect[k] for k in ("field", "template", "clock", "level", "endpoint", "table") if k in effect})
    if "value" in effect:
        row["value"] = "" if effect["value"] is None else str(effect["value"])
    if effect.get("type") == "clock":
        row["clock_action"] = effect.get("action", "")
    elif effect.get("type") == "escalation":
        row["escalation_action"] = effect.get("action", "")
    return row


ASSIGN_TO = [
    ("", _("keep the responsible person")),
    ("team_lead", _("the case's team lead becomes responsible")),
    ("handler", _("the first handler of the level becomes responsible")),
]


class EscalationLevelForm(Form):
    level = forms.IntegerField(label=_("Level"), min_value=1, max_value=9)
    label_de = forms.CharField(label=_("Label (German)"), max_length=200)
    label_en = forms.CharField(label=_("Label (English)"), max_length=200)
    handled_by = forms.ChoiceField(label=_("Handled by (role)"), required=False)
    assign_to = forms.ChoiceField(label=_("On reaching this level"), required=False, choices=ASSIGN_TO)

    def __init__(self, *args: Any, roles: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        current = (self.initial or {}).get("handled_by")
        self.fields["handled_by"].choices = [("", "—"), *with_current(roles, current)]  # type: ignore[attr-defined]

    def row(self) -> dict[str, Any]:
        cleaned = self.cleaned_data
        row: dict[str, Any] = {"level": cleaned["level"], "label_de": cleaned["label_de"], "label_en": cleaned["label_en"]}
        if cleaned.get("handled_by"):
            row["handled_by"] = cleaned["handled_by"]
        if cleaned.get("assign_to"):
            row["assign_to"] = cleaned["assign_to"]
        return row


class BaseEscalationFormSet(RowsFormSet):
    def clean(self) -> None:
        seen: set[int] = set()
        for form in self.kept():
            level = form.cleaned_data.get("level")
            if level in seen:
                form.add_error("level", _("This level is used twice."))
            elif level is not None:
                seen.add(level)

    def rows(self) -> list[dict[str, Any]]:
        return [form.row() for form in self.kept()]


EscalationFormSet = forms.formset_factory(EscalationLevelForm, formset=BaseEscalationFormSet, extra=1, can_delete=True, max_num=9)


class EscalateOnForm(Form):
    escalate_on = forms.MultipleChoiceField(
        label=_("A deadline clock raises the escalation level by one at its"),
        required=False,
        choices=[("warning", _("warning")), ("breach", _("breach (the deadline passed)"))],
        widget=forms.CheckboxSelectMultiple,
    )
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)
