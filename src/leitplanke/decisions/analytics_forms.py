"""Forms of the consistency page (a GET filter) and of the what-if simulation (table and period)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leitplanke.core.forms import Form

from .analytics_selectors import NONE, ConsistencyFilter

MAX_MONTHS = 60  # the longest period the page aggregates (five years)
MAX_SIMULATION_DAYS = 3 * 366
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _month_start(value: str) -> dt.date:
    match = _MONTH.match(value)
    if not match or not 1 <= int(match.group(2)) <= 12 or not 1900 <= int(match.group(1)) <= 2999:
        raise ValidationError(_("Enter a month as YYYY-MM."), code="invalid")
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def _month_end(start: dt.date) -> dt.date:
    return start.replace(day=calendar.monthrange(start.year, start.month)[1])


def default_period() -> tuple[str, str]:
    """The last twelve months, the current one included."""
    today = timezone.localdate()
    first = today.replace(day=1)
    year, month = (first.year, first.month - 11) if first.month > 11 else (first.year - 1, first.month + 1)
    return f"{year:04d}-{month:02d}", f"{first.year:04d}-{first.month:02d}"


class MonthField(forms.CharField):
    widget = forms.TextInput(attrs={"type": "month", "pattern": r"\d{4}-\d{2}", "placeholder": "YYYY-MM"})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=7, **kwargs)

    def clean(self, value: Any) -> str:
        text: str = super().clean(value)
        if text:
            _month_start(text)
        return text


class ConsistencyFilterForm(Form):
    start = MonthField(label=_("From (month)"), required=False)
    end = MonthField(label=_("To (month)"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[
            ("goodwill", _("Goodwill")),
            ("redress", _("Redress")),
            ("none", _("No payment")),
            ("all", _("All decisions (rates only)")),
        ],
    )
    currency = forms.RegexField(label=_("Currency"), regex=r"^[A-Z]{3}$", required=False, max_length=3)
    category = forms.ChoiceField(label=_("Category"), required=False)
    product = forms.ChoiceField(label=_("Product"), required=False)
    segment = forms.ChoiceField(label=_("Customer segment"), required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)
    # Set by the drill-down links only (hidden on the page).
    agent = forms.RegexField(regex=r"^(\d{1,12}|none)$", required=False, max_length=12, widget=forms.HiddenInput)
    month = MonthField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, choices: dict[str, list[tuple[str, str]]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        any_choice = ("", _("All"))
        none_choice = (NONE, _("(none)"))
        for name in ("category", "product", "segment", "team"):
            self.fields[name].choices = [any_choice, *choices[name], none_choice]  # type: ignore[attr-defined]
        self.fields["currency"].widget.attrs.update({"size": 3, "autocomplete": "off"})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = default_period()
        start_text, end_text = data.get("start") or first, data.get("end") or last
        if "start" in self.errors or "end" in self.errors:
            return data
        start, end = _month_start(start_text), _month_start(end_text)
        if end < start:
            raise ValidationError(_("The period ends before it starts."), code="period_order")
        if (end.year - start.year) * 12 + end.month - start.month >= MAX_MONTHS:
            raise ValidationError(_("Choose a period of at most five years."), code="period_length")
        data["start_date"], data["end_date"] = start, _month_end(end)
        return data

    def to_filter(self) -> ConsistencyFilter:
        data = self.cleaned_data
        return ConsistencyFilter(
            start=data["start_date"],
            end=data["end_date"],
            kind=data.get("kind") or "goodwill",
            currency=data.get("currency") or "EUR",
            category=data.get("category") or "",
            product=data.get("product") or "",
            segment=data.get("segment") or "",
            team=data.get("team") or "",
            agent=data.get("agent") or "",
            month=data.get("month") or "",
        )


class SimulationForm(Form):
    table = forms.ChoiceField(label=_("Decision table version"))
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, tables: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["table"].choices = tables  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise ValidationError(_("The period ends before it starts."), code="period_order")
            if (end - start).days > MAX_SIMULATION_DAYS:
                raise ValidationError(_("Choose a period of at most three years."), code="period_length")
            if start > timezone.localdate():
                raise ValidationError(_("The period lies in the future: there are no decisions to simulate."), code="future")
        return data
