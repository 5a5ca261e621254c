"""Authority limits (Befugnisse): the pure rules that combine limit rows into one effective
limit, and the check of an amount against it.

No Django here (an import-linter contract keeps it so): the selectors turn `AuthorityLimit`
rows, the person's roles and qualifications into the plain dataclasses below.

The rules (docs/decisions.md, "Authority"):

1. Only rows for the asked kind and currency count; a row with a case type counts only for
   that case type.
2. Person rows override role rows: if any of the person's own base rows (without a
   qualification) applies, the role rows are not looked at. The person's own qualification
   rows raise whatever applies (their base rows, or else their roles' limit).
3. Within the person rows, and within each role's rows, a case-type row is more specific than
   a general row: if a case-type base row applies it replaces the general base rows.
4. A qualification row (skill + minimum level) applies while the person holds that skill at
   that level or higher and it is valid on the day (`valid_until` empty or not before the day).
   It raises: the limit is the maximum of the base and every applicable qualification row
   (per decision and per customer-year each taken as the most generous).
5. Among several roles the most generous applies (maximum per field).
6. No row at all: the limit is 0 — nothing of that kind may be decided alone.

"Per customer per year" empty means no cumulative limit; the most generous of several values
is then "no limit" (None).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal("0")


@dataclass(frozen=True)
class LimitRow:
    """One authority limit row as plain data. Exactly one of `role` / `user` is set (a role key
    or a user id); `case_type` and `skill` are keys or ids as the caller likes (compared for
    equality only)."""

    kind: str
    currency: str
    per_decision: Decimal
    per_customer_year: Decimal | None = None
    role: str | None = None
    user: int | None = None
    case_type: object | None = None
    skill: str | None = None
    min_level: int = 1
    id: int | None = None


@dataclass(frozen=True)
class Qualification:
    level: int
    valid_until: dt.date | None = None

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_until is None or self.valid_until >= day


@dataclass(frozen=True)
class EffectiveLimit:
    """What a person may decide alone for one kind, currency (and case type).

    `per_customer_year` None means no cumulative limit. `sources` are the rows that made the
    figure (the base rows and the qualification rows that raised it); `level` says where they
    came from: "person", "role" or "none" (no row: limit 0)."""

    kind: str
    currency: str
    per_decision: Decimal
    per_customer_year: Decimal | None
    sources: tuple[LimitRow, ...] = field(default_factory=tuple)
    level: str = "none"

    @property
    def has_rows(self) -> bool:
        return bool(self.sources)


def _applicable(row: LimitRow, kind: str, currency: str, case_type: object | None) -> bool:
    if row.kind != kind or row.currency.upper() != currency.upper():
        return False
    return row.case_type is None or (case_type is not None and row.case_type == case_type)


def _qualified(row: LimitRow, qualifications: Mapping[str, Qualification], day: dt.date) -> bool:
    if row.skill is None:
        return True
    held = qualifications.get(row.skill)
    return held is not None and held.level >= row.min_level and held.valid_on(day)


def _year_max(values: Iterable[Decimal | None]) -> Decimal | None:
    """The most generous cumulative limit: None (no limit) beats every figure."""
    result: Decimal | None = ZERO
    for value in values:
        if value is None:
            return None
        if result is not None and value > result:
            result = value
    return result


@dataclass(frozen=True)
class _Partial:
    per_decision: Decimal
    per_customer_year: Decimal | None
    sources: tuple[LimitRow, ...]


def _combine_group(rows: list[LimitRow]) -> _Partial | None:
    """One holder's applicable rows (one role, or the person): the most specific base rows,
    raised by every applicable qualification row. None when no row applies."""
    if not rows:
        return None
    base = [r for r in rows if r.skill is None]
    raised = [r for r in rows if r.skill is not None]
    specific = [r for r in base if r.case_type is not None]
    chosen = specific or base
    if not chosen and not raised:
        return None
    # A qualification row for a case type is more specific too, but raising takes the maximum
    # anyway, so every applicable qualification row counts.
    counted = chosen + raised
    per_decision = max(r.per_decision for r in counted)
    if chosen:
        per_year = _year_max([r.per_customer_year for r in chosen])
        for r in raised:
            per_year = _year_max([per_year, r.per_customer_year])
    else:
        per_year = _year_max([r.per_customer_year for r in raised])
    return _Partial(per_decision=per_decision, per_customer_year=per_year, sources=tuple(counted))


def effective_limit(
    rows: Iterable[LimitRow],
    *,
    user: int | None,
    roles: Iterable[str],
    qualifications: Mapping[str, Qualification],
    kind: str,
    currency: str,
    case_type: object | None = None,
    on: dt.date,
) -> EffectiveLimit:
    """The effective limit of a person for (kind, currency, case type) on a day."""
    role_keys = set(roles)
    applicable = [r for r in rows if _applicable(r, kind, currency, case_type) and _qualified(r, qualifications, on)]
    person_rows = [r for r in applicable if r.user is not None and r.user == user]
    person_base = [r for r in person_rows if r.skill is None]
    person_raised = [r for r in person_rows if r.skill is not None]
    if person_base:
        person = _combine_group(person_rows)
        assert person is not None
        return EffectiveLimit(kind, currency.upper(), person.per_decision, person.per_customer_year, person.sources, "person")
    partials = []
    for role in sorted(role_keys):
        partial = _combine_group([r for r in applicable if r.user is None and r.role == role])
        if partial is not None:
            partials.append(partial)
    if partials:
        base = _Partial(
            max(p.per_decision for p in partials),
            _year_max([p.per_customer_year for p in partials]),
            tuple(row for p in partials for row in p.sources),
        )
    else:
        base = None
    if person_raised:
        # The person's own qualification rows raise whatever their roles give (they never
        # replace it: gaining a qualification must never lower a limit).
        raised = _combine_group(person_raised)
        assert raised is not None
        if base is None:
            return EffectiveLimit(kind, currency.upper(), raised.per_decision, raised.per_customer_year, raised.sources, "person")
        return EffectiveLimit(
            kind,
            currency.upper(),
            max(base.per_decision, raised.per_decision),
            _year_max([base.per_customer_year, raised.per_customer_year]),
            base.sources + raised.sources,
            "person",
        )
    if base is None:
        return EffectiveLimit(kind, currency.upper(), ZERO, ZERO, (), "none")
    return EffectiveLimit(kind, currency.upper(), base.per_decision, base.per_customer_year, base.sources, "role")


# Reasons a decision is above the authority (stable codes; the selectors translate them).
OVER_PER_DECISION = "over_per_decision"
OVER_PER_CUSTOMER_YEAR = "over_per_customer_year"


@dataclass(frozen=True)
class Check:
    within: bool
    reasons: tuple[str, ...]
    remaining_year: Decimal | None  # what is left of the cumulative limit before this amount


def check(limit: EffectiveLimit, amount: Decimal, used_this_year: Decimal = ZERO) -> Check:
    """Is `amount` within `limit`, given what the customer already received this year?

    Over per decision: `amount > per_decision`. Over the cumulative limit:
    `used_this_year + amount > per_customer_year` (when there is one). An amount of 0 is
    always within (nothing is given)."""
    amount = Decimal(amount)
    used = Decimal(used_this_year)
    remaining = None if limit.per_customer_year is None else max(ZERO, limit.per_customer_year - used)
    if amount <= ZERO:
        return Check(True, (), remaining)
    reasons = []
    if amount > limit.per_decision:
        reasons.append(OVER_PER_DECISION)
    if limit.per_customer_year is not None and used + amount > limit.per_customer_year:
        reasons.append(OVER_PER_CUSTOMER_YEAR)
    return Check(not reasons, tuple(reasons), remaining)
