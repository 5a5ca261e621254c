"""The pure scoring on hand-made answer sets with known levels and tensions, plus
invariants checked with hypothesis."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leitplanke.maturity.engine import advice, library, scoring
from leitplanke.maturity.engine.model import (
    DIMENSION_KEYS,
    LEVEL_LIST,
    QUESTION_KEYS,
    QUESTION_LIST,
    questions_of,
)
from tests.maturity.conftest import answers_at


def dimension_answers(**levels: int) -> dict[str, int]:
    """Every question of a dimension at the dimension's given level (default optimising)."""
    return {q.key: levels.get(q.dimension, 2) for q in QUESTION_LIST}


# --- the model ---------------------------------------------------------------------------


def test_model_has_twenty_questions_on_six_dimensions_with_three_options_each():
    assert len(QUESTION_LIST) == 20
    assert DIMENSION_KEYS == ("vision", "steering", "planning", "organisation", "engagement", "technology")
    assert all(3 <= len(questions_of(key)) <= 4 for key in DIMENSION_KEYS)
    for question in QUESTION_LIST:
        assert [option.level for option in question.options] == [1, 2, 3]
        assert question.text.de and question.text.en and question.text.de != question.text.en
        assert all(option.text.de and option.text.en for option in question.options)
    assert [level.key for level in LEVEL_LIST] == ["reactive", "optimising", "strategic"]
    assert all(level.patterns for level in LEVEL_LIST)


# --- hand-made answer sets ---------------------------------------------------------------


@pytest.mark.parametrize("level", [1, 2, 3])
def test_all_answers_at_one_level_give_that_level_and_no_tension(level):
    result = scoring.score(answers_at(level))
    assert result.level == level
    assert all(d.level == level and d.score == level for d in result.dimensions)
    assert result.tensions == ()
    assert result.is_consistent


def test_dimension_level_cut_offs_halfway_counts_as_the_lower_level():
    assert scoring.level_of(Fraction(3, 2)) == 1
    assert scoring.level_of(Fraction(5, 3)) == 2
    assert scoring.level_of(Fraction(5, 2)) == 2
    assert scoring.level_of(Fraction(8, 3)) == 3
    # Steering has four questions: two reactive and two optimising answers are a mean of 1.5.
    answers = answers_at(2, steering__kpis=1, steering__goals=1)
    assert scoring.score(answers).dimension("steering").level == 1


def test_overall_level_is_capped_one_above_the_weakest_dimension():
    # Five strategic dimensions, one reactive: the median says strategic, the cap says optimising.
    result = scoring.score(dimension_answers(vision=3, steering=3, planning=3, organisation=3, engagement=3, technology=1))
    assert [d.level for d in result.dimensions] == [3, 3, 3, 3, 3, 1]
    assert result.level == 2


def test_overall_level_is_the_lower_median():
    result = scoring.score(dimension_answers(vision=1, steering=1, planning=2, organisation=2, engagement=3, technology=3))
    assert result.level == 2
    result = scoring.score(dimension_answers(vision=1, steering=1, planning=1, organisation=2, engagement=3, technology=3))
    assert result.level == 1


def test_ambitious_goals_without_a_roadmap_is_a_named_tension():
    result = scoring.score(answers_at(2, steering__goals=3, planning__roadmap=1))
    keys = [tension.key for tension in result.tensions]
    assert keys == ["goals_without_roadmap"]
    assert result.tensions[0].questions == ("steering.goals", "planning.roadmap")
    assert result.tensions[0].dimensions == ("steering", "planning")


def test_strategic_vision_with_reactive_steering_is_a_tension_and_a_spread():
    result = scoring.score(dimension_answers(vision=3, steering=1))
    keys = [tension.key for tension in result.tensions]
    assert keys == ["vision_without_steering", "spread"]
    spread = result.tensions[1]
    assert spread.ahead == ("vision",) and spread.behind == ("steering",) and spread.difference == 2


def test_spread_names_the_leading_and_lagging_groups_of_dimensions():
    result = scoring.score(dimension_answers(vision=2, steering=3, planning=1, organisation=2, engagement=3, technology=1))
    spread = next(t for t in result.tensions if t.key == "spread")
    assert spread.ahead == ("steering", "engagement")
    assert spread.behind == ("planning", "technology")
    assert {d.key: d.position for d in result.dimensions} == {
        "vision": "in_line",
        "steering": "ahead",
        "planning": "behind",
        "organisation": "in_line",
        "engagement": "ahead",
        "technology": "behind",
    }


def test_dimensions_less_than_one_apart_are_no_tension():
    # Planning 2.33 vs technology 1.67: two thirds apart.
    answers = answers_at(2, planning__roadmap=3, technology__tools=1)
    assert scoring.score(answers).tensions == ()


def test_incomplete_answers_name_the_missing_questions_in_order():
    answers = answers_at(2)
    del answers["technology.tools"], answers["vision.role"]
    with pytest.raises(scoring.Incomplete) as caught:
        scoring.score(answers)
    assert caught.value.missing == ("vision.role", "technology.tools")


def test_invalid_answers_are_named():
    with pytest.raises(scoring.InvalidAnswers) as caught:
        scoring.score({**answers_at(2), "vision.role": 4, "steering.kpis": "x", "nope.question": 1, "planning.budget": True})
    assert caught.value.errors == {
        "vision.role": "invalid_level",
        "steering.kpis": "invalid_level",
        "nope.question": "unknown_question",
        "planning.budget": "invalid_level",
    }


def test_group_result_uses_the_mean_answers():
    result = scoring.combine([answers_at(1), answers_at(3), answers_at(2)])
    assert result.level == 2 and all(d.score == 2 for d in result.dimensions)
    # One person sees ambitious goals without a roadmap, two see both as optimising: the group's
    # mean answers (7/3 and 5/3) are optimising, so the group shows no tension.
    sets = [answers_at(2, steering__goals=3, planning__roadmap=1), answers_at(2), answers_at(2)]
    combined = scoring.combine(sets)
    assert combined.question_levels["steering.goals"] == 2 and combined.question_levels["planning.roadmap"] == 2
    assert combined.tensions == ()


def test_perception_gaps_between_groups():
    leadership = scoring.score(dimension_answers(vision=3, steering=3))
    team = scoring.score(dimension_answers(vision=1, steering=3))
    gaps = scoring.perception_gaps({"leadership": leadership, "service_team": team})
    assert [(g.dimension, g.higher_group, g.lower_group, g.difference) for g in gaps] == [
        ("vision", "leadership", "service_team", 2)
    ]


def test_change_per_dimension():
    before = scoring.score(answers_at(1))
    after = scoring.score(answers_at(1, vision__role=3, vision__decisions=2))
    change = scoring.changes(before, after)[0]
    assert change.dimension == "vision" and change.delta == 1 and change.direction == "up"
    assert {c.direction for c in scoring.changes(before, after)[1:]} == {"same"}


# --- recommendations and roadmap ---------------------------------------------------------


def test_recommendations_answer_the_tension_first_then_the_weakest_dimension():
    result = scoring.score(answers_at(2, steering__goals=3, planning__roadmap=1, technology__tools=1, technology__integration=1))
    keys = [r.rule.key for r in advice.recommend(result, library.DEFAULT_RULES)]
    assert keys[0] == "tension.goals_to_roadmap"
    # Technology (1.33) is the weakest dimension, so its level-1 rules come next, quick win first.
    assert keys[1:3] == ["technology.one_inbox", "technology.templates_routing"]
    assert advice.next_step(advice.recommend(result, library.DEFAULT_RULES), "technology").rule.key == "technology.one_inbox"


def test_draft_roadmap_puts_quick_wins_in_quarter_one_and_projects_later():
    result = scoring.score(answers_at(1))
    draft = advice.draft_roadmap(advice.recommend(result, library.DEFAULT_RULES))
    assert [item.quarter for item in draft if item.horizon == advice.QUICK_WIN] == [1, 1, 1, 1]
    assert [item.quarter for item in draft if item.horizon == advice.PROJECT] == [2, 2, 3, 3, 4, 4]
    assert all(item.owner.de and item.indicator.en and item.goal.de for item in draft)


def test_every_library_rule_fits_something():
    tension_keys = {rule.key for rule in scoring.TENSION_RULES}
    for rule in library.DEFAULT_RULES:
        assert (rule.dimension in DIMENSION_KEYS and rule.levels) or rule.tension in tension_keys, rule.key
    for level in (1, 2, 3):
        fitting = {r.rule.dimension for r in advice.recommend(scoring.score(answers_at(level)), library.DEFAULT_RULES)}
        assert fitting == set(DIMENSION_KEYS), level
    for tension in scoring.TENSION_RULES:
        assert any(rule.tension == tension.key for rule in library.DEFAULT_RULES), tension.key


# --- invariants ----------------------------------------------------------------------------

answer_sets = st.fixed_dictionaries({key: st.integers(min_value=1, max_value=3) for key in QUESTION_KEYS})


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=3))
def test_one_level_everywhere_gives_that_level(level):
    assert scoring.score(dict.fromkeys(QUESTION_KEYS, level)).level == level


@settings(max_examples=200, deadline=None)
@given(answer_sets)
def test_overall_level_lies_between_the_weakest_dimension_and_one_above_it(answers):
    result = scoring.score(answers)
    levels = [d.level for d in result.dimensions]
    assert min(levels) <= result.level <= min(min(levels) + 1, max(levels))
    assert all(1 <= d.score <= 3 for d in result.dimensions)
    assert (result.spread >= 1) == any(t.key == "spread" for t in result.tensions)


@settings(max_examples=200, deadline=None)
@given(answer_sets, st.sampled_from(QUESTION_KEYS))
def test_a_better_answer_never_lowers_a_score_or_the_level(answers, key):
    better = {**answers, key: min(3, answers[key] + 1)}
    before, after = scoring.score(answers), scoring.score(better)
    assert after.level >= before.level
    assert all(a.score >= b.score and a.level >= b.level for a, b in zip(after.dimensions, before.dimensions, strict=True))


@settings(max_examples=100, deadline=None)
@given(st.lists(answer_sets, min_size=1, max_size=5))
def test_a_group_of_identical_answers_scores_like_one_person(sets):
    assert scoring.combine([sets[0]] * len(sets)) == scoring.score(sets[0])
    combined = scoring.combine(sets)
    for key in DIMENSION_KEYS:
        scores = [scoring.score(answers).dimension(key).score for answers in sets]
        assert combined.dimension(key).score == sum(scores, Fraction(0)) / len(scores)
