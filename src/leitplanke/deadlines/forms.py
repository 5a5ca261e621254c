"""The deadline settings form: it shapes the input; deadlines.services validates it."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from leitplanke.core.forms import Form

from .engine.calendars import WEEKDAY_KEYS
from .models import DeadlineSettings

WEEKDAY_LABELS = {
    "mon": _("Monday"),
    "tue": _("Tuesday"),
    "wed": _("Wednesday"),
    "thu": _("Thursday"),
    "fri": _("Friday"),
    "sat": _("Saturday"),
    "sun": _("Sunday"),
}
HOURS = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")
CLOSURE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2}|\d{2}-\d{2})\s*(.*)$")


class DeadlineSettingsForm(Form):
    non_business_day_receipt = forms.ChoiceField(
        label=_("Complaint received on a non-business day"),
        choices=DeadlineSettings.Receipt.choices,
        help_text=_("Default: count from the day of receipt (the earlier, safer deadline). See docs/deadlines.md."),
    )
    cut_off = forms.TimeField(
        label=_("Receipt cut-off"),
        required=False,
        help_text=_("Optional, e.g. 16:00: later receipts on a business day count as received on the next business day."),
    )
    due_time = forms.ChoiceField(
        label=_("Deadlines end at"),
        choices=DeadlineSettings.DueTime.choices,
        help_text=_("For rules that do not say; FCA summary resolution always ends at close of business."),
    )
    pause_end_day = forms.ChoiceField(label=_("The day a pause ends"), choices=DeadlineSettings.PauseEnd.choices)
    closures = forms.CharField(
        label=_("Closures"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line: MM-DD every year (12-24 Christmas Eve) or YYYY-MM-DD once, then a label."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key in WEEKDAY_KEYS:
            self.fields[f"hours_{key}"] = forms.CharField(
                label=_("Business hours: %(day)s") % {"day": WEEKDAY_LABELS[key]},
                required=False,
                max_length=20,
                help_text=_("e.g. 09:00-17:00; empty: closed") if key == "mon" else "",
            )

    def clean_closures(self) -> list[dict[str, str]]:
        result = []
        for line in (self.cleaned_data.get("closures") or "").splitlines():
            if not line.strip():
                continue
            match = CLOSURE.match(line)
            if not match:
                raise forms.ValidationError(_("Write each closure as MM-DD or YYYY-MM-DD, then a label."))
            when, label = match.group(1), match.group(2).strip()[:200]
            result.append({"date" if len(when) == 10 else "recurring": when, "label": label})
        return result

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        hours: dict[str, Any] = {}
        for key in WEEKDAY_KEYS:
            text = (data.get(f"hours_{key}") or "").strip()
            if not text:
                hours[key] = None
                continue
            match = HOURS.match(text)
            if not match:
                self.add_error(f"hours_{key}", _("Write the hours as HH:MM-HH:MM."))
                continue
            hours[key] = [match.group(1).zfill(5), match.group(2).zfill(5)]
        data["business_hours"] = hours
        return data

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "non_business_day_receipt": data["non_business_day_receipt"],
            "cut_off": data.get("cut_off"),
            "due_time": data["due_time"],
            "pause_end_day": data["pause_end_day"],
            "closures": data.get("closures") or [],
            "business_hours": data["business_hours"],
        }

    @staticmethod
    def initial_for(row: DeadlineSettings) -> dict[str, Any]:
        hours = row.business_hours or {}
        initial: dict[str, Any] = {
            "non_business_day_receipt": row.non_business_day_receipt,
            "cut_off": row.cut_off,
            "due_time": row.due_time,
            "pause_end_day": row.pause_end_day,
            "closures": "\n".join(
                f"{c.get('date') or c.get('recurring')} {c.get('label', '')}".strip() for c in row.closures or []
            ),
        }
        for index, key in enumerate(WEEKDAY_KEYS):
            value = hours.get(key, ["09:00", "17:00"] if index < 5 else None)
            initial[f"hours_{key}"] = f"{value[0]}-{value[1]}" if value else ""
        return initial
