"""Live case figures for a period, over the cases the actor may see.

Cohort basis: cases **received** in the period (docs/domain-reference §3: state the
basis). The received_at index serves every query, so the cost is three queries at any
size: one aggregate (received, with a category, closed, reopened, by web form) and one
each for the median and the 90th percentile of the time to closure, which the database
sorts without sending the rows.

- time to closure: closed_at − received_at of the cohort's closed cases (calendar time);
- reopen rate: closed or resolved cases of the cohort that were reopened at least once
  (a "reopen" status change on their timeline), over the closed or resolved cases;
- category share: cases with a category over all cases of the cohort.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

from django.db.models import Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet

from leitplanke.accounts.actors import Actor

from .models import Case, Channel, Interaction, InteractionKind, StatusKind
from .selectors import visible_cases

FINISHED = [StatusKind.RESOLVED.value, StatusKind.CLOSED.value]


@dataclass(frozen=True)
class CaseKpis:
    since: dt.datetime
    until: dt.datetime
    received: int
    categorised: int
    closed: int
    finished: int  # resolved or closed
    reopened: int
    by_web_form: int
    closure_median: dt.timedelta | None
    closure_p90: dt.timedelta | None

    @staticmethod
    def _share(part: int, whole: int) -> Fraction | None:
        return Fraction(part, whole) if whole else None

    @property
    def category_share(self) -> Fraction | None:
        return self._share(self.categorised, self.received)

    @property
    def reopen_rate(self) -> Fraction | None:
        return self._share(self.reopened, self.finished)

    @property
    def web_form_share(self) -> Fraction | None:
        return self._share(self.by_web_form, self.received)


def _closure_quantile(closed: QuerySet[Case], count: int, fraction: Fraction) -> dt.timedelta | None:
    """The nearest-rank quantile of the time to closure (the database sorts, one row returns)."""
    if not count:
        return None
    index = max(0, -(-count * fraction.numerator // fraction.denominator) - 1)  # ceil(count × fraction) − 1
    duration = ExpressionWrapper(F("closed_at") - F("received_at"), output_field=DurationField())
    return closed.annotate(duration=duration).order_by("duration", "id").values_list("duration", flat=True)[index]


def case_kpis(*, actor: Actor, since: dt.datetime, until: dt.datetime) -> CaseKpis:
    cohort = visible_cases(actor=actor).filter(received_at__gte=since, received_at__lt=until)
    reopened = Exists(
        Interaction.objects.filter(case_id=OuterRef("pk"), kind=InteractionKind.STATUS_CHANGE, data__transition="reopen")
    )
    totals = cohort.aggregate(
        received=Count("id"),
        categorised=Count("id", filter=Q(category__isnull=False)),
        closed=Count("id", filter=Q(closed_at__isnull=False)),
        finished=Count("id", filter=Q(status_kind__in=FINISHED)),
        reopened=Count("id", filter=Q(reopened, status_kind__in=FINISHED)),
        by_web_form=Count("id", filter=Q(channel=Channel.WEB_FORM)),
    )
    closed = cohort.filter(closed_at__isnull=False)
    return CaseKpis(
        since=since,
        until=until,
        received=totals["received"],
        categorised=totals["categorised"],
        closed=totals["closed"],
        finished=totals["finished"],
        reopened=totals["reopened"],
        by_web_form=totals["by_web_form"],
        closure_median=_closure_quantile(closed, totals["closed"], Fraction(1, 2)),
        closure_p90=_closure_quantile(closed, totals["closed"], Fraction(9, 10)),
    )
