"""Scoring of the maturity check: dimension scores, overall level, tensions, perception
gaps and change between two checks. Pure Python with exact fractions (no floats, so a
score on a cut-off lands on the same side on every machine); see docs/maturity-model.md.

Rules in short:
- an answer is a level (1 reactive, 2 optimising, 3 strategic);
- a dimension's score is the mean of its answers; its level is the level of that mean,
  where a mean exactly halfway between two levels counts as the lower one (a level is
  reached when most of the evidence shows it);
- the overall level is the lower median of the six dimension levels, capped at one
  level above the weakest dimension (staged logic: no "strategic" with a reactive base);
- tensions are dimensions far apart (a score difference of at least 1) and named
  patterns of contradicting answers (e.g. ambitious goals without a roadmap).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from .model import DIMENSION_KEYS, LEVELS, QUESTION_KEYS, QUESTIONS, REACTIVE, STRATEGIC, Text, questions_of

SPREAD_TENSION = Fraction(1)  # dimensions at least this far apart are a tension
# In a spread tension, the dimensions within one answer of the top score lead and those within
# one answer of the bottom score lag behind (one answer moves a three-question mean by 1/3).
SPREAD_BAND = Fraction(1, 3)
PERCEPTION_GAP = Fraction(7, 10)  # groups at least this far apart on a dimension see it differently
IN_LINE = Fraction(1, 2)  # a dimension within this distance of the overall score is in line
SIGNIFICANT_CHANGE = Fraction(1, 3)  # a change per dimension shown as up/down (one answer of three)


class InvalidAnswers(ValueError):
    """Answers that name unknown questions or levels; `errors` maps each key to a reason."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__(", ".join(f"{key}: {reason}" for key, reason in self.errors.items()))


class Incomplete(ValueError):
    """Not every question is answered; `missing` lists the keys in question order."""

    def __init__(self, missing: Sequence[str]):
        self.missing = tuple(missing)
        super().__init__("missing answers: " + ", ".join(self.missing))


def validate_answers(raw: Mapping[str, object]) -> dict[str, int]:
    """The answers as {question key: level}; InvalidAnswers names every bad entry."""
    answers: dict[str, int] = {}
    errors: dict[str, str] = {}
    for key, value in raw.items():
        if key not in QUESTIONS:
            errors[str(key)] = "unknown_question"
            continue
        if isinstance(value, bool) or not isinstance(value, int | str):
            errors[key] = "invalid_level"
            continue
        try:
            level = int(value)
        except ValueError:
            errors[key] = "invalid_level"
            continue
        if level not in LEVELS:
            errors[key] = "invalid_level"
            continue
        answers[key] = level
    if errors:
        raise InvalidAnswers(errors)
    return answers


def missing_questions(answers: Mapping[str, object]) -> tuple[str, ...]:
    return tuple(key for key in QUESTION_KEYS if key not in answers)


def level_of(value: Fraction | int) -> int:
    """The level of a score: up to 1.5 reactive, up to 2.5 optimising, above strategic."""
    value = Fraction(value)
    if value <= Fraction(3, 2):
        return REACTIVE
    if value <= Fraction(5, 2):
        return 2
    return STRATEGIC


def _mean(values: Iterable[Fraction | int]) -> Fraction:
    items = [Fraction(value) for value in values]
    return sum(items, Fraction(0)) / len(items)


# --- tension rules ------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """A question (key with a dot) or a dimension whose level lies in [at_least, at_most]."""

    key: str
    at_least: int = REACTIVE
    at_most: int = STRATEGIC


@dataclass(frozen=True)
class TensionRule:
    key: str
    title: Text
    explanation: Text
    conditions: tuple[Condition, ...]


T = Text

TENSION_RULES: tuple[TensionRule, ...] = (
    TensionRule(
        "goals_without_roadmap",
        T("Ehrgeizige Ziele ohne Roadmap", "Ambitious goals without a roadmap"),
        T(
            "Die Ziele sind aus der Unternehmensstrategie abgeleitet, aber es gibt keinen Plan, wie sie erreicht werden.",
            "Goals are derived from the company strategy, but there is no plan for how to reach them.",
        ),
        (Condition("steering.goals", at_least=STRATEGIC), Condition("planning.roadmap", at_most=REACTIVE)),
    ),
    TensionRule(
        "vision_without_steering",
        T("Strategische Vision, reaktive Steuerung", "Strategic vision, reactive steering"),
        T(
            "Die Rolle des Service ist klar beschrieben, doch die Kennzahlen und Ziele stützen sie nicht.",
            "The role of service is clearly described, but figures and goals do not support it.",
        ),
        (Condition("vision", at_least=STRATEGIC), Condition("steering", at_most=REACTIVE)),
    ),
    TensionRule(
        "technology_ahead_of_organisation",
        T("Fortschrittliche Technik, reaktive Organisation", "Advanced technology, reactive organisation"),
        T(
            "Die Werkzeuge sind weiter als die Zusammenarbeit: ohne Prozesse und Rückmeldeschleifen bleibt ihr Nutzen klein.",
            "The tools are ahead of how people work together: without processes and feedback loops they deliver little.",
        ),
        (Condition("technology", at_least=STRATEGIC), Condition("organisation", at_most=REACTIVE)),
    ),
    TensionRule(
        "retention_without_figures",
        T("Kundenbindung ohne Bindungszahlen", "Retention work without retention figures"),
        T(
            "Sie geben an, die Bindung beschwerdeführender Kunden zu verfolgen, achten aber nur auf Mengen und "
            "Bearbeitungszeiten.",
            "You say you track whether complaining customers stay, but you only look at volumes and handling times.",
        ),
        (Condition("engagement.complainants", at_least=STRATEGIC), Condition("steering.kpis", at_most=REACTIVE)),
    ),
    TensionRule(
        "feedback_without_causes",
        T("Rückmeldeschleife ohne erfasste Ursachen", "Feedback loop without recorded causes"),
        T(
            "Ein fester Kreislauf zu anderen Abteilungen braucht erfasste Ursachen; die werden aber nicht erfasst.",
            "A fixed loop with other departments needs recorded causes, but causes are not recorded.",
        ),
        (Condition("organisation.feedback", at_least=STRATEGIC), Condition("organisation.root_causes", at_most=REACTIVE)),
    ),
    TensionRule(
        "reviews_of_volume_only",
        T("Feste Reviews, aber nur Mengenzahlen", "Fixed reviews, but volume figures only"),
        T(
            "Ein regelmäßiger Termin beschließt Maßnahmen, sieht aber nur Mengen: über Qualität und Wirkung wird nicht "
            "gesprochen.",
            "A regular meeting decides actions but sees only volumes: quality and effect are not discussed.",
        ),
        (Condition("steering.review", at_least=STRATEGIC), Condition("steering.kpis", at_most=REACTIVE)),
    ),
    TensionRule(
        "roadmap_without_budget",
        T("Roadmap ohne Budget", "Roadmap without a budget"),
        T(
            "Die Roadmap ist priorisiert, aber Investitionen werden spontan entschieden: die Umsetzung hängt vom Zufall ab.",
            "The roadmap is prioritised, but investments are decided ad hoc: implementation depends on luck.",
        ),
        (Condition("planning.roadmap", at_least=STRATEGIC), Condition("planning.budget", at_most=REACTIVE)),
    ),
    TensionRule(
        "self_service_on_manual_transfers",
        T("Self-Service auf Handarbeit", "Self-service on top of manual transfers"),
        T(
            "Self-Service wird genutzt, dahinter werden Daten aber von Hand übertragen: Wachstum landet wieder beim Team.",
            "Self-service is used, but behind it data are copied by hand: growth lands on the team again.",
        ),
        (Condition("technology.self_service", at_least=STRATEGIC), Condition("technology.integration", at_most=REACTIVE)),
    ),
)
TENSION_RULES_BY_KEY = {rule.key: rule for rule in TENSION_RULES}
SPREAD = "spread"


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DimensionScore:
    key: str
    score: Fraction
    level: int
    position: str = "in_line"  # in_line | ahead | behind (relative to the overall score)


@dataclass(frozen=True)
class Tension:
    key: str  # a TensionRule key, or "spread"
    dimensions: tuple[str, ...]
    questions: tuple[str, ...] = ()
    # For "spread": the leading and the lagging dimensions, and how far apart the extremes are.
    ahead: tuple[str, ...] = ()
    behind: tuple[str, ...] = ()
    difference: Fraction | None = None

    @property
    def rule(self) -> TensionRule | None:
        return TENSION_RULES_BY_KEY.get(self.key)


@dataclass(frozen=True)
class Result:
    dimensions: tuple[DimensionScore, ...]
    level: int
    score: Fraction  # the mean of the dimension scores
    spread: Fraction  # highest minus lowest dimension score
    tensions: tuple[Tension, ...]
    question_levels: Mapping[str, int] = field(default_factory=dict)

    def dimension(self, key: str) -> DimensionScore:
        return next(dimension for dimension in self.dimensions if dimension.key == key)

    @property
    def is_consistent(self) -> bool:
        return not self.tensions

    @property
    def weakest(self) -> DimensionScore:
        """The dimension with the lowest score (the first in model order on a tie)."""
        return min(self.dimensions, key=lambda dimension: dimension.score)

    @property
    def strongest(self) -> DimensionScore:
        return max(self.dimensions, key=lambda dimension: dimension.score)

    def scores(self) -> dict[str, Fraction]:
        return {dimension.key: dimension.score for dimension in self.dimensions}


def overall_level(dimension_levels: Sequence[int]) -> int:
    ordered = sorted(dimension_levels)
    lower_median = ordered[(len(ordered) - 1) // 2]
    return min(lower_median, ordered[0] + 1)


def _holds(condition: Condition, question_levels: Mapping[str, int], dimension_levels: Mapping[str, int]) -> bool:
    levels = question_levels if "." in condition.key else dimension_levels
    value = levels.get(condition.key)
    return value is not None and condition.at_least <= value <= condition.at_most


def _tensions(
    scores: Mapping[str, Fraction], question_levels: Mapping[str, int], dimension_levels: Mapping[str, int]
) -> tuple[Tension, ...]:
    found: list[Tension] = []
    for rule in TENSION_RULES:
        if all(_holds(condition, question_levels, dimension_levels) for condition in rule.conditions):
            found.append(
                Tension(
                    rule.key,
                    dimensions=tuple(dict.fromkeys(c.key.split(".", 1)[0] for c in rule.conditions)),
                    questions=tuple(c.key for c in rule.conditions if "." in c.key),
                )
            )
    top, bottom = max(scores.values()), min(scores.values())
    if top - bottom >= SPREAD_TENSION:
        ahead = tuple(key for key in DIMENSION_KEYS if scores[key] >= top - SPREAD_BAND)
        behind = tuple(key for key in DIMENSION_KEYS if scores[key] <= bottom + SPREAD_BAND)
        found.append(Tension(SPREAD, dimensions=ahead + behind, ahead=ahead, behind=behind, difference=top - bottom))
    return tuple(found)


def evaluate(question_scores: Mapping[str, Fraction | int]) -> Result:
    """The result of a complete set of per-question scores: one person's answers, or the
    mean answers of a group (then a question's level is the level of its mean)."""
    missing = missing_questions(question_scores)
    if missing:
        raise Incomplete(missing)
    scores = {key: _mean(question_scores[q.key] for q in questions_of(key)) for key in DIMENSION_KEYS}
    dimension_levels = {key: level_of(score) for key, score in scores.items()}
    question_levels = {key: level_of(question_scores[key]) for key in QUESTION_KEYS}
    overall_score = _mean(scores.values())

    def position(score: Fraction) -> str:
        if score - overall_score > IN_LINE:
            return "ahead"
        if overall_score - score > IN_LINE:
            return "behind"
        return "in_line"

    return Result(
        dimensions=tuple(
            DimensionScore(key, scores[key], dimension_levels[key], position(scores[key])) for key in DIMENSION_KEYS
        ),
        level=overall_level(list(dimension_levels.values())),
        score=overall_score,
        spread=max(scores.values()) - min(scores.values()),
        tensions=_tensions(scores, question_levels, dimension_levels),
        question_levels=question_levels,
    )


def score(raw_answers: Mapping[str, object]) -> Result:
    """One person's result; InvalidAnswers for bad entries, Incomplete when some are missing."""
    return evaluate(validate_answers(raw_answers))


def combine(answer_sets: Sequence[Mapping[str, int]]) -> Result:
    """The result of a group: every question scored with the mean answer of the group."""
    if not answer_sets:
        raise Incomplete(QUESTION_KEYS)
    means = {key: _mean(answers[key] for answers in answer_sets) for key in QUESTION_KEYS}
    return evaluate(means)


# --- several perspectives and change over time -------------------------------------------


@dataclass(frozen=True)
class PerceptionGap:
    dimension: str
    higher_group: str
    lower_group: str
    difference: Fraction


def perception_gaps(groups: Mapping[str, Result]) -> tuple[PerceptionGap, ...]:
    """Per dimension, the pair of groups furthest apart when they differ by at least
    PERCEPTION_GAP (group keys in the order given)."""
    gaps: list[PerceptionGap] = []
    names = list(groups)
    for key in DIMENSION_KEYS:
        if len(names) < 2:
            break
        high = max(names, key=lambda name: groups[name].dimension(key).score)
        low = min(names, key=lambda name: groups[name].dimension(key).score)
        difference = groups[high].dimension(key).score - groups[low].dimension(key).score
        if difference >= PERCEPTION_GAP:
            gaps.append(PerceptionGap(key, high, low, difference))
    return tuple(gaps)


@dataclass(frozen=True)
class Change:
    dimension: str
    before: Fraction
    after: Fraction

    @property
    def delta(self) -> Fraction:
        return self.after - self.before

    @property
    def direction(self) -> str:
        if self.delta >= SIGNIFICANT_CHANGE:
            return "up"
        if -self.delta >= SIGNIFICANT_CHANGE:
            return "down"
        return "same"


def changes(before: Result, after: Result) -> tuple[Change, ...]:
    return tuple(Change(key, before.dimension(key).score, after.dimension(key).score) for key in DIMENSION_KEYS)
