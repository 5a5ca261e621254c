"""The maturity pages inside the app, per role: the in-app check with evidence and change,
campaigns, roadmaps with live figures and exports, and the recommendation library."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leitplanke.cases import services as case_services
from leitplanke.cases.kpi_selectors import case_kpis
from leitplanke.cases.models import Category
from leitplanke.maturity import services
from leitplanke.maturity.models import Assessment, Campaign, Recommendation, Roadmap
from tests.maturity.conftest import answers_at

pytestmark = pytest.mark.django_db
ROLES = ["agent", "team_lead", "process_owner", "quality_manager", "administrator", "auditor"]
VIEWERS = {"team_lead", "process_owner", "quality_manager", "administrator", "auditor"}
MANAGERS = {"quality_manager", "administrator"}


def completed_check(user, answers=None):
    assessment, _token = services.assessment_start(actor=user)
    services.assessment_answer(assessment=assessment, answers=answers or answers_at(2))
    return services.assessment_complete(assessment=assessment)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_can_take_the_check_inside_the_app(make_user, client_for, role):
    user = make_user(role)
    client = client_for(user)
    index = client.get("/maturity/")
    assert index.status_code == 200
    assert ('href="/maturity/campaigns/"' in index.content.decode()) == (role in VIEWERS)
    started = client.post("/maturity/checks/new/")
    check = Assessment.objects.get(owner=user)
    assert started["Location"] == f"/maturity/checks/{check.pk}/page/1/"
    client.post(f"/maturity/checks/{check.pk}/page/1/", {f"q-{k}": v for k, v in answers_at(2).items()})
    assert client.post(f"/maturity/checks/{check.pk}/review/")["Location"] == f"/maturity/checks/{check.pk}/"
    result = client.get(f"/maturity/checks/{check.pk}/")
    assert result.status_code == 200 and 'data-testid="evidence"' in result.content.decode()
    assert ('name="check"' in result.content.decode()) == (role in MANAGERS)
    assert client.get(f"/maturity/checks/{check.pk}/report.pdf")["Content-Type"] == "application/pdf"


def test_nobody_answers_or_reads_someone_elses_check_without_view_rights(make_user, client_for):
    owner, other = make_user("agent"), make_user("agent")
    started, _token = services.assessment_start(actor=owner)
    done = completed_check(owner)
    client = client_for(other)
    assert client.get(f"/maturity/checks/{started.pk}/page/1/").status_code == 404
    assert client.post(f"/maturity/checks/{started.pk}/page/1/", {"q-vision.role": "1"}).status_code == 404
    assert client.get(f"/maturity/checks/{done.pk}/").status_code == 404
    assert client_for(make_user("auditor")).get(f"/maturity/checks/{done.pk}/").status_code == 200
    assert client_for(make_user("auditor")).get(f"/maturity/checks/{started.pk}/page/1/").status_code == 404


def test_the_check_shows_change_since_the_previous_one(make_user, client_for):
    user = make_user("quality_manager")
    completed_check(user, answers_at(1))
    second = completed_check(user, answers_at(1, vision__role=3, vision__decisions=3, vision__promise=3))
    body = client_for(user).get(f"/maturity/checks/{second.pk}/").content.decode()
    assert 'data-testid="changes"' in body and "delta-up" in body and "+2.0" in body


def test_anonymous_visitors_are_sent_to_login(client):
    assert client.get("/maturity/")["Location"].startswith("/accounts/login/")
    assert client.get("/settings/maturity/recommendations/")["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", ROLES)
def test_campaign_pages_per_role(make_user, client_for, role):
    campaign = services.campaign_create(actor=make_user("administrator"), name="Q3-Befragung")
    client = client_for(make_user(role))
    expected_view = 200 if role in VIEWERS else 403
    assert client.get("/maturity/campaigns/").status_code == expected_view
    assert client.get(f"/maturity/campaigns/{campaign.pk}/").status_code == expected_view
    expected_manage = 200 if role in MANAGERS else 403
    assert client.get("/maturity/campaigns/new/").status_code == expected_manage
    created = client.post("/maturity/campaigns/new/", {"name": "Neu", "min_group_size": "3"})
    assert created.status_code == (302 if role in MANAGERS else 403)
    closed = client.post(f"/maturity/campaigns/{campaign.pk}/close/")
    assert closed.status_code == (302 if role in MANAGERS else 403)
    campaign.refresh_from_db()
    assert (campaign.status == Campaign.Status.CLOSED) == (role in MANAGERS)


def test_campaign_page_shows_groups_side_by_side_and_hides_small_groups(make_user, client_for):
    admin = make_user("administrator")
    campaign = services.campaign_create(actor=admin, name="Herbst")
    for group, level, count in (("leadership", 3, 3), ("service_team", 1, 3), ("other_departments", 2, 1)):
        for _ in range(count):
            response, _token = services.assessment_start(campaign=campaign, group=group)
            services.assessment_answer(assessment=response, answers=answers_at(level))
            services.assessment_complete(assessment=response)
    body = client_for(admin).get(f"/maturity/campaigns/{campaign.pk}/").content.decode()
    assert 'data-testid="hidden-other_departments"' in body
    assert 'data-testid="gaps"' in body
    assert 'radar-series series-2"' in body and 'radar-series series-3"' not in body  # two groups shown
    assert "/check/invitation/" in body
    pdf = client_for(admin).get(f"/maturity/campaigns/{campaign.pk}/report.pdf")
    assert pdf["Content-Type"] == "application/pdf"


def test_campaign_form_errors_keep_the_input(make_user, client_for):
    client = client_for(make_user("administrator"))
    response = client.post("/maturity/campaigns/new/", {"name": "Mit Fehler", "min_group_size": "1"})
    assert response.status_code == 400 and 'value="Mit Fehler"' in response.content.decode()
    response = client.post("/maturity/campaigns/new/", {"name": "x\x00y", "min_group_size": "3"})
    assert response.status_code == 400
    assert Campaign.objects.count() == 0


def test_roadmap_from_a_check_with_live_figures_and_exports(make_user, client_for):
    manager = make_user("quality_manager")
    check = completed_check(manager, answers_at(1))
    client = client_for(manager)
    created = client.post("/maturity/roadmaps/new/", {"check": str(check.pk), "title": '=HYPERLINK("http://evil")'})
    roadmap = Roadmap.objects.get()
    assert created["Location"] == f"/maturity/roadmaps/{roadmap.pk}/"
    page = client.get(f"/maturity/roadmaps/{roadmap.pk}/").content.decode()
    assert 'data-testid="quarter-1"' in page
    assert 'data-testid="kpi-reopen_rate"' in page  # the quality-figures quick win links the live reopen rate
    item = roadmap.items.first()
    edited = client.post(
        f"/maturity/roadmaps/{roadmap.pk}/items/{item.pk}/",
        {
            "quarter": "2",
            "horizon": "quick_win",
            "title": "@SUM(1+1)",
            "goal": "-2+3",
            "owner": "+Team",
            "indicator": "=1",
            "kpi": "",
            "dimension": "",
            "status": "in_progress",
        },
    )
    assert edited.status_code == 302
    exported = client.get(f"/maturity/roadmaps/{roadmap.pk}/roadmap.csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    edited_row = next(row for row in rows if "SUM" in row[3])
    assert edited_row[3:7] == ["'@SUM(1+1)", "'-2+3", "'+Team", "'=1"]
    assert client.get(f"/maturity/roadmaps/{roadmap.pk}/roadmap.pdf")["Content-Type"] == "application/pdf"
    bad = client.post(f"/maturity/roadmaps/{roadmap.pk}/items/new/", {"quarter": "9", "title": "Ohne Ziel"})
    assert bad.status_code == 400 and 'value="Ohne Ziel"' in bad.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_roadmap_pages_per_role(make_user, client_for, role):
    manager = make_user("administrator")
    roadmap = services.roadmap_create(actor=manager, title="Plan", assessment=completed_check(manager))
    item = roadmap.items.first()
    client = client_for(make_user(role))
    assert client.get(f"/maturity/roadmaps/{roadmap.pk}/").status_code == (200 if role in VIEWERS else 403)
    assert client.get(f"/maturity/roadmaps/{roadmap.pk}/roadmap.csv").status_code == (200 if role in VIEWERS else 403)
    deleted = client.post(f"/maturity/roadmaps/{roadmap.pk}/items/{item.pk}/delete/")
    assert deleted.status_code == (302 if role in MANAGERS else 403)
    assert roadmap.items.filter(pk=item.pk).exists() == (role not in MANAGERS)


@pytest.mark.parametrize("role", ROLES)
def test_recommendation_library_is_for_managers(make_user, client_for, role):
    client = client_for(make_user(role))
    recommendation = Recommendation.objects.order_by("id").first()
    expected = 200 if role in MANAGERS else 403
    assert client.get("/settings/maturity/recommendations/").status_code == expected
    assert client.get(f"/settings/maturity/recommendations/{recommendation.pk}/").status_code == expected
    if role in MANAGERS:
        index = client.get("/settings/").content.decode()
        assert "/settings/maturity/recommendations/" in index


def test_recommendation_edit_keeps_input_on_error_and_saves(make_user, client_for):
    client = client_for(make_user("administrator"))
    recommendation = Recommendation.objects.get(key="planning.roadmap")
    data = {
        "key": recommendation.key,
        "dimension": "planning",
        "levels": ["1"],
        "tension": "",
        "horizon": "project",
        "title_de": "Roadmap aufstellen",
        "title_en": "Set up a roadmap",
        "text_de": "Text",
        "text_en": "Text",
        "owner_de": "Leitung",
        "owner_en": "Head",
        "indicator_de": "Roadmap",
        "indicator_en": "Roadmap",
        "kpi": "",
        "priority": "5",
        "is_active": "on",
    }
    bad = client.post(f"/settings/maturity/recommendations/{recommendation.pk}/", {**data, "tension": "roadmap_without_budget"})
    assert bad.status_code == 400 and 'value="Roadmap aufstellen"' in bad.content.decode()
    assert client.post(f"/settings/maturity/recommendations/{recommendation.pk}/", data).status_code == 302
    recommendation.refresh_from_db()
    assert recommendation.title_de == "Roadmap aufstellen" and recommendation.priority == 5


def test_navigation_links_to_the_check(make_user, client_for):
    body = client_for(make_user("agent")).get("/").content.decode()
    assert 'href="/maturity/"' in body


# --- live figures ---------------------------------------------------------------------------


def test_case_kpis_count_the_cohort_and_take_constant_queries(make_user):
    admin = make_user("administrator")
    category = Category.objects.create(key="kpi-test-billing", name_de="Abrechnung", name_en="Billing", path="x/")

    def make(n: int, *, categorised: bool, close: bool, reopen: bool = False) -> None:
        for _ in range(n):
            case = case_services.case_create(
                actor=admin,
                case_type="complaint",
                subject="Zähler",
                channel="web_form",
                category=category if categorised else None,
            )
            if close:
                case = case_services.case_transition(actor=admin, case=case, transition="resolve")
                closing = {"outcome": "upheld", "root_cause": "billing", "resolution_summary": "Korrigiert."}
                case = case_services.case_transition(actor=admin, case=case, transition="close", fields=closing)
            if reopen:
                case = case_services.case_transition(actor=admin, case=case, transition="reopen")
                case = case_services.case_transition(actor=admin, case=case, transition="resolve")
                case_services.case_transition(actor=admin, case=case, transition="close")

    make(2, categorised=True, close=True)
    since, until = timezone.now() - dt.timedelta(days=1), timezone.now() + dt.timedelta(minutes=1)
    with CaptureQueriesContext(connection) as small:
        case_kpis(actor=admin, since=since, until=until)
    make(3, categorised=False, close=True, reopen=True)
    make(1, categorised=False, close=False)
    with CaptureQueriesContext(connection) as large:
        kpis = case_kpis(actor=admin, since=since, until=until)
    assert len(large) == len(small)
    assert (kpis.received, kpis.categorised, kpis.closed, kpis.finished, kpis.reopened, kpis.by_web_form) == (6, 2, 5, 5, 3, 6)
    assert kpis.reopen_rate == pytest.approx(3 / 5) and kpis.category_share == pytest.approx(2 / 6)
    assert kpis.closure_median is not None and kpis.closure_p90 >= kpis.closure_median


def test_case_kpis_only_count_cases_the_actor_may_see(make_user):
    admin, agent = make_user("administrator"), make_user("agent")
    case_services.case_create(actor=admin, case_type="complaint", subject="Fremd", channel="email")
    since, until = timezone.now() - dt.timedelta(days=1), timezone.now() + dt.timedelta(minutes=1)
    assert case_kpis(actor=admin, since=since, until=until).received == 1
    assert case_kpis(actor=agent, since=since, until=until).received == 0


def _public_check_with_contact(name="Erika Müller", email="erika@example.de"):
    assessment, _token = services.assessment_start(actor=None)
    services.assessment_answer(assessment=assessment, answers=answers_at(1))
    services.assessment_complete(assessment=assessment)
    return services.assessment_contact(assessment=assessment, name=name, email=email, organisation="Stadtwerke", consent=True)


@pytest.mark.parametrize("role", ROLES)
def test_contact_requests_are_for_managers_only(make_user, client_for, role):
    assessment = _public_check_with_contact()
    client = client_for(make_user(role))
    listing = client.get("/settings/maturity/contacts/")
    erased = client.post(f"/settings/maturity/contacts/{assessment.pk}/erase/")
    expected = 200 if role in MANAGERS else 403
    assert listing.status_code == expected
    assert erased.status_code == (302 if role in MANAGERS else 403)
    if role in MANAGERS:
        assert "erika@example.de" in listing.content.decode()
    assessment.refresh_from_db()
    assert (assessment.contact_email == "") == (role in MANAGERS)


def test_erasing_contact_details_keeps_the_answers_and_audits_without_personal_data(make_user, client_for):
    from leitplanke.core.models import AuditEvent

    assessment = _public_check_with_contact()
    anonymous = services.assessment_start(actor=None)[0]  # no contact: not listed
    client = client_for(make_user("administrator"))
    listing = client.get("/settings/maturity/contacts/").content.decode()
    assert "Erika Müller" in listing and "Stadtwerke" in listing
    assert client.post(f"/settings/maturity/contacts/{anonymous.pk}/erase/").status_code == 404
    assert client.post(f"/settings/maturity/contacts/{assessment.pk}/erase/").status_code == 302
    assessment.refresh_from_db()
    assert (assessment.contact_name, assessment.contact_email, assessment.contact_organisation) == ("", "", "")
    assert assessment.contact_consent_at is None and assessment.level == 1 and assessment.answers
    event = AuditEvent.objects.get(action="maturity.contact_erase")
    assert "erika" not in str(event.before).lower() + str(event.after).lower()
    assert "Erika" not in client.get("/settings/maturity/contacts/").content.decode()
    assert client.get("/settings/maturity/contacts/?cursor=garbage").status_code == 400
