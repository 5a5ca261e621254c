"""Deadline explanations and time left in the reader's language (the engine's explanation is
structured data; the API also returns it as English sentences)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

MEASURES = {
    "business_days": lambda n: ngettext("%(n)s business day", "%(n)s business days", n) % {"n": n},
    "business_hours": lambda n: ngettext("%(n)s business hour", "%(n)s business hours", n) % {"n": n},
    "calendar_days": lambda n: ngettext("%(n)s calendar day", "%(n)s calendar days", n) % {"n": n},
    "weeks": lambda n: ngettext("%(n)s week", "%(n)s weeks", n) % {"n": n},
    "months": lambda n: ngettext("%(n)s month", "%(n)s months", n) % {"n": n},
    "elapsed_hours": lambda n: ngettext("%(n)s hour", "%(n)s hours", n) % {"n": n},
}


def period(measure: str, duration: int) -> str:
    return str(MEASURES.get(measure, lambda n: f"{n} {measure}")(duration))


def _day(text: str | None) -> str:
    if not text:
        return "—"
    return date_format(dt.date.fromisoformat(text), "DATE_FORMAT")


def _moment(text: str | None) -> str:
    if not text:
        return "—"
    value = dt.datetime.fromisoformat(text)
    return f"{date_format(value, 'DATE_FORMAT')} {value:%H:%M} ({value:%z})"


def _weekday(day: str) -> str:
    return date_format(dt.date.fromisoformat(day), "l")


def skipped_reason(entry: dict[str, Any], language: str) -> str:
    reason = entry.get("reason")
    if reason == "weekend":
        return _("weekend (%(day)s)") % {"day": _weekday(entry["date"])}
    if reason == "holiday":
        name = entry.get("detail_de") if language == "de" else entry.get("detail")
        return _("public holiday: %(name)s") % {"name": name or entry.get("detail", "")}
    if reason == "closure":
        return _("organisation closure: %(name)s") % {"name": entry.get("detail", "")}
    if reason == "pause":
        return _("clock paused")
    return str(reason)


def explanation_lines(e: dict[str, Any], language: str) -> list[str]:
    """The explanation as sentences for the case page."""
    if not e:
        return []
    lines = []
    rule = e.get("rule") or {}
    lines.append(
        _("Rule %(key)s, version %(version)s: %(period)s") % {"key": rule.get("key"), "version": rule.get("version"),
                                                            "period": period(e.get("measure", ""), e.get("duration", 0))}
        + (f" ({rule['source']})" if rule.get("source") else "")
    )  # fmt: skip
    cal = e.get("calendar") or {}
    lines.append(
        _("Calendar: public holidays of %(name)s (%(code)s, holidays %(version)s), time zone %(zone)s")
        % {
            "name": cal.get("name_de") if language == "de" else cal.get("name_en"),
            "code": cal.get("jurisdiction"),
            "version": cal.get("holidays_package"),
            "zone": cal.get("time_zone"),
        }
    )
    if cal.get("closures"):
        labels = ", ".join(c.get("label") or c.get("date") or c.get("recurring", "") for c in cal["closures"])
        lines.append(_("Organisation closures: %(list)s") % {"list": labels})
    lines.append(_("Received: %(when)s") % {"when": _moment(e.get("received_at"))})
    if e.get("started_because") == "message_on_closed_case":
        lines.append(_("Started again: a customer's message arrived on the resolved or closed case."))
    receipt = e.get("receipt")
    if receipt:
        if receipt.get("reason") == "after_cut_off":
            lines.append(_("Received after the cut-off %(time)s: counted as received on %(day)s (organisation setting).")
                         % {"time": receipt.get("cut_off"), "day": _day(receipt.get("to"))})  # fmt: skip
        else:
            lines.append(_("Received on a non-business day: counted as received on %(day)s (organisation setting).")
                         % {"day": _day(receipt.get("to"))})  # fmt: skip
    if e.get("day_one") and e.get("measure") in ("business_hours", "elapsed_hours"):
        lines.append(_("Counting starts on %(day)s.") % {"day": _day(e["day_one"])})
    elif e.get("day_one"):
        lines.append(_("Day one: %(day)s (the day of receipt does not count).") % {"day": _day(e["day_one"])})
    for entry in e.get("skipped") or []:
        lines.append(
            _("Not counted: %(day)s, %(reason)s") % {"day": _day(entry["date"]), "reason": skipped_reason(entry, language)}
        )
    lacks = e.get("month_lacks_day")
    if lacks:
        lines.append(
            _("The last month has no day %(n)s: the period ends on %(day)s.") % {"n": lacks["day"], "day": _day(lacks["end"])}
        )
    roll = e.get("roll")
    if roll and roll.get("from") != roll.get("to"):
        lines.append(
            _("The period ended on %(from)s, not a working day: moved to %(to)s (%(source)s).")
            % {"from": _day(roll["from"]), "to": _day(roll["to"]), "source": roll.get("source")}
        )
    two = e.get("two_working_days")
    if two:
        lines.append(
            _("The period held fewer than two working days: it ends on %(day)s (%(source)s).")
            % {"day": _day(two["to"]), "source": two.get("source")}
        )
    for pause in e.get("pauses") or []:
        lines.append(
            _("Paused from %(start)s to %(end)s") % {"start": _moment(pause.get("start")), "end": _moment(pause.get("end"))}
        )
    if e.get("pauses") and not e.get("pauses_stop"):
        lines.append(_("This rule does not stop for pauses."))
    ext = e.get("extension")
    if ext:
        if ext.get("applied"):
            lines.append(
                _("Extended by %(event)s on %(when)s: %(period)s from receipt.")
                % {
                    "event": ext.get("event"),
                    "when": _moment(ext.get("at")),
                    "period": period(ext.get("measure", ""), ext.get("duration", 0)),
                }
            )
        else:
            lines.append(_("Extension %(event)s not applied: it came after the due time.") % {"event": ext.get("event")})
    if e.get("paused_since"):
        lines.append(_("Paused since %(when)s.") % {"when": _moment(e["paused_since"])})
    elif e.get("due_at"):
        kind = {"close_of_business": _("close of business"), "end_of_day": _("end of the day")}.get(e.get("due_time", ""), "")
        lines.append(_("Due: %(when)s") % {"when": _moment(e["due_at"])} + (f" ({kind})" if kind else ""))
    return lines


def time_left_text(left: dict[str, Any] | None) -> str:
    if not left:
        return ""
    value, unit = left["value"], left["unit"]
    amount = abs(value)
    words = {
        "business_days": lambda n: ngettext("%(n)s business day", "%(n)s business days", n),
        "business_hours": lambda n: ngettext("%(n)s business hour", "%(n)s business hours", n),
        "hours": lambda n: ngettext("%(n)s hour", "%(n)s hours", n),
        "days": lambda n: ngettext("%(n)s day", "%(n)s days", n),
    }[unit](int(amount) if float(amount).is_integer() else 2) % {"n": f"{amount:g}"}
    if left.get("overdue"):
        return _("overdue by %(amount)s") % {"amount": words}
    if amount == 0:
        return _("due today") if unit in ("business_days", "days") else _("due now")
    return _("%(amount)s left") % {"amount": words}


def extension_label(event: str) -> str:
    labels = {
        "holding_reply": _("Record holding reply"),
        "extension_notice": _("Record extension notice"),
    }
    return str(labels.get(event, event))
