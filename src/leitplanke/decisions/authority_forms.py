"""The administrators' form for an authority limit (the service checks again)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from leitplanke.accounts.models import Role, Skill, User
from leitplanke.cases.models import CaseType
from leitplanke.core.forms import Form
from leitplanke.processes.catalogue import CURRENCIES

from .models import DecisionKind


class LabelChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        if isinstance(obj, User):
            return f"{obj.full_name} <{obj.email}>"
        return str(obj.label)


class AuthorityLimitForm(Form):
    role = LabelChoiceField(label=_("Role"), queryset=Role.objects.order_by("key"), required=False, empty_label=_("— no role —"))
    user = LabelChoiceField(
        label=_("Person"),
        queryset=User.objects.filter(is_active=True).order_by("full_name", "id"),
        required=False,
        empty_label=_("— no person —"),
        help_text=_("Choose a role or a person. A person's limits replace their roles' limits of the same kind and currency."),
    )
    kind = forms.ChoiceField(label=_("Decision kind"), choices=DecisionKind.choices)
    currency = forms.ChoiceField(label=_("Currency"), choices=[(c, c) for c in CURRENCIES], initial="EUR")
    case_type = LabelChoiceField(
        label=_("Case type"),
        queryset=CaseType.objects.order_by("key"),
        required=False,
        empty_label=_("— every case type —"),
        help_text=_("A limit for one case type replaces the general limit for that case type."),
    )
    skill = LabelChoiceField(
        label=_("Qualification"),
        queryset=Skill.objects.order_by("kind", "name_en"),
        required=False,
        empty_label=_("— none: a base limit —"),
        help_text=_("With a qualification this limit raises the base limit while the person holds it at the level, still valid."),
    )
    min_level = forms.TypedChoiceField(
        label=_("Minimum level"),
        coerce=int,
        initial=1,
        choices=[(1, _("1 – basic")), (2, _("2 – advanced")), (3, _("3 – expert"))],
    )
    per_decision = forms.DecimalField(label=_("Limit per decision"), min_value=0, max_digits=12, decimal_places=2)
    per_customer_year = forms.DecimalField(
        label=_("Limit per customer per year"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        required=False,
        help_text=_("Cumulative over the customer's decisions of this kind in the last 365 days. Empty: no such limit."),
    )


class ApprovalDecisionForm(Form):
    action = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject")), ("send_back", _("Send back"))])
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required to reject or send back; the decider reads it."),
    )
