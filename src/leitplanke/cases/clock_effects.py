"""Clock effects of process transitions (start, stop, pause, resume a clock by rule key).

The deadlines app implements this: it starts, stops, pauses and resumes the case's
clocks (CaseClock) for the deadline rule named by `effect["clock"]`. Until that app is
merged, the process side routes every clock effect here and nothing visible is recorded
(the transition's audit event lists its effects).
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def apply_clock_effect(*, case: Any, effect: dict[str, Any], at: dt.datetime) -> None:
    """Called by `services.case_transition` inside its transaction, after the status changed.
    `effect`: {"type": "clock", "action": "start" | "stop" | "pause" | "resume", "clock": rule key}."""
    return None
