"""Reads for authority limits: a person's effective limit for one decision (with what the
customer already received this year) and all of a person's limits (for "my authority").

The rules are in the pure module `decisions/authority.py`; this module only turns rows into
its dataclasses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from leitplanke.accounts.models import Role, Skill, User, UserSkill
from leitplanke.core import refcache

from . import authority
from .models import AuthorityLimit, DecisionKind, DecisionRecord, RecordStatus

# Records that count against the cumulative limit: what the customer was actually given.
COUNTED_STATUSES = (RecordStatus.FINAL, RecordStatus.APPROVED)
YEAR = dt.timedelta(days=365)


def _today(at: dt.datetime | None = None) -> dt.date:
    return timezone.localdate(at) if at is not None else timezone.localdate()


def _row(limit: AuthorityLimit, role_keys: dict[int, str], skill_keys: dict[int, str]) -> authority.LimitRow:
    return authority.LimitRow(
        id=limit.pk,
        kind=limit.kind,
        currency=limit.currency.upper(),
        per_decision=limit.per_decision,
        per_customer_year=limit.per_customer_year,
        role=role_keys.get(limit.role_id) if limit.role_id else None,
        user=limit.user_id,
        case_type=limit.case_type_id,
        skill=skill_keys.get(limit.skill_id) if limit.skill_id else None,
        min_level=limit.min_level,
    )


@dataclass(frozen=True)
class _Person:
    user_id: int
    roles: tuple[str, ...]
    qualifications: dict[str, authority.Qualification]
    rows: tuple[authority.LimitRow, ...]


def _person(user: User) -> _Person:
    """The person's roles, qualifications and the limit rows that may concern them (their own
    and their roles'), kept per process and reference generation (`core.refcache`, ADR 0004):
    every write of a limit row, a qualification, a skill, a role or a role assignment changes
    the generation in its own transaction, so the next decision anywhere reads them anew.
    Shared between requests: do not modify. Which rows apply on a day is decided at each use
    (a qualification's validity is checked against the day then, not when it was cached)."""
    return refcache.cached(("authority_person", user.pk), lambda: _load_person(user.pk))


def _load_person(user_id: int) -> _Person:
    role_keys = dict(Role.objects.filter(users__pk=user_id).values_list("pk", "key"))
    skills = UserSkill.objects.filter(user_id=user_id).select_related("skill")
    qualifications = {s.skill.key: authority.Qualification(level=s.level, valid_until=s.valid_until) for s in skills}
    limits = list(AuthorityLimit.objects.filter(Q(user_id=user_id) | Q(role_id__in=list(role_keys))).order_by("pk"))
    skill_ids = {limit.skill_id for limit in limits if limit.skill_id}
    skill_keys = dict(Skill.objects.filter(pk__in=skill_ids).values_list("pk", "key")) if skill_ids else {}
    rows = tuple(_row(limit, role_keys, skill_keys) for limit in limits)
    return _Person(user_id, tuple(role_keys.values()), qualifications, rows)


def used_this_year(*, customer: Any, kind: str, currency: str, at: dt.datetime | None = None) -> Decimal:
    """What the customer received in decisions of this kind and currency in the 365 days
    before `at` (final and approved records; pending, rejected, sent back, corrected and
    reversed records do not count). No customer: 0."""
    if customer is None:
        return Decimal("0")
    at = at or timezone.now()
    total = DecisionRecord.objects.filter(
        case__customer=customer,
        kind=kind,
        currency=currency.upper(),
        status__in=COUNTED_STATUSES,
        decided_at__gt=at - YEAR,
        decided_at__lte=at,
    ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
    return Decimal(total)


@dataclass
class Source:
    """One limit row that made the figure, for display and for the record's snapshot."""

    id: int | None
    holder: str  # "person" or "role"
    role: str | None
    skill: str | None
    min_level: int
    case_type: int | None
    per_decision: Decimal
    per_customer_year: Decimal | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "holder": self.holder,
            "role": self.role,
            "skill": self.skill,
            "min_level": self.min_level,
            "case_type": self.case_type,
            "per_decision": str(self.per_decision),
            "per_customer_year": None if self.per_customer_year is None else str(self.per_customer_year),
        }


@dataclass
class AuthorityView:
    """A person's authority for one decision: the effective limits, what the customer already
    received this year, what remains, and which rows applied."""

    kind: str
    currency: str
    case_type_id: int | None
    per_decision: Decimal
    per_customer_year: Decimal | None
    used_this_year: Decimal
    level: str  # "person", "role" or "none" (no row: nothing may be decided alone)
    sources: list[Source] = field(default_factory=list)
    language: str = "en"

    @property
    def remaining(self) -> Decimal | None:
        """What may still be given to this customer alone this year (None: no yearly limit)."""
        if self.per_customer_year is None:
            return None
        return max(Decimal("0"), self.per_customer_year - self.used_this_year)

    @property
    def max_alone(self) -> Decimal:
        """The largest amount the person may decide alone now (per decision and remaining)."""
        remaining = self.remaining
        return self.per_decision if remaining is None else min(self.per_decision, remaining)

    @property
    def kind_label(self) -> str:
        return str(DecisionKind(self.kind).label) if self.kind in DecisionKind.values else self.kind

    @property
    def raised(self) -> bool:
        """A qualification raised the limit (one of the rows that made it names a skill)."""
        return any(source.skill for source in self.sources)

    def _limit(self) -> authority.EffectiveLimit:
        return authority.EffectiveLimit(self.kind, self.currency, self.per_decision, self.per_customer_year, (), self.level)

    def covers(self, amount: Decimal | int | str) -> bool:
        return authority.check(self._limit(), Decimal(amount), self.used_this_year).within

    def reason_codes(self, amount: Decimal | int | str) -> list[str]:
        return list(authority.check(self._limit(), Decimal(amount), self.used_this_year).reasons)

    def reasons(self, amount: Decimal | int | str) -> list[str]:
        """Why `amount` is above the authority, in the person's language (empty: covered)."""
        codes = self.reason_codes(amount)
        with override(self.language):
            return [reason_text(code, self, Decimal(amount)) for code in codes]

    def as_dict(self) -> dict[str, Any]:
        """The snapshot kept with a decision record (`DecisionRecord.authority`)."""
        return {
            "kind": self.kind,
            "currency": self.currency,
            "case_type": self.case_type_id,
            "per_decision": str(self.per_decision),
            "per_customer_year": None if self.per_customer_year is None else str(self.per_customer_year),
            "used_this_year": str(self.used_this_year),
            "remaining": None if self.remaining is None else str(self.remaining),
            "level": self.level,
            "sources": [s.as_dict() for s in self.sources],
        }


def reason_text(code: str, view: AuthorityView, amount: Decimal) -> str:
    facts = {
        "amount": f"{amount:.2f}",
        "currency": view.currency,
        "limit": f"{view.per_decision:.2f}",
        "year": f"{view.per_customer_year or 0:.2f}",
        "used": f"{view.used_this_year:.2f}",
    }
    if code == authority.OVER_PER_DECISION:
        if view.level == "none":
            return _("You have no authority to decide %(currency)s amounts of this kind alone.") % facts
        return _("%(amount)s %(currency)s is above your limit of %(limit)s %(currency)s per decision.") % facts
    if code == authority.OVER_PER_CUSTOMER_YEAR:
        return (
            _(
                "With %(amount)s %(currency)s the customer would receive more than your limit of %(year)s "
                "%(currency)s per customer per year (already %(used)s %(currency)s in the last 365 days)."
            )
            % facts
        )
    return code


def _case_type_id(case_type: Any) -> int | None:
    if case_type is None:
        return None
    return int(getattr(case_type, "pk", case_type))


def _view(
    person: _Person,
    *,
    kind: str,
    currency: str,
    case_type_id: int | None,
    day: dt.date,
    used: Decimal,
    language: str,
) -> AuthorityView:
    limit = authority.effective_limit(
        person.rows,
        user=person.user_id,
        roles=person.roles,
        qualifications=person.qualifications,
        kind=kind,
        currency=currency,
        case_type=case_type_id,
        on=day,
    )
    sources = [
        Source(
            id=row.id,
            holder="person" if row.user is not None else "role",
            role=row.role,
            skill=row.skill,
            min_level=row.min_level,
            case_type=row.case_type if isinstance(row.case_type, int) else None,
            per_decision=row.per_decision,
            per_customer_year=row.per_customer_year,
        )
        for row in limit.sources
    ]
    return AuthorityView(
        kind=kind,
        currency=currency.upper(),
        case_type_id=case_type_id,
        per_decision=limit.per_decision,
        per_customer_year=limit.per_customer_year,
        used_this_year=used,
        level=limit.level,
        sources=sources,
        language=language,
    )


def authority_for(
    *,
    user: User,
    kind: str,
    currency: str,
    case_type: Any = None,
    customer: Any = None,
    at: dt.datetime | None = None,
    used: Decimal | None = None,
) -> AuthorityView:
    """The user's authority for one decision of `kind` in `currency` on a case of
    `case_type` (a CaseType, its id or None) for `customer` (a Customer, its id or None), at
    `at` (default now): limits per decision and per customer-year, what the customer already
    received in the last 365 days and the rows that applied. `used`: that sum, when the
    caller has read it already (`used_this_year` for the same customer, kind, currency and
    `at`; the record service reads it with the case's other facts in one statement)."""
    currency = (currency or "").upper()
    person = _person(user)
    if used is None:
        used = used_this_year(customer=customer, kind=kind, currency=currency, at=at)
    return _view(
        person,
        kind=kind,
        currency=currency,
        case_type_id=_case_type_id(case_type),
        day=_today(at),
        used=used,
        language=user.language or "de",
    )


@dataclass
class AuthorityLine:
    """One line of "my authority": a kind, currency and (optional) case type."""

    view: AuthorityView
    case_type_id: int | None
    case_type_label: str


def my_authority(user: User, *, at: dt.datetime | None = None) -> list[AuthorityLine]:
    """Every effective limit of the person, for display: one line per kind and currency that
    any of their rows names (general), and one per case type some row narrows to. A kind with
    no row at all does not appear (its limit is 0)."""
    from leitplanke.cases.models import CaseType

    person = _person(user)
    day = _today(at)
    language = user.language or "de"
    keys: set[tuple[str, str, int | None]] = set()
    for row in person.rows:
        keys.add((row.kind, row.currency, None))
        if row.case_type is not None:
            keys.add((row.kind, row.currency, int(row.case_type)))  # type: ignore[call-overload]
    type_ids = {k[2] for k in keys if k[2] is not None}
    labels = {ct.pk: ct.label for ct in CaseType.objects.filter(pk__in=type_ids)} if type_ids else {}
    order = {value: index for index, value in enumerate(DecisionKind.values)}
    lines = []
    for kind, currency, type_id in sorted(keys, key=lambda k: (order.get(k[0], 9), k[1], k[2] or 0)):
        view = _view(person, kind=kind, currency=currency, case_type_id=type_id, day=day, used=Decimal("0"), language=language)
        if view.level == "none" and type_id is None:
            continue
        lines.append(
            AuthorityLine(
                view=view, case_type_id=type_id, case_type_label=str(labels.get(type_id, "")) if type_id is not None else ""
            )
        )
    return lines


def limits_list() -> list[AuthorityLimit]:
    """Every authority limit row, for the administrators' page."""
    return list(
        AuthorityLimit.objects.select_related("role", "user", "case_type", "skill").order_by(
            "role__key", "user__email", "kind", "currency", "case_type__key", "skill__key", "min_level", "pk"
        )
    )


def limit_get(pk: int) -> AuthorityLimit | None:
    return AuthorityLimit.objects.select_related("role", "user", "case_type", "skill").filter(pk=pk).first()
