"""A person's authority rows, qualifications and team ids are kept per process and reference
generation (core.refcache, ADR 0004): every change of a limit, a qualification, a skill, a
role assignment or a team membership changes the generation in its own transaction, so the
next decision — in this process or any other — decides with the new limits, and a change
that rolled back leaves nothing behind."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from leitplanke.accounts import services as accounts
from leitplanke.accounts.models import Role, Skill
from leitplanke.cases import permissions as case_permissions
from leitplanke.core import refcache
from leitplanke.core.models import ReferenceGeneration
from leitplanke.decisions import authority_services, record_services
from leitplanke.decisions.authority_selectors import authority_for
from leitplanke.decisions.models import AuthorityLimit

pytestmark = pytest.mark.django_db


def _generation() -> int:
    return ReferenceGeneration.objects.get(pk=refcache.ROW_ID).value


def _decide(agent: Any, case: Any, amount: str) -> Any:
    return record_services.decision_record(actor=agent, case=case, kind="goodwill", amount=amount, currency="EUR")


def _fresh(user: Any) -> Any:
    """The user as the next request loads it (nothing cached on the object)."""
    return type(user).objects.get(pk=user.pk)


def test_the_rows_are_read_once_per_generation(agent: Any, customer: Any) -> None:
    authority_for(user=agent, kind="goodwill", currency="EUR", customer=customer)
    with CaptureQueriesContext(connection) as queries:
        view = authority_for(user=agent, kind="goodwill", currency="EUR", customer=customer, used=Decimal("0"))
    assert view.per_decision == Decimal("100")
    # Outside a request only the generation is read (the customer's year was given).
    assert [q["sql"] for q in queries.captured_queries] == [refcache.GENERATION_SQL % refcache.ROW_ID]


def test_a_lowered_limit_applies_to_the_next_decision(
    tables: Any, complaint: Any, agent: Any, lead: Any, admin_user: Any
) -> None:
    assert _decide(agent, complaint, "50.00").status == "final"
    limit = AuthorityLimit.objects.get(role__key="agent", kind="goodwill")
    authority_services.authority_limit_update(
        actor=admin_user, limit=limit, role=limit.role, kind="goodwill", currency="EUR", per_decision="10"
    )
    record = _decide(_fresh(agent), complaint, "50.00")
    assert record.status == "pending" and record.authority["over"] == ["over_per_decision"]
    assert record.authority["per_decision"] == "10.00"


def test_a_new_person_limit_and_its_deletion_apply_at_once(
    tables: Any, complaint: Any, agent: Any, lead: Any, admin_user: Any
) -> None:
    own = authority_services.authority_limit_create(
        actor=admin_user, user=agent, kind="goodwill", currency="EUR", per_decision="500"
    )
    record = _decide(_fresh(agent), complaint, "300.00")
    assert record.status == "final" and record.authority["level"] == "person"
    authority_services.authority_limit_delete(actor=admin_user, limit=own)
    assert _decide(_fresh(agent), complaint, "300.00").status == "pending"


def test_a_qualification_gained_or_lost_applies_to_the_next_decision(
    tables: Any, complaint: Any, agent: Any, lead: Any, admin_user: Any
) -> None:
    skill = Skill.objects.create(key="goodwill_l2", name_en="Goodwill level 2", name_de="Kulanz Stufe 2")
    authority_services.authority_limit_create(
        actor=admin_user, role=Role.objects.get(key="agent"), kind="goodwill", currency="EUR",
        skill=skill, min_level=2, per_decision="250",
    )  # fmt: skip
    assert _decide(_fresh(agent), complaint, "200.00").status == "pending"  # not held yet
    accounts.user_skill_set(
        actor=admin_user, user=agent, skill=skill, level=2, valid_until=dt.date.today() + dt.timedelta(days=30)
    )
    assert _decide(_fresh(agent), complaint, "200.00").status == "final"
    accounts.user_skill_set(actor=admin_user, user=agent, skill=skill, level=1)  # lowered below the minimum
    assert _decide(_fresh(agent), complaint, "200.00").status == "pending"


def test_a_role_taken_away_takes_its_limit_with_it(tables: Any, complaint: Any, agent: Any, lead: Any) -> None:
    assert _decide(agent, complaint, "50.00").status == "final"
    agent.roles.remove(Role.objects.get(key="agent"))
    agent.roles.add(Role.objects.get(key="quality_manager"))  # still edits cases; 1,000 EUR
    assert _decide(_fresh(agent), complaint, "500.00").status == "final"


def test_a_limit_changed_by_another_process_is_seen_by_the_next_decision(
    tables: Any, complaint: Any, agent: Any, lead: Any
) -> None:
    """Another process writes the row and the generation in one transaction; no signal here."""
    assert _decide(agent, complaint, "50.00").status == "final"
    AuthorityLimit.objects.filter(role__key="agent", kind="goodwill").update(per_decision=Decimal("10"))  # no signal
    assert _decide(_fresh(agent), complaint, "50.00").status == "final"  # generation unchanged: still cached
    ReferenceGeneration.objects.filter(pk=refcache.ROW_ID).update(value=987654321)
    assert _decide(_fresh(agent), complaint, "50.00").status == "pending"


@pytest.mark.parametrize("change", ["limit", "qualification", "skill", "membership"])
def test_the_generation_moves_in_the_writing_transaction(change: str, agent: Any, admin_user: Any, team: Any) -> None:
    """Committed together with the change, rolled back with it: a cache filled under the
    rolled-back generation is never taken for current by anyone."""
    skill = Skill.objects.create(key="s1", name_en="S1", name_de="S1")
    limit = AuthorityLimit.objects.get(role__key="agent", kind="goodwill")
    other_team = type(team).objects.create(name="Other")
    writes = {
        "limit": lambda: authority_services.authority_limit_update(
            actor=admin_user, limit=limit, role=limit.role, kind="goodwill", currency="EUR", per_decision="10"
        ),
        "qualification": lambda: accounts.user_skill_set(actor=admin_user, user=agent, skill=skill, level=2),
        "skill": lambda: Skill.objects.filter(pk=skill.pk).get().save(),
        "membership": lambda: agent.teams.add(other_team),
    }
    before = _generation()
    with pytest.raises(RuntimeError), transaction.atomic():
        writes[change]()
        assert _generation() != before  # inside the writing transaction
        raise RuntimeError("roll back")
    assert _generation() == before
    writes[change]()
    assert _generation() != before


def test_a_new_team_membership_is_seen_at_once(agent: Any, make_case: Any, admin_user: Any) -> None:
    other = type(agent.teams.first()).objects.create(name="Cards")
    case = make_case(actor=None, team=other)
    assert other.pk not in case_permissions.team_ids_of(_fresh(agent))
    agent.teams.add(other)
    assert other.pk in case_permissions.team_ids_of(_fresh(agent))
    assert _decide(_fresh(agent), case, "0").status == "final"
