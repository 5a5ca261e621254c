"""Deadline rules and the organisation's choices where the law leaves one.

A rule's parameters are plain JSON (stored on `DeadlineRule.parameters`); `rule_from_dict`
validates them and names the field of every problem. See docs/deadlines.md for the legal
source of each shipped rule and of each default.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .calendars import parse_business_hours
from .errors import InputError

MEASURES = ("business_days", "business_hours", "calendar_days", "weeks", "months", "elapsed_hours")
# The largest duration per measure (a bound so that a typo cannot make the engine walk for ever).
MAX_DURATION = {
    "business_days": 2000,
    "business_hours": 20000,
    "calendar_days": 3660,
    "weeks": 520,
    "months": 120,
    "elapsed_hours": 87840,
}
DUE_TIMES = ("end_of_day", "close_of_business")
END_ROLLS = ("none", "bgb_193", "eu_1182_71")
END_ROLL_SOURCES = {
    "none": "",
    "bgb_193": "BGB § 193",
    "eu_1182_71": "Reg. (EEC, Euratom) 1182/71 Art. 3(4)",
}
RECEIPT_CHOICES = ("as_received", "next_business_day")
PAUSE_END_CHOICES = ("counts", "not_counted")


@dataclass(frozen=True)
class Extension:
    """When `event` happens before the original due time, the period becomes `duration`
    `measure` counted from receipt (PSD2: 35 business days; GDPR: 1 + 2 = 3 months)."""

    event: str
    measure: str
    duration: int
    source: str = ""


@dataclass(frozen=True)
class Rule:
    key: str
    version: int
    measure: str
    duration: int
    name: str = ""
    source: str = ""
    due_time: str | None = None  # None: the organisation's setting applies
    end_roll: str = "none"
    pauses_stop: bool = False
    warn_fraction: float = 0.8
    extensions: tuple[Extension, ...] = ()
    breach_action: str = "notify"
    business_hours: tuple[tuple[dt.time, dt.time] | None, ...] | None = None

    def extension(self, event: str) -> Extension | None:
        for extension in self.extensions:
            if extension.event == event:
                return extension
        return None


@dataclass(frozen=True)
class Settings:
    """The organisation's choices where the law leaves one (docs/deadlines.md gives the
    source and the reason for each default)."""

    non_business_day_receipt: str = "as_received"
    cut_off: dt.time | None = None
    due_time: str = "end_of_day"
    pause_end_day: str = "counts"
    business_hours: tuple[tuple[dt.time, dt.time] | None, ...] | None = field(default=None)


DEFAULT_SETTINGS = Settings()


def _choice(data: dict[str, Any], key: str, choices: tuple[str, ...], default: Any, prefix: str) -> Any:
    value = data.get(key, default)
    if value is None and default is None:
        return None
    if value not in choices:
        raise InputError(f"{prefix}{key}", "invalid_choice", f"Choose one of: {', '.join(choices)}.", choices=choices)
    return value


def _duration(data: dict[str, Any], measure: str, field_name: str) -> int:
    value = data.get("duration")
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(field_name, "invalid", "The duration is a whole number.")
    if value < 0:
        raise InputError(field_name, "negative_duration", "The duration cannot be negative.")
    if value > MAX_DURATION[measure]:
        raise InputError(field_name, "too_long", f"At most {MAX_DURATION[measure]} for {measure}.", limit=MAX_DURATION[measure])
    return value


def rule_from_dict(data: Any, *, key: str = "inline", version: int = 1, prefix: str = "") -> Rule:
    """Validates rule parameters; every problem is an InputError naming the field
    (`prefix` + name, e.g. `rule/duration`)."""
    if not isinstance(data, dict):
        raise InputError(prefix.rstrip("/") or "rule", "invalid", "A rule is an object.")
    known = {
        "measure", "duration", "name", "source", "due_time", "end_roll", "pauses_stop", "warn_fraction",
        "extensions", "breach_action", "business_hours", "key", "version",
    }  # fmt: skip
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(f"{prefix}{unknown[0]}", "unknown_field", "This rule parameter is not known.")
    measure = _choice(data, "measure", MEASURES, "", prefix)
    duration = _duration(data, measure, f"{prefix}duration")
    warn = data.get("warn_fraction", 0.8)
    if isinstance(warn, bool) or not isinstance(warn, int | float) or not 0 < warn <= 1:
        raise InputError(
            f"{prefix}warn_fraction", "invalid", "The warning threshold is a fraction of the period, above 0 and at most 1."
        )
    pauses_stop = data.get("pauses_stop", False)
    if not isinstance(pauses_stop, bool):
        raise InputError(f"{prefix}pauses_stop", "invalid", "true or false.")
    extensions = []
    raw_extensions = data.get("extensions") or []
    if not isinstance(raw_extensions, list):
        raise InputError(f"{prefix}extensions", "invalid", "A list of extensions.")
    for index, raw in enumerate(raw_extensions):
        where = f"{prefix}extensions/{index}/"
        if not isinstance(raw, dict) or not isinstance(raw.get("event"), str) or not raw["event"].strip():
            raise InputError(f"{where}event", "invalid", "An extension names its event, e.g. holding_reply.")
        ext_measure = _choice(raw, "measure", MEASURES, measure, where)
        ext_duration = _duration(raw, ext_measure, f"{where}duration")
        extensions.append(Extension(raw["event"].strip(), ext_measure, ext_duration, str(raw.get("source") or "")))
    hours = None
    if data.get("business_hours") is not None:
        hours = parse_business_hours(data["business_hours"], f"{prefix}business_hours")
    return Rule(
        key=str(data.get("key") or key),
        version=int(data.get("version") or version),
        measure=measure,
        duration=duration,
        name=str(data.get("name") or ""),
        source=str(data.get("source") or ""),
        due_time=_choice(data, "due_time", DUE_TIMES, None, prefix),
        end_roll=_choice(data, "end_roll", END_ROLLS, "none", prefix),
        pauses_stop=pauses_stop,
        warn_fraction=float(warn),
        extensions=tuple(extensions),
        breach_action=str(data.get("breach_action") or "notify"),
        business_hours=hours,
    )


def settings_from_dict(data: Any, prefix: str = "settings/") -> Settings:
    if data is None:
        return DEFAULT_SETTINGS
    if not isinstance(data, dict):
        raise InputError(prefix.rstrip("/"), "invalid", "Settings are an object.")
    cut_off = data.get("cut_off")
    if cut_off not in (None, ""):
        try:
            cut_off = dt.time.fromisoformat(str(cut_off))
        except ValueError:
            raise InputError(f"{prefix}cut_off", "invalid", "Enter the cut-off as HH:MM.") from None
    else:
        cut_off = None
    hours = parse_business_hours(data["business_hours"], f"{prefix}business_hours") if data.get("business_hours") else None
    return Settings(
        non_business_day_receipt=_choice(data, "non_business_day_receipt", RECEIPT_CHOICES, "as_received", prefix),
        cut_off=cut_off,
        due_time=_choice(data, "due_time", DUE_TIMES, "end_of_day", prefix),
        pause_end_day=_choice(data, "pause_end_day", PAUSE_END_CHOICES, "counts", prefix),
        business_hours=hours,
    )
