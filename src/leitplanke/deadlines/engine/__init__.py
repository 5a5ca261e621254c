"""The deadline engine: pure Python (no Django; an import-linter contract enforces it)."""

from .calendars import JURISDICTIONS, Calendar, Closure, covered_years, parse_business_hours, parse_closure, public_holidays
from .compute import ExtensionEvent, Pause, Result, compute, require_aware, time_left, zone
from .errors import EngineError, InputError, YearNotCovered
from .rules import DEFAULT_SETTINGS, MEASURES, Extension, Rule, Settings, rule_from_dict, settings_from_dict

__all__ = [
    "DEFAULT_SETTINGS",
    "JURISDICTIONS",
    "MEASURES",
    "Calendar",
    "Closure",
    "EngineError",
    "Extension",
    "ExtensionEvent",
    "InputError",
    "Pause",
    "Result",
    "Rule",
    "Settings",
    "YearNotCovered",
    "compute",
    "covered_years",
    "parse_business_hours",
    "parse_closure",
    "public_holidays",
    "require_aware",
    "rule_from_dict",
    "settings_from_dict",
    "time_left",
    "zone",
]
