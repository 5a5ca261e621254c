"""Recommendations for a result, and the draft 12-month roadmap made from them.

The rules come from the recommendation library (administrators edit it; the database
hands them in as `RecommendationRule`s), so this module only decides which rules fit a
result and in which order. Pure Python; see docs/maturity-model.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .model import DIMENSION_KEYS, Text
from .scoring import Result

QUICK_WIN, PROJECT = "quick_win", "project"
HORIZONS = (QUICK_WIN, PROJECT)
# The draft roadmap: quick wins fill the first 90 days, structural projects start in the
# following quarters, a few per quarter so the plan stays doable.
QUICK_WINS_IN_DRAFT = 4
PROJECTS_PER_QUARTER = 2
PROJECT_QUARTERS = (2, 3, 4)


@dataclass(frozen=True)
class RecommendationRule:
    key: str
    dimension: str  # a dimension key; "" for a rule that answers a tension only
    levels: tuple[int, ...]  # the dimension levels it fits (ignored for tension rules)
    tension: str  # a tension rule key, or "" for a rule by dimension level
    horizon: str  # quick_win | project
    title: Text
    text: Text
    owner: Text
    indicator: Text
    kpi: str = ""  # a live figure Leitplanke measures (maturity.kpis), or ""
    priority: int = 100  # lower comes first within the same dimension


@dataclass(frozen=True)
class Recommendation:
    rule: RecommendationRule
    because_of_tension: str = ""  # the tension key that made it fit, if any


def recommend(result: Result, rules: Iterable[RecommendationRule]) -> list[Recommendation]:
    """The rules that fit the result: those answering one of its tensions first, then those
    for the dimensions' levels, weakest dimension first (the biggest lever), quick wins
    before projects, then by priority."""
    tension_keys = [tension.key for tension in result.tensions]
    rank = {dimension.key: index for index, dimension in enumerate(sorted(result.dimensions, key=lambda d: d.score))}
    fitting: list[tuple[tuple[int, int, int, int, str], Recommendation]] = []
    for rule in rules:
        if rule.tension:
            if rule.tension in tension_keys:
                order = (0, tension_keys.index(rule.tension), _horizon_rank(rule), rule.priority, rule.key)
                fitting.append((order, Recommendation(rule, because_of_tension=rule.tension)))
            continue
        if rule.dimension in DIMENSION_KEYS and result.dimension(rule.dimension).level in rule.levels:
            order = (1, rank[rule.dimension], _horizon_rank(rule), rule.priority, rule.key)
            fitting.append((order, Recommendation(rule)))
    return [recommendation for _, recommendation in sorted(fitting, key=lambda item: item[0])]


def _horizon_rank(rule: RecommendationRule) -> int:
    return 0 if rule.horizon == QUICK_WIN else 1


def next_step(recommendations: Sequence[Recommendation], dimension: str) -> Recommendation | None:
    """The step that comes next for a dimension: its first quick win, else its first project."""
    for_dimension = [r for r in recommendations if r.rule.dimension == dimension and not r.because_of_tension]
    quick = [r for r in for_dimension if r.rule.horizon == QUICK_WIN]
    candidates = quick or for_dimension
    return candidates[0] if candidates else None


@dataclass(frozen=True)
class DraftItem:
    quarter: int  # 1 = the first 90 days
    horizon: str
    dimension: str
    rule_key: str
    title: Text
    goal: Text
    owner: Text
    indicator: Text
    kpi: str


def draft_roadmap(recommendations: Sequence[Recommendation]) -> list[DraftItem]:
    """Quick wins in quarter 1, structural projects spread over quarters 2–4, in the order
    of the recommendations; a rule appears once."""
    unique: dict[str, Recommendation] = {}
    for recommendation in recommendations:
        unique.setdefault(recommendation.rule.key, recommendation)
    quick_wins = [r for r in unique.values() if r.rule.horizon == QUICK_WIN][:QUICK_WINS_IN_DRAFT]
    projects = [r for r in unique.values() if r.rule.horizon == PROJECT][: PROJECTS_PER_QUARTER * len(PROJECT_QUARTERS)]
    items = [_item(r, 1) for r in quick_wins]
    items += [_item(r, PROJECT_QUARTERS[index // PROJECTS_PER_QUARTER]) for index, r in enumerate(projects)]
    return items


def _item(recommendation: Recommendation, quarter: int) -> DraftItem:
    rule = recommendation.rule
    return DraftItem(
        quarter=quarter,
        horizon=rule.horizon,
        dimension=rule.dimension,
        rule_key=rule.key,
        title=rule.title,
        goal=rule.text,
        owner=rule.owner,
        indicator=rule.indicator,
        kpi=rule.kpi,
    )
