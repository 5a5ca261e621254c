"""Forms of the administration screens. They only check the shape of the input; the
services decide what is allowed and report it as domain errors shown on the form."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leitplanke.core.forms import Form

from . import permissions
from .models import AbsenceKind, Language, Role, Skill, SkillKind, Team, User
from .services import CALENDAR_REGIONS


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(zone, zone) for zone in sorted(available_timezones()) if "/" in zone or zone == "UTC"]


class OrganisationForm(Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=_time_zone_choices)
    default_language = forms.ChoiceField(label=_("Default language"), choices=Language.choices)
    customer_languages = forms.MultipleChoiceField(
        label=_("Customer languages"),
        choices=Language.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Languages in which customers can be answered."),
    )
    calendar_region = forms.ChoiceField(
        label=_("Default business calendar"),
        choices=[(key, key) for key in CALENDAR_REGIONS],
        help_text=_("Country and state or nation whose public holidays count, e.g. DE-BY or GB-SCT."),
    )

    public_name = forms.CharField(
        label=_("Name on public pages"),
        max_length=200,
        required=False,
        help_text=_("Shown to customers on the complaint form, confirmation and status pages; the name above when empty."),
    )
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        help_text=_("PNG or JPEG, at most 512 KB. Shown at 32 pixels height."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
    contact_email = forms.EmailField(label=_("Contact e-mail"), max_length=254, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=40, required=False)
    contact_address = forms.CharField(
        label=_("Postal address"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    imprint_url = forms.CharField(label=_("Imprint (legal notice) URL"), max_length=200, required=False)
    privacy_url = forms.CharField(
        label=_("Privacy notice URL"),
        max_length=200,
        required=False,
        help_text=_("When empty, the public pages link to the built-in privacy notice."),
    )
    form_frame_ancestors = forms.CharField(
        label=_("Sites that may embed the complaint form"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Origins such as https://www.example.de, one per line. See docs/public-pages.md for the embed code."),
    )


class BrandForm(Form):
    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("For administrators, e.g. Rheinfeld Mobilfunk."))
    slug = forms.CharField(
        label=_("Short name in links"),
        max_length=50,
        help_text=_("Its public form is at /public/ followed by this short name; lower-case letters, digits and hyphens."),
    )
    display_name = forms.CharField(
        label=_("Name customers see"), max_length=200, help_text=_("Sender name of its e-mails and name on its public form.")
    )
    from_address = forms.EmailField(label=_("From address"), max_length=254)
    reply_to = forms.EmailField(
        label=_("Reply-To address"),
        max_length=254,
        required=False,
        help_text=_("Where customers' answers go; a mailbox that Leitplanke fetches. Empty: the From address."),
    )
    signature = forms.CharField(
        label=_("Signature"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Added below acknowledgements and replies; placeholders such as {{ agent_name }} work here."),
    )
    colour = forms.CharField(
        label=_("Colour"), max_length=7, required=False, widget=forms.TextInput(attrs={"type": "color"}), initial="#0f5c8c"
    )
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        help_text=_("PNG or JPEG, at most 512 KB. Shown at 32 pixels height."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
    contact_email = forms.EmailField(label=_("Contact e-mail"), max_length=254, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=40, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class UserSearchForm(Form):
    q = forms.CharField(
        label=_("Search name or e-mail"), required=False, max_length=200, widget=forms.TextInput(attrs={"type": "search"})
    )


class RoleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.label


class UserForm(Form):
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices, initial=Language.GERMAN)
    roles = RoleChoiceField(
        label=_("Roles"), queryset=Role.objects.order_by("name_en"), required=False, widget=forms.CheckboxSelectMultiple
    )
    teams = forms.ModelMultipleChoiceField(
        label=_("Teams"),
        queryset=Team.objects.filter(is_active=True).order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if user is None:
            self.fields["password"] = forms.CharField(
                label=_("Initial password"),
                required=False,
                strip=False,
                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=True),
                help_text=_("Optional. Leave empty to send the person an e-mail with a link to choose a password."),
            )
        else:
            self.fields["is_active"] = forms.BooleanField(
                label=_("Active (may log in)"),
                required=False,
                help_text=_("Inactive users keep their history but cannot log in."),
            )
            # Inactive teams the user still belongs to stay selectable, so saving does not drop them.
            self.fields["teams"].queryset = Team.objects.filter(  # type: ignore[attr-defined]
                Q(is_active=True) | Q(pk__in=user.teams.values("pk"))
            ).order_by("name")


class TeamForm(Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    email = forms.EmailField(label=_("Team e-mail"), required=False, max_length=254)
    lead = forms.ModelChoiceField(
        label=_("Lead"),
        queryset=User.objects.filter(is_active=True).order_by("full_name", "id"),
        required=False,
        empty_label=_("— no lead —"),
    )
    members = forms.ModelMultipleChoiceField(
        label=_("Members"),
        queryset=User.objects.filter(is_active=True).order_by("full_name", "id"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=_("Hold Ctrl (or Cmd) to choose several. The lead is always a member."),
    )
    parent = forms.ModelChoiceField(
        label=_("Parent team"),
        queryset=Team.objects.filter(is_active=True).order_by("name", "id"),
        required=False,
        empty_label=_("— none (top level) —"),
        help_text=_("Approvals go from the decider's team lead to the lead of the team above, and so on up."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, team: Team | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if team is not None:
            # The team itself is no choice; an inactive parent it already has stays selectable.
            self.fields["parent"].queryset = (  # type: ignore[attr-defined]
                Team.objects.filter(Q(is_active=True) | Q(pk=team.parent_id)).exclude(pk=team.pk).order_by("name", "id")
            )


class RoleForm(Form):
    name_de = forms.CharField(label=_("Name (German)"), max_length=200)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    capabilities = forms.MultipleChoiceField(
        label=_("Capabilities"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=lambda: list(permissions.CAPABILITIES.items()),
    )

    def __init__(self, *args: Any, creating: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if creating:
            self.fields = {
                "key": forms.SlugField(
                    label=_("Key"),
                    max_length=50,
                    help_text=_("Short technical name, e.g. “complaints_desk”; cannot be changed later."),
                ),
                **self.fields,
            }


class SkillForm(Form):
    key = forms.SlugField(label=_("Key"), max_length=50, help_text=_("Short technical name, e.g. “insurance_law”."))
    name_de = forms.CharField(label=_("Name (German)"), max_length=200)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=SkillKind.choices)


class SkillChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.label} ({obj.get_kind_display()})"


class UserSkillForm(Form):
    skill = SkillChoiceField(label=_("Skill or qualification"), queryset=Skill.objects.order_by("kind", "name_en"))
    level = forms.TypedChoiceField(
        label=_("Level"), coerce=int, initial=1, choices=[(1, _("1 – basic")), (2, _("2 – advanced")), (3, _("3 – expert"))]
    )
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty if it does not expire."),
    )


class AbsenceForm(Form):
    starts_on = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("Kind"), choices=AbsenceKind.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class AuditFilterForm(Form):
    action = forms.CharField(
        label=_("Action"), required=False, max_length=100, help_text=_("Beginning of the action, e.g. “user.” or “auth.login”.")
    )
    object_type = forms.CharField(label=_("Object type"), required=False, max_length=100, help_text=_("e.g. accounts.user"))
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=64)
    actor = forms.CharField(label=_("Actor e-mail"), required=False, max_length=254)
    occurred_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text=_("First day, inclusive.")
    )
    occurred_until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text=_("Last day, inclusive.")
    )
