"""Computes a due time and a warning time, and explains both.

Counting follows Reg. 1182/71 Art. 3 and BGB §§ 187–193: the day of receipt is not counted
(day one is the next day), periods in weeks end on the day with the same weekday name, periods
in months on the day with the same date or, where the month lacks it, on its last day; the end
rolls (if the rule says so) over Saturdays, Sundays and public holidays, never over
organisation closures. Instants are computed in UTC; days, opening hours and "end of day" in
the given time zone, so daylight-saving changes are handled by the time zone database.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .calendars import DEFAULT_WEEK, Calendar, Closure, holidays_version, jurisdiction
from .errors import InputError
from .rules import DEFAULT_SETTINGS, END_ROLL_SOURCES, Rule, Settings

UTC = dt.UTC
ONE_DAY = dt.timedelta(days=1)
END_OF_DAY = dt.time(23, 59, 59, 999000)
MAX_WALK = 4000  # days; a bound on every walk over the calendar


@dataclass(frozen=True)
class Pause:
    start: dt.datetime
    end: dt.datetime | None = None
    reason: str = ""


@dataclass(frozen=True)
class ExtensionEvent:
    event: str
    at: dt.datetime


@dataclass(frozen=True)
class Result:
    due_at: dt.datetime | None
    warn_at: dt.datetime | None
    explanation: dict[str, Any]

    @property
    def steps(self) -> list[str]:
        """The explanation as English sentences."""
        return describe(self.explanation)


@lru_cache(maxsize=256)
def zone(name: str, field_name: str = "time_zone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InputError(field_name, "unknown_time_zone", f"Unknown time zone {name!r}.") from None


@lru_cache(maxsize=1024)
def _calendar_for(code: str, closures: tuple[Closure, ...], hours: tuple[Any, ...]) -> Calendar:
    return Calendar(jurisdiction=code, closures=closures, hours=hours)


def require_aware(value: dt.datetime, field_name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise InputError(field_name, "invalid", "Enter a date and time.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(field_name, "naive_datetime", "Give the time with its UTC offset, e.g. 2026-04-02T10:15:00+02:00.")
    return value.astimezone(UTC)


def _iso(day: dt.date) -> str:
    return day.isoformat()


def _add_months(day: dt.date, months: int) -> tuple[dt.date, bool]:
    """Same date N months later; the last day of that month if it lacks the date."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = _calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last)), day.day > last


class _Context:
    """Everything one computation needs, prepared once."""

    def __init__(
        self,
        rule: Rule,
        received_at: dt.datetime,
        cal: Calendar,
        tz: ZoneInfo,
        pauses: Sequence[Pause],
        settings: Settings,
    ):
        self.rule = rule
        self.cal = cal
        self.tz = tz
        self.settings = settings
        self.received_at = received_at
        self.received_local = received_at.astimezone(tz)
        self.due_time = rule.due_time or settings.due_time
        self.open_pause: Pause | None = None
        closed = []
        for pause in pauses:
            if pause.end is None:
                self.open_pause = pause
            else:
                closed.append((max(pause.start, received_at), pause.end))
        closed.sort()
        merged: list[list[dt.datetime]] = []
        for start, end in closed:
            if end <= start:
                continue
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.pauses = [(a, b) for a, b in merged]
        self.pause_days = self._pause_days() if self.pauses else {}
        self.receipt_note: dict[str, Any] | None = None
        self.start_date = self._effective_receipt_date()

    # --- receipt -------------------------------------------------------------------------
    def _effective_receipt_date(self) -> dt.date:
        """The day treated as the day of receipt (not itself counted). The organisation may
        treat receipt on a non-business day or after its cut-off as receipt on the next
        business day (docs/deadlines.md: default off)."""
        local = self.received_local
        day = local.date()
        if self.rule.measure in ("elapsed_hours", "business_hours"):
            return day
        reason = None
        if self.settings.non_business_day_receipt == "next_business_day" and self.cal.day_off(day) is not None:
            reason = "non_business_day"
        elif self.settings.cut_off is not None and local.time() >= self.settings.cut_off and self.cal.day_off(day) is None:
            reason = "after_cut_off"
        if reason is None:
            return day
        moved = day + ONE_DAY
        for _ in range(MAX_WALK):
            if self.cal.day_off(moved) is None:
                break
            moved += ONE_DAY
        self.receipt_note = {"reason": reason, "from": _iso(day), "to": _iso(moved)}
        if reason == "after_cut_off":
            self.receipt_note["cut_off"] = self.settings.cut_off.isoformat("minutes")  # type: ignore[union-attr]
        return moved

    # --- pauses --------------------------------------------------------------------------
    def _pause_days(self) -> dict[dt.date, str]:
        """Days a pause stops for day-based periods: every day the pause covers completely;
        with `pause_end_day = not_counted` also the day on which the pause ends."""
        days: dict[dt.date, str] = {}
        for start, end in self.pauses:
            local_start, local_end = start.astimezone(self.tz), end.astimezone(self.tz)
            day = local_start.date()
            if local_start.timetz().replace(tzinfo=None) != dt.time(0):
                day += ONE_DAY
            while True:
                day_end = self.midnight(day + ONE_DAY)
                if day_end > end:
                    break
                days[day] = "covered"
                day += ONE_DAY
            if self.settings.pause_end_day == "not_counted":
                days.setdefault(local_end.date(), "end_day")
        return days

    # --- instants ------------------------------------------------------------------------
    def midnight(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), tzinfo=self.tz).astimezone(UTC)

    def at(self, day: dt.date, time: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, time, tzinfo=self.tz).astimezone(UTC)

    def hours(self) -> tuple[Any, ...]:
        return self.cal.hours

    def day_end(self, day: dt.date, notes: list[dict[str, Any]]) -> dt.datetime:
        if self.due_time == "close_of_business":
            hours = self.cal.hours[day.weekday()]
            if hours is not None and self.cal.day_off(day) is None:
                return self.at(day, hours[1])
            notes.append({"note": "no_close_of_business", "date": _iso(day)})
        return self.at(day, END_OF_DAY)

    def off(self, day: dt.date) -> dict[str, str] | None:
        off = self.cal.day_off(day)
        if off is None and day in self.pause_days:
            return {"date": _iso(day), "reason": "pause", "detail": self.pause_days[day]}
        return off


def _count_business_days(ctx: _Context, duration: int) -> dict[str, Any]:
    if not ctx.pause_days:
        end, found = ctx.cal.nth_business_day_after(ctx.start_date, duration)
        day_one = None
        if duration:
            # the first day after receipt that was not skipped (skipped days are in order)
            day_one = ctx.start_date + ONE_DAY
            for entry in found:
                if entry["date"] != _iso(day_one):
                    break
                day_one += ONE_DAY
        return {"end": end, "day_one": day_one, "skipped": found, "counted": duration}
    day = ctx.start_date
    count = 0
    skipped: list[dict[str, str]] = []
    day_one = None
    for _ in range(MAX_WALK * 2):
        if count >= duration:
            break
        day += ONE_DAY
        off = ctx.off(day)
        if off is not None:
            skipped.append(off if "date" in off else {"date": _iso(day), **off})
            continue
        count += 1
        if day_one is None:
            day_one = day
    else:
        raise InputError("rule/duration", "too_long", "The period does not end within the calendar.")
    return {"end": day, "day_one": day_one, "skipped": skipped, "counted": count}


def _extend_by_pause_days(ctx: _Context, nominal: dt.date) -> tuple[dt.date, list[dict[str, str]]]:
    """Calendar periods: each paused day inside the period adds one day at its end."""
    if not ctx.pause_days:
        return nominal, []
    paused = sorted(day for day in ctx.pause_days if ctx.start_date < day <= nominal)
    skipped = [{"date": _iso(day), "reason": "pause", "detail": ctx.pause_days[day]} for day in paused]
    remaining = len(paused)
    day = nominal
    while remaining > 0:
        day += ONE_DAY
        if day in ctx.pause_days:
            skipped.append({"date": _iso(day), "reason": "pause", "detail": ctx.pause_days[day]})
            continue
        remaining -= 1
    return day, skipped


def _calendar_period(ctx: _Context, measure: str, duration: int) -> dict[str, Any]:
    start = ctx.start_date
    lacks_day = False
    if measure == "months":
        nominal, lacks_day = _add_months(start, duration)
    else:
        nominal = start + dt.timedelta(days=duration * (7 if measure == "weeks" else 1))
    end, skipped = _extend_by_pause_days(ctx, nominal)
    result: dict[str, Any] = {"end": end, "day_one": start + ONE_DAY if duration else start, "skipped": skipped}
    if lacks_day:
        result["month_lacks_day"] = {"day": start.day, "end": _iso(nominal)}
    # A year outside the holiday data is refused for calendar periods too.
    ctx.cal.holiday(end)
    return result


def _roll(ctx: _Context, day: dt.date) -> tuple[dt.date, dict[str, Any] | None]:
    roll = ctx.rule.end_roll
    if roll == "none":
        return day, None
    moved = day
    skipped = []
    for _ in range(MAX_WALK):
        off = ctx.cal.legal_day_off(moved)
        if off is None:
            break
        skipped.append(off)
        moved += ONE_DAY
    if moved == day:
        return day, {"rule": roll, "source": END_ROLL_SOURCES[roll], "from": _iso(day), "to": _iso(day), "skipped": []}
    return moved, {"rule": roll, "source": END_ROLL_SOURCES[roll], "from": _iso(day), "to": _iso(moved), "skipped": skipped}


def _at_least_two_working_days(ctx: _Context, end: dt.date, trace: dict[str, Any]) -> dt.date:
    """Reg. 1182/71 Art. 3(5): a period of two days or more contains at least two working
    days; if it does not, it ends with the next working day(s)."""
    working = sum(
        1
        for n in range(1, (end - ctx.start_date).days + 1)
        if ctx.cal.legal_day_off(ctx.start_date + dt.timedelta(days=n)) is None
    )
    moved = end
    while working < 2:
        moved += ONE_DAY
        if ctx.cal.legal_day_off(moved) is None:
            working += 1
    if moved != end:
        trace["two_working_days"] = {"from": _iso(end), "to": _iso(moved), "source": "Reg. (EEC, Euratom) 1182/71 Art. 3(5)"}
    return moved


def _business_segments(
    ctx: _Context, start: dt.datetime, skipped: list[dict[str, str]]
) -> Iterable[tuple[dt.datetime, dt.datetime]]:
    """Opening-hour intervals (UTC) from `start` on, without pauses, day by day."""
    day = start.astimezone(ctx.tz).date()
    for _ in range(MAX_WALK):
        off = ctx.cal.day_off(day)
        if off is not None:
            skipped.append(off)
            day += ONE_DAY
            continue
        opening = ctx.cal.hours[day.weekday()]
        assert opening is not None  # day_off says so
        opens, closes = opening
        seg_start, seg_end = max(start, ctx.at(day, opens)), ctx.at(day, closes)
        day += ONE_DAY
        if seg_start >= seg_end:
            continue
        pieces = [(seg_start, seg_end)]
        for p_start, p_end in ctx.pauses:
            if p_end <= seg_start or p_start >= seg_end:
                continue
            rest = []
            for a, b in pieces:
                if p_end <= a or p_start >= b:
                    rest.append((a, b))
                    continue
                if a < p_start:
                    rest.append((a, p_start))
                if p_end < b:
                    rest.append((p_end, b))
            pieces = rest
        yield from pieces
    raise InputError("rule/duration", "too_long", "The period does not end within the calendar.")


def _business_hours(ctx: _Context, minutes: float) -> dict[str, Any]:
    skipped: list[dict[str, str]] = []
    remaining = dt.timedelta(minutes=minutes)
    day_one = None
    if remaining <= dt.timedelta(0):
        return {"due": ctx.received_at, "day_one": None, "skipped": skipped}
    for a, b in _business_segments(ctx, ctx.received_at, skipped):
        if day_one is None:
            day_one = a.astimezone(ctx.tz).date()
        if b - a >= remaining:
            return {"due": a + remaining, "day_one": day_one, "skipped": skipped}
        remaining -= b - a
    raise AssertionError("unreachable")  # pragma: no cover


def _elapsed(ctx: _Context, hours: float) -> dt.datetime:
    start = ctx.received_at
    due = start + dt.timedelta(hours=hours)
    for p_start, p_end in ctx.pauses:
        if p_end <= start:
            continue
        p_start = max(p_start, start)
        if p_start >= due:
            break
        due += p_end - p_start
    return due


def _period(ctx: _Context, measure: str, duration: float, *, warn: bool = False) -> dict[str, Any]:
    """Due instant and its trace for `duration` units of `measure`."""
    notes: list[dict[str, Any]] = []
    if measure == "business_days":
        trace = _count_business_days(ctx, int(duration))
        end = trace["end"]
        trace["due"] = ctx.day_end(end, notes) if duration else ctx.day_end(ctx.start_date, notes)
    elif measure == "business_hours":
        trace = _business_hours(ctx, duration * 60)
    elif measure == "elapsed_hours":
        trace = {"due": _elapsed(ctx, duration), "skipped": [], "day_one": None}
    else:
        trace = _calendar_period(ctx, measure, int(duration))
        end = trace["end"]
        if not warn:
            end, roll = _roll(ctx, end)
            if roll is not None:
                trace["roll"] = roll
            if ctx.rule.end_roll == "eu_1182_71" and measure == "calendar_days" and duration >= 2:
                end = _at_least_two_working_days(ctx, end, trace)
        trace["end"] = end
        trace["due"] = ctx.day_end(end, notes)
    if notes:
        trace["notes"] = notes
    return trace


def _warn_at(ctx: _Context, measure: str, duration: int, due: dt.datetime) -> dt.datetime:
    fraction = ctx.rule.warn_fraction
    if fraction >= 1:
        return due
    if measure == "business_days":
        units = int(duration * fraction)
        if units == 0:
            return ctx.received_at
        if not ctx.pause_days:
            return min(ctx.day_end(ctx.cal.nth_business_day(ctx.start_date, units), []), due)
        return min(_period(ctx, measure, units, warn=True)["due"], due)
    if measure == "business_hours":
        return min(_period(ctx, measure, duration * fraction, warn=True)["due"], due)
    if measure == "elapsed_hours":
        return min(_elapsed(ctx, duration * fraction), due)
    return (ctx.received_at + (due - ctx.received_at) * fraction).replace(microsecond=0)


def compute(
    rule: Rule,
    received_at: dt.datetime,
    jurisdiction_code: str,
    tz: str | ZoneInfo,
    pauses: Sequence[Pause] = (),
    closures: Sequence[Closure] = (),
    extensions: Sequence[ExtensionEvent] = (),
    *,
    settings: Settings = DEFAULT_SETTINGS,
) -> Result:
    """The due time and the warning time of `rule` for a complaint received at `received_at`
    (aware), with the explanation a reviewer needs to recompute both."""
    received = require_aware(received_at, "received_at")
    where = jurisdiction(jurisdiction_code)
    zone_info = zone(tz) if isinstance(tz, str) else tz
    for index, pause in enumerate(pauses):
        start = require_aware(pause.start, f"pauses/{index}/start")
        if pause.end is not None and require_aware(pause.end, f"pauses/{index}/end") < start:
            raise InputError(f"pauses/{index}/end", "end_before_start", "The pause ends before it starts.")
    for index, event in enumerate(extensions):
        require_aware(event.at, f"extensions/{index}/at")
        if rule.extension(event.event) is None:
            raise InputError(f"extensions/{index}/event", "unknown_extension", f"The rule has no extension {event.event!r}.")
    hours = rule.business_hours or settings.business_hours or DEFAULT_WEEK
    cal = _calendar_for(where.code, tuple(closures), hours)
    used_pauses = (
        [Pause(p.start.astimezone(UTC), p.end.astimezone(UTC) if p.end else None, p.reason) for p in pauses]
        if rule.pauses_stop
        else []
    )
    ctx = _Context(rule, received, cal, zone_info, used_pauses, settings)

    trace = _period(ctx, rule.measure, rule.duration)
    due: dt.datetime | None = trace["due"]
    measure, duration = rule.measure, rule.duration
    extension_info: dict[str, Any] | None = None
    for event in sorted(extensions, key=lambda e: e.at):
        ext = rule.extension(event.event)
        assert ext is not None
        at = event.at.astimezone(UTC)
        if due is not None and at > due:
            extension_info = {"event": ext.event, "at": at.isoformat(), "applied": False, "reason": "after_due"}
            continue
        ext_trace = _period(ctx, ext.measure, ext.duration)
        extension_info = {
            "event": ext.event,
            "at": at.isoformat(),
            "applied": True,
            "measure": ext.measure,
            "duration": ext.duration,
            "source": ext.source,
            "original_due_at": due.astimezone(zone_info).isoformat() if due else None,
            "skipped": ext_trace["skipped"],
            "roll": ext_trace.get("roll"),
        }
        trace, measure, duration = ext_trace, ext.measure, ext.duration
        due = ext_trace["due"]
        break

    paused_since = None
    if ctx.open_pause is not None:
        paused_since = ctx.open_pause.start.astimezone(UTC)
        due = None
    warn = _warn_at(ctx, measure, duration, trace["due"]) if due is not None else None

    explanation: dict[str, Any] = {
        "rule": {"key": rule.key, "version": rule.version, "name": rule.name, "source": rule.source},
        "measure": rule.measure,
        "duration": rule.duration,
        "calendar": _calendar_info(cal, where.code, str(zone_info.key)),
        "received_at": ctx.received_local.isoformat(),
        "receipt": ctx.receipt_note,
        "day_one": _iso(trace["day_one"]) if trace.get("day_one") else None,
        "skipped": trace["skipped"],
        "end_day": _iso(trace["end"]) if trace.get("end") else None,
        "month_lacks_day": trace.get("month_lacks_day"),
        "roll": trace.get("roll"),
        "two_working_days": trace.get("two_working_days"),
        "due_time": "exact" if rule.measure in ("business_hours", "elapsed_hours") else ctx.due_time,
        "pauses": [
            {
                "start": p.start.astimezone(zone_info).isoformat(),
                "end": p.end.astimezone(zone_info).isoformat() if p.end else None,
                "reason": p.reason,
            }
            for p in pauses
        ],
        "pauses_stop": rule.pauses_stop,
        "pause_end_day": settings.pause_end_day,
        "paused_since": paused_since.astimezone(zone_info).isoformat() if paused_since else None,
        "extension": extension_info,
        "notes": trace.get("notes", []),
        "due_at": due.astimezone(zone_info).isoformat() if due else None,
        "warn_at": warn.astimezone(zone_info).isoformat() if warn else None,
        "warn_fraction": rule.warn_fraction,
    }
    if extension_info and extension_info.get("applied"):
        # the base period's trace was replaced; keep what the extension replaced visible
        explanation["measure"] = rule.measure
    return Result(
        due_at=due.astimezone(zone_info) if due else None,
        warn_at=warn.astimezone(zone_info) if warn else None,
        explanation=explanation,
    )


@lru_cache(maxsize=1024)
def _calendar_info(cal: Calendar, code: str, zone_name: str) -> dict[str, Any]:
    where = jurisdiction(code)
    return {
        "jurisdiction": where.code,
        "name_de": where.name_de,
        "name_en": where.name_en,
        "time_zone": zone_name,
        "holidays_package": holidays_version(),
        "closures": [c.as_dict() for c in cal.closures],
        "business_hours": {
            key: ([h[0].isoformat("minutes"), h[1].isoformat("minutes")] if h else None)
            for key, h in zip(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), cal.hours, strict=True)
        },
    }


REASON_WORDS = {"weekend": "weekend", "holiday": "public holiday", "closure": "organisation closure", "pause": "clock paused"}


def describe(e: dict[str, Any]) -> list[str]:
    """The explanation as English sentences (the UI renders the structured form in the
    user's language)."""
    rule = e["rule"]
    cal = e["calendar"]
    steps = [
        f"Rule {rule['key']} version {rule['version']}"
        + (f" ({rule['source']})" if rule["source"] else "")
        + f": {e['duration']} {e['measure'].replace('_', ' ')}.",
        f"Calendar: public holidays of {cal['name_en']} ({cal['jurisdiction']}, holidays {cal['holidays_package']})"
        + (f" and {len(cal['closures'])} organisation closure(s)" if cal["closures"] else "")
        + f"; time zone {cal['time_zone']}.",
        f"Received {e['received_at']}.",
    ]
    if e["receipt"]:
        r = e["receipt"]
        why = "after the cut-off " + r.get("cut_off", "") if r["reason"] == "after_cut_off" else "on a non-business day"
        steps.append(f"Received {why}: treated as received on {r['to']} (organisation setting).")
    if e["day_one"]:
        steps.append(f"Day one: {e['day_one']} (the day of receipt is not counted).")
    for skip in e["skipped"]:
        steps.append(f"Skipped {skip['date']}: {REASON_WORDS.get(skip['reason'], skip['reason'])} ({skip.get('detail', '')}).")
    if e["month_lacks_day"]:
        steps.append(
            f"The last month has no day {e['month_lacks_day']['day']}: the period ends on {e['month_lacks_day']['end']}."
        )
    if e["roll"] and e["roll"]["from"] != e["roll"]["to"]:
        steps.append(f"End on {e['roll']['from']} is not a working day: moved to {e['roll']['to']} ({e['roll']['source']}).")
    if e.get("two_working_days"):
        t = e["two_working_days"]
        steps.append(f"The period held fewer than two working days: it ends on {t['to']} ({t['source']}).")
    if e["pauses"] and not e["pauses_stop"]:
        steps.append("Pauses were given but this rule does not stop for them.")
    ext = e["extension"]
    if ext:
        if ext["applied"]:
            steps.append(
                f"Extension by {ext['event']} at {ext['at']}: {ext['duration']} {ext['measure'].replace('_', ' ')} from receipt."
            )
        else:
            steps.append(f"Extension by {ext['event']} at {ext['at']} not applied: it came after the due time.")
    if e["paused_since"]:
        steps.append(f"Paused since {e['paused_since']}: the due time is set again when the pause ends.")
    else:
        steps.append(f"Due: {e['due_at']} ({e['due_time'].replace('_', ' ')}); warning from {e['warn_at']}.")
    return steps


def time_left(
    rule: Rule,
    now: dt.datetime,
    due: dt.datetime,
    jurisdiction_code: str,
    tz: str | ZoneInfo,
    closures: Sequence[Closure] = (),
    *,
    settings: Settings = DEFAULT_SETTINGS,
) -> dict[str, Any]:
    """Time left until `due` in the rule's terms: business days, business hours, hours or
    calendar days; negative when overdue."""
    zone_info = zone(tz) if isinstance(tz, str) else tz
    hours = rule.business_hours or settings.business_hours or DEFAULT_WEEK
    cal = _calendar_for(jurisdiction(jurisdiction_code).code, tuple(closures), hours)
    now_utc, due_utc = require_aware(now, "now"), require_aware(due, "due")
    sign = 1 if due_utc >= now_utc else -1
    early, late = (now_utc, due_utc) if sign > 0 else (due_utc, now_utc)
    if rule.measure == "business_days":
        first, last = early.astimezone(zone_info).date(), late.astimezone(zone_info).date()
        count = 0
        day = first
        while day < last:
            day += ONE_DAY
            if cal.day_off(day) is None:
                count += 1
        return {"unit": "business_days", "value": sign * count, "overdue": sign < 0}
    if rule.measure == "business_hours":
        ctx = _Context(rule, early, cal, zone_info, [], settings)
        minutes = 0.0
        for a, b in _business_segments(ctx, early, []):
            if a >= late:
                break
            minutes += (min(b, late) - a).total_seconds() / 60
        return {"unit": "business_hours", "value": sign * round(minutes / 60, 1), "overdue": sign < 0}
    if rule.measure == "elapsed_hours":
        return {"unit": "hours", "value": sign * round((late - early).total_seconds() / 3600, 1), "overdue": sign < 0}
    days = (late.astimezone(zone_info).date() - early.astimezone(zone_info).date()).days
    return {"unit": "days", "value": sign * days, "overdue": sign < 0}
