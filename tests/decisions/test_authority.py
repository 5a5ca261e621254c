"""The pure authority rules (decisions/authority.py): overrides, specificity, qualifications,
cumulative limits — examples and Hypothesis properties."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leitplanke.decisions.authority import (
    OVER_PER_CUSTOMER_YEAR,
    OVER_PER_DECISION,
    LimitRow,
    Qualification,
    check,
    effective_limit,
)

DAY = dt.date(2026, 6, 1)
D = Decimal


def limit(rows, *, user=7, roles=("agent",), quals=None, kind="goodwill", currency="EUR", case_type=None, on=DAY):
    return effective_limit(
        rows, user=user, roles=roles, qualifications=quals or {}, kind=kind, currency=currency, case_type=case_type, on=on
    )


def role_row(amount, role="agent", **kw):
    return LimitRow(kind=kw.pop("kind", "goodwill"), currency=kw.pop("currency", "EUR"), per_decision=D(amount), role=role, **kw)


def user_row(amount, user=7, **kw):
    return LimitRow(kind=kw.pop("kind", "goodwill"), currency=kw.pop("currency", "EUR"), per_decision=D(amount), user=user, **kw)


# --- examples ------------------------------------------------------------------------------


def test_no_row_means_zero():
    result = limit([])
    assert result.per_decision == 0 and result.per_customer_year == 0 and result.level == "none"
    assert not check(result, D("0.01")).within
    assert check(result, D("0")).within


def test_other_kind_and_currency_do_not_count():
    rows = [role_row(100, kind="redress"), role_row(500, currency="CHF")]
    assert limit(rows).per_decision == 0


def test_person_overrides_role_even_when_lower():
    rows = [role_row(1000), user_row(50)]
    result = limit(rows)
    assert result.per_decision == 50 and result.level == "person"


def test_a_persons_qualification_row_raises_the_role_limit_and_never_replaces_it():
    rows = [role_row(100), user_row(60, skill="s"), user_row(300, skill="t", min_level=2)]
    assert limit(rows).per_decision == 100 and limit(rows).level == "role"
    assert limit(rows, quals={"s": Qualification(1)}).per_decision == 100  # raising to 60 is no raise
    raised = limit(rows, quals={"t": Qualification(2)})
    assert raised.per_decision == 300 and raised.level == "person"


def test_person_row_of_someone_else_is_ignored():
    assert limit([role_row(100), user_row(5000, user=8)]).per_decision == 100


def test_case_type_row_is_more_specific():
    rows = [role_row(100), role_row(30, case_type=3)]
    assert limit(rows, case_type=3).per_decision == 30
    assert limit(rows, case_type=4).per_decision == 100
    assert limit(rows).per_decision == 100


def test_most_generous_role():
    rows = [role_row(100, per_customer_year=D(300)), role_row(1000, role="team_lead", per_customer_year=D(200))]
    result = limit(rows, roles=("agent", "team_lead"))
    assert result.per_decision == 1000 and result.per_customer_year == 300


def test_no_yearly_limit_is_most_generous():
    rows = [role_row(100, per_customer_year=D(300)), role_row(50, role="x", per_customer_year=None)]
    assert limit(rows, roles=("agent", "x")).per_customer_year is None


def test_qualification_raises_only_when_valid_and_high_enough():
    rows = [role_row(100), role_row(400, skill="goodwill-expert", min_level=2)]
    assert limit(rows, quals={"goodwill-expert": Qualification(2, DAY)}).per_decision == 400
    assert limit(rows, quals={"goodwill-expert": Qualification(3, None)}).per_decision == 400
    assert limit(rows, quals={"goodwill-expert": Qualification(1, None)}).per_decision == 100  # too low
    assert limit(rows, quals={"goodwill-expert": Qualification(2, DAY - dt.timedelta(days=1))}).per_decision == 100  # expired
    assert limit(rows, quals={"other": Qualification(3, None)}).per_decision == 100


def test_qualification_never_lowers():
    rows = [role_row(100), role_row(20, skill="s")]
    assert limit(rows, quals={"s": Qualification(1)}).per_decision == 100


def test_cumulative_check():
    result = limit([role_row(100, per_customer_year=D(250))])
    assert check(result, D(100), D(150)).within
    outcome = check(result, D(100), D(151))
    assert outcome.reasons == (OVER_PER_CUSTOMER_YEAR,)
    assert check(result, D(101), D(200)).reasons == (OVER_PER_DECISION, OVER_PER_CUSTOMER_YEAR)
    assert outcome.remaining_year == D(99)


def test_currency_is_case_insensitive():
    assert limit([role_row(100, currency="eur")], currency="EUR").per_decision == 100


# --- properties ----------------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False, allow_infinity=False)
optional_amounts = st.one_of(st.none(), amounts)
roles = st.sampled_from(["agent", "team_lead", "quality_manager"])
rows_strategy = st.lists(
    st.builds(
        LimitRow,
        kind=st.sampled_from(["goodwill", "redress"]),
        currency=st.sampled_from(["EUR", "CHF"]),
        per_decision=amounts,
        per_customer_year=optional_amounts,
        role=st.one_of(st.none(), roles),
        user=st.none(),
        case_type=st.one_of(st.none(), st.sampled_from([1, 2])),
        skill=st.one_of(st.none(), st.sampled_from(["s1", "s2"])),
        min_level=st.integers(1, 3),
    ).map(lambda r: r if r.role is not None else LimitRow(**{**r.__dict__, "user": 7})),
    max_size=8,
)
quals_strategy = st.dictionaries(
    st.sampled_from(["s1", "s2"]),
    st.builds(
        Qualification,
        level=st.integers(1, 3),
        valid_until=st.one_of(st.none(), st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31))),
    ),
)
role_sets = st.sets(roles, max_size=3)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows_strategy, role_sets, quals_strategy, st.sampled_from([None, 1, 2]))
def test_never_negative_and_sources_explain(rows, role_keys, quals, case_type):
    result = limit(rows, roles=role_keys, quals=quals, case_type=case_type)
    assert result.per_decision >= 0
    if result.level == "none":
        assert result.per_decision == 0 and not result.sources
    else:
        assert result.per_decision == max(r.per_decision for r in result.sources)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows_strategy, role_sets, quals_strategy, roles)
def test_more_roles_never_lower_without_person_rows(rows, role_keys, quals, extra):
    rows = [r for r in rows if r.user is None]
    before = limit(rows, roles=role_keys, quals=quals)
    after = limit(rows, roles=role_keys | {extra}, quals=quals)
    assert after.per_decision >= before.per_decision
    if after.per_customer_year is not None:
        assert before.per_customer_year is not None and after.per_customer_year >= before.per_customer_year


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows_strategy, role_sets, quals_strategy, st.sampled_from(["s1", "s2"]), st.integers(1, 3))
def test_gaining_a_qualification_never_lowers(rows, role_keys, quals, skill, level):
    before = limit(rows, roles=role_keys, quals=quals)
    held = quals.get(skill)
    better = Qualification(max(level, held.level if held else 0), None)
    after = limit(rows, roles=role_keys, quals={**quals, skill: better})
    assert after.per_decision >= before.per_decision


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows_strategy, role_sets, quals_strategy)
def test_expired_qualifications_count_as_absent(rows, role_keys, quals):
    expired = {k: Qualification(q.level, DAY - dt.timedelta(days=1)) for k, q in quals.items()}
    assert limit(rows, roles=role_keys, quals=expired) == limit(rows, roles=role_keys, quals={})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows_strategy, role_sets, quals_strategy, amounts)
def test_a_person_row_decides_alone(rows, role_keys, quals, amount):
    mine = LimitRow(kind="goodwill", currency="EUR", per_decision=amount, user=7)
    result = limit([*rows, mine], roles=role_keys, quals=quals)
    assert result.level == "person"
    assert all(r.user == 7 for r in result.sources)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(amounts, optional_amounts, amounts, amounts, amounts)
def test_check_monotone(per_decision, per_year, amount, smaller, used):
    from leitplanke.decisions.authority import EffectiveLimit

    lim = EffectiveLimit("goodwill", "EUR", per_decision, per_year, (), "role")
    outcome = check(lim, amount, used)
    # within ⇔ both limits hold
    expected = amount <= 0 or (amount <= per_decision and (per_year is None or used + amount <= per_year))
    assert outcome.within == expected
    # a smaller amount (or less used) is within whenever the larger one is
    if outcome.within:
        assert check(lim, min(smaller, amount), used).within
        assert check(lim, amount, used / 2).within
    # a more generous limit covers whatever the smaller one covers
    if outcome.within:
        bigger = EffectiveLimit("goodwill", "EUR", per_decision + 1, None if per_year is None else per_year + 1, (), "role")
        assert check(bigger, amount, used).within
