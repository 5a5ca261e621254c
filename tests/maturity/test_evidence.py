"""Figures from Leitplanke turned into the levels they support, next to the answers."""

from __future__ import annotations

from fractions import Fraction

from leitplanke.maturity.engine.evidence import Facts, by_question, collect


def test_few_cases_give_no_case_evidence_but_the_set_up_still_counts():
    found = by_question(collect(Facts(received=5, finished=5, reply_templates=6)))
    assert set(found) == {"organisation.processes", "technology.integration"}
    processes = found["organisation.processes"]
    assert (processes.lowest, processes.highest) == (2, 3)
    assert processes.compare(1) == "lower" and processes.compare(3) == "agrees"
    assert found["technology.integration"].compare(3) == "higher"


def test_category_share_bands_and_measured_figures():
    facts = Facts(
        received=100,
        finished=40,
        category_share=Fraction(95, 100),
        reopen_rate=Fraction(1, 20),
        closure_median_days=Fraction(27, 2),
        web_form_share=Fraction(1, 10),
        webhooks=1,
    )
    found = by_question(collect(facts))
    assert (found["organisation.root_causes"].lowest, found["organisation.root_causes"].highest) == (2, 3)
    assert "13,5 Tage" in found["steering.kpis"].finding.de and "13.5 days" in found["steering.kpis"].finding.en
    assert "5%" in found["steering.kpis"].finding.en
    assert found["technology.self_service"].highest == 2
    assert found["technology.integration"].lowest == 2
    poor = by_question(collect(Facts(received=100, category_share=Fraction(2, 5))))["organisation.root_causes"]
    assert (poor.lowest, poor.highest) == (1, 1) and poor.compare(2) == "higher"
    middle = by_question(collect(Facts(received=100, category_share=Fraction(7, 10))))["organisation.root_causes"]
    assert (middle.lowest, middle.highest) == (1, 2)
    assert middle.compare(None) == "unanswered"
