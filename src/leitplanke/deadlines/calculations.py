"""Deadline computations with the organisation's defaults: what the compute API and the
clocks on cases call. Reads only; every engine refusal becomes a ValidationFailed naming
the field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

from leitplanke.core.errors import ValidationFailed

from . import engine, selectors
from .messages import as_validation_failed


def compute(
    *,
    rule: dict[str, Any] | None = None,
    rule_key: str | None = None,
    rule_version: int | None = None,
    received_at: dt.datetime,
    jurisdiction: str | None = None,
    time_zone: str | None = None,
    pauses: Sequence[dict[str, Any]] = (),
    closures: Sequence[dict[str, Any]] | None = None,
    extensions: Sequence[dict[str, Any]] = (),
    settings: dict[str, Any] | None = None,
) -> tuple[engine.Result, selectors.RuleVersion | None]:
    """`rule` inline or `rule_key` (+ `rule_version`; without it, the version valid on the
    day of receipt). Jurisdiction, time zone, closures and settings default to the
    organisation's."""
    try:
        received = engine.require_aware(received_at, "received_at")
        calendar = selectors.calendar_settings()
        version = None
        if (rule is None) == (rule_key is None):
            raise ValidationFailed(field_errors={"rule": [_("Give either an inline rule or a rule key, not both.")]})
        if rule is not None:
            engine_rule = engine.rule_from_dict(rule, prefix="rule/")
            place = (calendar.region, calendar.time_zone)
        else:
            assert rule_key is not None
            zone = engine.zone(time_zone) if time_zone else engine.zone(calendar.time_zone)
            version = selectors.rule_version(rule_key, rule_version, received_on=received.astimezone(zone).date())
            if version is None:
                raise engine.InputError("rule_version" if rule_version else "rule_key", "unknown_rule", "No such rule.")
            engine_rule = version.rule
            place = selectors.place_for(version, calendar)
        code = jurisdiction or place[0]
        zone_name = time_zone or place[1]
        closure_list = (
            calendar.closures
            if closures is None
            else tuple(engine.parse_closure(c, f"closures/{i}") for i, c in enumerate(closures))
        )
        engine_settings = calendar.settings if settings is None else engine.settings_from_dict(settings)
        result = engine.compute(
            engine_rule,
            received,
            code,
            zone_name,
            pauses=[engine.Pause(p["start"], p.get("end"), str(p.get("reason") or "")) for p in pauses],
            closures=closure_list,
            extensions=[engine.ExtensionEvent(e["event"], e["at"]) for e in extensions],
            settings=engine_settings,
        )
    except engine.EngineError as error:
        raise as_validation_failed(error) from None
    return result, version
