"""Business calendars: public holidays of a German state or UK nation (from the `holidays`
package, never hand-written lists), organisation closures and business hours.

Jurisdictions are ISO 3166-2 codes. The finer local variants the `holidays` package offers
get a third segment:

| code | holidays | source in `holidays` |
|---|---|---|
| `DE` | nationwide holidays only | `Germany()` |
| `DE-BB` … `DE-TH` | the state's public holidays | `Germany(subdiv=…)` |
| `DE-BY-CATHOLIC` | Bavaria + Assumption Day (mainly Catholic municipalities) | BY, public + catholic |
| `DE-BY-AUGSBURG` | Bavaria + Augsburg Peace Festival (8 Aug) + Assumption Day | `subdiv="Augsburg"` |
| `DE-SN-CATHOLIC`, `DE-TH-CATHOLIC` | + Corpus Christi (certain Catholic municipalities) | public + catholic |
| `GB-ENG`, `GB-WLS`, `GB-SCT`, `GB-NIR` | bank holidays of that nation | `UnitedKingdom(subdiv=…)` |

A year outside the range the package declares for the country is refused
(`YearNotCovered`), never guessed.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import holidays

from .errors import InputError, YearNotCovered

GERMAN_STATES = ("BB", "BE", "BW", "BY", "HB", "HE", "HH", "MV", "NI", "NW", "RP", "SH", "SL", "SN", "ST", "TH")


@dataclass(frozen=True)
class Jurisdiction:
    code: str
    country: str  # "DE" or "GB"
    subdiv: str | None
    categories: tuple[str, ...]
    name_de: str
    name_en: str


def _jurisdictions() -> dict[str, Jurisdiction]:
    names = {
        "BB": ("Brandenburg", "Brandenburg"),
        "BE": ("Berlin", "Berlin"),
        "BW": ("Baden-Württemberg", "Baden-Württemberg"),
        "BY": ("Bayern", "Bavaria"),
        "HB": ("Bremen", "Bremen"),
        "HE": ("Hessen", "Hesse"),
        "HH": ("Hamburg", "Hamburg"),
        "MV": ("Mecklenburg-Vorpommern", "Mecklenburg-Western Pomerania"),
        "NI": ("Niedersachsen", "Lower Saxony"),
        "NW": ("Nordrhein-Westfalen", "North Rhine-Westphalia"),
        "RP": ("Rheinland-Pfalz", "Rhineland-Palatinate"),
        "SH": ("Schleswig-Holstein", "Schleswig-Holstein"),
        "SL": ("Saarland", "Saarland"),
        "SN": ("Sachsen", "Saxony"),
        "ST": ("Sachsen-Anhalt", "Saxony-Anhalt"),
        "TH": ("Thüringen", "Thuringia"),
    }
    result = {"DE": Jurisdiction("DE", "DE", None, ("public",), "Deutschland (bundesweit)", "Germany (nationwide)")}
    for state in GERMAN_STATES:
        de, en = names[state]
        result[f"DE-{state}"] = Jurisdiction(f"DE-{state}", "DE", state, ("public",), de, en)
    result["DE-BY-CATHOLIC"] = Jurisdiction(
        "DE-BY-CATHOLIC",
        "DE",
        "BY",
        ("public", "catholic"),
        "Bayern, Gemeinden mit Mariä Himmelfahrt",
        "Bavaria, municipalities observing Assumption Day",
    )
    result["DE-BY-AUGSBURG"] = Jurisdiction("DE-BY-AUGSBURG", "DE", "Augsburg", ("public",), "Augsburg", "Augsburg")
    for state in ("SN", "TH"):
        de, en = names[state]
        result[f"DE-{state}-CATHOLIC"] = Jurisdiction(
            f"DE-{state}-CATHOLIC",
            "DE",
            state,
            ("public", "catholic"),
            f"{de}, Gemeinden mit Fronleichnam",
            f"{en}, municipalities observing Corpus Christi",
        )
    for code, de, en in (
        ("ENG", "England", "England"),
        ("WLS", "Wales", "Wales"),
        ("SCT", "Schottland", "Scotland"),
        ("NIR", "Nordirland", "Northern Ireland"),
    ):
        result[f"GB-{code}"] = Jurisdiction(f"GB-{code}", "GB", code, ("public",), de, en)
    return result


JURISDICTIONS: dict[str, Jurisdiction] = _jurisdictions()


# Other spellings accepted for a code (ISO 3166-2 has GB-EAW for England and Wales, which
# share their bank holidays; the `holidays` package's own subdivision name for Augsburg).
ALIASES = {"GB-EAW": "GB-ENG", "DE-AUGSBURG": "DE-BY-AUGSBURG"}


def jurisdiction(code: str, *, field_name: str = "jurisdiction") -> Jurisdiction:
    key = (code or "").strip().upper() if isinstance(code, str) else ""
    found = JURISDICTIONS.get(ALIASES.get(key, key))
    if found is None:
        raise InputError(field_name, "unknown_jurisdiction", f"Unknown jurisdiction {code!r}.", value=code)
    return found


def _holiday_class(country: str) -> Any:
    return holidays.Germany if country == "DE" else holidays.UnitedKingdom


def covered_years(code: str) -> tuple[int, int]:
    cls = _holiday_class(jurisdiction(code).country)
    return int(cls.start_year), int(cls.end_year)


@lru_cache(maxsize=4096)
def public_holidays(code: str, year: int) -> dict[dt.date, tuple[str, str]]:
    """{date: (German name, English name)} for one jurisdiction and year."""
    j = jurisdiction(code)
    first, last = covered_years(code)
    if not first <= year <= last:
        raise YearNotCovered(year, first, last)
    cls = _holiday_class(j.country)
    kwargs: dict[str, Any] = {"years": year, "categories": j.categories}
    if j.subdiv:
        kwargs["subdiv"] = j.subdiv
    if j.country == "DE":
        de = cls(language="de", **kwargs)
        en = cls(language="en_US", **kwargs)
    else:
        en = cls(language="en_GB", **kwargs)
        de = en
    return {day: (de.get(day, name), name) for day, name in en.items()}


def holidays_version() -> str:
    return str(getattr(holidays, "__version__", "?"))


WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Closure:
    """An organisation closure: every year on month/day (`recurring`), or on one date."""

    label: str
    date: dt.date | None = None
    month: int | None = None
    day: int | None = None

    @property
    def recurring(self) -> bool:
        return self.date is None

    def as_dict(self) -> dict[str, Any]:
        if self.date is not None:
            return {"date": self.date.isoformat(), "label": self.label}
        return {"recurring": f"{self.month:02d}-{self.day:02d}", "label": self.label}


def parse_closure(data: Any, field_name: str) -> Closure:
    if not isinstance(data, dict):
        raise InputError(field_name, "invalid", "A closure is an object with 'date' or 'recurring' (MM-DD).")
    label = str(data.get("label") or "")[:200]
    if data.get("date"):
        try:
            return Closure(label=label, date=dt.date.fromisoformat(str(data["date"])))
        except ValueError:
            raise InputError(f"{field_name}/date", "invalid", "Enter a date as YYYY-MM-DD.") from None
    if data.get("recurring"):
        text = str(data["recurring"])
        try:
            month, day = (int(part) for part in text.split("-"))
            dt.date(2024, month, day)  # a leap year, so 02-29 is allowed
        except ValueError:
            raise InputError(f"{field_name}/recurring", "invalid", "Enter a recurring closure as MM-DD.") from None
        return Closure(label=label, month=month, day=day)
    raise InputError(field_name, "invalid", "A closure needs 'date' (YYYY-MM-DD) or 'recurring' (MM-DD).")


Hours = tuple[tuple[dt.time, dt.time], ...]  # per weekday Monday..Sunday; (open, close) or empty

DEFAULT_HOURS = (dt.time(9), dt.time(17))
DEFAULT_WEEK: tuple[tuple[dt.time, dt.time] | None, ...] = (DEFAULT_HOURS,) * 5 + (None, None)


def parse_business_hours(data: Any, field_name: str = "business_hours") -> tuple[tuple[dt.time, dt.time] | None, ...]:
    """{"mon": ["09:00", "17:00"], …, "sat": null} → one (open, close) or None per weekday.
    Weekdays left out: Monday–Friday 09:00–17:00, Saturday and Sunday closed."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(field_name, "invalid", "Business hours are an object keyed by mon … sun.")
    unknown = set(data) - set(WEEKDAY_KEYS)
    if unknown:
        raise InputError(f"{field_name}/{sorted(unknown)[0]}", "invalid", "Use the weekday keys mon, tue, … sun.")
    result: list[tuple[dt.time, dt.time] | None] = []
    for index, key in enumerate(WEEKDAY_KEYS):
        if key not in data:
            result.append(DEFAULT_HOURS if index < 5 else None)
            continue
        value = data[key]
        if value in (None, [], ""):
            result.append(None)
            continue
        try:
            opens, closes = (dt.time.fromisoformat(str(part)) for part in value)
        except (TypeError, ValueError):
            raise InputError(f"{field_name}/{key}", "invalid", 'Enter opening hours as ["HH:MM", "HH:MM"].') from None
        if closes <= opens:
            raise InputError(f"{field_name}/{key}", "invalid", "Closing time must be after opening time.")
        result.append((opens, closes))
    return tuple(result)


@dataclass(frozen=True)
class YearData:
    off: dict[int, dict[str, str]]  # ordinal -> reason entry (weekend, holiday, closure)
    legal: dict[int, dict[str, str]]  # ordinal -> Saturday, Sunday or public holiday
    business: list[int]  # ordinals of business days, ascending
    off_ordinals: list[int]


@dataclass(frozen=True)
class Calendar:
    """Weekends + public holidays of a jurisdiction + organisation closures + business hours.
    A business day is a weekday with business hours that is neither a public holiday nor a
    closure."""

    jurisdiction: str
    closures: tuple[Closure, ...] = ()
    hours: tuple[tuple[dt.time, dt.time] | None, ...] = DEFAULT_WEEK

    def __post_init__(self) -> None:
        object.__setattr__(self, "_dated", {c.date: c.label for c in self.closures if c.date is not None})
        object.__setattr__(self, "_recurring", {(c.month, c.day): c.label for c in self.closures if c.date is None})
        object.__setattr__(self, "_years", {})

    def holiday(self, day: dt.date) -> tuple[str, str] | None:
        return public_holidays(self.jurisdiction, day.year).get(day)

    def closure(self, day: dt.date) -> str | None:
        label = self._dated.get(day)  # type: ignore[attr-defined]
        if label is None:
            label = self._recurring.get((day.month, day.day))  # type: ignore[attr-defined]
        return label

    def year(self, year: int) -> YearData:
        """Every non-business day of `year` with its reason, and the business days in order
        (computed once per calendar and year; the calendar itself is cached by the engine)."""
        data = self._years.get(year)  # type: ignore[attr-defined]
        if data is None:
            data = self._build_year(year)
            self._years[year] = data  # type: ignore[attr-defined]
        return data

    def _build_year(self, year: int) -> YearData:
        holidays_of_year = public_holidays(self.jurisdiction, year)
        off: dict[int, dict[str, str]] = {}
        legal: dict[int, dict[str, str]] = {}
        business: list[int] = []
        day = dt.date(year, 1, 1)
        while day.year == year:
            ordinal = day.toordinal()
            iso = day.isoformat()
            weekday = day.weekday()
            holiday = holidays_of_year.get(day)
            entry: dict[str, str] | None = None
            if self.hours[weekday] is None:
                entry = {"date": iso, "reason": "weekend", "detail": WEEKDAY_KEYS[weekday]}
            elif holiday is not None:
                entry = {"date": iso, "reason": "holiday", "detail": holiday[1], "detail_de": holiday[0]}
            else:
                label = self.closure(day)
                if label is not None:
                    entry = {"date": iso, "reason": "closure", "detail": label or "closure"}
            if entry is None:
                business.append(ordinal)
            else:
                off[ordinal] = entry
            if weekday >= 5:
                legal[ordinal] = {"date": iso, "reason": "weekend", "detail": WEEKDAY_KEYS[weekday]}
            elif holiday is not None:
                legal[ordinal] = {"date": iso, "reason": "holiday", "detail": holiday[1], "detail_de": holiday[0]}
            day += dt.timedelta(days=1)
        return YearData(off=off, legal=legal, business=business, off_ordinals=sorted(off))

    def day_off(self, day: dt.date) -> dict[str, str] | None:
        """Why `day` is not a business day (weekend, holiday, closure), or None. The entries
        are shared: do not change them."""
        return self.year(day.year).off.get(day.toordinal())

    def nth_business_day(self, start: dt.date, count: int) -> dt.date:
        """The `count`-th business day after `start` (without the skipped days)."""
        if count <= 0:
            return start
        ordinal, remaining = start.toordinal(), count
        data = self.year(start.year)
        index = bisect_right(data.business, ordinal)
        if index + remaining - 1 < len(data.business):
            return dt.date.fromordinal(data.business[index + remaining - 1])
        return self.nth_business_day_after(start, count)[0]

    def nth_business_day_after(self, start: dt.date, count: int) -> tuple[dt.date, list[dict[str, str]]]:
        """The `count`-th business day after `start` and the days skipped on the way."""
        if count <= 0:
            return start, []
        ordinal, year, remaining = start.toordinal(), start.year, count
        for _ in range(200):
            data = self.year(year)
            index = bisect_right(data.business, ordinal)
            if index + remaining - 1 < len(data.business):
                end = data.business[index + remaining - 1]
                break
            remaining -= len(data.business) - index
            year += 1
        else:
            raise InputError("rule/duration", "too_long", "The period does not end within the calendar.")
        skipped: list[dict[str, str]] = []
        first = start.toordinal()
        for y in range(start.year, year + 1):
            data = self.year(y)
            lo, hi = bisect_right(data.off_ordinals, first), bisect_right(data.off_ordinals, end)
            skipped.extend(data.off[o] for o in data.off_ordinals[lo:hi])
        return dt.date.fromordinal(end), skipped

    def legal_day_off(self, day: dt.date) -> dict[str, str] | None:
        """For the end-of-period roll (BGB § 193, Reg. 1182/71 Art. 3(4)): Saturday, Sunday or
        a public holiday. Organisation closures and business hours do not move a legal deadline."""
        return self.year(day.year).legal.get(day.toordinal())
