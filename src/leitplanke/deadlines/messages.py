"""The engine's error codes in the user's language (the engine itself is pure Python and
speaks English)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from leitplanke.core.errors import ValidationFailed

from .engine import EngineError


def message_for(error: EngineError) -> str:
    params = error.params
    messages = {
        "naive_datetime": _("Give the time with its UTC offset, e.g. 2026-04-02T10:15:00+02:00."),
        "unknown_jurisdiction": _("Unknown jurisdiction. Use an ISO 3166-2 code such as DE-BY, GB-SCT or DE-BY-AUGSBURG."),
        "unknown_time_zone": _("Unknown time zone."),
        "negative_duration": _("The duration cannot be negative."),
        "too_long": _("The duration is too long."),
        "end_before_start": _("The pause ends before it starts."),
        "unknown_extension": _("The rule has no such extension."),
        "invalid_choice": _("Choose one of: %(choices)s.") % {"choices": ", ".join(params.get("choices", ()))},
        "unknown_field": _("This rule parameter is not known."),
        "unknown_rule": _("There is no such rule."),
        "year_not_covered": _("The holiday data covers %(first)s–%(last)s; %(year)s is outside it, so no deadline is computed.")
        % {"first": params.get("first"), "last": params.get("last"), "year": params.get("year")},
    }
    return str(messages.get(error.code, _("This value is not valid.")))


def as_validation_failed(error: EngineError) -> ValidationFailed:
    return ValidationFailed(field_errors={error.field: [message_for(error)]}, reason=error.code)
