"""The deadline engine: explanations, refusals, and properties (hypothesis)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leitplanke.deadlines.engine import (
    JURISDICTIONS,
    Closure,
    ExtensionEvent,
    InputError,
    Pause,
    YearNotCovered,
    compute,
    public_holidays,
    rule_from_dict,
)
from leitplanke.deadlines.engine.calendars import Calendar

BERLIN = ZoneInfo("Europe/Berlin")
LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC


def when(*args: int, tz: ZoneInfo = BERLIN) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz)


PSD2 = rule_from_dict(
    {
        "measure": "business_days",
        "duration": 15,
        "source": "ZAG § 62",
        "extensions": [{"event": "holding_reply", "duration": 35}],
    },
    key="psd2_de",
    version=2,
)


def test_the_explanation_names_rule_calendar_day_one_each_skipped_day_roll_and_extension():
    result = compute(
        PSD2,
        when(2026, 4, 2, 10),
        "DE-NW",
        "Europe/Berlin",
        closures=[Closure("Brückentag", date=dt.date(2026, 5, 15))],
        extensions=[ExtensionEvent("holding_reply", when(2026, 4, 20, 9))],
    )
    e = result.explanation
    assert e["rule"] == {"key": "psd2_de", "version": 2, "name": "", "source": "ZAG § 62"}
    assert e["calendar"]["jurisdiction"] == "DE-NW"
    assert e["calendar"]["time_zone"] == "Europe/Berlin"
    assert e["calendar"]["holidays_package"] == "0.109"
    assert e["day_one"] == "2026-04-07"
    reasons = {s["date"]: (s["reason"], s.get("detail")) for s in e["skipped"]}
    assert reasons["2026-04-03"] == ("holiday", "Good Friday")
    assert reasons["2026-04-04"] == ("weekend", "sat")
    assert reasons["2026-05-15"] == ("closure", "Brückentag")
    assert e["extension"]["applied"] is True
    assert e["extension"]["original_due_at"].startswith("2026-04-27")
    # the closure on 15 May moves the 35th business day from 28 to 29 May
    assert result.due_at.date() == dt.date(2026, 5, 29)
    assert any("Good Friday" in step for step in result.steps)
    assert next(s for s in e["skipped"] if s["reason"] == "holiday")["detail_de"] == "Karfreitag"


def test_the_roll_is_explained_with_its_source():
    rule = rule_from_dict({"measure": "weeks", "duration": 4, "end_roll": "bgb_193"})
    e = compute(rule, when(2026, 1, 31, 10), "DE-NW", "Europe/Berlin").explanation
    assert e["roll"]["from"] == "2026-02-28"
    assert e["roll"]["to"] == "2026-03-02"
    assert e["roll"]["source"] == "BGB § 193"
    assert [s["reason"] for s in e["roll"]["skipped"]] == ["weekend", "weekend"]


def test_a_closure_does_not_move_a_legal_end_roll():
    """BGB § 193 and Art. 3(4) name Saturdays, Sundays and public holidays, not a firm's closures."""
    rule = rule_from_dict({"measure": "weeks", "duration": 4, "end_roll": "bgb_193"})
    result = compute(rule, when(2026, 1, 5, 10), "DE-NW", "Europe/Berlin", closures=[Closure("x", date=dt.date(2026, 2, 2))])
    assert result.due_at.date() == dt.date(2026, 2, 2)


def test_receipt_after_cut_off_is_explained():
    from leitplanke.deadlines.engine import settings_from_dict

    rule = rule_from_dict({"measure": "business_days", "duration": 1})
    e = compute(
        rule, when(2026, 1, 12, 17), "DE-NW", "Europe/Berlin", settings=settings_from_dict({"cut_off": "16:00"})
    ).explanation
    assert e["receipt"] == {"reason": "after_cut_off", "from": "2026-01-12", "to": "2026-01-13", "cut_off": "16:00"}


def test_an_open_pause_leaves_no_due_time_and_says_since_when():
    rule = rule_from_dict({"measure": "business_days", "duration": 5, "pauses_stop": True})
    result = compute(rule, when(2026, 1, 12, 10), "DE-NW", "Europe/Berlin", pauses=[Pause(when(2026, 1, 13, 9))])
    assert result.due_at is None and result.warn_at is None
    assert result.explanation["paused_since"].startswith("2026-01-13T09:00")


def test_the_warning_comes_at_the_threshold():
    rule = rule_from_dict({"measure": "business_days", "duration": 10, "warn_fraction": 0.5})
    result = compute(rule, when(2026, 1, 12, 10), "DE-NW", "Europe/Berlin")
    assert result.due_at.date() == dt.date(2026, 1, 26)
    assert result.warn_at.date() == dt.date(2026, 1, 19)


# --- refusals -------------------------------------------------------------------------------


def test_a_naive_receipt_time_is_refused():
    with pytest.raises(InputError) as error:
        compute(PSD2, dt.datetime(2026, 4, 2, 10), "DE-NW", "Europe/Berlin")
    assert (error.value.field, error.value.code) == ("received_at", "naive_datetime")


def test_an_unknown_jurisdiction_is_refused():
    with pytest.raises(InputError) as error:
        compute(PSD2, when(2026, 4, 2, 10), "DE-XX", "Europe/Berlin")
    assert (error.value.field, error.value.code) == ("jurisdiction", "unknown_jurisdiction")


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(InputError) as error:
        compute(PSD2, when(2026, 4, 2, 10), "DE-NW", "Mars/Olympus")
    assert error.value.field == "time_zone"


def test_a_negative_duration_is_refused():
    with pytest.raises(InputError) as error:
        rule_from_dict({"measure": "business_days", "duration": -1}, prefix="rule/")
    assert (error.value.field, error.value.code) == ("rule/duration", "negative_duration")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"measure": "fortnights", "duration": 1}, "measure"),
        ({"measure": "weeks", "duration": "8"}, "duration"),
        ({"measure": "weeks", "duration": 8, "end_roll": "sometimes"}, "end_roll"),
        ({"measure": "weeks", "duration": 8, "warn_fraction": 0}, "warn_fraction"),
        ({"measure": "weeks", "duration": 8, "colour": "red"}, "colour"),
        ({"measure": "weeks", "duration": 100000}, "duration"),
        ({"measure": "weeks", "duration": 8, "extensions": [{"duration": 2}]}, "extensions/0/event"),
        ({"measure": "weeks", "duration": 8, "business_hours": {"mon": ["17:00", "09:00"]}}, "business_hours/mon"),
    ],
)
def test_rule_parameters_are_validated_naming_the_field(data, field):
    with pytest.raises(InputError) as error:
        rule_from_dict(data)
    assert error.value.field == field


def test_a_pause_that_ends_before_it_starts_is_refused():
    rule = rule_from_dict({"measure": "business_days", "duration": 5, "pauses_stop": True})
    with pytest.raises(InputError) as error:
        compute(rule, when(2026, 1, 12, 10), "DE-NW", "Europe/Berlin", pauses=[Pause(when(2026, 1, 14), when(2026, 1, 13))])
    assert (error.value.field, error.value.code) == ("pauses/0/end", "end_before_start")


def test_an_extension_the_rule_does_not_have_is_refused():
    with pytest.raises(InputError) as error:
        compute(PSD2, when(2026, 4, 2, 10), "DE-NW", "Europe/Berlin", extensions=[ExtensionEvent("gdpr", when(2026, 4, 3))])
    assert error.value.field == "extensions/0/event"


@pytest.mark.parametrize(("received", "code"), [(when(1990, 6, 1, 10), "DE-BY"), (when(2100, 12, 30, 10), "DE-BY")])
def test_a_year_the_holiday_data_does_not_cover_is_refused(received, code):
    """Germany's data starts in 1991 and the package declares it up to 2100: the period
    starting 30 Dec 2100 reaches 2101 and is refused, not guessed."""
    with pytest.raises(YearNotCovered):
        compute(PSD2, received, code, "Europe/Berlin")


def test_every_jurisdiction_has_holidays():
    for code in JURISDICTIONS:
        assert dt.date(2026, 12, 25) in public_holidays(code, 2026), code


# --- properties -----------------------------------------------------------------------------

HOURS = Calendar("DE-NW").hours
START = dt.datetime(2026, 1, 1, tzinfo=UTC)


def _minute_walk(cal: Calendar, tz: ZoneInfo, start: dt.datetime, minutes: int, pauses=()) -> dt.datetime:
    """Reference implementation: walk minute by minute, counting minutes inside opening hours
    of business days and outside pauses."""
    t = start.replace(second=0, microsecond=0)
    if t < start:
        t += dt.timedelta(minutes=1)
    counted = 0
    while counted < minutes:
        local = t.astimezone(tz)
        hours = cal.hours[local.weekday()]
        open_now = hours is not None and cal.day_off(local.date()) is None and hours[0] <= local.time() < hours[1]
        if open_now and not any(a <= t < b for a, b in pauses):
            counted += 1
        t += dt.timedelta(minutes=1)
        if counted == minutes:
            break
    return t


def _business_minutes(cal: Calendar, tz: ZoneInfo, a: dt.datetime, b: dt.datetime) -> int:
    count, t = 0, a
    while t < b:
        local = t.astimezone(tz)
        hours = cal.hours[local.weekday()]
        if hours is not None and cal.day_off(local.date()) is None and hours[0] <= local.time() < hours[1]:
            count += 1
        t += dt.timedelta(minutes=1)
    return count


minutes_in_2026 = st.integers(min_value=0, max_value=364 * 24 * 60 // 15).map(lambda n: START + dt.timedelta(minutes=15 * n))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(received=minutes_in_2026, hours=st.integers(min_value=1, max_value=20), code=st.sampled_from(["DE-NW", "DE-BY", "GB-SCT"]))
def test_business_hours_agree_with_a_minute_by_minute_walk(received, hours, code):
    tz = LONDON if code.startswith("GB") else BERLIN
    rule = rule_from_dict({"measure": "business_hours", "duration": hours})
    result = compute(rule, received, code, tz)
    assert result.due_at == _minute_walk(Calendar(code), tz, received, hours * 60)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    received=minutes_in_2026,
    hours=st.integers(min_value=2, max_value=24),
    pause_from=st.integers(min_value=0, max_value=4 * 24 * 4),
    pause_len=st.integers(min_value=1, max_value=3 * 24 * 4),
)
def test_a_pause_moves_a_business_hours_due_time_by_exactly_the_business_time_it_covers(received, hours, pause_from, pause_len):
    rule = rule_from_dict({"measure": "business_hours", "duration": hours, "pauses_stop": True})
    a = received + dt.timedelta(minutes=15 * pause_from)
    b = a + dt.timedelta(minutes=15 * pause_len)
    without = compute(rule, received, "DE-NW", BERLIN).due_at
    with_pause = compute(rule, received, "DE-NW", BERLIN, pauses=[Pause(a, b)]).due_at
    cal = Calendar("DE-NW")
    if a >= without:
        assert with_pause == without
        return
    paused = _business_minutes(cal, BERLIN, a, b)
    if b <= without:
        # a pause wholly inside the period moves the due time by exactly its business time
        assert with_pause == (_minute_walk(cal, BERLIN, without, paused) if paused else without)
    # in every case: business time counted = business time from receipt minus the paused part
    counted = _business_minutes(cal, BERLIN, received, with_pause) - _business_minutes(cal, BERLIN, a, min(b, with_pause))
    assert counted == hours * 60


@settings(max_examples=60, deadline=None)
@given(
    received=minutes_in_2026,
    duration=st.integers(min_value=1, max_value=40),
    offset=st.integers(min_value=1, max_value=20),
    days=st.integers(min_value=1, max_value=10),
    code=st.sampled_from(["DE-NW", "DE-BE", "DE-SN", "GB-ENG", "GB-NIR"]),
)
def test_a_pause_over_whole_business_days_moves_the_due_day_by_exactly_that_many_business_days(
    received, duration, offset, days, code
):
    tz = LONDON if code.startswith("GB") else BERLIN
    rule = rule_from_dict({"measure": "business_days", "duration": duration, "pauses_stop": True})
    cal = Calendar(code)
    first = received.astimezone(tz).date() + dt.timedelta(days=offset)
    a = dt.datetime.combine(first, dt.time(0), tzinfo=tz)
    b = dt.datetime.combine(first + dt.timedelta(days=days), dt.time(0), tzinfo=tz)
    base = compute(rule, received, code, tz).due_at
    business_days_paused = sum(
        1
        for n in range(days)
        if (first + dt.timedelta(days=n)) <= base.date() and cal.day_off(first + dt.timedelta(days=n)) is None
    )
    paused = compute(rule, received, code, tz, pauses=[Pause(a, b)]).due_at
    if business_days_paused == 0:
        assert paused == base
        return
    # the pause may also cover days after the original end that would have been counted
    longer = rule_from_dict({"measure": "business_days", "duration": duration + business_days_paused})
    if b.date() <= base.date():
        assert paused == compute(longer, received, code, tz).due_at
    assert paused > base
    assert cal.day_off(paused.date()) is None


@settings(max_examples=60, deadline=None)
@given(
    received=minutes_in_2026,
    duration=st.integers(min_value=0, max_value=60),
    code=st.sampled_from(sorted(JURISDICTIONS)),
)
def test_business_day_deadlines_end_on_a_business_day_after_receipt(received, duration, code):
    tz = LONDON if code.startswith("GB") else BERLIN
    rule = rule_from_dict({"measure": "business_days", "duration": duration})
    result = compute(rule, received, code, tz)
    cal = Calendar(code)
    assert result.due_at >= received
    assert result.warn_at <= result.due_at
    if duration:
        assert cal.day_off(result.due_at.date()) is None
        counted = sum(
            1
            for n in range(1, (result.due_at.date() - received.astimezone(tz).date()).days + 1)
            if cal.day_off(received.astimezone(tz).date() + dt.timedelta(days=n)) is None
        )
        assert counted == duration


@settings(max_examples=60, deadline=None)
@given(
    received=minutes_in_2026,
    hours=st.integers(min_value=0, max_value=500),
    pauses=st.lists(st.tuples(st.integers(0, 400), st.integers(1, 50)), max_size=3),
)
def test_elapsed_hours_add_exactly_the_paused_time(received, hours, pauses):
    rule = rule_from_dict({"measure": "elapsed_hours", "duration": hours, "pauses_stop": True})
    spans = []
    cursor = received
    for gap, length in pauses:  # disjoint pauses after receipt
        start = cursor + dt.timedelta(hours=gap)
        spans.append((start, start + dt.timedelta(hours=length)))
        cursor = start + dt.timedelta(hours=length)
    due = compute(rule, received, "GB-ENG", LONDON, pauses=[Pause(a, b) for a, b in spans]).due_at
    paused = sum(((min(b, due) - a) for a, b in spans if a < due), dt.timedelta(0))
    assert due - received == dt.timedelta(hours=hours) + paused


@settings(max_examples=60, deadline=None)
@given(received=minutes_in_2026, months=st.integers(min_value=1, max_value=12))
def test_months_end_on_the_same_date_or_the_last_day_of_the_month(received, months):
    rule = rule_from_dict({"measure": "months", "duration": months})
    local = received.astimezone(BERLIN).date()
    due = compute(rule, received, "DE-NW", BERLIN).due_at.date()
    index = local.month - 1 + months
    assert (due.year, due.month) == (local.year + index // 12, index % 12 + 1)
    assert due.day == local.day or (due.day < local.day and (due + dt.timedelta(days=1)).day == 1)


@pytest.mark.parametrize(("code", "expected"), [("gb-eaw", "GB-ENG"), ("DE-Augsburg", "DE-BY-AUGSBURG"), (" de-by ", "DE-BY")])
def test_jurisdiction_spellings(code, expected):
    from leitplanke.deadlines.engine.calendars import jurisdiction

    assert jurisdiction(code).code == expected
