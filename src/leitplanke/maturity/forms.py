"""Forms of the maturity screens: they check the shape of the input; the services decide
and report domain errors, which the views show on the form (keeping what was typed)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from leitplanke.core.forms import Form

from .engine.model import DIMENSION_LIST, LEVEL_LIST
from .engine.scoring import TENSION_RULES
from .models import DEFAULT_MIN_GROUP_SIZE, Horizon, Kpi, RoadmapItem

TEXTAREA = forms.Textarea(attrs={"rows": 3})


def _dimension_choices() -> list[tuple[str, str]]:
    from django.utils.translation import get_language

    language = get_language() or "de"
    return [("", "—"), *[(d.key, d.name.get(language)) for d in DIMENSION_LIST]]


def _level_choices() -> list[tuple[int, str]]:
    from django.utils.translation import get_language

    language = get_language() or "de"
    return [(level.value, level.name.get(language)) for level in LEVEL_LIST]


def _tension_choices() -> list[tuple[str, str]]:
    from django.utils.translation import get_language

    language = get_language() or "de"
    return [("", "—"), *[(rule.key, rule.title.get(language)) for rule in TENSION_RULES]]


class ContactForm(Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    organisation = forms.CharField(label=_("Organisation"), max_length=200, required=False)
    consent = forms.BooleanField(
        label=_("I agree that my name, e-mail address and answers are stored so that you can contact me about the result."),
        required=True,
    )


class CampaignForm(Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, max_length=1000, widget=TEXTAREA)
    closes_at = forms.DateTimeField(
        label=_("Invitations valid until"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    min_group_size = forms.IntegerField(
        label=_("Minimum group size"),
        min_value=2,
        max_value=50,
        initial=DEFAULT_MIN_GROUP_SIZE,
        help_text=_("A group's answers are shown only from this many responses on, so that nobody can be identified."),
    )


class RoadmapForm(Form):
    title = forms.CharField(label=_("Title"), max_length=200)


class RoadmapItemForm(Form):
    quarter = forms.TypedChoiceField(
        label=_("Quarter"),
        coerce=int,
        choices=[(1, _("Quarter 1 (first 90 days)")), (2, _("Quarter 2")), (3, _("Quarter 3")), (4, _("Quarter 4"))],
    )
    horizon = forms.ChoiceField(label=_("Kind"), choices=Horizon.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    goal = forms.CharField(label=_("Goal"), max_length=1000, widget=TEXTAREA)
    owner = forms.CharField(label=_("Owner"), max_length=200)
    indicator = forms.CharField(label=_("Measurable indicator"), max_length=300)
    kpi = forms.ChoiceField(label=_("Live figure"), choices=[("", "—"), *Kpi.choices], required=False)
    dimension = forms.ChoiceField(label=_("Dimension"), choices=_dimension_choices, required=False)
    status = forms.ChoiceField(label=_("Status"), choices=RoadmapItem.Status.choices)


class RecommendationForm(Form):
    key = forms.RegexField(
        label=_("Key"),
        max_length=80,
        regex=r"^[a-z0-9][a-z0-9._-]*$",
        help_text=_("Letters, digits, dots, hyphens and underscores."),
    )
    dimension = forms.ChoiceField(label=_("Dimension"), choices=_dimension_choices, required=False)
    levels = forms.TypedMultipleChoiceField(
        label=_("Fits the levels"), coerce=int, choices=_level_choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    tension = forms.ChoiceField(
        label=_("Or answers the tension"),
        choices=_tension_choices,
        required=False,
        help_text=_("Either a dimension or a tension."),
    )
    horizon = forms.ChoiceField(label=_("Kind"), choices=Horizon.choices)
    title_de = forms.CharField(label=_("Title (German)"), max_length=200)
    title_en = forms.CharField(label=_("Title (English)"), max_length=200)
    text_de = forms.CharField(label=_("What to do (German)"), max_length=1000, widget=TEXTAREA)
    text_en = forms.CharField(label=_("What to do (English)"), max_length=1000, widget=TEXTAREA)
    owner_de = forms.CharField(label=_("Owner (German)"), max_length=200)
    owner_en = forms.CharField(label=_("Owner (English)"), max_length=200)
    indicator_de = forms.CharField(label=_("Measurable indicator (German)"), max_length=300)
    indicator_en = forms.CharField(label=_("Measurable indicator (English)"), max_length=300)
    kpi = forms.ChoiceField(label=_("Live figure"), choices=[("", "—"), *Kpi.choices], required=False)
    priority = forms.IntegerField(
        label=_("Priority"), min_value=0, max_value=1000, initial=100, help_text=_("Lower comes first.")
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
