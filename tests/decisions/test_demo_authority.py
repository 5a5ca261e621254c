"""The demo's authority limits: role limits, a person's own limit, a qualification that raises."""

from __future__ import annotations

from decimal import Decimal

from leitplanke.accounts.models import User
from leitplanke.decisions.authority_selectors import authority_for
from leitplanke.decisions.models import AuthorityLimit
from leitplanke.demo.authority import seed_authority
from leitplanke.demo.seed import seed_organisation
from tests.conftest import ensure_default_roles


def test_demo_limits(db):
    ensure_default_roles()
    seed_organisation()
    seed_authority()
    count = AuthorityLimit.objects.count()
    seed_authority()  # idempotent
    assert AuthorityLimit.objects.count() == count

    def limit(email, kind):
        return authority_for(user=User.objects.get(email=email), kind=kind, currency="EUR")

    jonas = limit("agent@demo.leitplanke.example", "goodwill")  # holds Goodwill level 2
    assert (jonas.per_decision, jonas.per_customer_year, jonas.raised) == (Decimal(250), Decimal(750), True)
    emily = limit("agent.en@demo.leitplanke.example", "goodwill")
    assert (emily.per_decision, emily.per_customer_year, emily.raised) == (Decimal(100), Decimal(300), False)
    assert limit("agent.en@demo.leitplanke.example", "redress").per_decision == Decimal(500)  # her own limit
    assert limit("agent.en@demo.leitplanke.example", "redress").level == "person"
    assert limit("lead@demo.leitplanke.example", "goodwill").per_decision == Decimal(1000)
    assert limit("process@demo.leitplanke.example", "goodwill").per_decision == 0


def test_demo_teams_form_two_levels_and_approvals_go_up_them(db):
    from leitplanke.accounts.models import Team
    from leitplanke.demo.seed import DEMO_PARENT_TEAM

    ensure_default_roles()
    seed_organisation()
    seed_organisation()  # idempotent
    top = Team.objects.get(name=DEMO_PARENT_TEAM)
    assert top.parent_id is None
    assert set(Team.objects.filter(parent=top).values_list("name", flat=True)) == {"Energie-Service", "Zahlungsdienste"}
    assert top.lead is not None and top.lead.email == "quality@demo.leitplanke.example"
