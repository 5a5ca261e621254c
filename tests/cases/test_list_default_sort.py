"""Agents' case list shows what is due next first when no sort is asked for; other roles
keep the newest cases first; an explicit sort always wins."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from leitplanke.cases import list_selectors


def test_agents_default_to_next_due_first_others_to_newest_first(make_case, make_user, team_a, complaint_type, client_for):
    complaint_type.deadline_rules = ["internal_first_response"]
    complaint_type.save()
    agent = make_user("agent", teams=[team_a])
    lead = make_user("team_lead", teams=[team_a])
    older = make_case(actor=agent, team=team_a, received_at=timezone.now() - dt.timedelta(days=3))  # due first
    newer = make_case(actor=agent, team=team_a)

    def listed(user, params):
        return [c.pk for c in list_selectors.case_list_page(actor=user, params=params, cursor=None).items]

    assert list_selectors.default_sort(agent) == "due" and list_selectors.default_sort(lead) == "received_desc"
    assert listed(agent, {}) == [older.pk, newer.pk]
    assert listed(lead, {}) == [newer.pk, older.pk]
    assert listed(agent, {"sort": "received_desc"}) == [newer.pk, older.pk]
    assert list_selectors.sort_key({"sort": "nonsense"}, agent) == "due"
    html = client_for(agent).get("/cases/").content.decode()
    assert html.index(older.reference) < html.index(newer.reference)
    html = client_for(lead).get("/cases/").content.decode()
    assert html.index(newer.reference) < html.index(older.reference)
