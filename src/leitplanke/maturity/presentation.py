"""Turns scoring results into what the pages and the PDF show, in one language: names,
rounded scores, chart geometry, tension and recommendation texts. No database access."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .engine import advice, charts, scoring
from .engine.model import DIMENSION_LIST, DIMENSIONS, LEVELS_BY_VALUE, QUESTIONS, questions_of, step_of

SHOWN_RECOMMENDATIONS = 6
BAR_WIDTH = 300


def german(language: str) -> bool:
    return (language or "de").startswith("de")


@dataclass(frozen=True)
class LevelView:
    value: int
    key: str
    name: str
    motto: str
    summary: str
    patterns: tuple[str, ...]


def level_view(value: int, language: str) -> LevelView:
    level = LEVELS_BY_VALUE[value]
    return LevelView(
        value,
        level.key,
        level.name.get(language),
        level.motto.get(language),
        level.summary.get(language),
        tuple(pattern.get(language) for pattern in level.patterns),
    )


@dataclass(frozen=True)
class DimensionRow:
    key: str
    name: str
    score: float
    level: LevelView
    position: str
    bar: float  # bar length in SVG units


@dataclass(frozen=True)
class TensionView:
    key: str
    title: str
    explanation: str
    dimensions: tuple[str, ...]


@dataclass(frozen=True)
class RecommendationView:
    key: str
    horizon: str
    title: str
    text: str
    owner: str
    indicator: str
    dimension: str
    because_of_tension: str


@dataclass
class ResultView:
    level: LevelView
    score: float
    dimensions: list[DimensionRow]
    radar: charts.Radar
    tensions: list[TensionView]
    in_line: list[str]
    recommendations: list[RecommendationView]
    focus: DimensionRow
    next_step: RecommendationView | None
    extra: dict[str, Any] = field(default_factory=dict)


def dimension_name(key: str, language: str) -> str:
    return DIMENSIONS[key].name.get(language) if key in DIMENSIONS else ""


def _and(names: list[str], de: bool) -> str:
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} {'und' if de else 'and'} {names[-1]}"


def _tension_view(tension: scoring.Tension, language: str) -> TensionView:
    if tension.rule is not None:
        return TensionView(
            tension.key, tension.rule.title.get(language), tension.rule.explanation.get(language), tension.dimensions
        )
    de = german(language)
    ahead = _and([dimension_name(key, language) for key in tension.ahead], de)
    behind = _and([dimension_name(key, language) for key in tension.behind], de)
    difference = f"{float(tension.difference or 0):.1f}"
    if de:
        title = f"{ahead} weit vor {behind}"
        explanation = (
            f"Zwischen dem stärksten und dem schwächsten Bereich liegen {difference.replace('.', ',')} Punkte. "
            "Fortschritte in den starken Bereichen bleiben wirkungslos, solange die schwachen nicht nachziehen."
        )
    else:
        title = f"{ahead} far ahead of {behind}"
        explanation = (
            f"The strongest and the weakest areas are {difference} points apart. Progress in the strong areas has "
            "little effect while the weak ones do not catch up."
        )
    return TensionView(tension.key, title, explanation, tension.dimensions)


def recommendation_view(recommendation: advice.Recommendation, language: str) -> RecommendationView:
    rule = recommendation.rule
    return RecommendationView(
        rule.key,
        rule.horizon,
        rule.title.get(language),
        rule.text.get(language),
        rule.owner.get(language),
        rule.indicator.get(language),
        dimension_name(rule.dimension, language),
        recommendation.because_of_tension,
    )


def result_view(
    result: scoring.Result, rules: Sequence[advice.RecommendationRule], language: str, *, shown: int = SHOWN_RECOMMENDATIONS
) -> ResultView:
    rows = [
        DimensionRow(
            d.key,
            dimension_name(d.key, language),
            float(d.score),
            level_view(d.level, language),
            d.position,
            charts.bar_width(d.score, BAR_WIDTH),
        )
        for d in result.dimensions
    ]
    recommendations = advice.recommend(result, rules)
    in_tension = {key for tension in result.tensions for key in tension.dimensions}
    weakest = result.weakest
    next_step = advice.next_step(recommendations, weakest.key)
    return ResultView(
        level=level_view(result.level, language),
        score=float(result.score),
        dimensions=rows,
        radar=charts.radar([row.name for row in rows], {"result": [d.score for d in result.dimensions]}),
        tensions=[_tension_view(tension, language) for tension in result.tensions],
        in_line=[row.name for row in rows if row.position == "in_line" and row.key not in in_tension],
        recommendations=[recommendation_view(r, language) for r in recommendations[:shown]],
        focus=next(row for row in rows if row.key == weakest.key),
        next_step=recommendation_view(next_step, language) if next_step else None,
    )


def group_radar(groups: Mapping[str, scoring.Result], language: str) -> charts.Radar:
    names = [dimension.name.get(language) for dimension in DIMENSION_LIST]
    return charts.radar(names, {key: [d.score for d in result.dimensions] for key, result in groups.items()})


@dataclass(frozen=True)
class QuestionView:
    key: str
    number: int
    text: str
    options: tuple[tuple[int, str], ...]
    selected: int | None
    errors: tuple[str, ...] = ()


def questions_view(
    dimension: str, answers: Mapping[str, Any], language: str, errors: Mapping[str, Sequence[str]] | None = None
) -> list[QuestionView]:
    errors = errors or {}
    views = []
    for question in questions_of(dimension):
        selected = answers.get(question.key)
        views.append(
            QuestionView(
                question.key,
                question.number,
                question.text.get(language),
                tuple((option.level, option.text.get(language)) for option in question.options),
                selected if isinstance(selected, int) else None,
                tuple(str(message) for message in errors.get(question.key, ())),
            )
        )
    return views


@dataclass(frozen=True)
class MissingQuestion:
    key: str
    number: int
    text: str
    step: int


def missing_view(missing: Sequence[str], language: str) -> list[MissingQuestion]:
    return [MissingQuestion(key, QUESTIONS[key].number, QUESTIONS[key].text.get(language), step_of(key)) for key in missing]
