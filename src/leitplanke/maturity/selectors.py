"""Reads of the maturity check, scoped to what the actor may see.

In-app checks are seen by their owner and by `maturity.view`; campaigns, their results
and roadmaps by `maturity.view`. A campaign shows groups only from the minimum group size
on, and its overall result leaves the hidden groups out (otherwise their answers could
be worked out by subtraction). Individual campaign answers are never returned.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.formats import number_format

from leitplanke.accounts import selectors as account_selectors
from leitplanke.accounts.actors import Actor, is_user
from leitplanke.cases import catalog_selectors, kpi_selectors
from leitplanke.core.errors import NotFound, PermissionDenied
from leitplanke.intake import selectors as intake_selectors

from . import links, permissions
from .engine import evidence, scoring
from .engine.advice import RecommendationRule
from .engine.model import Text
from .models import Assessment, Campaign, Group, Kpi, Recommendation, Roadmap, RoadmapItem

KPI_PERIOD = dt.timedelta(days=90)


def _require_view(actor: Actor) -> None:
    if not permissions.may_view(actor):
        raise PermissionDenied()


def _get(queryset: QuerySet[Any], pk: Any) -> Any:
    try:
        return queryset.get(pk=int(pk))
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


# --- answer sets --------------------------------------------------------------------------


def result_of(assessment: Assessment) -> scoring.Result:
    """The result of a complete answer set (scoring.Incomplete otherwise)."""
    return scoring.score(assessment.answers)


def contact_requests(*, actor: Actor) -> QuerySet[Assessment]:
    """Public checks whose respondent left contact details with consent (maturity.manage):
    the only personal data the check keeps, listed so that it can be answered and erased."""
    if not permissions.may_manage(actor):
        raise PermissionDenied()
    return Assessment.objects.filter(contact_consent_at__isnull=False).only(
        "id", "contact_name", "contact_email", "contact_organisation", "contact_consent_at", "level", "completed_at", "language"
    )


def visible_checks(*, actor: Actor) -> QuerySet[Assessment]:
    """In-app checks the actor may see: their own, or all with maturity.view."""
    if not permissions.may_take_in_app(actor):
        return Assessment.objects.none()
    checks = Assessment.objects.filter(owner__isnull=False, campaign__isnull=True)
    # `owner_id=actor.pk`, not `owner=actor`: django-stubs' lookup check does not see the
    # narrowing by a TypeGuard (may_take_in_app), the attribute access does.
    return checks if permissions.may_view(actor) else checks.filter(owner_id=actor.pk)


def check_get(*, actor: Actor, assessment_id: Any) -> Assessment:
    return _get(visible_checks(actor=actor).select_related("owner"), assessment_id)


def own_check_get(*, actor: Actor, assessment_id: Any) -> Assessment:
    """An in-app check of the actor's own, for answering (nobody answers for someone else)."""
    if not permissions.may_take_in_app(actor):
        raise NotFound()
    return _get(Assessment.objects.filter(owner_id=actor.pk, campaign__isnull=True), assessment_id)


def assessment_result(*, actor: Actor, assessment: Assessment) -> scoring.Result:
    if not visible_checks(actor=actor).filter(pk=assessment.pk).exists():
        raise NotFound()
    return result_of(assessment)


def completed_checks(*, actor: Actor) -> QuerySet[Assessment]:
    return visible_checks(actor=actor).filter(completed_at__isnull=False).select_related("owner")


def open_checks(*, actor: Actor) -> QuerySet[Assessment]:
    if not is_user(actor):
        return Assessment.objects.none()
    return visible_checks(actor=actor).filter(completed_at__isnull=True, owner=actor)


def previous_check(*, actor: Actor, assessment: Assessment) -> Assessment | None:
    """The completed in-app check before this one (the organisation's last self-assessment)."""
    if assessment.completed_at is None:
        return None
    return (
        completed_checks(actor=actor)
        .filter(Q(completed_at__lt=assessment.completed_at) | Q(completed_at=assessment.completed_at, pk__lt=assessment.pk))
        .order_by("-completed_at", "-id")
        .first()
    )


# --- campaigns ----------------------------------------------------------------------------


def campaign_list(*, actor: Actor) -> QuerySet[Campaign]:
    _require_view(actor)
    return Campaign.objects.annotate(response_count=Count("responses", filter=Q(responses__completed_at__isnull=False)))


def campaign_get(*, actor: Actor, campaign_id: Any) -> Campaign:
    _require_view(actor)
    return _get(Campaign.objects.all(), campaign_id)


def group_label(key: str) -> str:
    return str(dict(Group.choices).get(key, key))


@dataclass
class GroupResult:
    key: str
    label: str
    responses: int
    result: scoring.Result | None  # None below the minimum group size


@dataclass
class CampaignResults:
    campaign: Campaign
    groups: list[GroupResult]
    overall: scoring.Result | None
    gaps: tuple[scoring.PerceptionGap, ...]
    previous: Campaign | None = None
    changes: tuple[scoring.Change, ...] = field(default_factory=tuple)

    @property
    def responses(self) -> int:
        return sum(group.responses for group in self.groups)

    @property
    def shown(self) -> list[GroupResult]:
        return [group for group in self.groups if group.result is not None]


def _answer_sets(campaign: Campaign) -> dict[str, list[dict[str, int]]]:
    sets: dict[str, list[dict[str, int]]] = {group: [] for group in Group.values}
    rows = campaign.responses.filter(completed_at__isnull=False).values_list("group", "answers")
    for group, answers in rows.iterator(chunk_size=2000):
        sets.setdefault(group, []).append(answers)
    return sets


def _campaign_results(campaign: Campaign) -> CampaignResults:
    sets = _answer_sets(campaign)
    labels = dict(Group.choices)
    groups = [
        GroupResult(
            key,
            str(labels[key]),
            len(sets[key]),
            scoring.combine(sets[key]) if len(sets[key]) >= campaign.min_group_size else None,
        )
        for key in Group.values
    ]
    shown_sets = [answers for group in groups if group.result is not None for answers in sets[group.key]]
    overall = scoring.combine(shown_sets) if shown_sets else None
    gaps = scoring.perception_gaps({group.key: group.result for group in groups if group.result is not None})
    return CampaignResults(campaign, groups, overall, gaps)


def campaign_results(*, actor: Actor, campaign: Campaign) -> CampaignResults:
    """Each group's view, the overall view of the shown groups, perception gaps, and the
    change since the campaign before (the latest earlier one with a result)."""
    _require_view(actor)
    results = _campaign_results(campaign)
    if results.overall is not None:
        for earlier in Campaign.objects.filter(created_at__lt=campaign.created_at).order_by("-created_at", "-id")[:5]:
            before = _campaign_results(earlier).overall
            if before is not None:
                results.previous, results.changes = earlier, scoring.changes(before, results.overall)
                break
    return results


@dataclass(frozen=True)
class Invitation:
    group: str
    label: str
    url: str
    responses: int
    started: int


def invitations(*, actor: Actor, campaign: Campaign, base_url: str) -> list[Invitation]:
    """One invitation link per group, with how many answered and how many started."""
    from django.urls import reverse

    _require_view(actor)
    counts: dict[str, dict[str, Any]] = {
        row["group"]: dict(row)
        for row in campaign.responses.values("group").annotate(
            completed=Count("id", filter=Q(completed_at__isnull=False)), started=Count("id")
        )
    }
    labels = dict(Group.choices)
    return [
        Invitation(
            group,
            str(labels[group]),
            base_url.rstrip("/") + reverse("check:invitation", args=[links.invitation_token(campaign, group)]),
            counts.get(group, {}).get("completed", 0),
            counts.get(group, {}).get("started", 0),
        )
        for group in Group.values
    ]


# --- recommendation library ---------------------------------------------------------------


def _rule(row: Recommendation) -> RecommendationRule:
    return RecommendationRule(
        key=row.key,
        dimension=row.dimension,
        levels=tuple(row.levels),
        tension=row.tension,
        horizon=row.horizon,
        title=Text(row.title_de, row.title_en),
        text=Text(row.text_de, row.text_en),
        owner=Text(row.owner_de, row.owner_en),
        indicator=Text(row.indicator_de, row.indicator_en),
        kpi=row.kpi,
        priority=row.priority,
    )


def recommendation_rules() -> list[RecommendationRule]:
    """The active library as rules for the pure engine (anybody's result uses it)."""
    return [_rule(row) for row in Recommendation.objects.filter(is_active=True)]


def recommendation_list(*, actor: Actor) -> QuerySet[Recommendation]:
    if not permissions.may_manage(actor):
        raise PermissionDenied()
    return Recommendation.objects.all()


def recommendation_get(*, actor: Actor, recommendation_id: Any) -> Recommendation:
    return _get(recommendation_list(actor=actor), recommendation_id)


# --- roadmaps -----------------------------------------------------------------------------


def roadmap_list(*, actor: Actor) -> QuerySet[Roadmap]:
    _require_view(actor)
    return Roadmap.objects.select_related("campaign", "assessment").annotate(item_count=Count("items"))


def roadmap_get(*, actor: Actor, roadmap_id: Any) -> Roadmap:
    _require_view(actor)
    return _get(Roadmap.objects.select_related("campaign", "assessment", "created_by"), roadmap_id)


def roadmap_items(*, actor: Actor, roadmap: Roadmap) -> list[RoadmapItem]:
    _require_view(actor)
    return list(roadmap.items.order_by("quarter", "position", "id"))


def roadmap_item_get(*, actor: Actor, roadmap: Roadmap, item_id: Any) -> RoadmapItem:
    _require_view(actor)
    return _get(roadmap.items.all(), item_id)


# --- live figures and evidence ------------------------------------------------------------


def live_kpis(*, actor: Actor) -> kpi_selectors.CaseKpis:
    """The case figures of the last 90 days over the cases the actor may see."""
    until = timezone.now()
    return kpi_selectors.case_kpis(actor=actor, since=until - KPI_PERIOD, until=until)


def _days(value: dt.timedelta | None) -> Fraction | None:
    return None if value is None else Fraction(int(value.total_seconds()), 86400)


def kpi_figures(kpis: kpi_selectors.CaseKpis) -> dict[str, Fraction | int | None]:
    """The figures a roadmap item can link to, by Kpi key."""
    return {
        Kpi.CASE_VOLUME: kpis.received,
        Kpi.CLOSURE_MEDIAN_DAYS: _days(kpis.closure_median),
        Kpi.REOPEN_RATE: kpis.reopen_rate,
        Kpi.CATEGORY_SHARE: kpis.category_share,
    }


def kpi_values(*, actor: Actor) -> dict[str, str | None]:
    """The live figures as plain decimal strings ("13.2", "0.25"): stored as a roadmap's
    baseline and formatted for display in the reader's language (`format_kpi`)."""
    return {key: _plain(value) for key, value in kpi_figures(live_kpis(actor=actor)).items()}


def _plain(value: Fraction | int | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, Fraction):
        return str(round(Decimal(value.numerator) / value.denominator, 3))
    return str(value)


def format_kpi(key: str, value: str | None) -> str:
    """A stored figure for display: rates as percent, days with one decimal, localised."""
    if value is None:
        return "–"
    number = Decimal(value)
    if key in (Kpi.REOPEN_RATE, Kpi.CATEGORY_SHARE):
        return f"{number_format(number * 100, decimal_pos=0)} %"
    if key == Kpi.CLOSURE_MEDIAN_DAYS:
        return number_format(number, decimal_pos=1)
    return number_format(number, decimal_pos=0)


def facts(*, actor: Actor, kpis: kpi_selectors.CaseKpis) -> evidence.Facts:
    since = timezone.now() - KPI_PERIOD
    setup = intake_selectors.setup_counts()
    return evidence.Facts(
        received=kpis.received,
        finished=kpis.finished,
        category_share=kpis.category_share,
        reopen_rate=kpis.reopen_rate,
        closure_median_days=_days(kpis.closure_median),
        web_form_share=kpis.web_form_share,
        reply_templates=setup["reply_templates"],
        case_types_with_fields=catalog_selectors.case_types_with_fields_count(),
        mailboxes=setup["mailboxes"],
        webhooks=setup["webhooks"],
        api_tokens_in_use=account_selectors.api_tokens_in_use(since=since),
    )


@dataclass(frozen=True)
class EvidenceRow:
    item: evidence.Evidence
    answered: int | None
    comparison: str


def evidence_rows(*, actor: Actor, result: scoring.Result, kpis: kpi_selectors.CaseKpis) -> list[EvidenceRow]:
    """What Leitplanke's own data say next to the answers given (in-app only)."""
    found = evidence.collect(facts(actor=actor, kpis=kpis))
    return [
        EvidenceRow(item, result.question_levels.get(item.question), item.compare(result.question_levels.get(item.question)))
        for item in found
    ]
