"""Demo authority limits (issue 21): what each demo role may decide alone, one person's own
limit and a limit raised by the "Goodwill level 2" qualification (docs/decisions.md, Authority).

Plausible figures, not advice: goodwill is voluntary and limited; redress (putting right a loss
the organisation caused) is owed, so the limits for it are higher. Process owners and auditors
decide nothing on cases: no rows, limit 0. Idempotent (only creates what is missing)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from leitplanke.accounts import services as accounts
from leitplanke.accounts.models import Role, Skill, User
from leitplanke.decisions import authority_services
from leitplanke.decisions.models import AuthorityLimit

# role, kind, per decision, per customer per year (None: no yearly limit)
ROLE_LIMITS = [
    ("agent", "goodwill", "100", "300"),
    ("agent", "redress", "250", None),
    ("team_lead", "goodwill", "1000", "3000"),
    ("team_lead", "redress", "2500", None),
    ("quality_manager", "goodwill", "2500", None),
    ("quality_manager", "redress", "5000", None),
    ("administrator", "goodwill", "5000", None),
    ("administrator", "redress", "10000", None),
]
DEMO_ADMIN = "admin@demo.leitplanke.example"  # the limits are set (and audited) as the demo administrator
QUALIFIED_AGENT = "agent@demo.leitplanke.example"  # holds "Goodwill level 2" (level 2)
OWN_LIMIT_AGENT = "agent.en@demo.leitplanke.example"  # a person limit for card-fee redress


def seed_authority() -> None:
    with transaction.atomic():
        if AuthorityLimit.objects.exists():
            return
        admin = User.objects.filter(email=DEMO_ADMIN).first()
        if admin is None:
            return
        roles = {role.key: role for role in Role.objects.all()}
        for role_key, kind, per_decision, per_year in ROLE_LIMITS:
            if role_key in roles:
                authority_services.authority_limit_create(
                    actor=admin,
                    role=roles[role_key],
                    kind=kind,
                    currency="EUR",
                    per_decision=per_decision,
                    per_customer_year=per_year,
                )
        skill = Skill.objects.filter(key="goodwill_l2").first()
        if skill is not None and "agent" in roles:
            # Agents with "Goodwill level 2" at level 2 may give up to 250 EUR (750 per customer-year).
            authority_services.authority_limit_create(
                actor=admin,
                role=roles["agent"],
                kind="goodwill",
                currency="EUR",
                skill=skill,
                min_level=2,
                per_decision="250",
                per_customer_year="750",
            )
            qualified = User.objects.filter(email=QUALIFIED_AGENT).first()
            if qualified is not None:
                accounts.user_skill_set(
                    actor=admin,
                    user=qualified,
                    skill=skill,
                    level=2,
                    valid_until=timezone.localdate() + dt.timedelta(days=365),
                )
        own = User.objects.filter(email=OWN_LIMIT_AGENT).first()
        if own is not None:
            authority_services.authority_limit_create(
                actor=admin, user=own, kind="redress", currency="EUR", per_decision="500", per_customer_year="1000"
            )
