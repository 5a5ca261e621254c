"""The demo's maturity campaign: three groups with different views, a roadmap, loaded once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from leitplanke.accounts.models import User
from leitplanke.maturity import selectors
from leitplanke.maturity.models import Campaign, Roadmap

pytestmark = pytest.mark.django_db


def test_demo_seed_creates_a_campaign_whose_groups_disagree_and_a_roadmap():
    from leitplanke.demo.maturity import seed_maturity

    call_command("leitplanke_seed", "--cases", "0", stdout=StringIO())
    seed_maturity()  # a second run changes nothing
    campaign = Campaign.objects.get()
    assert campaign.responses.filter(completed_at__isnull=False).count() == 12
    owner = User.objects.get(email="quality@demo.leitplanke.example")
    results = selectors.campaign_results(actor=owner, campaign=campaign)
    shown = {group.key: group for group in results.shown}
    assert set(shown) == {"leadership", "service_team", "other_departments"}
    assert shown["leadership"].result.score > shown["service_team"].result.score
    assert results.gaps, "the groups' views differ, so the campaign shows perception gaps"
    assert Roadmap.objects.filter(campaign=campaign).count() == 1
