"""Forms of the catalogue screens (case types, categories, custom fields). They only shape
the input; catalog_services validates and reports problems as domain errors on the form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from leitplanke.accounts.actors import Actor
from leitplanke.core.forms import Form
from leitplanke.deadlines import selectors as deadline_selectors

from . import catalog_selectors
from .models import FieldKind

KEY_HELP = _("Lower-case letters, digits, hyphens and underscores. Used by the API and in exports; it cannot be changed later.")


class CaseTypeForm(Form):
    key = forms.CharField(label=_("Key"), max_length=50, help_text=KEY_HELP)
    name_de = forms.CharField(label=_("Name (German)"), max_length=200)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200)
    is_complaint = forms.BooleanField(
        label=_("Counts as complaint"),
        required=False,
        help_text=_("Cases of this type count in complaint figures and regulatory reports."),
    )
    acknowledgement_enabled = forms.BooleanField(
        label=_("Send acknowledgement automatically"),
        required=False,
        help_text=_("Customers receive a confirmation of receipt when a case of this type is registered."),
    )
    is_active = forms.BooleanField(
        label=_("Active"), required=False, help_text=_("Inactive case types cannot be chosen for new cases.")
    )
    order = forms.IntegerField(
        label=_("Order"), min_value=0, max_value=32767, initial=0, help_text=_("Smaller numbers come first in lists.")
    )
    brand: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Brand"),
        queryset=None,
        required=False,
        empty_label=_("none (the default sender)"),
        help_text=_("Sends the mail of cases of this type unless the customer wrote to a mailbox or form of a brand."),
    )
    deadline_rules = forms.MultipleChoiceField(
        label=_("Deadlines"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The clocks every case of this type starts when it is received (the rule version valid that day)."),
    )
    process_key = forms.ChoiceField(
        label=_("Process"),
        required=False,
        help_text=_(
            "The steps its cases go through (Settings → Processes). New cases start on the published version; "
            "running cases keep theirs."
        ),
    )

    def __init__(self, *args: Any, creating: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from leitplanke.accounts.selectors import brand_choices

        self.fields["brand"].queryset = brand_choices()  # type: ignore[attr-defined]
        if not creating:
            del self.fields["key"]
        self.fields["deadline_rules"].choices = deadline_selectors.rule_choices  # type: ignore[attr-defined]
        from leitplanke.processes.selectors import published_processes

        german = (get_language() or "de").startswith("de")
        choices: list[tuple[str, Any]] = [("", _("Automatic: complaint handling for complaints, inquiries otherwise"))]
        choices += [(d.key, d.name_de if german else d.name_en) for d in published_processes()]
        self.fields["process_key"].choices = choices  # type: ignore[attr-defined]


class CategoryCreateForm(Form):
    parent: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Parent category"),
        queryset=None,
        required=False,
        empty_label=_("— none (top level) —"),
        help_text=_("Where the new category goes in the tree. It cannot be moved later."),
    )
    key = forms.CharField(label=_("Key"), max_length=80, help_text=KEY_HELP)
    name_de = forms.CharField(label=_("Name (German)"), max_length=200)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200)

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parent = self.fields["parent"]
        parent.queryset = catalog_selectors.category_parent_options(actor=actor)  # type: ignore[attr-defined]
        # Offered in tree order (the queryset, ordered by path, only validates the choice).
        parent.choices = [("", parent.empty_label)] + [  # type: ignore[attr-defined]
            (category.pk, "\u2003" * category.depth + category.label)
            for category in catalog_selectors.category_tree(actor=actor)
            if category.depth < 5
        ]


class CategoryEditForm(Form):
    name_de = forms.CharField(label=_("Name (German)"), max_length=200)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200)
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        help_text=_(
            "Inactive categories cannot be chosen for new cases; existing cases keep them. "
            "Moving a category to another parent is not possible here: add a new category and "
            "deactivate this one instead."
        ),
    )


class CustomFieldForm(Form):
    key = forms.CharField(label=_("Key"), max_length=50, help_text=KEY_HELP)
    label_de = forms.CharField(label=_("Label (German)"), max_length=200)
    label_en = forms.CharField(label=_("Label (English)"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=FieldKind.choices, help_text=_("What the field holds. It cannot be changed later.")
    )
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        max_length=20000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "refund | Erstattung | Refund"}),
        help_text=_(
            "Only for the kind “Choice”: one choice per line as “value | German label | English label”. "
            "Values already stored on cases stay when a choice is removed."
        ),
    )
    required = forms.BooleanField(label=_("Required"), required=False)
    order = forms.IntegerField(
        label=_("Order"), min_value=0, max_value=32767, initial=0, help_text=_("Smaller numbers come first on the form.")
    )
    is_active = forms.BooleanField(
        label=_("Active"), required=False, initial=True, help_text=_("Inactive fields are no longer shown or checked.")
    )

    def __init__(self, *args: Any, creating: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not creating:
            del self.fields["key"]
            del self.fields["kind"]
