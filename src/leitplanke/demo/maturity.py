"""A demo maturity campaign: leadership, the service team and other departments see the
service differently, so the campaign page shows each group's view and the perception gaps,
and a draft roadmap made from it. Created through the services, like the rest of the demo."""

from __future__ import annotations

import random

from django.db import transaction

from leitplanke.accounts.models import User
from leitplanke.maturity import services
from leitplanke.maturity.engine.model import QUESTION_KEYS
from leitplanke.maturity.models import Campaign, Group

CAMPAIGN_NAME = "Service-Reifegrad 2026"
OWNER_EMAIL = "quality@demo.leitplanke.example"
# Per group: how many respond and the weights of answering at level 1, 2 and 3. Leadership
# sees the service further along than the people who do the work.
RESPONSES = {
    Group.LEADERSHIP: (3, (1, 3, 6)),
    Group.SERVICE_TEAM: (5, (5, 4, 1)),
    Group.OTHER_DEPARTMENTS: (4, (4, 5, 1)),
}


def seed_maturity(seed: int = 42) -> None:
    """Creates the demo campaign with its answers and a roadmap (once)."""
    owner = User.objects.filter(email=OWNER_EMAIL).first()
    if owner is None or Campaign.objects.filter(name=CAMPAIGN_NAME).exists():
        return
    rng = random.Random(seed)
    with transaction.atomic():
        campaign = services.campaign_create(
            actor=owner,
            name=CAMPAIGN_NAME,
            description="Wo steht unser Kundenservice? Leitung, Serviceteam und Fachbereiche antworten getrennt.",
        )
        for group, (count, weights) in RESPONSES.items():
            for _ in range(count):
                answers = {key: rng.choices((1, 2, 3), weights=weights)[0] for key in QUESTION_KEYS}
                assessment, _token = services.assessment_start(campaign=campaign, group=group)
                services.assessment_answer(assessment=assessment, answers=answers)
                services.assessment_complete(assessment=assessment)
        services.roadmap_create(actor=owner, title="Roadmap Servicequalität 2027", campaign=campaign)
