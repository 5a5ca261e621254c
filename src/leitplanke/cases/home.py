"""Reads for the case cards on the start page: my open cases (next due first), my teams' open and unassigned
cases, or (for those who see all cases) what arrived in the last seven days.

Everything goes through `list_selectors.listed_cases`, i.e. `selectors.visible_cases` plus
the case list's own filter parameters. So permissions live in one place, and each card's
count is exactly what its "show in case list" link shows.

Cost: a fixed number of queries at any size (the actor's roles and teams, then at most
four bounded queries). Every count stops at HOME_COUNT_CAP + 1 rows, and the filters match
the indexes responsible_user+received_at, team+received_at, status_kind+received_at and
received_at.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language

from leitplanke.accounts.actors import Actor
from leitplanke.processes.selectors import state_labels

from . import list_selectors, permissions
from .models import Case, StatusKind

# The start page counts up to this many cases and shows "1,000+" beyond.
HOME_COUNT_CAP = 1_000
RECENT_LIMIT = 5
RECENT_DAYS = 7
OPEN_KINDS = [StatusKind.OPEN.value, StatusKind.WAITING.value]


@dataclass(frozen=True)
class CaseCount:
    value: int
    capped: bool  # True: at least `value` cases, maybe many more
    url: str  # the case list, filtered to exactly these cases


@dataclass
class HomeCases:
    cap: int = HOME_COUNT_CAP
    my_open: CaseCount | None = None
    my_open_recent: list[Case] = field(default_factory=list)
    team_open: CaseCount | None = None
    team_unassigned: CaseCount | None = None
    received_recently: CaseCount | None = None

    @property
    def any(self) -> bool:
        return any(c is not None for c in (self.my_open, self.team_open, self.team_unassigned, self.received_recently))


def _count(*, actor: Actor, params: dict[str, Any], cap: int) -> CaseCount:
    estimate = list_selectors.case_count_estimate(actor=actor, params=params, cap=cap)
    url = reverse("case_list:list") + "?" + urlencode(params, doseq=True)
    return CaseCount(value=estimate.value, capped=estimate.capped, url=url)


def _status_labels() -> dict[str, str]:
    german = (get_language() or "de").startswith("de")
    return state_labels("de" if german else "en")


def home_cases(*, actor: Actor, cap: int | None = None) -> HomeCases:
    """The start page's case figures for the actor; empty for users who see no cases."""
    cap = HOME_COUNT_CAP if cap is None else cap
    result = HomeCases(cap=cap)
    sees_all = permissions.sees_all(actor)
    if not (sees_all or permissions.sees_team(actor)):
        return result
    if permissions.may_edit_cases(actor):
        mine = {"responsible": [str(actor.pk)], "status_kind": OPEN_KINDS}
        result.my_open = _count(actor=actor, params=mine, cap=cap)
        if result.my_open.value:
            recent = (
                list_selectors.listed_cases(actor=actor, params=mine)
                .only("pk", "reference", "subject", "status", "status_kind", "received_at", "next_due_at", "next_warn_at")
                # next due first (the earliest running deadline); cases without one newest first
                .order_by("next_due_at", "-received_at", "-id")[:RECENT_LIMIT]
            )
            labels = _status_labels()
            result.my_open_recent = list(recent)
            now = timezone.now()
            for case in result.my_open_recent:
                case.status_label = labels.get(case.status, case.status)  # type: ignore[attr-defined]
                case.deadline_mark = (  # type: ignore[attr-defined]
                    "overdue" if case.next_due_at < now else "at_risk" if case.next_warn_at and case.next_warn_at <= now else ""
                )
    if sees_all:
        # Whole days in the current time zone, so the count matches the list's date filter.
        since = timezone.localdate() - dt.timedelta(days=RECENT_DAYS - 1)
        result.received_recently = _count(actor=actor, params={"received_from": since.isoformat()}, cap=cap)
    elif team_ids := permissions.team_ids_of(actor):
        teams = [str(pk) for pk in team_ids]
        result.team_open = _count(actor=actor, params={"team": teams, "status_kind": OPEN_KINDS}, cap=cap)
        result.team_unassigned = _count(
            actor=actor, params={"team": teams, "responsible": ["none"], "status_kind": OPEN_KINDS}, cap=cap
        )
    return result
