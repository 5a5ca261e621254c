"""Reads for deadlines: the rule version that applies, the organisation's calendar and
choices. Cached per process as reference data (core/refcache.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from leitplanke.accounts.models import Organisation
from leitplanke.core import refcache

from . import engine
from .models import DeadlineRule, DeadlineSettings

COUNTRY_DEFAULTS = {"DE": ("DE", "Europe/Berlin"), "GB": ("GB-ENG", "Europe/London")}


@dataclass(frozen=True)
class RuleVersion:
    """A rule version as the engine sees it, with the row's identity."""

    id: int
    key: str
    version: int
    name_de: str
    name_en: str
    legal_basis: str
    country: str
    valid_from: dt.date
    valid_to: dt.date | None
    rule: engine.Rule

    def covers(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


def _as_version(row: DeadlineRule) -> RuleVersion:
    params = dict(row.parameters or {})
    params.setdefault("name", row.name_en)
    params.setdefault("source", row.legal_basis)
    return RuleVersion(
        id=row.pk,
        key=row.key,
        version=row.version,
        name_de=row.name_de,
        name_en=row.name_en,
        legal_basis=row.legal_basis,
        country=row.country,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        rule=engine.rule_from_dict(params, key=row.key, version=row.version),
    )


def rule_versions() -> tuple[RuleVersion, ...]:
    """Every rule version (a few dozen rows), validated once per reference generation."""
    return refcache.cached(("deadlines", "rules"), lambda: tuple(_as_version(row) for row in DeadlineRule.objects.all()))


def _group_by_key() -> dict[str, tuple[RuleVersion, ...]]:
    grouped: dict[str, list[RuleVersion]] = {}
    for version in rule_versions():
        grouped.setdefault(version.key, []).append(version)
    return {key: tuple(versions) for key, versions in grouped.items()}


def rule_versions_by_key() -> dict[str, tuple[RuleVersion, ...]]:
    """`rule_versions()` grouped by key, in the same order (every case creation looks up the
    rules of its type)."""
    return refcache.cached(("deadlines", "rules_by_key"), _group_by_key)


def rule_version(key: str, version: int | None = None, *, received_on: dt.date | None = None) -> RuleVersion | None:
    """The given version of `key`; without a version, the one valid on `received_on`
    (or the newest)."""
    candidates = [v for v in rule_versions() if v.key == key]
    if version is not None:
        return next((v for v in candidates if v.version == version), None)
    if received_on is not None:
        candidates = [v for v in candidates if v.covers(received_on)]
    return max(candidates, key=lambda v: v.version, default=None)


@dataclass(frozen=True)
class CalendarSettings:
    region: str
    time_zone: str
    settings: engine.Settings
    closures: tuple[engine.Closure, ...]


def _load_settings() -> CalendarSettings:
    row = DeadlineSettings.objects.filter(pk=1).first() or DeadlineSettings()
    org = Organisation.objects.filter(pk=1).only("time_zone", "calendar_region").first() or Organisation()
    closures = tuple(engine.parse_closure(c, f"closures/{i}") for i, c in enumerate(row.closures or []))
    settings = engine.Settings(
        non_business_day_receipt=row.non_business_day_receipt,
        cut_off=row.cut_off,
        due_time=row.due_time,
        pause_end_day=row.pause_end_day,
        business_hours=engine.parse_business_hours(row.business_hours) if row.business_hours else None,
    )
    return CalendarSettings(region=org.calendar_region, time_zone=org.time_zone, settings=settings, closures=closures)


def calendar_settings() -> CalendarSettings:
    """The organisation's calendar region and time zone (the defaults of every computation)
    and its choices where the law leaves one."""
    return refcache.cached(("deadlines", "settings"), _load_settings)


def deadline_settings_row() -> DeadlineSettings:
    return DeadlineSettings.objects.filter(pk=1).first() or DeadlineSettings(pk=1)


def place_for(version: RuleVersion, calendar: CalendarSettings) -> tuple[str, str]:
    """(jurisdiction, time zone) for a clock: the organisation's, unless the rule belongs to
    another country (a UK rule at a German organisation counts in England's calendar and
    London time)."""
    region = calendar.region
    if version.country and not region.upper().startswith(version.country):
        return COUNTRY_DEFAULTS[version.country]
    if version.country and version.country in COUNTRY_DEFAULTS:
        zone = calendar.time_zone
        expected = COUNTRY_DEFAULTS[version.country][1]
        return region, zone if zone == expected else expected
    return region, calendar.time_zone


def rule_version_by_id(pk: int) -> RuleVersion | None:
    return next((v for v in rule_versions() if v.id == pk), None)


def rule_keys() -> set[str]:
    return {v.key for v in rule_versions()}


def rule_choices() -> list[tuple[str, str]]:
    """(key, "name — legal basis") of each rule's newest version, in the reader's language."""
    from django.utils.translation import get_language

    german = (get_language() or "de").startswith("de")
    newest: dict[str, RuleVersion] = {}
    for version in rule_versions():
        if version.key not in newest or version.version > newest[version.key].version:
            newest[version.key] = version
    return [
        (v.key, (v.name_de if german else v.name_en) + (f" — {v.legal_basis}" if v.legal_basis else ""))
        for v in sorted(newest.values(), key=lambda v: v.key)
    ]
