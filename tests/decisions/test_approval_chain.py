"""Routing up the team hierarchy: the pure chain order (`lead_chain`), the routing that walks
it (decider's team lead → parent team's lead → … → other leads → administrators), and the
team services that keep the hierarchy free of cycles."""

from __future__ import annotations

import pytest
from django.utils import timezone

from leitplanke.accounts import services as account_services
from leitplanke.accounts.models import Absence, Team
from leitplanke.core.errors import ValidationFailed
from leitplanke.core.models import AuditEvent
from leitplanke.decisions import approval_services as services
from leitplanke.decisions.approval_services import lead_chain
from leitplanke.decisions.models import RecordStatus

from .conftest import make_record, role_limit, user_limit

# --- the pure chain order ------------------------------------------------------------------


def test_chain_walks_up_from_the_team_to_the_top():
    parents = {1: 2, 2: 3, 3: None}
    leads = {1: 10, 2: 20, 3: 30}
    assert lead_chain([1], parents, leads) == [10, 20, 30]


def test_chain_passes_over_a_team_without_lead_but_keeps_walking():
    parents = {1: 2, 2: 3, 3: None}
    leads = {1: 10, 2: None, 3: 30}
    assert lead_chain([1], parents, leads) == [10, 30]


def test_chain_names_each_person_once_across_several_starting_teams():
    # Team 1 and team 4 both sit under team 3; the decider belongs to both.
    parents = {1: 3, 4: 3, 3: None}
    leads = {1: 10, 4: 40, 3: 30}
    assert lead_chain([1, 4], parents, leads) == [10, 30, 40]


def test_chain_ends_at_a_cycle_instead_of_looping():
    parents = {1: 2, 2: 1}
    leads = {1: 10, 2: 20}
    assert lead_chain([1], parents, leads) == [10, 20]


def test_chain_of_nothing_is_empty():
    assert lead_chain([], {}, {}) == []
    assert lead_chain([7], {}, {}) == []  # an unknown team: nobody


# --- routing over the database -------------------------------------------------------------


@pytest.fixture
def hierarchy(setup, make_user):
    """Billing (lead: setup's lead, 1,000 EUR) under Customer service (its lead may give
    5,000 EUR) under Board (its lead 20,000 EUR); another lead elsewhere."""
    top_lead = make_user("team_lead")
    middle_lead = make_user("team_lead")
    board = Team.objects.create(name="Board", lead=top_lead)
    service = Team.objects.create(name="Customer service", lead=middle_lead, parent=board)
    Team.objects.filter(pk=setup["team"].pk).update(parent=service)
    user_limit(middle_lead, 5000)
    user_limit(top_lead, 20000)
    make_user("team_lead")  # a lead outside the hierarchy (asked only after it)
    return {**setup, "middle_lead": middle_lead, "top_lead": top_lead}


def _open(h, amount):
    record = make_record(h["case"], h["agent"], amount, status=RecordStatus.PENDING, team=h["team"])
    return services.approval_request_open(record=record, reasons=["above_authority"], actor=h["agent"])


def test_within_the_team_lead_authority_the_team_lead_is_asked(hierarchy):
    assert _open(hierarchy, 250).approver == hierarchy["lead"]


def test_above_the_team_lead_the_parent_team_lead_is_asked(hierarchy):
    assert _open(hierarchy, 3000).approver == hierarchy["middle_lead"]


def test_above_the_parent_lead_the_top_lead_is_asked(hierarchy):
    assert _open(hierarchy, 12000).approver == hierarchy["top_lead"]


def test_an_absent_parent_lead_is_passed_over_for_the_next_one_up(hierarchy):
    day = timezone.localdate()
    Absence.objects.create(user=hierarchy["middle_lead"], starts_on=day, ends_on=day)
    assert _open(hierarchy, 3000).approver == hierarchy["top_lead"]


def test_the_decider_in_the_chain_is_skipped(hierarchy, make_user):
    """The team lead decides above their own authority: the parent team's lead is asked."""
    record = make_record(hierarchy["case"], hierarchy["lead"], 3000, status=RecordStatus.PENDING, team=hierarchy["team"])
    approval = services.approval_request_open(record=record, reasons=["above_authority"], actor=hierarchy["lead"])
    assert approval.approver == hierarchy["middle_lead"]


def test_beyond_the_hierarchy_administrators_are_asked(hierarchy, make_user):
    admin = make_user("administrator")
    role_limit("administrator", 100_000)
    assert _open(hierarchy, 50_000).approver == admin


# --- the team services keep the hierarchy sound --------------------------------------------


def test_a_team_cannot_sit_under_itself_or_a_team_under_it(db, make_user):
    admin = make_user("administrator")
    top = account_services.team_create(actor=admin, name="Top")
    middle = account_services.team_create(actor=admin, name="Middle", parent=top)
    bottom = account_services.team_create(actor=admin, name="Bottom", parent=middle)
    for parent in (top, bottom):
        with pytest.raises(ValidationFailed) as refused:
            account_services.team_update(actor=admin, team=top, parent=parent)
        assert "parent" in refused.value.field_errors
    top.refresh_from_db()
    assert top.parent_id is None


def test_moving_a_team_under_another_is_audited(db, make_user):
    admin = make_user("administrator")
    top = account_services.team_create(actor=admin, name="Top")
    team = account_services.team_create(actor=admin, name="Billing")
    account_services.team_update(actor=admin, team=team, parent=top)
    event = AuditEvent.objects.filter(action="team.update").latest("id")
    assert event.before == {"parent": None} and event.after == {"parent": top.pk}


@pytest.mark.django_db(transaction=True)
def test_two_edits_that_would_close_a_cycle_together_cannot_both_pass(make_user, tmp_path):
    """A under B and B under A at the same moment: one is saved, the other refused."""
    from tests.concurrency import in_parallel, shared_database
    from tests.conftest import ensure_default_roles

    ensure_default_roles()
    admin = make_user("administrator")
    a = account_services.team_create(actor=admin, name="A")
    b = account_services.team_create(actor=admin, name="B")

    def work(index: int) -> str:
        from django.db import connection

        try:
            team, parent = (a, b) if index == 0 else (b, a)
            account_services.team_update(actor=admin, team=team, parent=parent)
            return "saved"
        except ValidationFailed:
            return "refused"
        finally:
            connection.close()

    with shared_database(tmp_path):
        assert sorted(in_parallel(work, 2)) == ["refused", "saved"]
        parents = dict(Team.objects.filter(pk__in=[a.pk, b.pk]).values_list("pk", "parent_id"))
        assert sorted(parents.values(), key=lambda v: v or 0) in ([None, a.pk], [None, b.pk])


def test_settings_team_form_sets_the_parent_and_shows_a_refused_cycle(db, make_user, client_for):
    admin = make_user("administrator")
    top = account_services.team_create(actor=admin, name="Top")
    team = account_services.team_create(actor=admin, name="Billing")
    client = client_for(admin)
    page = client.get(f"/settings/teams/{team.pk}/").content.decode()
    assert 'name="parent"' in page and f'<option value="{team.pk}"' not in page.split('name="parent"')[1].split("</select>")[0]
    form = {"name": "Billing", "description": "", "email": "", "lead": "", "members": [], "is_active": "on"}
    assert client.post(f"/settings/teams/{team.pk}/", {**form, "parent": top.pk}).status_code == 302
    assert Team.objects.get(pk=team.pk).parent_id == top.pk
    assert "Top" in client.get("/settings/teams/").content.decode()
    # Top under Billing would close a cycle: refused in the form, what was chosen kept.
    response = client.post(f"/settings/teams/{top.pk}/", {**form, "name": "Top", "parent": team.pk})
    assert response.status_code == 400
    assert "A team cannot sit under itself or a team under it." in response.content.decode()
    assert Team.objects.get(pk=top.pk).parent_id is None
