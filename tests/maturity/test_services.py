"""Services and selectors of the maturity check: answers, completion, consent, campaigns with
anonymity, the recommendation library, roadmaps – each write audited where staff act."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from leitplanke.core.errors import NotFound, PermissionDenied, ValidationFailed
from leitplanke.core.models import AuditEvent
from leitplanke.maturity import links, selectors, services
from leitplanke.maturity.models import Assessment, Campaign, Recommendation, Roadmap, RoadmapItem
from tests.concurrency import in_parallel, shared_database
from tests.maturity.conftest import answers_at

pytestmark = pytest.mark.django_db


def complete(answers: dict[str, int], **start: Any) -> Assessment:
    assessment, _token = services.assessment_start(**start)
    services.assessment_answer(assessment=assessment, answers=answers)
    return services.assessment_complete(assessment=assessment)


# --- answer sets ----------------------------------------------------------------------------


def test_answers_are_kept_across_pages_and_completion_fixes_the_level():
    assessment, token = services.assessment_start(language="en")
    assert links.assessment_for_token(token) == assessment
    services.assessment_answer(assessment=assessment, answers={"vision.role": "3"})
    services.assessment_answer(assessment=assessment, answers={"vision.decisions": 2})
    assessment.refresh_from_db()
    assert assessment.answers == {"vision.role": 3, "vision.decisions": 2}
    with pytest.raises(services.Incomplete) as caught:
        services.assessment_complete(assessment=assessment)
    assert len(caught.value.extra["missing"]) == 18 and caught.value.extra["missing"][0] == "vision.promise"
    services.assessment_answer(assessment=assessment, answers=answers_at(1, vision__role=3, vision__decisions=2))
    done = services.assessment_complete(assessment=assessment)
    assert done.level == 1 and done.completed_at is not None
    with pytest.raises(services.AlreadyCompleted):
        services.assessment_answer(assessment=assessment, answers={"vision.role": 1})


def test_bad_answers_are_refused_by_question_and_nothing_is_saved():
    assessment, _token = services.assessment_start()
    with pytest.raises(ValidationFailed) as caught:
        services.assessment_answer(assessment=assessment, answers={"vision.role": "9", "steering.kpis": 2, "x.y": 1})
    assert set(caught.value.field_errors) == {"vision.role", "x.y"}
    assessment.refresh_from_db()
    assert assessment.answers == {}


def test_anonymous_checks_write_no_audit_event_and_no_personal_data():
    before = AuditEvent.objects.count()
    assessment = complete(answers_at(2))
    assert AuditEvent.objects.count() == before
    assert (assessment.owner_id, assessment.contact_email, assessment.contact_consent_at) == (None, "", None)
    assert len(assessment.token_hash) == 64  # only the hash of the link is stored


def test_in_app_check_is_audited_with_its_owner(make_user):
    user = make_user("agent")
    assessment = complete(answers_at(3), actor=user)
    actions = list(
        AuditEvent.objects.filter(object_type="maturity.assessment", object_id=str(assessment.pk))
        .order_by("id")
        .values_list("action", "actor_id")
    )
    assert actions == [("maturity.check_start", user.pk), ("maturity.check_complete", user.pk)]


def test_contact_details_need_consent_and_never_attach_to_campaign_answers(make_user):
    assessment = complete(answers_at(2))
    with pytest.raises(ValidationFailed) as caught:
        services.assessment_contact(assessment=assessment, name="Erika", email="erika@example.de", consent=False)
    assert "consent" in caught.value.field_errors
    with pytest.raises(ValidationFailed) as caught:
        services.assessment_contact(assessment=assessment, name="Erika", email="not-an-address", consent=True)
    assert "email" in caught.value.field_errors
    saved = services.assessment_contact(assessment=assessment, name="Erika Müller", email="erika@example.de", consent=True)
    assert saved.contact_consent_at is not None and saved.contact_name == "Erika Müller"
    campaign = services.campaign_create(actor=make_user("administrator"), name="Q3")
    response = complete(answers_at(2), campaign=campaign, group="leadership")
    with pytest.raises(PermissionDenied):
        services.assessment_contact(assessment=response, name="A", email="a@example.de", consent=True)


def test_expired_and_manipulated_links():
    assessment, token = services.assessment_start()
    with pytest.raises(NotFound):
        links.assessment_for_token(token[:-1] + ("A" if token[-1] != "A" else "B"))
    with pytest.raises(NotFound):
        links.assessment_for_token("../../etc")
    Assessment.objects.filter(pk=assessment.pk).update(updated_at=timezone.now() - dt.timedelta(days=91))
    with pytest.raises(links.LinkExpired):
        links.assessment_for_token(token)
    assert services.assessments_prune() == 1
    assert not Assessment.objects.filter(pk=assessment.pk).exists()


def test_prune_keeps_campaign_answers_in_app_checks_and_consented_contacts(make_user):
    campaign = services.campaign_create(actor=make_user("administrator"), name="Q3")
    kept = [
        complete(answers_at(2), campaign=campaign, group="leadership"),
        complete(answers_at(2), actor=make_user("agent")),
        services.assessment_contact(assessment=complete(answers_at(2)), name="E", email="e@example.de", consent=True),
    ]
    Assessment.objects.update(updated_at=timezone.now() - dt.timedelta(days=400))
    assert services.assessments_prune() == 0
    assert Assessment.objects.count() == len(kept)


def test_completing_twice_counts_once():
    """A double click or two tabs: the second completion finds the row completed under the lock."""
    assessment, _token = services.assessment_start()
    services.assessment_answer(assessment=assessment, answers=answers_at(2))
    stale = Assessment.objects.get(pk=assessment.pk)  # loaded before the first completion
    first = services.assessment_complete(assessment=assessment)
    second = services.assessment_complete(assessment=stale)
    assert second.completed_at == first.completed_at


@pytest.mark.django_db(transaction=True)
def test_concurrent_completions_and_answers_do_not_double_count(make_user, tmp_path):
    """Two pages of answers and two completions of the same response at once (threads with
    their own connections, on PostgreSQL or a WAL file copy of the SQLite test database)."""
    campaign = services.campaign_create(actor=make_user("administrator"), name="Parallel")
    response, _token = services.assessment_start(campaign=campaign, group="service_team")
    services.assessment_answer(assessment=response, answers=dict(list(answers_at(2).items())[:10]))
    rest = list(answers_at(3).items())[10:]
    halves = [dict(rest[:5]), dict(rest[5:])]

    def work(index: int) -> Any:
        try:
            if index < 2:
                return services.assessment_answer(assessment=response, answers=halves[index])
            return services.assessment_complete(assessment=response)
        except services.Incomplete as error:  # the completion ran before the answers arrived
            return error

    with shared_database(tmp_path):
        in_parallel(work, 4)
        response.refresh_from_db()
        assert len(response.answers) == 20  # neither page's answers were lost
        in_parallel(lambda _index: services.assessment_complete(assessment=response), 3)
        completed_at = Assessment.objects.get(pk=response.pk).completed_at
        results = selectors._campaign_results(Campaign.objects.get(pk=campaign.pk))
        assert [group.responses for group in results.groups] == [0, 1, 0]
        assert completed_at is not None and Assessment.objects.get(pk=response.pk).completed_at == completed_at


# --- campaigns ------------------------------------------------------------------------------


def test_campaign_results_hide_small_groups_and_leave_them_out_of_the_overall(make_user):
    admin = make_user("administrator")
    campaign = services.campaign_create(actor=admin, name="Herbst", min_group_size=3)
    for _ in range(3):
        complete(answers_at(3), campaign=campaign, group="leadership")
    for _ in range(3):
        complete(answers_at(1, vision__role=2), campaign=campaign, group="service_team")
    complete(answers_at(1), campaign=campaign, group="other_departments")  # alone: hidden
    complete(answers_at(2), campaign=campaign, group="other_departments")
    results = selectors.campaign_results(actor=make_user("team_lead"), campaign=campaign)
    by_key = {group.key: group for group in results.groups}
    assert by_key["other_departments"].responses == 2 and by_key["other_departments"].result is None
    assert by_key["leadership"].result.level == 3 and by_key["service_team"].result.level == 1
    # The overall view is the mean of the six shown answer sets only.
    assert results.overall.dimension("steering").score == 2
    assert {gap.dimension for gap in results.gaps} == set(results.overall.scores())
    assert all(gap.higher_group == "leadership" for gap in results.gaps)


def test_campaign_results_need_the_view_capability(make_user):
    campaign = services.campaign_create(actor=make_user("quality_manager"), name="X")
    for role in ("team_lead", "process_owner", "auditor", "quality_manager", "administrator"):
        selectors.campaign_results(actor=make_user(role), campaign=campaign)
    with pytest.raises(PermissionDenied):
        selectors.campaign_results(actor=make_user("agent"), campaign=campaign)


@pytest.mark.parametrize("role", ["agent", "team_lead", "process_owner", "auditor"])
def test_only_managers_change_campaigns(make_user, role):
    with pytest.raises(PermissionDenied):
        services.campaign_create(actor=make_user(role), name="Nope")


def test_campaign_lifecycle_is_audited_and_closes_its_links(make_user):
    admin = make_user("administrator")
    campaign = services.campaign_create(actor=admin, name="Frühjahr", description="Alle Teams")
    token = links.invitation_token(campaign, "leadership")
    assert links.campaign_for_invitation(token) == (campaign, "leadership")
    with pytest.raises(NotFound):
        links.campaign_for_invitation(token[:-2] + "xx")
    services.campaign_renew_links(actor=admin, campaign=campaign)
    with pytest.raises(links.LinkExpired):
        links.campaign_for_invitation(token)
    campaign.refresh_from_db()
    fresh = links.invitation_token(campaign, "service_team")
    services.campaign_update(actor=admin, campaign=campaign, name="Frühjahr 2026", min_group_size=4)
    services.campaign_close(actor=admin, campaign=campaign)
    with pytest.raises(links.LinkExpired):
        links.campaign_for_invitation(fresh)
    actions = list(AuditEvent.objects.filter(object_type="maturity.campaign").order_by("id").values_list("action", flat=True))
    assert actions == [
        "maturity.campaign_create",
        "maturity.campaign_renew_links",
        "maturity.campaign_update",
        "maturity.campaign_close",
    ]
    with pytest.raises(ValidationFailed) as caught:
        services.campaign_update(actor=admin, campaign=campaign, min_group_size=1)
    assert "min_group_size" in caught.value.field_errors


def test_answers_to_a_closed_campaign_are_refused(make_user):
    admin = make_user("administrator")
    campaign = services.campaign_create(actor=admin, name="Kurz")
    response, _token = services.assessment_start(campaign=campaign, group="leadership")
    services.campaign_close(actor=admin, campaign=campaign)
    with pytest.raises(links.LinkExpired):
        services.assessment_answer(assessment=response, answers={"vision.role": 2})
    with pytest.raises(links.LinkExpired):
        services.assessment_start(campaign=campaign, group="leadership")


# --- recommendation library -----------------------------------------------------------------

RULE = {
    "key": "custom.rule",
    "dimension": "planning",
    "levels": [1, 2],
    "tension": "",
    "horizon": "quick_win",
    "title_de": "Planungsrunde einführen",
    "title_en": "Start a planning round",
    "text_de": "Einmal im Monat.",
    "text_en": "Once a month.",
    "owner_de": "Leitung",
    "owner_en": "Head",
    "indicator_de": "Runden pro Quartal",
    "indicator_en": "Rounds per quarter",
    "kpi": "",
    "priority": 1,
    "is_active": True,
}


def test_library_is_shipped_and_edits_are_audited_and_used(make_user):
    assert Recommendation.objects.count() >= 38
    manager = make_user("quality_manager")
    rule = services.recommendation_create(actor=manager, **RULE)
    services.recommendation_update(actor=manager, recommendation=rule, title_en="Start a monthly planning round")
    actions = list(
        AuditEvent.objects.filter(object_type="maturity.recommendation").order_by("id").values_list("action", flat=True)
    )
    assert actions == ["maturity.recommendation_create", "maturity.recommendation_update"]
    keys = [r.key for r in selectors.recommendation_rules()]
    assert "custom.rule" in keys
    with pytest.raises(PermissionDenied):
        services.recommendation_update(actor=make_user("auditor"), recommendation=rule, title_en="x")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"levels": [4]}, "levels"),
        ({"levels": []}, "levels"),
        ({"tension": "goals_without_roadmap"}, "dimension"),
        ({"dimension": "", "tension": ""}, "dimension"),
        ({"horizon": "someday"}, "horizon"),
        ({"key": "Bad Key"}, "key"),
        ({"title_de": "x\x00y"}, "title_de"),
        ({"text_en": "x" * 1001}, "text_en"),
        ({"kpi": "nps"}, "kpi"),
    ],
)
def test_library_input_is_checked(make_user, change, field):
    with pytest.raises(ValidationFailed) as caught:
        services.recommendation_create(actor=make_user("administrator"), **{**RULE, **change})
    assert field in caught.value.field_errors


# --- roadmaps -------------------------------------------------------------------------------


def test_roadmap_is_drafted_from_a_check_and_edited(make_user):
    manager = make_user("quality_manager")
    check = complete(answers_at(1, steering__goals=3), actor=manager)
    roadmap = services.roadmap_create(actor=manager, title="Plan 2026", assessment=check, language="de")
    items = list(roadmap.items.all())
    assert [item.quarter for item in items] == [1, 1, 1, 1, 2, 2, 3, 3, 4, 4]
    assert all(item.owner and item.goal and item.indicator for item in items)
    assert items[0].title == "Die Ziele in eine Roadmap übersetzen"  # the answer to the tension comes first
    assert set(roadmap.baseline["scores"]) == {"vision", "steering", "planning", "organisation", "engagement", "technology"}
    assert set(roadmap.baseline["kpis"]) == {"case_volume", "closure_median_days", "reopen_rate", "category_share"}
    item = services.roadmap_item_create(
        actor=manager,
        roadmap=roadmap,
        quarter=2,
        horizon="project",
        title="CRM anbinden",
        goal="Daten fließen",
        owner="IT",
        indicator="Übertragungen von Hand",
        kpi="",
        status="planned",
    )
    services.roadmap_item_update(actor=manager, item=item, status="in_progress", quarter=3)
    services.roadmap_item_delete(actor=manager, item=items[0])
    assert RoadmapItem.objects.filter(roadmap=roadmap).count() == 10
    actions = set(AuditEvent.objects.filter(action__startswith="maturity.roadmap").values_list("action", flat=True))
    assert actions == {
        "maturity.roadmap_create",
        "maturity.roadmap_item_create",
        "maturity.roadmap_item_update",
        "maturity.roadmap_item_delete",
    }
    with pytest.raises(ValidationFailed) as caught:
        services.roadmap_item_update(actor=manager, item=item, quarter=5)
    assert "quarter" in caught.value.field_errors


def test_roadmaps_need_manage_and_a_result(make_user):
    manager = make_user("administrator")
    open_check, _token = services.assessment_start(actor=manager)
    with pytest.raises(PermissionDenied):
        services.roadmap_create(actor=make_user("team_lead"), title="x", assessment=open_check)
    with pytest.raises(Exception) as caught:
        services.roadmap_create(actor=manager, title="x", assessment=open_check)
    assert caught.type.__name__ == "Incomplete"
    assert Roadmap.objects.count() == 0


def test_in_app_checks_are_seen_by_owner_and_viewers_only(make_user):
    owner, other, lead = make_user("agent"), make_user("agent"), make_user("team_lead")
    check = complete(answers_at(2), actor=owner)
    assert selectors.check_get(actor=owner, assessment_id=check.pk) == check
    assert selectors.check_get(actor=lead, assessment_id=check.pk) == check
    with pytest.raises(NotFound):
        selectors.check_get(actor=other, assessment_id=check.pk)
    with pytest.raises(NotFound):
        selectors.own_check_get(actor=lead, assessment_id=check.pk)
