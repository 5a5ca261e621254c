"""Clock effects of process transitions (start, stop, pause, resume a clock by rule key),
carried out on the case's deadline clocks (`clock_services.clock_effect`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import clock_services


def apply_clock_effect(*, case: Any, effect: dict[str, Any], at: dt.datetime) -> dict[str, str]:
    """Called by `services.case_transition` inside its transaction, after the status changed.
    `effect`: {"type": "clock", "action": "start" | "stop" | "pause" | "resume", "clock": rule key}.
    Returns {rule key: new state} of the clocks it changed (for the transition's audit event)."""
    return clock_services.clock_effect(case, action=str(effect.get("action", "")), rule_key=str(effect.get("clock", "")), at=at)
