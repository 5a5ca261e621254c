"""Evidence from the organisation's own Leitplanke data, set next to the self-assessment.

Where the data can answer part of a question, a rule turns figures into the range of
levels they support, e.g. "quality figures are measured" supports at least optimising
for "Which figures do you look at?". The answer given is then compared with that range:
it agrees, it is higher than the data show, or lower. Pure Python; the figures are read
by maturity.selectors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from .model import OPTIMISING, REACTIVE, STRATEGIC, Text

# Below this many cases in the period the figures say too little to compare.
MIN_CASES = 20
CATEGORISED_WELL = Fraction(9, 10)
CATEGORISED_POORLY = Fraction(1, 2)
TEMPLATES_FOR_DOCUMENTED = 5
WEB_FORM_USED = Fraction(1, 5)


@dataclass(frozen=True)
class Facts:
    """Figures of the last 90 days and of the set-up, read from Leitplanke."""

    received: int = 0
    finished: int = 0
    category_share: Fraction | None = None
    reopen_rate: Fraction | None = None
    closure_median_days: Fraction | None = None
    web_form_share: Fraction | None = None
    reply_templates: int = 0
    case_types_with_fields: int = 0
    mailboxes: int = 0
    webhooks: int = 0
    api_tokens_in_use: int = 0


@dataclass(frozen=True)
class Evidence:
    question: str
    finding: Text
    lowest: int  # the data support levels from lowest …
    highest: int  # … to highest

    def compare(self, answered: int | None) -> str:
        """agrees | higher (the answer claims more than the data show) | lower | unanswered"""
        if answered is None:
            return "unanswered"
        if answered > self.highest:
            return "higher"
        if answered < self.lowest:
            return "lower"
        return "agrees"


def _percent(value: Fraction | None) -> str:
    return "–" if value is None else str(round(value * 100))


def _days(value: Fraction | None, *, german: bool) -> str:
    if value is None:
        return "–"
    text = f"{float(value):.1f}"
    return text.replace(".", ",") if german else text


def collect(facts: Facts) -> tuple[Evidence, ...]:
    found: list[Evidence] = []
    enough = facts.received >= MIN_CASES
    if facts.finished >= MIN_CASES:
        found.append(
            Evidence(
                "steering.kpis",
                Text(
                    "Leitplanke misst für die Fälle der letzten 90 Tage die Dauer bis Abschluss (Median "
                    f"{_days(facts.closure_median_days, german=True)} Tage) "
                    f"und die Wiedereröffnungsquote ({_percent(facts.reopen_rate)} %): Qualitätskennzahlen liegen vor.",
                    f"Leitplanke measures the time to closure (median {_days(facts.closure_median_days, german=False)} "
                    "days) and the reopen rate "
                    f"({_percent(facts.reopen_rate)}%) of the last 90 days' cases: quality figures are available.",
                ),
                OPTIMISING,
                STRATEGIC,
            )
        )
    if enough and facts.category_share is not None:
        share = facts.category_share
        lowest, highest = (
            (OPTIMISING, STRATEGIC)
            if share >= CATEGORISED_WELL
            else (REACTIVE, REACTIVE if share < CATEGORISED_POORLY else OPTIMISING)
        )
        found.append(
            Evidence(
                "organisation.root_causes",
                Text(
                    f"{_percent(share)} % der Fälle der letzten 90 Tage haben eine Kategorie.",
                    f"{_percent(share)}% of the last 90 days' cases have a category.",
                ),
                lowest,
                highest,
            )
        )
    documented = facts.reply_templates >= TEMPLATES_FOR_DOCUMENTED
    found.append(
        Evidence(
            "organisation.processes",
            Text(
                f"In Leitplanke gepflegt: Antwortvorlagen: {facts.reply_templates}; "
                f"Fallarten mit eigenen Feldern: {facts.case_types_with_fields}.",
                f"Maintained in Leitplanke: reply templates: {facts.reply_templates}; "
                f"case types with their own fields: {facts.case_types_with_fields}.",
            ),
            OPTIMISING if documented else REACTIVE,
            STRATEGIC if documented else OPTIMISING,
        )
    )
    connected = facts.webhooks + facts.api_tokens_in_use
    found.append(
        Evidence(
            "technology.integration",
            Text(
                f"{facts.webhooks} aktive Webhooks und {facts.api_tokens_in_use} in den letzten 90 Tagen genutzte API-Tokens "
                "verbinden Leitplanke mit anderen Systemen.",
                f"{facts.webhooks} active webhooks and {facts.api_tokens_in_use} API tokens used in the last 90 days connect "
                "Leitplanke with other systems.",
            ),
            OPTIMISING if connected else REACTIVE,
            STRATEGIC if connected else OPTIMISING,
        )
    )
    if enough:
        found.append(
            Evidence(
                "technology.tools",
                Text(
                    f"Ein Fallsystem ist im Einsatz: {facts.received} Fälle in den letzten 90 Tagen, {facts.mailboxes} "
                    "Postfächer "
                    "liefern automatisch zu.",
                    f"A case system is in use: {facts.received} cases in the last 90 days, {facts.mailboxes} mailboxes feed it "
                    "automatically.",
                ),
                OPTIMISING,
                STRATEGIC,
            )
        )
    if enough and facts.web_form_share is not None:
        used = facts.web_form_share >= WEB_FORM_USED
        found.append(
            Evidence(
                "technology.self_service",
                Text(
                    f"{_percent(facts.web_form_share)} % der Fälle kommen über das Webformular.",
                    f"{_percent(facts.web_form_share)}% of the cases come through the web form.",
                ),
                OPTIMISING if used else REACTIVE,
                STRATEGIC if used else OPTIMISING,
            )
        )
    return tuple(found)


def by_question(evidence: tuple[Evidence, ...]) -> Mapping[str, Evidence]:
    return {item.question: item for item in evidence}
