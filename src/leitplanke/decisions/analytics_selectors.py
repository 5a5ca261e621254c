"""Reads for the consistency analytics and the what-if simulation (issue 21, items 6 and 7).

Consistency: decision records grouped by similar cases (category × product × customer segment),
by team, by agent and by month, with count, spread of the amounts (min, quartiles, median, max),
deviation, approval, rejection and reversal rates. Every figure is aggregated in the database:
one statement per grouping, whatever the number of records (window functions number the amounts
within each group; the outer statement picks the quartiles' neighbours and counts). Goodwill and
redress are never summed together: amounts are shown for one kind and one currency at a time.

Who sees what (authorisation lives here, not in the view): quality managers and leads
(`quality.view` or `teams.lead`); a user who sees all cases sees every team's records, anyone
else only the records decided in the teams they lead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Case, Count, F, QuerySet, Value, When, Window
from django.db.models.expressions import RowRange
from django.db.models.functions import Coalesce, RowNumber
from django.utils.translation import get_language

from leitplanke.accounts import permissions
from leitplanke.accounts.actors import Actor, is_user
from leitplanke.accounts.models import Team
from leitplanke.cases.models import Category
from leitplanke.core.days import day_start
from leitplanke.core.errors import NotFound, PermissionDenied
from leitplanke.customers.models import Product, Segment

from .models import (
    DecisionKind,
    DecisionRecord,
    DecisionTable,
    RecordKind,
    RecordStatus,
    Simulation,
    SimulationStatus,
)

NONE = "none"  # the filter value for "no category / product / segment / team"
AMOUNT_KINDS = (DecisionKind.GOODWILL, DecisionKind.REDRESS)
DIMENSIONS = ("group", "team", "agent", "month")


def may_see_consistency(actor: Actor) -> bool:
    return permissions.has_capability(actor, permissions.VIEW_QUALITY) or permissions.has_capability(actor, permissions.LEAD_TEAM)


def may_simulate(actor: Actor) -> bool:
    return permissions.has_capability(actor, permissions.MANAGE_PROCESSES)


def sees_all_teams(actor: Actor) -> bool:
    return permissions.has_capability(actor, permissions.VIEW_ALL_CASES)


def consistency_records(*, actor: Actor) -> QuerySet[DecisionRecord]:
    """The decisions the actor may analyse: decisions and corrections that are in force or were
    reversed (a correction replaces what it corrects, so each decided case counts once; reversal
    records are counted through the `reversed` status of what they reverse)."""
    if not may_see_consistency(actor):
        raise PermissionDenied()
    # Decision steps' records (no amount, nobody decided) are not decisions to compare.
    qs = DecisionRecord.objects.exclude(record_kind__in=[RecordKind.REVERSAL, RecordKind.STEP]).exclude(
        status=RecordStatus.SUPERSEDED
    )
    if sees_all_teams(actor):
        return qs
    if not is_user(actor):
        return qs.none()
    return qs.filter(team__in=Team.objects.filter(lead=actor).values("pk"))


def visible_teams(*, actor: Actor) -> QuerySet[Team]:
    if not may_see_consistency(actor):
        raise PermissionDenied()
    if sees_all_teams(actor):
        return Team.objects.order_by("name")
    if not is_user(actor):
        return Team.objects.none()
    return Team.objects.filter(lead=actor).order_by("name")


def filter_choices(*, actor: Actor) -> dict[str, list[tuple[str, str]]]:
    """Choices for the filter form (three short queries)."""
    lang = get_language() or "de"
    name = "name_de" if lang.startswith("de") else "name_en"
    return {
        "category": [(str(pk), label) for pk, label in Category.objects.order_by("path").values_list("pk", name)],
        "product": [(str(pk), label) for pk, label in Product.objects.order_by(name).values_list("pk", name)],
        "segment": [(str(value), str(label)) for value, label in Segment.choices],
        "team": [(str(pk), label) for pk, label in visible_teams(actor=actor).values_list("pk", "name")],
    }


@dataclass(frozen=True)
class ConsistencyFilter:
    start: dt.date  # first day of the first month
    end: dt.date  # last day (inclusive)
    kind: str = DecisionKind.GOODWILL  # goodwill, redress, none or "all" (then no amounts)
    currency: str = "EUR"
    category: str = ""  # "" any, "none", or a primary key
    product: str = ""
    segment: str = ""
    team: str = ""
    agent: str = ""  # "" or a user's primary key
    month: str = ""  # "" or YYYY-MM

    @property
    def shows_amounts(self) -> bool:
        return self.kind in AMOUNT_KINDS


def _aware(day: dt.date) -> dt.datetime:
    return day_start(day)


def _match(qs: QuerySet[Any], lookup: str, value: str) -> QuerySet[Any]:
    if value == "":
        return qs
    if value == NONE:
        return qs.filter(**{f"{lookup}__isnull": True})
    return qs.filter(**{lookup: value})


_GROUP_EXPRESSIONS: dict[str, Any] = {
    "g_category": lambda: F("case__category_id"),
    "g_product": lambda: Coalesce(F("case__product_id"), F("case__contract__product_id")),
    "g_segment": lambda: F("case__customer__segment"),
    "g_team": lambda: F("team_id"),
    "g_agent": lambda: F("decided_by_id"),
}
_FILTERED_BY = {"category": "g_category", "product": "g_product", "segment": "g_segment", "team": "g_team", "agent": "g_agent"}


def months_of(flt: ConsistencyFilter) -> list[dt.date]:
    """The first days of the months of the period."""
    months, day = [], flt.start.replace(day=1)
    while day <= flt.end:
        months.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return months


def _month_bucket(flt: ConsistencyFilter) -> Case:
    """The month of a record as its position in the period, by comparing with the months'
    boundaries in the local time zone: plain comparisons the index can serve, no per-row date
    function (SQLite's are Python callbacks)."""
    starts = months_of(flt)[1:]
    whens = [When(decided_at__lt=_aware(day), then=Value(index)) for index, day in enumerate(starts)]
    return Case(*whens, default=Value(len(starts)))


def _annotated(actor: Actor, flt: ConsistencyFilter, needed: tuple[str, ...] = ()) -> QuerySet[DecisionRecord]:
    """The scoped, filtered records with the group keys `needed` (and those a filter uses): only
    those, so a grouping by team joins no case, customer or product."""
    qs = consistency_records(actor=actor).filter(
        decided_at__gte=_aware(flt.start), decided_at__lt=_aware(flt.end + dt.timedelta(days=1))
    )
    if flt.kind != "all":
        qs = qs.filter(kind=flt.kind)
    if flt.shows_amounts:
        qs = qs.filter(currency=flt.currency)
    names = set(needed)
    names.update(name for attr, name in _FILTERED_BY.items() if getattr(flt, attr))
    if names - {"g_month"}:
        qs = qs.annotate(**{name: _GROUP_EXPRESSIONS[name]() for name in _GROUP_EXPRESSIONS if name in names})
    if "g_month" in names:
        qs = qs.annotate(g_month=_month_bucket(flt))
    for attr, name in _FILTERED_BY.items():
        qs = _match(qs, name, getattr(flt, attr))
    if flt.month:
        year, month = (int(part) for part in flt.month.split("-"))
        first = dt.date(year, month, 1)
        qs = qs.filter(decided_at__gte=_aware(first), decided_at__lt=_aware((first + dt.timedelta(days=32)).replace(day=1)))
    return qs


_PARTITIONS = {
    "group": ["g_category", "g_product", "g_segment"],
    "team": ["g_team"],
    "agent": ["g_agent"],
    "month": ["g_month"],
}


def _labels(dimension: str, lang: str) -> dict[str, Any]:
    suffix = "de" if lang.startswith("de") else "en"
    if dimension == "group":
        return {
            "l_category": Coalesce(F(f"case__category__name_{suffix}"), Value("")),
            "l_product": Coalesce(F(f"case__product__name_{suffix}"), F(f"case__contract__product__name_{suffix}"), Value("")),
        }
    if dimension == "team":
        return {"l_team": Coalesce(F("team__name"), Value(""))}
    if dimension == "agent":
        return {"l_agent": F("decided_by__full_name")}
    return {}


@dataclass
class Spread:
    minimum: Decimal
    q1: Decimal
    median: Decimal
    q3: Decimal
    maximum: Decimal


@dataclass
class Figures:
    """One row of a grouping: the key (for the drill-down), its labels and its figures."""

    key: dict[str, str]
    labels: dict[str, str]
    count: int
    deviations: int
    approvals: int
    rejections: int
    reversals: int
    spread: Spread | None = None
    plot: dict[str, Any] = field(default_factory=dict)

    def _rate(self, part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def deviation_rate(self) -> float | None:
        return self._rate(self.deviations, self.count)

    @property
    def approval_rate(self) -> float | None:
        return self._rate(self.approvals, self.count)

    @property
    def rejection_rate(self) -> float | None:
        """Of the records that needed approval, the share rejected."""
        return self._rate(self.rejections, self.approvals)

    @property
    def reversal_rate(self) -> float | None:
        return self._rate(self.reversals, self.count)


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _interpolate(lo: Any, hi: Any, n: int, share: float) -> Decimal:
    """Linear interpolation between the two ranked neighbours (as PostgreSQL's percentile_cont)."""
    position = (n - 1) * share
    fraction = Decimal(str(position - int(position)))
    low, high = Decimal(str(lo)), Decimal(str(hi))
    return (low + (high - low) * fraction).quantize(Decimal("0.01"))


def _grouping(actor: Actor, flt: ConsistencyFilter, dimension: str, lang: str) -> list[Figures]:
    """One statement: the records numbered by amount within their group (window functions), then
    counted and their quartiles' neighbours picked per group."""
    partition = [F(name) for name in _PARTITIONS[dimension]]
    labels = _labels(dimension, lang)
    inner = (
        _annotated(actor, flt, tuple(_PARTITIONS[dimension]))
        .annotate(
            a_amount=F("amount"),
            a_deviates=F("deviates"),
            a_status=F("status"),
            a_approval=Coalesce(F("approval__status"), Value("")),
            a_rank=Window(RowNumber(), partition_by=partition, order_by=[F("amount").asc(), F("id").asc()]),
            # The same window ordering with the whole partition as frame: one sort for both.
            a_n=Window(
                Count("id"),
                partition_by=partition,
                order_by=[F("amount").asc(), F("id").asc()],
                frame=RowRange(start=None, end=None),
            ),
            **labels,
        )
        .values(*_PARTITIONS[dimension], "a_amount", "a_deviates", "a_status", "a_approval", "a_rank", "a_n", *labels)
        .order_by()
    )
    inner_sql, params = inner.query.sql_with_params()
    keys = ", ".join(f"sub.{name}" for name in _PARTITIONS[dimension])
    label_cols = "".join(f", MAX(sub.{name})" for name in labels)
    sql = f"""
        SELECT {keys}, COUNT(*), MIN(sub.a_amount), MAX(sub.a_amount),
          SUM(CASE WHEN sub.a_deviates THEN 1 ELSE 0 END),
          SUM(CASE WHEN sub.a_approval <> '' THEN 1 ELSE 0 END),
          SUM(CASE WHEN sub.a_approval = 'rejected' THEN 1 ELSE 0 END),
          SUM(CASE WHEN sub.a_status = 'reversed' THEN 1 ELSE 0 END),
          MAX(CASE WHEN sub.a_rank = (sub.a_n - 1) / 4 + 1 THEN sub.a_amount END),
          MAX(CASE WHEN sub.a_rank = (sub.a_n + 2) / 4 + 1 THEN sub.a_amount END),
          MAX(CASE WHEN sub.a_rank = (sub.a_n - 1) / 2 + 1 THEN sub.a_amount END),
          MAX(CASE WHEN sub.a_rank = sub.a_n / 2 + 1 THEN sub.a_amount END),
          MAX(CASE WHEN sub.a_rank = (3 * sub.a_n - 3) / 4 + 1 THEN sub.a_amount END),
          MAX(CASE WHEN sub.a_rank = (3 * sub.a_n) / 4 + 1 THEN sub.a_amount END)
          {label_cols}
        FROM ({inner_sql}) sub
        GROUP BY {keys}
        ORDER BY COUNT(*) DESC, {keys}
    """  # noqa: S608 - the names are ours; every value is a parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    width = len(_PARTITIONS[dimension])
    months = months_of(flt)
    result = []
    for row in rows:
        key_values = row[:width]
        (count, minimum, maximum, deviations, approvals, rejections, reversals, q1a, q1b, m1, m2, q3a, q3b) = row[
            width : width + 13
        ]
        label_values = row[width + 13 :]
        figures = Figures(
            key=_key(dimension, key_values, months),
            labels=dict(zip(labels, (str(v or "") for v in label_values), strict=True)),
            count=int(count),
            deviations=int(deviations or 0),
            approvals=int(approvals or 0),
            rejections=int(rejections or 0),
            reversals=int(reversals or 0),
        )
        if flt.shows_amounts and count:
            n = int(count)
            figures.spread = Spread(
                minimum=_decimal(minimum),
                q1=_interpolate(q1a, q1b if q1b is not None else q1a, n, 0.25),
                median=_interpolate(m1, m2 if m2 is not None else m1, n, 0.5),
                q3=_interpolate(q3a, q3b if q3b is not None else q3a, n, 0.75),
                maximum=_decimal(maximum),
            )
        result.append(figures)
    return result


def _key(dimension: str, values: tuple[Any, ...], months: list[dt.date]) -> dict[str, str]:
    def text(value: Any) -> str:
        return NONE if value is None or value == "" else str(value)

    if dimension == "group":
        return {"category": text(values[0]), "product": text(values[1]), "segment": text(values[2])}
    if dimension == "team":
        return {"team": text(values[0])}
    if dimension == "agent":
        return {"agent": text(values[0])}
    month = months[min(int(values[0]), len(months) - 1)]
    return {"month": f"{month.year:04d}-{month.month:02d}"}


@dataclass
class Consistency:
    filter: ConsistencyFilter
    groups: list[Figures]
    teams: list[Figures]
    agents: list[Figures]
    months: list[Figures]
    scale_max: Decimal  # the common right end of every box plot

    @property
    def total(self) -> int:
        return sum(row.count for row in self.teams)


def consistency(*, actor: Actor, flt: ConsistencyFilter, lang: str = "de") -> Consistency:
    """The four groupings of the period (four statements, whatever the number of records)."""
    groups = _grouping(actor, flt, "group", lang)
    teams = _grouping(actor, flt, "team", lang)
    agents = _grouping(actor, flt, "agent", lang)
    months = sorted(_grouping(actor, flt, "month", lang), key=lambda row: row.key["month"])
    maxima = [row.spread.maximum for rows in (groups, teams, agents, months) for row in rows if row.spread]
    segment_names = dict(Segment.choices)
    for row in groups:
        row.labels["l_segment"] = str(segment_names.get(row.key["segment"], "")) if row.key["segment"] != NONE else ""
    return Consistency(flt, groups, teams, agents, months, max(maxima, default=Decimal(0)))


def consistency_drilldown(*, actor: Actor, flt: ConsistencyFilter) -> QuerySet[DecisionRecord]:
    """The records behind a figure, newest first (keyset-paginated by the view)."""
    return _annotated(actor, flt).select_related("case", "decided_by", "team", "approval")


# --- what-if simulation -----------------------------------------------------------------------


def simulation_tables(*, actor: Actor) -> QuerySet[DecisionTable]:
    if not may_simulate(actor):
        raise PermissionDenied()
    return DecisionTable.objects.order_by("key", "-version")


def simulation_list(*, actor: Actor) -> QuerySet[Simulation]:
    if not may_simulate(actor):
        raise PermissionDenied()
    return Simulation.objects.select_related("table", "requested_by")


def simulation_get(*, actor: Actor, simulation_id: int) -> Simulation:
    simulation = simulation_list(actor=actor).filter(pk=simulation_id).first()
    if simulation is None:
        raise NotFound()
    return simulation


def result_labels() -> dict[str, dict[str, str]]:
    """Names of the segments and decision kinds a simulation's result holds as codes."""
    return {
        "segment": {str(value): str(label) for value, label in Segment.choices},
        "kind": {str(value): str(label) for value, label in DecisionKind.choices},
    }


def simulation_is_active(simulation: Simulation) -> bool:
    return simulation.status in (SimulationStatus.QUEUED, SimulationStatus.RUNNING)


def simulation_records(*, table: DecisionTable, start: dt.date, end: dt.date) -> QuerySet[DecisionRecord]:
    """The decision records of the period recommended by any version of the table's key (the
    system's read for the simulation task, not a user's)."""
    return (
        DecisionRecord.objects.filter(
            table__in=DecisionTable.objects.filter(key=table.key).values("pk"),
            decided_at__gte=_aware(start),
            decided_at__lt=_aware(end + dt.timedelta(days=1)),
        )
        .exclude(record_kind=RecordKind.REVERSAL)
        .exclude(status=RecordStatus.SUPERSEDED)
    )
